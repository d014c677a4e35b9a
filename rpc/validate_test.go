package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/operatorservice/v1"
	querypb "go.temporal.io/api/query/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/raftflow/engine/internal/testcluster"
	"github.com/raftflow/engine/rpc"
)

// The tests in this file drive the real handlers of a one-node engine over
// gRPC, as a misbehaving client would: each bad request must get
// InvalidArgument naming the field and change nothing (no workflow started,
// no history event), or, for a bad workflow task command, fail the task
// with Temporal's cause and nothing else.

const valNS = "default"

type valEnv struct {
	t   *testing.T
	ws  workflowservice.WorkflowServiceClient
	ops operatorservice.OperatorServiceClient
	n   int
}

func newValEnv(t *testing.T) *valEnv {
	t.Helper()
	c := testcluster.Start(t, 1)
	conn, err := grpc.NewClient(c.GRPCAddr(c.Leader()), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &valEnv{t: t, ws: workflowservice.NewWorkflowServiceClient(conn), ops: operatorservice.NewOperatorServiceClient(conn)}
}

func (e *valEnv) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	e.t.Cleanup(cancel)
	return ctx
}

// id returns a fresh workflow id (and task queue name) for one case.
func (e *valEnv) id(prefix string) string {
	e.n++
	return fmt.Sprintf("%s-%d", prefix, e.n)
}

func startRequest(id string) *workflowservice.StartWorkflowExecutionRequest {
	return &workflowservice.StartWorkflowExecutionRequest{
		Namespace: valNS, WorkflowId: id, RequestId: id,
		WorkflowType: &commonpb.WorkflowType{Name: "wf"}, TaskQueue: &taskqueuepb.TaskQueue{Name: id},
		Identity: "validate-test",
	}
}

// requireInvalid requires InvalidArgument with a message naming every want.
func requireInvalid(t *testing.T, err error, want ...string) {
	t.Helper()
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("got %v, want InvalidArgument", err)
	}
	for _, w := range want {
		if !strings.Contains(status.Convert(err).Message(), w) {
			t.Fatalf("message %q does not name %q", status.Convert(err).Message(), w)
		}
	}
}

// wantNoWorkflow requires that id was never started.
func (e *valEnv) wantNoWorkflow(id string) {
	e.t.Helper()
	_, err := e.ws.DescribeWorkflowExecution(e.ctx(), &workflowservice.DescribeWorkflowExecutionRequest{
		Namespace: valNS, Execution: &commonpb.WorkflowExecution{WorkflowId: id}})
	if status.Code(err) != codes.NotFound {
		e.t.Fatalf("workflow %s: describe got %v, want NotFound (it must not have been started)", id, err)
	}
}

func (e *valEnv) history(id string) []*historypb.HistoryEvent {
	e.t.Helper()
	resp, err := e.ws.GetWorkflowExecutionHistory(e.ctx(), &workflowservice.GetWorkflowExecutionHistoryRequest{
		Namespace: valNS, Execution: &commonpb.WorkflowExecution{WorkflowId: id}})
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.GetHistory().GetEvents()
}

func eventTypes(evs []*historypb.HistoryEvent) string {
	var s []string
	for _, ev := range evs {
		s = append(s, ev.EventType.String())
	}
	return strings.Join(s, ",")
}

// startAndPoll starts a workflow on its own task queue and takes its first
// workflow task.
func (e *valEnv) startAndPoll(id string) *workflowservice.PollWorkflowTaskQueueResponse {
	e.t.Helper()
	if _, err := e.ws.StartWorkflowExecution(e.ctx(), startRequest(id)); err != nil {
		e.t.Fatal(err)
	}
	return e.pollWorkflowTask(id)
}

func (e *valEnv) pollWorkflowTask(tq string) *workflowservice.PollWorkflowTaskQueueResponse {
	e.t.Helper()
	task, err := e.ws.PollWorkflowTaskQueue(e.ctx(), &workflowservice.PollWorkflowTaskQueueRequest{
		Namespace: valNS, TaskQueue: &taskqueuepb.TaskQueue{Name: tq}, Identity: "validate-test"})
	if err != nil || len(task.TaskToken) == 0 {
		e.t.Fatalf("poll workflow task on %s: %v (empty: %v)", tq, err, task == nil || len(task.GetTaskToken()) == 0)
	}
	return task
}

func dur(s int64, n int32) *durationpb.Duration { return &durationpb.Duration{Seconds: s, Nanos: n} }

func keyword(v string) *commonpb.Payload {
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain"), "type": []byte("Keyword")}, Data: []byte(`"` + v + `"`)}
}

func typed(typ, data string) *commonpb.Payload {
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain"), "type": []byte(typ)}, Data: []byte(data)}
}

func manyAttributes(n int) *commonpb.SearchAttributes {
	sa := &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{}}
	for i := range n {
		sa.IndexedFields[fmt.Sprintf("ValidateKeyword%03d", i)] = keyword("x")
	}
	return sa
}

