package fsm

import (
	"bytes"

	commandpb "go.temporal.io/api/command/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// fireTimers fires each named timer row whose time has come (by the
// proposer's clock, never early). A row that is gone or whose owner moved on
// is a no-op: firing is re-validated here, not trusted.
func (t *txn) fireTimers(op *fsmpb.FireTimers) *Result {
	res := &Result{}
	for _, k := range op.Keys {
		var row fsmpb.TimerRow
		if !t.get(k, &row) {
			continue
		}
		if row.FireAt > t.now {
			res.NotDue = append(res.NotDue, k)
			continue
		}
		t.del(k)
		if row.Kind == fsmpb.TimerKind_TIMER_KIND_RETENTION {
			t.expireRun(k, &row)
			continue
		}
		w, err := t.loadRunning(row.Namespace, row.WorkflowId, row.RunId)
		if err != nil {
			continue
		}
		w.onTimer(k, &row)
		w.save()
	}
	return res
}

// The StartTimer and CancelTimer commands.

func (w *run) validateStartTimer(tc *taskCompletion, i int, c *commandpb.Command) *BadCommandError {
	a := c.GetStartTimerCommandAttributes()
	cause := enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES
	switch {
	case a == nil || a.TimerId == "":
		return bad(cause, "command %d: timer_id is not set", i)
	case tc.timerIDs[a.TimerId]:
		return bad(cause, "command %d: timer_id %q is already in use", i, a.TimerId)
	case nanosOf(a.StartToFireTimeout) <= 0:
		return bad(cause, "command %d: start_to_fire_timeout must be positive", i)
	}
	tc.timerIDs[a.TimerId] = true
	return nil
}

func (w *run) applyStartTimer(tc *taskCompletion, c *commandpb.Command) bool {
	s := w.st
	a := c.GetStartTimerCommandAttributes()
	ev := w.timerStartedEvent(a.TimerId, a.StartToFireTimeout, tc.completedID)
	w.appendEvents(ev)
	fireAt := after(w.t.now, nanosOf(a.StartToFireTimeout))
	key := w.t.addTimer(&fsmpb.TimerRow{
		Kind: fsmpb.TimerKind_TIMER_KIND_USER, Namespace: s.Namespace, WorkflowId: s.WorkflowId, RunId: s.RunId,
		Ref: ev.EventId, FireAt: fireAt, TimerId: a.TimerId,
	})
	if s.Timers == nil {
		s.Timers = map[string]*fsmpb.UserTimerInfo{}
	}
	s.Timers[a.TimerId] = &fsmpb.UserTimerInfo{TimerId: a.TimerId, StartedEventId: ev.EventId, FireAt: fireAt, TimerKey: key}
	return false
}

func (w *run) validateCancelTimer(tc *taskCompletion, i int, c *commandpb.Command) *BadCommandError {
	a := c.GetCancelTimerCommandAttributes()
	if a == nil || (!tc.timerIDs[a.TimerId] && w.bufferedTimerFired(a.TimerId) < 0) {
		return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES,
			"command %d: no pending timer %q", i, a.GetTimerId())
	}
	delete(tc.timerIDs, a.TimerId)
	return nil
}

func (w *run) applyCancelTimer(tc *taskCompletion, c *commandpb.Command) bool {
	w.cancelTimer(c.GetCancelTimerCommandAttributes().TimerId, tc.completedID, tc.identity)
	return false
}

func (w *run) cancelTimer(timerID string, completedID int64, identity string) {
	s := w.st
	var startedID int64
	if tm := s.Timers[timerID]; tm != nil {
		startedID = tm.StartedEventId
		w.t.delTimer(tm.TimerKey)
		delete(s.Timers, timerID)
	} else if i := w.bufferedTimerFired(timerID); i >= 0 {
		// It fired while the task ran: the cancel wins, as in Temporal.
		startedID = s.BufferedEvents[i].GetTimerFiredEventAttributes().StartedEventId
		s.BufferedEvents = append(s.BufferedEvents[:i], s.BufferedEvents[i+1:]...)
	}
	w.appendEvents(w.timerCanceledEvent(timerID, startedID, completedID, identity))
}

// bufferedTimerFired finds a buffered TimerFired event for timerID (-1: none).
func (w *run) bufferedTimerFired(timerID string) int {
	for i, ev := range w.st.BufferedEvents {
		if a := ev.GetTimerFiredEventAttributes(); a != nil && a.TimerId == timerID {
			return i
		}
	}
	return -1
}

func removeKey(keys [][]byte, k []byte) [][]byte {
	out := keys[:0]
	for _, x := range keys {
		if !bytes.Equal(x, k) {
			out = append(out, x)
		}
	}
	return out
}

