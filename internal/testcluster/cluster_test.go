package testcluster_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/raftflow/engine/internal/server"
	"github.com/raftflow/engine/internal/testcluster"
	"github.com/raftflow/engine/internal/testutil"
)

// TestHelper exercises the cluster helper itself, without a workload:
// partition and heal, kill and restart, each followed by an agreed leader,
// a ready cluster and converged state machines.
func TestHelper(t *testing.T) {
	c := testcluster.Start(t, 3)
	l := c.Leader()
	if c.N() != 3 || !c.Alive(l) || c.GRPCAddr(l) != c.Node(l).GRPCAddr() {
		t.Fatalf("N=%d alive=%v addr=%s/%s", c.N(), c.Alive(l), c.GRPCAddr(l), c.Node(l).GRPCAddr())
	}

	c.Partition(l)
	start := time.Now()
	nl := c.Leader()
	if nl == l {
		t.Fatalf("partitioned %s still leads", c.ID(l))
	}
	t.Logf("partitioned leader %s; %s leads after %v", c.ID(l), c.ID(nl), time.Since(start))
	c.Heal()
	converge(t, c)

	l = c.Leader()
	addr := c.GRPCAddr(l)
	c.Kill(l)
	if c.Alive(l) || c.Node(l) != nil {
		t.Fatal("killed node reported alive")
	}
	start = time.Now()
	nl = c.Leader()
	t.Logf("killed leader %s; %s leads after %v", c.ID(l), c.ID(nl), time.Since(start))
	c.Restart(l)
	if c.GRPCAddr(l) != addr || c.Node(l).GRPCAddr() != addr {
		t.Fatalf("restarted on %s, want %s", c.Node(l).GRPCAddr(), addr)
	}
	converge(t, c)
}

// TestLeaderKill runs 100 workflows through a follower and kills the leader
// while they run: a new leader takes over and work goes on without the
// killed node; it is restarted from its data directory while the rest
// still runs; every workflow completes with its result, and all three
// state machines and histories end up equal.
func TestLeaderKill(t *testing.T) {
	faultUnderLoad(t, "kill", (*testcluster.Cluster).Kill, (*testcluster.Cluster).Restart)
}

// TestLeaderPartition is TestLeaderKill with the leader's raft traffic cut
// instead (gRPC still reaches it) and then healed: the isolated leader
// must step down and catch up afterwards.
func TestLeaderPartition(t *testing.T) {
	faultUnderLoad(t, "partition", (*testcluster.Cluster).Partition, func(c *testcluster.Cluster, _ int) { c.Heal() })
}

// faultUnderLoad starts 100 hello workflows from an SDK client and worker
// connected to a follower, applies fault to the leader once 10 have
// completed, waits for a new leader and 10 more completions without the
// old one, applies recover, and then requires every workflow to complete
// with its result and the three nodes to converge on identical state and
// histories.
func faultUnderLoad(t *testing.T, name string, fault, recover func(*testcluster.Cluster, int)) {
	c := testcluster.Start(t, 3)
	f := (c.Leader() + 1) % c.N() // the SDK's node; never faulted
	cl := dial(t, c.GRPCAddr(f))
	tq := "fault-" + name
	startWorker(t, cl, tq)

	ctx := testutil.Context(t, 90*time.Second)
	b := startBatch(ctx, cl, tq, name, 100)
	completions := func(n int64) {
		t.Helper()
		testutil.EventuallyTrue(t, 60*time.Second, fmt.Sprintf("%d workflows to complete", n), func() bool { return b.completed.Load() >= n })
	}
	completions(10)
	l := leaderOtherThan(t, c, f)
	doneBefore := b.completed.Load()
	if doneBefore == int64(len(b.runs)) {
		t.Fatal("every workflow completed before the fault; the test proves nothing")
	}
	start := time.Now()
	fault(c, l)
	nl := c.Leader()
	if nl == l {
		t.Fatalf("%s still leads", c.ID(l))
	}
	elected := time.Since(start)
	frozen := c.Node(l)
	var frozenApplied uint64
	if frozen != nil {
		frozenApplied = frozen.FSM.AppliedIndex()
	}
	completions(min(doneBefore+10, int64(len(b.runs))))
	progress := time.Since(start)
	if frozen != nil && frozen.FSM.AppliedIndex() != frozenApplied {
		t.Fatalf("partitioned %s applied entries (%d -> %d)", c.ID(l), frozenApplied, frozen.FSM.AppliedIndex())
	}
	doneDuring := b.completed.Load()
	recover(c, l)
	b.wait(t)
	t.Logf("%s of leader %s with %d/%d done: %s led after %v, 10 more done after %v (%d by recovery), all after %v; %d start calls repeated by the client",
		name, c.ID(l), doneBefore, len(b.runs), c.ID(nl), elected, progress, doneDuring, time.Since(start), b.retried.Load())

	converge(t, c)
	t.Logf("converged %v after the fault", time.Since(start))
	checkReplicated(t, c, b.runs)
}

