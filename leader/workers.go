package leader

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/raftflow/engine/fsm"
	"github.com/raftflow/engine/fsm/fsmpb"
	"github.com/raftflow/engine/queue"
)

// What the leader remembers of workers, in memory only:
//
//   - workerPolls: the outstanding polls of each worker instance, so that
//     ShutdownWorker can complete them and refuse the worker's later polls.
//     The namespace advertises this (worker_poll_complete_on_shutdown), so
//     the SDK waits for its polls to complete instead of cancelling them: a
//     task handed to a poll whose cancellation the server has not seen yet
//     would be lost until its start-to-close timeout.
//   - stickyRelease: the sticky queues of workers that shut down. Their
//     workflow tasks move to the normal queue at once, and those scheduled
//     there later are moved as they appear, instead of waiting out the
//     sticky schedule-to-start timeout (5 s by default).
//   - pollersSeen: who polled which queue lately (DescribeTaskQueue).
//
// The sticky part is dropped with leadership; shut-down worker keys may
// outlive a term harmlessly, as keys are never reused. A missed shutdown
// costs a timeout, never correctness.

// ShutdownWorker is Temporal's graceful worker shutdown: it completes the
// polls of the worker instance workerKey (if not empty) and refuses its
// later ones, and releases its sticky queue (if not empty): workflow tasks
// there move to the normal queue now, and those scheduled there later as
// they appear. An error is a proposal's (raftnode's errors: see Propose;
// an fsm domain error other than fsm.ErrWorkflowNotFound).
func (e *Engine) ShutdownWorker(ctx context.Context, ns, workerKey, stickyQueue string) error {
	if workerKey != "" {
		e.workers.shutdown(workerKey)
	}
	if stickyQueue == "" {
		return nil
	}
	e.sticky.shutdown(ns, stickyQueue)
	// Rows committed before the queue was marked had their hints pass by:
	// take them away from pollers first, then move them.
	var moves []*fsmpb.TaskRow
	for _, t := range e.fsm.ScanTasks() {
		if t.Row.Kind == fsmpb.TaskKind_TASK_KIND_WORKFLOW && t.Row.Namespace == ns && t.Row.TaskQueue == stickyQueue {
			e.queues.Remove(t.Key)
			moves = append(moves, t.Row)
		}
	}
	for _, row := range moves {
		if err := e.moveToNormalQueue(ctx, row); err != nil && !errors.Is(err, fsm.ErrWorkflowNotFound) {
			return err
		}
	}
	return nil
}

// maxShutdownMemory bounds each of the in-memory sets below; past it the
// oldest entries are forgotten (their tasks fall back by timeout).
const maxShutdownMemory = 10000

// boundedSet is a set that forgets its oldest entries past
// maxShutdownMemory. The zero value is empty and ready to use.
type boundedSet[K comparable] struct {
	m     map[K]struct{}
	order []K
}

func (b *boundedSet[K]) add(k K) {
	if b.m == nil {
		b.m = map[K]struct{}{}
	}
	if _, ok := b.m[k]; ok {
		return
	}
	b.m[k] = struct{}{}
	b.order = append(b.order, k)
	if len(b.order) > maxShutdownMemory {
		delete(b.m, b.order[0])
		b.order = b.order[1:]
	}
}

func (b *boundedSet[K]) has(k K) bool {
	_, ok := b.m[k]
	return ok
}

// workerPolls tracks the outstanding polls of each worker instance.
type workerPolls struct {
	mu    sync.Mutex
	polls map[string]map[*context.CancelFunc]struct{}
	gone  boundedSet[string]
}

func newWorkerPolls() *workerPolls {
	return &workerPolls{polls: map[string]map[*context.CancelFunc]struct{}{}}
}