// TestValidateStart: start and signal-with-start requests that Temporal
// rejects get InvalidArgument naming the field and start nothing; the
// retry policy the SDK sends by default (zeros) still starts.
func TestValidateStart(t *testing.T) {
	e := newValEnv(t)
	// A custom attribute first seen as Int keeps that type.
	first := startRequest(e.id("sa-first"))
	first.SearchAttributes = &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{"ValidateInt": typed("Int", "5")}}
	if _, err := e.ws.StartWorkflowExecution(e.ctx(), first); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		field string
		edit  func(r *workflowservice.StartWorkflowExecutionRequest)
	}{
		{"run timeout beyond the Duration range", "workflow_run_timeout", func(r *workflowservice.StartWorkflowExecutionRequest) {
			r.WorkflowRunTimeout = dur(315576000001, 0)
		}},
		{"task timeout with mismatched signs", "workflow_task_timeout", func(r *workflowservice.StartWorkflowExecutionRequest) {
			r.WorkflowTaskTimeout = dur(10, -5)
		}},
		{"execution timeout nanos out of range", "workflow_execution_timeout", func(r *workflowservice.StartWorkflowExecutionRequest) {
			r.WorkflowExecutionTimeout = dur(1, 2e9)
		}},
		{"backoff coefficient below 1", "retry_policy.backoff_coefficient", func(r *workflowservice.StartWorkflowExecutionRequest) {
			r.RetryPolicy = &commonpb.RetryPolicy{BackoffCoefficient: 0.5}
		}},
		{"maximum interval below initial", "retry_policy.maximum_interval", func(r *workflowservice.StartWorkflowExecutionRequest) {
			r.RetryPolicy = &commonpb.RetryPolicy{InitialInterval: dur(10, 0), MaximumInterval: dur(5, 0)}
		}},
		{"negative maximum attempts", "retry_policy.maximum_attempts", func(r *workflowservice.StartWorkflowExecutionRequest) {
			r.RetryPolicy = &commonpb.RetryPolicy{MaximumAttempts: -1}
		}},
		{"negative initial interval", "retry_policy.initial_interval", func(r *workflowservice.StartWorkflowExecutionRequest) {
			r.RetryPolicy = &commonpb.RetryPolicy{InitialInterval: dur(-1, 0)}
		}},
		{"unknown timeout type", "retry_policy.non_retryable_error_types", func(r *workflowservice.StartWorkflowExecutionRequest) {
			r.RetryPolicy = &commonpb.RetryPolicy{NonRetryableErrorTypes: []string{"TemporalTimeout:Forever"}}
		}},
		{"unknown reuse policy", "workflow_id_reuse_policy", func(r *workflowservice.StartWorkflowExecutionRequest) {
			r.WorkflowIdReusePolicy = 99
		}},
		{"unknown conflict policy", "workflow_id_conflict_policy", func(r *workflowservice.StartWorkflowExecutionRequest) {
			r.WorkflowIdConflictPolicy = 99
		}},
		{"identity over the id limit", "identity", func(r *workflowservice.StartWorkflowExecutionRequest) {
			r.Identity = strings.Repeat("i", 1001)
		}},
		{"too many search attributes", "number of search attributes 101 exceeds limit 100", func(r *workflowservice.StartWorkflowExecutionRequest) {
			r.SearchAttributes = manyAttributes(101)
		}},
		{"value not of its declared type", "ValidateDeclared", func(r *workflowservice.StartWorkflowExecutionRequest) {
			r.SearchAttributes = &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{"ValidateDeclared": typed("Int", `"abc"`)}}
		}},
		{"value not of the recorded type", "ValidateInt", func(r *workflowservice.StartWorkflowExecutionRequest) {
			r.SearchAttributes = &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{"ValidateInt": keyword("abc")}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			id := e.id("start")
			req := startRequest(id)
			tc.edit(req)
			_, err := e.ws.StartWorkflowExecution(e.ctx(), req)
			requireInvalid(t, err, tc.field)
			e.wantNoWorkflow(id)

			sws := &workflowservice.SignalWithStartWorkflowExecutionRequest{
				Namespace: valNS, WorkflowId: id, RequestId: id, WorkflowType: req.WorkflowType, TaskQueue: req.TaskQueue,
				SignalName: "s", Identity: req.Identity, WorkflowExecutionTimeout: req.WorkflowExecutionTimeout,
				WorkflowRunTimeout: req.WorkflowRunTimeout, WorkflowTaskTimeout: req.WorkflowTaskTimeout,
				RetryPolicy: req.RetryPolicy, WorkflowIdReusePolicy: req.WorkflowIdReusePolicy,
				WorkflowIdConflictPolicy: req.WorkflowIdConflictPolicy, SearchAttributes: req.SearchAttributes,
			}
			_, err = e.ws.SignalWithStartWorkflowExecution(e.ctx(), sws)
			requireInvalid(t, err, tc.field)
			e.wantNoWorkflow(id)
		})
	}
	t.Run("signal-with-start with the FAIL conflict policy", func(t *testing.T) {
		e.t = t
		id := e.id("sws-fail")
		req := startRequest(id)
		_, err := e.ws.SignalWithStartWorkflowExecution(e.ctx(), &workflowservice.SignalWithStartWorkflowExecutionRequest{
			Namespace: valNS, WorkflowId: id, RequestId: id, WorkflowType: req.WorkflowType, TaskQueue: req.TaskQueue,
			SignalName: "s", WorkflowIdConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		})
		requireInvalid(t, err, "workflow_id_conflict_policy")
		e.wantNoWorkflow(id)
	})
	t.Run("valid policies still start", func(t *testing.T) {
		e.t = t
		for _, p := range []*commonpb.RetryPolicy{
			{}, // what the SDK sends when nothing is set
			{InitialInterval: dur(0, 0), MaximumInterval: dur(0, 0), BackoffCoefficient: 0, MaximumAttempts: 0},
			{InitialInterval: dur(1, 0), MaximumInterval: dur(100, 0), BackoffCoefficient: 2, MaximumAttempts: 5},
			{MaximumAttempts: 1, BackoffCoefficient: 0.5}, // never retried: Temporal checks nothing else
		} {
			req := startRequest(e.id("ok"))
			req.RetryPolicy = p
			req.SearchAttributes = &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{
				"ValidateInt": typed("Int", "7"), "ValidateList": typed("KeywordList", `["a","b"]`),
				"ValidateWhen": typed("Datetime", `"2026-01-02T03:04:05Z"`)}}
			if _, err := e.ws.StartWorkflowExecution(e.ctx(), req); err != nil {
				t.Fatalf("policy %v: %v", p, err)
			}
		}
	})
}

