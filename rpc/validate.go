package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/raftflow/engine/fsm"
	"github.com/raftflow/engine/fsm/fsmpb"
	"github.com/raftflow/engine/rpc/visquery"
)

// Validation parity with Temporal (v1.31): the rules Temporal's frontend and
// its command validator apply to requests and workflow task commands, each
// answered with Temporal's status and a message naming the field, before
// anything is proposed. Handlers call validate (request fields) and
// validateCommands (a workflow task's commands) first.
//
//   - Every protobuf Duration anywhere in a request must pass CheckValid and
//     be non-negative (a negative or malformed one would wrap deadline
//     arithmetic).
//   - Retry policies follow common/retrypolicy.Validate with Temporal's
//     defaults filled in first (as EnsureDefaults does): backoff coefficient
//     at least 1, maximum interval not below the initial one, maximum
//     attempts not negative, timeout types in non_retryable_error_types.
//     A policy of zeros (what the SDK sends by default) is valid.
//   - Enums the engine acts on must hold a defined value.
//   - Identities are ids: at most maxIDLength bytes.
//   - Search attributes: at most maxSearchAttributes per map, and each value
//     must decode as the attribute's type (the type the namespace recorded
//     first, else the payload's "type" metadata, else its JSON value).
//   - Commands: a close command (complete, fail, cancel, continue-as-new)
//     must be the last one and the command type must exist, else
//     InvalidArgument and nothing changes (Temporal's ValidateCommandSequence);
//     attributes must match the command type and be valid, else the workflow
//     task fails with the command's BAD_*_ATTRIBUTES cause and the worker
//     gets InvalidArgument (Temporal's failWorkflowTask, which, unlike an
//     oversized payload, does not terminate the run).

// maxSearchAttributes bounds the search attributes one request or command
// may set (Temporal's frontend.searchAttributesNumberOfKeysLimit).
const maxSearchAttributes = 100

var durationName = (&durationpb.Duration{}).ProtoReflect().Descriptor().FullName()

// durationProblem says what is wrong with d ("" if nothing): malformed (not
// CheckValid: seconds beyond ±10,000 years, nanos out of range or of the
// other sign) or negative.
func durationProblem(d *durationpb.Duration) string {
	if d == nil {
		return ""
	}
	if err := d.CheckValid(); err != nil {
		return "invalid duration: " + strings.TrimPrefix(err.Error(), "proto: ")
	}
	if d.Seconds < 0 || d.Nanos < 0 {
		return "invalid duration: negative duration"
	}
	return ""
}

// badDuration walks m and returns the path and problem of the first
// Duration that is malformed or negative ("" if none). skip names fields
// of m itself (top level) validated elsewhere.
func badDuration(m protoreflect.Message, path string, skip ...protoreflect.Name) (string, string) {
	if m.Descriptor().FullName() == durationName {
		fds := m.Descriptor().Fields()
		d := &durationpb.Duration{Seconds: m.Get(fds.ByName("seconds")).Int(), Nanos: int32(m.Get(fds.ByName("nanos")).Int())}
		if p := durationProblem(d); p != "" {
			return path, p
		}
		return "", ""
	}
	var field, problem string
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		for _, s := range skip {
			if fd.Name() == s {
				return true
			}
		}
		name := join(path, string(fd.Name()))
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len() && field == ""; i++ {
				field, problem = badDuration(l.Get(i).Message(), fmt.Sprintf("%s[%d]", name, i))
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				field, problem = badDuration(mv.Message(), fmt.Sprintf("%s[%v]", name, k.Interface()))
				return field == ""
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			field, problem = badDuration(v.Message(), name)
		}
		return field == ""
	})
	return field, problem
}

// retryPolicyProblem applies Temporal's retry policy rules (defaults filled
// in first, without changing p) and returns the offending sub-field and
// Temporal's message ("" if p is valid).
// priorityProblem checks a Priority as Temporal's priorities.Validate:
// the field at fault and Temporal's message.
func priorityProblem(p *commonpb.Priority) (string, string) {
	switch {
	case p == nil:
	case p.PriorityKey < 0:
		return "priority_key", "priority key can't be negative"
	case len(p.FairnessKey) > 64:
		return "fairness_key", "fairness key length exceeds limit"
	case p.FairnessWeight < 0 || math.IsNaN(float64(p.FairnessWeight)) || math.IsInf(float64(p.FairnessWeight), 0):
		return "fairness_weight", "must be greater than zero"
	}
	return "", ""
}

