package fsm

import (
	"testing"
	"time"

	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// TestContinueAsNewInitiator: the run a ContinueAsNew command starts
// records the command's initiator, WORKFLOW when the command names none
// (the SDKs leave it unset; Temporal defaults it), while the
// ContinuedAsNew event keeps the command's value, as in Temporal.
func TestContinueAsNewInitiator(t *testing.T) {
	tests := []struct {
		name      string
		initiator enumspb.ContinueAsNewInitiator
		want      enumspb.ContinueAsNewInitiator
	}{
		{"unset", enumspb.CONTINUE_AS_NEW_INITIATOR_UNSPECIFIED, enumspb.CONTINUE_AS_NEW_INITIATOR_WORKFLOW},
		{"workflow", enumspb.CONTINUE_AS_NEW_INITIATOR_WORKFLOW, enumspb.CONTINUE_AS_NEW_INITIATOR_WORKFLOW},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			first := h.start("wf")
			cmd := xContinueAsNew()
			cmd.GetContinueAsNewWorkflowExecutionCommandAttributes().Initiator = tc.initiator
			h.completeWFT("wf", cmd)

			old, next := h.f.ReadHistory(DefaultNamespace, "wf", first, 1, 0, 100)
			if next != 0 || len(old) == 0 || old[len(old)-1].EventType != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW {
				t.Fatalf("first run's history %s, want it closed by ContinuedAsNew", eventTypes(old))
			}
			can := old[len(old)-1].GetWorkflowExecutionContinuedAsNewEventAttributes()
			if can.Initiator != tc.initiator {
				t.Errorf("ContinuedAsNew initiator %v, want the command's %v", can.Initiator, tc.initiator)
			}
			evs := h.wantEvents("wf", evStarted, evWTScheduled)
			sa := evs[0].GetWorkflowExecutionStartedEventAttributes()
			if sa.Initiator != tc.want || sa.ContinuedExecutionRunId != first || sa.FirstExecutionRunId != first {
				t.Errorf("next run started with initiator %v continued %q first %q, want %v %q %q",
					sa.Initiator, sa.ContinuedExecutionRunId, sa.FirstExecutionRunId, tc.want, first, first)
			}
			if st := h.state("wf"); st.RunId != can.NewExecutionRunId {
				t.Errorf("current run %s, ContinuedAsNew names %s", st.RunId, can.NewExecutionRunId)
			}
		})
	}
}

func withRetry(maxAttempts int32, nonRetryable ...string) func(*workflowservice.StartWorkflowExecutionRequest) {
	return func(r *workflowservice.StartWorkflowExecutionRequest) {
		r.RetryPolicy = &commonpb.RetryPolicy{InitialInterval: durp(2 * time.Second), BackoffCoefficient: 3,
			MaximumAttempts: maxAttempts, NonRetryableErrorTypes: nonRetryable}
	}
}

func failWFWith(f *failurepb.Failure) *commandpb.Command {
	return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
		Attributes: &commandpb.Command_FailWorkflowExecutionCommandAttributes{FailWorkflowExecutionCommandAttributes: &commandpb.FailWorkflowExecutionCommandAttributes{
			Failure: f}}}
}

func delayedFailure(d time.Duration) *failurepb.Failure {
	f := appFailure("Later", false)
	f.GetApplicationFailureInfo().NextRetryDelay = durp(d)
	return f
}

// closeEventOf returns the close event of wfID's run runID.
func (h *harness) closeEventOf(wfID, runID string) *historypb.HistoryEvent {
	h.t.Helper()
	st, err := h.f.GetState(DefaultNamespace, wfID, runID)
	if err != nil {
		h.t.Fatalf("run %s: %v", runID, err)
	}
	evs, _ := h.f.ReadHistory(DefaultNamespace, wfID, runID, st.CloseEventId, 0, 1)
	if len(evs) != 1 {
		h.t.Fatalf("run %s: no close event", runID)
	}
	return evs[0]
}

