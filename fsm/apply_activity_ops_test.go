package fsm

import (
	"testing"
	"time"

	activitypb "go.temporal.io/api/activity/v1"
	commonpb "go.temporal.io/api/common/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"google.golang.org/protobuf/proto"

	"github.com/raftflow/engine/fsm/fsmpb"
)

func activityOpCmd(wfID, activityID string, set func(*fsmpb.ActivityOperation)) *fsmpb.Command {
	op := &fsmpb.ActivityOperation{Namespace: DefaultNamespace, WorkflowId: wfID, ActivityId: activityID, Identity: "operator"}
	set(op)
	return &fsmpb.Command{Op: &fsmpb.Command_ActivityOperation{ActivityOperation: op}}
}

func pauseOp(reason string) func(*fsmpb.ActivityOperation) {
	return func(op *fsmpb.ActivityOperation) {
		op.Op = &fsmpb.ActivityOperation_Pause{Pause: &fsmpb.ActivityPause{Reason: reason}}
	}
}

func unpauseOp(u *fsmpb.ActivityUnpause) func(*fsmpb.ActivityOperation) {
	return func(op *fsmpb.ActivityOperation) { op.Op = &fsmpb.ActivityOperation_Unpause{Unpause: u} }
}

func resetOp(r *fsmpb.ActivityReset) func(*fsmpb.ActivityOperation) {
	return func(op *fsmpb.ActivityOperation) { op.Op = &fsmpb.ActivityOperation_ResetActivity{ResetActivity: r} }
}

func optionsOp(u *fsmpb.ActivityOptionsUpdate) func(*fsmpb.ActivityOperation) {
	return func(op *fsmpb.ActivityOperation) { op.Op = &fsmpb.ActivityOperation_UpdateOptions{UpdateOptions: u} }
}

// activityRows are the activity's task rows (attempt each) and its timer
// kinds.
func activityRows(h *harness, runID string) ([]int32, string) {
	var attempts []int32
	for _, e := range h.tasksOf(runID) {
		if e.Row.Kind == fsmpb.TaskKind_TASK_KIND_ACTIVITY {
			attempts = append(attempts, e.Row.Attempt)
		}
	}
	return attempts, timerKinds(h.timersOf(runID))
}