// leaderOtherThan returns the current leader, first moving leadership off
// node avoid (the SDK's node) if it leads: under load an election may have
// moved it there since the test chose avoid.
func leaderOtherThan(t *testing.T, c *testcluster.Cluster, avoid int) int {
	t.Helper()
	for range 5 {
		l := c.Leader()
		if l != avoid {
			return l
		}
		if err := c.Node(l).Node.Raft().LeadershipTransfer().Error(); err != nil {
			t.Logf("leadership transfer from %s: %v", c.ID(l), err)
		}
	}
	t.Fatalf("leadership stays on %s", c.ID(avoid))
	return -1
}

// TestRestart restarts a follower (which misses workflows while down and,
// the leader having compacted its log meanwhile, must catch up from an
// installed snapshot), then the whole cluster: finished workflows stay
// COMPLETED on every node and a workflow that was waiting for a signal
// before the restarts completes after them.
func TestRestart(t *testing.T) {
	c := testcluster.Start(t, 3, testcluster.WithConfig(func(_ int, cfg *server.Config) {
		cfg.TrailingLogs = 8 // a snapshot compacts the log almost entirely
	}))
	f := (c.Leader() + 1) % c.N() // the SDK's node
	cl := dial(t, c.GRPCAddr(f))
	const tq = "restart"
	startWorker(t, cl, tq)
	ctx := testutil.Context(t, 90*time.Second)

	b1 := startBatch(ctx, cl, tq, "before", 20)
	b1.wait(t)
	sig, err := cl.ExecuteWorkflow(ctx, startOptions("waiting", tq), signalWorkflow, "waiting")
	if err != nil {
		t.Fatal(err)
	}

	// A follower goes down; work goes on without it; the leader compacts
	// its log; the follower comes back and catches up from a snapshot.
	l := leaderOtherThan(t, c, f)
	r := 3 - l - f // the third node, a follower
	stoppedAt := c.Node(r).FSM.AppliedIndex()
	c.Stop(r)
	b2 := startBatch(ctx, cl, tq, "without", 20)
	b2.wait(t)
	if err := c.Node(c.Leader()).Node.Raft().Snapshot().Error(); err != nil {
		t.Fatalf("leader snapshot: %v", err)
	}
	c.Restart(r)
	// Raft records the installed snapshot just after the FSM restored it,
	// so converge may return a moment before it shows.
	testutil.EventuallyTrue(t, 30*time.Second, c.ID(r)+" to install a snapshot past its applied index", func() bool {
		snap, err := strconv.ParseUint(c.Node(r).Node.Raft().Stats()["last_snapshot_index"], 10, 64)
		return err == nil && snap > stoppedAt
	})
	converge(t, c)
	runs := append(b1.runs, b2.runs...)
	checkReplicated(t, c, runs)

	// The whole cluster goes down and comes back on the same ports. The
	// worker and client stay connected to f's address and reconnect.
	for i := range c.N() {
		c.Stop(i)
	}
	restarted := time.Now()
	for i := range c.N() {
		c.Restart(i)
	}
	converge(t, c)
	t.Logf("full restart: ready after %v", time.Since(restarted))
	for _, run := range runs {
		desc, err := cl.DescribeWorkflowExecution(ctx, run.id, run.runID)
		if err != nil {
			t.Fatalf("describe %s: %v", run.id, err)
		}
		if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			t.Fatalf("%s: status %v after restart", run.id, st)
		}
	}
	desc, err := cl.DescribeWorkflowExecution(ctx, sig.GetID(), sig.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("waiting workflow: status %v after restart", st)
	}
	if err := cl.SignalWorkflow(ctx, sig.GetID(), sig.GetRunID(), "go", "again"); err != nil {
		t.Fatal(err)
	}
	var got string
	gctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := sig.Get(gctx, &got); err != nil {
		t.Fatal(err)
	}
	if want := "Hello waiting again!"; got != want {
		t.Fatalf("waiting workflow result %q, want %q", got, want)
	}
	converge(t, c)
	checkReplicated(t, c, append(runs, &wfRun{id: sig.GetID(), runID: sig.GetRunID()}))
}
