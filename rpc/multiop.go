package rpc

import (
	"context"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// Update-with-start (ExecuteMultiOperation): exactly [Start, Update] for one
// workflow id, as Temporal allows today. The update goes to the running run
// when the start would not start one (conflict policy USE_EXISTING, a retry
// of the same start request, or an update already known there); otherwise
// the update is admitted in the leader's registry under the run id the
// start will use, then the start is proposed: the run's first workflow task
// carries the update, so the two cannot be separated. Errors have Temporal's
// shape: MultiOperationExecution with one error per operation, the one that
// did not fail being MultiOperationAborted.

// Temporal's messages (frontend/errors.go), which clients match.
const (
	msgMultiOpFailed          = "Update-with-Start could not be executed."
	msgMultiOpNotStartUpdate  = "Operations have to be exactly [Start, Update]."
	msgMultiOpAborted         = "Operation was aborted."
	msgMultiOpIDInconsistent  = "WorkflowId is not consistent with previous operation(s)."
	msgMultiOpCron            = "CronSchedule is not allowed."
	msgMultiOpEager           = "RequestEagerExecution is not supported."
	msgMultiOpStartDelay      = "WorkflowStartDelay is not supported."
	msgMultiOpFirstExecRunID  = "FirstExecutionRunId is not allowed."
	msgMultiOpRunID           = "RunId is not allowed."
	msgMultiOpNamespaceDiffer = "Operation namespace did not match request's namespace."
)

func (s *Service) ExecuteMultiOperation(ctx context.Context, req *workflowservice.ExecuteMultiOperationRequest) (*workflowservice.ExecuteMultiOperationResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	if err := s.checkNamespace(req.GetNamespace()); err != nil {
		return nil, err
	}
	ops := req.GetOperations()
	if len(ops) != 2 || ops[0].GetStartWorkflow() == nil || ops[1].GetUpdateWorkflow() == nil {
		return nil, svcErr(serviceerror.NewInvalidArgument(msgMultiOpNotStartUpdate))
	}
	start, upd := ops[0].GetStartWorkflow(), ops[1].GetUpdateWorkflow()
	startErr, updErr := s.checkMultiStart(req.Namespace, start), s.checkMultiUpdate(req.Namespace, upd)
	if startErr == nil && updErr == nil && upd.GetWorkflowExecution().GetWorkflowId() != start.GetWorkflowId() {
		updErr = serviceerror.NewInvalidArgument(msgMultiOpIDInconsistent)
	}
	if startErr != nil || updErr != nil {
		return nil, multiOpError(startErr, updErr)
	}
	if !s.Ready() {
		return nil, unavailable("raftflow: leader services are not ready; retry")
	}
	startResp, updResp, err := s.updateWithStart(ctx, start, upd)
	if err != nil {
		return nil, err
	}
	return &workflowservice.ExecuteMultiOperationResponse{Responses: []*workflowservice.ExecuteMultiOperationResponse_Response{
		{Response: &workflowservice.ExecuteMultiOperationResponse_Response_StartWorkflow{StartWorkflow: startResp}},
		{Response: &workflowservice.ExecuteMultiOperationResponse_Response_UpdateWorkflow{UpdateWorkflow: updResp}},
	}}, nil
}

func (s *Service) checkMultiStart(ns string, req *workflowservice.StartWorkflowExecutionRequest) error {
	switch {
	case req.Namespace != "" && req.Namespace != ns:
		return serviceerror.NewInvalidArgument(msgMultiOpNamespaceDiffer)
	case req.CronSchedule != "":
		return serviceerror.NewInvalidArgument(msgMultiOpCron)
	case req.RequestEagerExecution:
		return serviceerror.NewInvalidArgument(msgMultiOpEager)
	case req.GetWorkflowStartDelay().AsDuration() > 0:
		return serviceerror.NewInvalidArgument(msgMultiOpStartDelay)
	}
	req.Namespace = ns
	return s.checkStart(req)
}

func (s *Service) checkMultiUpdate(ns string, req *workflowservice.UpdateWorkflowExecutionRequest) error {
	switch {
	case req.Namespace != "" && req.Namespace != ns:
		return serviceerror.NewInvalidArgument(msgMultiOpNamespaceDiffer)
	case req.FirstExecutionRunId != "":
		return serviceerror.NewInvalidArgument(msgMultiOpFirstExecRunID)
	case req.GetWorkflowExecution().GetRunId() != "":
		return serviceerror.NewInvalidArgument(msgMultiOpRunID)
	}
	req.Namespace = ns
	return s.checkUpdate(req)
}

// multiOpError is Temporal's MultiOperationExecution: each operation's own
// error, or "aborted" for the one that did not fail.
func multiOpError(startErr, updErr error) error {
	errs := []error{startErr, updErr}
	for i, err := range errs {
		if err == nil {
			errs[i] = serviceerror.NewMultiOperationAborted(msgMultiOpAborted)
		}
	}
	return svcErr(serviceerror.NewMultiOperationExecution(msgMultiOpFailed, errs))
}

// updateWithStart runs the two operations; the start response says whether
// a run was started.
func (s *Service) updateWithStart(ctx context.Context, start *workflowservice.StartWorkflowExecutionRequest,
	upd *workflowservice.UpdateWorkflowExecutionRequest) (*workflowservice.StartWorkflowExecutionResponse, *workflowservice.UpdateWorkflowExecutionResponse, error) {
	ns, wfID, updateID := start.Namespace, start.WorkflowId, upd.Request.Meta.UpdateId
	if cur, err := s.fsm.GetState(ns, wfID, ""); err == nil && cur.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING &&
		(start.WorkflowIdConflictPolicy == enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING ||
			cur.CreateRequestId == start.RequestId || cur.Updates[updateID] != nil ||
			s.eng.Update(ns, wfID, cur.RunId, updateID) != nil) {
		return s.updateExisting(ctx, cur, upd)
	}
	runID := uuid.NewString()
	s.eng.AdmitUpdate(ns, wfID, runID, upd.Request)
	res, err := s.apply(ctx, &fsmpb.Command{RequestId: start.RequestId, Op: &fsmpb.Command_StartWorkflow{StartWorkflow: &fsmpb.StartWorkflow{
		RunId: runID, Request: start,
	}}})
	if err != nil || res.RunID != runID {
		s.eng.ForgetUpdate(ns, wfID, runID, updateID)
	}
	if err != nil {
		return nil, nil, multiOpError(err, nil)
	}
	if res.RunID != runID {
		// Not started after all: a run appeared meanwhile and the policy
		// attaches to it (or the same start request was retried).
		cur, err := s.fsm.GetState(ns, wfID, res.RunID)
		if err != nil {
			return nil, nil, multiOpError(nil, toStatus(err))
		}
		return s.updateExisting(ctx, cur, upd)
	}
	run := &fsmpb.WorkflowState{Namespace: ns, WorkflowId: wfID, RunId: runID} // waitUpdate needs its identity only
	updResp, err := s.waitUpdate(ctx, run, updateID, upd.GetWaitPolicy().GetLifecycleStage())
	if err != nil {
		return nil, nil, multiOpError(nil, err)
	}
	return &workflowservice.StartWorkflowExecutionResponse{RunId: runID, Started: true,
		Status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING}, updResp, nil
}

// updateExisting sends the update to the running run cur (no start).
func (s *Service) updateExisting(ctx context.Context, cur *fsmpb.WorkflowState, upd *workflowservice.UpdateWorkflowExecutionRequest) (*workflowservice.StartWorkflowExecutionResponse, *workflowservice.UpdateWorkflowExecutionResponse, error) {
	updResp, err := s.updateRun(ctx, cur, upd)
	if err != nil {
		return nil, nil, multiOpError(nil, err)
	}
	return &workflowservice.StartWorkflowExecutionResponse{RunId: cur.RunId, Started: false, Status: cur.Status}, updResp, nil
}
