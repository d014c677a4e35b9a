package rpc

import (
	"context"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	protocolpb "go.temporal.io/api/protocol/v1"
	"go.temporal.io/api/serviceerror"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// Updates. An admitted update request lives in the leader's memory
// (leader.Engine.AdmitUpdate, as in Temporal) and rides on the next workflow
// task of its run as a protocol message; once the worker accepts it, the
// acceptance and the completion are history events and survive failover. A
// caller whose update was only admitted when the leader changed gets
// NotFound or an empty long-poll answer, and the SDK re-sends it.

// updateMessages are the protocol messages a workflow task carries.
func (s *Service) updateMessages(ns, wfID, runID string, startedEventID int64) []*protocolpb.Message {
	var out []*protocolpb.Message
	pending := s.eng.AdmittedUpdates(ns, wfID, runID)
	if len(pending) == 0 {
		return nil
	}
	// The registry learns of an acceptance only after the completing call
	// returns, but the next workflow task can be polled before that: the
	// replicated state is the authority on what was already accepted.
	st, err := s.fsm.GetState(ns, wfID, runID)
	if err != nil {
		return nil
	}
	for _, p := range pending {
		if st.Updates[p.Request().GetMeta().GetUpdateId()] != nil {
			continue
		}
		body, err := anypb.New(p.Request())
		if err != nil {
			continue
		}
		id := p.Request().GetMeta().GetUpdateId()
		out = append(out, &protocolpb.Message{
			Id: id + "/request", ProtocolInstanceId: id,
			SequencingId: &protocolpb.Message_EventId{EventId: startedEventID - 1},
			Body:         body,
		})
	}
	return out
}

func (s *Service) UpdateWorkflowExecution(ctx context.Context, req *workflowservice.UpdateWorkflowExecutionRequest) (*workflowservice.UpdateWorkflowExecutionResponse, error) {
	if err := s.checkUpdate(req); err != nil {
		return nil, err
	}
	e := req.GetWorkflowExecution()
	st, err := s.fsm.GetState(req.Namespace, e.GetWorkflowId(), e.GetRunId())
	if err != nil {
		return nil, toStatus(err)
	}
	return s.updateRun(ctx, st, req)
}

// checkUpdate validates an update request (alone or in update-with-start)
// and gives it an update id if it has none.
func (s *Service) checkUpdate(req *workflowservice.UpdateWorkflowExecutionRequest) error {
	if err := s.validate(req); err != nil {
		return err
	}
	e := req.GetWorkflowExecution()
	if err := s.checkNamespaceID(req.GetNamespace(), "workflow_execution.workflow_id", e.GetWorkflowId()); err != nil {
		return err
	}
	if err := checkID("request.input.name", req.GetRequest().GetInput().GetName()); err != nil {
		return err
	}
	if req.Request.Meta == nil {
		req.Request.Meta = &updatepb.Meta{}
	}
	if req.Request.Meta.UpdateId == "" {
		req.Request.Meta.UpdateId = uuid.NewString()
	}
	return nil
}

// updateRun admits the update to the run st (or finds it known) and waits
// for the stage the request asks for.
func (s *Service) updateRun(ctx context.Context, st *fsmpb.WorkflowState, req *workflowservice.UpdateWorkflowExecutionRequest) (*workflowservice.UpdateWorkflowExecutionResponse, error) {
	id := req.Request.Meta.UpdateId
	if info := st.Updates[id]; info != nil {
		return s.waitUpdate(ctx, st, id, req.GetWaitPolicy().GetLifecycleStage())
	}
	if st.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return nil, svcErr(serviceerror.NewNotFound("workflow execution already completed"))
	}
	if !s.Ready() {
		return nil, unavailable("raftflow: leader services are not ready; retry")
	}
	s.eng.AdmitUpdate(st.Namespace, st.WorkflowId, st.RunId, req.Request)
	if _, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_AdmitUpdate{AdmitUpdate: &fsmpb.AdmitUpdate{
		Namespace: st.Namespace, WorkflowId: st.WorkflowId, RunId: st.RunId, UpdateId: id,
	}}}); err != nil {
		return nil, err
	}
	return s.waitUpdate(ctx, st, id, req.GetWaitPolicy().GetLifecycleStage())
}