// track returns ctx, cancelled when the worker instance key shuts down, and
// a function to call when the poll ends. ok is false when the worker has
// already shut down (the poll must answer empty at once). An empty key
// (an SDK without instance keys) is not tracked.
func (w *workerPolls) track(ctx context.Context, key string) (_ context.Context, done func(), ok bool) {
	if key == "" {
		return ctx, func() {}, true
	}
	ctx, cancel := context.WithCancel(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gone.has(key) {
		cancel()
		return ctx, func() {}, false
	}
	set := w.polls[key]
	if set == nil {
		set = map[*context.CancelFunc]struct{}{}
		w.polls[key] = set
	}
	set[&cancel] = struct{}{}
	return ctx, func() {
		cancel()
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(set, &cancel)
		if len(w.polls[key]) == 0 {
			delete(w.polls, key)
		}
	}, true
}

// shutdown cancels the worker's outstanding polls and refuses its later ones.
func (w *workerPolls) shutdown(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.gone.add(key)
	for cancel := range w.polls[key] {
		(*cancel)()
	}
	delete(w.polls, key)
}

// stickyRelease remembers the sticky queues shut down during this leadership
// term. A workflow task row on one of them, found by ShutdownWorker or
// announced later by the TaskAdded hint, is kept out of the in-memory queues
// and moved by a ResetSticky proposal (the state machine re-validates: a
// task that started or moved meanwhile is left alone).
type stickyRelease struct {
	mu    sync.Mutex
	dead  boundedSet[stickyQueue]
	moves chan *fsmpb.TaskRow
}

type stickyQueue struct{ ns, name string }

// stickyMoveBuffer bounds the moves waiting for a proposal; when full, offer
// drops the move (the schedule-to-start timeout covers it).
const stickyMoveBuffer = 1024

func newStickyRelease() *stickyRelease {
	return &stickyRelease{moves: make(chan *fsmpb.TaskRow, stickyMoveBuffer)}
}

// shutdown marks a sticky queue as no longer polled.
func (r *stickyRelease) shutdown(ns, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dead.add(stickyQueue{ns, name})
}

// offer queues a move for row if it is a workflow task on a shut-down sticky
// queue, and reports whether it is (then the caller must not queue the task
// for pollers). It never blocks: it is called from the apply goroutine's
// hints.
func (r *stickyRelease) offer(row *fsmpb.TaskRow) bool {
	if row.GetKind() != fsmpb.TaskKind_TASK_KIND_WORKFLOW {
		return false
	}
	r.mu.Lock()
	dead := r.dead.has(stickyQueue{row.Namespace, row.TaskQueue})
	r.mu.Unlock()
	if !dead {
		return false
	}
	select {
	case r.moves <- row:
	default:
	}
	return true
}

// reset forgets everything (leadership lost).
func (r *stickyRelease) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dead = boundedSet[stickyQueue]{}
	for {
		select {
		case <-r.moves:
		default:
			return
		}
	}
}

// runStickyMoves proposes the queued moves until ctx (the leadership term)
// ends.
func (e *Engine) runStickyMoves(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case row := <-e.sticky.moves:
			if err := e.moveToNormalQueue(ctx, row); err != nil {
				e.log.Debug("moving a workflow task off a shut-down sticky queue failed; the schedule-to-start timeout will",
					"workflow_id", row.WorkflowId, "err", err)
			}
		}
	}
}

// moveToNormalQueue clears the run's stickiness and moves its workflow task
// (if still scheduled on the sticky queue) to the normal queue.
func (e *Engine) moveToNormalQueue(ctx context.Context, row *fsmpb.TaskRow) error {
	res, err := e.Propose(ctx, &fsmpb.Command{Op: &fsmpb.Command_ResetSticky{ResetSticky: &fsmpb.ResetSticky{
		Namespace: row.Namespace, WorkflowId: row.WorkflowId, RunId: row.RunId,
	}}})
	if err != nil {
		return err
	}
	return res.Err
}

// pollerTTL is how long a poller stays listed after its last poll (Temporal
// lists pollers seen in the last five minutes).
const pollerTTL = 5 * time.Minute

type pollerKey struct {
	ns, queue string
	kind      queue.Kind
	identity  string
}

// Poller is a worker identity that polled a task queue lately.
type Poller struct {
	Identity   string
	LastAccess time.Time
}

// pollersSeen remembers when each worker identity last polled each task
// queue, for DescribeTaskQueue (the Web UI's worker lists). In-memory and
// per node: after a leader change the list refills as workers poll again.
type pollersSeen struct {
	mu   sync.Mutex
	last map[pollerKey]time.Time
}

func newPollersSeen() *pollersSeen { return &pollersSeen{last: map[pollerKey]time.Time{}} }

func (p *pollersSeen) saw(ns, tq string, kind queue.Kind, identity string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last[pollerKey{ns, tq, kind, identity}] = now
	if len(p.last) > 1024 { // drop the expired now and then
		for k, t := range p.last {
			if now.Sub(t) > pollerTTL {
				delete(p.last, k)
			}
		}
	}
}

func (p *pollersSeen) list(ns, tq string, kind queue.Kind, now time.Time) []Poller {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Poller
	for k, t := range p.last {
		if k.ns == ns && k.queue == tq && k.kind == kind && now.Sub(t) <= pollerTTL {
			out = append(out, Poller{Identity: k.identity, LastAccess: t})
		}
	}
	slices.SortFunc(out, func(a, b Poller) int { return strings.Compare(a.Identity, b.Identity) })
	return out
}

// Pollers lists the identities that polled the task queue in the last five
// minutes, by identity. In-memory: empty after a leader change until
// workers poll again.
func (e *Engine) Pollers(ns, taskQueue string, kind fsmpb.TaskKind) []Poller {
	return e.pollers.list(ns, taskQueue, kindOf(kind), e.clock.Now())
}
