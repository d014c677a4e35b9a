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
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/raftflow/engine/internal/testutil"
)

// TestCron runs CronTickWorkflow (features_workflows_test.go), which counts
// its runs through the cron chain's last completion result.
func TestCron(t *testing.T) {
	addr := startRetentionEngine(t)
	c := dial(t, addr)
	tq := startQueueWorker(t, c, func(w worker.Registry) { w.RegisterWorkflow(CronTickWorkflow) })
	ctx := testutil.Context(t, 30*time.Second)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "ticker", TaskQueue: tq, CronSchedule: "@every 1s"}, CronTickWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	// Runs complete one after the other, each handing its count on.
	testutil.Eventually(t, 15*time.Second, "three cron runs", func() (bool, string) {
		ids := listIDs(t, c, "WorkflowId = 'ticker' AND ExecutionStatus = 'Completed'", 0)
		return len(ids) >= 3, strings.Join(ids, ",")
	})
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: "WorkflowId = 'ticker' ORDER BY StartTime ASC"})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range resp.Executions[:3] {
		if i > 0 && e.GetExecutionTime().AsTime().Sub(e.GetStartTime().AsTime()) <= 0 {
			t.Errorf("run %d has no cron backoff: start %v execution %v", i, e.GetStartTime().AsTime(), e.GetExecutionTime().AsTime())
		}
		var n int
		if err := c.GetWorkflow(ctx, "ticker", e.GetExecution().GetRunId()).GetWithOptions(ctx, &n, client.WorkflowRunGetOptions{DisableFollowingRuns: true}); err != nil || n != i+1 {
			t.Errorf("run %d returned %d, %v", i, n, err)
		}
	}
	if err := c.TerminateWorkflow(ctx, "ticker", "", "enough"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := run.Get(ctx, &n); !errors.As(err, new(*temporal.TerminatedError)) {
		t.Fatalf("following the cron chain: %v", err)
	}

	// A bad schedule is refused up front.
	_, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: tq, CronSchedule: "every day"}, CronTickWorkflow)
	if !errors.As(err, new(*serviceerror.InvalidArgument)) || !strings.Contains(err.Error(), "cron_schedule") {
		t.Fatalf("bad schedule: %v", err)
	}
}

func Greeter(ctx workflow.Context) (string, error) {
	var who string
	workflow.GetSignalChannel(ctx, "name").Receive(ctx, &who)
	return "hello " + who, nil
}

func TestStartDelay(t *testing.T) {
	addr := startRetentionEngine(t)
	c := dial(t, addr)
	tq := startQueueWorker(t, c, func(w worker.Registry) { w.RegisterWorkflow(Greeter) })
	ctx := testutil.Context(t, 30*time.Second)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "delayed", TaskQueue: tq, StartDelay: time.Hour}, Greeter)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeWorkflowExecution(ctx, "delayed", "")
	if err != nil {
		t.Fatal(err)
	}
	if gap := d.WorkflowExecutionInfo.GetExecutionTime().AsTime().Sub(d.WorkflowExecutionInfo.GetStartTime().AsTime()); gap != time.Hour {
		t.Fatalf("execution time - start time = %v, want the delay", gap)
	}
	// A signal ends the delay early.
	if err := c.SignalWorkflow(ctx, "delayed", "", "name", "raftflow"); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil || got != "hello raftflow" {
		t.Fatalf("result %q, %v", got, err)
	}
}

func Big(ctx workflow.Context, what string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	switch what {
	case "activity":
		var s string
		err := workflow.ExecuteActivity(ctx, BigResult).Get(ctx, &s)
		return "", err
	case "result":
		return strings.Repeat("x", 3<<20), nil
	}
	return "small", nil
}

func BigResult() (string, error) { return strings.Repeat("y", 3<<20), nil }

func TestPayloadLimit(t *testing.T) {
	addr := startRetentionEngine(t)
	c := dial(t, addr)
	tq := startQueueWorker(t, c, func(w worker.Registry) {
		w.RegisterWorkflow(Big)
		w.RegisterActivity(BigResult)
	})
	ctx := testutil.Context(t, 40*time.Second)
	huge := strings.Repeat("z", 3<<20)

	// Start input over 2 MiB: InvalidArgument naming the field.
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: tq}, Big, huge)
	var inv *serviceerror.InvalidArgument
	if !errors.As(err, &inv) || !strings.Contains(err.Error(), "input") || !strings.Contains(err.Error(), "size limit") {
		t.Fatalf("big start input: %v", err)
	}
	// Signal input likewise; the workflow is untouched.
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "small", TaskQueue: tq, StartDelay: time.Hour}, Big, "small")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SignalWorkflow(ctx, "small", "", "s", huge); !errors.As(err, &inv) || !strings.Contains(err.Error(), "input") {
		t.Fatalf("big signal: %v", err)
	}
	if err := c.TerminateWorkflow(ctx, "small", run.GetRunID(), "done"); err != nil {
		t.Fatal(err)
	}
	// An activity result over the limit fails the activity, not retried.
	run, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: tq}, Big, "activity")
	if err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, nil)
	var actErr *temporal.ActivityError
	if !errors.As(err, &actErr) || !strings.Contains(err.Error(), "exceeds size limit") {
		t.Fatalf("big activity result: %v", err)
	}
	// A workflow result over the limit: the task fails and the workflow is
	// terminated, as Temporal does.
	run, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: tq}, Big, "result")
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); !errors.As(err, new(*temporal.TerminatedError)) {
		t.Fatalf("big workflow result: %v", err)
	}
	d, err := c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	if err != nil || d.WorkflowExecutionInfo.Status != enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED {
		t.Fatalf("describe: %v %v", d, err)
	}
	it := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	ev, err := it.Next()
	if err != nil {
		t.Fatal(err)
	}
	if r := ev.GetWorkflowExecutionTerminatedEventAttributes().GetReason(); !strings.HasPrefix(r, "BadCompleteWorkflowExecutionAttributes: CompleteWorkflowExecutionCommandAttributes.Result exceeds size limit.") {
		t.Fatalf("termination reason %q", r)
	}
}