func (w *run) onTimer(key []byte, row *fsmpb.TimerRow) {
	s := w.st
	switch row.Kind {
	case fsmpb.TimerKind_TIMER_KIND_USER:
		tm := s.Timers[row.TimerId]
		if tm == nil || tm.StartedEventId != row.Ref {
			return
		}
		delete(s.Timers, row.TimerId)
		w.record(w.timerFiredEvent(row.TimerId, row.Ref))
	case fsmpb.TimerKind_TIMER_KIND_WORKFLOW_TASK_START_TO_CLOSE:
		wt := s.WorkflowTask
		if wt == nil || wt.ScheduledEventId != row.Ref || wt.Attempt != row.Attempt || wt.StartedEventId == 0 {
			return
		}
		wt.TimerKey = nil
		w.appendEvents(w.workflowTaskTimedOutEvent(wt.ScheduledEventId, wt.StartedEventId, enumspb.TIMEOUT_TYPE_START_TO_CLOSE))
		w.clearWorkflowTask()
		w.clearSticky()
		w.flushBuffered()
		w.scheduleWorkflowTask(row.Attempt + 1)
	case fsmpb.TimerKind_TIMER_KIND_WORKFLOW_TASK_SCHEDULE_TO_START:
		// The sticky worker did not pick the task up in time: Temporal's
		// fallback to the normal queue (with the full history).
		wt := s.WorkflowTask
		if wt == nil || !wt.Sticky || wt.ScheduledEventId != row.Ref || wt.Attempt != row.Attempt || wt.StartedEventId != 0 {
			return
		}
		wt.TimerKey = nil
		w.appendEvents(w.workflowTaskTimedOutEvent(wt.ScheduledEventId, 0, enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START))
		w.clearWorkflowTask()
		w.clearSticky()
		w.scheduleWorkflowTask(row.Attempt)
	case fsmpb.TimerKind_TIMER_KIND_WORKFLOW_RUN_TIMEOUT, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_EXECUTION_TIMEOUT:
		s.TimerKeys = removeKey(s.TimerKeys, key)
		w.failStartedWorkflowTask(enumspb.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND, "")
		if row.Kind == fsmpb.TimerKind_TIMER_KIND_WORKFLOW_EXECUTION_TIMEOUT {
			w.closeRun(w.workflowExecutionTimedOutEvent(enumspb.RETRY_STATE_TIMEOUT, ""), enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT)
			return
		}
		// A run timeout is retried like a failure; one that is not records
		// RETRY_STATE_TIMEOUT whatever the reason (DESIGN.md).
		f := &failurepb.Failure{Message: "workflow run timeout", FailureInfo: &failurepb.Failure_TimeoutFailureInfo{
			TimeoutFailureInfo: &failurepb.TimeoutFailureInfo{TimeoutType: enumspb.TIMEOUT_TYPE_START_TO_CLOSE}}}
		w.retryOrClose(f, enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, func(state enumspb.RetryState, newRunID string) *historypb.HistoryEvent {
			if state != enumspb.RETRY_STATE_IN_PROGRESS {
				state = enumspb.RETRY_STATE_TIMEOUT
			}
			return w.workflowExecutionTimedOutEvent(state, newRunID)
		})
	case fsmpb.TimerKind_TIMER_KIND_WORKFLOW_BACKOFF:
		s.TimerKeys = removeKey(s.TimerKeys, key)
		s.FirstWorkflowTaskBackoff = 0
		w.ensureWorkflowTask()
	default:
		w.onActivityTimer(key, row)
	}
}

func (w *run) onActivityTimer(key []byte, row *fsmpb.TimerRow) {
	a := w.st.Activities[row.Ref]
	if a == nil {
		return
	}
	a.TimerKeys = removeKey(a.TimerKeys, key)
	sameAttempt := a.Attempt == row.Attempt
	switch row.Kind {
	case fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_CLOSE:
		w.activityTimedOut(a, enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE)
	case fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_START:
		if sameAttempt && a.StartedTime == 0 && !a.RetryTimerPending {
			w.activityTimedOut(a, enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START)
		}
	case fsmpb.TimerKind_TIMER_KIND_ACTIVITY_START_TO_CLOSE:
		if sameAttempt && a.StartedTime > 0 {
			w.activityTimedOut(a, enumspb.TIMEOUT_TYPE_START_TO_CLOSE)
		}
	case fsmpb.TimerKind_TIMER_KIND_ACTIVITY_HEARTBEAT:
		if !sameAttempt || a.StartedTime == 0 {
			return
		}
		due := max(a.LastHeartbeatTime, a.StartedTime) + a.HeartbeatTimeout
		if due > w.t.now {
			w.addActivityTimer(a, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_HEARTBEAT, due)
			return
		}
		w.activityTimedOut(a, enumspb.TIMEOUT_TYPE_HEARTBEAT)
	case fsmpb.TimerKind_TIMER_KIND_ACTIVITY_RETRY:
		if sameAttempt && a.RetryTimerPending {
			a.RetryTimerPending = false
			w.dispatchActivity(a)
		}
	}
}
