package fsm

import (
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// History builder (see events_workflow.go): child workflows, and signals and
// cancel requests to other workflows.

func (w *run) startChildWorkflowExecutionInitiatedEvent(attrs *historypb.StartChildWorkflowExecutionInitiatedEventAttributes) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED)
	ev.Attributes = &historypb.HistoryEvent_StartChildWorkflowExecutionInitiatedEventAttributes{StartChildWorkflowExecutionInitiatedEventAttributes: attrs}
	return ev
}

// startChildWorkflowExecutionFailedEvent: the child could not start; init
// is its Initiated event.
func (w *run) startChildWorkflowExecutionFailedEvent(init *historypb.StartChildWorkflowExecutionInitiatedEventAttributes,
	cause enumspb.StartChildWorkflowExecutionFailedCause, initiatedID int64) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED)
	ev.Attributes = &historypb.HistoryEvent_StartChildWorkflowExecutionFailedEventAttributes{StartChildWorkflowExecutionFailedEventAttributes: &historypb.StartChildWorkflowExecutionFailedEventAttributes{
		Namespace: init.Namespace, WorkflowId: init.WorkflowId, WorkflowType: init.WorkflowType, Cause: cause,
		Control: init.Control, InitiatedEventId: initiatedID, WorkflowTaskCompletedEventId: init.WorkflowTaskCompletedEventId,
	}}
	return ev
}

func (w *run) childWorkflowExecutionStartedEvent(ns string, initiatedID int64, typ *commonpb.WorkflowType, header *commonpb.Header,
	exec *commonpb.WorkflowExecution) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED)
	ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionStartedEventAttributes{ChildWorkflowExecutionStartedEventAttributes: &historypb.ChildWorkflowExecutionStartedEventAttributes{
		Namespace: ns, InitiatedEventId: initiatedID, WorkflowType: typ, Header: header, WorkflowExecution: exec,
	}}
	return ev
}

// The child close events are written to the parent; ci is the parent's
// record of the child, exec the child run that closed.

func (w *run) childWorkflowExecutionCompletedEvent(ci *fsmpb.ChildInfo, exec *commonpb.WorkflowExecution, result *commonpb.Payloads) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED)
	ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionCompletedEventAttributes{ChildWorkflowExecutionCompletedEventAttributes: &historypb.ChildWorkflowExecutionCompletedEventAttributes{
		Result: result, Namespace: ci.Namespace, WorkflowExecution: exec,
		WorkflowType: ci.WorkflowType, InitiatedEventId: ci.InitiatedEventId, StartedEventId: ci.StartedEventId,
	}}
	return ev
}

func (w *run) childWorkflowExecutionFailedEvent(ci *fsmpb.ChildInfo, exec *commonpb.WorkflowExecution, f *failurepb.Failure,
	state enumspb.RetryState) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED)
	ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionFailedEventAttributes{ChildWorkflowExecutionFailedEventAttributes: &historypb.ChildWorkflowExecutionFailedEventAttributes{
		Failure: f, Namespace: ci.Namespace, WorkflowExecution: exec,
		WorkflowType: ci.WorkflowType, InitiatedEventId: ci.InitiatedEventId, StartedEventId: ci.StartedEventId, RetryState: state,
	}}
	return ev
}

func (w *run) childWorkflowExecutionCanceledEvent(ci *fsmpb.ChildInfo, exec *commonpb.WorkflowExecution, details *commonpb.Payloads) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED)
	ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionCanceledEventAttributes{ChildWorkflowExecutionCanceledEventAttributes: &historypb.ChildWorkflowExecutionCanceledEventAttributes{
		Details: details, Namespace: ci.Namespace, WorkflowExecution: exec,
		WorkflowType: ci.WorkflowType, InitiatedEventId: ci.InitiatedEventId, StartedEventId: ci.StartedEventId,
	}}
	return ev
}

func (w *run) childWorkflowExecutionTerminatedEvent(ci *fsmpb.ChildInfo, exec *commonpb.WorkflowExecution) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED)
	ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionTerminatedEventAttributes{ChildWorkflowExecutionTerminatedEventAttributes: &historypb.ChildWorkflowExecutionTerminatedEventAttributes{
		Namespace: ci.Namespace, WorkflowExecution: exec, WorkflowType: ci.WorkflowType,
		InitiatedEventId: ci.InitiatedEventId, StartedEventId: ci.StartedEventId,
	}}
	return ev
}