func retryPolicyProblem(p *commonpb.RetryPolicy) (string, string) {
	if p == nil {
		return "", ""
	}
	for _, d := range []struct {
		f, name string
		v       *durationpb.Duration
	}{{"initial_interval", "InitialInterval", p.InitialInterval}, {"maximum_interval", "MaximumInterval", p.MaximumInterval}} {
		if pr := durationProblem(d.v); pr != "" {
			return d.f, fmt.Sprintf("invalid %s set on retry policy: %s", d.name, pr)
		}
	}
	if p.MaximumAttempts == 1 {
		return "", "" // never retried: Temporal checks nothing else
	}
	if c := p.BackoffCoefficient; c != 0 && !(c >= 1) { // NaN too
		return "backoff_coefficient", "BackoffCoefficient cannot be less than 1 on retry policy."
	}
	initial, maxInterval := p.InitialInterval.AsDuration(), p.MaximumInterval.AsDuration()
	if initial == 0 {
		initial = time.Second // Temporal's default initial interval
	}
	if maxInterval > 0 && maxInterval < initial {
		return "maximum_interval", "MaximumInterval cannot be less than InitialInterval on retry policy."
	}
	if p.MaximumAttempts < 0 {
		return "maximum_attempts", "MaximumAttempts cannot be negative on retry policy."
	}
	for _, t := range p.NonRetryableErrorTypes {
		if v, ok := strings.CutPrefix(t, "TemporalTimeout:"); ok {
			if tt, err := enumspb.TimeoutTypeFromString(v); err != nil || tt == enumspb.TIMEOUT_TYPE_UNSPECIFIED {
				return "non_retryable_error_types", fmt.Sprintf("Invalid timeout type value: %v.", v)
			}
		}
	}
	return "", ""
}

// namedEnum is an enum field the engine acts on.
type namedEnum struct {
	field string
	v     protoreflect.Enum
}

func enumOf(field string, v protoreflect.Enum) namedEnum { return namedEnum{field, v} }

// enumProblem returns the first enum holding a value its type does not
// define ("" if none) and the message.
func enumProblem(es ...namedEnum) (string, string) {
	for _, e := range es {
		if e.v.Descriptor().Values().ByNumber(e.v.Number()) == nil {
			return e.field, fmt.Sprintf("unknown %s value %d", e.v.Descriptor().Name(), e.v.Number())
		}
	}
	return "", ""
}

// searchAttributesProblem checks a search attribute map for namespace ns:
// at most maxSearchAttributes, each value of its attribute's type (the
// type registered or pinned by first use in ns; for a name ns has never
// seen, the type its value shows). A namespace in strict mode
// (StrictSearchAttributesKey) refuses names it has not registered, as
// Temporal always does.
func (s *Service) searchAttributesProblem(ns string, sa *commonpb.SearchAttributes) string {
	fields := sa.GetIndexedFields()
	if len(fields) == 0 {
		return ""
	}
	if len(fields) > maxSearchAttributes {
		return fmt.Sprintf("number of search attributes %d exceeds limit %d", len(fields), maxSearchAttributes)
	}
	known := s.fsm.SearchAttributeTypesOf(ns)
	strict := s.strictSearchAttributes(ns)
	for _, name := range sortedKeys(fields) {
		p := fields[name]
		typ, ok := known[name]
		if !ok {
			typ, ok = extraSystemAttributes[name]
		}
		if !ok {
			if _, sys := visquery.SystemSearchAttributes()[name]; strict && !sys {
				return fmt.Sprintf("search attribute %s is not defined", name)
			}
			typ = fsm.SearchAttributeType(p)
		}
		if !saValueFits(p, typ) {
			return fmt.Sprintf("invalid value for search attribute %s of type %s: %s", name, typ, abbrev(p.GetData()))
		}
	}
	return ""
}

// StrictSearchAttributesKey is the namespace data key that turns on
// Temporal's rule for search attributes in that namespace: a name must be
// registered (AddSearchAttributes) before a workflow uses it. Set it with
// `temporal operator namespace update -n NS --data raftflow.strict-search-attributes=true`.
const StrictSearchAttributesKey = "raftflow.strict-search-attributes"

// strictSearchAttributes reports whether ns refuses unregistered search
// attributes.
func (s *Service) strictSearchAttributes(ns string) bool {
	rec, err := s.fsm.GetNamespace(ns)
	return err == nil && rec.GetInfo().GetData()[StrictSearchAttributesKey] == "true"
}

