package compat

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/raftflow/engine/internal/testutil"
)

// closeEvent returns a closed run's last event.
func closeEvent(t *testing.T, h *historypb.History) *historypb.HistoryEvent {
	t.Helper()
	if len(h.Events) == 0 {
		t.Fatal("empty history")
	}
	return h.Events[len(h.Events)-1]
}

// Continue-as-new: each run carries its input (and the retry policy) to
// the next; the SDK's Get on the first run id follows the chain to the last
// run's result; the runs are linked (continued / first execution run ids)
// and the closed ones say CONTINUED_AS_NEW.
func testContinueAsNewChain(t *testing.T, c client.Client, rec *replayLog) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{ChainWorkflow}, nil)
	run := startWith(t, c, client.StartWorkflowOptions{
		ID: tq + "-wf", TaskQueue: tq, RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3},
	}, ChainWorkflow, chainInput{Step: 1, Last: 3})
	want := []string{"step 1", "step 2", "step 3"}
	var got []string
	getResult(t, c.GetWorkflow(testutil.Context(t, 10*time.Second), run.GetID(), run.GetRunID()), &got)
	if !slices.Equal(got, want) {
		t.Fatalf("Get on the first run id returned %q, want %q", got, want)
	}
	// Walk the chain through the histories.
	runIDs := []string{run.GetRunID()}
	for i := 0; i < 2; i++ {
		h := history(t, c, run.GetID(), runIDs[i])
		last := closeEvent(t, h)
		if last.EventType != evContinuedAsNew {
			t.Fatalf("run %d ends with %v, want WorkflowExecutionContinuedAsNew", i+1, last.EventType)
		}
		a := last.GetWorkflowExecutionContinuedAsNewEventAttributes()
		var carried chainInput
		if err := converter.GetDefaultDataConverter().FromPayloads(a.Input, &carried); err != nil {
			t.Fatalf("decode continue-as-new input: %v", err)
		}
		if carried.Step != i+2 || !slices.Equal(carried.Trail, want[:i+1]) {
			t.Errorf("run %d carries %+v, want step %d with trail %q", i+1, carried, i+2, want[:i+1])
		}
		if info := describe(t, c, run.GetID(), runIDs[i]).WorkflowExecutionInfo; info.Status != enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW {
			t.Errorf("run %d status %v, want CONTINUED_AS_NEW", i+1, info.Status)
		}
		rec.add(t, c, fmt.Sprintf("continue-as-new-run%d", i+1), run.GetID(), runIDs[i], ChainWorkflow)
		runIDs = append(runIDs, a.NewExecutionRunId)
	}
	h := history(t, c, run.GetID(), runIDs[2])
	sa := h.Events[0].GetWorkflowExecutionStartedEventAttributes()
	if sa.ContinuedExecutionRunId != runIDs[1] || sa.FirstExecutionRunId != runIDs[0] ||
		sa.Initiator != enumspb.CONTINUE_AS_NEW_INITIATOR_WORKFLOW {
		t.Errorf("last run started with continued %q first %q initiator %v, want %q %q WORKFLOW",
			sa.ContinuedExecutionRunId, sa.FirstExecutionRunId, sa.Initiator, runIDs[1], runIDs[0])
	}
	if sa.RetryPolicy.GetMaximumAttempts() != 3 || sa.Attempt != 1 {
		t.Errorf("last run's retry policy %v attempt %d, want the chain's policy (3 attempts) and attempt 1", sa.RetryPolicy, sa.Attempt)
	}
	if info := describe(t, c, run.GetID(), "").WorkflowExecutionInfo; info.Execution.GetRunId() != runIDs[2] ||
		info.Status != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED || info.FirstRunId != runIDs[0] {
		t.Errorf("current run %s status %v first run %s, want %s COMPLETED %s",
			info.Execution.GetRunId(), info.Status, info.FirstRunId, runIDs[2], runIDs[0])
	}
	rec.add(t, c, "continue-as-new-run3", run.GetID(), runIDs[2], ChainWorkflow)
}

// Workflow retry policy: each attempt is a new run whose workflow.GetInfo
// shows its attempt and whose GetLastError is the previous attempt's
// failure; Get on the first run id follows the retries; when the attempts
// run out the client sees the last failure with MAXIMUM_ATTEMPTS_REACHED.
func testWorkflowRetry(t *testing.T, c client.Client, rec *replayLog) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{RetriedWorkflow}, nil)
	policy := &temporal.RetryPolicy{InitialInterval: 50 * time.Millisecond, BackoffCoefficient: 1, MaximumAttempts: 4}
	run := startWith(t, c, client.StartWorkflowOptions{ID: tq + "-ok", TaskQueue: tq, RetryPolicy: policy}, RetriedWorkflow, int32(3))
	firstRun := run.GetRunID() // Get moves the handle along the chain
	var got string
	getResult(t, run, &got)
	if want := `succeeded on attempt 3 after "attempt 2 failed"`; got != want {
		t.Fatalf("result %q, want %q", got, want)
	}
	first := history(t, c, run.GetID(), firstRun)
	failed := closeEvent(t, first).GetWorkflowExecutionFailedEventAttributes()
	if failed == nil || failed.RetryState != enumspb.RETRY_STATE_IN_PROGRESS || failed.NewExecutionRunId == "" {
		t.Fatalf("first run closes with %v, want WorkflowExecutionFailed, retry in progress, naming the next run", closeEvent(t, first))
	}
	last := describe(t, c, run.GetID(), "").WorkflowExecutionInfo
	h := history(t, c, run.GetID(), last.Execution.GetRunId())
	if sa := h.Events[0].GetWorkflowExecutionStartedEventAttributes(); sa.Attempt != 3 ||
		sa.Initiator != enumspb.CONTINUE_AS_NEW_INITIATOR_RETRY || sa.FirstExecutionRunId != firstRun {
		t.Errorf("last run started with attempt %d initiator %v first run %q, want 3 RETRY %q",
			sa.Attempt, sa.Initiator, sa.FirstExecutionRunId, firstRun)
	}
	rec.add(t, c, "workflow-retry-attempt1", run.GetID(), firstRun, RetriedWorkflow)
	rec.add(t, c, "workflow-retry-attempt3", run.GetID(), last.Execution.GetRunId(), RetriedWorkflow)

	policy = &temporal.RetryPolicy{InitialInterval: 50 * time.Millisecond, BackoffCoefficient: 1, MaximumAttempts: 2}
	run = startWith(t, c, client.StartWorkflowOptions{ID: tq + "-exhausted", TaskQueue: tq, RetryPolicy: policy}, RetriedWorkflow, int32(5))
	wfErr := wantErrAs[*temporal.WorkflowExecutionError](t, run)
	var app *temporal.ApplicationError
	if !errors.As(wfErr, &app) || app.Error() != "attempt 2 failed" {
		t.Errorf("exhausted retries: %v, want the second attempt's failure", wfErr)
	}
	info := describe(t, c, run.GetID(), "").WorkflowExecutionInfo
	h = history(t, c, run.GetID(), info.Execution.GetRunId())
	checkHistory(t, h)
	if a := closeEvent(t, h).GetWorkflowExecutionFailedEventAttributes(); a.GetRetryState() != enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED {
		t.Errorf("last run closes with retry state %v, want MAXIMUM_ATTEMPTS_REACHED", a.GetRetryState())
	}
}
