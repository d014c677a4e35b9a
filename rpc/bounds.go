package rpc

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// String bounds. Every client string that can reach a storage key (fsm/keys.go
// panics past 65,535 bytes, inside an entry every replica applies) or an
// in-memory index is bounded here, before any command is proposed, at
// Temporal's limit.maxIDLength. The check is one reflective walk over the
// request, driven by the tables below, so a field that shows up anywhere in
// a request (a workflow id inside a link, a namespace inside a command, a
// search attribute name inside a continue-as-new) is bounded without every
// handler having to name it. Each handler calls bound(req) first.
//
// Not walked: payloads, memos, headers and failures (bounded in size by
// limits.go, never part of a key, free text where Temporal allows it), and
// what boundCommands checks itself (a completion's commands and messages,
// which fail the workflow task instead, as Temporal does).

// idFields are the string fields bounded at maxIDLength wherever they occur.
var idFields = map[protoreflect.Name]bool{
	"namespace": true, "workflow_id": true, "run_id": true, "first_execution_run_id": true,
	"request_id": true, "identity": true, "signal_name": true, "activity_id": true,
	"timer_id": true, "marker_name": true, "update_id": true, "protocol_instance_id": true,
	"query_type": true, "worker_instance_key": true,
}

// namedTypes are the messages whose name fields are ids: task queues,
// workflow and activity types.
var namedTypes = map[protoreflect.FullName]bool{
	"temporal.api.taskqueue.v1.TaskQueue.name":        true,
	"temporal.api.taskqueue.v1.TaskQueue.normal_name": true,
	"temporal.api.common.v1.WorkflowType.name":        true,
	"temporal.api.common.v1.ActivityType.name":        true,
}

// keyedMaps are the maps whose keys are bounded: search attribute names
// (each one a key of its own in fsm/keys.go).
var keyedMaps = map[protoreflect.FullName]bool{
	"temporal.api.common.v1.SearchAttributes.indexed_fields": true,
}

// opaque messages are not walked (see above).
var opaque = map[protoreflect.FullName]bool{
	"temporal.api.common.v1.Payload":  true,
	"temporal.api.common.v1.Payloads": true,
	"temporal.api.common.v1.Memo":     true,
	"temporal.api.common.v1.Header":   true,
	"temporal.api.failure.v1.Failure": true,
}

// perCommand are the fields boundCommands checks (skipped by bound).
var perCommand = map[protoreflect.FullName]bool{
	"temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedRequest.commands": true,
	"temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedRequest.messages": true,
}

// errTokenNamespace is Temporal's answer to a task token used in another
// namespace than the request names.
const errTokenNamespace = "Operation requested with a token from a different namespace."

// tooLong is a string over the limit, by the path of its field.
type tooLong struct {
	field string
	n     int
}

func (e *tooLong) Error() string {
	return fmt.Sprintf("%s: length %d exceeds the limit of %d bytes", e.field, e.n, maxIDLength)
}

// bound checks every bounded string of a request (InvalidArgument naming
// the first field over the limit) and, for a request carrying a workflow or
// activity task token, the ids inside the token and that the token's
// namespace is the request's.
func bound(req proto.Message) error {
	m := req.ProtoReflect()
	if err := walk(m, ""); err != nil {
		return invalidArg("%v", err)
	}
	return boundToken(m)
}

// boundToken decodes a request's task_token (if it is a TaskToken; parseToken
// rejects malformed ones later) and bounds the ids inside it.
func boundToken(m protoreflect.Message) error {
	fd := m.Descriptor().Fields().ByName("task_token")
	if fd == nil || fd.Kind() != protoreflect.BytesKind {
		return nil
	}
	b := m.Get(fd).Bytes()
	tok := &fsmpb.TaskToken{}
	if len(b) == 0 || bytes.HasPrefix(b, queryTokenPrefix) || proto.Unmarshal(b, tok) != nil {
		return nil
	}
	if err := walk(tok.ProtoReflect(), "task_token"); err != nil {
		return invalidArg("%v", err)
	}
	if nsf := m.Descriptor().Fields().ByName("namespace"); nsf != nil {
		if ns := m.Get(nsf).String(); ns != "" && tok.Namespace != ns {
			return invalidArg(errTokenNamespace)
		}
	}
	return nil
}

