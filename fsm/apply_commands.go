package fsm

import (
	"fmt"

	commandpb "go.temporal.io/api/command/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	protocolpb "go.temporal.io/api/protocol/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// completeWorkflowTask applies a worker's RespondWorkflowTaskCompleted: the
// WorkflowTaskCompleted event, then each command's events in order, then the
// events buffered while the task ran, then (if anything is new) the next
// workflow task. Invalid commands fail the task instead, changing nothing
// else, as Temporal does.
func (t *txn) completeWorkflowTask(op *fsmpb.CompleteWorkflowTask) *Result {
	w, err := t.validWorkflowTask(op.Token)
	if err != nil {
		return &Result{Err: err}
	}
	req := op.GetRequest()
	t.runIDs = op.NewRunIds
	msgs := protocolMessages(req.Messages)
	if bad := w.validateCommands(req.Commands, msgs); bad != nil {
		f := &failurepb.Failure{Message: bad.Message}
		w.recordWorkflowTaskFailed(bad.Cause, f, req.Identity, req.BinaryChecksum)
		w.save()
		return &Result{Err: bad}
	}
	if hasCloseCommand(req.Commands) && len(w.st.BufferedEvents) > 0 {
		// New events arrived while the task ran: the workflow must see them
		// before it may close.
		w.recordWorkflowTaskFailed(enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
			&failurepb.Failure{Message: "new events arrived while the workflow task was running"}, req.Identity, req.BinaryChecksum)
		w.save()
		return &Result{}
	}
	s, wt := w.st, w.st.WorkflowTask
	ev := w.workflowTaskCompletedEvent(wt.ScheduledEventId, wt.StartedEventId, req.Identity, req.BinaryChecksum,
		req.WorkerVersionStamp, req.SdkMetadata, req.MeteringMetadata)
	w.appendEvents(ev)
	s.LastCompletedStartedEventId = wt.StartedEventId
	w.clearWorkflowTask()
	if sa := req.StickyAttributes; sa != nil && sa.GetWorkerTaskQueue().GetName() != "" {
		s.StickyTaskQueue = sa.WorkerTaskQueue.Name
		s.StickyScheduleToStartTimeout = nanosOf(sa.ScheduleToStartTimeout)
	} else {
		s.StickyTaskQueue = ""
	}
	w.identity = req.Identity
	needTask := req.ForceCreateNewWorkflowTask || s.UpdateRequested
	s.UpdateRequested = false
	var updates []UpdateOutcome
	used := map[string]bool{}
	for _, c := range req.Commands {
		if isProtocolCommand(c) {
			id := c.GetProtocolMessageCommandAttributes().GetMessageId()
			used[id] = true
			w.applyMessage(msgs[id], ev.EventId, &updates)
			continue
		}
		if w.applyCommand(c, ev.EventId, req.Identity) {
			needTask = true
		}
		if s.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			break
		}
	}
	// Messages no command sequenced are applied after the commands.
	for _, m := range req.Messages {
		if !used[m.Id] && s.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			w.applyMessage(m, ev.EventId, &updates)
		}
	}
	if s.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		if w.flushBuffered() || needTask {
			w.ensureWorkflowTask()
		}
	}
	w.save()
	return &Result{RunID: s.RunId, Updates: updates, EagerActivities: w.eager}
}

func hasCloseCommand(cmds []*commandpb.Command) bool {
	for _, c := range cmds {
		switch c.CommandType {
		case enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, enumspb.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
			enumspb.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION, enumspb.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
			return true
		}
	}
	return false
}

func bad(cause enumspb.WorkflowTaskFailedCause, format string, args ...any) *BadCommandError {
	return &BadCommandError{Cause: cause, Message: fmt.Sprintf(format, args...)}
}