// saValueFits reports whether a search attribute payload decodes as typ
// (Temporal's sadefs.DecodeValue: a scalar type also takes a list of its
// values; null unsets the attribute). Payloads not in JSON are not judged.
func saValueFits(p *commonpb.Payload, typ enumspb.IndexedValueType) bool {
	switch string(p.GetMetadata()["encoding"]) {
	case "binary/null":
		return true
	case "json/plain":
	default:
		return true
	}
	d := json.NewDecoder(bytes.NewReader(p.GetData()))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil || d.More() {
		return false
	}
	if v == nil {
		return true
	}
	if typ == enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST {
		l, ok := v.([]any)
		if !ok {
			return false
		}
		for _, x := range l {
			if !scalarFits(x, enumspb.INDEXED_VALUE_TYPE_KEYWORD) {
				return false
			}
		}
		return true
	}
	if l, ok := v.([]any); ok {
		for _, x := range l {
			if !scalarFits(x, typ) {
				return false
			}
		}
		return true
	}
	return scalarFits(v, typ)
}

func scalarFits(v any, typ enumspb.IndexedValueType) bool {
	switch typ {
	case enumspb.INDEXED_VALUE_TYPE_BOOL:
		_, ok := v.(bool)
		return ok
	case enumspb.INDEXED_VALUE_TYPE_INT:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil
	case enumspb.INDEXED_VALUE_TYPE_DOUBLE:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		return err == nil && !math.IsInf(f, 0)
	case enumspb.INDEXED_VALUE_TYPE_KEYWORD, enumspb.INDEXED_VALUE_TYPE_TEXT:
		s, ok := v.(string)
		return ok && utf8.ValidString(s)
	case enumspb.INDEXED_VALUE_TYPE_DATETIME:
		s, ok := v.(string)
		if !ok {
			return false
		}
		_, err := time.Parse(time.RFC3339Nano, s)
		return err == nil
	}
	return true // unknown type: nothing to judge against
}

func abbrev(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}

// startFields are the parts of a start (or signal-with-start) request the
// Temporal rules look at.
type startFields struct {
	ns       string
	priority *commonpb.Priority
	retry    *commonpb.RetryPolicy
	reuse    enumspb.WorkflowIdReusePolicy
	conflict enumspb.WorkflowIdConflictPolicy
	sa       *commonpb.SearchAttributes
}

// validate checks a request against Temporal's rules before anything is
// proposed: the length of every id and name (bound, bounds.go), then its
// durations, enums, retry policy and search attributes. Workflow task
// commands are checked by validateCommands.
func (s *Service) validate(req proto.Message) error {
	if err := bound(req); err != nil {
		return err
	}
	var skip []protoreflect.Name
	if _, ok := req.(*workflowservice.RespondWorkflowTaskCompletedRequest); ok {
		skip = append(skip, "commands") // validateCommands, with failure causes
	}
	if f, p := badDuration(req.ProtoReflect(), "", skip...); f != "" {
		return invalidArg("%s: %s", f, p)
	}
	var enums []namedEnum
	var start *startFields
	switch r := req.(type) {
	case *workflowservice.StartWorkflowExecutionRequest:
		start = &startFields{r.Namespace, r.Priority, r.RetryPolicy, r.WorkflowIdReusePolicy, r.WorkflowIdConflictPolicy, r.SearchAttributes}
	case *workflowservice.SignalWithStartWorkflowExecutionRequest:
		if r.WorkflowIdConflictPolicy == enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL {
			// As Temporal: signal-with-start exists to reach a running
			// workflow, so "fail if one runs" is refused.
			return invalidArg("workflow_id_conflict_policy: Invalid WorkflowIDConflictPolicy: %s is not supported for this operation.",
				r.WorkflowIdConflictPolicy)
		}
		start = &startFields{r.Namespace, r.Priority, r.RetryPolicy, r.WorkflowIdReusePolicy, r.WorkflowIdConflictPolicy, r.SearchAttributes}
	case *workflowservice.QueryWorkflowRequest:
		enums = append(enums, enumOf("query_reject_condition", r.QueryRejectCondition))
	case *workflowservice.GetWorkflowExecutionHistoryRequest:
		enums = append(enums, enumOf("history_event_filter_type", r.HistoryEventFilterType))
	case *workflowservice.UpdateWorkflowExecutionRequest:
		if n := len(r.GetRequest().GetMeta().GetIdentity()); n > maxIDLength {
			return invalidArg("request.meta.identity: Identity length exceeds limit (%d bytes, limit %d).", n, maxIDLength)
		}
		enums = append(enums, enumOf("wait_policy.lifecycle_stage", r.GetWaitPolicy().GetLifecycleStage()))
	case *workflowservice.PollWorkflowExecutionUpdateRequest:
		enums = append(enums, enumOf("wait_policy.lifecycle_stage", r.GetWaitPolicy().GetLifecycleStage()))
	case *workflowservice.RespondWorkflowTaskFailedRequest:
		enums = append(enums, enumOf("cause", r.Cause))
	}
	if start != nil {
		enums = append(enums, enumOf("workflow_id_reuse_policy", start.reuse), enumOf("workflow_id_conflict_policy", start.conflict))
		if f, msg := retryPolicyProblem(start.retry); f != "" {
			return invalidArg("retry_policy.%s: %s", f, msg)
		}
		if f, msg := priorityProblem(start.priority); f != "" {
			return invalidArg("priority.%s: %s", f, msg)
		}
	}
	if f, msg := enumProblem(enums...); f != "" {
		return invalidArg("%s: %s", f, msg)
	}
	if start != nil {
		if msg := s.searchAttributesProblem(start.ns, start.sa); msg != "" {
			return invalidArg("search_attributes: %s", msg)
		}
	}
	return nil
}

