package fsm

import (
	"fmt"

	commandpb "go.temporal.io/api/command/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	protocolpb "go.temporal.io/api/protocol/v1"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/api/workflowservice/v1"

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
	tc := w.newTaskCompletion(protocolMessages(req.Messages))
	if bad := w.validateCommands(req.Commands, tc); bad != nil {
		f := &failurepb.Failure{Message: bad.Message}
		w.recordWorkflowTaskFailed(bad.Cause, f, req.Identity, req.BinaryChecksum)
		w.save()
		return &Result{Err: bad}
	}
	if hasCloseCommand(req.Commands) && (len(w.st.BufferedEvents) > 0 || w.st.UpdateRequested) {
		// New events or updates arrived while the task ran: the workflow
		// must see them before it may close. As Temporal, the task fails
		// and the worker is answered InvalidArgument "UnhandledCommand"
		// (the SDK then does not count the completion as done).
		unhandled := bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, "UnhandledCommand")
		w.recordWorkflowTaskFailed(unhandled.Cause, &failurepb.Failure{Message: unhandled.Message}, req.Identity, req.BinaryChecksum)
		w.save()
		return &Result{Err: unhandled}
	}
	if w.discardSpeculative(req) {
		return w.dropSpeculative(req, tc)
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
	tc.completedID, tc.identity = ev.EventId, req.Identity
	for _, c := range req.Commands {
		if c.CommandType != enumspb.COMMAND_TYPE_PROTOCOL_MESSAGE {
			w.meta = c.UserMetadata // for the command's own event (appendEvents)
		}
		if commandHandlers[c.CommandType].apply(w, tc, c) {
			needTask = true
		}
		w.meta = nil
		if s.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			break
		}
	}
	// Messages no command sequenced are applied after the commands. A
	// rejection writes no event, so it counts even when a command closed the
	// run (as in Temporal: the update's caller gets the rejection, not a
	// "workflow completed" error).
	for _, m := range req.Messages {
		if !tc.usedMsgs[m.Id] && (s.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING ||
			m.GetBody().MessageIs(&updatepb.Rejection{})) {
			w.applyMessage(m, &tc.updates)
		}
	}
	var next *StartedWorkflowTask
	if s.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		if w.flushBuffered() {
			needTask = true
		}
		for _, record := range tc.results {
			record()
		}
		if needTask {
			w.ensureWorkflowTask()
			if req.ReturnNewWorkflowTask {
				// return_new_workflow_task (the SDKs always set it: a local
				// activity outliving the task timeout heartbeats this way,
				// and new events reach the worker that has the run cached
				// without a poll). As Temporal, the task is answered as
				// sticky: only the events after the worker's last task.
				if next = w.startInlineWorkflowTask(req.Identity, "request-from-RespondWorkflowTaskCompleted"); next != nil {
					next.Sticky = true
				}
			}
		}
	}
	w.hintUpdates(tc.updates)
	w.save()
	return &Result{RunID: s.RunId, Updates: tc.updates, EagerActivities: w.eager, WorkflowTask: next}
}

func hasCloseCommand(cmds []*commandpb.Command) bool {
	for _, c := range cmds {
		if commandHandlers[c.CommandType].closes {
			return true
		}
	}
	return false
}

func bad(cause enumspb.WorkflowTaskFailedCause, format string, args ...any) *BadCommandError {
	return &BadCommandError{Cause: cause, Message: fmt.Sprintf(format, args...)}
}

// A commandHandler is the whole of one command type: how a workflow task's
// command of that type is checked and how it is applied. Every command of a
// task is validated (in order, the first invalid one failing the task)
// before any is applied, as Temporal does; checkCommandLimits then checks the
// batch against the pending-work limits.
type commandHandler struct {
	// validate checks command i of the task against the run and what the
	// task's earlier commands claimed (tc); nil: nothing to check.
	validate func(w *run, tc *taskCompletion, i int, c *commandpb.Command) *BadCommandError
	// apply applies a validated command and reports whether it produced an
	// event the workflow must be woken for (a new workflow task).
	apply func(w *run, tc *taskCompletion, c *commandpb.Command) bool
	// closes: the command closes the run (so the task may not complete
	// while events are buffered: the workflow must see them first).
	closes bool
	// events is how many history events apply will write for a valid
	// command (nil: one). Validation uses it to know the ids the batch's
	// events will get (taskCompletion.nextID).
	events func(w *run, tc *taskCompletion, c *commandpb.Command) int64
}