func command(t enumspb.CommandType, attrs any) *commandpb.Command {
	c := &commandpb.Command{CommandType: t}
	switch a := attrs.(type) {
	case *commandpb.ScheduleActivityTaskCommandAttributes:
		c.Attributes = &commandpb.Command_ScheduleActivityTaskCommandAttributes{ScheduleActivityTaskCommandAttributes: a}
	case *commandpb.StartTimerCommandAttributes:
		c.Attributes = &commandpb.Command_StartTimerCommandAttributes{StartTimerCommandAttributes: a}
	case *commandpb.CompleteWorkflowExecutionCommandAttributes:
		c.Attributes = &commandpb.Command_CompleteWorkflowExecutionCommandAttributes{CompleteWorkflowExecutionCommandAttributes: a}
	case *commandpb.FailWorkflowExecutionCommandAttributes:
		c.Attributes = &commandpb.Command_FailWorkflowExecutionCommandAttributes{FailWorkflowExecutionCommandAttributes: a}
	case *commandpb.StartChildWorkflowExecutionCommandAttributes:
		c.Attributes = &commandpb.Command_StartChildWorkflowExecutionCommandAttributes{StartChildWorkflowExecutionCommandAttributes: a}
	case *commandpb.ContinueAsNewWorkflowExecutionCommandAttributes:
		c.Attributes = &commandpb.Command_ContinueAsNewWorkflowExecutionCommandAttributes{ContinueAsNewWorkflowExecutionCommandAttributes: a}
	case *commandpb.UpsertWorkflowSearchAttributesCommandAttributes:
		c.Attributes = &commandpb.Command_UpsertWorkflowSearchAttributesCommandAttributes{UpsertWorkflowSearchAttributesCommandAttributes: a}
	case nil:
	default:
		panic(fmt.Sprintf("command: %T", attrs))
	}
	return c
}

func activity(edit func(a *commandpb.ScheduleActivityTaskCommandAttributes)) *commandpb.Command {
	a := &commandpb.ScheduleActivityTaskCommandAttributes{ActivityId: "a1", ActivityType: &commonpb.ActivityType{Name: "act"},
		TaskQueue: &taskqueuepb.TaskQueue{Name: "acts"}, StartToCloseTimeout: dur(10, 0)}
	if edit != nil {
		edit(a)
	}
	return command(enumspb.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK, a)
}

func child(edit func(a *commandpb.StartChildWorkflowExecutionCommandAttributes)) *commandpb.Command {
	a := &commandpb.StartChildWorkflowExecutionCommandAttributes{Namespace: valNS, WorkflowId: "child-1",
		WorkflowType: &commonpb.WorkflowType{Name: "wf"}, TaskQueue: &taskqueuepb.TaskQueue{Name: "children"}}
	edit(a)
	return command(enumspb.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION, a)
}

