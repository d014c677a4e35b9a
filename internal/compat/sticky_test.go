package compat

import (
	"slices"
	"testing"
	"time"

	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/raftflow/engine/internal/testutil"
)

// Sticky execution, observed through the raw WorkflowService client playing
// a caching worker: after a completion with sticky attributes the next
// workflow task goes to the worker's sticky queue with only the events
// after previous_started_event_id; after ResetStickyTaskQueue, and after
// the sticky schedule-to-start timeout, it goes to the normal queue with
// the full history.
func testStickyHistory(t *testing.T, c client.Client, _ *replayLog) {
	tq := taskQueue(t)
	sticky := tq + "-sticky"
	svc := c.WorkflowService()
	run := start(t, c, tq, tq+"-wf", WaitSignalWorkflow) // no SDK worker: this test is the worker

	poll := func(step string, queue string, kind enumspb.TaskQueueKind) *workflowservice.PollWorkflowTaskQueueResponse {
		t.Helper()
		resp, err := svc.PollWorkflowTaskQueue(testutil.Context(t, 15*time.Second), &workflowservice.PollWorkflowTaskQueueRequest{
			Namespace: "default", Identity: "raw-worker",
			TaskQueue: &taskqueuepb.TaskQueue{Name: queue, Kind: kind, NormalName: tq},
		})
		if err != nil || len(resp.GetTaskToken()) == 0 {
			t.Fatalf("%s: poll %s: %v (task: %v)", step, queue, err, len(resp.GetTaskToken()) > 0)
		}
		evs := resp.History.GetEvents()
		if len(evs) == 0 || evs[len(evs)-1].EventId != resp.StartedEventId || evs[len(evs)-1].EventType != evWTStarted {
			t.Fatalf("%s: history %v does not end with the task's WorkflowTaskStarted (%d)", step, eventTypes(resp.History), resp.StartedEventId)
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].EventId != evs[i-1].EventId+1 {
				t.Fatalf("%s: history ids not dense: %d after %d", step, evs[i].EventId, evs[i-1].EventId)
			}
		}
		return resp
	}
	complete := func(step string, resp *workflowservice.PollWorkflowTaskQueueResponse, stickyTimeout time.Duration, cmds ...*commandpb.Command) {
		t.Helper()
		req := &workflowservice.RespondWorkflowTaskCompletedRequest{
			Namespace: "default", TaskToken: resp.TaskToken, Identity: "raw-worker", Commands: cmds,
		}
		if stickyTimeout > 0 {
			req.StickyAttributes = &taskqueuepb.StickyExecutionAttributes{
				WorkerTaskQueue:        &taskqueuepb.TaskQueue{Name: sticky, Kind: enumspb.TASK_QUEUE_KIND_STICKY, NormalName: tq},
				ScheduleToStartTimeout: durationpb.New(stickyTimeout),
			}
		}
		if _, err := svc.RespondWorkflowTaskCompleted(testutil.Context(t, 10*time.Second), req); err != nil {
			t.Fatalf("%s: complete: %v", step, err)
		}
	}
	firstID := func(resp *workflowservice.PollWorkflowTaskQueueResponse) int64 { return resp.History.Events[0].EventId }

	// 1. The first task: the full history.
	r := poll("first task", tq, enumspb.TASK_QUEUE_KIND_NORMAL)
	if firstID(r) != 1 || r.PreviousStartedEventId != 0 {
		t.Fatalf("first task: history from %d, previous started %d; want 1 and 0", firstID(r), r.PreviousStartedEventId)
	}
	complete("first task", r, 10*time.Second)
	prev := r.StartedEventId

	// 2. Sticky: only the new events.
	signal(t, c, run.GetID(), "sig-ignored", "one")
	r = poll("sticky task", sticky, enumspb.TASK_QUEUE_KIND_STICKY)
	if r.PreviousStartedEventId != prev || firstID(r) != prev+1 {
		t.Fatalf("sticky task: previous started %d, history from %d; want %d and %d", r.PreviousStartedEventId, firstID(r), prev, prev+1)
	}
	if types := eventTypes(r.History); types[0] != evWTCompleted || !slices.Contains(types, evSignaled) {
		t.Errorf("sticky task's history %v, want the previous task's completion and the signal", types)
	}
	complete("sticky task", r, 10*time.Second)

	// 3. ResetStickyTaskQueue: the normal queue and the full history.
	if _, err := svc.ResetStickyTaskQueue(testutil.Context(t, 10*time.Second), &workflowservice.ResetStickyTaskQueueRequest{
		Namespace: "default", Execution: &commonpb.WorkflowExecution{WorkflowId: run.GetID(), RunId: run.GetRunID()},
	}); err != nil {
		t.Fatalf("ResetStickyTaskQueue: %v", err)
	}
	signal(t, c, run.GetID(), "sig-ignored", "two")
	r = poll("after reset", tq, enumspb.TASK_QUEUE_KIND_NORMAL)
	if firstID(r) != 1 {
		t.Fatalf("after reset: history from %d, want the full history", firstID(r))
	}
	complete("after reset", r, time.Second)

	// 4. Nobody polls the sticky queue: after its 1 s schedule-to-start
	// timeout the task moves to the normal queue, with the full history.
	signal(t, c, run.GetID(), "sig-ignored", "three")
	r = poll("after the sticky timeout", tq, enumspb.TASK_QUEUE_KIND_NORMAL)
	if firstID(r) != 1 {
		t.Fatalf("after the sticky timeout: history from %d, want the full history", firstID(r))
	}
	timedOut := eventsOf(r.History, evWTTimedOut)
	if len(timedOut) != 1 || timedOut[0].GetWorkflowTaskTimedOutEventAttributes().TimeoutType != enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START {
		t.Errorf("after the sticky timeout: want one WorkflowTaskTimedOut (SCHEDULE_TO_START): %v", eventTypes(r.History))
	}
	result, err := converter.GetDefaultDataConverter().ToPayloads("raw done")
	if err != nil {
		t.Fatal(err)
	}
	complete("last task", r, 0, &commandpb.Command{
		CommandType: enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
		Attributes: &commandpb.Command_CompleteWorkflowExecutionCommandAttributes{
			CompleteWorkflowExecutionCommandAttributes: &commandpb.CompleteWorkflowExecutionCommandAttributes{Result: result},
		},
	})
	var got string
	getResult(t, run, &got)
	if got != "raw done" {
		t.Errorf("result %q", got)
	}
}
