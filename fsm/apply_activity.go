package fsm

import (
	"cmp"
	"fmt"

	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// findActivity resolves an activity by scheduled event id (token) or by
// activity id (the ById forms); a token's attempt and stamp must be the
// activity's current ones. Activity ids are unique among pending
// activities, so the map walk has one possible answer.
func (w *run) findActivity(scheduledID int64, attempt, stamp int32, activityID string) *fsmpb.ActivityInfo {
	if scheduledID > 0 {
		a := w.st.Activities[scheduledID]
		if a == nil || a.Attempt != attempt || a.Stamp != stamp {
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

// The ScheduleActivityTask and RequestCancelActivityTask commands.

func (w *run) validateScheduleActivity(tc *taskCompletion, i int, c *commandpb.Command) *BadCommandError {
	a := c.GetScheduleActivityTaskCommandAttributes()
	cause := enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES
	switch {
	case a == nil:
		return bad(cause, "command %d: ScheduleActivityTaskCommandAttributes is not set", i)
	case a.ActivityId == "":
		return bad(cause, "command %d: activity_id is not set", i)
	case a.GetActivityType().GetName() == "":
		return bad(cause, "command %d: activity_type is not set", i)
	case tc.activityIDs[a.ActivityId]:
		return bad(cause, "command %d: activity_id %q is already in use", i, a.ActivityId)
	case nanosOf(a.StartToCloseTimeout) <= 0 && nanosOf(a.ScheduleToCloseTimeout) <= 0:
		return bad(cause, "command %d: a valid StartToClose or ScheduleToClose timeout is required", i)
	}
	tc.activityIDs[a.ActivityId] = true
	tc.scheduled[tc.nextID] = true
	return nil
}

// eagerly reports whether the activity a schedules is given to the
// completing worker at once, when n were given before it.
func (w *run) eagerly(a *commandpb.ScheduleActivityTaskCommandAttributes, n int) bool {
	q := a.GetTaskQueue().GetName()
	return a.RequestEagerExecution && (q == "" || q == w.st.TaskQueue) && n < MaxEagerActivities
}

func (w *run) applyScheduleActivity(tc *taskCompletion, c *commandpb.Command) bool {
	w.scheduleActivity(c.GetScheduleActivityTaskCommandAttributes(), tc.completedID)
	return false
}

func (w *run) validateRequestCancelActivity(tc *taskCompletion, i int, c *commandpb.Command) *BadCommandError {
	s := w.st
	a := c.GetRequestCancelActivityTaskCommandAttributes()
	inBatch := tc.scheduled[a.GetScheduledEventId()]
	if a == nil || (s.Activities[a.ScheduledEventId] == nil && !inBatch && !w.bufferedActivityClose(a.ScheduledEventId)) {
		return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES,
			"command %d: no pending activity scheduled by event %d", i, a.GetScheduledEventId())
	}
	// A second request would find the activity gone (canceled by the
	// first) or already asked: Temporal rejects duplicates, too.
	if tc.cancelIDs[a.ScheduledEventId] || s.Activities[a.ScheduledEventId].GetCancelRequested() {
		return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES,
			"command %d: cancellation of the activity scheduled by event %d was already requested", i, a.ScheduledEventId)
	}
	tc.cancelIDs[a.ScheduledEventId] = true
	return nil
}

func (w *run) applyRequestCancelActivity(tc *taskCompletion, c *commandpb.Command) bool {
	return w.requestCancelActivity(c.GetRequestCancelActivityTaskCommandAttributes().ScheduledEventId, tc)
}

func (w *run) scheduleActivity(a *commandpb.ScheduleActivityTaskCommandAttributes, completedID int64) {
	s := w.st
	s2c, st2c, s2s, hb := activityTimeouts(s.RunTimeout, nanosOf(a.ScheduleToCloseTimeout), nanosOf(a.StartToCloseTimeout),
		nanosOf(a.ScheduleToStartTimeout), nanosOf(a.HeartbeatTimeout))
	queue := a.GetTaskQueue().GetName()
	if queue == "" {
		queue = s.TaskQueue
	}
	eager := w.eagerly(a, len(w.eager))
	retry := normalizeRetryPolicy(a.RetryPolicy)
	ev := w.activityTaskScheduledEvent(&historypb.ActivityTaskScheduledEventAttributes{
		ActivityId: a.ActivityId, ActivityType: a.ActivityType,
		TaskQueue: &taskqueuepb.TaskQueue{Name: queue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		Header:    a.Header, Input: a.Input,
		ScheduleToCloseTimeout: dur(s2c), ScheduleToStartTimeout: dur(s2s), StartToCloseTimeout: dur(st2c),
		HeartbeatTimeout: dur(hb), WorkflowTaskCompletedEventId: completedID, RetryPolicy: retry, Priority: a.Priority,
	})
	w.appendEvents(ev)
	info := &fsmpb.ActivityInfo{
		ScheduledEventId: ev.EventId, ActivityId: a.ActivityId, ActivityType: a.ActivityType, TaskQueue: queue,
		Header: a.Header, Input: a.Input, ScheduleToCloseTimeout: s2c, ScheduleToStartTimeout: s2s,
		StartToCloseTimeout: st2c, HeartbeatTimeout: hb, RetryPolicy: retry, Attempt: 1,
		ScheduledTime: w.t.now, Priority: mergePriority(s.Priority, a.Priority),
	}
	if s.Activities == nil {
		s.Activities = map[int64]*fsmpb.ActivityInfo{}
	}
	s.Activities[ev.EventId] = info
	if s2c > 0 {
		w.addActivityTimer(info, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_CLOSE, after(w.t.now, s2c))
	}
	if eager {
		// Eager dispatch: the worker completing this task runs the activity
		// itself, saving it a poll (Temporal's eager activity execution).
		w.eager = append(w.eager, w.markActivityStarted(info, w.identity, ""))
		return
	}
	w.dispatchActivity(info)
}

// activityTimeouts normalizes an activity's timeouts as Temporal does: the
// schedule-to-close is at most the run timeout (and is it when unset); the
// others at most schedule-to-close; the heartbeat at most start-to-close.
func activityTimeouts(runTimeout, s2c, st2c, s2s, hb int64) (int64, int64, int64, int64) {
	if s2c <= 0 || (runTimeout > 0 && s2c > runTimeout) {
		s2c = runTimeout
	}
	if st2c <= 0 || (s2c > 0 && st2c > s2c) {
		st2c = s2c
	}
	if s2s <= 0 || (s2c > 0 && s2s > s2c) {
		s2s = s2c
	}
	return s2c, st2c, s2s, min(hb, st2c)
}

// dispatchActivity queues the activity's current attempt.
func (w *run) dispatchActivity(a *fsmpb.ActivityInfo) {
	s := w.st
	a.CurrentAttemptScheduledTime = w.t.now
	a.TaskKey = w.t.addTask(&fsmpb.TaskRow{
		Namespace: s.Namespace, TaskQueue: a.TaskQueue, Kind: fsmpb.TaskKind_TASK_KIND_ACTIVITY,
		WorkflowId: s.WorkflowId, RunId: s.RunId, ScheduledEventId: a.ScheduledEventId, Attempt: a.Attempt, Priority: a.Priority,
	})
	if a.ScheduleToStartTimeout > 0 && a.ScheduleToStartTimeout != a.ScheduleToCloseTimeout {
		w.addActivityTimer(a, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_START, after(w.t.now, a.ScheduleToStartTimeout))
	}
}

// requestCancelActivity: a not-yet-started activity is canceled at once; a
// started one is marked so its next heartbeat learns of it. The
// ActivityTaskCanceled event of a not-started one is not a command's event:
// Temporal buffers it, so it follows the completion's batch (and the SDK
// numbers the next command's events right after CancelRequested).
func (w *run) requestCancelActivity(scheduledID int64, tc *taskCompletion) bool {
	a := w.st.Activities[scheduledID]
	ev := w.activityTaskCancelRequestedEvent(scheduledID, tc.completedID)
	w.appendEvents(ev)
	if a == nil {
		// It finished while the task ran: its close event is buffered and
		// follows. Temporal records the request all the same.
		return false
	}
	if a.StartedTime > 0 {
		a.CancelRequested, a.CancelRequestedEventId = true, ev.EventId
		return false
	}
	w.removeActivity(a)
	requestedID := ev.EventId
	tc.results = append(tc.results, func() {
		w.appendEvents(w.activityTaskCanceledEvent(scheduledID, 0, requestedID, nil, ""))
	})
	return true
}

func (w *run) removeActivity(a *fsmpb.ActivityInfo) {
	w.releaseActivity(a)
	delete(w.st.Activities, a.ScheduledEventId)
}

// bufferedActivityClose reports whether a close event of the activity
// scheduled by scheduledID is buffered (it finished while the task ran).
func (w *run) bufferedActivityClose(scheduledID int64) bool {
	for _, ev := range w.st.BufferedEvents {
		var id int64
		switch a := ev.Attributes.(type) {
		case *historypb.HistoryEvent_ActivityTaskCompletedEventAttributes:
			id = a.ActivityTaskCompletedEventAttributes.ScheduledEventId
		case *historypb.HistoryEvent_ActivityTaskFailedEventAttributes:
			id = a.ActivityTaskFailedEventAttributes.ScheduledEventId
		case *historypb.HistoryEvent_ActivityTaskTimedOutEventAttributes:
			id = a.ActivityTaskTimedOutEventAttributes.ScheduledEventId
		case *historypb.HistoryEvent_ActivityTaskCanceledEventAttributes:
			id = a.ActivityTaskCanceledEventAttributes.ScheduledEventId
		default:
			continue
		}
		if id == scheduledID {
			return true
		}
	}
	return false
}

func (t *txn) activityResult(op *fsmpb.ActivityResult) *Result {
	w, err := t.loadRunning(op.Namespace, op.WorkflowId, op.RunId)
	if err != nil {
		return &Result{Err: err}
	}
	a := w.findActivity(op.ScheduledEventId, op.Attempt, op.Stamp, op.ActivityId)
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
	backoff, state := retryDecision(a.RetryPolicy, retryAttempt(a), f, w.t.now, activityExpiry(a))
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
		backoff, state = retryDecision(a.RetryPolicy, retryAttempt(a), f, w.t.now, activityExpiry(a))
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

// retryAttempt is the attempt number a retry decision counts from: 1 when
// the running attempt was reset.
func retryAttempt(a *fsmpb.ActivityInfo) int32 {
	if a.RestartAttempts {
		return 1
	}
	return a.Attempt
}

// retryActivity schedules the next attempt after backoff (a paused
// activity's waits for the unpause). No event is
// written: Temporal records only the last attempt in history.
func (w *run) retryActivity(a *fsmpb.ActivityInfo, f *failurepb.Failure, backoff int64) {
	w.dropActivityTimers(a, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_START_TO_CLOSE,
		fsmpb.TimerKind_TIMER_KIND_ACTIVITY_HEARTBEAT, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_START)
	w.t.delTask(a.TaskKey)
	a.TaskKey = nil
	if a.RestartAttempts {
		// Reset while running: count again from attempt 1, under a new
		// stamp (tokens of the earlier attempt 2 are stale).
		a.Attempt = 1
		a.Stamp++
	}
	if a.ResetHeartbeat {
		a.HeartbeatDetails = nil
	}
	a.ResetRequested, a.RestartAttempts, a.ResetHeartbeat = false, false, false
	a.Attempt++
	a.LastFailure = f
	a.LastWorkerIdentity = a.StartedIdentity
	a.StartedTime, a.StartedIdentity, a.PollRequestId = 0, "", ""
	a.LastHeartbeatTime = 0
	if a.Paused {
		return // the next attempt waits for UnpauseActivity
	}
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
	a := w.findActivity(op.ScheduledEventId, op.Attempt, op.Stamp, op.ActivityId)
	if a == nil || a.StartedTime == 0 {
		return &Result{Err: ErrStaleTask}
	}
	if op.Details != nil {
		a.HeartbeatDetails = op.Details
	}
	a.LastHeartbeatTime = t.now
	w.save()
	return &Result{RunID: w.st.RunId, CancelRequested: a.CancelRequested, ActivityPaused: a.Paused, ActivityReset: a.ResetRequested}
}

// mergePriority is Temporal's priorities.Merge: override's set fields,
// else base's.
func mergePriority(base, override *commonpb.Priority) *commonpb.Priority {
	if base == nil {
		return override
	}
	if override == nil {
		return base
	}
	return &commonpb.Priority{
		PriorityKey:    cmp.Or(override.PriorityKey, base.PriorityKey),
		FairnessKey:    cmp.Or(override.FairnessKey, base.FairnessKey),
		FairnessWeight: cmp.Or(override.FairnessWeight, base.FairnessWeight),
	}
}
