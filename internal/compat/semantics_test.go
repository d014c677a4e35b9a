package compat

import (
	"errors"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/raftflow/engine/internal/testutil"
)

func NamedChildWorkflow(ctx workflow.Context, name string) (string, error) {
	return "child:" + name, nil
}

func ParentWorkflow(ctx workflow.Context, name string) (string, error) {
	var out string
	err := workflow.ExecuteChildWorkflow(ctx, NamedChildWorkflow, name).Get(ctx, &out)
	return "parent(" + out + ")", err
}

func TestChildWorkflow(t *testing.T) {
	c := startEngine(t).Client()
	tq := startQueueWorker(t, c, func(w worker.Registry) {
		w.RegisterWorkflow(ParentWorkflow)
		w.RegisterWorkflow(NamedChildWorkflow)
	})
	run, err := c.ExecuteWorkflow(testutil.Context(t, 20*time.Second), client.StartWorkflowOptions{TaskQueue: tq}, ParentWorkflow, "x")
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(testutil.Context(t, 20*time.Second), &got); err != nil {
		t.Fatal(err)
	}
	if got != "parent(child:x)" {
		t.Fatalf("got %q", got)
	}
}

func CounterWorkflow(ctx workflow.Context, n int) (int, error) {
	if n < 3 {
		return 0, workflow.NewContinueAsNewError(ctx, CounterWorkflow, n+1)
	}
	return n, nil
}

func TestContinueAsNew(t *testing.T) {
	c := startEngine(t).Client()
	tq := startQueueWorker(t, c, func(w worker.Registry) { w.RegisterWorkflow(CounterWorkflow) })
	run, err := c.ExecuteWorkflow(testutil.Context(t, 20*time.Second), client.StartWorkflowOptions{TaskQueue: tq}, CounterWorkflow, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got int
	if err := run.Get(testutil.Context(t, 20*time.Second), &got); err != nil {
		t.Fatal(err)
	}
	if got != 3 {
		t.Fatalf("got %d", got)
	}
}

func QueryableWorkflow(ctx workflow.Context) (string, error) {
	state := "waiting"
	if err := workflow.SetQueryHandler(ctx, "state", func() (string, error) { return state, nil }); err != nil {
		return "", err
	}
	var sig string
	workflow.GetSignalChannel(ctx, "go").Receive(ctx, &sig)
	state = "got " + sig
	return state, nil
}

func TestQueryAndSignalWithStart(t *testing.T) {
	c := startEngine(t).Client()
	tq := startQueueWorker(t, c, func(w worker.Registry) { w.RegisterWorkflow(QueryableWorkflow) })
	ctx := testutil.Context(t, 30*time.Second)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "q1", TaskQueue: tq}, QueryableWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.QueryWorkflow(ctx, "q1", "", "state")
	if err != nil {
		t.Fatal(err)
	}
	var st string
	if err := v.Get(&st); err != nil || st != "waiting" {
		t.Fatalf("query: %q %v", st, err)
	}
	// Signal-with-start on a running workflow signals it.
	if _, err := c.SignalWithStartWorkflow(ctx, "q1", "go", "now", client.StartWorkflowOptions{TaskQueue: tq}, QueryableWorkflow); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil || got != "got now" {
		t.Fatalf("result %q %v", got, err)
	}
	// Query a closed workflow.
	v, err = c.QueryWorkflow(ctx, "q1", "", "state")
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Get(&st); err != nil || st != "got now" {
		t.Fatalf("query after close: %q %v", st, err)
	}
	// Signal-with-start of a new workflow id starts it with the signal.
	run2, err := c.SignalWithStartWorkflow(ctx, "q2", "go", "early", client.StartWorkflowOptions{TaskQueue: tq}, QueryableWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	if err := run2.Get(ctx, &got); err != nil || got != "got early" {
		t.Fatalf("result %q %v", got, err)
	}
}

func CancellableWorkflow(ctx workflow.Context) (string, error) {
	err := workflow.Sleep(ctx, time.Hour)
	if temporal.IsCanceledError(err) {
		// Cleanup in a disconnected context, as Temporal workflows do.
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		_ = workflow.Sleep(dctx, time.Millisecond)
		return "", err
	}
	return "slept", err
}

func TestCancelWorkflow(t *testing.T) {
	c := startEngine(t).Client()
	tq := startQueueWorker(t, c, func(w worker.Registry) { w.RegisterWorkflow(CancellableWorkflow) })
	ctx := testutil.Context(t, 30*time.Second)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: tq}, CancellableWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CancelWorkflow(ctx, run.GetID(), ""); err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, nil)
	var canceled *temporal.CanceledError
	if !errors.As(err, &canceled) {
		t.Fatalf("want CanceledError, got %v", err)
	}
	d, err := c.DescribeWorkflowExecution(ctx, run.GetID(), "")
	if err != nil {
		t.Fatal(err)
	}
	if s := d.WorkflowExecutionInfo.Status; s != enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED {
		t.Fatalf("status %v", s)
	}
}

