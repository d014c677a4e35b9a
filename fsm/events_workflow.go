package fsm

import (
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	sdkpb "go.temporal.io/api/sdk/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	updatepb "go.temporal.io/api/update/v1"
)

// The history builder: one method per history event type, as Temporal's
// history builder has, and the only code that constructs history events
// (events_workflow.go: the run and its workflow tasks, signals and updates;
// events_activity.go: activities, timers, markers, search attributes and
// memo; events_child.go: child workflows and external signals and cancels).
//
// Each method returns the event stamped with the entry's time and index; it
// writes nothing. The caller decides where it goes: appendEvents (written
// now), record (buffered while a workflow task runs) or closeRun (the close
// event of the run). Event ids are given by appendEvents.

// event is the common part of every event: type, the entry's time and index.
func (w *run) event(typ enumspb.EventType) *historypb.HistoryEvent {
	return &historypb.HistoryEvent{EventTime: ts(w.t.now), EventType: typ, TaskId: int64(w.t.index)}
}

func (w *run) workflowExecutionStartedEvent(attrs *historypb.WorkflowExecutionStartedEventAttributes) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
	ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: attrs}
	return ev
}

// The close events that may hand over to a next run (a retry, the next cron
// run) name it in newRunID ("": none).

func (w *run) workflowExecutionCompletedEvent(result *commonpb.Payloads, completedID int64, newRunID string) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
	ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionCompletedEventAttributes{WorkflowExecutionCompletedEventAttributes: &historypb.WorkflowExecutionCompletedEventAttributes{
		Result: result, WorkflowTaskCompletedEventId: completedID, NewExecutionRunId: newRunID,
	}}
	return ev
}

func (w *run) workflowExecutionFailedEvent(f *failurepb.Failure, completedID int64, state enumspb.RetryState, newRunID string) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED)
	ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionFailedEventAttributes{WorkflowExecutionFailedEventAttributes: &historypb.WorkflowExecutionFailedEventAttributes{
		Failure: f, WorkflowTaskCompletedEventId: completedID, RetryState: state, NewExecutionRunId: newRunID,
	}}
	return ev
}

func (w *run) workflowExecutionTimedOutEvent(state enumspb.RetryState, newRunID string) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT)
	ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionTimedOutEventAttributes{WorkflowExecutionTimedOutEventAttributes: &historypb.WorkflowExecutionTimedOutEventAttributes{
		RetryState: state, NewExecutionRunId: newRunID,
	}}
	return ev
}

func (w *run) workflowExecutionCanceledEvent(details *commonpb.Payloads, completedID int64) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED)
	ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionCanceledEventAttributes{WorkflowExecutionCanceledEventAttributes: &historypb.WorkflowExecutionCanceledEventAttributes{
		Details: details, WorkflowTaskCompletedEventId: completedID,
	}}
	return ev
}

func (w *run) workflowExecutionTerminatedEvent(reason string, details *commonpb.Payloads, identity string) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED)
	ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionTerminatedEventAttributes{
		WorkflowExecutionTerminatedEventAttributes: &historypb.WorkflowExecutionTerminatedEventAttributes{
			Reason: reason, Details: details, Identity: identity,
		}}
	return ev
}

func (w *run) workflowExecutionContinuedAsNewEvent(attrs *historypb.WorkflowExecutionContinuedAsNewEventAttributes) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW)
	ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionContinuedAsNewEventAttributes{WorkflowExecutionContinuedAsNewEventAttributes: attrs}
	return ev
}

// workflowExecutionSignaledEvent: external names the signaling workflow
// (nil for a client's signal).
func (w *run) workflowExecutionSignaledEvent(name string, input *commonpb.Payloads, identity string, header *commonpb.Header,
	external *commonpb.WorkflowExecution) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
	ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionSignaledEventAttributes{
		WorkflowExecutionSignaledEventAttributes: &historypb.WorkflowExecutionSignaledEventAttributes{
			SignalName: name, Input: input, Identity: identity, Header: header, ExternalWorkflowExecution: external,
		}}
	return ev
}

// workflowExecutionCancelRequestedEvent: external names the requesting
// workflow and its Initiated event (nil for a client's request).
func (w *run) workflowExecutionCancelRequestedEvent(cause, identity string, external *commonpb.WorkflowExecution, externalInitiatedID int64) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED)
	ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionCancelRequestedEventAttributes{WorkflowExecutionCancelRequestedEventAttributes: &historypb.WorkflowExecutionCancelRequestedEventAttributes{
		Cause: cause, Identity: identity, ExternalInitiatedEventId: externalInitiatedID, ExternalWorkflowExecution: external,
	}}
	return ev
}

