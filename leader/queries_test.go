package leader

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	querypb "go.temporal.io/api/query/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
	"github.com/raftflow/engine/queue"
)

func queryState() *fsmpb.WorkflowState {
	return &fsmpb.WorkflowState{Namespace: "ns", WorkflowId: "wf", RunId: "run", TaskQueue: "q"}
}

// pollQuery takes the next workflow task of ns/q and returns it as a query.
func pollQuery(t *testing.T, e *Engine) *QueryTask {
	t.Helper()
	got, ok, err := e.queues.Poll(t.Context(), "ns", "q", queue.KindWorkflow)
	if !ok || err != nil {
		t.Fatalf("Poll = %v, %v; want the query task", ok, err)
	}
	q, isQuery := got.Payload.(*QueryTask)
	if !isQuery {
		t.Fatalf("payload %T, want *QueryTask", got.Payload)
	}
	return q
}

// TestQueryAnswered: a query is a workflow task on the run's task queue;
// the answer reaches the waiting caller once, and only from its namespace.
func TestQueryAnswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := hintEngine()
		e.queues.Start(nil)
		defer e.queues.Stop()
		type result struct {
			a   *QueryAnswer
			err error
		}
		res := make(chan result, 1)
		go func() {
			a, err := e.Query(t.Context(), queryState(), &querypb.WorkflowQuery{QueryType: "state"})
			res <- result{a, err}
		}()
		synctest.Wait()
		q := pollQuery(t, e)
		if q.Query.GetQueryType() != "state" || q.State.GetWorkflowId() != "wf" {
			t.Fatalf("query task %+v", q)
		}
		answer := &QueryAnswer{CompletedType: enumspb.QUERY_RESULT_TYPE_ANSWERED}
		if err := e.AnswerQuery(q.ID, "other", answer); !errors.Is(err, ErrQueryNamespace) {
			t.Fatalf("answer from another namespace: %v, want ErrQueryNamespace", err)
		}
		if err := e.AnswerQuery(q.ID, "ns", answer); err != nil {
			t.Fatalf("AnswerQuery: %v", err)
		}
		if r := <-res; r.err != nil || r.a != answer {
			t.Fatalf("Query = %v, %v; want the answer", r.a, r.err)
		}
		if err := e.AnswerQuery(q.ID, "ns", answer); !errors.Is(err, ErrQueryNotFound) {
			t.Fatalf("second answer: %v, want ErrQueryNotFound", err)
		}
	})
}

// TestQueryTimesOut: nobody answers within half a second before the
// caller's deadline; the query is withdrawn from the queue and forgotten.
func TestQueryTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := hintEngine()
		e.queues.Start(nil)
		defer e.queues.Stop()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		start := time.Now()
		_, err := e.Query(ctx, queryState(), &querypb.WorkflowQuery{QueryType: "state"})
		if !errors.Is(err, ErrQueryTimeout) {
			t.Fatalf("Query = %v, want ErrQueryTimeout", err)
		}
		if waited := time.Since(start); waited != 9500*time.Millisecond {
			t.Errorf("waited %v, want 9.5s", waited)
		}
		if got := e.queues.Stats(); len(got) != 0 {
			t.Errorf("query task left queued: %+v", got)
		}
		if len(e.queries.waiters) != 0 {
			t.Errorf("%d queries still registered", len(e.queries.waiters))
		}
	})
}