func continueAsNew(edit func(a *commandpb.ContinueAsNewWorkflowExecutionCommandAttributes)) *commandpb.Command {
	a := &commandpb.ContinueAsNewWorkflowExecutionCommandAttributes{WorkflowType: &commonpb.WorkflowType{Name: "wf"}}
	edit(a)
	return command(enumspb.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION, a)
}

// TestValidateCommands: a command Temporal's validator rejects fails the
// workflow task with Temporal's cause, the worker gets InvalidArgument
// naming the field, and nothing else happens: the history gains exactly
// WorkflowTaskFailed and the next WorkflowTaskScheduled, the run goes on.
func TestValidateCommands(t *testing.T) {
	e := newValEnv(t)
	timer := &commandpb.StartTimerCommandAttributes{TimerId: "t1", StartToFireTimeout: dur(60, 0)}
	for _, tc := range []struct {
		name  string
		cmds  []*commandpb.Command
		cause enumspb.WorkflowTaskFailedCause
		field string
	}{
		{"complete with timer attributes", []*commandpb.Command{command(enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, timer)},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES, "CompleteWorkflowExecutionCommandAttributes is not set"},
		{"cancel without attributes", []*commandpb.Command{command(enumspb.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION, nil)},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_WORKFLOW_EXECUTION_ATTRIBUTES, "CancelWorkflowExecutionCommandAttributes is not set"},
		{"upsert with activity attributes", []*commandpb.Command{command(enumspb.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
			&commandpb.ScheduleActivityTaskCommandAttributes{ActivityId: "x"})},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, "UpsertWorkflowSearchAttributesCommandAttributes is not set"},
		{"fail without a failure", []*commandpb.Command{command(enumspb.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION, &commandpb.FailWorkflowExecutionCommandAttributes{})},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_FAIL_WORKFLOW_EXECUTION_ATTRIBUTES, "FailWorkflowExecutionCommandAttributes.failure"},
		{"activity with a negative heartbeat timeout", []*commandpb.Command{activity(func(a *commandpb.ScheduleActivityTaskCommandAttributes) {
			a.HeartbeatTimeout = dur(-5, 0)
		})}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES, "ScheduleActivityTaskCommandAttributes.heartbeat_timeout"},
		{"activity with a malformed schedule-to-close timeout", []*commandpb.Command{activity(func(a *commandpb.ScheduleActivityTaskCommandAttributes) {
			a.ScheduleToCloseTimeout = dur(315576000001, 0)
		})}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES, "ScheduleActivityTaskCommandAttributes.schedule_to_close_timeout"},
		{"activity retry backoff below 1", []*commandpb.Command{activity(func(a *commandpb.ScheduleActivityTaskCommandAttributes) {
			a.RetryPolicy = &commonpb.RetryPolicy{BackoffCoefficient: 0.9}
		})}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES, "ScheduleActivityTaskCommandAttributes.retry_policy.backoff_coefficient"},
		{"activity retry maximum below initial", []*commandpb.Command{activity(func(a *commandpb.ScheduleActivityTaskCommandAttributes) {
			a.RetryPolicy = &commonpb.RetryPolicy{InitialInterval: dur(2, 0), MaximumInterval: dur(1, 0)}
		})}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES, "ScheduleActivityTaskCommandAttributes.retry_policy.maximum_interval"},
		{"activity id over the id limit", []*commandpb.Command{activity(func(a *commandpb.ScheduleActivityTaskCommandAttributes) {
			a.ActivityId = strings.Repeat("a", 1001)
		})}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES, "schedule_activity_task_command_attributes.activity_id"},
		{"timer with mismatched signs", []*commandpb.Command{command(enumspb.COMMAND_TYPE_START_TIMER,
			&commandpb.StartTimerCommandAttributes{TimerId: "t", StartToFireTimeout: dur(60, -1)})},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES, "StartTimerCommandAttributes.start_to_fire_timeout"},
		{"child with an unknown parent close policy", []*commandpb.Command{child(func(a *commandpb.StartChildWorkflowExecutionCommandAttributes) {
			a.ParentClosePolicy = 42
		})}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES, "StartChildWorkflowExecutionCommandAttributes.parent_close_policy"},
		{"child with an unknown reuse policy", []*commandpb.Command{child(func(a *commandpb.StartChildWorkflowExecutionCommandAttributes) {
			a.WorkflowIdReusePolicy = 42
		})}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES, "StartChildWorkflowExecutionCommandAttributes.workflow_id_reuse_policy"},
		{"child retry with negative attempts", []*commandpb.Command{child(func(a *commandpb.StartChildWorkflowExecutionCommandAttributes) {
			a.RetryPolicy = &commonpb.RetryPolicy{MaximumAttempts: -3}
		})}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES, "StartChildWorkflowExecutionCommandAttributes.retry_policy.maximum_attempts"},
		{"child with a negative run timeout", []*commandpb.Command{child(func(a *commandpb.StartChildWorkflowExecutionCommandAttributes) {
			a.WorkflowRunTimeout = dur(-1, 0)
		})}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES, "StartChildWorkflowExecutionCommandAttributes.workflow_run_timeout"},
		{"child with too many search attributes", []*commandpb.Command{child(func(a *commandpb.StartChildWorkflowExecutionCommandAttributes) {
			a.SearchAttributes = manyAttributes(101)
		})}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, "StartChildWorkflowExecutionCommandAttributes.search_attributes"},
		{"continue-as-new with a negative run timeout", []*commandpb.Command{continueAsNew(func(a *commandpb.ContinueAsNewWorkflowExecutionCommandAttributes) {
			a.WorkflowRunTimeout = dur(-60, 0)
		})}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES, "ContinueAsNewWorkflowExecutionCommandAttributes.workflow_run_timeout"},
		{"continue-as-new with a malformed backoff", []*commandpb.Command{continueAsNew(func(a *commandpb.ContinueAsNewWorkflowExecutionCommandAttributes) {
			a.BackoffStartInterval = dur(0, -7)
		})}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES, "ContinueAsNewWorkflowExecutionCommandAttributes.backoff_start_interval"},
		{"continue-as-new retry backoff below 1", []*commandpb.Command{continueAsNew(func(a *commandpb.ContinueAsNewWorkflowExecutionCommandAttributes) {
			a.RetryPolicy = &commonpb.RetryPolicy{BackoffCoefficient: 0.1}
		})}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES, "ContinueAsNewWorkflowExecutionCommandAttributes.retry_policy.backoff_coefficient"},
		{"upsert of too many search attributes", []*commandpb.Command{command(enumspb.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
			&commandpb.UpsertWorkflowSearchAttributesCommandAttributes{SearchAttributes: manyAttributes(101)})},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, "UpsertWorkflowSearchAttributesCommandAttributes.search_attributes"},
		{"upsert of a value not of its type", []*commandpb.Command{command(enumspb.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
			&commandpb.UpsertWorkflowSearchAttributesCommandAttributes{SearchAttributes: &commonpb.SearchAttributes{
				IndexedFields: map[string]*commonpb.Payload{"ValidateBool": typed("Bool", `"yes"`)}}})},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, "ValidateBool"},
		{"upsert of nothing", []*commandpb.Command{command(enumspb.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
			&commandpb.UpsertWorkflowSearchAttributesCommandAttributes{SearchAttributes: &commonpb.SearchAttributes{}})},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, "UpsertWorkflowSearchAttributesCommandAttributes.search_attributes.indexed_fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			id := e.id("cmd")
			task := e.startAndPoll(id)
			before := e.history(id)
			_, err := e.ws.RespondWorkflowTaskCompleted(e.ctx(), &workflowservice.RespondWorkflowTaskCompletedRequest{
				Namespace: valNS, TaskToken: task.TaskToken, Identity: "validate-test", Commands: tc.cmds})
			requireInvalid(t, err, tc.field, strings.TrimPrefix(tc.cause.String(), "WORKFLOW_TASK_FAILED_CAUSE_"))
			after := e.history(id)
			added := after[len(before):]
			if got := eventTypes(added); got != "WorkflowTaskFailed,WorkflowTaskScheduled" || !proto.Equal(&historypb.History{Events: before}, &historypb.History{Events: after[:len(before)]}) {
				t.Fatalf("history gained %s (want only WorkflowTaskFailed,WorkflowTaskScheduled)", got)
			}
			if got := added[0].GetWorkflowTaskFailedEventAttributes().GetCause(); got != tc.cause {
				t.Fatalf("workflow task failed with cause %v, want %v", got, tc.cause)
			}
		})
	}
}

