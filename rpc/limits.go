package rpc

import (
	"context"
	"fmt"
	"strings"
	"time"

	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"

	"github.com/raftflow/engine/fsm"
	"github.com/raftflow/engine/fsm/fsmpb"
)

// Limits, in one place, enforced here with clear errors (the fsm never
// truncates).
const (
	// maxMessageSize bounds gRPC messages in and out.
	maxMessageSize = 64 << 20
	// maxIDLength bounds workflow ids, run ids, task queue and type names.
	maxIDLength = 1000
	// defaultHistoryPageSize is the page size of history reads and of the
	// history sent with a workflow task.
	defaultHistoryPageSize = 1000
	// maxPayloadSize bounds each blob a client or worker sends: start and
	// signal input, memo, search attributes, activity results, failures and
	// heartbeat details, query results, command payloads (Temporal's
	// limit.blobSize.error). Over it: InvalidArgument naming the field; an
	// activity result or a command payload over it also fails the activity
	// or fails the workflow task and terminates the workflow, as Temporal does.
	maxPayloadSize = 2 << 20
	// defaultVisibilityPageSize and maxVisibilityPageSize: list page sizes
	// (Temporal's frontend.visibilityMaxPageSize).
	defaultVisibilityPageSize = 1000
	maxVisibilityPageSize     = 1000
	// defaultNamespaceRetention applies when RegisterNamespace names none
	// (the temporal CLI's default); defaultMinRetention is the shortest
	// retention a namespace may have (Temporal's one day), unless
	// Config.MinRetention lowers it (tests).
	defaultNamespaceRetention = 72 * time.Hour
	defaultMinRetention       = 24 * time.Hour
)

// Limits the state machine applies itself, deterministically, because they
// decide history (fsm/limits.go); listed here so all limits are in one place.
const (
	// A WorkflowTaskStarted event suggests continue-as-new from here on.
	historyCountSuggestContinueAsNew = fsm.HistoryCountSuggestContinueAsNew // 4096 events
	historySizeSuggestContinueAsNew  = fsm.HistorySizeSuggestContinueAsNew  // 4 MiB
	// Past these the run is terminated ("Workflow history count/size exceeds limit.").
	historyCountLimit = fsm.HistoryCountLimit // 51,200 events
	historySizeLimit  = fsm.HistorySizeLimit  // 50 MiB
	// A workflow task whose commands exceed these fails with
	// PENDING_{ACTIVITIES,CHILD_WORKFLOWS,SIGNALS,REQUEST_CANCEL}_LIMIT_EXCEEDED.
	maxPendingActivities     = fsm.MaxPendingActivities     // 2000
	maxPendingChildren       = fsm.MaxPendingChildren       // 2000
	maxPendingSignals        = fsm.MaxPendingSignals        // 2000
	maxPendingCancelRequests = fsm.MaxPendingCancelRequests // 2000
	// Signals to a run beyond this get ResourceExhausted.
	maxSignalsPerExecution = fsm.MaxSignalsPerExecution // 10,000
)

// MaxMessageSize is exported for the server that registers the service.
const MaxMessageSize = maxMessageSize

// payloadError is the InvalidArgument for a blob over maxPayloadSize.
func payloadError(field string, size int) error {
	return invalidArg("%s: %d bytes exceeds the payload size limit of %d bytes", field, size, maxPayloadSize)
}

// checkBlobs checks named blobs (any proto message: Payloads, Memo,
// SearchAttributes, Failure, Header) against maxPayloadSize.
func checkBlobs(blobs ...namedBlob) error {
	for _, b := range blobs {
		if b.m == nil {
			continue
		}
		if n := proto.Size(b.m); n > maxPayloadSize {
			return payloadError(b.field, n)
		}
	}
	return nil
}

type namedBlob struct {
	field string
	m     proto.Message
}

func blob(field string, m proto.Message) namedBlob { return namedBlob{field, m} }

// payloadMap wraps a map of payloads (marker details) for sizing.
func payloadsSize(m map[string]*commonpb.Payloads) int {
	n := 0
	for _, p := range m {
		n += proto.Size(p)
	}
	return n
}

