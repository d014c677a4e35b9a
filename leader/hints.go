package leader

import (
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
type hints struct{ e *Engine }

var (
	_ fsm.Hints          = hints{}
	_ fsm.LifecycleHints = hints{}
)

func (h hints) TaskAdded(key []byte, row *fsmpb.TaskRow) {
	if h.e.sticky.offer(row) {
		return // on a shut-down sticky queue: moved, never handed out
	}
	h.e.queues.Add(taskOf(key, row))
}

func (h hints) TaskRemoved(key []byte) { h.e.queues.Remove(key) }

func (h hints) TimerAdded(key []byte, fireAt int64) {
	h.e.timers.Add(timers.Timer{Key: key, FireAt: time.Unix(0, fireAt)})
}

func (h hints) TimerRemoved(key []byte) { h.e.timers.Remove(key) }

func (h hints) HistoryAppended(ns, wfID, runID string) {
	h.e.notify.Notify(runKey(ns, wfID, runID))
}

func (h hints) WorkflowStarted(ns string) { h.e.metrics.WorkflowStarted(ns) }

func (h hints) WorkflowClosed(ns string, st enumspb.WorkflowExecutionStatus) {
	h.e.metrics.WorkflowClosed(ns, st)
}

func taskOf(key []byte, row *fsmpb.TaskRow) queue.Task {
	return queue.Task{Key: key, Namespace: row.Namespace, Queue: row.TaskQueue, Kind: kindOf(row.Kind), Payload: row}
}

// kindOf is the queue kind of an fsm task kind.
func kindOf(k fsmpb.TaskKind) queue.Kind {
	if k == fsmpb.TaskKind_TASK_KIND_ACTIVITY {
		return queue.KindActivity
	}
	return queue.KindWorkflow
}