// validateCommands checks every command before any is applied.
func (w *run) validateCommands(cmds []*commandpb.Command, msgs map[string]*protocolpb.Message) *BadCommandError {
	s := w.st
	activityIDs := map[string]bool{}
	for _, a := range s.Activities {
		activityIDs[a.ActivityId] = true
	}
	timerIDs := map[string]bool{}
	for id := range s.Timers {
		timerIDs[id] = true
	}
	cancelIDs := map[int64]bool{} // activities this task asks to cancel
	for i, c := range cmds {
		switch c.CommandType {
		case enumspb.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK:
			a := c.GetScheduleActivityTaskCommandAttributes()
			cause := enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES
			switch {
			case a == nil:
				return bad(cause, "command %d: ScheduleActivityTaskCommandAttributes is not set", i)
			case a.ActivityId == "":
				return bad(cause, "command %d: activity_id is not set", i)
			case a.GetActivityType().GetName() == "":
				return bad(cause, "command %d: activity_type is not set", i)
			case activityIDs[a.ActivityId]:
				return bad(cause, "command %d: activity_id %q is already in use", i, a.ActivityId)
			case nanosOf(a.StartToCloseTimeout) <= 0 && nanosOf(a.ScheduleToCloseTimeout) <= 0:
				return bad(cause, "command %d: a valid StartToClose or ScheduleToClose timeout is required", i)
			}
			activityIDs[a.ActivityId] = true
		case enumspb.COMMAND_TYPE_START_TIMER:
			a := c.GetStartTimerCommandAttributes()
			cause := enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES
			switch {
			case a == nil || a.TimerId == "":
				return bad(cause, "command %d: timer_id is not set", i)
			case timerIDs[a.TimerId]:
				return bad(cause, "command %d: timer_id %q is already in use", i, a.TimerId)
			case nanosOf(a.StartToFireTimeout) <= 0:
				return bad(cause, "command %d: start_to_fire_timeout must be positive", i)
			}
			timerIDs[a.TimerId] = true
		case enumspb.COMMAND_TYPE_CANCEL_TIMER:
			a := c.GetCancelTimerCommandAttributes()
			if a == nil || (!timerIDs[a.TimerId] && w.bufferedTimerFired(a.TimerId) < 0) {
				return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES,
					"command %d: no pending timer %q", i, a.GetTimerId())
			}
			delete(timerIDs, a.TimerId)
		case enumspb.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK:
			a := c.GetRequestCancelActivityTaskCommandAttributes()
			if a == nil || (s.Activities[a.ScheduledEventId] == nil && !w.bufferedActivityClose(a.ScheduledEventId)) {
				return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES,
					"command %d: no pending activity scheduled by event %d", i, a.GetScheduledEventId())
			}
			// A second request would find the activity gone (canceled by the
			// first) or already asked: Temporal rejects duplicates, too.
			if cancelIDs[a.ScheduledEventId] || s.Activities[a.ScheduledEventId].GetCancelRequested() {
				return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES,
					"command %d: cancellation of the activity scheduled by event %d was already requested", i, a.ScheduledEventId)
			}
			cancelIDs[a.ScheduledEventId] = true
		case enumspb.COMMAND_TYPE_RECORD_MARKER:
			if c.GetRecordMarkerCommandAttributes().GetMarkerName() == "" {
				return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES, "command %d: marker_name is not set", i)
			}
		case enumspb.COMMAND_TYPE_PROTOCOL_MESSAGE:
			id := c.GetProtocolMessageCommandAttributes().GetMessageId()
			if msgs[id] == nil {
				return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE,
					"command %d: protocol message %q is not in the request", i, id)
			}
		case enumspb.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION:
			a := c.GetStartChildWorkflowExecutionCommandAttributes()
			cause := enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES
			switch {
			case a.GetWorkflowId() == "":
				return bad(cause, "command %d: workflow_id is not set", i)
			case a.GetWorkflowType().GetName() == "":
				return bad(cause, "command %d: workflow_type is not set", i)
			}
		case enumspb.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION:
			a := c.GetSignalExternalWorkflowExecutionCommandAttributes()
			if a.GetExecution().GetWorkflowId() == "" || a.GetSignalName() == "" {
				return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES,
					"command %d: execution.workflow_id and signal_name are required", i)
			}
		case enumspb.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION:
			if c.GetRequestCancelExternalWorkflowExecutionCommandAttributes().GetWorkflowId() == "" {
				return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_ATTRIBUTES,
					"command %d: workflow_id is not set", i)
			}
		case enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, enumspb.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
			enumspb.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION, enumspb.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
			enumspb.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES, enumspb.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
		default:
			return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
				"command %d: %s is not supported by raftflow yet", i, c.CommandType)
		}
	}
	return w.checkCommandLimits(cmds)
}