// oversizedCommand finds the first command carrying a payload over the
// limit: its failure cause and Temporal's message ("…Attributes.Input
// exceeds size limit."), or ok false.
func oversizedCommand(cmds []*commandpb.Command) (cause enumspb.WorkflowTaskFailedCause, msg string, ok bool) {
	type part struct {
		name string
		size int
	}
	for i, c := range cmds {
		var parts []part
		switch c.CommandType {
		case enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION:
			cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES
			parts = []part{{"CompleteWorkflowExecutionCommandAttributes.Result", proto.Size(c.GetCompleteWorkflowExecutionCommandAttributes().GetResult())}}
		case enumspb.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION:
			cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_FAIL_WORKFLOW_EXECUTION_ATTRIBUTES
			parts = []part{{"FailWorkflowExecutionCommandAttributes.Failure", proto.Size(c.GetFailWorkflowExecutionCommandAttributes().GetFailure())}}
		case enumspb.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION:
			cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_WORKFLOW_EXECUTION_ATTRIBUTES
			parts = []part{{"CancelWorkflowExecutionCommandAttributes.Details", proto.Size(c.GetCancelWorkflowExecutionCommandAttributes().GetDetails())}}
		case enumspb.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK:
			cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES
			parts = []part{{"ScheduleActivityTaskCommandAttributes.Input", proto.Size(c.GetScheduleActivityTaskCommandAttributes().GetInput())}}
		case enumspb.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION:
			a := c.GetStartChildWorkflowExecutionCommandAttributes()
			cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES
			parts = []part{{"StartChildWorkflowExecutionCommandAttributes.Input", proto.Size(a.GetInput())},
				{"StartChildWorkflowExecutionCommandAttributes.Memo", proto.Size(a.GetMemo())}}
		case enumspb.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION:
			cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_INPUT_SIZE
			parts = []part{{"SignalExternalWorkflowExecutionCommandAttributes.Input", proto.Size(c.GetSignalExternalWorkflowExecutionCommandAttributes().GetInput())}}
		case enumspb.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
			a := c.GetContinueAsNewWorkflowExecutionCommandAttributes()
			cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES
			parts = []part{{"ContinueAsNewWorkflowExecutionCommandAttributes.Input", proto.Size(a.GetInput())},
				{"ContinueAsNewWorkflowExecutionCommandAttributes.Memo", proto.Size(a.GetMemo())}}
		case enumspb.COMMAND_TYPE_RECORD_MARKER:
			cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES
			parts = []part{{"RecordMarkerCommandAttributes.Details", payloadsSize(c.GetRecordMarkerCommandAttributes().GetDetails())}}
		case enumspb.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES
			parts = []part{{"UpsertWorkflowSearchAttributesCommandAttributes.SearchAttributes", proto.Size(c.GetUpsertWorkflowSearchAttributesCommandAttributes().GetSearchAttributes())}}
		case enumspb.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES:
			cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_MODIFY_WORKFLOW_PROPERTIES_ATTRIBUTES
			parts = []part{{"ModifyWorkflowPropertiesCommandAttributes.UpsertedMemo", proto.Size(c.GetModifyWorkflowPropertiesCommandAttributes().GetUpsertedMemo())}}
		}
		for _, p := range parts {
			if p.size > maxPayloadSize {
				return cause, fmt.Sprintf("%s exceeds size limit. (command %d: %d bytes, limit %d)", p.name, i, p.size, maxPayloadSize), true
			}
		}
	}
	return 0, "", false
}

// pascal turns an enum value name into Temporal's short form:
// WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES →
// BadScheduleActivityAttributes (the API's String() already returns the
// short form; the long one is handled too).
func pascal(name, prefix string) string {
	if !strings.Contains(name, "_") {
		return name
	}
	parts := strings.Split(strings.TrimPrefix(name, prefix), "_")
	for i, p := range parts {
		if p != "" {
			parts[i] = p[:1] + strings.ToLower(p[1:])
		}
	}
	return strings.Join(parts, "")
}

// failOversizedTask answers a workflow task completion whose command carries
// a payload over the limit as Temporal does: the task fails with the
// command's cause and the workflow is terminated ("BadScheduleActivityAttributes:
// ScheduleActivityTaskCommandAttributes.Input exceeds size limit."); the
// worker gets InvalidArgument naming the field.
func (s *Service) failOversizedTask(ctx context.Context, tok *fsmpb.TaskToken, req *workflowservice.RespondWorkflowTaskCompletedRequest,
	cause enumspb.WorkflowTaskFailedCause, msg string) error {
	reason := causeMessage(cause, msg)
	if _, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_FailWorkflowTask{FailWorkflowTask: &fsmpb.FailWorkflowTask{
		Token: tok, TerminateReason: reason,
		Request: &workflowservice.RespondWorkflowTaskFailedRequest{
			Namespace: req.GetNamespace(), Cause: cause, Identity: req.GetIdentity(),
			Failure: &failurepb.Failure{Message: msg},
		},
	}}}); err != nil {
		return err
	}
	return invalidArg("%s", msg)
}

// oversizedOutcome names an activity result's blob over the limit ("" if none).
func oversizedOutcome(r *fsmpb.ActivityResult) (string, int) {
	var field string
	var m proto.Message
	switch o := r.Outcome.(type) {
	case *fsmpb.ActivityResult_Completed:
		field, m = "result", o.Completed
	case *fsmpb.ActivityResult_Failed:
		field, m = "failure", o.Failed
	case *fsmpb.ActivityResult_Canceled:
		field, m = "details", o.Canceled
	}
	if m != nil {
		if n := proto.Size(m); n > maxPayloadSize {
			return field, n
		}
	}
	if n := proto.Size(r.LastHeartbeatDetails); n > maxPayloadSize {
		return "last_heartbeat_details", n
	}
	return "", 0
}

// sizeFailure is the non-retryable failure recorded for an activity whose
// result (or heartbeat details) exceeded the payload size limit, as
// Temporal fails it ("Complete result exceeds size limit.").
func sizeFailure(field string, n int) *failurepb.Failure {
	return &failurepb.Failure{
		Message: fmt.Sprintf("%s exceeds size limit (%d bytes, limit %d)", field, n, maxPayloadSize),
		Source:  "raftflow",
		FailureInfo: &failurepb.Failure_ServerFailureInfo{ServerFailureInfo: &failurepb.ServerFailureInfo{
			NonRetryable: true,
		}},
	}
}
