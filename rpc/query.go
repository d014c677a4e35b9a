package rpc

import (
	"bytes"
	"context"
	"errors"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	querypb "go.temporal.io/api/query/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"

	"github.com/raftflow/engine/fsm/fsmpb"
	"github.com/raftflow/engine/leader"
)

// Queries are in-memory tasks of the leader (leader.Engine.Query), never
// proposed: a worker polls one as a workflow task carrying the full history
// and answers through RespondQueryTaskCompleted.

// queryTokenPrefix marks query task tokens (workflow task tokens are
// protobuf-encoded TaskTokens, which never start with this byte sequence).
var queryTokenPrefix = []byte("raftflow-query:")

func (s *Service) QueryWorkflow(ctx context.Context, req *workflowservice.QueryWorkflowRequest) (*workflowservice.QueryWorkflowResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	e := req.GetExecution()
	if err := s.checkNamespaceID(req.GetNamespace(), "execution.workflow_id", e.GetWorkflowId()); err != nil {
		return nil, err
	}
	if err := checkID("query.query_type", req.GetQuery().GetQueryType()); err != nil {
		return nil, err
	}
	st, err := s.fsm.GetState(req.Namespace, e.GetWorkflowId(), e.GetRunId())
	if err != nil {
		return nil, toStatus(err)
	}
	if rejected := queryRejected(req.QueryRejectCondition, st.Status); rejected {
		return &workflowservice.QueryWorkflowResponse{QueryRejected: &querypb.QueryRejected{Status: st.Status}}, nil
	}
	if !s.Ready() {
		return nil, unavailable("raftflow: leader services are not ready; retry")
	}
	if st, err = s.awaitQueryable(ctx, st); err != nil {
		return nil, err
	}
	resp, err := s.eng.Query(ctx, st, req.Query)
	if err != nil {
		return nil, svcErr(serviceerror.NewDeadlineExceeded(
			"query timed out: no worker answered the query on task queue " + st.TaskQueue + " (is a worker running?)"))
	}
	if resp.CompletedType == enumspb.QUERY_RESULT_TYPE_ANSWERED {
		return &workflowservice.QueryWorkflowResponse{QueryResult: resp.QueryResult}, nil
	}
	msg := resp.ErrorMessage
	if msg == "" {
		msg = "query failed"
	}
	return nil, svcErr(serviceerror.NewQueryFailedWithFailure(msg, resp.Failure))
}

// errBlobSizeExceedsLimit is Temporal's text for a payload over the limit.
const errBlobSizeExceedsLimit = "Blob data size exceeds limit."

// failQueryTaskAttempt: a query to a run whose workflow task has failed
// this many times in a row fails at once, as Temporal's does (the worker
// could not answer it either).
const failQueryTaskAttempt = 3

// awaitQueryable waits until the query may go to a worker directly and
// still see every event that came before it: Temporal's consistent query.
// While a workflow task is scheduled or running, events the worker has not
// seen exist (a signal that just arrived, say); a query answered by replay
// now would miss them. So it waits for the run to have no workflow task
// (Temporal hands the query to that task instead: the same answer, as
// the task's events come first). A closed run is always queryable.
func (s *Service) awaitQueryable(ctx context.Context, st *fsmpb.WorkflowState) (*fsmpb.WorkflowState, error) {
	for {
		// Take the wake-up before reading the state so no change is missed.
		wake := s.eng.HistoryChanged(st.Namespace, st.WorkflowId, st.RunId)
		cur, err := s.fsm.GetState(st.Namespace, st.WorkflowId, st.RunId)
		if err != nil {
			return nil, toStatus(err)
		}
		wt := cur.WorkflowTask
		switch {
		case cur.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING || wt == nil:
			return cur, nil
		case wt.Attempt >= failQueryTaskAttempt:
			return nil, svcErr(serviceerror.NewWorkflowNotReady("Unable to query workflow due to Workflow Task in failed state."))
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, svcErr(serviceerror.NewDeadlineExceeded(
				"query timed out: the workflow task before it did not complete on task queue " + cur.TaskQueue + " (is a worker running?)"))
		}
	}
}

func queryRejected(cond enumspb.QueryRejectCondition, status enumspb.WorkflowExecutionStatus) bool {
	switch cond {
	case enumspb.QUERY_REJECT_CONDITION_NOT_OPEN:
		return status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	case enumspb.QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY:
		return status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && status != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	}
	return false
}

// queryTaskResponse builds the poll response for a query task: the full
// history, so any worker can answer by replaying.
func (s *Service) queryTaskResponse(q *leader.QueryTask) *workflowservice.PollWorkflowTaskQueueResponse {
	st := q.State
	if cur, err := s.fsm.GetState(st.Namespace, st.WorkflowId, st.RunId); err == nil {
		st = cur
	}
	events, next := s.fsm.ReadHistory(st.Namespace, st.WorkflowId, st.RunId, 1, 0, defaultHistoryPageSize)
	resp := &workflowservice.PollWorkflowTaskQueueResponse{
		TaskToken:                  append(append([]byte(nil), queryTokenPrefix...), q.ID...),
		WorkflowExecution:          &commonpb.WorkflowExecution{WorkflowId: st.WorkflowId, RunId: st.RunId},
		WorkflowType:               st.WorkflowType,
		PreviousStartedEventId:     st.LastCompletedStartedEventId,
		History:                    &historypb.History{Events: events},
		Query:                      q.Query,
		WorkflowExecutionTaskQueue: &taskqueuepb.TaskQueue{Name: st.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		Attempt:                    1,
	}
	if next > 0 {
		resp.NextPageToken = encodePageToken(pageToken{RunID: st.RunId, Next: next})
	}
	return resp
}

func (s *Service) RespondQueryTaskCompleted(ctx context.Context, req *workflowservice.RespondQueryTaskCompletedRequest) (*workflowservice.RespondQueryTaskCompletedResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	tok := req.GetTaskToken()
	if !bytes.HasPrefix(tok, queryTokenPrefix) {
		return nil, invalidArg("task_token: not a query task token")
	}
	id := string(tok[len(queryTokenPrefix):])
	answer := req
	if n := proto.Size(req.GetQueryResult()); n > maxPayloadSize {
		// As Temporal: the caller's query fails with Temporal's text (clients
		// match it); the worker, which can do nothing about it, is answered OK.
		answer = &workflowservice.RespondQueryTaskCompletedRequest{
			CompletedType: enumspb.QUERY_RESULT_TYPE_FAILED,
			ErrorMessage:  errBlobSizeExceedsLimit,
		}
	}
	switch err := s.eng.AnswerQuery(id, req.GetNamespace(), answer); {
	case errors.Is(err, leader.ErrQueryNamespace):
		return nil, invalidArg(errTokenNamespace)
	case err != nil:
		return nil, svcErr(serviceerror.NewNotFound("query not found or already timed out"))
	}
	return &workflowservice.RespondQueryTaskCompletedResponse{}, nil
}
