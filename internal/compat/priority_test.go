package compat

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/raftflow/engine/internal/testutil"
)

// priorityKeys are the activities PriorityFanOutWorkflow schedules, in
// order, by priority key (0: the workflow's).
var priorityKeys = []int{5, 3, 1, 4, 0, 2, 1}

// PriorityFanOutWorkflow schedules one "Ranked" activity per priorityKeys
// entry on queue actQueue and waits for all of them.
func PriorityFanOutWorkflow(ctx workflow.Context, actQueue string) error {
	var fs []workflow.Future
	for i, k := range priorityKeys {
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			TaskQueue: actQueue, StartToCloseTimeout: 10 * time.Second,
			Priority: temporal.Priority{PriorityKey: k},
		})
		fs = append(fs, workflow.ExecuteActivity(actx, "Ranked", i))
	}
	for _, f := range fs {
		if err := f.Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// testPriorityOrder: the official SDK's Priority on a workflow and on its
// activities orders the activity queue: a worker that runs one activity at
// a time, started once all seven are queued, runs them by priority key
// (the workflow's, 2, for the one without its own), in scheduled order
// within a key. Describe shows the priorities.
func testPriorityOrder(t *testing.T, c client.Client, _ *replayLog) {
	tq := taskQueue(t)
	actQueue := tq + "-activities"
	startWorker(t, c, tq, []any{PriorityFanOutWorkflow}, nil)
	ctx := testutil.Context(t, 60*time.Second)
	id := tq + "-wf"
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq,
		Priority: temporal.Priority{PriorityKey: 2, FairnessKey: "tenant-a", FairnessWeight: 2}}, PriorityFanOutWorkflow, actQueue)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 20*time.Second, "seven activities queued", func() (bool, string) {
		d := describe(t, c, id, "")
		return len(d.PendingActivities) == len(priorityKeys), fmt.Sprintf("%d pending", len(d.PendingActivities))
	})
	d := describe(t, c, id, "")
	if p := d.WorkflowExecutionInfo.GetPriority(); p.GetPriorityKey() != 2 || p.GetFairnessKey() != "tenant-a" || p.GetFairnessWeight() != 2 {
		t.Fatalf("workflow priority %v", p)
	}
	for _, pa := range d.PendingActivities {
		if pa.GetPriority().GetFairnessKey() != "tenant-a" || pa.GetPriority().GetPriorityKey() == 0 {
			t.Fatalf("pending activity priority %v, want its key merged with the workflow's fairness key", pa.GetPriority())
		}
	}
	var mu sync.Mutex
	var ran []int
	testutil.StartWorker(t, c, actQueue, func(r worker.Registry) {
		r.RegisterActivityWithOptions(func(ctx context.Context, i int) error {
			mu.Lock()
			ran = append(ran, i)
			mu.Unlock()
			return nil
		}, activity.RegisterOptions{Name: "Ranked"})
	}, testutil.WithWorkerOptions(worker.Options{MaxConcurrentActivityExecutionSize: 1, MaxConcurrentActivityTaskPollers: 1}))
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// Keys 1 (indexes 2, 6), 2 (4: the workflow's, then 5), 3 (1), 4 (3), 5 (0).
	if want := []int{2, 6, 4, 5, 1, 3, 0}; !slices.Equal(ran, want) {
		t.Fatalf("activities ran in order %v, want %v", ran, want)
	}
}
