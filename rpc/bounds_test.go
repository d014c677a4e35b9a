package rpc_test

import (
	"context"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	querypb "go.temporal.io/api/query/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/raftflow/engine/fsm/fsmpb"
	"github.com/raftflow/engine/internal/server"
	"github.com/raftflow/engine/rpc"
)

// startEngine runs a one-node engine (temp dir, :0 ports) until the test ends.
func startEngine(tb testing.TB) *server.Server {
	tb.Helper()
	srv, err := server.Start(server.Config{
		NodeID: "n1", DataDir: tb.TempDir(),
		GRPCAddr: "127.0.0.1:0", RaftAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		HeartbeatTimeout: 100 * time.Millisecond, ElectionTimeout: 100 * time.Millisecond,
		LeaderLeaseTimeout: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Close() })
	deadline := time.Now().Add(30 * time.Second)
	for ok, why := srv.Ready(); !ok; ok, why = srv.Ready() {
		if time.Now().After(deadline) {
			tb.Fatalf("engine not ready: %s", why)
		}
		time.Sleep(5 * time.Millisecond) // polling, with a deadline
	}
	return srv
}

// workflowService is the generated descriptor of every WorkflowService method.
func workflowService() protoreflect.ServiceDescriptor {
	return workflowservice.File_temporal_api_workflowservice_v1_service_proto.Services().ByName("WorkflowService")
}

// newRequest makes an empty request of a method.
func newRequest(tb testing.TB, m protoreflect.MethodDescriptor) proto.Message {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(m.Input().FullName())
	if err != nil {
		tb.Fatal(err)
	}
	return mt.New().Interface()
}

// call runs the real handler of a method on the service.
func call(svc *rpc.Service, m protoreflect.MethodDescriptor, ctx context.Context, req proto.Message) error {
	h := reflect.ValueOf(svc).MethodByName(string(m.Name()))
	if !h.IsValid() {
		return status.Error(codes.Unimplemented, "no handler")
	}
	out := h.Call([]reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(req)})
	err, _ := out[1].Interface().(error)
	return err
}

func long(n int) string { return strings.Repeat("x", n) }

// wantInvalid requires InvalidArgument whose message names field.
func wantInvalid(t *testing.T, what string, err error, field string) {
	t.Helper()
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), field) {
		t.Errorf("%s: %v, want InvalidArgument naming %q", what, err, field)
	}
}

// unchanged fails the test when the state machine's digest moved.
func unchanged(t *testing.T, srv *server.Server, before string, what string) {
	t.Helper()
	if after := srv.FSM.Digest(); after != before {
		t.Errorf("%s changed the state", what)
	}
}

// TestBoundsNamespaceEveryCall: a 1 MiB namespace on every WorkflowService
// call gets InvalidArgument naming namespace (or Unimplemented), never a
// panic, and changes nothing.
func TestBoundsNamespaceEveryCall(t *testing.T) {
	srv := startEngine(t)
	before := srv.FSM.Digest()
	methods := workflowService().Methods()
	for i := range methods.Len() {
		m := methods.Get(i)
		req := newRequest(t, m)
		fd := req.ProtoReflect().Descriptor().Fields().ByName("namespace")
		if fd == nil {
			continue
		}
		req.ProtoReflect().Set(fd, protoreflect.ValueOfString(long(1<<20)))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := call(srv.Service, m, ctx, req)
		cancel()
		if status.Code(err) != codes.Unimplemented {
			wantInvalid(t, string(m.Name()), err, "namespace")
		}
	}
	unchanged(t, srv, before, "a 1 MiB namespace")
}

func token(tok *fsmpb.TaskToken) []byte {
	b, err := proto.Marshal(tok)
	if err != nil {
		panic(err)
	}
	return b
}

