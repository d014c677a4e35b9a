package compat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/raftflow/engine/internal/testutil"
)

// attemptLog records when each activity attempt started and ended.
type attemptLog struct {
	mu   sync.Mutex
	recs []attemptRec
}

type attemptRec struct {
	attempt    int32
	start, end time.Time
}

func (l *attemptLog) begin(ctx context.Context) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, attemptRec{attempt: activity.GetInfo(ctx).Attempt, start: time.Now()})
	return len(l.recs) - 1
}

func (l *attemptLog) finish(i int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs[i].end = time.Now()
}

func (l *attemptLog) all() []attemptRec {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.recs)
}

// 2. Retry with backoff: two failures, then success; only the last attempt
// is in history, and no retry starts before its backoff has passed.
func testActivityRetryBackoff(t *testing.T, c client.Client) {
	tq := taskQueue(t)
	var log attemptLog
	startWorker(t, c, tq, []any{RunActivityWorkflow}, map[string]any{
		"Flaky": func(ctx context.Context, _ string) (string, error) {
			i := log.begin(ctx)
			defer log.finish(i)
			if a := activity.GetInfo(ctx).Attempt; a < 3 {
				return "", fmt.Errorf("transient failure %d", a)
			}
			return "ok", nil
		},
	})
	const initial = 100 * time.Millisecond
	run := start(t, c, tq, tq+"-wf", RunActivityWorkflow, activityCall{
		Name: "Flaky", StartToClose: 10 * time.Second,
		Retry: &temporal.RetryPolicy{InitialInterval: initial, BackoffCoefficient: 2, MaximumAttempts: 5},
	})
	var got string
	if err := run.Get(testutil.Context(t, 30*time.Second), &got); err != nil {
		t.Fatalf("result: %v", err)
	}
	if got != "ok" {
		t.Fatalf("result %q, want ok", got)
	}
	recs := log.all()
	if len(recs) != 3 {
		t.Fatalf("%d attempts ran, want 3: %+v", len(recs), recs)
	}
	for i, r := range recs {
		if r.attempt != int32(i+1) {
			t.Errorf("run %d reported attempt %d", i, r.attempt)
		}
	}
	for i, backoff := range []time.Duration{initial, 2 * initial} {
		if gap := recs[i+1].start.Sub(recs[i].end); gap < backoff {
			t.Errorf("attempt %d started %v after attempt %d failed, before the %v backoff", i+2, gap, i+1, backoff)
		}
	}
	h := history(t, c, run.GetID(), run.GetRunID())
	checkHistory(t, h)
	started := eventsOf(h, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED)
	if len(started) != 1 {
		t.Fatalf("%d ActivityTaskStarted events, want 1 (only the last attempt): %v", len(started), eventTypes(h))
	}
	attrs := started[0].GetActivityTaskStartedEventAttributes()
	if attrs.Attempt != 3 {
		t.Errorf("ActivityTaskStarted attempt %d, want 3", attrs.Attempt)
	}
	if msg := attrs.GetLastFailure().GetMessage(); msg != "transient failure 2" {
		t.Errorf("ActivityTaskStarted last failure %q, want the second attempt's", msg)
	}
	if n := len(eventsOf(h, enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED)); n != 0 {
		t.Errorf("%d ActivityTaskFailed events for retried attempts, want 0", n)
	}
	t.Run("Replay", func(t *testing.T) { replay(t, c, run.GetID(), run.GetRunID(), RunActivityWorkflow) })
}

