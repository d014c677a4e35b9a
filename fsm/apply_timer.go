package fsm

import (
	"bytes"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"

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
		ev := w.workflowExecutionTimedOutEvent(enumspb.RETRY_STATE_TIMEOUT, "")
		if row.Kind == fsmpb.TimerKind_TIMER_KIND_WORKFLOW_RUN_TIMEOUT {
			f := &failurepb.Failure{Message: "workflow run timeout", FailureInfo: &failurepb.Failure_TimeoutFailureInfo{
				TimeoutFailureInfo: &failurepb.TimeoutFailureInfo{TimeoutType: enumspb.TIMEOUT_TYPE_START_TO_CLOSE}}}
			if backoff, state := retryDecision(s.RetryPolicy, s.Attempt, f, w.t.now, executionExpiry(s)); state == enumspb.RETRY_STATE_IN_PROGRESS {
				runID := w.t.newRunID()
				w.retryRun(w.workflowExecutionTimedOutEvent(state, runID), enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, runID, backoff, f)
				return
			}
			if w.cronNext(ev, enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, nil, f) {
				return
			}
		}
		w.closeRun(ev, enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT)
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

// mergeFields upserts search attributes (a nil or empty payload removes).
func mergeFields(cur, upd *commonpb.SearchAttributes) *commonpb.SearchAttributes {
	if upd == nil {
		return cur
	}
	if cur == nil {
		cur = &commonpb.SearchAttributes{}
	}
	if cur.IndexedFields == nil {
		cur.IndexedFields = map[string]*commonpb.Payload{}
	}
	for k, v := range upd.IndexedFields {
		if v == nil || len(v.Data) == 0 {
			delete(cur.IndexedFields, k)
		} else {
			cur.IndexedFields[k] = v
		}
	}
	return cur
}

func mergeMemo(cur, upd *commonpb.Memo) *commonpb.Memo {
	if upd == nil {
		return cur
	}
	if cur == nil {
		cur = &commonpb.Memo{}
	}
	if cur.Fields == nil {
		cur.Fields = map[string]*commonpb.Payload{}
	}
	for k, v := range upd.Fields {
		if v == nil || len(v.Data) == 0 {
			delete(cur.Fields, k)
		} else {
			cur.Fields[k] = v
		}
	}
	return cur
}