// TestBoundsLongFields: a 70,000-byte string in each field that reaches a
// storage key (on ae50b58 each of these panicked the node inside raft
// apply or the handler) gets InvalidArgument naming the field and changes
// nothing.
func TestBoundsLongFields(t *testing.T) {
	srv := startEngine(t)
	svc := srv.Service
	big := long(70000)
	wt := func(mod func(*fsmpb.TaskToken)) []byte {
		tok := &fsmpb.TaskToken{Namespace: "default", WorkflowId: "wf", RunId: "run", Kind: fsmpb.TaskKind_TASK_KIND_WORKFLOW, Attempt: 1}
		mod(tok)
		return token(tok)
	}
	at := func(mod func(*fsmpb.TaskToken)) []byte {
		tok := &fsmpb.TaskToken{Namespace: "default", WorkflowId: "wf", RunId: "run", Kind: fsmpb.TaskKind_TASK_KIND_ACTIVITY, ActivityId: "a", Attempt: 1}
		mod(tok)
		return token(tok)
	}
	start := func() *workflowservice.StartWorkflowExecutionRequest {
		return &workflowservice.StartWorkflowExecutionRequest{Namespace: "default", WorkflowId: "wf",
			WorkflowType: &commonpb.WorkflowType{Name: "t"}, TaskQueue: &taskqueuepb.TaskQueue{Name: "q"}}
	}
	sa := func(name string) *commonpb.SearchAttributes {
		return &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{name: {Data: []byte(`"v"`)}}}
	}
	exec := &commonpb.WorkflowExecution{WorkflowId: "wf"}
	for _, tc := range []struct {
		name, field string
		call        func(ctx context.Context) error
	}{
		{"start workflow_id", "workflow_id", func(ctx context.Context) error {
			r := start()
			r.WorkflowId = big
			_, err := svc.StartWorkflowExecution(ctx, r)
			return err
		}},
		{"start request_id", "request_id", func(ctx context.Context) error {
			r := start()
			r.RequestId = big
			_, err := svc.StartWorkflowExecution(ctx, r)
			return err
		}},
		{"start search attribute name", "search_attributes.indexed_fields", func(ctx context.Context) error {
			r := start()
			r.SearchAttributes = sa(big)
			_, err := svc.StartWorkflowExecution(ctx, r)
			return err
		}},
		{"start identity", "identity", func(ctx context.Context) error {
			r := start()
			r.Identity = big
			_, err := svc.StartWorkflowExecution(ctx, r)
			return err
		}},
		{"signal-with-start request_id", "request_id", func(ctx context.Context) error {
			_, err := svc.SignalWithStartWorkflowExecution(ctx, &workflowservice.SignalWithStartWorkflowExecutionRequest{
				Namespace: "default", WorkflowId: "wf", WorkflowType: &commonpb.WorkflowType{Name: "t"},
				TaskQueue: &taskqueuepb.TaskQueue{Name: "q"}, SignalName: "s", RequestId: big})
			return err
		}},
		{"signal-with-start search attribute name", "search_attributes.indexed_fields", func(ctx context.Context) error {
			_, err := svc.SignalWithStartWorkflowExecution(ctx, &workflowservice.SignalWithStartWorkflowExecutionRequest{
				Namespace: "default", WorkflowId: "wf", WorkflowType: &commonpb.WorkflowType{Name: "t"},
				TaskQueue: &taskqueuepb.TaskQueue{Name: "q"}, SignalName: "s", SearchAttributes: sa(big)})
			return err
		}},
		{"signal request_id", "request_id", func(ctx context.Context) error {
			_, err := svc.SignalWorkflowExecution(ctx, &workflowservice.SignalWorkflowExecutionRequest{
				Namespace: "default", WorkflowExecution: exec, SignalName: "s", RequestId: big})
			return err
		}},
		{"signal run_id", "workflow_execution.run_id", func(ctx context.Context) error {
			_, err := svc.SignalWorkflowExecution(ctx, &workflowservice.SignalWorkflowExecutionRequest{
				Namespace: "default", WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: "wf", RunId: big}, SignalName: "s"})
			return err
		}},
		{"cancel request_id", "request_id", func(ctx context.Context) error {
			_, err := svc.RequestCancelWorkflowExecution(ctx, &workflowservice.RequestCancelWorkflowExecutionRequest{
				Namespace: "default", WorkflowExecution: exec, RequestId: big})
			return err
		}},
		{"terminate identity", "identity", func(ctx context.Context) error {
			_, err := svc.TerminateWorkflowExecution(ctx, &workflowservice.TerminateWorkflowExecutionRequest{
				Namespace: "default", WorkflowExecution: exec, Identity: big})
			return err
		}},
		{"describe run_id", "execution.run_id", func(ctx context.Context) error {
			_, err := svc.DescribeWorkflowExecution(ctx, &workflowservice.DescribeWorkflowExecutionRequest{
				Namespace: "default", Execution: &commonpb.WorkflowExecution{WorkflowId: "wf", RunId: big}})
			return err
		}},
		{"history page token run id", "next_page_token", func(ctx context.Context) error {
			_, err := svc.GetWorkflowExecutionHistory(ctx, &workflowservice.GetWorkflowExecutionHistoryRequest{
				Namespace: "default", Execution: exec, NextPageToken: append(make([]byte, 16), big...)})
			return err
		}},
		{"query type", "query.query_type", func(ctx context.Context) error {
			_, err := svc.QueryWorkflow(ctx, &workflowservice.QueryWorkflowRequest{
				Namespace: "default", Execution: exec, Query: &querypb.WorkflowQuery{QueryType: big}})
			return err
		}},
		{"update id", "request.meta.update_id", func(ctx context.Context) error {
			_, err := svc.UpdateWorkflowExecution(ctx, &workflowservice.UpdateWorkflowExecutionRequest{
				Namespace: "default", WorkflowExecution: exec,
				Request: &updatepb.Request{Meta: &updatepb.Meta{UpdateId: big}, Input: &updatepb.Input{Name: "u"}}})
			return err
		}},
		{"poll task queue", "task_queue.name", func(ctx context.Context) error {
			_, err := svc.PollActivityTaskQueue(ctx, &workflowservice.PollActivityTaskQueueRequest{
				Namespace: "default", TaskQueue: &taskqueuepb.TaskQueue{Name: big}})
			return err
		}},
		{"workflow task token namespace", "task_token.namespace", func(ctx context.Context) error {
			_, err := svc.RespondWorkflowTaskCompleted(ctx, &workflowservice.RespondWorkflowTaskCompletedRequest{
				TaskToken: wt(func(t *fsmpb.TaskToken) { t.Namespace = big })})
			return err
		}},
		{"workflow task token workflow_id", "task_token.workflow_id", func(ctx context.Context) error {
			_, err := svc.RespondWorkflowTaskCompleted(ctx, &workflowservice.RespondWorkflowTaskCompletedRequest{
				Namespace: "default", TaskToken: wt(func(t *fsmpb.TaskToken) { t.WorkflowId = big })})
			return err
		}},
		{"workflow task failed token run_id", "task_token.run_id", func(ctx context.Context) error {
			_, err := svc.RespondWorkflowTaskFailed(ctx, &workflowservice.RespondWorkflowTaskFailedRequest{
				Namespace: "default", TaskToken: wt(func(t *fsmpb.TaskToken) { t.RunId = big })})
			return err
		}},
		{"activity completed token namespace", "task_token.namespace", func(ctx context.Context) error {
			_, err := svc.RespondActivityTaskCompleted(ctx, &workflowservice.RespondActivityTaskCompletedRequest{
				TaskToken: at(func(t *fsmpb.TaskToken) { t.Namespace = big })})
			return err
		}},
		{"activity failed token workflow_id", "task_token.workflow_id", func(ctx context.Context) error {
			_, err := svc.RespondActivityTaskFailed(ctx, &workflowservice.RespondActivityTaskFailedRequest{
				TaskToken: at(func(t *fsmpb.TaskToken) { t.WorkflowId = big }), Failure: &failurepb.Failure{Message: "f"}})
			return err
		}},
		{"activity canceled token run_id", "task_token.run_id", func(ctx context.Context) error {
			_, err := svc.RespondActivityTaskCanceled(ctx, &workflowservice.RespondActivityTaskCanceledRequest{
				TaskToken: at(func(t *fsmpb.TaskToken) { t.RunId = big })})
			return err
		}},
		{"heartbeat token activity_id", "task_token.activity_id", func(ctx context.Context) error {
			_, err := svc.RecordActivityTaskHeartbeat(ctx, &workflowservice.RecordActivityTaskHeartbeatRequest{
				TaskToken: at(func(t *fsmpb.TaskToken) { t.ActivityId = big })})
			return err
		}},
		{"heartbeat by id run_id", "run_id", func(ctx context.Context) error {
			_, err := svc.RecordActivityTaskHeartbeatById(ctx, &workflowservice.RecordActivityTaskHeartbeatByIdRequest{
				Namespace: "default", WorkflowId: "wf", RunId: big, ActivityId: "a"})
			return err
		}},
		{"completed by id namespace", "namespace", func(ctx context.Context) error {
			_, err := svc.RespondActivityTaskCompletedById(ctx, &workflowservice.RespondActivityTaskCompletedByIdRequest{
				Namespace: big, WorkflowId: "wf", ActivityId: "a"})
			return err
		}},
		{"query task completed namespace", "namespace", func(ctx context.Context) error {
			_, err := svc.RespondQueryTaskCompleted(ctx, &workflowservice.RespondQueryTaskCompletedRequest{
				Namespace: big, TaskToken: []byte("raftflow-query:x")})
			return err
		}},
		{"token from another namespace", "token from a different namespace", func(ctx context.Context) error {
			_, err := svc.RespondActivityTaskCompleted(ctx, &workflowservice.RespondActivityTaskCompletedRequest{
				Namespace: "other", TaskToken: at(func(*fsmpb.TaskToken) {})})
			return err
		}},
		{"workflow token from another namespace", "token from a different namespace", func(ctx context.Context) error {
			_, err := svc.RespondWorkflowTaskFailed(ctx, &workflowservice.RespondWorkflowTaskFailedRequest{
				Namespace: "other", TaskToken: wt(func(*fsmpb.TaskToken) {})})
			return err
		}},
	} {
		before := srv.FSM.Digest()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		wantInvalid(t, tc.name, tc.call(ctx), tc.field)
		cancel()
		unchanged(t, srv, before, tc.name)
	}
}

