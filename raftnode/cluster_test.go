package raftnode

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftflow/engine/internal/testutil"
)

type member struct {
	n   *Node
	f   *testFSM
	rec *hookRec
}

func leaderOf(ms []*member) *member {
	for _, m := range ms {
		if m.n.IsLeader() {
			return m
		}
	}
	return nil
}

// waitNewLeader waits for a member other than old to lead with its leader
// services running.
func waitNewLeader(t *testing.T, ms []*member, old *member) *member {
	t.Helper()
	var l *member
	testutil.EventuallyTrue(t, 10*time.Second, "a new ready leader", func() bool {
		l = leaderOf(ms)
		return l != nil && l != old && l.n.LeaderReady()
	})
	return l
}

func servers(t *testing.T, n *Node) (map[string]string, uint64) {
	t.Helper()
	cfg, idx, err := n.configuration()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range cfg.Servers {
		if s.Suffrage != raft.Voter {
			t.Fatalf("server %s is %v", s.ID, s.Suffrage)
		}
		out[string(s.ID)] = string(s.Address)
	}
	return out, idx
}

func TestCluster(t *testing.T) {
	ctx := testutil.Context(t, 10*time.Second)
	var ms []*member
	for i := 1; i <= 3; i++ {
		m := &member{f: &testFSM{}, rec: &hookRec{}}
		m.n = openNode(t, fmt.Sprintf("n%d", i), t.TempDir(), m.f)
		m.n.OnLeadership(m.rec.start)
		ms = append(ms, m)
	}
	n1, n2, n3 := ms[0].n, ms[1].n, ms[2].n
	if err := n1.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	testutil.EventuallyTrue(t, 10*time.Second, "n1 ready", n1.LeaderReady)

	// Membership: idempotent add, re-address, other id on the address.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(n1.AddVoter(ctx, "n2", n2.RaftAddr()))
	_, idx := servers(t, n1)
	must(n1.AddVoter(ctx, "n2", n2.RaftAddr()))
	if _, idx2 := servers(t, n1); idx2 != idx {
		t.Fatalf("repeated AddVoter changed the configuration (%d -> %d)", idx, idx2)
	}
	must(n1.AddVoter(ctx, "n3", "127.0.0.1:1")) // stale address
	must(n1.AddVoter(ctx, "n3", n3.RaftAddr())) // replaced
	must(n1.AddVoter(ctx, "ghost", "127.0.0.1:2"))
	must(n1.AddVoter(ctx, "ghost2", "127.0.0.1:2")) // evicts ghost
	got, _ := servers(t, n1)
	want := map[string]string{"n1": n1.RaftAddr(), "n2": n2.RaftAddr(), "n3": n3.RaftAddr(), "ghost2": "127.0.0.1:2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("servers = %v, want %v", got, want)
	}
	must(n1.RemoveServer(ctx, "ghost2"))
	must(n1.RemoveServer(ctx, "ghost2")) // unknown id: no-op
	delete(want, "ghost2")
	if got, _ := servers(t, n1); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("servers = %v, want %v", got, want)
	}
	if err := n1.AddVoter(ctx, "n1", "127.0.0.1:3"); err == nil {
		t.Fatal("re-addressing the leader itself must be refused")
	}
	testutil.EventuallyTrue(t, 10*time.Second, "n2 to see the final configuration", func() bool {
		st := n2.Status()
		return len(st.Servers) == 3 && st.LeaderID == "n1" && st.State == "Follower"
	})

	// Replication, and followers refuse proposals.
	for _, v := range []string{"x", "y", "z"} {
		if _, err := n1.Apply(ctx, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	waitReplicated(t, ms, "x", "y", "z")
	if _, err := n2.Apply(ctx, []byte("no")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("follower Apply = %v, want ErrNotLeader", err)
	}
	if err := n3.AddVoter(ctx, "n4", "127.0.0.1:4"); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("follower AddVoter = %v, want ErrNotLeader", err)
	}
	if err := n3.Barrier(ctx); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("follower Barrier = %v, want ErrNotLeader", err)
	}

	// Leader services ran once, on n1 only.
	if s := []int32{ms[0].rec.starts.Load(), ms[1].rec.starts.Load(), ms[2].rec.starts.Load()}; !slices.Equal(s, []int32{1, 0, 0}) {
		t.Fatalf("hook starts = %v, want [1 0 0]", s)
	}
	if n2.LeaderReady() || n3.LeaderReady() {
		t.Fatal("follower reports LeaderReady")
	}

	// Several transfers: each loses its ctx, the next leader starts once.
	old := ms[0]
	for range 4 {
		before := old.rec.stops.Load()
		if err := old.n.Raft().LeadershipTransfer().Error(); err != nil {
			t.Fatal(err)
		}
		testutil.EventuallyTrue(t, 10*time.Second, "old leader's services cancelled", func() bool {
			return old.rec.stops.Load() == before+1 && !old.n.LeaderReady()
		})
		old = waitNewLeader(t, ms, old)
	}
	for i, m := range ms {
		if m.rec.overlap.Load() {
			t.Fatalf("n%d ran two starts at once", i+1)
		}
		// Only the current leader's hook may still be running.
		running := m.rec.starts.Load() - m.rec.stops.Load()
		if wantRunning := map[bool]int32{true: 1, false: 0}[m == old]; running != wantRunning {
			t.Fatalf("n%d: %d hooks running, want %d", i+1, running, wantRunning)
		}
	}

	// Shutdown of the leader hands over; the other two still commit.
	startsBefore := map[*member]int32{}
	for _, m := range ms {
		startsBefore[m] = m.rec.starts.Load()
	}
	if err := old.n.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if old.rec.starts.Load() != old.rec.stops.Load() {
		t.Fatal("leader services still running after Shutdown")
	}
	next := waitNewLeader(t, ms, old)
	if got := next.rec.starts.Load(); got != startsBefore[next]+1 {
		t.Fatalf("new leader hook starts = %d, want %d", got, startsBefore[next]+1)
	}
	if _, err := next.n.Apply(ctx, []byte("after")); err != nil {
		t.Fatal(err)
	}
	var rest []*member
	for _, m := range ms {
		if m != old {
			rest = append(rest, m)
		}
	}
	waitReplicated(t, rest, "x", "y", "z", "after")
}

func waitReplicated(t *testing.T, ms []*member, want ...string) {
	t.Helper()
	for _, m := range ms {
		testutil.EventuallyTrue(t, 10*time.Second, fmt.Sprintf("%s to apply %q", m.n.ID(), want), func() bool {
			return slices.Equal(m.f.Values(), want)
		})
	}
}

// TestOnLeadershipLate registers the hook after leadership was gained: it
// still runs in that term.
func TestOnLeadershipLate(t *testing.T) {
	n := openNode(t, "n1", t.TempDir(), &testFSM{})
	if err := n.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	if err := n.WaitLeader(testutil.Context(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n.LeaderReady() {
		t.Fatal("LeaderReady without a hook")
	}
	rec := &hookRec{}
	n.OnLeadership(rec.start)
	testutil.EventuallyTrue(t, 10*time.Second, "late hook", n.LeaderReady)
	defer func() {
		if recover() == nil {
			t.Fatal("second OnLeadership did not panic")
		}
	}()
	n.OnLeadership(func(context.Context) {})
}
