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
func (w *wf) findActivity(scheduledID int64, attempt int32, activityID string) *fsmpb.ActivityInfo {
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
		ev := w.event(enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
		ev.Attributes = &historypb.HistoryEvent_ActivityTaskCompletedEventAttributes{ActivityTaskCompletedEventAttributes: &historypb.ActivityTaskCompletedEventAttributes{
			Result: o.Completed, ScheduledEventId: a.ScheduledEventId, StartedEventId: -1, Identity: op.Identity,
		}}
		w.endActivity(a, ev)
	case *fsmpb.ActivityResult_Failed:
		if op.LastHeartbeatDetails != nil {
			a.HeartbeatDetails = op.LastHeartbeatDetails
		}
		w.activityFailed(a, o.Failed, op.Identity)
	case *fsmpb.ActivityResult_Canceled:
		ev := w.event(enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED)
		ev.Attributes = &historypb.HistoryEvent_ActivityTaskCanceledEventAttributes{ActivityTaskCanceledEventAttributes: &historypb.ActivityTaskCanceledEventAttributes{
			Details: o.Canceled, LatestCancelRequestedEventId: a.CancelRequestedEventId,
			ScheduledEventId: a.ScheduledEventId, StartedEventId: -1, Identity: op.Identity,
		}}
		w.endActivity(a, ev)
	default:
		return &Result{Err: invalidArg("activity result has no outcome")}
	}
	w.save()
	return &Result{RunID: w.st.RunId}
}

// endActivity records the final attempt's Started event and the close event.
func (w *wf) endActivity(a *fsmpb.ActivityInfo, closeEv *historypb.HistoryEvent) {
	var evs []*historypb.HistoryEvent
	if a.StartedTime > 0 {
		started := w.event(enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED)
		started.EventTime = ts(a.StartedTime)
		started.Attributes = &historypb.HistoryEvent_ActivityTaskStartedEventAttributes{ActivityTaskStartedEventAttributes: &historypb.ActivityTaskStartedEventAttributes{
			ScheduledEventId: a.ScheduledEventId, Identity: a.StartedIdentity, RequestId: a.PollRequestId,
			Attempt: a.Attempt, LastFailure: a.LastFailure,
		}}
		evs = append(evs, started)
	}
	w.removeActivity(a)
	w.record(append(evs, closeEv)...)
}

func (w *wf) activityFailed(a *fsmpb.ActivityInfo, f *failurepb.Failure, identity string) {
	backoff, state := retryDecision(a.RetryPolicy, a.Attempt, f, w.t.now, activityExpiry(a))
	if state == enumspb.RETRY_STATE_IN_PROGRESS {
		w.retryActivity(a, f, backoff)
		return
	}
	ev := w.event(enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED)
	ev.Attributes = &historypb.HistoryEvent_ActivityTaskFailedEventAttributes{ActivityTaskFailedEventAttributes: &historypb.ActivityTaskFailedEventAttributes{
		Failure: f, ScheduledEventId: a.ScheduledEventId, StartedEventId: -1, Identity: identity, RetryState: state,
	}}
	w.endActivity(a, ev)
}

// activityTimedOut handles a fired activity timeout of timeoutType.
func (w *wf) activityTimedOut(a *fsmpb.ActivityInfo, timeoutType enumspb.TimeoutType) {
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
	ev := w.event(enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT)
	started := int64(0)
	if a.StartedTime > 0 {
		started = -1
	}
	ev.Attributes = &historypb.HistoryEvent_ActivityTaskTimedOutEventAttributes{ActivityTaskTimedOutEventAttributes: &historypb.ActivityTaskTimedOutEventAttributes{
		Failure: f, ScheduledEventId: a.ScheduledEventId, StartedEventId: started, RetryState: state,
	}}
	w.endActivity(a, ev)
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
func (w *wf) retryActivity(a *fsmpb.ActivityInfo, f *failurepb.Failure, backoff int64) {
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