func FlakyWorkflow(ctx workflow.Context) (int32, error) {
	attempt := workflow.GetInfo(ctx).Attempt
	if attempt < 3 {
		return 0, errors.New("not yet")
	}
	return attempt, nil
}

func TestWorkflowRetry(t *testing.T) {
	c := startEngine(t).Client()
	tq := startQueueWorker(t, c, func(w worker.Registry) { w.RegisterWorkflow(FlakyWorkflow) })
	ctx := testutil.Context(t, 30*time.Second)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: tq, RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: 50 * time.Millisecond, BackoffCoefficient: 1, MaximumAttempts: 5,
	}}, FlakyWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	var got int32
	if err := run.Get(ctx, &got); err != nil || got != 3 {
		t.Fatalf("got %d %v", got, err)
	}
}

// The update tests run CounterUpdateWorkflow (features_workflows_test.go).

func TestUpdate(t *testing.T) {
	c := startEngine(t).Client()
	tq := startQueueWorker(t, c, func(w worker.Registry) { w.RegisterWorkflow(CounterUpdateWorkflow) })
	ctx := testutil.Context(t, 30*time.Second)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "u1", TaskQueue: tq}, CounterUpdateWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range []int{2, 3} {
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: "u1", UpdateName: "add", Args: []interface{}{n}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := h.Get(ctx, &got); err != nil {
			t.Fatal(err)
		}
		if want := []int{2, 5}[i]; got != want {
			t.Fatalf("update %d: got %d want %d", i, got, want)
		}
	}
	// Rejected by the validator.
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: "u1", UpdateName: "add", Args: []interface{}{-1}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	if err == nil {
		t.Fatal("negative update was not rejected")
	}
	// Accepted-stage wait, then poll for the result through the handle.
	h, err = c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: "u1", UpdateID: "u-last", UpdateName: "add", Args: []interface{}{10}, WaitForStage: client.WorkflowUpdateStageAccepted,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got int
	if err := h.Get(ctx, &got); err != nil || got != 15 {
		t.Fatalf("accepted-stage update: %d %v", got, err)
	}
	if err := c.SignalWorkflow(ctx, "u1", "", "done", nil); err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, &got); err != nil || got != 15 {
		t.Fatalf("result %d %v", got, err)
	}
}

func TestUpdateUnknownNameIsRejected(t *testing.T) {
	c := startEngine(t).Client()
	tq := startQueueWorker(t, c, func(w worker.Registry) { w.RegisterWorkflow(CounterUpdateWorkflow) })
	ctx := testutil.Context(t, 30*time.Second)
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "u2", TaskQueue: tq}, CounterUpdateWorkflow); err != nil {
		t.Fatal(err)
	}
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: "u2", UpdateName: "nope", WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		t.Fatalf("want the worker's rejection (ApplicationError), got %v", err)
	}
}