// commandHandlers holds one handler per supported command type; a command
// of another type fails the task (UNHANDLED_COMMAND). The handlers live with
// their family: apply_activity.go, apply_timer.go, apply_child.go,
// apply_external.go, apply_update.go (protocol messages), apply_continue.go
// (continue-as-new) and apply_close.go (complete, fail, cancel; marker,
// search attributes, memo).
var commandHandlers = map[enumspb.CommandType]commandHandler{
	enumspb.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK:                     {validate: (*run).validateScheduleActivity, apply: (*run).applyScheduleActivity},
	enumspb.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK:               {validate: (*run).validateRequestCancelActivity, apply: (*run).applyRequestCancelActivity},
	enumspb.COMMAND_TYPE_START_TIMER:                                {validate: (*run).validateStartTimer, apply: (*run).applyStartTimer},
	enumspb.COMMAND_TYPE_CANCEL_TIMER:                               {validate: (*run).validateCancelTimer, apply: (*run).applyCancelTimer},
	enumspb.COMMAND_TYPE_RECORD_MARKER:                              {validate: (*run).validateRecordMarker, apply: (*run).applyRecordMarker},
	enumspb.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:          {apply: (*run).applyUpsertSearchAttributes},
	enumspb.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES:                 {apply: (*run).applyModifyProperties},
	enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION:                {apply: (*run).applyCompleteWorkflow, closes: true},
	enumspb.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION:                    {apply: (*run).applyFailWorkflow, closes: true},
	enumspb.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION:                  {apply: (*run).applyCancelWorkflow, closes: true},
	enumspb.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION:         {apply: (*run).applyContinueAsNew, closes: true},
	enumspb.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION:             {validate: (*run).validateStartChild, apply: (*run).applyStartChild},
	enumspb.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION:         {validate: (*run).validateSignalExternal, apply: (*run).applySignalExternal},
	enumspb.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION: {validate: (*run).validateCancelExternal, apply: (*run).applyCancelExternal},
	enumspb.COMMAND_TYPE_PROTOCOL_MESSAGE:                           {validate: (*run).validateProtocolMessage, apply: (*run).applyProtocolMessage, events: (*run).protocolMessageEvents},
}

// taskCompletion is what the handlers of one workflow task's commands
// share.
type taskCompletion struct {
	msgs map[string]*protocolpb.Message // the completion's protocol messages by id
	// Validation: the ids the run and the task's earlier commands hold.
	activityIDs map[string]bool
	timerIDs    map[string]bool
	cancelIDs   map[int64]bool // activities the task asks to cancel
	// nextID is the id the next command's first event will get: as
	// Temporal applies commands in order, a command may name an event an
	// earlier command of the same task writes (a RequestCancelActivityTask
	// naming the ActivityTaskScheduled event of a ScheduleActivityTask
	// before it: the SDK sends both when an activity is canceled at once).
	nextID int64
	// scheduled: the activities earlier commands schedule, by their
	// ActivityTaskScheduled event id.
	scheduled map[int64]bool
	// accepted and completed: the updates earlier protocol messages accept
	// and complete.
	accepted, completed map[string]bool
	// Application.
	completedID int64  // the WorkflowTaskCompleted event
	identity    string // the completing worker
	usedMsgs    map[string]bool
	updates     []UpdateOutcome
	// results record the outcome events of commands that act on other runs
	// (ChildWorkflowExecutionStarted, StartChildWorkflowExecutionFailed,
	// ExternalWorkflowExecutionSignaled/CancelRequested and their Failed
	// events) and the ActivityTaskCanceled of a cancel request for an
	// activity that had not started. Temporal writes them after the
	// completion (buffered, or in transactions of their own), and the SDK
	// numbers the completion's command events contiguously from
	// WorkflowTaskCompleted: so they are appended after the batch (and its
	// buffered events), and only while the run runs.
	results []func()
}