// TestValidateCommandSequence: commands after a close command, or of an
// unknown type, are InvalidArgument and change nothing at all (Temporal's
// ValidateCommandSequence runs before any command): the workflow does not
// complete, the history is unchanged.
func TestValidateCommandSequence(t *testing.T) {
	e := newValEnv(t)
	complete := command(enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, &commandpb.CompleteWorkflowExecutionCommandAttributes{})
	timer := command(enumspb.COMMAND_TYPE_START_TIMER, &commandpb.StartTimerCommandAttributes{TimerId: "t", StartToFireTimeout: dur(60, 0)})
	for _, tc := range []struct {
		name string
		cmds []*commandpb.Command
		want string
	}{
		{"timer after complete", []*commandpb.Command{complete, timer}, "invalid command sequence"},
		{"complete after complete", []*commandpb.Command{complete, complete}, "CompleteWorkflowExecution must be the last command"},
		{"unknown command type", []*commandpb.Command{{CommandType: 999}}, "unknown command type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			id := e.id("seq")
			task := e.startAndPoll(id)
			before := e.history(id)
			_, err := e.ws.RespondWorkflowTaskCompleted(e.ctx(), &workflowservice.RespondWorkflowTaskCompletedRequest{
				Namespace: valNS, TaskToken: task.TaskToken, Identity: "validate-test", Commands: tc.cmds})
			requireInvalid(t, err, "commands", tc.want)
			if after := e.history(id); !proto.Equal(&historypb.History{Events: before}, &historypb.History{Events: after}) {
				t.Fatalf("history changed: %s -> %s", eventTypes(before), eventTypes(after))
			}
		})
	}
}

