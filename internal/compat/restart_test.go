package compat

import (
	"fmt"
	"slices"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/raftflow/engine/internal/testutil"
)

// 11. The engine restarts (same data dir, same addresses) under a connected
// client and worker: a workflow waiting for a signal gets it and completes,
// and a timer pending across the restart fires, not early.
func TestEngineRestart(t *testing.T) {
	t.Parallel()
	e := startEngine(t)
	c := dial(t, e.Addr())
	tq := taskQueue(t)
	step := &stepActivity{}
	startWorker(t, c, tq, []any{ActivityThenSignalWorkflow, SleepWorkflow}, map[string]any{"Step": step.run})

	waiting := start(t, c, tq, tq+"-signal", ActivityThenSignalWorkflow)
	waitWorkflowTaskCompleted(t, c, waiting.GetID(), waiting.GetRunID(), 2)
	const sleep = 2 * time.Second
	sleeping := start(t, c, tq, tq+"-timer", SleepWorkflow, sleep)
	testutil.Eventually(t, 20*time.Second, "timer started", func() (bool, string) {
		h := history(t, c, sleeping.GetID(), sleeping.GetRunID())
		return len(eventsOf(h, enumspb.EVENT_TYPE_TIMER_STARTED)) == 1, fmt.Sprint(eventTypes(h))
	})

	e.Restart(0) // graceful stop, start on the same data and address, wait until ready

	signal(t, c, waiting.GetID(), "sig", "two")
	var got string
	if err := waiting.Get(testutil.Context(t, 30*time.Second), &got); err != nil {
		t.Fatalf("result after restart: %v", err)
	}
	if want := "step(one)|two|step(two)"; got != want {
		t.Fatalf("result %q, want %q", got, want)
	}
	if calls := step.callList(); !slices.Equal(calls, []string{"one", "two"}) {
		t.Errorf("activity calls %q, want [one two] (each once)", calls)
	}
	checkHistory(t, history(t, c, waiting.GetID(), waiting.GetRunID()))

	var slept time.Duration
	if err := sleeping.Get(testutil.Context(t, 30*time.Second), &slept); err != nil {
		t.Fatalf("timer workflow after restart: %v", err)
	}
	if slept < sleep {
		t.Errorf("workflow.Now advanced %v across a %v sleep", slept, sleep)
	}
	h := history(t, c, sleeping.GetID(), sleeping.GetRunID())
	checkHistory(t, h)
	started, fired := eventsOf(h, enumspb.EVENT_TYPE_TIMER_STARTED), eventsOf(h, enumspb.EVENT_TYPE_TIMER_FIRED)
	if len(started) != 1 || len(fired) != 1 {
		t.Fatalf("want one TimerStarted and one TimerFired: %v", eventTypes(h))
	}
	if gap := fired[0].EventTime.AsTime().Sub(started[0].EventTime.AsTime()); gap < sleep {
		t.Errorf("TimerFired %v after TimerStarted, before the %v timeout", gap, sleep)
	}
	t.Run("Replay", func(t *testing.T) {
		replay(t, c, waiting.GetID(), waiting.GetRunID(), ActivityThenSignalWorkflow)
		replay(t, c, sleeping.GetID(), sleeping.GetRunID(), SleepWorkflow)
	})
}
