package fsm

import (
	"fmt"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// apply dispatches one command. It must stay deterministic.
func (t *txn) apply(cmd *fsmpb.Command) *Result {
	switch op := cmd.Op.(type) {
	case *fsmpb.Command_StartWorkflow:
		return t.startWorkflow(op.StartWorkflow)
	case *fsmpb.Command_SignalWorkflow:
		return t.signalWorkflow(op.SignalWorkflow)
	case *fsmpb.Command_TerminateWorkflow:
		return t.terminateWorkflow(op.TerminateWorkflow)
	case *fsmpb.Command_RecordTaskStarted:
		return t.recordTaskStarted(op.RecordTaskStarted)
	case *fsmpb.Command_CompleteWorkflowTask:
		return t.completeWorkflowTask(op.CompleteWorkflowTask)
	case *fsmpb.Command_FailWorkflowTask:
		return t.failWorkflowTask(op.FailWorkflowTask)
	case *fsmpb.Command_ActivityResult:
		return t.activityResult(op.ActivityResult)
	case *fsmpb.Command_HeartbeatActivity:
		return t.heartbeatActivity(op.HeartbeatActivity)
	case *fsmpb.Command_FireTimers:
		return t.fireTimers(op.FireTimers)
	case *fsmpb.Command_RegisterNamespace:
		return t.registerNamespace(op.RegisterNamespace)
	case *fsmpb.Command_ResetSticky:
		return t.resetSticky(op.ResetSticky)
	case *fsmpb.Command_SetNode:
		t.set(nodeKey(op.SetNode.GetNode().GetId()), op.SetNode.GetNode())
		return &Result{}
	case *fsmpb.Command_RemoveNode:
		t.del(nodeKey(op.RemoveNode.GetId()))
		return &Result{}
	case *fsmpb.Command_SignalWithStart:
		return t.signalWithStart(op.SignalWithStart)
	case *fsmpb.Command_RequestCancelWorkflow:
		return t.requestCancelWorkflow(op.RequestCancelWorkflow)
	case *fsmpb.Command_AdmitUpdate:
		return t.admitUpdate(op.AdmitUpdate)
	case *fsmpb.Command_DeleteNamespace:
		return t.deleteNamespace(op.DeleteNamespace)
	case *fsmpb.Command_PurgeNamespace:
		return t.purgeNamespace(op.PurgeNamespace)
	case *fsmpb.Command_ActivityOperation:
		return t.activityOperation(op.ActivityOperation)
	case *fsmpb.Command_SearchAttributes:
		return t.searchAttributes(op.SearchAttributes)
	case *fsmpb.Command_UpdateNamespace:
		return t.updateNamespace(op.UpdateNamespace)
	case *fsmpb.Command_DeleteWorkflow:
		return t.deleteWorkflow(op.DeleteWorkflow)
	case *fsmpb.Command_Noop:
		return &Result{}
	default:
		return &Result{Err: fmt.Errorf("%w: %T", ErrUnknownOperation, cmd.Op)}
	}
}
