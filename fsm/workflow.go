package fsm

import (
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	sdkpb "go.temporal.io/api/sdk/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// run is the in-apply view of one workflow run: its mutable state loaded
// into a txn. Mutations go to the batch immediately (events, rows) except the
// state itself, written by save. Its history events are built by one method
// per event type (events_*.go).
type run struct {
	t        *txn
	st       *fsmpb.WorkflowState
	appended bool
	// visDirty: save rewrites the run's visibility record (visibility.go).
	visDirty bool
	// identity and eager are set while a workflow task completes: the
	// completing worker and the activities it gets to run eagerly.
	identity string
	eager    []*StartedActivityTask
	// meta is the user_metadata (summary, details) of the command being
	// applied: as Temporal, the first event the command writes carries it.
	meta *sdkpb.UserMetadata
}

func (t *txn) loadRun(ns, wfID, runID string) (*run, error) {
	if runID == "" {
		var cur fsmpb.CurrentRun
		if !t.get(currentKey(ns, wfID), &cur) {
			return nil, ErrWorkflowNotFound
		}
		runID = cur.RunId
	}
	st := &fsmpb.WorkflowState{}
	if !t.get(stateKey(ns, wfID, runID), st) {
		return nil, ErrWorkflowNotFound
	}
	return &run{t: t, st: st}, nil
}

// loadRunning loads a run and requires it to be running.
func (t *txn) loadRunning(ns, wfID, runID string) (*run, error) {
	w, err := t.loadRun(ns, wfID, runID)
	if err != nil {
		return nil, err
	}
	if w.st.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return nil, ErrWorkflowClosed
	}
	if reason := historyOverLimit(w.st); reason != "" {
		// The last transition grew the history past its limit: the run is
		// terminated now, as Temporal does, and the caller's action refused.
		w.terminate(reason, "raftflow", nil)
		return nil, fmt.Errorf("%w: %s", ErrHistoryLimit, reason)
	}
	return w, nil
}

func (w *run) save() {
	s := w.st
	w.t.set(stateKey(s.Namespace, s.WorkflowId, s.RunId), s)
	if w.visDirty {
		w.visDirty = false
		w.writeVisibility()
	}
	if w.appended {
		w.t.hints = append(w.t.hints, hint{kind: hintHistory, ns: s.Namespace, wf: s.WorkflowId, runID: s.RunId})
	}
}

func ts(nanos int64) *timestamppb.Timestamp { return timestamppb.New(time.Unix(0, nanos).UTC()) }
func dur(nanos int64) *durationpb.Duration {
	if nanos <= 0 {
		return nil
	}
	return durationpb.New(time.Duration(nanos))
}
func nanosOf(d *durationpb.Duration) int64 {
	if d == nil {
		return 0
	}
	return int64(d.AsDuration())
}

// appendEvents gives events their ids and writes them. An activity close
// event whose started_event_id is -1 refers to the ActivityTaskStarted event
// written just before it (both are produced together when an activity ends).
func (w *run) appendEvents(evs ...*historypb.HistoryEvent) {
	w.materializeSpeculative()
	var lastStarted int64
	for _, ev := range evs {
		if w.meta != nil {
			ev.UserMetadata, w.meta = w.meta, nil
		}
		ev.EventId = w.st.NextEventId
		w.st.NextEventId++
		switch a := ev.Attributes.(type) {
		case *historypb.HistoryEvent_ActivityTaskStartedEventAttributes:
			lastStarted = ev.EventId
		case *historypb.HistoryEvent_ActivityTaskCompletedEventAttributes:
			fixStarted(&a.ActivityTaskCompletedEventAttributes.StartedEventId, lastStarted)
		case *historypb.HistoryEvent_ActivityTaskFailedEventAttributes:
			fixStarted(&a.ActivityTaskFailedEventAttributes.StartedEventId, lastStarted)
		case *historypb.HistoryEvent_ActivityTaskTimedOutEventAttributes:
			fixStarted(&a.ActivityTaskTimedOutEventAttributes.StartedEventId, lastStarted)
		case *historypb.HistoryEvent_ActivityTaskCanceledEventAttributes:
			fixStarted(&a.ActivityTaskCanceledEventAttributes.StartedEventId, lastStarted)
		}
		w.t.putEvent(w.st, ev)
		w.appended = true
	}
}