// TestActivityOperations: PauseActivity, UnpauseActivity, ResetActivity and
// UpdateActivityOptions as Temporal applies them (no history events; the
// harness checks every case's snapshot round trip).
func TestActivityOperations(t *testing.T) {
	withRetry := func(a *commandpbSchedule) {
		a.RetryPolicy = &commonpb.RetryPolicy{InitialInterval: durp(time.Second), BackoffCoefficient: 2}
		a.ScheduleToCloseTimeout = durp(time.Hour)
		a.HeartbeatTimeout = durp(10 * time.Second)
	}
	tests := []struct {
		name string
		run  func(h *harness, runID string, at *StartedActivityTask)
	}{
		{name: "pause a running attempt: heartbeats say so, the next attempt waits for the unpause", run: func(h *harness, runID string, at *StartedActivityTask) {
			before := len(h.history("wf"))
			h.applyOK(activityOpCmd("wf", "a1", pauseOp("maintenance")))
			a := h.state("wf").Activities[5]
			if !a.Paused || a.PauseReason != "maintenance" || a.PauseIdentity != "operator" || a.PauseTime != h.now {
				h.t.Fatalf("after pause %v", a)
			}
			if res := h.applyOK(heartbeatCmd(at.Token, "hb")); !res.ActivityPaused || res.ActivityReset || res.CancelRequested {
				h.t.Fatalf("heartbeat answer %+v, want activity_paused", res)
			}
			h.applyOK(activityResultCmd(at.Token, failed(appFailure("activity paused", false))))
			a = h.state("wf").Activities[5]
			if a.Attempt != 2 || a.TaskKey != nil || a.RetryTimerPending || a.LastFailure.GetMessage() != "boom activity paused" {
				h.t.Fatalf("after the paused attempt failed %v", a)
			}
			if rows, timers := activityRows(h, runID); len(rows) != 0 || timers != "[ACTIVITY_SCHEDULE_TO_CLOSE@3600000]" {
				h.t.Fatalf("a paused activity's rows %v %s, want only its schedule-to-close timer", rows, timers)
			}
			if got := len(h.history("wf")); got != before {
				h.t.Fatalf("activity operations wrote %d events", got-before)
			}
			h.applyOK(activityOpCmd("wf", "a1", pauseOp("again"))) // a no-op
			h.applyOK(activityOpCmd("wf", "a1", unpauseOp(&fsmpb.ActivityUnpause{})))
			if rows, _ := activityRows(h, runID); len(rows) != 1 || rows[0] != 2 {
				h.t.Fatalf("after unpause: task rows %v, want attempt 2", rows)
			}
			at2 := h.pollActivity("wf", 5)
			h.applyOK(activityResultCmd(at2.Token, completed("done")))
			wantActivityClosed(h, runID, evActCompleted, 2)
		}},
		{name: "pause a waiting attempt; unpause with reset attempts and a jitter", run: func(h *harness, runID string, at *StartedActivityTask) {
			h.applyOK(activityResultCmd(at.Token, failed(appFailure("Flaky", false))))
			h.applyOK(activityOpCmd("wf", "a1", pauseOp("")))
			if rows, timers := activityRows(h, runID); len(rows) != 0 || timers != "[ACTIVITY_SCHEDULE_TO_CLOSE@3600000]" {
				h.t.Fatalf("paused in backoff: rows %v %s, want the retry timer gone", rows, timers)
			}
			h.applyOK(activityOpCmd("wf", "a1", unpauseOp(&fsmpb.ActivityUnpause{ResetAttempts: true, Delay: int64(3 * time.Second)})))
			a := h.state("wf").Activities[5]
			if a.Attempt != 1 || a.Stamp != 1 || !a.RetryTimerPending || a.Paused {
				h.t.Fatalf("after unpause %v", a)
			}
			retry := h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_RETRY)
			if retry.Row.FireAt != h.now+int64(3*time.Second) {
				h.t.Fatalf("dispatch at +%d, want the jitter's 3s", retry.Row.FireAt-h.now)
			}
			h.advance(3 * time.Second)
			h.applyOK(fireCmd(retry.Key))
			at1 := h.pollActivity("wf", 5)
			if at1.Token.Attempt != 1 || at1.Token.Stamp != 1 {
				h.t.Fatalf("redispatched token %v, want attempt 1 stamp 1", at1.Token)
			}
			// The first attempt 1's token is stale: same attempt, old stamp.
			h.applyErr(activityResultCmd(at.Token, completed("late")), ErrStaleTask)
			h.applyOK(activityResultCmd(at1.Token, completed("done")))
			wantActivityClosed(h, runID, evActCompleted, 1)
		}},
		{name: "reset a running attempt: heartbeats say so, the next is attempt 2 without heartbeat details", run: func(h *harness, runID string, at *StartedActivityTask) {
			h.applyOK(activityResultCmd(at.Token, failed(appFailure("Flaky", false))))
			h.advance(time.Second)
			h.applyOK(fireCmd(h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_RETRY).Key))
			at2 := h.pollActivity("wf", 5)
			h.applyOK(heartbeatCmd(at2.Token, "progress"))
			h.applyOK(activityOpCmd("wf", "a1", resetOp(&fsmpb.ActivityReset{ResetHeartbeat: true})))
			if res := h.applyOK(heartbeatCmd(at2.Token, "more")); !res.ActivityReset || res.ActivityPaused {
				h.t.Fatalf("heartbeat answer %+v, want activity_reset", res)
			}
			h.applyOK(activityResultCmd(at2.Token, failed(appFailure("activity reset", false))))
			a := h.state("wf").Activities[5]
			if a.Attempt != 2 || a.Stamp != 1 || a.HeartbeatDetails != nil || a.ResetRequested || a.RestartAttempts {
				h.t.Fatalf("after the reset attempt failed %v", a)
			}
			// Backoff from attempt 1 again: the initial interval.
			if r := h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_RETRY); r.Row.FireAt != h.now+int64(time.Second) {
				h.t.Fatalf("retry after %d, want 1s", r.Row.FireAt-h.now)
			}
			h.advance(time.Second)
			h.applyOK(fireCmd(h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_RETRY).Key))
			next := h.pollActivity("wf", 5)
			h.applyErr(activityResultCmd(at2.Token, completed("old attempt 2")), ErrStaleTask)
			h.applyOK(activityResultCmd(next.Token, completed("done")))
			wantActivityClosed(h, runID, evActCompleted, 2)
		}},
		{name: "reset a paused waiting activity: keep_paused keeps it, otherwise it runs as attempt 1", run: func(h *harness, runID string, at *StartedActivityTask) {
			h.applyOK(activityOpCmd("wf", "a1", pauseOp("")))
			h.applyOK(activityResultCmd(at.Token, failed(appFailure("Flaky", false))))
			h.applyOK(activityOpCmd("wf", "a1", resetOp(&fsmpb.ActivityReset{KeepPaused: true})))
			if a := h.state("wf").Activities[5]; a.Attempt != 1 || !a.Paused || a.TaskKey != nil {
				h.t.Fatalf("after reset keep_paused %v", a)
			}
			h.applyOK(activityOpCmd("wf", "a1", resetOp(&fsmpb.ActivityReset{})))
			if a := h.state("wf").Activities[5]; a.Attempt != 1 || a.Paused || a.TaskKey == nil {
				h.t.Fatalf("after reset %v", a)
			}
			h.applyOK(activityResultCmd(h.pollActivity("wf", 5).Token, completed("done")))
			wantActivityClosed(h, runID, evActCompleted, 1)
		}},
		{name: "update options: a new queue and timeouts re-arm from the recorded times", run: func(h *harness, runID string, at *StartedActivityTask) {
			h.applyOK(activityResultCmd(at.Token, failed(appFailure("Flaky", false))))
			h.advance(time.Second)
			h.applyOK(fireCmd(h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_RETRY).Key))
			res := h.applyOK(activityOpCmd("wf", "a1", optionsOp(&fsmpb.ActivityOptionsUpdate{
				Options: &activitypb.ActivityOptions{TaskQueue: &taskqueuepb.TaskQueue{Name: "other"},
					ScheduleToCloseTimeout: durp(2 * time.Hour), RetryPolicy: &commonpb.RetryPolicy{MaximumAttempts: 7}},
				Paths: []string{"taskQueue.name", "scheduleToCloseTimeout", "retryPolicy.maximumAttempts"},
			})))
			a := h.state("wf").Activities[5]
			if a.TaskQueue != "other" || a.ScheduleToCloseTimeout != int64(2*time.Hour) || a.RetryPolicy.MaximumAttempts != 7 ||
				a.RetryPolicy.GetInitialInterval().AsDuration() != time.Second {
				h.t.Fatalf("after update %v", a)
			}
			if o := res.ActivityOptions; o.GetTaskQueue().GetName() != "other" || o.GetRetryPolicy().GetMaximumAttempts() != 7 {
				h.t.Fatalf("answered options %v", o)
			}
			tasks := h.tasksOf(runID)
			if len(tasks) != 1 || tasks[0].Row.TaskQueue != "other" {
				h.t.Fatalf("task rows %v, want one on queue other", tasks)
			}
			if s2c := h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_CLOSE); s2c.Row.FireAt != a.ScheduledTime+int64(2*time.Hour) {
				h.t.Fatalf("schedule-to-close at %d, want scheduled time + 2h", s2c.Row.FireAt)
			}
			// Neither timeout left: refused, nothing changes.
			before := h.state("wf")
			h.applyErr(activityOpCmd("wf", "a1", optionsOp(&fsmpb.ActivityOptionsUpdate{Options: &activitypb.ActivityOptions{},
				Paths: []string{"scheduleToCloseTimeout", "startToCloseTimeout"}})), ErrInvalidArgument)
			if after := h.state("wf"); !proto.Equal(before, after) {
				h.t.Fatalf("a refused update changed the state")
			}
			// Restore the scheduled options.
			h.applyOK(activityOpCmd("wf", "a1", optionsOp(&fsmpb.ActivityOptionsUpdate{RestoreOriginal: true})))
			if a := h.state("wf").Activities[5]; a.TaskQueue != "tq" || a.ScheduleToCloseTimeout != int64(time.Hour) || a.RetryPolicy.MaximumAttempts != 0 {
				h.t.Fatalf("after restore %v", a)
			}
		}},
		{name: "targets and refusals", run: func(h *harness, runID string, at *StartedActivityTask) {
			h.applyErr(activityOpCmd("wf", "nope", pauseOp("")), ErrActivityNotFound)
			h.applyErr(activityOpCmd("wf", "", func(op *fsmpb.ActivityOperation) {
				op.ActivityType = "other-type"
				pauseOp("")(op)
			}), ErrActivityNotFound)
			h.applyOK(activityOpCmd("wf", "", func(op *fsmpb.ActivityOperation) {
				op.ActivityType = "act-type"
				pauseOp("by type")(op)
			}))
			if a := h.state("wf").Activities[5]; !a.Paused {
				h.t.Fatalf("pause by type did not pause %v", a)
			}
			h.applyOK(activityOpCmd("wf", "", func(op *fsmpb.ActivityOperation) {
				op.MatchAll = true
				unpauseOp(&fsmpb.ActivityUnpause{})(op)
			}))
			if a := h.state("wf").Activities[5]; a.Paused {
				h.t.Fatalf("unpause all left it paused %v", a)
			}
			h.applyOK(terminateCmd("wf", "done"))
			h.applyErr(activityOpCmd("wf", "a1", pauseOp("")), ErrWorkflowClosed)
			if st := h.state("wf"); len(st.Activities) != 1 {
				h.t.Fatalf("a closed run lists %d pending activities, want 1 (Describe shows it)", len(st.Activities))
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, runID, at := activityHarness(t, withRetry)
			tc.run(h, runID, at)
		})
	}
}
