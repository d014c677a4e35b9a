package fsm

import (
	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// Signals and cancel requests to other workflows (the external commands).

// signalExternal applies SignalExternalWorkflowExecution: Initiated, then
// (same entry) the target's Signaled event and ExternalWorkflowExecutionSignaled,
// or SignalExternalWorkflowExecutionFailed.
func (w *wf) signalExternal(a *commandpb.SignalExternalWorkflowExecutionCommandAttributes, completedID int64) {
	s := w.st
	ns := a.Namespace
	if ns == "" {
		ns = s.Namespace
	}
	ev := w.event(enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED)
	ev.Attributes = &historypb.HistoryEvent_SignalExternalWorkflowExecutionInitiatedEventAttributes{SignalExternalWorkflowExecutionInitiatedEventAttributes: &historypb.SignalExternalWorkflowExecutionInitiatedEventAttributes{
		WorkflowTaskCompletedEventId: completedID, Namespace: ns, WorkflowExecution: a.Execution,
		SignalName: a.SignalName, Input: a.Input, Control: a.Control, ChildWorkflowOnly: a.ChildWorkflowOnly, Header: a.Header,
	}}
	w.appendEvents(ev)
	target, err := w.t.loadRunning(ns, a.GetExecution().GetWorkflowId(), a.GetExecution().GetRunId())
	cause := enumspb.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND
	if err == nil && target.st.SignalCount >= MaxSignalsPerExecution {
		cause, err = enumspb.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_SIGNAL_COUNT_LIMIT_EXCEEDED, ErrSignalLimit
	}
	if err != nil || (target.st.RunId == s.RunId && target.st.WorkflowId == s.WorkflowId) {
		f := w.event(enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED)
		f.Attributes = &historypb.HistoryEvent_SignalExternalWorkflowExecutionFailedEventAttributes{SignalExternalWorkflowExecutionFailedEventAttributes: &historypb.SignalExternalWorkflowExecutionFailedEventAttributes{
			Cause:                        cause,
			WorkflowTaskCompletedEventId: completedID, Namespace: ns, WorkflowExecution: a.Execution,
			InitiatedEventId: ev.EventId, Control: a.Control,
		}}
		w.appendEvents(f)
		return
	}
	sig := target.event(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
	sig.Attributes = &historypb.HistoryEvent_WorkflowExecutionSignaledEventAttributes{WorkflowExecutionSignaledEventAttributes: &historypb.WorkflowExecutionSignaledEventAttributes{
		SignalName: a.SignalName, Input: a.Input, Identity: s.Identity, Header: a.Header,
		ExternalWorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: s.WorkflowId, RunId: s.RunId},
	}}
	target.st.SignalCount++
	target.record(sig)
	target.save()
	done := w.event(enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED)
	done.Attributes = &historypb.HistoryEvent_ExternalWorkflowExecutionSignaledEventAttributes{ExternalWorkflowExecutionSignaledEventAttributes: &historypb.ExternalWorkflowExecutionSignaledEventAttributes{
		InitiatedEventId: ev.EventId, Namespace: ns, Control: a.Control,
		WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: target.st.WorkflowId, RunId: target.st.RunId},
	}}
	w.appendEvents(done)
}

// cancelExternal applies RequestCancelExternalWorkflowExecution.
func (w *wf) cancelExternal(a *commandpb.RequestCancelExternalWorkflowExecutionCommandAttributes, completedID int64) {
	s := w.st
	ns := a.Namespace
	if ns == "" {
		ns = s.Namespace
	}
	exec := &commonpb.WorkflowExecution{WorkflowId: a.WorkflowId, RunId: a.RunId}
	ev := w.event(enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED)
	ev.Attributes = &historypb.HistoryEvent_RequestCancelExternalWorkflowExecutionInitiatedEventAttributes{RequestCancelExternalWorkflowExecutionInitiatedEventAttributes: &historypb.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes{
		WorkflowTaskCompletedEventId: completedID, Namespace: ns, WorkflowExecution: exec,
		Control: a.Control, ChildWorkflowOnly: a.ChildWorkflowOnly, Reason: a.Reason,
	}}
	w.appendEvents(ev)
	target, err := w.t.loadRunning(ns, a.WorkflowId, a.RunId)
	if err != nil || (target.st.RunId == s.RunId && target.st.WorkflowId == s.WorkflowId) {
		f := w.event(enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED)
		f.Attributes = &historypb.HistoryEvent_RequestCancelExternalWorkflowExecutionFailedEventAttributes{RequestCancelExternalWorkflowExecutionFailedEventAttributes: &historypb.RequestCancelExternalWorkflowExecutionFailedEventAttributes{
			Cause:                        enumspb.CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
			WorkflowTaskCompletedEventId: completedID, Namespace: ns, WorkflowExecution: exec,
			InitiatedEventId: ev.EventId, Control: a.Control,
		}}
		w.appendEvents(f)
		return
	}
	if !target.st.CancelRequested {
		target.requestCancel(a.Reason, s.Identity, &fsmpb.ParentInfo{WorkflowId: s.WorkflowId, RunId: s.RunId, InitiatedEventId: ev.EventId})
		target.save()
	}
	done := w.event(enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED)
	done.Attributes = &historypb.HistoryEvent_ExternalWorkflowExecutionCancelRequestedEventAttributes{ExternalWorkflowExecutionCancelRequestedEventAttributes: &historypb.ExternalWorkflowExecutionCancelRequestedEventAttributes{
		InitiatedEventId: ev.EventId, Namespace: ns,
		WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: target.st.WorkflowId, RunId: target.st.RunId},
	}}
	w.appendEvents(done)
}
