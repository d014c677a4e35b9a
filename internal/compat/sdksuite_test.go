package compat

// Regressions found by the official Go SDK's integration suite
// (../shared/sdk-suite, issue 18): each test reproduces one bug with the
// smallest workflow that showed it.

import (
	"context"
	"fmt"
	"slices"
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

// RootChainWorkflow starts itself as a child until depth is 0; each level
// returns its root as the SDK reports it ("-" when it is the root), the
// deepest first.
func RootChainWorkflow(ctx workflow.Context, depth int) ([]string, error) {
	root := "-"
	if r := workflow.GetInfo(ctx).RootWorkflowExecution; r != nil {
		root = r.ID + "/" + r.RunID
	}
	if depth == 0 {
		return []string{root}, nil
	}
	var below []string
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: fmt.Sprintf("%s-%d", workflow.GetInfo(ctx).WorkflowExecution.ID, depth)})
	if err := workflow.ExecuteChildWorkflow(cctx, RootChainWorkflow, depth-1).Get(ctx, &below); err != nil {
		return nil, err
	}
	return append(below, root), nil
}

// Children and grandchildren know the run at the top of their chain
// (root_workflow_execution on their start event, RootExecution in
// Describe); the top run has none on its event and is its own root in
// Describe. Describe always carries memo and search_attributes, empty or
// not (the SDK's DescribeWorkflow dereferences them).
func testRootAndDescribe(t *testing.T, c client.Client) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{RootChainWorkflow}, nil)
	ctx := testutil.Context(t, 30*time.Second)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: tq, TaskQueue: tq}, RootChainWorkflow, 2)
	if err != nil {
		t.Fatal(err)
	}
	var roots []string
	if err := run.Get(ctx, &roots); err != nil {
		t.Fatal(err)
	}
	top := run.GetID() + "/" + run.GetRunID()
	if want := []string{top, top, "-"}; !slices.Equal(roots, want) {
		t.Fatalf("roots (grandchild, child, top) %v, want %v", roots, want)
	}
	grandchild := describe(t, c, tq+"-2-1", "")
	if r := grandchild.GetWorkflowExecutionInfo().GetRootExecution(); r.GetWorkflowId() != run.GetID() || r.GetRunId() != run.GetRunID() {
		t.Fatalf("grandchild's described root %v, want %s", r, top)
	}
	d, err := c.DescribeWorkflow(ctx, run.GetID(), run.GetRunID()) // panicked on a nil search_attributes
	if err != nil {
		t.Fatal(err)
	}
	if d.WorkflowExecution.ID != run.GetID() {
		t.Fatalf("describe %+v", d)
	}
	info := describe(t, c, run.GetID(), run.GetRunID()).GetWorkflowExecutionInfo()
	if info.GetSearchAttributes() == nil || info.GetMemo() == nil {
		t.Fatalf("memo %v, search attributes %v: want empty messages, not nil", info.GetMemo(), info.GetSearchAttributes())
	}
	if r := info.GetRootExecution(); r.GetWorkflowId() != run.GetID() || r.GetRunId() != run.GetRunID() {
		t.Fatalf("top run's described root %v, want itself", r)
	}
}