func fixStarted(p *int64, started int64) {
	if *p == -1 {
		*p = started
	}
}

func (w *run) wftStarted() bool {
	return w.st.WorkflowTask != nil && w.st.WorkflowTask.StartedEventId > 0
}

// record adds events that come from outside the running workflow task
// (signals, activity results, fired timers). While a workflow task is started
// they are buffered, as Temporal does, and written after it completes;
// otherwise they are written now. Either way a workflow task will follow.
func (w *run) record(evs ...*historypb.HistoryEvent) {
	if w.wftStarted() {
		w.st.BufferedEvents = append(w.st.BufferedEvents, evs...)
		return
	}
	w.appendEvents(evs...)
	w.ensureWorkflowTask()
}

// flushBuffered writes buffered events; it reports whether there were any.
func (w *run) flushBuffered() bool {
	if len(w.st.BufferedEvents) == 0 {
		return false
	}
	w.appendEvents(w.st.BufferedEvents...)
	w.st.BufferedEvents = nil
	return true
}

func (w *run) ensureWorkflowTask() {
	if w.st.WorkflowTask == nil && w.st.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		if w.st.FirstWorkflowTaskBackoff > 0 && !w.endStartDelay() {
			return // a cron or retry backoff: its timer schedules the task
		}
		w.scheduleWorkflowTask(1)
	}
}

// endStartDelay ends a pending start delay early (a signal arrived): the
// backoff timer goes and the first workflow task may be scheduled. It
// reports false for a cron or retry backoff, which signals do not end.
func (w *run) endStartDelay() bool {
	if !w.st.StartDelay {
		return false
	}
	w.dropFirstTaskBackoff()
	return true
}

// dropFirstTaskBackoff removes a pending first-task backoff (start delay,
// cron or retry) and its timer.
func (w *run) dropFirstTaskBackoff() {
	s := w.st
	if s.FirstWorkflowTaskBackoff == 0 {
		return
	}
	keep := s.TimerKeys[:0]
	for _, k := range s.TimerKeys {
		var row fsmpb.TimerRow
		if w.t.get(k, &row) && row.Kind == fsmpb.TimerKind_TIMER_KIND_WORKFLOW_BACKOFF {
			w.t.delTimer(k)
			continue
		}
		keep = append(keep, k)
	}
	s.TimerKeys = keep
	s.FirstWorkflowTaskBackoff, s.StartDelay = 0, false
}

// Speculative workflow tasks. An update admitted while the run has no
// workflow task pending gets one that writes no events (Temporal's
// speculative task): its Scheduled and Started events wait in
// WorkflowTaskInfo.SpeculativeEvents with the ids they will have, and the
// poll response carries them. Any other event written to the run writes
// them first (materializeSpeculative); a completion with no commands and
// only rejections drops them (discardSpeculative), so updates a workflow
// rejects do not grow its history.

// scheduleSpeculativeWorkflowTask schedules a speculative task on the queue
// a normal one would use.
func (w *run) scheduleSpeculativeWorkflowTask() {
	w.scheduleWorkflowTaskAs(1, true)
}

// materializeSpeculative writes a speculative task's events (with the ids
// they were given: nothing was written since) ahead of any other event: from
// then on it is a normal task. The run has had a workflow task, so a pending
// first-task backoff ends (Temporal skips it once a task existed).
func (w *run) materializeSpeculative() {
	wt := w.st.WorkflowTask
	if wt == nil || len(wt.SpeculativeEvents) == 0 {
		return
	}
	evs := wt.SpeculativeEvents
	wt.SpeculativeEvents = nil
	meta := w.meta
	w.meta = nil
	w.appendEvents(evs...)
	w.meta = meta
	w.dropFirstTaskBackoff()
}