func (w *run) workflowTaskScheduledEvent(queue *taskqueuepb.TaskQueue, startToClose int64, attempt int32) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)
	ev.Attributes = &historypb.HistoryEvent_WorkflowTaskScheduledEventAttributes{
		WorkflowTaskScheduledEventAttributes: &historypb.WorkflowTaskScheduledEventAttributes{
			TaskQueue: queue, StartToCloseTimeout: dur(startToClose), Attempt: attempt,
		}}
	return ev
}

// workflowTaskStartedEvent: suggest lists the reasons to continue as new
// (none: no suggestion).
func (w *run) workflowTaskStartedEvent(scheduledID int64, identity, requestID string, historySize int64,
	suggest []enumspb.SuggestContinueAsNewReason) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED)
	ev.Attributes = &historypb.HistoryEvent_WorkflowTaskStartedEventAttributes{
		WorkflowTaskStartedEventAttributes: &historypb.WorkflowTaskStartedEventAttributes{
			ScheduledEventId: scheduledID, Identity: identity, RequestId: requestID, HistorySizeBytes: historySize,
			SuggestContinueAsNew: len(suggest) > 0, SuggestContinueAsNewReasons: suggest,
		}}
	return ev
}

func (w *run) workflowTaskCompletedEvent(scheduledID, startedID int64, identity, checksum string,
	version *commonpb.WorkerVersionStamp, sdk *sdkpb.WorkflowTaskCompletedMetadata, metering *commonpb.MeteringMetadata) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
	ev.Attributes = &historypb.HistoryEvent_WorkflowTaskCompletedEventAttributes{
		WorkflowTaskCompletedEventAttributes: &historypb.WorkflowTaskCompletedEventAttributes{
			ScheduledEventId: scheduledID, StartedEventId: startedID, Identity: identity, BinaryChecksum: checksum,
			WorkerVersion: version, SdkMetadata: sdk, MeteringMetadata: metering,
		}}
	return ev
}

func (w *run) workflowTaskFailedEvent(scheduledID, startedID int64, cause enumspb.WorkflowTaskFailedCause,
	f *failurepb.Failure, identity, checksum string) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED)
	ev.Attributes = &historypb.HistoryEvent_WorkflowTaskFailedEventAttributes{WorkflowTaskFailedEventAttributes: &historypb.WorkflowTaskFailedEventAttributes{
		ScheduledEventId: scheduledID, StartedEventId: startedID, Cause: cause, Failure: f, Identity: identity, BinaryChecksum: checksum,
	}}
	return ev
}

// workflowTaskTimedOutEvent: startedID is 0 for a schedule-to-start timeout.
func (w *run) workflowTaskTimedOutEvent(scheduledID, startedID int64, timeoutType enumspb.TimeoutType) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT)
	ev.Attributes = &historypb.HistoryEvent_WorkflowTaskTimedOutEventAttributes{WorkflowTaskTimedOutEventAttributes: &historypb.WorkflowTaskTimedOutEventAttributes{
		ScheduledEventId: scheduledID, StartedEventId: startedID, TimeoutType: timeoutType,
	}}
	return ev
}

func (w *run) workflowExecutionUpdateAcceptedEvent(id string, a *updatepb.Acceptance) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
	ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionUpdateAcceptedEventAttributes{WorkflowExecutionUpdateAcceptedEventAttributes: &historypb.WorkflowExecutionUpdateAcceptedEventAttributes{
		ProtocolInstanceId: id, AcceptedRequestMessageId: a.AcceptedRequestMessageId,
		AcceptedRequestSequencingEventId: a.AcceptedRequestSequencingEventId, AcceptedRequest: a.AcceptedRequest,
	}}
	return ev
}

func (w *run) workflowExecutionUpdateCompletedEvent(meta *updatepb.Meta, acceptedID int64, outcome *updatepb.Outcome) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)
	ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionUpdateCompletedEventAttributes{WorkflowExecutionUpdateCompletedEventAttributes: &historypb.WorkflowExecutionUpdateCompletedEventAttributes{
		Meta: meta, AcceptedEventId: acceptedID, Outcome: outcome,
	}}
	return ev
}