// commandRule is how a command type's attributes are found and judged.
type commandRule struct {
	cause enumspb.WorkflowTaskFailedCause
	attrs string // the attributes message's name, e.g. StartTimerCommandAttributes
	get   func(*commandpb.Command) proto.Message
	// check returns a problem with valid-typed attributes: the field, the
	// message and (rarely) a cause other than the rule's.
	check func(s *Service, ns string, c *commandpb.Command) (field, msg string, cause enumspb.WorkflowTaskFailedCause)
}

var commandRules = map[enumspb.CommandType]commandRule{
	enumspb.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK: {enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES, "ScheduleActivityTaskCommandAttributes",
		func(c *commandpb.Command) proto.Message { return c.GetScheduleActivityTaskCommandAttributes() }, checkScheduleActivity},
	enumspb.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK: {enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES, "RequestCancelActivityTaskCommandAttributes",
		func(c *commandpb.Command) proto.Message { return c.GetRequestCancelActivityTaskCommandAttributes() }, nil},
	enumspb.COMMAND_TYPE_START_TIMER: {enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES, "StartTimerCommandAttributes",
		func(c *commandpb.Command) proto.Message { return c.GetStartTimerCommandAttributes() }, nil},
	enumspb.COMMAND_TYPE_CANCEL_TIMER: {enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES, "CancelTimerCommandAttributes",
		func(c *commandpb.Command) proto.Message { return c.GetCancelTimerCommandAttributes() }, nil},
	enumspb.COMMAND_TYPE_RECORD_MARKER: {enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES, "RecordMarkerCommandAttributes",
		func(c *commandpb.Command) proto.Message { return c.GetRecordMarkerCommandAttributes() }, nil},
	enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION: {enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES, "CompleteWorkflowExecutionCommandAttributes",
		func(c *commandpb.Command) proto.Message { return c.GetCompleteWorkflowExecutionCommandAttributes() }, nil},
	enumspb.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION: {enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_FAIL_WORKFLOW_EXECUTION_ATTRIBUTES, "FailWorkflowExecutionCommandAttributes",
		func(c *commandpb.Command) proto.Message { return c.GetFailWorkflowExecutionCommandAttributes() }, checkFailWorkflow},
	enumspb.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION: {enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_WORKFLOW_EXECUTION_ATTRIBUTES, "CancelWorkflowExecutionCommandAttributes",
		func(c *commandpb.Command) proto.Message { return c.GetCancelWorkflowExecutionCommandAttributes() }, nil},
	enumspb.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION: {enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_ATTRIBUTES, "RequestCancelExternalWorkflowExecutionCommandAttributes",
		func(c *commandpb.Command) proto.Message {
			return c.GetRequestCancelExternalWorkflowExecutionCommandAttributes()
		}, nil},
	enumspb.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION: {enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES, "SignalExternalWorkflowExecutionCommandAttributes",
		func(c *commandpb.Command) proto.Message {
			return c.GetSignalExternalWorkflowExecutionCommandAttributes()
		}, nil},
	enumspb.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION: {enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES, "ContinueAsNewWorkflowExecutionCommandAttributes",
		func(c *commandpb.Command) proto.Message {
			return c.GetContinueAsNewWorkflowExecutionCommandAttributes()
		}, checkContinueAsNew},
	enumspb.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION: {enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES, "StartChildWorkflowExecutionCommandAttributes",
		func(c *commandpb.Command) proto.Message { return c.GetStartChildWorkflowExecutionCommandAttributes() }, checkStartChild},
	enumspb.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, "UpsertWorkflowSearchAttributesCommandAttributes",
		func(c *commandpb.Command) proto.Message {
			return c.GetUpsertWorkflowSearchAttributesCommandAttributes()
		}, checkUpsertSearchAttributes},
	enumspb.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES: {enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_MODIFY_WORKFLOW_PROPERTIES_ATTRIBUTES, "ModifyWorkflowPropertiesCommandAttributes",
		func(c *commandpb.Command) proto.Message { return c.GetModifyWorkflowPropertiesCommandAttributes() }, checkModifyProperties},
	enumspb.COMMAND_TYPE_PROTOCOL_MESSAGE: {enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE, "ProtocolMessageCommandAttributes",
		func(c *commandpb.Command) proto.Message { return c.GetProtocolMessageCommandAttributes() }, nil},
}

