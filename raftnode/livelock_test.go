package raftnode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/raftflow/engine/internal/testutil"
)

// TestInstallSnapshotLivelock reproduces hashicorp/raft#697: a follower
// whose log lacks the entry at its snapshot index K (it got K through
// InstallSnapshot) but holds an entry above K from a term that lost
// rejects every AppendEntries with prev = K, and each InstallSnapshot the
// leader answers with leaves that entry in place, so the follower never
// catches up and the leader ships it the same snapshot forever.
//
// The stale entry is written into the stopped follower's log directly; in
// TestRestart (internal/testcluster) the same state arose from leadership
// transfers during a full-cluster restart.
func TestInstallSnapshotLivelock(t *testing.T) {
	if os.Getenv("RAFTFLOW_KNOWN_BUGS") == "" {
		t.Skip("hashicorp/raft#697, present in v1.7.3 and v1.8.0; run with RAFTFLOW_KNOWN_BUGS=1 (and drop this skip once raft is fixed or patched)")
	}
	ctx := testutil.Context(t, 10*time.Second)
	type node struct {
		n    *Node
		f    *testFSM
		dir  string
		addr string
	}
	open := func(id, dir, addr string, f *testFSM) *Node {
		t.Helper()
		cfg := testConfig(id, dir, addr)
		cfg.TrailingLogs = 1 // a snapshot compacts the log to its last entry
		n, err := Open(cfg, f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Shutdown() })
		return n
	}
	var ns []*node
	for i := 1; i <= 3; i++ {
		nd := &node{f: &testFSM{}, dir: t.TempDir()}
		nd.n = open(fmt.Sprintf("n%d", i), nd.dir, "127.0.0.1:0", nd.f)
		nd.addr = nd.n.RaftAddr()
		nd.n.OnLeadership(func(ctx context.Context) { <-ctx.Done() })
		ns = append(ns, nd)
	}
	n1, n2, n3 := ns[0], ns[1], ns[2]
	if err := n1.n.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	testutil.EventuallyTrue(t, 10*time.Second, "n1 leads", n1.n.LeaderReady)
	for _, nd := range ns[1:] {
		if err := n1.n.AddVoter(ctx, nd.n.ID(), nd.addr); err != nil {
			t.Fatal(err)
		}
	}
	apply := func(n *Node, vals ...string) {
		t.Helper()
		for _, v := range vals {
			if _, err := n.Apply(ctx, []byte(v)); err != nil {
				t.Fatal(err)
			}
		}
	}
	apply(n1.n, "a", "b")
	testutil.EventuallyTrue(t, 10*time.Second, "n3 to apply a, b", func() bool { return len(n3.f.Values()) == 2 })

	// n3 misses entries; n1 snapshots and compacts its log past them.
	if err := n3.n.Shutdown(); err != nil {
		t.Fatal(err)
	}
	apply(n1.n, "c", "d", "e")
	if err := n1.n.Raft().Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	k := n1.n.Raft().LastIndex()
	term := n1.n.Raft().CurrentTerm()

	// n3 comes back and catches up through InstallSnapshot at k.
	n3.f = &testFSM{}
	n3.n = open("n3", n3.dir, n3.addr, n3.f)
	testutil.EventuallyTrue(t, 10*time.Second, "n3 to install the snapshot", func() bool { return n3.f.Restores() == 1 && len(n3.f.Values()) == 5 })
	if err := n3.n.Shutdown(); err != nil {
		t.Fatal(err)
	}

	// While n3 is down: it holds entry k+1 from term `term` (as if the
	// term's leader had sent it and lost leadership before committing it),
	// and the cluster writes a different k+1 in a later term.
	bolt, err := raftboltdb.NewBoltStore(filepath.Join(n3.dir, "raft", "raft.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := bolt.StoreLog(&raft.Log{Index: k + 1, Term: term, Type: raft.LogCommand, Data: []byte("lost")}); err != nil {
		t.Fatal(err)
	}
	bolt.Close()
	if err := n1.n.Raft().LeadershipTransferToServer(raft.ServerID("n2"), raft.ServerAddress(n2.addr)).Error(); err != nil {
		t.Fatal(err)
	}
	testutil.EventuallyTrue(t, 10*time.Second, "n2 leads", n2.n.LeaderReady)
	apply(n2.n, "f")
	if err := n2.n.Raft().LeadershipTransferToServer(raft.ServerID("n1"), raft.ServerAddress(n1.addr)).Error(); err != nil {
		t.Fatal(err)
	}
	testutil.EventuallyTrue(t, 10*time.Second, "n1 leads again", n1.n.LeaderReady)
	apply(n1.n, "g")

	n3.f = &testFSM{}
	n3.n = open("n3", n3.dir, n3.addr, n3.f)
	testutil.Eventually(t, 5*time.Second, "n3 to catch up", func() (bool, string) {
		return len(n3.f.Values()) == 7, fmt.Sprintf("values %q after %d snapshot restores", n3.f.Values(), n3.f.Restores())
	})
}
