package compat

import (
	"context"
	"errors"
	"fmt"
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

// Async completion: the activity returns ErrResultPending and someone else
// completes it, by task token (CompleteActivity) or by workflow and
// activity id (CompleteActivityByID); until then it stays started.
func testAsyncCompletion(t *testing.T, c client.Client, rec *replayLog) {
	for _, byID := range []bool{false, true} {
		name := "ByToken"
		if byID {
			name = "ByID"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tq := taskQueue(t)
			tokens := make(chan []byte, 1)
			startWorker(t, c, tq, []any{AsyncActivityWorkflow}, map[string]any{
				"Async": func(ctx context.Context, arg string) (string, error) {
					tokens <- activity.GetInfo(ctx).TaskToken
					return "", activity.ErrResultPending
				},
			})
			run := start(t, c, tq, tq+"-wf", AsyncActivityWorkflow, name)
			var token []byte
			select {
			case token = <-tokens:
			case <-testutil.Context(t, 20*time.Second).Done():
				t.Fatal("activity never started")
			}
			testutil.Eventually(t, 10*time.Second, "a started pending activity", func() (bool, string) {
				pa := describe(t, c, run.GetID(), run.GetRunID()).PendingActivities
				return len(pa) == 1 && pa[0].State == enumspb.PENDING_ACTIVITY_STATE_STARTED, fmt.Sprint(pa)
			})
			result := "completed from outside " + name
			var err error
			if byID {
				err = c.CompleteActivityByID(testutil.Context(t, 10*time.Second), "default", run.GetID(), run.GetRunID(), "async", result, nil)
			} else {
				err = c.CompleteActivity(testutil.Context(t, 10*time.Second), token, result, nil)
			}
			if err != nil {
				t.Fatalf("complete: %v", err)
			}
			var got string
			getResult(t, run, &got)
			if got != result {
				t.Fatalf("result %q, want %q", got, result)
			}
			// A second completion finds nothing to complete.
			if err := c.CompleteActivity(testutil.Context(t, 10*time.Second), token, "again", nil); err == nil {
				t.Error("completing the activity a second time succeeded")
			}
			rec.add(t, c, "async-completion-"+strings.ToLower(name), run.GetID(), run.GetRunID(), AsyncActivityWorkflow)
		})
	}
}

// last_failure on retries: the next attempt's pending activity shows the
// previous attempt's failure (Describe), the history's ActivityTaskStarted
// carries it, and when the schedule-to-close timeout ends the activity the
// workflow's TimeoutError has it as its cause.
func testLastFailure(t *testing.T, c client.Client, rec *replayLog) {
	tq := taskQueue(t)
	done := released(t)
	startWorker(t, c, tq, []any{LastFailureWorkflow}, map[string]any{
		"FailThenBlock": func(ctx context.Context) error {
			if activity.GetInfo(ctx).Attempt == 1 {
				return temporal.NewApplicationError("first attempt failed", "FirstFailure")
			}
			select {
			case <-ctx.Done():
			case <-done:
			}
			return ctx.Err()
		},
	})
	run := start(t, c, tq, tq+"-wf", LastFailureWorkflow, 3*time.Second)
	testutil.Eventually(t, 10*time.Second, "the second attempt started", func() (bool, string) {
		pa := describe(t, c, run.GetID(), run.GetRunID()).PendingActivities
		return len(pa) == 1 && pa[0].Attempt == 2 && pa[0].State == enumspb.PENDING_ACTIVITY_STATE_STARTED, fmt.Sprint(pa)
	})
	pa := describe(t, c, run.GetID(), run.GetRunID()).PendingActivities[0]
	if f := pa.LastFailure; f.GetMessage() != "first attempt failed" || f.GetApplicationFailureInfo().GetType() != "FirstFailure" {
		t.Errorf("pending activity's last failure %v, want the first attempt's", f)
	}
	wfErr := wantErrAs[*temporal.WorkflowExecutionError](t, run)
	var to *temporal.TimeoutError
	var app *temporal.ApplicationError
	if !errors.As(wfErr, &to) || to.TimeoutType() != enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE {
		t.Fatalf("workflow error %v, want an activity SCHEDULE_TO_CLOSE TimeoutError", wfErr)
	}
	if !errors.As(to, &app) || app.Type() != "FirstFailure" {
		t.Errorf("TimeoutError's cause %v, want the first attempt's ApplicationError", errors.Unwrap(to))
	}
	h := history(t, c, run.GetID(), run.GetRunID())
	started := eventsOf(h, evActStarted)
	if len(started) != 1 || started[0].GetActivityTaskStartedEventAttributes().GetLastFailure().GetMessage() != "first attempt failed" {
		t.Errorf("ActivityTaskStarted events %v, want one carrying the first attempt's failure", started)
	}
	rec.add(t, c, "activity-last-failure", run.GetID(), run.GetRunID(), LastFailureWorkflow)
}