// scheduleWorkflowTask schedules the next workflow task: on the sticky
// queue of the worker that cached the workflow (if any, with a
// schedule-to-start timeout that falls back to the normal queue), else on the
// workflow's task queue.
func (w *run) scheduleWorkflowTask(attempt int32) {
	w.scheduleWorkflowTaskAs(attempt, false)
}

func (w *run) scheduleWorkflowTaskAs(attempt int32, speculative bool) {
	s := w.st
	queue, kind := s.TaskQueue, enumspb.TASK_QUEUE_KIND_NORMAL
	if s.StickyTaskQueue != "" {
		queue, kind = s.StickyTaskQueue, enumspb.TASK_QUEUE_KIND_STICKY
	}
	ev := w.workflowTaskScheduledEvent(&taskqueuepb.TaskQueue{Name: queue, Kind: kind, NormalName: normalName(s, kind)},
		s.TaskTimeout, attempt)
	if speculative {
		ev.EventId = s.NextEventId
	} else {
		w.appendEvents(ev)
	}
	key := w.t.addTask(&fsmpb.TaskRow{
		Namespace: s.Namespace, TaskQueue: queue, Kind: fsmpb.TaskKind_TASK_KIND_WORKFLOW,
		WorkflowId: s.WorkflowId, RunId: s.RunId, ScheduledEventId: ev.EventId, Attempt: attempt, Priority: s.Priority,
	})
	s.WorkflowTask = &fsmpb.WorkflowTaskInfo{
		ScheduledEventId: ev.EventId, Attempt: attempt, TaskQueue: queue,
		ScheduledTime: w.t.now, TaskKey: key, Sticky: kind == enumspb.TASK_QUEUE_KIND_STICKY,
	}
	if speculative {
		s.WorkflowTask.SpeculativeEvents = []*historypb.HistoryEvent{ev}
	}
	if s.WorkflowTask.Sticky {
		timeout := s.StickyScheduleToStartTimeout
		if timeout <= 0 {
			timeout = int64(DefaultStickyScheduleToStart)
		}
		s.WorkflowTask.TimerKey = w.t.addTimer(&fsmpb.TimerRow{
			Kind: fsmpb.TimerKind_TIMER_KIND_WORKFLOW_TASK_SCHEDULE_TO_START, Namespace: s.Namespace,
			WorkflowId: s.WorkflowId, RunId: s.RunId, Ref: ev.EventId, Attempt: attempt, FireAt: after(w.t.now, timeout),
		})
	}
}

func normalName(s *fsmpb.WorkflowState, kind enumspb.TaskQueueKind) string {
	if kind == enumspb.TASK_QUEUE_KIND_STICKY {
		return s.TaskQueue
	}
	return ""
}

// clearSticky forgets the worker cache affinity: the next workflow task goes
// to the normal queue with the full history.
func (w *run) clearSticky() {
	w.st.StickyTaskQueue, w.st.StickyScheduleToStartTimeout = "", 0
}

// unstickWorkflowTask moves a workflow task that waits, not yet started, on a
// sticky queue to the normal queue (the sticky worker is gone), so it need
// not wait out the sticky schedule-to-start timeout. No event is written:
// the task keeps its WorkflowTaskScheduled event, as in Temporal's fallback
// for an unavailable sticky worker. It reports whether the task moved.
func (w *run) unstickWorkflowTask() bool {
	s, wt := w.st, w.st.WorkflowTask
	if wt == nil || !wt.Sticky || wt.StartedEventId != 0 {
		return false
	}
	w.t.delTask(wt.TaskKey)
	w.t.delTimer(wt.TimerKey)
	wt.TaskKey = w.t.addTask(&fsmpb.TaskRow{
		Namespace: s.Namespace, TaskQueue: s.TaskQueue, Kind: fsmpb.TaskKind_TASK_KIND_WORKFLOW,
		WorkflowId: s.WorkflowId, RunId: s.RunId, ScheduledEventId: wt.ScheduledEventId, Attempt: wt.Attempt, Priority: s.Priority,
	})
	wt.TimerKey, wt.TaskQueue, wt.Sticky = nil, s.TaskQueue, false
	return true
}

