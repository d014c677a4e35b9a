package compat

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/raftflow/engine/internal/testutil"
)

// Cancelling a started activity: the workflow's RequestCancelActivityTask
// reaches the activity through its next heartbeat (its context is
// cancelled), the activity's cancellation is reported back, and the
// workflow sees a CanceledError for it.
func testActivityCancelByHeartbeat(t *testing.T, c client.Client, rec *replayLog) {
	tq := taskQueue(t)
	done := released(t)
	started := make(chan struct{}, 1)
	sawCancel := make(chan error, 1)
	startWorker(t, c, tq, []any{CancelActivityWorkflow}, map[string]any{
		"Heartbeater": func(ctx context.Context) error {
			started <- struct{}{}
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				activity.RecordHeartbeat(ctx, "beat")
				select {
				case <-ctx.Done():
					sawCancel <- ctx.Err()
					return ctx.Err()
				case <-done:
					return errors.New("test ended")
				case <-tick.C:
				}
			}
		},
	})
	// The SDK sends heartbeats at most every 0.8 × the heartbeat timeout:
	// a short timeout delivers the cancellation quickly.
	run := start(t, c, tq, tq+"-wf", CancelActivityWorkflow, time.Second)
	select {
	case <-started:
	case <-testutil.Context(t, 20*time.Second).Done():
		t.Fatal("activity never started")
	}
	signal(t, c, run.GetID(), "cancel", nil)
	var got string
	getResult(t, run, &got)
	if got != "activity canceled" {
		t.Fatalf("workflow saw %q, want activity canceled", got)
	}
	select {
	case err := <-sawCancel:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("activity context ended with %v, want context.Canceled", err)
		}
	default:
		t.Error("the activity never saw its context cancelled")
	}
	h := history(t, c, run.GetID(), run.GetRunID())
	types := eventTypes(h)
	req, st, canceled := slices.Index(types, evActCancelReq), slices.Index(types, evActStarted), slices.Index(types, evActCanceled)
	if req < 0 || st < 0 || canceled < 0 || canceled < req {
		t.Fatalf("want ActivityTaskCancelRequested, ActivityTaskStarted and then ActivityTaskCanceled: %v", types)
	}
	if a := h.Events[canceled].GetActivityTaskCanceledEventAttributes(); a.LatestCancelRequestedEventId != h.Events[req].EventId ||
		a.StartedEventId != h.Events[st].EventId {
		t.Errorf("ActivityTaskCanceled names cancel request %d and start %d, want %d and %d",
			a.LatestCancelRequestedEventId, a.StartedEventId, h.Events[req].EventId, h.Events[st].EventId)
	}
	rec.add(t, c, "cancel-activity", run.GetID(), run.GetRunID(), CancelActivityWorkflow)
}

// Cancelling a child through its context: RequestCancelExternal (child
// only) reaches the child, which ends canceled, and the parent sees a
// ChildWorkflowExecutionError wrapping a CanceledError.
func testCancelChild(t *testing.T, c client.Client, rec *replayLog) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{CancelChildWorkflow, ChildWorkflow}, nil)
	childID := tq + "-child"
	run := start(t, c, tq, tq+"-parent", CancelChildWorkflow, childID)
	var got string
	getResult(t, run, &got)
	if got != "CanceledError" {
		t.Fatalf("parent saw %q, want CanceledError", got)
	}
	h := history(t, c, run.GetID(), run.GetRunID())
	types := eventTypes(h)
	for _, want := range []enumspb.EventType{
		enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
		enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
		enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED,
	} {
		if !slices.Contains(types, want) {
			t.Errorf("parent history lacks %v: %v", want, types)
		}
	}
	child := describe(t, c, childID, "").WorkflowExecutionInfo
	if child.Status != enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED {
		t.Errorf("child status %v, want CANCELED", child.Status)
	}
	ch := history(t, c, childID, child.Execution.GetRunId())
	if reqs := eventsOf(ch, evCancelReq); len(reqs) != 1 ||
		reqs[0].GetWorkflowExecutionCancelRequestedEventAttributes().GetExternalWorkflowExecution().GetWorkflowId() != run.GetID() {
		t.Errorf("child's cancel requests %v, want one naming the parent", reqs)
	}
	rec.add(t, c, "cancel-child-parent", run.GetID(), run.GetRunID(), CancelChildWorkflow, ChildWorkflow)
	rec.add(t, c, "cancel-child-child", childID, child.Execution.GetRunId(), ChildWorkflow)
}