// 3. Non-retryable failures end the activity after one attempt, whether the
// error says so or the retry policy lists its type; a retryable one stops at
// MaximumAttempts.
func testNonRetryableFailure(t *testing.T, c client.Client) {
	for _, tc := range []struct {
		name      string
		err       func() error
		policy    *temporal.RetryPolicy
		attempts  int
		errType   string
		nonRetry  bool
		wantState enumspb.RetryState
	}{
		{
			name:     "NonRetryableError",
			err:      func() error { return temporal.NewNonRetryableApplicationError("bad input", "BadInput", nil, "detail") },
			policy:   &temporal.RetryPolicy{InitialInterval: 50 * time.Millisecond, MaximumAttempts: 5},
			attempts: 1, errType: "BadInput", nonRetry: true, wantState: enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE,
		},
		{
			name:     "NonRetryableErrorTypes",
			err:      func() error { return temporal.NewApplicationError("bad config", "ConfigError") },
			policy:   &temporal.RetryPolicy{InitialInterval: 50 * time.Millisecond, MaximumAttempts: 5, NonRetryableErrorTypes: []string{"ConfigError"}},
			attempts: 1, errType: "ConfigError", wantState: enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE,
		},
		{
			name:     "MaximumAttempts",
			err:      func() error { return temporal.NewApplicationError("still broken", "Broken") },
			policy:   &temporal.RetryPolicy{InitialInterval: 50 * time.Millisecond, MaximumAttempts: 2},
			attempts: 2, errType: "Broken", wantState: enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tq := taskQueue(t)
			var log attemptLog
			startWorker(t, c, tq, []any{RunActivityWorkflow}, map[string]any{
				"Fail": func(ctx context.Context, _ string) (string, error) {
					log.begin(ctx)
					return "", tc.err()
				},
			})
			run := start(t, c, tq, tq+"-wf", RunActivityWorkflow, activityCall{Name: "Fail", StartToClose: 10 * time.Second, Retry: tc.policy})
			err := run.Get(testutil.Context(t, 30*time.Second), nil)
			var actErr *temporal.ActivityError
			if !errors.As(err, &actErr) {
				t.Fatalf("workflow error %v (%T), want one wrapping an ActivityError", err, err)
			}
			if actErr.RetryState() != tc.wantState {
				t.Errorf("ActivityError retry state %v, want %v", actErr.RetryState(), tc.wantState)
			}
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) {
				t.Fatalf("workflow error %v, want an ApplicationError inside the ActivityError", err)
			}
			if appErr.Type() != tc.errType || appErr.NonRetryable() != tc.nonRetry {
				t.Errorf("ApplicationError type %q non-retryable %v, want %q %v", appErr.Type(), appErr.NonRetryable(), tc.errType, tc.nonRetry)
			}
			if n := len(log.all()); n != tc.attempts {
				t.Errorf("%d attempts ran, want %d", n, tc.attempts)
			}
			h := history(t, c, run.GetID(), run.GetRunID())
			checkHistory(t, h)
			failed := eventsOf(h, enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED)
			if len(failed) != 1 || failed[0].GetActivityTaskFailedEventAttributes().RetryState != tc.wantState {
				t.Errorf("ActivityTaskFailed events %v, want one with retry state %v", failed, tc.wantState)
			}
			if last := h.Events[len(h.Events)-1].EventType; last != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED {
				t.Errorf("last event %v, want WorkflowExecutionFailed", last)
			}
		})
	}
}

// timedOutAfterStart returns how long after its ActivityTaskStarted event
// the activity's ActivityTaskTimedOut event was written.
func timedOutAfterStart(t *testing.T, c client.Client, run client.WorkflowRun) time.Duration {
	t.Helper()
	h := history(t, c, run.GetID(), run.GetRunID())
	checkHistory(t, h)
	started := eventsOf(h, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED)
	timedOut := eventsOf(h, enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT)
	if len(started) != 1 || len(timedOut) != 1 {
		t.Fatalf("want one ActivityTaskStarted and one ActivityTaskTimedOut: %v", eventTypes(h))
	}
	return timedOut[0].EventTime.AsTime().Sub(started[0].EventTime.AsTime())
}

