package sdk_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/raftflow/engine/internal/testutil"
	"github.com/raftflow/engine/sdk"
	"github.com/raftflow/engine/sdk/enginetest"
)

// A task handed out by a node that then dies is retried by the engine
// after its timeout; short ones keep the test quick.
const lostTaskTimeout = 3 * time.Second

func echo(_ context.Context, s string) (string, error) { return "echo " + s, nil }

func echoWorkflow(ctx workflow.Context, s string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: lostTaskTimeout})
	return sdk.ExecuteActivity(ctx, echo, s).Get(ctx)
}

// batch is n echo workflows started at once, each awaited by its own
// goroutine; every error is kept.
type batch struct {
	wg        sync.WaitGroup
	completed atomic.Int64
	mu        sync.Mutex
	errs      []error
}

func startBatch(ctx context.Context, c client.Client, tq, prefix string, n int) *batch {
	b := &batch{}
	for i := range n {
		b.wg.Go(func() {
			id := fmt.Sprintf("%s-%03d", prefix, i)
			opts := client.StartWorkflowOptions{ID: id, TaskQueue: tq, WorkflowTaskTimeout: lostTaskTimeout}
			run, err := sdk.ExecuteWorkflow(ctx, c, opts, echoWorkflow, id)
			if err == nil {
				var got string
				if got, err = run.Get(ctx); err == nil && got != "echo "+id {
					err = fmt.Errorf("result %q", got)
				}
			}
			if err != nil {
				b.mu.Lock()
				b.errs = append(b.errs, fmt.Errorf("%s: %w", id, err))
				b.mu.Unlock()
				return
			}
			b.completed.Add(1)
		})
	}
	return b
}

func (b *batch) wait(t testing.TB) {
	t.Helper()
	b.wg.Wait()
	for _, err := range b.errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// TestDialRidesThroughNodeKill: a starter and a worker, each with its own
// sdk.Dial client given all three endpoints, keep working while one node
// is killed: first the leader (an election follows), then, after it is
// back, a follower. No call error reaches them; every workflow completes.
func TestDialRidesThroughNodeKill(t *testing.T) {
	if testing.Short() {
		t.Skip("three nodes")
	}
	srv := enginetest.Start(t, enginetest.Nodes(3))
	starter, workerClient := srv.Client(), srv.Client()
	tq := testutil.TaskQueue(t)
	testutil.StartWorker(t, workerClient, tq, func(r worker.Registry) {
		r.RegisterWorkflow(echoWorkflow)
		r.RegisterActivity(echo)
	})
	ctx := testutil.Context(t, 90*time.Second)

	for _, victim := range []string{"leader", "follower"} {
		l := srv.Leader()
		kill := l
		if victim == "follower" {
			kill = (l + 1) % srv.Nodes()
		}
		b := startBatch(ctx, starter, tq, victim, 30)
		testutil.EventuallyTrue(t, 30*time.Second, "5 workflows to complete", func() bool { return b.completed.Load() >= 5 })
		srv.Kill(kill)
		killed := time.Now()
		b.wait(t)
		// New work goes on with the node still down (its endpoint stays in
		// the clients' lists).
		after := startBatch(ctx, starter, tq, victim+"-down", 5)
		after.wait(t)
		t.Logf("killed the %s (node %d): all workflows completed %v later", victim, kill, time.Since(killed).Round(time.Millisecond))
		srv.Restart(kill)
	}
}