// TestValidateTaskRequests: bad fields of other worker and client calls
// are InvalidArgument naming the field and change nothing.
func TestValidateTaskRequests(t *testing.T) {
	e := newValEnv(t)
	unchanged := func(id string, before []*historypb.HistoryEvent) {
		t.Helper()
		if after := e.history(id); !proto.Equal(&historypb.History{Events: before}, &historypb.History{Events: after}) {
			t.Fatalf("history changed: %s -> %s", eventTypes(before), eventTypes(after))
		}
	}
	t.Run("sticky schedule-to-start timeout", func(t *testing.T) {
		e.t = t
		id := e.id("sticky")
		task := e.startAndPoll(id)
		before := e.history(id)
		_, err := e.ws.RespondWorkflowTaskCompleted(e.ctx(), &workflowservice.RespondWorkflowTaskCompletedRequest{
			Namespace: valNS, TaskToken: task.TaskToken, Identity: "validate-test",
			StickyAttributes: &taskqueuepb.StickyExecutionAttributes{WorkerTaskQueue: &taskqueuepb.TaskQueue{Name: "sticky"},
				ScheduleToStartTimeout: dur(5, -1)},
			Commands: []*commandpb.Command{command(enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, &commandpb.CompleteWorkflowExecutionCommandAttributes{})}})
		requireInvalid(t, err, "sticky_attributes.schedule_to_start_timeout")
		unchanged(id, before)
	})
	t.Run("workflow task failed with an unknown cause", func(t *testing.T) {
		e.t = t
		id := e.id("wtfailed")
		task := e.startAndPoll(id)
		before := e.history(id)
		_, err := e.ws.RespondWorkflowTaskFailed(e.ctx(), &workflowservice.RespondWorkflowTaskFailedRequest{
			Namespace: valNS, TaskToken: task.TaskToken, Identity: "validate-test", Cause: 777})
		requireInvalid(t, err, "cause")
		unchanged(id, before)
	})
	t.Run("signal identity over the id limit", func(t *testing.T) {
		e.t = t
		id := e.id("signal")
		if _, err := e.ws.StartWorkflowExecution(e.ctx(), startRequest(id)); err != nil {
			t.Fatal(err)
		}
		before := e.history(id)
		_, err := e.ws.SignalWorkflowExecution(e.ctx(), &workflowservice.SignalWorkflowExecutionRequest{
			Namespace: valNS, WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: id}, SignalName: "s",
			Identity: strings.Repeat("x", 1001)})
		requireInvalid(t, err, "identity")
		unchanged(id, before)
	})
	t.Run("query with an unknown reject condition", func(t *testing.T) {
		e.t = t
		id := e.id("query")
		if _, err := e.ws.StartWorkflowExecution(e.ctx(), startRequest(id)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_, err := e.ws.QueryWorkflow(ctx, &workflowservice.QueryWorkflowRequest{
			Namespace: valNS, Execution: &commonpb.WorkflowExecution{WorkflowId: id},
			Query: &querypb.WorkflowQuery{QueryType: "q"}, QueryRejectCondition: 55})
		requireInvalid(t, err, "query_reject_condition")
	})
	t.Run("activity failure with a negative next retry delay", func(t *testing.T) {
		e.t = t
		id := e.id("act")
		task := e.startAndPoll(id)
		_, err := e.ws.RespondWorkflowTaskCompleted(e.ctx(), &workflowservice.RespondWorkflowTaskCompletedRequest{
			Namespace: valNS, TaskToken: task.TaskToken, Identity: "validate-test",
			Commands: []*commandpb.Command{activity(func(a *commandpb.ScheduleActivityTaskCommandAttributes) {
				a.TaskQueue = &taskqueuepb.TaskQueue{Name: id + "-acts"}
				a.RetryPolicy = &commonpb.RetryPolicy{MaximumAttempts: 3}
			})}})
		if err != nil {
			t.Fatal(err)
		}
		at, err := e.ws.PollActivityTaskQueue(e.ctx(), &workflowservice.PollActivityTaskQueueRequest{
			Namespace: valNS, TaskQueue: &taskqueuepb.TaskQueue{Name: id + "-acts"}, Identity: "validate-test"})
		if err != nil || len(at.GetTaskToken()) == 0 {
			t.Fatalf("poll activity: %v", err)
		}
		before := e.history(id)
		_, err = e.ws.RespondActivityTaskFailed(e.ctx(), &workflowservice.RespondActivityTaskFailedRequest{
			Namespace: valNS, TaskToken: at.TaskToken, Identity: "validate-test",
			Failure: &failurepb.Failure{Message: "boom", FailureInfo: &failurepb.Failure_ApplicationFailureInfo{
				ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{NextRetryDelay: dur(-30, 0)}}}})
		requireInvalid(t, err, "failure.application_failure_info.next_retry_delay")
		unchanged(id, before)
		// The attempt is still running: a valid answer is accepted.
		if _, err := e.ws.RespondActivityTaskCompleted(e.ctx(), &workflowservice.RespondActivityTaskCompletedRequest{
			Namespace: valNS, TaskToken: at.TaskToken, Identity: "validate-test"}); err != nil {
			t.Fatalf("complete after the rejected failure: %v", err)
		}
	})
}

