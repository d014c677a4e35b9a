package compat

import (
	"errors"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/raftflow/engine/internal/testutil"
)

// query runs a query and decodes its string answer.
func query(t *testing.T, c client.Client, id, runID, name string) string {
	t.Helper()
	v, err := c.QueryWorkflow(testutil.Context(t, 20*time.Second), id, runID, name)
	if err != nil {
		t.Fatalf("query %s on %s: %v", name, id, err)
	}
	var s string
	if err := v.Get(&s); err != nil {
		t.Fatalf("decode %s answer: %v", name, err)
	}
	return s
}

// The SDK's built-in __stack_trace query on a running workflow shows where
// the workflow is blocked.
func testQueryStackTrace(t *testing.T, c client.Client, _ *replayLog) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{QueryStateWorkflow}, nil)
	run := start(t, c, tq, tq+"-wf", QueryStateWorkflow)
	trace := query(t, c, run.GetID(), run.GetRunID(), "__stack_trace")
	for _, want := range []string{"coroutine root", "blocked on sig.Receive", "QueryStateWorkflow"} {
		if !strings.Contains(trace, want) {
			t.Errorf("__stack_trace answer lacks %q:\n%s", want, trace)
		}
	}
	if got := query(t, c, run.GetID(), "", "state"); got != "waiting" {
		t.Errorf("state query %q, want waiting", got)
	}
	signal(t, c, run.GetID(), "sig", "done")
	getResult(t, run, nil)
	checkHistory(t, history(t, c, run.GetID(), run.GetRunID()))
}

// A closed workflow is queried by replaying its history on a worker: the
// answer reflects its final state.
func testQueryClosed(t *testing.T, c client.Client, _ *replayLog) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{QueryStateWorkflow}, nil)
	run := start(t, c, tq, tq+"-wf", QueryStateWorkflow)
	signal(t, c, run.GetID(), "sig", "final")
	getResult(t, run, nil)
	if got := query(t, c, run.GetID(), run.GetRunID(), "state"); got != "got final" {
		t.Errorf("state query on the closed run %q, want %q", got, "got final")
	}
	// An unknown query type is the worker's error, reported as QueryFailed.
	_, err := c.QueryWorkflow(testutil.Context(t, 20*time.Second), run.GetID(), run.GetRunID(), "no-such-query")
	var failed *serviceerror.QueryFailed
	if !errors.As(err, &failed) || !strings.Contains(err.Error(), "no-such-query") {
		t.Errorf("unknown query: %v (%T), want QueryFailed naming the query type", err, err)
	}
	checkHistory(t, history(t, c, run.GetID(), run.GetRunID()))
}

// With no worker on the workflow's task queue a query fails with a clear
// error once the caller's deadline (less a margin) has passed, and leaves
// nothing behind: a worker started later answers the next query.
func testQueryNoWorker(t *testing.T, c client.Client, _ *replayLog) {
	tq := taskQueue(t)
	stop := startWorker(t, c, tq, []any{QueryStateWorkflow}, nil)
	run := start(t, c, tq, tq+"-wf", QueryStateWorkflow)
	waitWorkflowTaskCompleted(t, c, run.GetID(), run.GetRunID(), 1)
	stop()

	const deadline = 3 * time.Second
	began := time.Now()
	_, err := c.QueryWorkflow(testutil.Context(t, deadline), run.GetID(), run.GetRunID(), "state")
	took := time.Since(began)
	var dl *serviceerror.DeadlineExceeded
	if !errors.As(err, &dl) || !strings.Contains(err.Error(), "no worker") || !strings.Contains(err.Error(), tq) {
		t.Fatalf("query without a worker: %v (%T), want DeadlineExceeded saying no worker answered on %s", err, err, tq)
	}
	if took >= deadline {
		t.Errorf("query answered after %v, not before the caller's %v deadline", took, deadline)
	}

	startWorker(t, c, tq, []any{QueryStateWorkflow}, nil)
	if got := query(t, c, run.GetID(), "", "state"); got != "waiting" {
		t.Errorf("state query with a new worker %q, want waiting", got)
	}
	signal(t, c, run.GetID(), "sig", "done")
	getResult(t, run, nil)
	checkHistory(t, history(t, c, run.GetID(), run.GetRunID()))
}

