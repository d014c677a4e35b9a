package raftnode

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/raftflow/engine/internal/testutil"
)

// partition is a Config.Fault for tests: it cuts every link that names an
// isolated address.
type partition struct {
	mu       sync.Mutex
	isolated map[string]bool
}

func (p *partition) fault(from, to string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.isolated[from] || p.isolated[to]
}

func (p *partition) set(addr string, cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.isolated == nil {
		p.isolated = map[string]bool{}
	}
	p.isolated[addr] = cut
}

// cluster3 starts three nodes sharing fault, n1 bootstrapped and the others
// added, and waits for all three to see the full configuration.
func cluster3(t *testing.T, fault func(from, to string) bool) []*member {
	t.Helper()
	ctx := testutil.Context(t, 10*time.Second)
	var ms []*member
	for i := 1; i <= 3; i++ {
		m := &member{f: &testFSM{}, rec: &hookRec{}}
		cfg := testConfig(fmt.Sprintf("n%d", i), t.TempDir(), "127.0.0.1:0")
		cfg.Fault = fault
		n, err := Open(cfg, m.f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Shutdown() })
		m.n = n
		m.n.OnLeadership(m.rec.start)
		ms = append(ms, m)
	}
	if err := ms[0].n.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	testutil.EventuallyTrue(t, 10*time.Second, "n1 ready", ms[0].n.LeaderReady)
	for _, m := range ms[1:] {
		if err := ms[0].n.AddVoter(ctx, m.n.ID(), m.n.RaftAddr()); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range ms {
		testutil.EventuallyTrue(t, 10*time.Second, m.n.ID()+" to see 3 servers and a leader", func() bool {
			st := m.n.Status()
			return len(st.Servers) == 3 && st.LeaderID != ""
		})
	}
	return ms
}

// TestFaultPartition isolates the leader with the Fault hook: it steps
// down, the other two elect a leader and commit without it, and after the
// heal it catches up.
func TestFaultPartition(t *testing.T) {
	p := &partition{}
	ms := cluster3(t, p.fault)
	ctx := testutil.Context(t, 10*time.Second)
	old := leaderOf(ms)
	if old == nil {
		t.Fatal("no leader")
	}
	if _, err := old.n.Apply(ctx, []byte("before")); err != nil {
		t.Fatal(err)
	}
	waitReplicated(t, ms, "before")

	p.set(old.n.RaftAddr(), true)
	next := waitNewLeader(t, ms, old)
	testutil.EventuallyTrue(t, 10*time.Second, "isolated leader to step down", func() bool { return !old.n.IsLeader() && !old.n.LeaderReady() })
	if _, err := next.n.Apply(ctx, []byte("during")); err != nil {
		t.Fatal(err)
	}
	var rest []*member
	for _, m := range ms {
		if m != old {
			rest = append(rest, m)
		}
	}
	waitReplicated(t, rest, "before", "during")
	if got := old.f.Values(); len(got) != 1 {
		t.Fatalf("isolated node applied %q", got)
	}
	if _, err := old.n.Apply(ctx, []byte("isolated")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("isolated Apply = %v, want ErrNotLeader", err)
	}

	p.set(old.n.RaftAddr(), false)
	waitReplicated(t, ms, "before", "during")
	l := leaderOf(ms)
	if l == nil {
		l = waitNewLeader(t, ms, nil)
	}
	if _, err := l.n.Apply(ctx, []byte("after")); err != nil {
		t.Fatal(err)
	}
	waitReplicated(t, ms, "before", "during", "after")
}

// TestKill stops the leader without a leadership transfer: its services
// stop, the others elect a leader on their own, and a later Shutdown is a
// no-op.
func TestKill(t *testing.T) {
	ms := cluster3(t, nil)
	ctx := testutil.Context(t, 10*time.Second)
	old := leaderOf(ms)
	if old == nil {
		t.Fatal("no leader")
	}
	if err := old.n.Kill(); err != nil {
		t.Fatal(err)
	}
	if old.rec.starts.Load() != old.rec.stops.Load() {
		t.Fatal("leader services still running after Kill")
	}
	if err := old.n.Shutdown(); err != nil {
		t.Fatalf("Shutdown after Kill: %v", err)
	}
	if _, err := old.n.Apply(ctx, []byte("x")); !errors.Is(err, ErrShutdown) {
		t.Fatalf("Apply after Kill = %v, want ErrShutdown", err)
	}
	next := waitNewLeader(t, ms, old)
	if _, err := next.n.Apply(ctx, []byte("after")); err != nil {
		t.Fatal(err)
	}
}
