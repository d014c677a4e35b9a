package rpc

import (
	"strings"
	"testing"

	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	protocolpb "go.temporal.io/api/protocol/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestBoundWalk: ids are bounded wherever they occur; free text, payloads,
// failures and memos are not (Temporal accepts them long); commands and
// messages are left to boundCommands.
func TestBoundWalk(t *testing.T) {
	big := strings.Repeat("x", maxIDLength+1)
	ok := strings.Repeat("x", maxIDLength)
	timer := &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_START_TIMER,
		Attributes: &commandpb.Command_StartTimerCommandAttributes{StartTimerCommandAttributes: &commandpb.StartTimerCommandAttributes{TimerId: big}}}
	for _, tc := range []struct {
		name  string
		req   proto.Message
		field string // "" = accepted
	}{
		{"ids at the limit", &workflowservice.SignalWorkflowExecutionRequest{Namespace: ok, WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: ok}}, ""},
		{"nested run id", &workflowservice.SignalWorkflowExecutionRequest{WorkflowExecution: &commonpb.WorkflowExecution{RunId: big}}, "workflow_execution.run_id"},
		{"long reason and payload metadata", &workflowservice.TerminateWorkflowExecutionRequest{Reason: big,
			Details: &commonpb.Payloads{Payloads: []*commonpb.Payload{{Metadata: map[string][]byte{big: nil}}}}}, ""},
		{"long failure text", &workflowservice.RespondActivityTaskFailedRequest{Failure: &failurepb.Failure{Message: big, StackTrace: big,
			FailureInfo: &failurepb.Failure_ActivityFailureInfo{ActivityFailureInfo: &failurepb.ActivityFailureInfo{Identity: big}}}}, ""},
		{"memo key", &workflowservice.StartWorkflowExecutionRequest{Memo: &commonpb.Memo{Fields: map[string]*commonpb.Payload{big: {}}}}, ""},
		{"search attribute name", &workflowservice.StartWorkflowExecutionRequest{SearchAttributes: &commonpb.SearchAttributes{
			IndexedFields: map[string]*commonpb.Payload{"a": {}, big: {}}}}, "search_attributes.indexed_fields (key)"},
		{"commands are boundCommands'", &workflowservice.RespondWorkflowTaskCompletedRequest{Commands: []*commandpb.Command{timer}}, ""},
		{"sticky queue", &workflowservice.RespondWorkflowTaskCompletedRequest{StickyAttributes: &taskqueuepb.StickyExecutionAttributes{
			WorkerTaskQueue: &taskqueuepb.TaskQueue{Name: big}}}, "sticky_attributes.worker_task_queue.name"},
	} {
		err := bound(tc.req)
		msg := status.Convert(err).Message()
		if (err == nil) != (tc.field == "") || !strings.HasPrefix(msg, tc.field) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.field)
		}
	}

	body, err := anypb.New(&updatepb.Acceptance{AcceptedRequest: &updatepb.Request{Meta: &updatepb.Meta{UpdateId: big}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		req   *workflowservice.RespondWorkflowTaskCompletedRequest
		cause enumspb.WorkflowTaskFailedCause
		msg   string
	}{
		{&workflowservice.RespondWorkflowTaskCompletedRequest{Commands: []*commandpb.Command{{}, timer}},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES, "BadStartTimerAttributes: commands[1].start_timer_command_attributes.timer_id: length 1001"},
		{&workflowservice.RespondWorkflowTaskCompletedRequest{Messages: []*protocolpb.Message{{Id: "m", Body: body}}},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE, "BadUpdateWorkflowExecutionMessage: messages[0].body(any).accepted_request.meta.update_id"},
		{&workflowservice.RespondWorkflowTaskCompletedRequest{Messages: []*protocolpb.Message{{Id: "m", ProtocolInstanceId: ok, Body: &anypb.Any{TypeUrl: "unknown", Value: []byte("x")}}}}, 0, ""},
	} {
		cause, msg, bad := boundCommands(tc.req)
		if bad != (tc.msg != "") || cause != tc.cause || !strings.HasPrefix(msg, tc.msg) {
			t.Errorf("boundCommands: %v %q, want %v %q", cause, msg, tc.cause, tc.msg)
		}
	}
}
