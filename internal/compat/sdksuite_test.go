package compat

// Regressions found by the official Go SDK's integration suite
// (../shared/sdk-suite, issue 18): each test reproduces one bug with the
// smallest workflow that showed it.

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/raftflow/engine/internal/testutil"
)

// SlowLocalActivityWorkflow runs one local activity that outlives its
// workflow task timeout.
func SlowLocalActivityWorkflow(ctx workflow.Context, d time.Duration) (string, error) {
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 30 * time.Second})
	var out string
	err := workflow.ExecuteLocalActivity(ctx, SlowLocal, d).Get(ctx, &out)
	return out, err
}

// SlowLocal sleeps d and answers "slept".
func SlowLocal(ctx context.Context, d time.Duration) (string, error) {
	select {
	case <-time.After(d):
		return "slept", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// A local activity longer than the workflow task timeout: the SDK keeps
// the task alive by completing it with force_create_new_workflow_task and
// return_new_workflow_task and carries on in the task it gets back. The
// engine used to queue that task instead of returning it, so the result
// never landed and the task timed out over and over.
func testLongLocalActivity(t *testing.T, c client.Client) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{SlowLocalActivityWorkflow}, map[string]any{"SlowLocal": SlowLocal})
	ctx := testutil.Context(t, 30*time.Second)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: tq, TaskQueue: tq, WorkflowTaskTimeout: time.Second},
		SlowLocalActivityWorkflow, 2500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil || got != "slept" {
		t.Fatalf("result %q, %v; want slept", got, err)
	}
	h := history(t, c, run.GetID(), run.GetRunID())
	checkHistory(t, h)
	for _, ev := range h.Events {
		if ev.GetWorkflowTaskTimedOutEventAttributes() != nil {
			t.Fatalf("a workflow task timed out (event %d): the heartbeat's task was not returned", ev.EventId)
		}
	}
}