// bufferedTimerFired finds a buffered TimerFired event for timerID (-1: none).
func (w *run) bufferedTimerFired(timerID string) int {
	for i, ev := range w.st.BufferedEvents {
		if ev.GetTimerFiredEventAttributes().GetTimerId() == timerID && ev.EventType == enumspb.EVENT_TYPE_TIMER_FIRED {
			return i
		}
	}
	return -1
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

// applyCommand applies one validated command; it reports whether the command
// produced an event the workflow must be woken for.
func (w *run) applyCommand(c *commandpb.Command, completedID int64, identity string) bool {
	s := w.st
	switch c.CommandType {
	case enumspb.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK:
		w.scheduleActivity(c.GetScheduleActivityTaskCommandAttributes(), completedID)
	case enumspb.COMMAND_TYPE_START_TIMER:
		a := c.GetStartTimerCommandAttributes()
		ev := w.timerStartedEvent(a.TimerId, a.StartToFireTimeout, completedID)
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
	case enumspb.COMMAND_TYPE_CANCEL_TIMER:
		w.cancelTimer(c.GetCancelTimerCommandAttributes().TimerId, completedID, identity)
	case enumspb.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK:
		return w.requestCancelActivity(c.GetRequestCancelActivityTaskCommandAttributes().ScheduledEventId, completedID)
	case enumspb.COMMAND_TYPE_RECORD_MARKER:
		a := c.GetRecordMarkerCommandAttributes()
		w.appendEvents(w.markerRecordedEvent(a.MarkerName, a.Details, completedID, a.Header, a.Failure))
	case enumspb.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
		a := c.GetUpsertWorkflowSearchAttributesCommandAttributes()
		w.appendEvents(w.upsertWorkflowSearchAttributesEvent(completedID, a.GetSearchAttributes()))
		s.SearchAttributes = mergeFields(s.SearchAttributes, a.GetSearchAttributes())
		w.visDirty = true
	case enumspb.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES:
		a := c.GetModifyWorkflowPropertiesCommandAttributes()
		w.appendEvents(w.workflowPropertiesModifiedEvent(completedID, a.GetUpsertedMemo()))
		s.Memo = mergeMemo(s.Memo, a.GetUpsertedMemo())
		w.visDirty = true
	case enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION:
		result := c.GetCompleteWorkflowExecutionCommandAttributes().GetResult()
		ev := w.workflowExecutionCompletedEvent(result, completedID)
		if !w.cronNext(ev, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, result, nil) {
			w.closeRun(ev, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)
		}
	case enumspb.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION:
		f := c.GetFailWorkflowExecutionCommandAttributes().GetFailure()
		backoff, state := retryDecision(s.RetryPolicy, s.Attempt, f, w.t.now, executionExpiry(s))
		if state == enumspb.RETRY_STATE_IN_PROGRESS {
			runID := w.t.newRunID()
			w.retryRun(w.workflowExecutionFailedEvent(f, completedID, state, runID), enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, runID, backoff, f)
		} else if ev := w.workflowExecutionFailedEvent(f, completedID, state, ""); !w.cronNext(ev, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, nil, f) {
			w.closeRun(ev, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED)
		}
	case enumspb.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
		w.continueAsNew(c.GetContinueAsNewWorkflowExecutionCommandAttributes(), completedID)
	case enumspb.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION:
		w.startChild(c.GetStartChildWorkflowExecutionCommandAttributes(), completedID)
		return true
	case enumspb.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION:
		w.signalExternal(c.GetSignalExternalWorkflowExecutionCommandAttributes(), completedID)
		return true
	case enumspb.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION:
		w.cancelExternal(c.GetRequestCancelExternalWorkflowExecutionCommandAttributes(), completedID)
		return true
	case enumspb.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION:
		ev := w.workflowExecutionCanceledEvent(c.GetCancelWorkflowExecutionCommandAttributes().GetDetails(), completedID)
		w.closeRun(ev, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED)
	}
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

func (w *run) scheduleActivity(a *commandpb.ScheduleActivityTaskCommandAttributes, completedID int64) {
	s := w.st
	s2c := nanosOf(a.ScheduleToCloseTimeout)
	if s2c <= 0 || (s.RunTimeout > 0 && s2c > s.RunTimeout) {
		s2c = s.RunTimeout
	}
	st2c := nanosOf(a.StartToCloseTimeout)
	if st2c <= 0 || (s2c > 0 && st2c > s2c) {
		st2c = s2c
	}
	s2s := nanosOf(a.ScheduleToStartTimeout)
	if s2s <= 0 || (s2c > 0 && s2s > s2c) {
		s2s = s2c
	}
	hb := min(nanosOf(a.HeartbeatTimeout), st2c)
	queue := a.GetTaskQueue().GetName()
	if queue == "" {
		queue = s.TaskQueue
	}
	retry := normalizeRetryPolicy(a.RetryPolicy)
	ev := w.activityTaskScheduledEvent(&historypb.ActivityTaskScheduledEventAttributes{
		ActivityId: a.ActivityId, ActivityType: a.ActivityType,
		TaskQueue: &taskqueuepb.TaskQueue{Name: queue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		Header:    a.Header, Input: a.Input,
		ScheduleToCloseTimeout: dur(s2c), ScheduleToStartTimeout: dur(s2s), StartToCloseTimeout: dur(st2c),
		HeartbeatTimeout: dur(hb), WorkflowTaskCompletedEventId: completedID, RetryPolicy: retry,
	})
	w.appendEvents(ev)
	info := &fsmpb.ActivityInfo{
		ScheduledEventId: ev.EventId, ActivityId: a.ActivityId, ActivityType: a.ActivityType, TaskQueue: queue,
		Header: a.Header, Input: a.Input, ScheduleToCloseTimeout: s2c, ScheduleToStartTimeout: s2s,
		StartToCloseTimeout: st2c, HeartbeatTimeout: hb, RetryPolicy: retry, Attempt: 1,
		ScheduledTime: w.t.now,
	}
	if s.Activities == nil {
		s.Activities = map[int64]*fsmpb.ActivityInfo{}
	}
	s.Activities[ev.EventId] = info
	if s2c > 0 {
		w.addActivityTimer(info, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_CLOSE, after(w.t.now, s2c))
	}
	if a.RequestEagerExecution && queue == s.TaskQueue && len(w.eager) < MaxEagerActivities {
		// Eager dispatch: the worker completing this task runs the activity
		// itself, saving it a poll (Temporal's eager activity execution).
		w.eager = append(w.eager, w.markActivityStarted(info, w.identity, ""))
		return
	}
	w.dispatchActivity(info)
}

// dispatchActivity queues the activity's current attempt.
func (w *run) dispatchActivity(a *fsmpb.ActivityInfo) {
	s := w.st
	a.CurrentAttemptScheduledTime = w.t.now
	a.TaskKey = w.t.addTask(&fsmpb.TaskRow{
		Namespace: s.Namespace, TaskQueue: a.TaskQueue, Kind: fsmpb.TaskKind_TASK_KIND_ACTIVITY,
		WorkflowId: s.WorkflowId, RunId: s.RunId, ScheduledEventId: a.ScheduledEventId, Attempt: a.Attempt,
	})
	if a.ScheduleToStartTimeout > 0 && a.ScheduleToStartTimeout != a.ScheduleToCloseTimeout {
		w.addActivityTimer(a, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_START, after(w.t.now, a.ScheduleToStartTimeout))
	}
}

// requestCancelActivity: a not-yet-started activity is canceled at once; a
// started one is marked so its next heartbeat learns of it.
func (w *run) requestCancelActivity(scheduledID, completedID int64) bool {
	a := w.st.Activities[scheduledID]
	ev := w.activityTaskCancelRequestedEvent(scheduledID, completedID)
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
	w.appendEvents(w.activityTaskCanceledEvent(scheduledID, 0, ev.EventId, nil, ""))
	w.removeActivity(a)
	return true
}

func (w *run) removeActivity(a *fsmpb.ActivityInfo) {
	w.releaseActivity(a)
	delete(w.st.Activities, a.ScheduledEventId)
}