// wantRetried checks the run prev (of the chain that began with first) was
// closed with a retry and the current run of "wf" is its next attempt,
// waiting backoff for its first workflow task.
func (h *harness) wantRetried(first, prev string, attempt int32, backoff time.Duration, failure string) {
	h.t.Helper()
	st := h.state("wf")
	if st.RunId == prev || st.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING || st.Attempt != attempt ||
		st.FirstWorkflowTaskBackoff != int64(backoff) || st.FirstRunId != first || st.StartDelay {
		h.t.Fatalf("next run: attempt %d backoff %v first %s (want %d %v %s)", st.Attempt,
			time.Duration(st.FirstWorkflowTaskBackoff), st.FirstRunId, attempt, backoff, first)
	}
	if r := h.timerOfKind(st.RunId, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_BACKOFF); r.Row.FireAt != h.now+int64(backoff) {
		h.t.Fatalf("backoff timer in %v, want %v", time.Duration(r.Row.FireAt-h.now), backoff)
	}
	if len(h.tasksOf(st.RunId)) != 0 {
		h.t.Fatalf("a workflow task during the retry backoff")
	}
	attrs := h.history("wf")[0].GetWorkflowExecutionStartedEventAttributes()
	if attrs.Initiator != enumspb.CONTINUE_AS_NEW_INITIATOR_RETRY || attrs.ContinuedExecutionRunId != prev ||
		attrs.Attempt != attempt || attrs.GetFirstWorkflowTaskBackoff().AsDuration() != backoff ||
		attrs.GetContinuedFailure().GetMessage() != failure {
		h.t.Fatalf("next run started with %v", attrs)
	}
	// The backoff timer schedules the first workflow task.
	h.fireKind(st.RunId, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_BACKOFF)
	h.wantEvents("wf", evStarted, evWTScheduled)
}

