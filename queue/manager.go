// Package queue holds the leader's in-memory task queues and matches queued
// workflow and activity tasks to long-polling workers.
//
// The queues are derived state: the durable truth is the task rows the state
// machine keeps in Pebble. When a node becomes leader it scans the backlog and
// calls Start; post-commit hints from the state machine call Add and Remove as
// rows come and go; when it loses leadership it calls Stop and everything in
// memory is dropped. Handing a task out is not the end of it: the caller
// proposes the dispatch through raft, and the state machine re-validates it.
// See DESIGN.md.
package queue

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
)

// Kind says which kind of worker a task is for.
type Kind uint8

const (
	KindWorkflow Kind = 1 // workflow tasks
	KindActivity Kind = 2 // activity tasks
)

// String returns "workflow", "activity" or "kind(N)".
func (k Kind) String() string {
	switch k {
	case KindWorkflow:
		return "workflow"
	case KindActivity:
		return "activity"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ErrNotActive is returned by Poll when the manager is not started (this node
// is not the leader) or is stopped while the poll waits.
var ErrNotActive = errors.New("queue: not active (not the leader)")

// Task is an opaque backlog entry. Key is the Pebble key of its row and is
// unique; the manager copies it on the way in, so the caller may reuse its
// buffer (an iterator's key, say). Payload is never looked at or copied: it
// must not be mutated once the task is added.
type Task struct {
	Key       []byte
	Namespace string
	Queue     string
	Kind      Kind
	Payload   any
	// Priority (1 first; 0: DefaultPriority), FairnessKey and
	// FairnessWeight (0: 1) order the queue (fair.go).
	Priority       int32
	FairnessKey    string
	FairnessWeight float32
}

// QueueStats describes one live queue for metrics.
type QueueStats struct {
	Namespace string
	Queue     string
	Kind      Kind
	Backlog   int // queued tasks
	Pollers   int // pollers waiting
}

// Manager is the set of task queues of one leadership term. It is safe for
// concurrent use. All operations take one mutex for O(1) work (Start: O(n) in
// the backlog), so Add and Remove are fit to call from the apply goroutine.
//
// The zero value is not usable; call NewManager.
type Manager struct {
	mu     sync.Mutex
	active bool
	gen    uint64 // incremented by every Stop; tells a poller its term ended
	queues map[queueID]*taskQueue
	keys   map[string]*node // queued tasks by key (dedupe and Remove)

	// Matches since NewManager (across terms), for metrics: a sync match
	// hands an added task straight to a waiting poller; a backlog match
	// serves a poll from a queued task.
	syncMatches, backlogMatches uint64
}

// NewManager returns an inactive manager: Add is ignored and Poll returns
// ErrNotActive until Start.
func NewManager() *Manager {
	return &Manager{
		queues: make(map[queueID]*taskQueue),
		keys:   make(map[string]*node),
	}
}

// Start activates the manager with backlog, queued in the given order (the
// state machine's task keys sort by creation, so a key-ordered scan is FIFO
// per queue). Duplicate keys in backlog are queued once. Start on an active
// manager is Stop followed by Start: waiting pollers get ErrNotActive.
//
// Start copies what it keeps; the caller may reuse backlog afterwards.
func (m *Manager) Start(backlog []Task) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopLocked()
	m.active = true
	for _, t := range backlog {
		m.enqueueLocked(t, false)
	}
}

// Stop deactivates the manager: every queued task is dropped and every
// waiting poller returns ErrNotActive. Stop on an inactive manager is a no-op.
func (m *Manager) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopLocked()
}

func (m *Manager) stopLocked() {
	if !m.active {
		return
	}
	for _, q := range m.queues {
		for q.whead != nil {
			w := q.whead
			q.unlinkWaiter(w)
			w.ch <- result{err: ErrNotActive}
		}
	}
	// Fresh maps, so a large backlog's memory is released with it.
	m.queues = make(map[queueID]*taskQueue)
	m.keys = make(map[string]*node)
	m.active = false
	m.gen++
}

// Add enqueues t at the back of its queue, or hands it straight to the
// longest-waiting poller of that queue (sync match). It is ignored when the
// manager is not active or a task with the same Key is already queued (the
// start-up scan and post-commit hints may overlap).
//
// Dedupe covers queued tasks only: once a task has been handed to a poller its
// key is forgotten, and a late duplicate Add queues it again. The dispatch the
// poller's caller proposes is re-validated by the state machine, so the second
// copy is rejected there as stale; it costs a wasted poll, not correctness.
func (m *Manager) Add(t Task) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.active {
		m.enqueueLocked(t, false)
	}
}

// Requeue puts back, at the FRONT of its queue, a task the caller got from
// Poll but could not hand out (for example the raft proposal failed
// transiently). It follows Add's rules otherwise: ignored when not active or
// already queued, handed straight to a waiting poller if there is one.
func (m *Manager) Requeue(t Task) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.active {
		m.enqueueLocked(t, true)
	}
}

