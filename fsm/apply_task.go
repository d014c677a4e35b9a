package fsm

import (
	"bytes"

	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"google.golang.org/protobuf/proto"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// recordTaskStarted hands a backlog task to a poller: the workflow task gets
// its WorkflowTaskStarted event; an activity attempt is marked started in
// mutable state (its ActivityTaskStarted event is written when it ends, as
// Temporal does, so retries do not grow the history).
func (t *txn) recordTaskStarted(op *fsmpb.RecordTaskStarted) *Result {
	var row fsmpb.TaskRow
	if !t.get(op.TaskKey, &row) {
		return &Result{Err: ErrStaleTask}
	}
	w, err := t.loadRunning(row.Namespace, row.WorkflowId, row.RunId)
	if err != nil {
		t.delTask(op.TaskKey)
		return &Result{Err: ErrStaleTask}
	}
	switch row.Kind {
	case fsmpb.TaskKind_TASK_KIND_WORKFLOW:
		return w.startWorkflowTask(op)
	case fsmpb.TaskKind_TASK_KIND_ACTIVITY:
		return w.startActivityTask(op, &row)
	}
	t.delTask(op.TaskKey)
	return &Result{Err: ErrStaleTask}
}

func (w *run) startWorkflowTask(op *fsmpb.RecordTaskStarted) *Result {
	s, wt := w.st, w.st.WorkflowTask
	if wt == nil || wt.StartedEventId != 0 || !bytes.Equal(wt.TaskKey, op.TaskKey) {
		w.t.delTask(op.TaskKey)
		return &Result{Err: ErrStaleTask}
	}
	ev := w.workflowTaskStartedEvent(wt.ScheduledEventId, op.Identity, op.PollRequestId, s.HistorySizeBytes, suggestContinueAsNew(s))
	if len(wt.SpeculativeEvents) > 0 {
		ev.EventId = wt.ScheduledEventId + 1
		wt.SpeculativeEvents = append(wt.SpeculativeEvents, ev)
	} else {
		w.appendEvents(ev)
	}
	w.t.delTask(op.TaskKey)
	w.t.delTimer(wt.TimerKey) // a sticky task's schedule-to-start timeout
	wt.TaskKey, wt.TimerKey = nil, nil
	wt.StartedEventId, wt.StartedTime, wt.Identity, wt.PollRequestId = ev.EventId, w.t.now, op.Identity, op.PollRequestId
	s.UpdateRequested = false // the updates admitted so far ride on this task
	wt.TimerKey = w.t.addTimer(&fsmpb.TimerRow{
		Kind: fsmpb.TimerKind_TIMER_KIND_WORKFLOW_TASK_START_TO_CLOSE, Namespace: s.Namespace,
		WorkflowId: s.WorkflowId, RunId: s.RunId, Ref: wt.ScheduledEventId, Attempt: wt.Attempt,
		FireAt: after(w.t.now, s.TaskTimeout),
	})
	w.save()
	return &Result{RunID: s.RunId, WorkflowTask: &StartedWorkflowTask{
		Token: &fsmpb.TaskToken{
			Namespace: s.Namespace, WorkflowId: s.WorkflowId, RunId: s.RunId, Kind: fsmpb.TaskKind_TASK_KIND_WORKFLOW,
			ScheduledEventId: wt.ScheduledEventId, StartedEventId: wt.StartedEventId, Attempt: wt.Attempt,
		},
		WorkflowType: s.WorkflowType, TaskQueue: wt.TaskQueue, NormalTaskQueue: s.TaskQueue, Sticky: wt.Sticky,
		PreviousStartedEventID: s.LastCompletedStartedEventId, StartedEventID: wt.StartedEventId,
		Attempt: wt.Attempt, ScheduledTime: wt.ScheduledTime, StartedTime: wt.StartedTime,
		SpeculativeEvents: wt.SpeculativeEvents,
	}}
}

func (w *run) startActivityTask(op *fsmpb.RecordTaskStarted, row *fsmpb.TaskRow) *Result {
	s := w.st
	a := s.Activities[row.ScheduledEventId]
	if a == nil || a.Attempt != row.Attempt || a.StartedTime != 0 || !bytes.Equal(a.TaskKey, op.TaskKey) {
		w.t.delTask(op.TaskKey)
		return &Result{Err: ErrStaleTask}
	}
	w.t.delTask(op.TaskKey)
	a.TaskKey = nil
	started := w.markActivityStarted(a, op.Identity, op.PollRequestId)
	w.save()
	return &Result{RunID: s.RunId, ActivityTask: started}
}

// markActivityStarted starts the activity's current attempt (handed to a
// poller, or eagerly to the worker completing the workflow task) and
// returns what that worker needs.
func (w *run) markActivityStarted(a *fsmpb.ActivityInfo, identity, requestID string) *StartedActivityTask {
	s := w.st
	a.StartedTime, a.StartedIdentity, a.PollRequestId = w.t.now, identity, requestID
	w.dropActivityTimers(a, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_START)
	w.addActivityTimer(a, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_START_TO_CLOSE, after(w.t.now, a.StartToCloseTimeout))
	if a.HeartbeatTimeout > 0 {
		w.addActivityTimer(a, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_HEARTBEAT, after(w.t.now, a.HeartbeatTimeout))
	}
	return &StartedActivityTask{
		Token: &fsmpb.TaskToken{
			Namespace: s.Namespace, WorkflowId: s.WorkflowId, RunId: s.RunId, Kind: fsmpb.TaskKind_TASK_KIND_ACTIVITY,
			ScheduledEventId: a.ScheduledEventId, Attempt: a.Attempt, ActivityId: a.ActivityId, Stamp: a.Stamp,
		},
		WorkflowType: s.WorkflowType,
		Activity:     proto.Clone(a).(*fsmpb.ActivityInfo),
	}
}

func (w *run) addActivityTimer(a *fsmpb.ActivityInfo, kind fsmpb.TimerKind, fireAt int64) {
	s := w.st
	k := w.t.addTimer(&fsmpb.TimerRow{
		Kind: kind, Namespace: s.Namespace, WorkflowId: s.WorkflowId, RunId: s.RunId,
		Ref: a.ScheduledEventId, Attempt: a.Attempt, FireAt: fireAt,
	})
	a.TimerKeys = append(a.TimerKeys, k)
}

// dropActivityTimers deletes the activity's timers of the given kinds.
func (w *run) dropActivityTimers(a *fsmpb.ActivityInfo, kinds ...fsmpb.TimerKind) {
	keep := a.TimerKeys[:0]
	for _, k := range a.TimerKeys {
		var row fsmpb.TimerRow
		if !w.t.get(k, &row) {
			continue
		}
		drop := false
		for _, kind := range kinds {
			drop = drop || row.Kind == kind
		}
		if drop {
			w.t.delTimer(k)
		} else {
			keep = append(keep, k)
		}
	}
	a.TimerKeys = keep
}

// validWorkflowTask loads the run and checks the token names its started
// workflow task.
func (t *txn) validWorkflowTask(tok *fsmpb.TaskToken) (*run, error) {
	w, err := t.loadRunning(tok.GetNamespace(), tok.GetWorkflowId(), tok.GetRunId())
	if err != nil {
		return nil, ErrStaleTask
	}
	wt := w.st.WorkflowTask
	if wt == nil || wt.StartedEventId == 0 || wt.ScheduledEventId != tok.ScheduledEventId ||
		wt.StartedEventId != tok.StartedEventId || wt.Attempt != tok.Attempt {
		return nil, ErrStaleTask
	}
	return w, nil
}

func (t *txn) failWorkflowTask(op *fsmpb.FailWorkflowTask) *Result {
	w, err := t.validWorkflowTask(op.Token)
	if err != nil {
		return &Result{Err: err}
	}
	req := op.GetRequest()
	if op.TerminateReason != "" {
		// A command's payload was over the size limit: the task fails and
		// the workflow is terminated, as Temporal does.
		w.failStartedWorkflowTask(req.Cause, req.Identity)
		w.terminate(op.TerminateReason, req.Identity, nil)
		return &Result{}
	}
	w.recordWorkflowTaskFailed(req.Cause, req.Failure, req.Identity, req.BinaryChecksum)
	w.save()
	return &Result{}
}

// recordWorkflowTaskFailed writes WorkflowTaskFailed, flushes buffered events
// and schedules the next attempt.
func (w *run) recordWorkflowTaskFailed(cause enumspb.WorkflowTaskFailedCause, f *failurepb.Failure, identity, checksum string) {
	wt := w.st.WorkflowTask
	attempt := wt.Attempt
	w.appendEvents(w.workflowTaskFailedEvent(wt.ScheduledEventId, wt.StartedEventId, cause, f, identity, checksum))
	w.clearWorkflowTask()
	w.clearSticky() // the worker dropped the workflow from its cache
	w.flushBuffered()
	w.scheduleWorkflowTask(attempt + 1)
}
