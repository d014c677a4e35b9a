package compat

// Regressions found by the official Go SDK's integration suite
// (../shared/sdk-suite, issue 18): each test reproduces one bug with the
// smallest workflow that showed it.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
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

// MetadataWorkflow runs a timer, an activity and a child, each with a
// summary, then returns.
func MetadataWorkflow(ctx workflow.Context, child bool) error {
	if !child {
		return nil
	}
	if err := workflow.NewTimerWithOptions(ctx, time.Millisecond, workflow.TimerOptions{Summary: "nap"}).Get(ctx, nil); err != nil {
		return err
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second, Summary: "step one"})
	if err := workflow.ExecuteActivity(actx, "Step", "one").Get(ctx, nil); err != nil {
		return err
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID + "-child", StaticSummary: "the child"})
	return workflow.ExecuteChildWorkflow(cctx, MetadataWorkflow, false).Get(ctx, nil)
}

// user_metadata: the summary and details of a start, and the summary of a
// timer, an activity and a child command, are on their history events and
// the start's in Describe (the Web UI shows them); the child's own Started
// event carries its command's summary. They were dropped.
func testUserMetadata(t *testing.T, c client.Client) {
	tq := taskQueue(t)
	step := &stepActivity{}
	startWorker(t, c, tq, []any{MetadataWorkflow}, map[string]any{"Step": step.run})
	ctx := testutil.Context(t, 30*time.Second)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: tq, TaskQueue: tq,
		StaticSummary: "the top", StaticDetails: "details of the top"}, MetadataWorkflow, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	text := func(p *commonpb.Payload) string {
		if p == nil {
			return ""
		}
		var s string
		if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	summaries := map[enumspb.EventType]string{}
	for _, ev := range history(t, c, run.GetID(), run.GetRunID()).Events {
		if s := text(ev.GetUserMetadata().GetSummary()); s != "" {
			summaries[ev.EventType] = s
		}
	}
	want := map[enumspb.EventType]string{
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:               "the top",
		enumspb.EVENT_TYPE_TIMER_STARTED:                            "nap",
		enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:                  "step one",
		enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: "the child",
	}
	if !maps.Equal(summaries, want) {
		t.Fatalf("summaries by event %v, want %v", summaries, want)
	}
	child := history(t, c, tq+"-child", "").Events[0]
	if got := text(child.GetUserMetadata().GetSummary()); got != "the child" {
		t.Fatalf("child's Started event summary %q, want the child", got)
	}
	cfg := describe(t, c, run.GetID(), run.GetRunID()).GetExecutionConfig()
	if s, d := text(cfg.GetUserMetadata().GetSummary()), text(cfg.GetUserMetadata().GetDetails()); s != "the top" || d != "details of the top" {
		t.Fatalf("described summary %q details %q", s, d)
	}
}

// ConsistentStateWorkflow answers the "state" query; each "sig" signal
// takes d (a local activity) to become the state, until "stop".
func ConsistentStateWorkflow(ctx workflow.Context, d time.Duration) error {
	state := "initial"
	if err := workflow.SetQueryHandler(ctx, "state", func() (string, error) { return state, nil }); err != nil {
		return err
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 30 * time.Second})
	ch := workflow.GetSignalChannel(ctx, "sig")
	for {
		var s string
		ch.Receive(ctx, &s)
		if s == "stop" {
			return nil
		}
		if err := workflow.ExecuteLocalActivity(lctx, SlowLocal, d).Get(ctx, nil); err != nil {
			return err
		}
		state = s
	}
}

// A query sent after a signal sees the signal's effect (Temporal's
// consistent query): while the workflow task that carries the signal is
// scheduled or running, the query waits for it. It used to go to a worker
// at once and answer the state before the signal.
func testConsistentQuery(t *testing.T, c client.Client) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{ConsistentStateWorkflow}, map[string]any{"SlowLocal": SlowLocal})
	ctx := testutil.Context(t, 30*time.Second)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: tq, TaskQueue: tq}, ConsistentStateWorkflow, 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	waitWorkflowTaskCompleted(t, c, run.GetID(), run.GetRunID(), 1)
	for _, s := range []string{"one", "two"} {
		signal(t, c, run.GetID(), "sig", s)
		if got := query(t, c, run.GetID(), run.GetRunID(), "state"); got != s {
			t.Fatalf("query after signal %q answered %q", s, got)
		}
	}
	signal(t, c, run.GetID(), "sig", "stop")
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

// LargeQueryWorkflow answers the "large" query with n bytes and waits for
// "stop".
func LargeQueryWorkflow(ctx workflow.Context, n int) error {
	if err := workflow.SetQueryHandler(ctx, "large", func() ([]byte, error) { return make([]byte, n), nil }); err != nil {
		return err
	}
	workflow.GetSignalChannel(ctx, "stop").Receive(ctx, nil)
	return nil
}

// A query result over the payload limit fails the query with Temporal's
// own text, which clients compare (it used to be ours).
func testLargeQueryResult(t *testing.T, c client.Client) {
	tq := taskQueue(t)
	testutil.StartWorker(t, c, tq, func(r worker.Registry) { r.RegisterWorkflow(LargeQueryWorkflow) },
		func(o *worker.Options) { o.DisablePayloadErrorLimit = true })
	ctx := testutil.Context(t, 30*time.Second)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: tq, TaskQueue: tq}, LargeQueryWorkflow, 3<<20)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), "large")
	var failed *serviceerror.QueryFailed
	if !errors.As(err, &failed) || err.Error() != "Blob data size exceeds limit." {
		t.Fatalf("query of a 3 MiB answer: %v (%T), want QueryFailed %q", err, err, "Blob data size exceeds limit.")
	}
	signal(t, c, run.GetID(), "stop", nil)
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
}