// Remove drops the queued task with key, if any (for example the state
// machine deleted its row). A task already handed to a poller is not affected.
func (m *Manager) Remove(key []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.keys[string(key)]
	if !ok {
		return
	}
	delete(m.keys, string(key))
	q := n.q
	q.unlinkTask(n)
	m.gcLocked(q)
}

// enqueueLocked queues t (at the front if front) unless its key is already
// queued, or hands it to the first waiting poller. Requires m.mu and m.active.
func (m *Manager) enqueueLocked(t Task, front bool) {
	if _, dup := m.keys[string(t.Key)]; dup {
		return
	}
	id := queueID{t.Namespace, t.Queue, t.Kind}
	q := m.queues[id]
	if q != nil && q.whead != nil {
		w := q.whead
		q.unlinkWaiter(w)
		t.Key = bytes.Clone(t.Key)
		w.ch <- result{task: t} // cap 1, sole sender: never blocks
		m.syncMatches++
		m.gcLocked(q)
		return
	}
	if q == nil {
		q = &taskQueue{id: id}
		m.queues[id] = q
	}
	key := string(t.Key)
	t.Key = []byte(key)
	n := &node{task: t}
	q.pushTask(n, front)
	m.keys[key] = n
}

// gcLocked deletes q from the manager if it has neither tasks nor pollers.
func (m *Manager) gcLocked(q *taskQueue) {
	if q.empty() && m.queues[q.id] == q {
		delete(m.queues, q.id)
	}
}

// Poll waits for a task on (namespace, queue, kind) and returns it removed
// from the queue: (task, true, nil). Pollers of one queue are served FIFO.
//
// When ctx is done first it returns (Task{}, false, nil), which the caller
// turns into an empty long-poll response; when the manager is or becomes
// inactive it returns ErrNotActive.
//
// A task is handed to at most one poller and is never lost to a poller that
// gives up: if a task reaches a poller whose ctx is done (the hand-off raced
// with cancellation), Poll puts it back at the front of its queue and reports
// the ctx outcome instead. A task Poll did return is the caller's; if it
// cannot be handed out, give it back with Requeue.
func (m *Manager) Poll(ctx context.Context, namespace, queue string, kind Kind) (Task, bool, error) {
	m.mu.Lock()
	if !m.active {
		m.mu.Unlock()
		return Task{}, false, ErrNotActive
	}
	if ctx.Err() != nil {
		m.mu.Unlock()
		return Task{}, false, nil
	}
	id := queueID{namespace, queue, kind}
	q := m.queues[id]
	if q != nil && q.tasks > 0 {
		n := q.popTask()
		delete(m.keys, string(n.task.Key))
		m.backlogMatches++
		m.gcLocked(q)
		m.mu.Unlock()
		return n.task, true, nil
	}
	if q == nil {
		q = &taskQueue{id: id}
		m.queues[id] = q
	}
	w := &waiter{ch: make(chan result, 1)}
	q.pushWaiter(w)
	gen := m.gen
	m.mu.Unlock()

	var r result
	select {
	case r = <-w.ch:
	case <-ctx.Done():
		m.mu.Lock()
		if w.linked {
			// Nobody picked us: leave quietly.
			q.unlinkWaiter(w)
			m.gcLocked(q)
			m.mu.Unlock()
			return Task{}, false, nil
		}
		m.mu.Unlock()
		// Unlinked under the lock means a result was sent under it too.
		r = <-w.ch
	}
	if r.err != nil {
		return Task{}, false, r.err
	}
	if ctx.Err() != nil {
		// The hand-off raced with cancellation: the task must not be lost.
		m.requeueIfTerm(r.task, gen)
		return Task{}, false, nil
	}
	return r.task, true, nil
}

// requeueIfTerm puts t back at the front of its queue unless the leadership
// term it was handed out in has ended (then the new term's backlog scan owns
// it, and re-adding it here could resurrect a row the new term never saw).
func (m *Manager) requeueIfTerm(t Task, gen uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.active && m.gen == gen {
		m.enqueueLocked(t, true)
	}
}

// Matches returns how many tasks were handed to pollers since NewManager:
// sync (added while a poller waited, never queued) and from the backlog.
// A task whose hand-off raced with its poller's cancellation and was put
// back counts twice.
func (m *Manager) Matches() (sync, backlog uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.syncMatches, m.backlogMatches
}

// Stats returns one entry per live queue (a queue with tasks or pollers),
// sorted by namespace, queue and kind.
func (m *Manager) Stats() []QueueStats {
	m.mu.Lock()
	out := make([]QueueStats, 0, len(m.queues))
	for id, q := range m.queues {
		out = append(out, QueueStats{
			Namespace: id.namespace, Queue: id.queue, Kind: id.kind,
			Backlog: q.tasks, Pollers: q.waiters,
		})
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b QueueStats) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.Queue, b.Queue), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}