func checkScheduleActivity(_ *Service, _ string, c *commandpb.Command) (string, string, enumspb.WorkflowTaskFailedCause) {
	a := c.GetScheduleActivityTaskCommandAttributes() // ids and names: boundCommands
	if f, msg := retryPolicyProblem(a.RetryPolicy); f != "" {
		return "retry_policy." + f, msg, 0
	}
	if f, msg := priorityProblem(a.Priority); f != "" {
		return "priority." + f, msg, 0
	}
	return "", "", 0
}

func checkFailWorkflow(_ *Service, _ string, c *commandpb.Command) (string, string, enumspb.WorkflowTaskFailedCause) {
	if c.GetFailWorkflowExecutionCommandAttributes().GetFailure() == nil {
		return "failure", "Failure is not set on FailWorkflowExecutionCommand.", 0
	}
	return "", "", 0
}

func checkContinueAsNew(s *Service, ns string, c *commandpb.Command) (string, string, enumspb.WorkflowTaskFailedCause) {
	a := c.GetContinueAsNewWorkflowExecutionCommandAttributes()
	if f, msg := retryPolicyProblem(a.RetryPolicy); f != "" {
		return "retry_policy." + f, msg, 0
	}
	if msg := s.searchAttributesProblem(ns, a.SearchAttributes); msg != "" {
		return "search_attributes", msg, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES
	}
	return "", "", 0
}

func checkStartChild(s *Service, ns string, c *commandpb.Command) (string, string, enumspb.WorkflowTaskFailedCause) {
	a := c.GetStartChildWorkflowExecutionCommandAttributes()
	if f, msg := enumProblem(enumOf("parent_close_policy", a.ParentClosePolicy),
		enumOf("workflow_id_reuse_policy", a.WorkflowIdReusePolicy)); f != "" {
		return f, msg, 0
	}
	if f, msg := retryPolicyProblem(a.RetryPolicy); f != "" {
		return "retry_policy." + f, msg, 0
	}
	if f, msg := priorityProblem(a.Priority); f != "" {
		return "priority." + f, msg, 0
	}
	if cron := a.CronSchedule; cron != "" {
		if err := fsm.ValidCronSchedule(cron); err != nil {
			return "cron_schedule", fmt.Sprintf("invalid CronSchedule %q: %v", cron, err), 0
		}
	}
	childNS := ns
	if a.Namespace != "" {
		childNS = a.Namespace
	}
	if msg := s.searchAttributesProblem(childNS, a.SearchAttributes); msg != "" {
		return "search_attributes", msg, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES
	}
	return "", "", 0
}