// TestWorkflowRetry: a failed or timed-out run with a retry policy is
// retried as Temporal retries it, in the same entry: the run closes naming
// the next run, which starts with the attempt's backoff (the policy's, or
// the failure's next_retry_delay) before its first workflow task.
func TestWorkflowRetry(t *testing.T) {
	failedWith := func(h *harness, first string, state enumspb.RetryState) {
		h.t.Helper()
		h.wantClosed("wf", enumspb.WORKFLOW_EXECUTION_STATUS_FAILED)
		a := h.closeEventOf("wf", first).GetWorkflowExecutionFailedEventAttributes()
		if a.GetRetryState() != state || a.GetNewExecutionRunId() != "" {
			h.t.Fatalf("failed event %v, want retry state %s", a, state)
		}
	}
	tests := []struct {
		name  string
		start []func(*workflowservice.StartWorkflowExecutionRequest)
		run   func(h *harness, first string)
	}{
		{"the policy's backoff grows by the coefficient", []func(*workflowservice.StartWorkflowExecutionRequest){withRetry(0)},
			func(h *harness, first string) {
				h.completeWFT("wf", failWFWith(appFailure("Flaky", false)))
				a := h.closeEventOf("wf", first).GetWorkflowExecutionFailedEventAttributes()
				if a.RetryState != enumspb.RETRY_STATE_IN_PROGRESS || a.NewExecutionRunId != h.state("wf").RunId {
					h.t.Fatalf("failed event %v", a)
				}
				h.wantRetried(first, first, 2, 2*time.Second, "boom Flaky")
				prev := h.state("wf").RunId
				h.completeWFT("wf", failWFWith(appFailure("Flaky", false)))
				h.wantRetried(first, prev, 3, 6*time.Second, "boom Flaky")
			}},
		{"the failure's next retry delay replaces the policy's backoff", []func(*workflowservice.StartWorkflowExecutionRequest){withRetry(0)},
			func(h *harness, first string) {
				h.completeWFT("wf", failWFWith(delayedFailure(45*time.Second)))
				h.wantRetried(first, first, 2, 45*time.Second, "boom Later")
				// The next failure without one backs off by the policy again.
				prev := h.state("wf").RunId
				h.completeWFT("wf", failWFWith(appFailure("Flaky", false)))
				h.wantRetried(first, prev, 3, 6*time.Second, "boom Flaky")
			}},
		{"a next retry delay past the execution expiration ends the retries", []func(*workflowservice.StartWorkflowExecutionRequest){
			withRetry(0), func(r *workflowservice.StartWorkflowExecutionRequest) { r.WorkflowExecutionTimeout = durp(time.Minute) }},
			func(h *harness, first string) {
				h.completeWFT("wf", failWFWith(delayedFailure(2*time.Minute)))
				failedWith(h, first, enumspb.RETRY_STATE_TIMEOUT)
			}},
		{"a backoff past the execution expiration ends the retries", []func(*workflowservice.StartWorkflowExecutionRequest){
			withRetry(0), func(r *workflowservice.StartWorkflowExecutionRequest) { r.WorkflowExecutionTimeout = durp(time.Second) }},
			func(h *harness, first string) {
				h.completeWFT("wf", failWFWith(appFailure("Flaky", false)))
				failedWith(h, first, enumspb.RETRY_STATE_TIMEOUT)
			}},
		{"a non-retryable failure", []func(*workflowservice.StartWorkflowExecutionRequest){withRetry(0)},
			func(h *harness, first string) {
				h.completeWFT("wf", failWFWith(appFailure("Fatal", true)))
				failedWith(h, first, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE)
			}},
		{"a non-retryable error type", []func(*workflowservice.StartWorkflowExecutionRequest){withRetry(0, "Fatal")},
			func(h *harness, first string) {
				h.completeWFT("wf", failWFWith(delayedFailure(time.Second)))
				h.wantRetried(first, first, 2, time.Second, "boom Later")
				h.completeWFT("wf", failWFWith(appFailure("Fatal", false)))
				failedWith(h, h.state("wf").RunId, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE)
			}},
		{"maximum attempts", []func(*workflowservice.StartWorkflowExecutionRequest){withRetry(2)},
			func(h *harness, first string) {
				h.completeWFT("wf", failWFWith(delayedFailure(time.Second)))
				h.wantRetried(first, first, 2, time.Second, "boom Later")
				h.completeWFT("wf", failWFWith(delayedFailure(time.Second)))
				failedWith(h, h.state("wf").RunId, enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED)
			}},
		{"a server failure that is not retryable", []func(*workflowservice.StartWorkflowExecutionRequest){withRetry(0)},
			func(h *harness, first string) {
				h.completeWFT("wf", failWFWith(&failurepb.Failure{Message: "too big", FailureInfo: &failurepb.Failure_ServerFailureInfo{
					ServerFailureInfo: &failurepb.ServerFailureInfo{NonRetryable: true}}}))
				failedWith(h, first, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE)
			}},
		{"a run timeout listed as non-retryable", []func(*workflowservice.StartWorkflowExecutionRequest){
			withRetry(0, "TemporalTimeout:StartToClose"), func(r *workflowservice.StartWorkflowExecutionRequest) { r.WorkflowRunTimeout = durp(time.Minute) }},
			func(h *harness, first string) {
				h.fireKind(first, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_RUN_TIMEOUT)
				h.wantClosed("wf", enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT)
				// Not retried. (The event's retry state is TIMEOUT whenever a run
				// timeout is not retried; Temporal records the decision's state.)
				if a := h.closeEventOf("wf", first).GetWorkflowExecutionTimedOutEventAttributes(); a.NewExecutionRunId != "" {
					h.t.Fatalf("timed-out event %v", a)
				}
			}},
		{"no retry policy", nil,
			func(h *harness, first string) {
				h.completeWFT("wf", failWFWith(delayedFailure(time.Second)))
				failedWith(h, first, enumspb.RETRY_STATE_RETRY_POLICY_NOT_SET)
			}},
		{"a run timeout is retried", []func(*workflowservice.StartWorkflowExecutionRequest){
			withRetry(0), func(r *workflowservice.StartWorkflowExecutionRequest) { r.WorkflowRunTimeout = durp(time.Minute) }},
			func(h *harness, first string) {
				h.fireKind(first, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_RUN_TIMEOUT)
				a := h.closeEventOf("wf", first).GetWorkflowExecutionTimedOutEventAttributes()
				if a.RetryState != enumspb.RETRY_STATE_IN_PROGRESS || a.NewExecutionRunId != h.state("wf").RunId {
					h.t.Fatalf("timed-out event %v", a)
				}
				h.wantRetried(first, first, 2, 2*time.Second, "workflow run timeout")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			first := h.start("wf", tc.start...)
			h.advance(time.Second)
			tc.run(h, first)
		})
	}
}