// TestValidateUpdateWithStart: ExecuteMultiOperation refuses what Temporal
// refuses, with its messages: anything but exactly [Start, Update] as a
// whole, a bad operation as MultiOperationExecution naming it (the other
// one "aborted"); nothing is started.
func TestValidateUpdateWithStart(t *testing.T) {
	e := newValEnv(t)
	updateOf := func(id string) *workflowservice.UpdateWorkflowExecutionRequest {
		return &workflowservice.UpdateWorkflowExecutionRequest{
			Namespace: valNS, WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: id},
			Request: &updatepb.Request{Input: &updatepb.Input{Name: "u"}},
		}
	}
	multi := func(ops ...any) *workflowservice.ExecuteMultiOperationRequest {
		req := &workflowservice.ExecuteMultiOperationRequest{Namespace: valNS}
		for _, op := range ops {
			switch op := op.(type) {
			case *workflowservice.StartWorkflowExecutionRequest:
				req.Operations = append(req.Operations, &workflowservice.ExecuteMultiOperationRequest_Operation{
					Operation: &workflowservice.ExecuteMultiOperationRequest_Operation_StartWorkflow{StartWorkflow: op}})
			case *workflowservice.UpdateWorkflowExecutionRequest:
				req.Operations = append(req.Operations, &workflowservice.ExecuteMultiOperationRequest_Operation{
					Operation: &workflowservice.ExecuteMultiOperationRequest_Operation_UpdateWorkflow{UpdateWorkflow: op}})
			}
		}
		return req
	}
	for _, tc := range []struct {
		name    string
		req     func(id string) *workflowservice.ExecuteMultiOperationRequest
		op      int // the failing operation (-1: the whole request)
		message string
	}{
		{"start only", func(id string) *workflowservice.ExecuteMultiOperationRequest {
			return multi(startRequest(id))
		}, -1, "Operations have to be exactly [Start, Update]."},
		{"update first", func(id string) *workflowservice.ExecuteMultiOperationRequest {
			return multi(updateOf(id), startRequest(id))
		}, -1, "Operations have to be exactly [Start, Update]."},
		{"cron", func(id string) *workflowservice.ExecuteMultiOperationRequest {
			s := startRequest(id)
			s.CronSchedule = "@every 1m"
			return multi(s, updateOf(id))
		}, 0, "CronSchedule is not allowed."},
		{"start delay", func(id string) *workflowservice.ExecuteMultiOperationRequest {
			s := startRequest(id)
			s.WorkflowStartDelay = durationpb.New(time.Minute)
			return multi(s, updateOf(id))
		}, 0, "WorkflowStartDelay is not supported."},
		{"start without a workflow type", func(id string) *workflowservice.ExecuteMultiOperationRequest {
			s := startRequest(id)
			s.WorkflowType = nil
			return multi(s, updateOf(id))
		}, 0, "workflow_type"},
		{"run id", func(id string) *workflowservice.ExecuteMultiOperationRequest {
			u := updateOf(id)
			u.WorkflowExecution.RunId = "r"
			return multi(startRequest(id), u)
		}, 1, "RunId is not allowed."},
		{"other workflow id", func(id string) *workflowservice.ExecuteMultiOperationRequest {
			return multi(startRequest(id), updateOf(id+"-other"))
		}, 1, "WorkflowId is not consistent with previous operation(s)."},
		{"other namespace", func(id string) *workflowservice.ExecuteMultiOperationRequest {
			u := updateOf(id)
			u.Namespace = "elsewhere"
			return multi(startRequest(id), u)
		}, 1, "Operation namespace did not match request's namespace."},
		{"no update name", func(id string) *workflowservice.ExecuteMultiOperationRequest {
			u := updateOf(id)
			u.Request.Input.Name = ""
			return multi(startRequest(id), u)
		}, 1, "request.input.name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := e.id("uws")
			_, err := e.ws.ExecuteMultiOperation(e.ctx(), tc.req(id))
			if tc.op < 0 {
				requireInvalid(t, err, tc.message)
			} else {
				var multiErr *serviceerror.MultiOperationExecution
				if !errors.As(serviceerror.FromStatus(status.Convert(err)), &multiErr) {
					t.Fatalf("got %v, want MultiOperationExecution", err)
				}
				errs := multiErr.OperationErrors()
				var aborted *serviceerror.MultiOperationAborted
				if len(errs) != 2 || !errors.As(errs[1-tc.op], &aborted) {
					t.Fatalf("operation errors %v, want operation %d's and the other aborted", errs, tc.op)
				}
				requireInvalid(t, serviceerror.ToStatus(errs[tc.op]).Err(), tc.message)
			}
			e.wantNoWorkflow(id)
		})
	}
}