// waitUpdate waits until the update reaches want (ACCEPTED by default) or
// the long poll ends, and reports the stage reached.
func (s *Service) waitUpdate(ctx context.Context, st *fsmpb.WorkflowState, id string, want enumspb.UpdateWorkflowExecutionLifecycleStage) (*workflowservice.UpdateWorkflowExecutionResponse, error) {
	if want == enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_UNSPECIFIED || want == enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED {
		want = enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED
	}
	ref := &updatepb.UpdateRef{WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: st.WorkflowId, RunId: st.RunId}, UpdateId: id}
	pctx, cancel := s.longPollContext(ctx)
	defer cancel()
	for {
		// Taken before the read, so a change between the two still wakes us.
		wake := s.eng.HistoryChanged(st.Namespace, st.WorkflowId, st.RunId)
		stage, outcome, changed := s.updateStage(st.Namespace, st.WorkflowId, st.RunId, id)
		if stage >= want || stage == enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED {
			return &workflowservice.UpdateWorkflowExecutionResponse{UpdateRef: ref, Outcome: outcome, Stage: stage}, nil
		}
		if stage == enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_UNSPECIFIED {
			return nil, svcErr(serviceerror.NewNotFound("update not found: it was not accepted before the workflow closed or the leader changed; send it again"))
		}
		select {
		case <-changed:
		case <-wake:
		case <-pctx.Done():
			if ctx.Err() != nil {
				return nil, toStatus(ctx.Err())
			}
			return &workflowservice.UpdateWorkflowExecutionResponse{UpdateRef: ref, Stage: stage}, nil
		}
	}
}

// updateStage reads an update's stage: from replicated state once accepted,
// else from the in-memory registry (UNSPECIFIED: unknown).
func (s *Service) updateStage(ns, wfID, runID, id string) (enumspb.UpdateWorkflowExecutionLifecycleStage, *updatepb.Outcome, <-chan struct{}) {
	if p := s.eng.Update(ns, wfID, runID, id); p != nil {
		stage, outcome, ch := p.Snapshot()
		if stage == enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED {
			return stage, outcome, ch
		}
		if st, err := s.fsm.GetState(ns, wfID, runID); err == nil && st.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && st.Updates[id] == nil {
			return enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_UNSPECIFIED, nil, ch
		}
		return stage, outcome, ch
	}
	st, err := s.fsm.GetState(ns, wfID, runID)
	if err != nil || st.Updates[id] == nil {
		return enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_UNSPECIFIED, nil, nil
	}
	info := st.Updates[id]
	if info.CompletedEventId == 0 {
		return enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED, nil, nil
	}
	evs, _ := s.fsm.ReadHistory(ns, wfID, runID, info.CompletedEventId, info.CompletedEventId, 1)
	var outcome *updatepb.Outcome
	if len(evs) == 1 {
		outcome = evs[0].GetWorkflowExecutionUpdateCompletedEventAttributes().GetOutcome()
	}
	return enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED, outcome, nil
}

func (s *Service) PollWorkflowExecutionUpdate(ctx context.Context, req *workflowservice.PollWorkflowExecutionUpdateRequest) (*workflowservice.PollWorkflowExecutionUpdateResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	if err := s.checkNamespace(req.GetNamespace()); err != nil {
		return nil, err
	}
	ref := req.GetUpdateRef()
	e := ref.GetWorkflowExecution()
	if err := checkID("update_ref.workflow_execution.workflow_id", e.GetWorkflowId()); err != nil {
		return nil, err
	}
	if err := checkID("update_ref.update_id", ref.GetUpdateId()); err != nil {
		return nil, err
	}
	st, err := s.fsm.GetState(req.Namespace, e.GetWorkflowId(), e.GetRunId())
	if err != nil {
		return nil, toStatus(err)
	}
	want := req.GetWaitPolicy().GetLifecycleStage()
	if want == enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_UNSPECIFIED {
		want = enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED
	}
	resp, err := s.waitUpdate(ctx, st, ref.GetUpdateId(), want)
	if err != nil {
		return nil, err
	}
	return &workflowservice.PollWorkflowExecutionUpdateResponse{Outcome: resp.Outcome, Stage: resp.Stage, UpdateRef: resp.UpdateRef}, nil
}