// clearWorkflowTask drops the current workflow task and its rows.
func (w *run) clearWorkflowTask() {
	if wt := w.st.WorkflowTask; wt != nil {
		w.t.delTask(wt.TaskKey)
		w.t.delTimer(wt.TimerKey)
		w.st.WorkflowTask = nil
	}
}

// failStartedWorkflowTask records the in-flight workflow task as failed (when
// the workflow is closed from outside) and flushes buffered events.
func (w *run) failStartedWorkflowTask(cause enumspb.WorkflowTaskFailedCause, identity string) {
	wt := w.st.WorkflowTask
	if wt == nil || wt.StartedEventId == 0 {
		return
	}
	w.appendEvents(w.workflowTaskFailedEvent(wt.ScheduledEventId, wt.StartedEventId, cause, nil, identity, ""))
	w.clearWorkflowTask()
	w.flushBuffered()
}

// closeRun appends the close event and releases everything the run holds.
func (w *run) closeRun(ev *historypb.HistoryEvent, status enumspb.WorkflowExecutionStatus) {
	s := w.st
	if s.WorkflowTask != nil && s.WorkflowTask.StartedEventId == 0 {
		// A scheduled but never started task just goes away (Temporal
		// leaves its Scheduled event dangling, too).
		w.clearWorkflowTask()
	}
	w.flushBuffered()
	w.appendEvents(ev)
	w.clearWorkflowTask()
	// Pending activities stay in the closed run's state without their task
	// rows and timers: Describe lists them, as Temporal's does.
	for _, a := range s.Activities {
		w.releaseActivity(a)
	}
	for _, tm := range s.Timers {
		w.t.delTimer(tm.TimerKey)
	}
	s.Timers = nil
	for _, k := range s.TimerKeys {
		w.t.delTimer(k)
	}
	s.TimerKeys = nil
	s.Status = status
	s.CloseTime = w.t.now
	w.t.hints = append(w.t.hints, hint{kind: hintRunClosed, ns: s.Namespace, status: status})
	s.CloseEventId = ev.EventId
	w.t.set(currentKey(s.Namespace, s.WorkflowId), &fsmpb.CurrentRun{
		RunId: s.RunId, Status: status, CreateRequestId: s.CreateRequestId,
	})
	w.addRetentionTimer()
	w.visDirty = true
	// Saved before touching related runs, so they see this run closed.
	w.save()
	if len(s.Children) > 0 {
		w.applyParentClosePolicy()
	}
	if !continues(ev) {
		w.notifyParent(ev)
	}
}

// continues reports whether a close event hands over to a next run (the
// parent learns only of the chain's end).
func continues(ev *historypb.HistoryEvent) bool {
	switch {
	case ev.GetWorkflowExecutionContinuedAsNewEventAttributes() != nil:
		return true
	case ev.GetWorkflowExecutionFailedEventAttributes().GetNewExecutionRunId() != "",
		ev.GetWorkflowExecutionTimedOutEventAttributes().GetNewExecutionRunId() != "",
		ev.GetWorkflowExecutionCompletedEventAttributes().GetNewExecutionRunId() != "":
		return true
	}
	return false
}

func (w *run) releaseActivity(a *fsmpb.ActivityInfo) {
	w.t.delTask(a.TaskKey)
	for _, k := range a.TimerKeys {
		w.t.delTimer(k)
	}
	a.TaskKey, a.TimerKeys = nil, nil
}

// addRunTimer adds a timer owned by the run itself (run/execution timeout).
func (w *run) addRunTimer(kind fsmpb.TimerKind, fireAt int64) {
	s := w.st
	k := w.t.addTimer(&fsmpb.TimerRow{
		Kind: kind, Namespace: s.Namespace, WorkflowId: s.WorkflowId, RunId: s.RunId, FireAt: fireAt,
	})
	s.TimerKeys = append(s.TimerKeys, k)
}
