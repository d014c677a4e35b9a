package fsm

import (
	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// Signals and cancel requests to other workflows: the
// SignalExternalWorkflowExecution and RequestCancelExternalWorkflowExecution
// commands.

func (w *run) validateSignalExternal(_ *taskCompletion, i int, c *commandpb.Command) *BadCommandError {
	a := c.GetSignalExternalWorkflowExecutionCommandAttributes()
	if a.GetExecution().GetWorkflowId() == "" || a.GetSignalName() == "" {
		return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES,
			"command %d: execution.workflow_id and signal_name are required", i)
	}
	return nil
}

func (w *run) applySignalExternal(tc *taskCompletion, c *commandpb.Command) bool {
	w.signalExternal(c.GetSignalExternalWorkflowExecutionCommandAttributes(), tc)
	return true
}

func (w *run) validateCancelExternal(_ *taskCompletion, i int, c *commandpb.Command) *BadCommandError {
	if c.GetRequestCancelExternalWorkflowExecutionCommandAttributes().GetWorkflowId() == "" {
		return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_ATTRIBUTES,
			"command %d: workflow_id is not set", i)
	}
	return nil
}

func (w *run) applyCancelExternal(tc *taskCompletion, c *commandpb.Command) bool {
	w.cancelExternal(c.GetRequestCancelExternalWorkflowExecutionCommandAttributes(), tc)
	return true
}

// signalExternal applies SignalExternalWorkflowExecution: Initiated, then
// (same entry) the target's Signaled event, and after the batch (tc.results)
// ExternalWorkflowExecutionSignaled or SignalExternalWorkflowExecutionFailed.
func (w *run) signalExternal(a *commandpb.SignalExternalWorkflowExecutionCommandAttributes, tc *taskCompletion) {
	s, completedID := w.st, tc.completedID
	ns := a.Namespace
	if ns == "" {
		ns = s.Namespace
	}
	ev := w.signalExternalWorkflowExecutionInitiatedEvent(&historypb.SignalExternalWorkflowExecutionInitiatedEventAttributes{
		WorkflowTaskCompletedEventId: completedID, Namespace: ns, WorkflowExecution: a.Execution,
		SignalName: a.SignalName, Input: a.Input, Control: a.Control, ChildWorkflowOnly: a.ChildWorkflowOnly, Header: a.Header,
	})
	w.appendEvents(ev)
	target, err := w.t.loadRunning(ns, a.GetExecution().GetWorkflowId(), a.GetExecution().GetRunId())
	cause := enumspb.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND
	if err == nil && target.st.SignalCount >= MaxSignalsPerExecution {
		cause, err = enumspb.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_SIGNAL_COUNT_LIMIT_EXCEEDED, ErrSignalLimit
	}
	if err != nil || (target.st.RunId == s.RunId && target.st.WorkflowId == s.WorkflowId) {
		tc.results = append(tc.results, func() {
			w.appendEvents(w.signalExternalWorkflowExecutionFailedEvent(cause, completedID, ns, a.Execution, ev.EventId, a.Control))
		})
		return
	}
	sig := target.workflowExecutionSignaledEvent(a.SignalName, a.Input, s.Identity, a.Header,
		&commonpb.WorkflowExecution{WorkflowId: s.WorkflowId, RunId: s.RunId})
	target.st.SignalCount++
	target.record(sig)
	target.save()
	signaled := &commonpb.WorkflowExecution{WorkflowId: target.st.WorkflowId, RunId: target.st.RunId}
	tc.results = append(tc.results, func() {
		w.appendEvents(w.externalWorkflowExecutionSignaledEvent(ev.EventId, ns, a.Control, signaled))
	})
}

// cancelExternal applies RequestCancelExternalWorkflowExecution: Initiated,
// the target's cancel request, and after the batch (tc.results)
// ExternalWorkflowExecutionCancelRequested or its Failed event.
func (w *run) cancelExternal(a *commandpb.RequestCancelExternalWorkflowExecutionCommandAttributes, tc *taskCompletion) {
	s, completedID := w.st, tc.completedID
	ns := a.Namespace
	if ns == "" {
		ns = s.Namespace
	}
	exec := &commonpb.WorkflowExecution{WorkflowId: a.WorkflowId, RunId: a.RunId}
	ev := w.requestCancelExternalWorkflowExecutionInitiatedEvent(&historypb.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes{
		WorkflowTaskCompletedEventId: completedID, Namespace: ns, WorkflowExecution: exec,
		Control: a.Control, ChildWorkflowOnly: a.ChildWorkflowOnly, Reason: a.Reason,
	})
	w.appendEvents(ev)
	target, err := w.t.loadRunning(ns, a.WorkflowId, a.RunId)
	if err != nil || (target.st.RunId == s.RunId && target.st.WorkflowId == s.WorkflowId) {
		tc.results = append(tc.results, func() {
			w.appendEvents(w.requestCancelExternalWorkflowExecutionFailedEvent(
				enumspb.CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
				completedID, ns, exec, ev.EventId, a.Control))
		})
		return
	}
	if !target.st.CancelRequested {
		target.requestCancel(a.Reason, s.Identity, &fsmpb.ParentInfo{WorkflowId: s.WorkflowId, RunId: s.RunId, InitiatedEventId: ev.EventId})
		target.save()
	}
	requested := &commonpb.WorkflowExecution{WorkflowId: target.st.WorkflowId, RunId: target.st.RunId}
	tc.results = append(tc.results, func() {
		w.appendEvents(w.externalWorkflowExecutionCancelRequestedEvent(ev.EventId, ns, requested))
	})
}
