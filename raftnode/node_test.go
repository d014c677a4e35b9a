package raftnode

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftflow/engine/internal/testutil"
)

func TestSingleNode(t *testing.T) {
	baseline := runtime.NumGoroutine()
	f := &testFSM{}
	n := openNode(t, "n1", t.TempDir(), f)
	if n.HasState() {
		t.Fatal("fresh dir reports state")
	}
	if got := Decide(n.HasState(), nil); got != ActionBootstrap {
		t.Fatalf("Decide = %v", got)
	}
	rec := &hookRec{}
	n.OnLeadership(rec.start)
	if err := n.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	ctx := testutil.Context(t, 10*time.Second)
	if err := n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	testutil.EventuallyTrue(t, 10*time.Second, "leader services", n.LeaderReady)
	if id, addr := n.Leader(); id != "n1" || addr != n.RaftAddr() {
		t.Fatalf("Leader() = %q %q, want n1 %q", id, addr, n.RaftAddr())
	}

	resp, err := n.Apply(ctx, []byte("a"))
	if err != nil || resp != 1 {
		t.Fatalf("Apply = %v, %v; want 1, nil", resp, err)
	}
	resp, err = n.Apply(ctx, []byte("err:boom"))
	if err == nil || err.Error() != "boom" || resp != nil {
		t.Fatalf("Apply(err:boom) = %v, %v; want nil, boom", resp, err)
	}
	if err := n.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.Bootstrap(); err != nil {
		t.Fatalf("second Bootstrap: %v", err)
	}

	st := n.Status()
	if st.State != "Leader" || st.LeaderID != "n1" || len(st.Servers) != 1 || st.Servers[0].Suffrage != "Voter" ||
		st.AppliedIndex < st.CommitIndex-1 || st.Term == 0 || st.LastIndex < 3 {
		t.Fatalf("Status = %+v", st)
	}

	// A context that is already over fails fast, without proposing.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := n.Apply(cctx, []byte("late")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply(cancelled ctx) = %v", err)
	}

	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := n.Shutdown(); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if rec.starts.Load() != 1 || rec.stops.Load() != 1 {
		t.Fatalf("hook starts/stops = %d/%d, want 1/1", rec.starts.Load(), rec.stops.Load())
	}
	if n.LeaderReady() {
		t.Fatal("LeaderReady after Shutdown")
	}
	if _, err := n.Apply(ctx, []byte("x")); !errors.Is(err, ErrShutdown) {
		t.Fatalf("Apply after Shutdown = %v, want ErrShutdown", err)
	}
	deadline := time.Now().Add(3 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		<-tick.C
	}
	if runtime.NumGoroutine() > baseline {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: %d > %d\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
	}
}

// TestRestart covers the three restart paths: log replay into an empty FSM,
// restore from a snapshot into an FSM behind it, and no restore for an FSM
// at or past the snapshot (entries it holds are skipped, not re-applied).
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := testutil.Context(t, 10*time.Second)
	start := func(f *testFSM, bind string) *Node {
		t.Helper()
		n := openNode(t, "n1", dir, f, bind)
		if err := n.WaitLeader(ctx); err != nil {
			t.Fatal(err)
		}
		if err := n.Barrier(ctx); err != nil {
			t.Fatal(err)
		}
		return n
	}
	apply := func(n *Node, vals ...string) {
		t.Helper()
		for _, v := range vals {
			if _, err := n.Apply(ctx, []byte(v)); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(f *testFSM, want ...string) {
		t.Helper()
		if got := f.Values(); !slices.Equal(got, want) {
			t.Fatalf("values = %q, want %q", got, want)
		}
	}

	n := openNode(t, "n1", dir, &testFSM{})
	addr := n.RaftAddr() // restarts reuse the address recorded in the configuration
	if err := n.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	if err := n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	apply(n, "a", "b")
	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}

	// 1. No snapshot, empty FSM: raft replays the log.
	f2 := &testFSM{}
	n = start(f2, addr)
	if !n.HasState() || Decide(n.HasState(), []string{"x:1"}) != ActionRestart || !n.skipRestore {
		t.Fatalf("HasState=%v skipRestore=%v", n.HasState(), n.skipRestore)
	}
	check(f2, "a", "b")
	apply(n, "c")
	if err := n.Raft().Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}

	// 2. Snapshot, empty FSM: restored on start, before raft runs.
	f3 := &testFSM{}
	n = openNode(t, "n1", dir, f3, addr)
	if n.skipRestore || f3.Restores() != 1 {
		t.Fatalf("skipRestore=%v restores=%d; want restore on start", n.skipRestore, f3.Restores())
	}
	check(f3, "a", "b", "c")
	if err := n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	apply(n, "d")
	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}

	// 3. Same FSM, past the snapshot: no restore, no double apply.
	n = start(f3, addr)
	if !n.skipRestore || f3.Restores() != 1 {
		t.Fatalf("skipRestore=%v restores=%d; want no restore", n.skipRestore, f3.Restores())
	}
	apply(n, "e")
	check(f3, "a", "b", "c", "d", "e")
}

func TestNoLeader(t *testing.T) {
	// A node that was never bootstrapped has no leader: WaitLeader honours
	// ctx, and Apply reports ErrNotLeader.
	n := openNode(t, "n1", t.TempDir(), &testFSM{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := n.WaitLeader(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitLeader = %v", err)
	}
	if _, err := n.Apply(testutil.Context(t, 10*time.Second), []byte("x")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Apply = %v, want ErrNotLeader", err)
	}
	if err := n.AddVoter(testutil.Context(t, 10*time.Second), "n2", "127.0.0.1:1"); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("AddVoter = %v, want ErrNotLeader", err)
	}
}

func TestMapErr(t *testing.T) {
	n := &Node{} // the branches below do not touch raft
	for _, tt := range []struct {
		in   error
		want []error
	}{
		{raft.ErrLeadershipLost, []error{ErrLeadershipLost, raft.ErrLeadershipLost}},
		{raft.ErrRaftShutdown, []error{ErrShutdown, raft.ErrRaftShutdown}},
		{ErrShutdown, []error{ErrShutdown}},
		{raft.ErrEnqueueTimeout, []error{raft.ErrEnqueueTimeout}},
	} {
		got := n.mapErr("apply", tt.in)
		for _, w := range tt.want {
			if !errors.Is(got, w) {
				t.Errorf("mapErr(%v) = %v, does not wrap %v", tt.in, got, w)
			}
		}
	}
}
