package rpc

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	querypb "go.temporal.io/api/query/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"

	"github.com/raftflow/engine/fsm/fsmpb"
	"github.com/raftflow/engine/queue"
)

// Queries are not state transitions: a query is an in-memory task on the
// workflow's task queue (never proposed through raft) that a worker answers
// by replaying the history; the answer comes back to the waiting caller
// through RespondQueryTaskCompleted. A leader change loses pending queries;
// their callers time out and may retry.

// queryTokenPrefix marks query task tokens (workflow task tokens are
// protobuf-encoded TaskTokens, which never start with this byte sequence).
var queryTokenPrefix = []byte("raftflow-query:")

// maxQueryWait bounds how long a query waits for a worker.
const maxQueryWait = 30 * time.Second

type queryTask struct {
	id    string
	state *fsmpb.WorkflowState
	query *querypb.WorkflowQuery
}

type queryRegistry struct {
	mu      sync.Mutex
	waiters map[string]queryWaiter
}

// queryWaiter is a pending query: its caller's channel and namespace.
type queryWaiter struct {
	ns string
	ch chan *workflowservice.RespondQueryTaskCompletedRequest
}

func (r *queryRegistry) add(id, ns string) chan *workflowservice.RespondQueryTaskCompletedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.waiters == nil {
		r.waiters = map[string]queryWaiter{}
	}
	ch := make(chan *workflowservice.RespondQueryTaskCompletedRequest, 1)
	r.waiters[id] = queryWaiter{ns: ns, ch: ch}
	return ch
}

// namespace is the namespace of a pending query ("" if none).
func (r *queryRegistry) namespace(id string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.waiters[id].ns
}

func (r *queryRegistry) take(id string) chan *workflowservice.RespondQueryTaskCompletedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.waiters[id]
	delete(r.waiters, id)
	return w.ch
}

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
	id := uuid.NewString()
	ch := s.queries.add(id, req.Namespace)
	key := append(append([]byte(nil), queryTokenPrefix...), id...)
	s.queues.Add(queue.Task{Key: key, Namespace: req.Namespace, Queue: st.TaskQueue, Kind: queue.KindWorkflow,
		Payload: &queryTask{id: id, state: st, query: req.Query}})
	wait := maxQueryWait
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl)-500*time.Millisecond)
	}
	timer := time.NewTimer(max(wait, 0))
	defer timer.Stop()
	select {
	case resp := <-ch:
		if resp.CompletedType == enumspb.QUERY_RESULT_TYPE_ANSWERED {
			return &workflowservice.QueryWorkflowResponse{QueryResult: resp.QueryResult}, nil
		}
		msg := resp.ErrorMessage
		if msg == "" {
			msg = "query failed"
		}
		return nil, svcErr(serviceerror.NewQueryFailedWithFailure(msg, resp.Failure))
	case <-timer.C:
	case <-ctx.Done():
	}
	s.queries.take(id)
	s.queues.Remove(key)
	return nil, svcErr(serviceerror.NewDeadlineExceeded(
		"query timed out: no worker answered the query on task queue " + st.TaskQueue + " (is a worker running?)"))
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
func (s *Service) queryTaskResponse(q *queryTask) *workflowservice.PollWorkflowTaskQueueResponse {
	st := q.state
	if cur, err := s.fsm.GetState(st.Namespace, st.WorkflowId, st.RunId); err == nil {
		st = cur
	}
	events, next := s.fsm.ReadHistory(st.Namespace, st.WorkflowId, st.RunId, 1, 0, defaultHistoryPageSize)
	resp := &workflowservice.PollWorkflowTaskQueueResponse{
		TaskToken:                  append(append([]byte(nil), queryTokenPrefix...), q.id...),
		WorkflowExecution:          &commonpb.WorkflowExecution{WorkflowId: st.WorkflowId, RunId: st.RunId},
		WorkflowType:               st.WorkflowType,
		PreviousStartedEventId:     st.LastCompletedStartedEventId,
		History:                    &historypb.History{Events: events},
		Query:                      q.query,
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
	if ns := s.queries.namespace(id); ns != "" && req.GetNamespace() != "" && ns != req.GetNamespace() {
		return nil, invalidArg(errTokenNamespace)
	}
	ch := s.queries.take(id)
	if ch == nil {
		return nil, svcErr(serviceerror.NewNotFound("query not found or already timed out"))
	}
	if n := proto.Size(req.GetQueryResult()); n > maxPayloadSize {
		// The caller learns why its query failed; the worker, which field.
		ch <- &workflowservice.RespondQueryTaskCompletedRequest{
			CompletedType: enumspb.QUERY_RESULT_TYPE_FAILED,
			ErrorMessage:  fmt.Sprintf("query result of %d bytes exceeds the payload size limit of %d bytes", n, maxPayloadSize),
		}
		return nil, payloadError("query_result", n)
	}
	ch <- req
	return &workflowservice.RespondQueryTaskCompletedResponse{}, nil
}