// TestValidateStrictSearchAttributes: in a namespace with the strict
// setting an unregistered search attribute is refused as Temporal refuses
// it, at start (InvalidArgument, nothing started) and in a workflow task
// (the task fails with BAD_SEARCH_ATTRIBUTES); once registered it is
// accepted.
func TestValidateStrictSearchAttributes(t *testing.T) {
	e := newValEnv(t)
	if _, err := e.ws.UpdateNamespace(e.ctx(), &workflowservice.UpdateNamespaceRequest{Namespace: valNS,
		UpdateInfo: &namespacepb.UpdateNamespaceInfo{Data: map[string]string{rpc.StrictSearchAttributesKey: "true"}}}); err != nil {
		t.Fatal(err)
	}
	sa := &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{"Region": keyword("eu")}}
	id := e.id("strict")
	req := startRequest(id)
	req.SearchAttributes = sa
	_, err := e.ws.StartWorkflowExecution(e.ctx(), req)
	requireInvalid(t, err, "search attribute Region is not defined")
	e.wantNoWorkflow(id)

	id = e.id("strict")
	task := e.startAndPoll(id)
	_, err = e.ws.RespondWorkflowTaskCompleted(e.ctx(), &workflowservice.RespondWorkflowTaskCompletedRequest{
		Namespace: valNS, TaskToken: task.TaskToken, Identity: "validate-test", Commands: []*commandpb.Command{
			command(enumspb.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, &commandpb.UpsertWorkflowSearchAttributesCommandAttributes{SearchAttributes: sa})}})
	requireInvalid(t, err, "search attribute Region is not defined")
	h := e.history(id)
	if got := h[len(h)-2].GetWorkflowTaskFailedEventAttributes().GetCause(); got != enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES {
		t.Fatalf("history %s: the task failed with cause %v, want BAD_SEARCH_ATTRIBUTES", eventTypes(h), got)
	}

	if _, err := e.ops.AddSearchAttributes(e.ctx(), &operatorservice.AddSearchAttributesRequest{Namespace: valNS,
		SearchAttributes: map[string]enumspb.IndexedValueType{"Region": enumspb.INDEXED_VALUE_TYPE_KEYWORD}}); err != nil {
		t.Fatal(err)
	}
	req = startRequest(e.id("strict"))
	req.SearchAttributes = sa
	if _, err := e.ws.StartWorkflowExecution(e.ctx(), req); err != nil {
		t.Fatalf("a registered attribute in a strict namespace: %v", err)
	}
}

// TestValidatePriority: a negative priority key, an overlong fairness key
// or a negative weight is refused as Temporal refuses it, at start (nothing
// started) and in a ScheduleActivityTask command (the task fails with
// BAD_SCHEDULE_ACTIVITY_ATTRIBUTES).
func TestValidatePriority(t *testing.T) {
	e := newValEnv(t)
	for _, tc := range []struct {
		p    *commonpb.Priority
		want string
	}{
		{&commonpb.Priority{PriorityKey: -1}, "priority.priority_key: priority key can't be negative"},
		{&commonpb.Priority{FairnessKey: strings.Repeat("k", 65)}, "priority.fairness_key: fairness key length exceeds limit"},
		{&commonpb.Priority{FairnessWeight: -2}, "priority.fairness_weight: must be greater than zero"},
	} {
		id := e.id("prio")
		req := startRequest(id)
		req.Priority = tc.p
		_, err := e.ws.StartWorkflowExecution(e.ctx(), req)
		requireInvalid(t, err, tc.want)
		e.wantNoWorkflow(id)
	}
	id := e.id("prio")
	task := e.startAndPoll(id)
	_, err := e.ws.RespondWorkflowTaskCompleted(e.ctx(), &workflowservice.RespondWorkflowTaskCompletedRequest{
		Namespace: valNS, TaskToken: task.TaskToken, Identity: "validate-test", Commands: []*commandpb.Command{
			activity(func(a *commandpb.ScheduleActivityTaskCommandAttributes) {
				a.Priority = &commonpb.Priority{PriorityKey: -3}
			})}})
	requireInvalid(t, err, "priority.priority_key", "BadScheduleActivityAttributes")
}