// pollWorkflowTask starts nothing: it polls q for the next workflow task.
func pollWorkflowTask(t *testing.T, svc *rpc.Service, q string) *workflowservice.PollWorkflowTaskQueueResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := svc.PollWorkflowTaskQueue(ctx, &workflowservice.PollWorkflowTaskQueueRequest{
		Namespace: "default", TaskQueue: &taskqueuepb.TaskQueue{Name: q}, Identity: "test"})
	if err != nil || len(resp.GetTaskToken()) == 0 {
		t.Fatalf("poll: %v (empty: %v)", err, len(resp.GetTaskToken()) == 0)
	}
	return resp
}

// TestBoundsCommands: a command with a string over the limit fails the
// workflow task with the command's BAD_*_ATTRIBUTES cause and the worker
// gets InvalidArgument naming the field, as Temporal does; on a later
// attempt the task is not failed again (nothing changes). Nothing the
// command names (the child, the external target) is touched.
func TestBoundsCommands(t *testing.T) {
	srv := startEngine(t)
	svc := srv.Service
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := svc.StartWorkflowExecution(ctx, &workflowservice.StartWorkflowExecutionRequest{Namespace: "default", WorkflowId: "parent",
		WorkflowType: &commonpb.WorkflowType{Name: "t"}, TaskQueue: &taskqueuepb.TaskQueue{Name: "cmds"}})
	if err != nil {
		t.Fatal(err)
	}
	big := long(70000)
	child := &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
		Attributes: &commandpb.Command_StartChildWorkflowExecutionCommandAttributes{StartChildWorkflowExecutionCommandAttributes: &commandpb.StartChildWorkflowExecutionCommandAttributes{
			Namespace: "default", WorkflowId: big, WorkflowType: &commonpb.WorkflowType{Name: "t"}, TaskQueue: &taskqueuepb.TaskQueue{Name: "cmds"}}}}

	// First attempt: the task fails with the cause.
	task := pollWorkflowTask(t, svc, "cmds")
	_, err = svc.RespondWorkflowTaskCompleted(ctx, &workflowservice.RespondWorkflowTaskCompletedRequest{
		Namespace: "default", TaskToken: task.TaskToken, Commands: []*commandpb.Command{child}, Identity: "test"})
	wantInvalid(t, "child workflow_id", err, "commands[0].start_child_workflow_execution_command_attributes.workflow_id")
	wantInvalid(t, "child workflow_id", err, "BadStartChildExecutionAttributes")
	hist, err := svc.GetWorkflowExecutionHistory(ctx, &workflowservice.GetWorkflowExecutionHistoryRequest{
		Namespace: "default", Execution: &commonpb.WorkflowExecution{WorkflowId: "parent", RunId: run.RunId}})
	if err != nil {
		t.Fatal(err)
	}
	var failed *enumspb.WorkflowTaskFailedCause
	for _, ev := range hist.History.Events {
		if a := ev.GetWorkflowTaskFailedEventAttributes(); a != nil {
			failed = &a.Cause
		}
		if ev.GetStartChildWorkflowExecutionInitiatedEventAttributes() != nil {
			t.Errorf("the child was initiated")
		}
	}
	if failed == nil || *failed != enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES {
		t.Fatalf("workflow task failed with %v, want BAD_START_CHILD_EXECUTION_ATTRIBUTES", failed)
	}

	// Second attempt: each bad command gets InvalidArgument and changes nothing.
	task = pollWorkflowTask(t, svc, "cmds")
	if task.Attempt != 2 {
		t.Fatalf("attempt %d, want 2", task.Attempt)
	}
	sa := &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{big: {Data: []byte(`"v"`)}}}
	for _, tc := range []struct {
		field string
		cmd   *commandpb.Command
	}{
		{"start_child_workflow_execution_command_attributes.namespace", &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_StartChildWorkflowExecutionCommandAttributes{StartChildWorkflowExecutionCommandAttributes: &commandpb.StartChildWorkflowExecutionCommandAttributes{
				Namespace: big, WorkflowId: "c", WorkflowType: &commonpb.WorkflowType{Name: "t"}}}}},
		{"start_child_workflow_execution_command_attributes.task_queue.name", &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_StartChildWorkflowExecutionCommandAttributes{StartChildWorkflowExecutionCommandAttributes: &commandpb.StartChildWorkflowExecutionCommandAttributes{
				WorkflowId: "c", WorkflowType: &commonpb.WorkflowType{Name: "t"}, TaskQueue: &taskqueuepb.TaskQueue{Name: big}}}}},
		{"signal_external_workflow_execution_command_attributes.execution.workflow_id", &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_SignalExternalWorkflowExecutionCommandAttributes{SignalExternalWorkflowExecutionCommandAttributes: &commandpb.SignalExternalWorkflowExecutionCommandAttributes{
				Namespace: "default", Execution: &commonpb.WorkflowExecution{WorkflowId: big}, SignalName: "s"}}}},
		{"signal_external_workflow_execution_command_attributes.execution.run_id", &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_SignalExternalWorkflowExecutionCommandAttributes{SignalExternalWorkflowExecutionCommandAttributes: &commandpb.SignalExternalWorkflowExecutionCommandAttributes{
				Namespace: "default", Execution: &commonpb.WorkflowExecution{WorkflowId: "x", RunId: big}, SignalName: "s"}}}},
		{"request_cancel_external_workflow_execution_command_attributes.namespace", &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_RequestCancelExternalWorkflowExecutionCommandAttributes{RequestCancelExternalWorkflowExecutionCommandAttributes: &commandpb.RequestCancelExternalWorkflowExecutionCommandAttributes{
				Namespace: big, WorkflowId: "x"}}}},
		{"request_cancel_external_workflow_execution_command_attributes.workflow_id", &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_RequestCancelExternalWorkflowExecutionCommandAttributes{RequestCancelExternalWorkflowExecutionCommandAttributes: &commandpb.RequestCancelExternalWorkflowExecutionCommandAttributes{
				Namespace: "default", WorkflowId: big}}}},
		{"upsert_workflow_search_attributes_command_attributes.search_attributes.indexed_fields", &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
			Attributes: &commandpb.Command_UpsertWorkflowSearchAttributesCommandAttributes{UpsertWorkflowSearchAttributesCommandAttributes: &commandpb.UpsertWorkflowSearchAttributesCommandAttributes{
				SearchAttributes: sa}}}},
		{"schedule_activity_task_command_attributes.activity_id", &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
			Attributes: &commandpb.Command_ScheduleActivityTaskCommandAttributes{ScheduleActivityTaskCommandAttributes: &commandpb.ScheduleActivityTaskCommandAttributes{
				ActivityId: big, ActivityType: &commonpb.ActivityType{Name: "a"}}}}},
		{"schedule_activity_task_command_attributes.activity_type.name", &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
			Attributes: &commandpb.Command_ScheduleActivityTaskCommandAttributes{ScheduleActivityTaskCommandAttributes: &commandpb.ScheduleActivityTaskCommandAttributes{
				ActivityId: "a", ActivityType: &commonpb.ActivityType{Name: big}}}}},
		{"start_timer_command_attributes.timer_id", &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_START_TIMER,
			Attributes: &commandpb.Command_StartTimerCommandAttributes{StartTimerCommandAttributes: &commandpb.StartTimerCommandAttributes{TimerId: big}}}},
		{"continue_as_new_workflow_execution_command_attributes.search_attributes.indexed_fields", &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_ContinueAsNewWorkflowExecutionCommandAttributes{ContinueAsNewWorkflowExecutionCommandAttributes: &commandpb.ContinueAsNewWorkflowExecutionCommandAttributes{
				WorkflowType: &commonpb.WorkflowType{Name: "t"}, SearchAttributes: sa}}}},
	} {
		before := srv.FSM.Digest()
		_, err := svc.RespondWorkflowTaskCompleted(ctx, &workflowservice.RespondWorkflowTaskCompletedRequest{
			Namespace: "default", TaskToken: task.TaskToken, Commands: []*commandpb.Command{tc.cmd}, Identity: "test"})
		wantInvalid(t, tc.field, err, "commands[0]."+tc.field)
		unchanged(t, srv, before, tc.field)
	}
	// A token from another namespace is refused before anything else.
	_, err = svc.RespondWorkflowTaskCompleted(ctx, &workflowservice.RespondWorkflowTaskCompletedRequest{
		Namespace: "other", TaskToken: task.TaskToken})
	wantInvalid(t, "token namespace", err, "Operation requested with a token from a different namespace.")
}
