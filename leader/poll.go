package leader

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/raftflow/engine/fsm"
	"github.com/raftflow/engine/fsm/fsmpb"
	"github.com/raftflow/engine/queue"
	"github.com/raftflow/engine/raftnode"
)

// PollRequest is one worker poll.
type PollRequest struct {
	Namespace, TaskQueue string
	Kind                 fsmpb.TaskKind
	Identity             string
	// WorkerKey is the worker instance key (ShutdownWorker completes the
	// instance's polls); "" when the SDK sends none.
	WorkerKey string
}

// Polled is what a poll found: a task recorded as started (Started, the
// RecordTaskStarted result) or a query task (Query).
type Polled struct {
	Started *fsm.Result
	Query   *QueryTask
}

// Poll waits until ctx ends for a task on the queue and records it started
// through raft before returning it; a stale task (the workflow moved on, so
// the fsm refused the start) is skipped and the poll goes on. It returns
// (nil, nil) when ctx ends with nothing, and at once when the worker
// (WorkerKey) has shut down or does so while the poll waits. The caller
// bounds ctx to end before its client's deadline.
//
// Errors: ErrNotReady when this node is not serving a term or the term
// ends while the poll waits; a raftnode error from the start proposal (on
// ErrNotLeader the task stays queued for the next poller; on
// ErrLeadershipLost the start may have committed, and the task is lost to
// this poller until its timeout, as in Temporal).
func (e *Engine) Poll(ctx context.Context, r PollRequest) (*Polled, error) {
	kind := kindOf(r.Kind)
	e.pollers.saw(r.Namespace, r.TaskQueue, kind, r.Identity, e.clock.Now())
	pctx, done, live := e.workers.track(ctx, r.WorkerKey)
	defer done()
	if !live {
		return nil, nil
	}
	for {
		pollStart := time.Now()
		t, ok, err := e.queues.Poll(pctx, r.Namespace, r.TaskQueue, kind)
		e.metrics.Polled(kind, time.Since(pollStart), ok)
		if errors.Is(err, queue.ErrNotActive) {
			return nil, ErrNotReady
		}
		if err != nil || !ok {
			return nil, err
		}
		if q, isQuery := t.Payload.(*QueryTask); isQuery {
			return &Polled{Query: q}, nil
		}
		// The task has left the queue: record it started even if the poll is
		// cancelled meanwhile. A proposal abandoned before it reached raft
		// would leave the task neither queued nor started.
		res, err := e.Propose(context.WithoutCancel(ctx), &fsmpb.Command{Op: &fsmpb.Command_RecordTaskStarted{RecordTaskStarted: &fsmpb.RecordTaskStarted{
			TaskKey: t.Key, Identity: r.Identity, PollRequestId: uuid.NewString(),
		}}})
		if err != nil {
			if errors.Is(err, raftnode.ErrNotLeader) {
				// Definitely not applied: keep the task for the next poller
				// (a new leader rebuilds from Pebble anyway).
				e.queues.Requeue(t)
			}
			return nil, err
		}
		if res.Err != nil {
			continue // stale task: the workflow moved on
		}
		return &Polled{Started: res}, nil
	}
}
