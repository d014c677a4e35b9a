package leader

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
	querypb "go.temporal.io/api/query/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
	"github.com/raftflow/engine/queue"
)

// Queries are not state transitions: a query is an in-memory task on the
// workflow's task queue (never proposed through raft) that a worker answers
// by replaying the history; the answer comes back to the waiting caller
// through AnswerQuery. A leader change loses pending queries; their callers
// time out and may retry.

// queryKeyPrefix marks query tasks' queue keys (fsm task keys never start
// with it).
var queryKeyPrefix = []byte("raftflow-query:")

// maxQueryWait bounds how long a query waits for a worker.
const maxQueryWait = 30 * time.Second

// QueryTask is a query a poll found: the caller builds the worker's task
// from it and the worker answers with AnswerQuery(ID, ...).
type QueryTask struct {
	ID    string
	State *fsmpb.WorkflowState // the run as the query found it
	Query *querypb.WorkflowQuery
}

// QueryAnswer is a worker's answer to a query.
type QueryAnswer = workflowservice.RespondQueryTaskCompletedRequest

type queryRegistry struct {
	mu      sync.Mutex
	waiters map[string]queryWaiter
}

// queryWaiter is a pending query: its caller's channel and namespace.
type queryWaiter struct {
	ns string
	ch chan *QueryAnswer
}

func (r *queryRegistry) add(id, ns string) chan *QueryAnswer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.waiters == nil {
		r.waiters = map[string]queryWaiter{}
	}
	ch := make(chan *QueryAnswer, 1)
	r.waiters[id] = queryWaiter{ns: ns, ch: ch}
	return ch
}

// namespace is the namespace of a pending query ("" if none).
func (r *queryRegistry) namespace(id string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.waiters[id].ns
}

func (r *queryRegistry) take(id string) chan *QueryAnswer {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.waiters[id]
	delete(r.waiters, id)
	return w.ch
}

// Query queues q as a workflow task on st's task queue and waits for a
// worker's answer: at most 30 s, and until half a second before ctx's
// deadline. ErrQueryTimeout when nobody answered by then (or ctx ended);
// the query is withdrawn. The caller checks Ready first (a query queued on
// a stopped manager is dropped and times out).
func (e *Engine) Query(ctx context.Context, st *fsmpb.WorkflowState, q *querypb.WorkflowQuery) (*QueryAnswer, error) {
	id := uuid.NewString()
	ch := e.queries.add(id, st.Namespace)
	key := append(append([]byte(nil), queryKeyPrefix...), id...)
	e.queues.Add(queue.Task{Key: key, Namespace: st.Namespace, Queue: st.TaskQueue, Kind: queue.KindWorkflow,
		Payload: &QueryTask{ID: id, State: st, Query: q}})
	wait := maxQueryWait
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl)-500*time.Millisecond)
	}
	timer := time.NewTimer(max(wait, 0))
	defer timer.Stop()
	select {
	case resp := <-ch:
		return resp, nil
	case <-timer.C:
	case <-ctx.Done():
	}
	e.queries.take(id)
	e.queues.Remove(key)
	return nil, ErrQueryTimeout
}

// AnswerQuery hands a worker's answer to the query's waiting caller.
// ErrQueryNamespace when ns is set and the query belongs to another
// namespace (the query stays pending); ErrQueryNotFound when no query of
// that id waits (answered, timed out, or lost with a leader change).
func (e *Engine) AnswerQuery(id, ns string, answer *QueryAnswer) error {
	if qns := e.queries.namespace(id); qns != "" && ns != "" && qns != ns {
		return ErrQueryNamespace
	}
	ch := e.queries.take(id)
	if ch == nil {
		return ErrQueryNotFound
	}
	ch <- answer
	return nil
}
