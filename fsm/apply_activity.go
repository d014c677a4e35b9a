package fsm

import (
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// findActivity resolves an activity by scheduled event id (token) or by
// activity id (the ById forms). Activity ids are unique among pending
// activities, so the map walk has one possible answer.
func (w *run) findActivity(scheduledID int64, attempt int32, activityID string) *fsmpb.ActivityInfo {
	if scheduledID > 0 {
		a := w.st.Activities[scheduledID]
		if a == nil || a.Attempt != attempt {
			return nil
		}
		return a
	}
	for _, a := range w.st.Activities {
		if a.ActivityId == activityID {
			return a
		}
	}
	return nil
}

func (t *txn) activityResult(op *fsmpb.ActivityResult) *Result {
	w, err := t.loadRunning(op.Namespace, op.WorkflowId, op.RunId)
	if err != nil {
		return &Result{Err: err}
	}
	a := w.findActivity(op.ScheduledEventId, op.Attempt, op.ActivityId)
	if a == nil || a.StartedTime == 0 {
		return &Result{Err: ErrStaleTask}
	}
	switch o := op.Outcome.(type) {
	case *fsmpb.ActivityResult_Completed:
		w.endActivity(a, w.activityTaskCompletedEvent(a.ScheduledEventId, -1, o.Completed, op.Identity))
	case *fsmpb.ActivityResult_Failed:
		if op.LastHeartbeatDetails != nil {
			a.HeartbeatDetails = op.LastHeartbeatDetails
		}
		w.activityFailed(a, o.Failed, op.Identity)
	case *fsmpb.ActivityResult_Canceled:
		w.endActivity(a, w.activityTaskCanceledEvent(a.ScheduledEventId, -1, a.CancelRequestedEventId, o.Canceled, op.Identity))
	default:
		return &Result{Err: invalidArg("activity result has no outcome")}
	}
	w.save()
	return &Result{RunID: w.st.RunId}
}

// endActivity records the final attempt's Started event and the close event.
func (w *run) endActivity(a *fsmpb.ActivityInfo, closeEv *historypb.HistoryEvent) {
	var evs []*historypb.HistoryEvent
	if a.StartedTime > 0 {
		evs = append(evs, w.activityTaskStartedEvent(a))
	}
	w.removeActivity(a)
	w.record(append(evs, closeEv)...)
}

func (w *run) activityFailed(a *fsmpb.ActivityInfo, f *failurepb.Failure, identity string) {
	backoff, state := retryDecision(a.RetryPolicy, a.Attempt, f, w.t.now, activityExpiry(a))
	if state == enumspb.RETRY_STATE_IN_PROGRESS {
		w.retryActivity(a, f, backoff)
		return
	}
	w.endActivity(a, w.activityTaskFailedEvent(a.ScheduledEventId, -1, f, identity, state))
}

// activityTimedOut handles a fired activity timeout of timeoutType.
func (w *run) activityTimedOut(a *fsmpb.ActivityInfo, timeoutType enumspb.TimeoutType) {
	f := &failurepb.Failure{
		Message: fmt.Sprintf("activity %s timeout", timeoutName(timeoutType)),
		Source:  "Server",
		FailureInfo: &failurepb.Failure_TimeoutFailureInfo{TimeoutFailureInfo: &failurepb.TimeoutFailureInfo{
			TimeoutType: timeoutType, LastHeartbeatDetails: a.HeartbeatDetails,
		}},
	}
	state := enumspb.RETRY_STATE_TIMEOUT
	if timeoutType == enumspb.TIMEOUT_TYPE_START_TO_CLOSE || timeoutType == enumspb.TIMEOUT_TYPE_HEARTBEAT {
		var backoff int64
		backoff, state = retryDecision(a.RetryPolicy, a.Attempt, f, w.t.now, activityExpiry(a))
		if state == enumspb.RETRY_STATE_IN_PROGRESS {
			w.retryActivity(a, f, backoff)
			return
		}
	}
	if a.LastFailure != nil && timeoutType == enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE {
		f.Cause = a.LastFailure
	}
	started := int64(0)
	if a.StartedTime > 0 {
		started = -1
	}
	w.endActivity(a, w.activityTaskTimedOutEvent(a.ScheduledEventId, started, f, state))
}

func timeoutName(t enumspb.TimeoutType) string {
	switch t {
	case enumspb.TIMEOUT_TYPE_START_TO_CLOSE:
		return "StartToClose"
	case enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START:
		return "ScheduleToStart"
	case enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE:
		return "ScheduleToClose"
	case enumspb.TIMEOUT_TYPE_HEARTBEAT:
		return "Heartbeat"
	}
	return t.String()
}

// retryActivity schedules the next attempt after backoff. No event is
// written: Temporal records only the last attempt in history.
func (w *run) retryActivity(a *fsmpb.ActivityInfo, f *failurepb.Failure, backoff int64) {
	w.dropActivityTimers(a, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_START_TO_CLOSE,
		fsmpb.TimerKind_TIMER_KIND_ACTIVITY_HEARTBEAT, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_START)
	w.t.delTask(a.TaskKey)
	a.TaskKey = nil
	a.Attempt++
	a.LastFailure = f
	a.LastWorkerIdentity = a.StartedIdentity
	a.StartedTime, a.StartedIdentity, a.PollRequestId = 0, "", ""
	a.LastHeartbeatTime = 0
	if backoff <= 0 {
		w.dispatchActivity(a)
		return
	}
	a.RetryTimerPending = true
	w.addActivityTimer(a, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_RETRY, after(w.t.now, backoff))
}

func (t *txn) heartbeatActivity(op *fsmpb.HeartbeatActivity) *Result {
	w, err := t.loadRunning(op.Namespace, op.WorkflowId, op.RunId)
	if err != nil {
		return &Result{Err: err}
	}
	a := w.findActivity(op.ScheduledEventId, op.Attempt, op.ActivityId)
	if a == nil || a.StartedTime == 0 {
		return &Result{Err: ErrStaleTask}
	}
	if op.Details != nil {
		a.HeartbeatDetails = op.Details
	}
	a.LastHeartbeatTime = t.now
	w.save()
	return &Result{RunID: w.st.RunId, CancelRequested: a.CancelRequested}
}
