package leader

import (
	"context"
	"testing"
	"time"

	"github.com/raftflow/engine/fsm/fsmpb"
	"github.com/raftflow/engine/queue"
	"github.com/raftflow/engine/timers"
)

// hintEngine is an Engine with only what hint routing touches.
func hintEngine() *Engine {
	e := &Engine{queues: queue.NewManager(), sticky: newStickyRelease()}
	e.timers = timers.New(timers.Config{Fire: func(context.Context, []timers.Timer) ([]timers.Timer, error) { return nil, nil }})
	e.hints = &hints{e: e}
	return e
}

func wfRow(ns, q string) *fsmpb.TaskRow {
	return &fsmpb.TaskRow{Namespace: ns, TaskQueue: q, Kind: fsmpb.TaskKind_TASK_KIND_WORKFLOW}
}

// TestHintsHeldDuringRebuild: task and timer hints that arrive between the
// start of the rebuild's scan and queue.Start / timers.Load are replayed in
// order afterwards, so rows committed on either side of the scan end up in
// the rebuilt services exactly once, and rows removed meanwhile do not.
func TestHintsHeldDuringRebuild(t *testing.T) {
	e := hintEngine()
	h := e.hints
	h.hold()
	buf := []byte("task-new")
	h.TaskAdded(buf, wfRow("ns", "q")) // committed after the scan
	copy(buf, "XXXXXXXX")              // the fsm may reuse its buffer
	h.TaskAdded([]byte("task-gone"), wfRow("ns", "q"))
	h.TaskRemoved([]byte("task-gone"))    // added and started during the scan
	h.TaskRemoved([]byte("task-started")) // scanned, then started
	h.TaskAdded([]byte("task-scanned"), wfRow("ns", "q"))
	h.TimerAdded([]byte("timer-new"), time.Now().Add(time.Hour).UnixNano())
	h.TimerRemoved([]byte("timer-fired"))

	e.queues.Start([]queue.Task{
		taskOf([]byte("task-scanned"), wfRow("ns", "q")),
		taskOf([]byte("task-started"), wfRow("ns", "q")),
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := e.timers.Load(ctx, []timers.Timer{{Key: []byte("timer-fired"), FireAt: time.Now().Add(time.Hour)}})
	if e.queues.Stats()[0].Backlog != 2 || e.timers.Pending() != 1 {
		t.Fatal("hints reached the services before release")
	}
	h.release()

	if got := e.queues.Stats(); len(got) != 1 || got[0].Backlog != 2 {
		t.Fatalf("queues after release: %+v, want 2 tasks", got)
	}
	for _, want := range []string{"task-scanned", "task-new"} {
		pctx, pcancel := context.WithTimeout(t.Context(), time.Second)
		got, ok, err := e.queues.Poll(pctx, "ns", "q", queue.KindWorkflow)
		pcancel()
		if !ok || err != nil || string(got.Key) != want {
			t.Fatalf("Poll = %q, %v, %v; want %q", got.Key, ok, err, want)
		}
	}
	if n := e.timers.Pending(); n != 1 {
		t.Fatalf("timers pending %d, want 1 (timer-new)", n)
	}

	// After release, hints go straight through.
	h.TimerAdded([]byte("timer-live"), time.Now().Add(time.Hour).UnixNano())
	if n := e.timers.Pending(); n != 2 {
		t.Fatalf("timers pending %d after a live hint, want 2", n)
	}
	cancel()
	<-done
	e.queues.Stop()
}

// TestHintsSkipShutDownSticky: a workflow task on a shut-down sticky queue
// never reaches the queues, held or not.
func TestHintsSkipShutDownSticky(t *testing.T) {
	e := hintEngine()
	e.queues.Start(nil)
	defer e.queues.Stop()
	e.sticky.shutdown("ns", "sticky")
	e.hints.hold()
	e.hints.TaskAdded([]byte("held"), wfRow("ns", "sticky"))
	e.hints.release()
	e.hints.TaskAdded([]byte("live"), wfRow("ns", "sticky"))
	if got := e.queues.Stats(); len(got) != 0 {
		t.Fatalf("queues %+v, want none", got)
	}
	if n := len(e.sticky.moves); n != 2 {
		t.Fatalf("%d moves queued, want 2", n)
	}
}