// 4. Activity timeouts: StartToClose and Heartbeat surface as TimeoutErrors
// of the right type, never early; heartbeat details survive into the next
// attempt (after a heartbeat timeout and after a failure).
func testActivityTimeouts(t *testing.T, c client.Client) {
	t.Run("StartToClose", func(t *testing.T) {
		t.Parallel()
		tq := taskQueue(t)
		done := released(t)
		startWorker(t, c, tq, []any{RunActivityWorkflow}, map[string]any{
			"Block": func(ctx context.Context, _ string) (string, error) {
				select {
				case <-ctx.Done():
				case <-done:
				}
				return "", ctx.Err()
			},
		})
		const timeout = 500 * time.Millisecond
		run := start(t, c, tq, tq+"-wf", RunActivityWorkflow, activityCall{
			Name: "Block", StartToClose: timeout, Retry: &temporal.RetryPolicy{MaximumAttempts: 1},
		})
		err := run.Get(testutil.Context(t, 30*time.Second), nil)
		var actErr *temporal.ActivityError
		var toErr *temporal.TimeoutError
		if !errors.As(err, &actErr) || !errors.As(err, &toErr) {
			t.Fatalf("workflow error %v, want an ActivityError wrapping a TimeoutError", err)
		}
		if toErr.TimeoutType() != enumspb.TIMEOUT_TYPE_START_TO_CLOSE {
			t.Errorf("timeout type %v, want START_TO_CLOSE", toErr.TimeoutType())
		}
		if actErr.RetryState() != enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED {
			t.Errorf("retry state %v, want MAXIMUM_ATTEMPTS_REACHED", actErr.RetryState())
		}
		if d := timedOutAfterStart(t, c, run); d < timeout {
			t.Errorf("timed out %v after start, before the %v StartToClose timeout", d, timeout)
		}
	})
	t.Run("Heartbeat", func(t *testing.T) {
		t.Parallel()
		tq := taskQueue(t)
		done := released(t)
		startWorker(t, c, tq, []any{RunActivityWorkflow}, map[string]any{
			"HeartbeatOnce": func(ctx context.Context, _ string) (string, error) {
				activity.RecordHeartbeat(ctx, "halfway")
				select {
				case <-ctx.Done():
				case <-done:
				}
				return "", ctx.Err()
			},
		})
		const timeout = 300 * time.Millisecond
		run := start(t, c, tq, tq+"-wf", RunActivityWorkflow, activityCall{
			Name: "HeartbeatOnce", StartToClose: 20 * time.Second, Heartbeat: timeout,
			Retry: &temporal.RetryPolicy{MaximumAttempts: 1},
		})
		err := run.Get(testutil.Context(t, 30*time.Second), nil)
		var actErr *temporal.ActivityError
		var toErr *temporal.TimeoutError
		if !errors.As(err, &actErr) || !errors.As(err, &toErr) {
			t.Fatalf("workflow error %v, want an ActivityError wrapping a TimeoutError", err)
		}
		if toErr.TimeoutType() != enumspb.TIMEOUT_TYPE_HEARTBEAT {
			t.Errorf("timeout type %v, want HEARTBEAT", toErr.TimeoutType())
		}
		var details string
		if !toErr.HasLastHeartbeatDetails() {
			t.Errorf("TimeoutError has no last heartbeat details")
		} else if err := toErr.LastHeartbeatDetails(&details); err != nil || details != "halfway" {
			t.Errorf("last heartbeat details %q (%v), want %q", details, err, "halfway")
		}
		if d := timedOutAfterStart(t, c, run); d < timeout {
			t.Errorf("timed out %v after start, before the %v heartbeat timeout", d, timeout)
		}
	})
	for _, mode := range []string{"timeout", "fail"} {
		t.Run("HeartbeatDetailsOnRetry/"+mode, func(t *testing.T) {
			t.Parallel()
			tq := taskQueue(t)
			done := released(t)
			startWorker(t, c, tq, []any{RunActivityWorkflow}, map[string]any{
				"Resumable": func(ctx context.Context, mode string) (string, error) {
					info := activity.GetInfo(ctx)
					if info.Attempt == 1 {
						activity.RecordHeartbeat(ctx, 7)
						if mode == "fail" {
							return "", errors.New("failed after progress 7")
						}
						select { // stop heartbeating: the heartbeat timeout ends this attempt
						case <-ctx.Done():
						case <-done:
						}
						return "", ctx.Err()
					}
					if !activity.HasHeartbeatDetails(ctx) {
						return fmt.Sprintf("attempt %d has no heartbeat details", info.Attempt), nil
					}
					var progress int
					if err := activity.GetHeartbeatDetails(ctx, &progress); err != nil {
						return "", err
					}
					return fmt.Sprintf("attempt %d resumed from %d", info.Attempt, progress), nil
				},
			})
			run := start(t, c, tq, tq+"-wf", RunActivityWorkflow, activityCall{
				Name: "Resumable", Arg: mode, StartToClose: 20 * time.Second, Heartbeat: 300 * time.Millisecond,
				Retry: &temporal.RetryPolicy{InitialInterval: 50 * time.Millisecond, MaximumAttempts: 3},
			})
			var got string
			if err := run.Get(testutil.Context(t, 30*time.Second), &got); err != nil {
				t.Fatalf("result: %v", err)
			}
			if want := "attempt 2 resumed from 7"; got != want {
				t.Errorf("result %q, want %q", got, want)
			}
			checkHistory(t, history(t, c, run.GetID(), run.GetRunID()))
		})
	}
}