// anyMark marks the path inside an unpacked Any.
const anyMark = "(any)"

// walk bounds the strings of m, fields in declaration order; path names m.
func walk(m protoreflect.Message, path string) error {
	md := m.Descriptor()
	if opaque[md.FullName()] {
		return nil
	}
	if md.FullName() == "google.protobuf.Any" {
		// Unpacked one level deep (a protocol message's body): Anys nested
		// in it would each parse the rest again.
		a, ok := m.Interface().(*anypb.Any)
		if !ok || strings.Contains(path, anyMark) {
			return nil
		}
		inner, err := a.UnmarshalNew()
		if err != nil {
			return nil // not a type this engine knows: never read
		}
		return walk(inner.ProtoReflect(), path+anyMark)
	}
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if !m.Has(fd) || perCommand[fd.FullName()] {
			continue
		}
		if err := walkField(m.Get(fd), fd, join(path, string(fd.Name()))); err != nil {
			return err
		}
	}
	return nil
}

func walkField(v protoreflect.Value, fd protoreflect.FieldDescriptor, path string) error {
	switch {
	case fd.IsMap():
		return walkMap(v.Map(), fd, path)
	case fd.IsList():
		l := v.List()
		for i := range l.Len() {
			if err := walkValue(l.Get(i), fd, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	return walkValue(v, fd, path)
}

func walkValue(v protoreflect.Value, fd protoreflect.FieldDescriptor, path string) error {
	switch {
	case fd.Message() != nil:
		return walk(v.Message(), path)
	case fd.Kind() == protoreflect.StringKind && (idFields[fd.Name()] || namedTypes[fd.FullName()]):
		if n := len(v.String()); n > maxIDLength {
			return &tooLong{path, n}
		}
	}
	return nil
}

// walkMap bounds a keyed map's keys and walks message values; the first
// offending entry in key order is reported, so the message is stable.
func walkMap(mp protoreflect.Map, fd protoreflect.FieldDescriptor, path string) error {
	var keys []string
	mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k.String())
		return true
	})
	for _, k := range sortedKeys(setOf(keys)) {
		if keyedMaps[fd.FullName()] && len(k) > maxIDLength {
			return &tooLong{path + " (key)", len(k)}
		}
		if fd.MapValue().Message() == nil || fd.MapKey().Kind() != protoreflect.StringKind {
			continue // no map in the API holds ids under non-string keys
		}
		if err := walk(mp.Get(protoreflect.ValueOfString(k).MapKey()).Message(), fmt.Sprintf("%s[%.40q]", path, k)); err != nil {
			return err
		}
	}
	return nil
}

