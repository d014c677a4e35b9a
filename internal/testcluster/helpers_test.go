package testcluster_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/raftflow/engine/internal/testcluster"
	"github.com/raftflow/engine/internal/testutil"
)

const namespace = "default"

// Timeouts short enough that a task lost with a killed leader (recorded
// started, never delivered) is retried within seconds, long enough that a
// loaded -race run never hits them otherwise.
const (
	workflowTaskTimeout = 3 * time.Second
	activityTimeout     = 3 * time.Second
)

// helloWorkflow is Temporal's hello world: one activity.
func helloWorkflow(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: activityTimeout})
	var out string
	err := workflow.ExecuteActivity(ctx, helloActivity, name).Get(ctx, &out)
	return out, err
}

func helloActivity(_ context.Context, name string) (string, error) {
	return "Hello " + name + "!", nil
}

// signalWorkflow waits for one "go" signal and greets name and the
// signal's value through the activity.
func signalWorkflow(ctx workflow.Context, name string) (string, error) {
	var v string
	workflow.GetSignalChannel(ctx, "go").Receive(ctx, &v)
	return helloWorkflow(ctx, name+" "+v)
}

func logger() *slog.Logger {
	if os.Getenv("RAFTFLOW_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// dial connects an official SDK client to hostPort; closed when t ends.
func dial(t testing.TB, hostPort string) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: hostPort, Namespace: namespace, Logger: sdklog.NewStructuredLogger(logger())})
	if err != nil {
		t.Fatalf("dial %s: %v", hostPort, err)
	}
	t.Cleanup(c.Close)
	return c
}

// startWorker runs an official SDK worker for the test workflows on tq
// until t ends (before the cluster is closed: cleanups run in reverse).
func startWorker(t testing.TB, c client.Client, tq string) {
	t.Helper()
	testutil.StartWorker(t, c, tq, func(r worker.Registry) {
		r.RegisterWorkflow(helloWorkflow)
		r.RegisterWorkflow(signalWorkflow)
		r.RegisterActivity(helloActivity)
	})
}

func startOptions(id, tq string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: id, TaskQueue: tq, WorkflowTaskTimeout: workflowTaskTimeout}
}

// wfRun is one workflow of a batch.
type wfRun struct {
	id, runID, want string
	got             string
	err             error
}

// batch is n hello workflows started concurrently, each awaited by its own
// goroutine.
type batch struct {
	runs      []*wfRun
	wg        sync.WaitGroup
	completed atomic.Int64 // workflows whose result arrived
	retried   atomic.Int64 // start calls the client had to repeat
}

// startBatch starts n workflows. A start is one SDK call with the SDK's
// own budget (10 s of retries on Unavailable); a call that runs out of it
// while the cluster elects a new leader under a loaded machine is repeated
// by the client, as an application would, with USE_EXISTING so the repeat
// returns the run a first attempt may have started (never a second one).
// Only a run id the engine acknowledged counts; retried counts repeats.
func startBatch(ctx context.Context, c client.Client, tq, prefix string, n int) *batch {
	b := &batch{}
	for i := range n {
		r := &wfRun{id: fmt.Sprintf("%s-%03d", prefix, i)}
		r.want = "Hello " + r.id + "!"
		b.runs = append(b.runs, r)
		b.wg.Go(func() {
			opts := startOptions(r.id, tq)
			opts.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
			run, err := c.ExecuteWorkflow(ctx, opts, helloWorkflow, r.id)
			for err != nil && ctx.Err() == nil && retryableStart(err) {
				b.retried.Add(1)
				run, err = c.ExecuteWorkflow(ctx, opts, helloWorkflow, r.id)
			}
			if err != nil {
				r.err = fmt.Errorf("start: %w", err)
				return
			}
			r.runID = run.GetRunID()
			if err := run.Get(ctx, &r.got); err != nil {
				r.err = fmt.Errorf("result: %w", err)
				return
			}
			b.completed.Add(1)
		})
	}
	return b
}

// retryableStart reports whether a failed start call may simply be
// repeated: its budget ran out, or the cluster had no leader to serve it.
func retryableStart(err error) bool {
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &deadline) || errors.As(err, &unavailable)
}

// wait waits for every workflow and checks its result.
func (b *batch) wait(t testing.TB) {
	t.Helper()
	b.wg.Wait()
	for _, r := range b.runs {
		switch {
		case r.err != nil:
			t.Errorf("%s: %v", r.id, r.err)
		case r.got != r.want:
			t.Errorf("%s: result %q, want %q", r.id, r.got, r.want)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// converge waits until the running nodes are ready and their state machines
// are identical.
func converge(t testing.TB, c *testcluster.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitConverged(ctx); err != nil {
		// hashicorp/raft issue 697: a follower caught up by a snapshot that
		// also holds an uncommitted entry of a lost term rejects every
		// append at the snapshot index, and the leader re-sends the snapshot
		// forever. raftnode/livelock_test.go reproduces it deterministically
		// (RAFTFLOW_KNOWN_BUGS=1). Only that signature is excused here.
		for i := range c.N() {
			if s := c.Node(i); s != nil && s.FSM.Restores() > 20 {
				t.Skipf("known upstream bug hashicorp/raft#697 (snapshot re-install livelock) hit on %s after %d restores: %v",
					c.ID(i), s.FSM.Restores(), err)
			}
		}
		t.Fatal(err)
	}
}

// checkReplicated reads every run's history from each running node's state
// machine directly and requires them to be identical, well formed (dense
// ids, ending in WorkflowExecutionCompleted) and replayable by the SDK with
// the workflow code.
func checkReplicated(t testing.TB, c *testcluster.Cluster, runs []*wfRun) {
	t.Helper()
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflow(helloWorkflow)
	replayer.RegisterWorkflow(signalWorkflow)
	for _, r := range runs {
		var ref *historypb.History
		var refNode string
		for i := range c.N() {
			s := c.Node(i)
			if s == nil {
				continue
			}
			st, err := s.FSM.GetState(namespace, r.id, r.runID)
			if err != nil {
				t.Fatalf("%s on %s: %v", r.id, c.ID(i), err)
			}
			if st.Status != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
				t.Errorf("%s on %s: status %v", r.id, c.ID(i), st.Status)
			}
			evs, next := s.FSM.ReadHistory(namespace, r.id, r.runID, 1, 0, math.MaxInt)
			if next != 0 {
				t.Fatalf("%s on %s: history not read to the end", r.id, c.ID(i))
			}
			h := &historypb.History{Events: evs}
			if ref == nil {
				ref, refNode = h, c.ID(i)
				continue
			}
			if !proto.Equal(ref, h) {
				t.Errorf("%s: history on %s differs from %s:\n%s: %v\n%s: %v", r.id, c.ID(i), refNode,
					refNode, eventTypes(ref), c.ID(i), eventTypes(h))
			}
		}
		for j, ev := range ref.Events {
			if ev.EventId != int64(j+1) {
				t.Errorf("%s: event %d has id %d", r.id, j, ev.EventId)
			}
		}
		if n := len(ref.Events); n == 0 || ref.Events[n-1].EventType != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED {
			t.Errorf("%s: history does not end in completion: %v", r.id, eventTypes(ref))
		}
		if err := replayer.ReplayWorkflowHistory(sdklog.NewStructuredLogger(logger()), ref); err != nil {
			t.Errorf("%s: replay: %v", r.id, err)
		}
	}
}

func eventTypes(h *historypb.History) []enumspb.EventType {
	out := make([]enumspb.EventType, len(h.Events))
	for i, ev := range h.Events {
		out[i] = ev.EventType
	}
	return out
}
