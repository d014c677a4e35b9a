package leader

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/raftflow/engine/fsm"
	"github.com/raftflow/engine/fsm/fsmpb"
	"github.com/raftflow/engine/queue"
	"github.com/raftflow/engine/timers"
)

// hints routes the FSM's post-commit hints (fsm.Hints and
// fsm.LifecycleHints) to the leader services. They come on the apply
// goroutine of every node and must not block; outside a term the queue
// manager and the timer service ignore them. A missed hint costs latency,
// never correctness: the next leader rebuilds from Pebble.
//
// While a term rebuilds (hold to release), task and timer hints are held
// in order instead: writes are served from the term's Barrier on, so rows
// commit while the leader scans and before its queues and timers are
// active. Held from before the scan and replayed in commit order right
// after queue.Start and timers.Load, they bring both to the state after
// the last of those commits, whichever side of the scan each fell on (Add
// dedupes by key; Remove of a key that is gone is a no-op).
type hints struct {
	e *Engine

	holding atomic.Bool // fast path: false outside a rebuild
	mu      sync.Mutex
	held    []heldHint
}

// heldHint is a task or timer hint held during a rebuild (key copied: the
// fsm may reuse its buffer once the hint returns).
type heldHint struct {
	op     hintOp
	key    []byte
	row    *fsmpb.TaskRow
	fireAt int64
}

type hintOp uint8

const (
	opTaskAdded hintOp = iota + 1
	opTaskRemoved
	opTimerAdded
	opTimerRemoved
)

var (
	_ fsm.Hints          = (*hints)(nil)
	_ fsm.LifecycleHints = (*hints)(nil)
)

// hold starts holding task and timer hints (before the rebuild's scan).
func (h *hints) hold() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.holding.Store(true)
}

// release replays the held hints in order and routes later ones at once.
// A hint arriving meanwhile waits for the replay (it blocks on mu), so the
// order of commits is kept.
func (h *hints) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, x := range h.held {
		h.apply(x)
	}
	h.held = nil
	h.holding.Store(false)
}

// route applies x now, or holds it during a rebuild.
func (h *hints) route(x heldHint) {
	if h.holding.Load() {
		h.mu.Lock()
		if h.holding.Load() {
			x.key = bytes.Clone(x.key)
			h.held = append(h.held, x)
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
	}
	h.apply(x)
}

func (h *hints) apply(x heldHint) {
	e := h.e
	switch x.op {
	case opTaskAdded:
		if e.sticky.offer(x.row) {
			return // on a shut-down sticky queue: moved, never handed out
		}
		e.queues.Add(taskOf(x.key, x.row))
	case opTaskRemoved:
		e.queues.Remove(x.key)
	case opTimerAdded:
		e.timers.Add(timers.Timer{Key: x.key, FireAt: time.Unix(0, x.fireAt)})
	case opTimerRemoved:
		e.timers.Remove(x.key)
	}
}

func (h *hints) TaskAdded(key []byte, row *fsmpb.TaskRow) {
	h.route(heldHint{op: opTaskAdded, key: key, row: row})
}

func (h *hints) TaskRemoved(key []byte) { h.route(heldHint{op: opTaskRemoved, key: key}) }

func (h *hints) TimerAdded(key []byte, fireAt int64) {
	h.route(heldHint{op: opTimerAdded, key: key, fireAt: fireAt})
}

func (h *hints) TimerRemoved(key []byte) { h.route(heldHint{op: opTimerRemoved, key: key}) }

func (h *hints) HistoryAppended(ns, wfID, runID string) {
	h.e.notify.Notify(runKey(ns, wfID, runID))
}

func (h *hints) UpdatesAdvanced(ns, wfID, runID string, outcomes []fsm.UpdateOutcome) {
	for _, o := range outcomes {
		h.e.updates.advance(ns, wfID, runID, o)
	}
}

func (h *hints) WorkflowStarted(ns string) { h.e.metrics.WorkflowStarted(ns) }

func (h *hints) WorkflowClosed(ns string, st enumspb.WorkflowExecutionStatus) {
	h.e.metrics.WorkflowClosed(ns, st)
}

func taskOf(key []byte, row *fsmpb.TaskRow) queue.Task {
	p := row.GetPriority()
	return queue.Task{Key: key, Namespace: row.Namespace, Queue: row.TaskQueue, Kind: kindOf(row.Kind), Payload: row,
		Priority: p.GetPriorityKey(), FairnessKey: p.GetFairnessKey(), FairnessWeight: p.GetFairnessWeight()}
}

// kindOf is the queue kind of an fsm task kind.
func kindOf(k fsmpb.TaskKind) queue.Kind {
	if k == fsmpb.TaskKind_TASK_KIND_ACTIVITY {
		return queue.KindActivity
	}
	return queue.KindWorkflow
}