func (w *run) newTaskCompletion(msgs map[string]*protocolpb.Message) *taskCompletion {
	tc := &taskCompletion{msgs: msgs, activityIDs: map[string]bool{}, timerIDs: map[string]bool{},
		cancelIDs: map[int64]bool{}, usedMsgs: map[string]bool{},
		nextID:    w.st.NextEventId + 1, // after the WorkflowTaskCompleted event
		scheduled: map[int64]bool{}, accepted: map[string]bool{}, completed: map[string]bool{}}
	for _, a := range w.st.Activities {
		tc.activityIDs[a.ActivityId] = true
	}
	for id := range w.st.Timers {
		tc.timerIDs[id] = true
	}
	return tc
}

// validateCommands checks every command before any is applied.
func (w *run) validateCommands(cmds []*commandpb.Command, tc *taskCompletion) *BadCommandError {
	for i, c := range cmds {
		h, ok := commandHandlers[c.CommandType]
		if !ok {
			return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
				"command %d: %s is not supported by raftflow yet", i, c.CommandType)
		}
		if h.validate != nil {
			if err := h.validate(w, tc, i, c); err != nil {
				return err
			}
		}
		if h.events == nil {
			tc.nextID++
		} else {
			tc.nextID += h.events(w, tc, c)
		}
	}
	return w.checkCommandLimits(cmds)
}

// discardSpeculativeMaxEvents bounds the command events of earlier tasks a
// dropped speculative task may have shipped again (Temporal's
// DiscardSpeculativeWorkflowTaskMaximumEventsCount default).
const discardSpeculativeMaxEvents = 10

// discardSpeculative reports whether a completion of a speculative task
// leaves no trace, as in Temporal: no commands, no heartbeat, only update
// rejections, and nothing buffered meanwhile. The events written after the
// last completed task (its commands' events) are shipped again by the next
// task: only a worker that says it copes (the Go SDK does) may get a few.
func (w *run) discardSpeculative(req *workflowservice.RespondWorkflowTaskCompletedRequest) bool {
	s, wt := w.st, w.st.WorkflowTask
	if len(wt.SpeculativeEvents) == 0 || len(req.Commands) > 0 || req.ForceCreateNewWorkflowTask ||
		len(s.BufferedEvents) > 0 {
		return false
	}
	for _, m := range req.Messages {
		if !m.GetBody().MessageIs(&updatepb.Rejection{}) {
			return false
		}
	}
	shipped := s.NextEventId - (s.LastCompletedStartedEventId + 2) // events after the last WorkflowTaskCompleted
	if req.GetCapabilities().GetDiscardSpeculativeWorkflowTaskWithEvents() {
		return shipped <= discardSpeculativeMaxEvents
	}
	return shipped <= 0
}

// dropSpeculative completes a speculative task without writing anything:
// the rejections reach their callers, the worker is told to rewind its
// history to the last completed task, and updates admitted while the task
// ran get a new speculative task. The sticky queue the worker named is not
// recorded (Temporal keeps no state from the dropped task).
func (w *run) dropSpeculative(req *workflowservice.RespondWorkflowTaskCompletedRequest, tc *taskCompletion) *Result {
	s := w.st
	for _, m := range req.Messages {
		w.applyMessage(m, &tc.updates)
	}
	w.clearWorkflowTask()
	if s.UpdateRequested {
		s.UpdateRequested = false
		w.scheduleSpeculativeWorkflowTask()
	}
	w.hintUpdates(tc.updates)
	w.save()
	return &Result{RunID: s.RunId, Updates: tc.updates, ResetHistoryEventID: s.LastCompletedStartedEventId}
}

// hintUpdates tells the leader the update progress a completion made; it is
// delivered before the batch's history hints (see UpdateHints).
func (w *run) hintUpdates(updates []UpdateOutcome) {
	if len(updates) > 0 {
		s := w.st
		w.t.hints = append(w.t.hints, hint{kind: hintUpdates, ns: s.Namespace, wf: s.WorkflowId, runID: s.RunId, updates: updates})
	}
}
