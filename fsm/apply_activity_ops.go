package fsm

import (
	"slices"

	activitypb "go.temporal.io/api/activity/v1"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"google.golang.org/protobuf/proto"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// Activity operations: PauseActivity, UnpauseActivity, ResetActivity and
// UpdateActivityOptions, as Temporal (v1.31) applies them. None writes a
// history event: they change the pending activity's mutable state only.
//
//   - A paused activity gets no new attempt: a waiting one leaves its queue
//     (task row, schedule-to-start and retry timers dropped); a running one
//     keeps running, its heartbeats answer activity_paused, and if that
//     attempt fails or times out the next one waits for the unpause. The
//     schedule-to-close timeout still runs.
//   - Unpause dispatches a waiting activity (after the proposer's jitter),
//     optionally from attempt 1 and without heartbeat details.
//   - Reset restarts the attempt count: a waiting activity is dispatched
//     again as attempt 1 (unpaused unless keep_paused); a running one is
//     told through its heartbeats (activity_reset) and the attempt after it
//     is attempt 2.
//   - UpdateActivityOptions changes the task queue, timeouts and retry
//     policy, re-arming the timers from the times already recorded.
//
// An attempt handed out before a reset must not complete the new one that
// carries the same attempt number: the activity's stamp grows with every
// such reset and tokens carry it (findActivity).

func (t *txn) activityOperation(op *fsmpb.ActivityOperation) *Result {
	w, err := t.loadRunning(op.Namespace, op.WorkflowId, op.RunId)
	if err != nil {
		return &Result{Err: err}
	}
	targets := w.activityTargets(op)
	if len(targets) == 0 {
		return &Result{Err: ErrActivityNotFound}
	}
	res := &Result{RunID: w.st.RunId}
	switch o := op.Op.(type) {
	case *fsmpb.ActivityOperation_Pause:
		for _, a := range targets {
			w.pauseActivity(a, op.Identity, o.Pause.GetReason())
		}
	case *fsmpb.ActivityOperation_Unpause:
		for _, a := range targets {
			w.unpauseActivity(a, o.Unpause)
		}
	case *fsmpb.ActivityOperation_ResetActivity:
		for _, a := range targets {
			if o.ResetActivity.GetRestoreOriginalOptions() {
				w.setActivityOptions(a, w.originalActivityOptions(a))
			}
			w.resetActivity(a, o.ResetActivity)
		}
	case *fsmpb.ActivityOperation_UpdateOptions:
		// Every target's new options are worked out before any changes, so
		// a refused update changes nothing.
		opts := make([]*activitypb.ActivityOptions, len(targets))
		for i, a := range targets {
			if opts[i], err = w.updatedActivityOptions(a, o.UpdateOptions); err != nil {
				return &Result{Err: err}
			}
		}
		for i, a := range targets {
			w.setActivityOptions(a, opts[i])
		}
		res.ActivityOptions = ActivityOptionsOf(targets[len(targets)-1])
	default:
		return &Result{Err: invalidArg("activity operation: no operation set")}
	}
	w.save()
	return res
}

// activityTargets are the pending activities an operation names, in
// scheduled order: by id, by type, or all of them.
func (w *run) activityTargets(op *fsmpb.ActivityOperation) []*fsmpb.ActivityInfo {
	var out []*fsmpb.ActivityInfo
	for _, id := range sortedActivityIDs(w.st.Activities) {
		a := w.st.Activities[id]
		switch {
		case op.ActivityId != "" && a.ActivityId == op.ActivityId,
			op.ActivityType != "" && a.GetActivityType().GetName() == op.ActivityType,
			op.MatchAll:
			out = append(out, a)
		}
	}
	return out
}

func sortedActivityIDs(m map[int64]*fsmpb.ActivityInfo) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (w *run) pauseActivity(a *fsmpb.ActivityInfo, identity, reason string) {
	if a.Paused {
		return
	}
	a.Paused, a.PauseTime, a.PauseIdentity, a.PauseReason = true, w.t.now, identity, reason
	if a.StartedTime == 0 {
		w.holdActivity(a)
	}
}

func (w *run) unpauseActivity(a *fsmpb.ActivityInfo, u *fsmpb.ActivityUnpause) {
	if !a.Paused {
		return
	}
	clearPause(a)
	if u.ResetHeartbeat {
		a.HeartbeatDetails = nil
	}
	if a.StartedTime > 0 {
		a.RestartAttempts = a.RestartAttempts || u.ResetAttempts
		return
	}
	if u.ResetAttempts {
		a.Attempt = 1
	}
	w.redispatchActivity(a, u.Delay)
}

func (w *run) resetActivity(a *fsmpb.ActivityInfo, r *fsmpb.ActivityReset) {
	if a.StartedTime > 0 {
		a.ResetRequested, a.RestartAttempts = true, true
		a.ResetHeartbeat = a.ResetHeartbeat || r.ResetHeartbeat
		return
	}
	a.Attempt = 1
	if r.ResetHeartbeat {
		a.HeartbeatDetails = nil
	}
	if a.Paused && r.KeepPaused {
		a.Stamp++
		return
	}
	clearPause(a)
	w.redispatchActivity(a, r.Delay)
}

func clearPause(a *fsmpb.ActivityInfo) {
	a.Paused, a.PauseTime, a.PauseIdentity, a.PauseReason = false, 0, "", ""
}

// holdActivity takes a not-started activity out of its queue: its task
// row, schedule-to-start and retry timers go.
func (w *run) holdActivity(a *fsmpb.ActivityInfo) {
	w.t.delTask(a.TaskKey)
	a.TaskKey = nil
	w.dropActivityTimers(a, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_START, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_RETRY)
	a.RetryTimerPending = false
}

// redispatchActivity queues a not-started activity's current attempt again
// after delay (0: now), with a new stamp.
func (w *run) redispatchActivity(a *fsmpb.ActivityInfo, delay int64) {
	w.holdActivity(a)
	a.Stamp++
	if delay > 0 {
		a.RetryTimerPending = true
		w.addActivityTimer(a, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_RETRY, after(w.t.now, delay))
		return
	}
	w.dispatchActivity(a)
}

// ActivityOptionsOf is an activity's options as UpdateActivityOptions and
// Describe show them.
func ActivityOptionsOf(a *fsmpb.ActivityInfo) *activitypb.ActivityOptions {
	return &activitypb.ActivityOptions{
		TaskQueue:              &taskqueuepb.TaskQueue{Name: a.TaskQueue},
		ScheduleToCloseTimeout: dur(a.ScheduleToCloseTimeout), ScheduleToStartTimeout: dur(a.ScheduleToStartTimeout),
		StartToCloseTimeout: dur(a.StartToCloseTimeout), HeartbeatTimeout: dur(a.HeartbeatTimeout),
		RetryPolicy: proto.Clone(a.GetRetryPolicy()).(*commonpb.RetryPolicy),
		Priority:    proto.Clone(a.GetPriority()).(*commonpb.Priority),
	}
}

// originalActivityOptions are the options the activity was scheduled with
// (its ActivityTaskScheduled event).
func (w *run) originalActivityOptions(a *fsmpb.ActivityInfo) *activitypb.ActivityOptions {
	s := w.st
	var ev historypb.HistoryEvent
	getProto(w.t.b, historyKey(s.Namespace, s.WorkflowId, s.RunId, a.ScheduledEventId), &ev)
	e := ev.GetActivityTaskScheduledEventAttributes()
	return &activitypb.ActivityOptions{
		TaskQueue:              &taskqueuepb.TaskQueue{Name: e.GetTaskQueue().GetName()},
		ScheduleToCloseTimeout: e.GetScheduleToCloseTimeout(), ScheduleToStartTimeout: e.GetScheduleToStartTimeout(),
		StartToCloseTimeout: e.GetStartToCloseTimeout(), HeartbeatTimeout: e.GetHeartbeatTimeout(),
		RetryPolicy: e.GetRetryPolicy(), Priority: mergePriority(w.st.Priority, e.GetPriority()),
	}
}

// updatedActivityOptions merges an update into the activity's options
// (Temporal's field names, each path replacing one field) and normalizes
// the timeouts as a ScheduleActivityTask command's are.
func (w *run) updatedActivityOptions(a *fsmpb.ActivityInfo, u *fsmpb.ActivityOptionsUpdate) (*activitypb.ActivityOptions, error) {
	var o *activitypb.ActivityOptions
	if u.RestoreOriginal {
		o = w.originalActivityOptions(a)
	} else {
		o = ActivityOptionsOf(a)
		from := u.GetOptions()
		for _, p := range u.Paths {
			switch p {
			case "taskQueue.name", "taskQueue", "taskQueueName": // the last is what `temporal activity update-options` sends
				if from.GetTaskQueue().GetName() == "" {
					return nil, invalidArg("TaskQueue is not provided")
				}
				o.TaskQueue = &taskqueuepb.TaskQueue{Name: from.TaskQueue.Name}
			case "scheduleToCloseTimeout":
				o.ScheduleToCloseTimeout = from.GetScheduleToCloseTimeout()
			case "scheduleToStartTimeout":
				o.ScheduleToStartTimeout = from.GetScheduleToStartTimeout()
			case "startToCloseTimeout":
				o.StartToCloseTimeout = from.GetStartToCloseTimeout()
			case "heartbeatTimeout":
				o.HeartbeatTimeout = from.GetHeartbeatTimeout()
			case "retryPolicy":
				o.RetryPolicy = from.GetRetryPolicy()
			case "priority":
				o.Priority = from.GetPriority()
			case "priority.priorityKey", "priority.fairnessKey", "priority.fairnessWeight":
				if from.GetPriority() == nil {
					return nil, invalidArg("Priority is not provided")
				}
				if o.Priority == nil {
					o.Priority = &commonpb.Priority{}
				}
				switch p {
				case "priority.priorityKey":
					o.Priority.PriorityKey = from.Priority.PriorityKey
				case "priority.fairnessKey":
					o.Priority.FairnessKey = from.Priority.FairnessKey
				default:
					o.Priority.FairnessWeight = from.Priority.FairnessWeight
				}
			case "retryPolicy.initialInterval", "retryPolicy.backoffCoefficient", "retryPolicy.maximumInterval", "retryPolicy.maximumAttempts":
				if from.GetRetryPolicy() == nil {
					return nil, invalidArg("RetryPolicy is not provided")
				}
				if o.RetryPolicy == nil {
					o.RetryPolicy = &commonpb.RetryPolicy{}
				}
				switch p {
				case "retryPolicy.initialInterval":
					o.RetryPolicy.InitialInterval = from.RetryPolicy.InitialInterval
				case "retryPolicy.backoffCoefficient":
					o.RetryPolicy.BackoffCoefficient = from.RetryPolicy.BackoffCoefficient
				case "retryPolicy.maximumInterval":
					o.RetryPolicy.MaximumInterval = from.RetryPolicy.MaximumInterval
				default:
					o.RetryPolicy.MaximumAttempts = from.RetryPolicy.MaximumAttempts
				}
			}
		}
	}
	s2c, st2c, s2s, hb := activityTimeouts(w.st.RunTimeout, nanosOf(o.ScheduleToCloseTimeout), nanosOf(o.StartToCloseTimeout),
		nanosOf(o.ScheduleToStartTimeout), nanosOf(o.HeartbeatTimeout))
	if st2c <= 0 {
		return nil, invalidArg("A valid StartToClose or ScheduleToCloseTimeout is not set on ScheduleActivityTaskCommand.")
	}
	o.ScheduleToCloseTimeout, o.StartToCloseTimeout, o.ScheduleToStartTimeout, o.HeartbeatTimeout = dur(s2c), dur(st2c), dur(s2s), dur(hb)
	o.RetryPolicy = normalizeRetryPolicy(o.RetryPolicy)
	return o, nil
}

// setActivityOptions puts options in force and re-arms the activity's
// timers from the times already recorded (scheduled, started, last
// heartbeat); a waiting attempt moves to the (possibly new) queue.
func (w *run) setActivityOptions(a *fsmpb.ActivityInfo, o *activitypb.ActivityOptions) {
	if q := o.GetTaskQueue().GetName(); q != "" {
		a.TaskQueue = q
	}
	a.ScheduleToCloseTimeout, a.StartToCloseTimeout = nanosOf(o.ScheduleToCloseTimeout), nanosOf(o.StartToCloseTimeout)
	a.ScheduleToStartTimeout, a.HeartbeatTimeout = nanosOf(o.ScheduleToStartTimeout), nanosOf(o.HeartbeatTimeout)
	a.RetryPolicy = normalizeRetryPolicy(o.RetryPolicy)
	a.Priority = o.Priority
	w.dropActivityTimers(a, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_CLOSE, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_START,
		fsmpb.TimerKind_TIMER_KIND_ACTIVITY_START_TO_CLOSE, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_HEARTBEAT)
	if a.ScheduleToCloseTimeout > 0 {
		w.addActivityTimer(a, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_CLOSE, after(a.ScheduledTime, a.ScheduleToCloseTimeout))
	}
	switch {
	case a.StartedTime > 0:
		w.addActivityTimer(a, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_START_TO_CLOSE, after(a.StartedTime, a.StartToCloseTimeout))
		if a.HeartbeatTimeout > 0 {
			w.addActivityTimer(a, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_HEARTBEAT, after(max(a.LastHeartbeatTime, a.StartedTime), a.HeartbeatTimeout))
		}
	case a.TaskKey != nil:
		w.t.delTask(a.TaskKey)
		a.TaskKey = nil
		w.dispatchActivity(a)
	}
}