func setOf(ks []string) map[string]struct{} {
	m := make(map[string]struct{}, len(ks))
	for _, k := range ks {
		m[k] = struct{}{}
	}
	return m
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// attributeCauses is the workflow task failure cause of a command whose
// attributes hold a string over the limit, by the attributes' message
// (Temporal's command_attr_validator). A search attribute name over the
// limit is BAD_SEARCH_ATTRIBUTES whatever the command (as Temporal's
// start-child and continue-as-new checks).
var attributeCauses = map[protoreflect.Name]enumspb.WorkflowTaskFailedCause{
	"ScheduleActivityTaskCommandAttributes":                   enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES,
	"RequestCancelActivityTaskCommandAttributes":              enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES,
	"StartTimerCommandAttributes":                             enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES,
	"CancelTimerCommandAttributes":                            enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES,
	"RecordMarkerCommandAttributes":                           enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES,
	"CompleteWorkflowExecutionCommandAttributes":              enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES,
	"FailWorkflowExecutionCommandAttributes":                  enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_FAIL_WORKFLOW_EXECUTION_ATTRIBUTES,
	"CancelWorkflowExecutionCommandAttributes":                enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_WORKFLOW_EXECUTION_ATTRIBUTES,
	"RequestCancelExternalWorkflowExecutionCommandAttributes": enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_ATTRIBUTES,
	"ContinueAsNewWorkflowExecutionCommandAttributes":         enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES,
	"StartChildWorkflowExecutionCommandAttributes":            enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES,
	"SignalExternalWorkflowExecutionCommandAttributes":        enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES,
	"UpsertWorkflowSearchAttributesCommandAttributes":         enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES,
	"ProtocolMessageCommandAttributes":                        enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE,
	"ModifyWorkflowPropertiesCommandAttributes":               enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_MODIFY_WORKFLOW_PROPERTIES_ATTRIBUTES,
	"ScheduleNexusOperationCommandAttributes":                 enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_NEXUS_OPERATION_ATTRIBUTES,
	"RequestCancelNexusOperationCommandAttributes":            enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_NEXUS_OPERATION_ATTRIBUTES,
}

// boundCommands bounds the strings of a completion's commands and protocol
// messages. A command over the limit yields its failure cause and a message
// in Temporal's form ("BadStartChildExecutionAttributes: commands[0]...");
// a protocol message, BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE.
func boundCommands(req *workflowservice.RespondWorkflowTaskCompletedRequest) (cause enumspb.WorkflowTaskFailedCause, msg string, bad bool) {
	for i, c := range req.GetCommands() {
		err := walk(c.ProtoReflect(), fmt.Sprintf("commands[%d]", i))
		if err == nil {
			continue
		}
		cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED // attributes of no known kind
		if od := c.ProtoReflect().WhichOneof(c.ProtoReflect().Descriptor().Oneofs().ByName("attributes")); od != nil {
			if known, ok := attributeCauses[od.Message().Name()]; ok {
				cause = known
			}
		}
		if strings.Contains(err.Error(), "search_attributes") {
			cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES
		}
		return cause, causeMessage(cause, err.Error()), true
	}
	for i, m := range req.GetMessages() {
		if err := walk(m.ProtoReflect(), fmt.Sprintf("messages[%d]", i)); err != nil {
			cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE
			return cause, causeMessage(cause, err.Error()), true
		}
	}
	return 0, "", false
}

// causeMessage is Temporal's form of a bad command's failure message:
// "BadScheduleActivityAttributes: <what is wrong>".
func causeMessage(cause enumspb.WorkflowTaskFailedCause, msg string) string {
	return pascal(cause.String(), "WORKFLOW_TASK_FAILED_CAUSE_") + ": " + msg
}

// failBadCommand answers a completion whose command has a bad attribute as
// Temporal does: the workflow task fails with the command's cause (the
// workflow goes on with a new attempt) and the worker gets InvalidArgument.
// A task already past its first attempt is not failed again (its history
// would grow with every retry): it times out, and the worker still gets
// InvalidArgument.
func (s *Service) failBadCommand(ctx context.Context, tok *fsmpb.TaskToken, req *workflowservice.RespondWorkflowTaskCompletedRequest,
	cause enumspb.WorkflowTaskFailedCause, msg string) error {
	if tok.Attempt <= 1 {
		if _, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_FailWorkflowTask{FailWorkflowTask: &fsmpb.FailWorkflowTask{
			Token: tok,
			Request: &workflowservice.RespondWorkflowTaskFailedRequest{
				Namespace: tok.Namespace, Cause: cause, Identity: req.GetIdentity(), BinaryChecksum: req.GetBinaryChecksum(),
				Failure: &failurepb.Failure{Message: msg, Source: "raftflow",
					FailureInfo: &failurepb.Failure_ServerFailureInfo{ServerFailureInfo: &failurepb.ServerFailureInfo{}}},
			},
		}}}); err != nil {
			return err
		}
	}
	return invalidArg("%s", msg)
}