func checkUpsertSearchAttributes(s *Service, ns string, c *commandpb.Command) (string, string, enumspb.WorkflowTaskFailedCause) {
	sa := c.GetUpsertWorkflowSearchAttributesCommandAttributes().GetSearchAttributes()
	if sa == nil {
		return "search_attributes", "SearchAttributes is not set on UpsertWorkflowSearchAttributesCommand.", 0
	}
	if len(sa.IndexedFields) == 0 {
		return "search_attributes.indexed_fields", "IndexedFields is not set on UpsertWorkflowSearchAttributesCommand.", 0
	}
	if msg := s.searchAttributesProblem(ns, sa); msg != "" {
		return "search_attributes", msg, 0
	}
	return "", "", 0
}

func checkModifyProperties(_ *Service, _ string, c *commandpb.Command) (string, string, enumspb.WorkflowTaskFailedCause) {
	m := c.GetModifyWorkflowPropertiesCommandAttributes().GetUpsertedMemo()
	if m == nil {
		return "upserted_memo", "UpsertedMemo is not set on ModifyWorkflowPropertiesCommand.", 0
	}
	if len(m.Fields) == 0 {
		return "upserted_memo.fields", "UpsertedMemo.Fields is not set on ModifyWorkflowPropertiesCommand.", 0
	}
	return "", "", 0
}

// isCloseCommand reports whether t closes the run.
func isCloseCommand(t enumspb.CommandType) bool {
	switch t {
	case enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, enumspb.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
		enumspb.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION, enumspb.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
		return true
	}
	return false
}

// commandSequenceProblem is Temporal's ValidateCommandSequence: a close
// command must be the last one, and every command type must exist.
func commandSequenceProblem(cmds []*commandpb.Command) string {
	closing := enumspb.COMMAND_TYPE_UNSPECIFIED
	for _, c := range cmds {
		if closing != enumspb.COMMAND_TYPE_UNSPECIFIED {
			types := make([]string, len(cmds))
			for i, c := range cmds {
				types[i] = c.GetCommandType().String()
			}
			return fmt.Sprintf("commands: invalid command sequence: [%s], command %s must be the last command.",
				strings.Join(types, ", "), closing)
		}
		t := c.GetCommandType()
		if t.Descriptor().Values().ByNumber(t.Number()) == nil || t == enumspb.COMMAND_TYPE_UNSPECIFIED {
			return fmt.Sprintf("commands: unknown command type: %v", t)
		}
		if isCloseCommand(t) {
			closing = t
		}
	}
	return ""
}

// badCommand finds the first command whose attributes are missing, of
// another command type, or invalid: the workflow task failure cause and
// the message naming the field (ok false if every command is valid).
func (s *Service) badCommand(ns string, cmds []*commandpb.Command) (cause enumspb.WorkflowTaskFailedCause, msg string, ok bool) {
	for i, c := range cmds {
		rule, known := commandRules[c.GetCommandType()]
		if !known {
			continue // Nexus and future types: the state machine answers them
		}
		name := strings.TrimSuffix(rule.attrs, "Attributes")
		a := rule.get(c)
		if !a.ProtoReflect().IsValid() {
			return rule.cause, fmt.Sprintf("%s is not set on %s. (command %d)", rule.attrs, name, i), true
		}
		if f, p := badDuration(a.ProtoReflect(), rule.attrs); f != "" {
			return rule.cause, fmt.Sprintf("%s: %s (command %d)", f, p, i), true
		}
		if rule.check == nil {
			continue
		}
		if f, p, other := rule.check(s, ns, c); f != "" {
			if other != 0 {
				rule.cause = other
			}
			return rule.cause, fmt.Sprintf("%s.%s: %s (command %d)", rule.attrs, f, p, i), true
		}
	}
	return 0, "", false
}

// validateCommands checks a workflow task completion's commands before it
// is proposed. A bad sequence (commands after a close command, an unknown
// command type) or bad sticky attributes are InvalidArgument and change
// nothing, as in Temporal; a bad command fails the workflow task with the
// command's cause ("BadScheduleActivityAttributes: …") and the worker gets
// InvalidArgument with the same message. handled is false when the commands
// are valid and the completion may proceed.
func (s *Service) validateCommands(ctx context.Context, tok *fsmpb.TaskToken, req *workflowservice.RespondWorkflowTaskCompletedRequest) (handled bool, err error) {
	if msg := commandSequenceProblem(req.GetCommands()); msg != "" {
		return true, invalidArg("%s", msg)
	}
	cause, msg, bad := s.badCommand(tok.GetNamespace(), req.GetCommands())
	if !bad {
		return false, nil
	}
	return true, s.failBadCommand(ctx, tok, req, cause, causeMessage(cause, msg))
}
