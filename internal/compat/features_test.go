package compat

import (
	"errors"
	"fmt"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/raftflow/engine/internal/testutil"
)

// Short names for the event types the feature tests look for.
const (
	evStarted        = enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
	evWTScheduled    = enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED
	evWTStarted      = enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED
	evWTCompleted    = enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
	evWTTimedOut     = enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT
	evTimerStarted   = enumspb.EVENT_TYPE_TIMER_STARTED
	evMarker         = enumspb.EVENT_TYPE_MARKER_RECORDED
	evActStarted     = enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED
	evActCancelReq   = enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED
	evActCanceled    = enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED
	evSignaled       = enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
	evCancelReq      = enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED
	evContinuedAsNew = enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW

	evUpdateAccepted  = enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
	evUpdateCompleted = enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED
)

// TestFeatures runs the tests of issue 3's feature list (queries, updates,
// signal-with-start, child workflows, continue-as-new, workflow retries,
// cancellation, async completion, activity timeouts and last failures,
// local activities and side effects, workflow options, sticky execution) in
// parallel against one shared engine, each on its own task queue with its
// own workflow ids. Every closed run they want
// replayed goes into a replayLog; the Replay subtest, after all of them,
// replays each recorded history with the SDK's WorkflowReplayer.
func TestFeatures(t *testing.T) {
	t.Parallel()
	e := startEngine(t)
	c := dial(t, e.Addr())
	rec := &replayLog{}
	t.Run("Group", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			fn   func(*testing.T, client.Client, *replayLog)
		}{
			{"QueryStackTrace", testQueryStackTrace},
			{"QueryClosed", testQueryClosed},
			{"QueryNoWorker", testQueryNoWorker},
			{"Update", testUpdate},
			{"UpdateWithStart", testUpdateWithStart},
			{"NamespaceUpdateCapabilities", testNamespaceUpdateCapabilities},
			{"ChildOutcomes", testChildOutcomes},
			{"ParentClosePolicies", testParentClosePolicies},
			{"ContinueAsNewChain", testContinueAsNewChain},
			{"WorkflowRetry", testWorkflowRetry},
			{"ActivityCancelByHeartbeat", testActivityCancelByHeartbeat},
			{"CancelChild", testCancelChild},
			{"ExternalSignalAndCancel", testExternalSignalAndCancel},
			{"AsyncCompletion", testAsyncCompletion},
			{"LastFailure", testLastFailure},
			{"ActivityScheduleToStart", testActivityScheduleToStart},
			{"MarkersAcrossWorkerRestart", testMarkersAcrossWorkerRestart},
			{"Mixed", testMixed},
			{"SignalWithStart", testSignalWithStart},
			{"IDReusePolicies", testIDReusePolicies},
			{"IDConflictPolicies", testIDConflictPolicies},
			{"WorkflowTimeouts", testWorkflowTimeouts},
			{"WorkflowTaskTimeout", testWorkflowTaskTimeout},
			{"Cron", testCron},
			{"MemoAndSearchAttributes", testMemoAndSearchAttributes},
			{"SearchAttributeRegistration", testSearchAttributeRegistration},
			{"ActivityOperations", testActivityOperations},
			{"PriorityOrder", testPriorityOrder},
			{"StickyHistory", testStickyHistory},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.fn(t, c, rec)
			})
		}
	})
	t.Run("Replay", func(t *testing.T) { rec.replayAll(t) })
}

// startWith starts wf with opts (bounded by the test) and fails on error.
func startWith(t *testing.T, c client.Client, opts client.StartWorkflowOptions, wf any, args ...any) client.WorkflowRun {
	t.Helper()
	run, err := c.ExecuteWorkflow(testutil.Context(t, 10*time.Second), opts, wf, args...)
	if err != nil {
		t.Fatalf("start %s: %v", opts.ID, err)
	}
	return run
}

// getResult waits for run's result (following its chain) into out.
func getResult(t *testing.T, run client.WorkflowRun, out any) {
	t.Helper()
	if err := run.Get(testutil.Context(t, 30*time.Second), out); err != nil {
		t.Fatalf("result of %s: %v", run.GetID(), err)
	}
}

// wantErrAs waits for run's error and requires it to match target's type.
func wantErrAs[E error](t *testing.T, run client.WorkflowRun) E {
	t.Helper()
	err := run.Get(testutil.Context(t, 30*time.Second), nil)
	var target E
	if !errors.As(err, &target) {
		t.Fatalf("workflow %s ended with %v (%T), want a %T", run.GetID(), err, err, target)
	}
	return target
}

// tryHistory reads a run's whole history, or returns the error (e.g.
// NotFound for a child not started yet).
func tryHistory(t *testing.T, c client.Client, wfID, runID string) (*historypb.History, error) {
	it := c.GetWorkflowHistory(testutil.Context(t, 10*time.Second), wfID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, err
		}
		h.Events = append(h.Events, ev)
	}
	return h, nil
}

// waitTimerStarted polls until the run exists, its history has a
// TimerStarted event and no workflow task is pending (the workflow is
// asleep).
func waitTimerStarted(t *testing.T, c client.Client, id, runID string) {
	t.Helper()
	testutil.Eventually(t, 20*time.Second, id+" asleep on a timer", func() (bool, string) {
		h, err := tryHistory(t, c, id, runID)
		if err != nil {
			return false, err.Error()
		}
		return len(eventsOf(h, evTimerStarted)) > 0 && idle(h), fmt.Sprint(eventTypes(h))
	})
}

// idle reports whether no workflow task is pending: the workflow code has
// run up to where it blocks.
func idle(h *historypb.History) bool {
	if len(h.Events) == 0 {
		return false
	}
	last := h.Events[len(h.Events)-1].EventType
	return len(eventsOf(h, evWTCompleted)) > 0 && last != evWTScheduled && last != evWTStarted
}