// Updates through the SDK: validator rejection, the COMPLETED and ACCEPTED
// wait stages (the latter then polled for its outcome), in history as
// accepted/completed events that replay.
func testUpdate(t *testing.T, c client.Client, rec *replayLog) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{CounterUpdateWorkflow}, nil)
	run := start(t, c, tq, tq+"-wf", CounterUpdateWorkflow)
	ctx := testutil.Context(t, 30*time.Second)
	update := func(n int, stage client.WorkflowUpdateStage) (int, error) {
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: run.GetID(), UpdateName: "add", Args: []any{n}, WaitForStage: stage,
		})
		if err != nil {
			return 0, err
		}
		var got int
		err = h.Get(ctx, &got)
		return got, err
	}
	if got, err := update(2, client.WorkflowUpdateStageCompleted); err != nil || got != 2 {
		t.Fatalf("update 2 (completed stage): %d, %v", got, err)
	}
	// Settled first: no task pending (an update admitted while a task ran
	// asks for another one).
	var before int
	testutil.EventuallyTrue(t, 10*time.Second, "the workflow idle", func() bool {
		d, err := c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
		evs := history(t, c, run.GetID(), run.GetRunID()).Events
		before = len(evs)
		return err == nil && d.PendingWorkflowTask == nil
	})
	if _, err := update(-1, client.WorkflowUpdateStageCompleted); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Fatalf("update -1: %v, want the validator's rejection", err)
	}
	// A rejected update's workflow task is speculative, as on Temporal: it
	// leaves no events, and the worker rewinds its cached history.
	if h := history(t, c, run.GetID(), run.GetRunID()); len(h.Events) != before {
		t.Fatalf("the rejected update wrote events: %d before, now %s", before, eventTypes(h))
	}
	if got, err := update(3, client.WorkflowUpdateStageAccepted); err != nil || got != 5 {
		t.Fatalf("update 3 (accepted stage): %d, %v", got, err)
	}
	signal(t, c, run.GetID(), "done", nil)
	var total int
	getResult(t, run, &total)
	if total != 5 {
		t.Fatalf("total %d, want 5", total)
	}
	h := history(t, c, run.GetID(), run.GetRunID())
	accepted := eventsOf(h, evUpdateAccepted)
	completed := eventsOf(h, evUpdateCompleted)
	if len(accepted) != 2 || len(completed) != 2 {
		t.Errorf("%d accepted and %d completed update events, want 2 each (the rejected one leaves none): %v",
			len(accepted), len(completed), eventTypes(h))
	}
	rec.add(t, c, "update", run.GetID(), run.GetRunID(), CounterUpdateWorkflow)
}

// Update-with-start (ExecuteMultiOperation): starts the run and delivers the
// update on its first task; attaches to the running run under USE_EXISTING;
// refuses a running id under FAIL with Temporal's per-operation error; and
// refuses what Temporal refuses (a cron schedule) naming the start.
func testUpdateWithStart(t *testing.T, c client.Client, rec *replayLog) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{CounterUpdateWorkflow}, nil)
	ctx := testutil.Context(t, 30*time.Second)
	id := tq + "-wf"
	uws := func(policy enumspb.WorkflowIdConflictPolicy, n int, mod func(*client.StartWorkflowOptions)) (client.WorkflowUpdateHandle, error) {
		opts := client.StartWorkflowOptions{ID: id, TaskQueue: tq, WorkflowIDConflictPolicy: policy}
		if mod != nil {
			mod(&opts)
		}
		return c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: c.NewWithStartWorkflowOperation(opts, CounterUpdateWorkflow),
			UpdateOptions: client.UpdateWorkflowOptions{
				UpdateName: "add", Args: []any{n}, WaitForStage: client.WorkflowUpdateStageCompleted,
			},
		})
	}
	h, err := uws(enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL, 2, nil)
	if err != nil {
		t.Fatalf("update-with-start (no run): %v", err)
	}
	var got int
	if err := h.Get(ctx, &got); err != nil || got != 2 {
		t.Fatalf("update result %d, %v; want 2", got, err)
	}
	firstRun := h.RunID()
	if h, err = uws(enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, 3, nil); err != nil {
		t.Fatalf("update-with-start (running, USE_EXISTING): %v", err)
	}
	if err := h.Get(ctx, &got); err != nil || got != 5 || h.RunID() != firstRun {
		t.Fatalf("update result %d, %v on run %s; want 5 on the running %s", got, err, h.RunID(), firstRun)
	}
	_, err = uws(enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL, 1, nil)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if !errors.As(err, &started) || !strings.Contains(err.Error(), "Workflow execution is already running") {
		t.Fatalf("update-with-start (running, FAIL): %v (%T), want WorkflowExecutionAlreadyStarted", err, err)
	}
	_, err = uws(enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, 1, func(o *client.StartWorkflowOptions) {
		o.CronSchedule = "@every 1m"
	})
	var invalid *serviceerror.InvalidArgument
	if !errors.As(err, &invalid) || !strings.Contains(err.Error(), "CronSchedule is not allowed") {
		t.Fatalf("update-with-start with a cron schedule: %v (%T), want InvalidArgument", err, err)
	}
	signal(t, c, id, "done", nil)
	var total int
	getResult(t, c.GetWorkflow(ctx, id, firstRun), &total)
	if total != 5 {
		t.Fatalf("total %d, want 5", total)
	}
	rec.add(t, c, "update-with-start", id, firstRun, CounterUpdateWorkflow)
}

// The namespace says it serves updates, sync and async-accepted, as
// Temporal's does with its defaults (the Web UI reads these).
func testNamespaceUpdateCapabilities(t *testing.T, c client.Client, _ *replayLog) {
	ns, err := c.WorkflowService().DescribeNamespace(testutil.Context(t, 10*time.Second),
		&workflowservice.DescribeNamespaceRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if caps := ns.GetNamespaceInfo().GetCapabilities(); !caps.GetSyncUpdate() || !caps.GetAsyncUpdate() {
		t.Fatalf("namespace capabilities %v: updates not announced", caps)
	}
}