// SignalExternalWorkflowExecution and RequestCancelExternalWorkflowExecution
// between unrelated workflows: the target gets the signal (naming the
// sender) or the cancellation request; a missing target fails the signal.
func testExternalSignalAndCancel(t *testing.T, c client.Client, rec *replayLog) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{SignalExternalWorkflow, CancelExternalWorkflow, WaitSignalWorkflow, ChildWorkflow}, nil)

	target := start(t, c, tq, tq+"-signal-target", WaitSignalWorkflow)
	sender := start(t, c, tq, tq+"-signaler", SignalExternalWorkflow, target.GetID(), "hello")
	var got string
	getResult(t, target, &got)
	if got != "hello" {
		t.Errorf("target got %q, want hello", got)
	}
	getResult(t, sender, &got)
	if !strings.HasPrefix(got, "signaled; missing: ") {
		t.Errorf("signaler returned %q", got)
	}
	h := history(t, c, target.GetID(), target.GetRunID())
	if sigs := eventsOf(h, evSignaled); len(sigs) != 1 ||
		sigs[0].GetWorkflowExecutionSignaledEventAttributes().GetExternalWorkflowExecution().GetWorkflowId() != sender.GetID() {
		t.Errorf("target's signals %v, want one naming the sender", sigs)
	}
	sh := history(t, c, sender.GetID(), sender.GetRunID())
	if n := len(eventsOf(sh, enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED)); n != 1 {
		t.Errorf("%d ExternalWorkflowExecutionSignaled events, want 1: %v", n, eventTypes(sh))
	}
	if n := len(eventsOf(sh, enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED)); n != 1 {
		t.Errorf("%d SignalExternalWorkflowExecutionFailed events, want 1 (the missing target): %v", n, eventTypes(sh))
	}
	rec.add(t, c, "signal-external-sender", sender.GetID(), sender.GetRunID(), SignalExternalWorkflow)
	rec.add(t, c, "signal-external-target", target.GetID(), target.GetRunID(), WaitSignalWorkflow)

	victim := start(t, c, tq, tq+"-cancel-target", ChildWorkflow, "sleep")
	waitTimerStarted(t, c, victim.GetID(), victim.GetRunID())
	canceler := start(t, c, tq, tq+"-canceler", CancelExternalWorkflow, victim.GetID())
	getResult(t, canceler, &got)
	var canceled *temporal.CanceledError
	if err := victim.Get(testutil.Context(t, 30*time.Second), nil); !errors.As(err, &canceled) {
		t.Fatalf("cancelled target ended with %v, want a CanceledError", err)
	}
	vh := history(t, c, victim.GetID(), victim.GetRunID())
	if reqs := eventsOf(vh, evCancelReq); len(reqs) != 1 ||
		reqs[0].GetWorkflowExecutionCancelRequestedEventAttributes().GetExternalWorkflowExecution().GetWorkflowId() != canceler.GetID() {
		t.Errorf("target's cancel requests %v, want one naming the canceler", reqs)
	}
	rec.add(t, c, "cancel-external-canceler", canceler.GetID(), canceler.GetRunID(), CancelExternalWorkflow)
	rec.add(t, c, "cancel-external-target", victim.GetID(), victim.GetRunID(), ChildWorkflow)
}