// Local activities, side effects, mutable side effects and versions are
// markers: after the worker that ran them stops, a new worker replays the
// history (full, from the normal queue) and takes every value from the
// markers: the local activity and the side effect ran once, the workflow's
// result holds the values of the first execution, and no workflow task
// failed.
func testMarkersAcrossWorkerRestart(t *testing.T, c client.Client, rec *replayLog) {
	tq := taskQueue(t)
	key := tq
	stop := startNamedWorker(t, c, tq, "first-worker", []any{MarkersWorkflow}, nil)
	run := start(t, c, tq, tq+"-wf", MarkersWorkflow, key)
	testutil.Eventually(t, 20*time.Second, "markers recorded", func() (bool, string) {
		h := history(t, c, run.GetID(), run.GetRunID())
		return len(eventsOf(h, evMarker)) >= 4 && idle(h), fmt.Sprint(eventTypes(h))
	})
	stop()
	startNamedWorker(t, c, tq, "second-worker", []any{MarkersWorkflow}, nil)
	signal(t, c, run.GetID(), "go", nil)
	var got []string
	getResult(t, run, &got)
	counts := markerCounter(key)
	sideValue, _ := counts.sideValue.Load().(string)
	if want := []string{"LOCAL-" + key, sideValue, "mutable-" + key, "version 2"}; !slices.Equal(got, want) {
		t.Errorf("result %q, want %q (the first execution's values)", got, want)
	}
	if n, m := counts.local.Load(), counts.side.Load(); n != 1 || m != 1 {
		t.Errorf("local activity ran %d times, side effect %d times; want once each", n, m)
	}
	h := history(t, c, run.GetID(), run.GetRunID())
	markers := map[string]int{}
	for _, ev := range eventsOf(h, evMarker) {
		markers[ev.GetMarkerRecordedEventAttributes().MarkerName]++
	}
	for _, name := range []string{"LocalActivity", "SideEffect", "MutableSideEffect", "Version"} {
		if markers[name] != 1 {
			t.Errorf("%d %s markers, want 1 (markers: %v)", markers[name], name, markers)
		}
	}
	last := eventsOf(h, evWTStarted)
	if id := last[len(last)-1].GetWorkflowTaskStartedEventAttributes().Identity; id != "second-worker" {
		t.Errorf("the last workflow task ran on %q, want second-worker", id)
	}
	rec.add(t, c, "local-activity-side-effect-version", run.GetID(), run.GetRunID(), MarkersWorkflow)
}

// Signals, a timer and an activity retried twice, in one workflow (for the
// replay set and the recorded testdata).
func testMixed(t *testing.T, c client.Client, rec *replayLog) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{MixedWorkflow}, map[string]any{
		"Flaky": func(ctx context.Context, arg string) (string, error) {
			if a := activity.GetInfo(ctx).Attempt; a < 3 {
				return "", fmt.Errorf("transient failure %d", a)
			}
			return "flaky(" + arg + ")", nil
		},
	})
	run := start(t, c, tq, tq+"-wf", MixedWorkflow, 2)
	signal(t, c, run.GetID(), "sig", "a")
	signal(t, c, run.GetID(), "sig", "b")
	var got []string
	getResult(t, run, &got)
	if want := []string{"a", "b", "flaky(x)"}; !slices.Equal(got, want) {
		t.Fatalf("result %q, want %q", got, want)
	}
	rec.add(t, c, "signals-timer-activity-retries", run.GetID(), run.GetRunID(), MixedWorkflow)
}

// An activity no worker picks up ends with a SCHEDULE_TO_START timeout (not
// retried, as in Temporal), never early.
func testActivityScheduleToStart(t *testing.T, c client.Client, rec *replayLog) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{UnpolledActivityWorkflow}, nil)
	run := start(t, c, tq, tq+"-wf", UnpolledActivityWorkflow, tq+"-unpolled")
	wfErr := wantErrAs[*temporal.WorkflowExecutionError](t, run)
	var actErr *temporal.ActivityError
	var to *temporal.TimeoutError
	if !errors.As(wfErr, &actErr) || !errors.As(wfErr, &to) || to.TimeoutType() != enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START {
		t.Fatalf("workflow error %v, want an ActivityError wrapping a SCHEDULE_TO_START TimeoutError", wfErr)
	}
	h := history(t, c, run.GetID(), run.GetRunID())
	scheduled := eventsOf(h, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
	timedOut := eventsOf(h, enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT)
	if len(scheduled) != 1 || len(timedOut) != 1 || len(eventsOf(h, evActStarted)) != 0 {
		t.Fatalf("want one ActivityTaskScheduled, one ActivityTaskTimedOut and no start: %v", eventTypes(h))
	}
	if d := timedOut[0].EventTime.AsTime().Sub(scheduled[0].EventTime.AsTime()); d < 500*time.Millisecond {
		t.Errorf("timed out %v after it was scheduled, before its 500ms schedule-to-start timeout", d)
	}
	rec.add(t, c, "activity-schedule-to-start", run.GetID(), run.GetRunID(), UnpolledActivityWorkflow)
}
