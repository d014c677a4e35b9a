package leader

import (
	"context"
	"fmt"
	"testing"

	"github.com/raftflow/engine/fsm/fsmpb"
)

func TestWorkerPollsShutdown(t *testing.T) {
	w := newWorkerPolls()
	a1, doneA1, ok1 := w.track(context.Background(), "a")
	a2, doneA2, ok2 := w.track(context.Background(), "a")
	b, doneB, okB := w.track(context.Background(), "b")
	if !ok1 || !ok2 || !okB {
		t.Fatal("polls of live workers refused")
	}
	doneA2() // this poll ended on its own
	if a2.Err() == nil {
		t.Error("done did not release the poll's context")
	}
	w.shutdown("a")
	if a1.Err() == nil {
		t.Error("shutdown did not complete the worker's outstanding poll")
	}
	if b.Err() != nil {
		t.Error("shutdown of one worker completed another's poll")
	}
	doneA1() // after shutdown: harmless
	if _, _, ok := w.track(context.Background(), "a"); ok {
		t.Error("a poll of a shut-down worker was accepted")
	}
	if len(w.polls) != 1 {
		t.Errorf("%d workers tracked, want 1 (b)", len(w.polls))
	}
	doneB()
	if len(w.polls) != 0 {
		t.Errorf("%d workers tracked after every poll ended, want 0", len(w.polls))
	}
	if ctx, done, ok := w.track(context.Background(), ""); !ok || ctx.Err() != nil {
		t.Error("a poll without a worker key was refused")
	} else {
		done()
	}
}

func TestBoundedSetForgetsOldest(t *testing.T) {
	var s boundedSet[string]
	for i := range maxShutdownMemory + 1 {
		s.add(fmt.Sprint(i))
	}
	s.add("1") // already present: no reordering, no growth
	if s.has("0") || !s.has("1") || !s.has(fmt.Sprint(maxShutdownMemory)) {
		t.Errorf("want the oldest entry forgotten and the rest kept")
	}
	if len(s.m) != maxShutdownMemory || len(s.order) != maxShutdownMemory {
		t.Errorf("size %d/%d, want %d", len(s.m), len(s.order), maxShutdownMemory)
	}
}

func TestStickyReleaseOffer(t *testing.T) {
	r := newStickyRelease()
	wft := &fsmpb.TaskRow{Namespace: "default", TaskQueue: "host:sticky", Kind: fsmpb.TaskKind_TASK_KIND_WORKFLOW, WorkflowId: "wf"}
	if r.offer(wft) {
		t.Fatal("a task on a live sticky queue was taken")
	}
	r.shutdown("default", "host:sticky")
	act := &fsmpb.TaskRow{Namespace: "default", TaskQueue: "host:sticky", Kind: fsmpb.TaskKind_TASK_KIND_ACTIVITY}
	other := &fsmpb.TaskRow{Namespace: "other", TaskQueue: "host:sticky", Kind: fsmpb.TaskKind_TASK_KIND_WORKFLOW}
	if r.offer(act) || r.offer(other) {
		t.Error("an activity task, or a task of another namespace, was taken")
	}
	if !r.offer(wft) {
		t.Fatal("a workflow task on a shut-down sticky queue was not taken")
	}
	if got := <-r.moves; got != wft {
		t.Errorf("queued move %v, want %v", got, wft)
	}
	for range stickyMoveBuffer + 1 { // a full buffer drops, never blocks
		r.offer(wft)
	}
	r.reset()
	if r.offer(wft) || len(r.moves) != 0 {
		t.Error("reset kept shut-down queues or pending moves")
	}
}