func (w *run) childWorkflowExecutionTimedOutEvent(ci *fsmpb.ChildInfo, exec *commonpb.WorkflowExecution, state enumspb.RetryState) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT)
	ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionTimedOutEventAttributes{ChildWorkflowExecutionTimedOutEventAttributes: &historypb.ChildWorkflowExecutionTimedOutEventAttributes{
		Namespace: ci.Namespace, WorkflowExecution: exec, WorkflowType: ci.WorkflowType,
		InitiatedEventId: ci.InitiatedEventId, StartedEventId: ci.StartedEventId, RetryState: state,
	}}
	return ev
}

func (w *run) signalExternalWorkflowExecutionInitiatedEvent(attrs *historypb.SignalExternalWorkflowExecutionInitiatedEventAttributes) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED)
	ev.Attributes = &historypb.HistoryEvent_SignalExternalWorkflowExecutionInitiatedEventAttributes{SignalExternalWorkflowExecutionInitiatedEventAttributes: attrs}
	return ev
}

func (w *run) signalExternalWorkflowExecutionFailedEvent(cause enumspb.SignalExternalWorkflowExecutionFailedCause, completedID int64,
	ns string, exec *commonpb.WorkflowExecution, initiatedID int64, control string) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED)
	ev.Attributes = &historypb.HistoryEvent_SignalExternalWorkflowExecutionFailedEventAttributes{SignalExternalWorkflowExecutionFailedEventAttributes: &historypb.SignalExternalWorkflowExecutionFailedEventAttributes{
		Cause: cause, WorkflowTaskCompletedEventId: completedID, Namespace: ns, WorkflowExecution: exec,
		InitiatedEventId: initiatedID, Control: control,
	}}
	return ev
}

func (w *run) externalWorkflowExecutionSignaledEvent(initiatedID int64, ns, control string, exec *commonpb.WorkflowExecution) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED)
	ev.Attributes = &historypb.HistoryEvent_ExternalWorkflowExecutionSignaledEventAttributes{ExternalWorkflowExecutionSignaledEventAttributes: &historypb.ExternalWorkflowExecutionSignaledEventAttributes{
		InitiatedEventId: initiatedID, Namespace: ns, Control: control, WorkflowExecution: exec,
	}}
	return ev
}

func (w *run) requestCancelExternalWorkflowExecutionInitiatedEvent(attrs *historypb.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED)
	ev.Attributes = &historypb.HistoryEvent_RequestCancelExternalWorkflowExecutionInitiatedEventAttributes{RequestCancelExternalWorkflowExecutionInitiatedEventAttributes: attrs}
	return ev
}

func (w *run) requestCancelExternalWorkflowExecutionFailedEvent(cause enumspb.CancelExternalWorkflowExecutionFailedCause, completedID int64,
	ns string, exec *commonpb.WorkflowExecution, initiatedID int64, control string) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED)
	ev.Attributes = &historypb.HistoryEvent_RequestCancelExternalWorkflowExecutionFailedEventAttributes{RequestCancelExternalWorkflowExecutionFailedEventAttributes: &historypb.RequestCancelExternalWorkflowExecutionFailedEventAttributes{
		Cause: cause, WorkflowTaskCompletedEventId: completedID, Namespace: ns, WorkflowExecution: exec,
		InitiatedEventId: initiatedID, Control: control,
	}}
	return ev
}

func (w *run) externalWorkflowExecutionCancelRequestedEvent(initiatedID int64, ns string, exec *commonpb.WorkflowExecution) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED)
	ev.Attributes = &historypb.HistoryEvent_ExternalWorkflowExecutionCancelRequestedEventAttributes{ExternalWorkflowExecutionCancelRequestedEventAttributes: &historypb.ExternalWorkflowExecutionCancelRequestedEventAttributes{
		InitiatedEventId: initiatedID, Namespace: ns, WorkflowExecution: exec,
	}}
	return ev
}
