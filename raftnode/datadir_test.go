package raftnode

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftflow/engine/internal/testutil"
)

// TestFSMAheadOfLog: raft/ lost while fsm/ was kept. Before the check, the
// node bootstrapped a new log at index 1 and acknowledged writes the FSM
// then skipped (Index <= applied): acknowledged, never applied. Now Open
// refuses, saying what happened and what to do.
func TestFSMAheadOfLog(t *testing.T) {
	dir := t.TempDir()
	ctx := testutil.Context(t, 10*time.Second)
	f := &testFSM{} // survives the restart, as fsm/ on disk would
	n := openNode(t, "n1", dir, f)
	if err := n.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	if err := n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	const writes = 20
	for i := range writes {
		if _, err := n.Apply(ctx, []byte(fmt.Sprint("start-", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "raft")); err != nil {
		t.Fatal(err)
	}

	n2, err := Open(testConfig("n1", dir, "127.0.0.1:0"), f)
	if err == nil {
		// The bug: show what the old behaviour costs.
		t.Cleanup(func() { _ = n2.Shutdown() })
		if err := n2.Bootstrap(); err != nil {
			t.Fatal(err)
		}
		if err := n2.WaitLeader(ctx); err != nil {
			t.Fatal(err)
		}
		acked := 0
		for i := range writes {
			if _, err := n2.Apply(ctx, []byte(fmt.Sprint("again-", i))); err == nil {
				acked++
			}
		}
		t.Fatalf("Open succeeded with raft/ deleted and fsm/ kept: %d writes acknowledged, FSM holds %d values (want %d)",
			acked, len(f.Values()), writes+acked)
	}
	if !errors.Is(err, ErrFSMAhead) {
		t.Fatalf("Open = %v, want ErrFSMAhead", err)
	}
	for _, want := range []string{"raft", "fsm", "delete", "backup"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	t.Logf("refused: %v", err)
}

// TestNodeIDRecorded: the first start records the node id; a restart with
// the same id works as before, one with another id is refused with both
// ids named (it used to wedge with "no leader known").
func TestNodeIDRecorded(t *testing.T) {
	dir := t.TempDir()
	ctx := testutil.Context(t, 10*time.Second)
	n := openNode(t, "n1", dir, &testFSM{})
	addr := n.RaftAddr()
	if err := n.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	if err := n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Apply(ctx, []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, nodeIDFile)); err != nil || string(b) != "n1\n" {
		t.Fatalf("node-id file = %q, %v", b, err)
	}

	_, err := Open(testConfig("n2", dir, "127.0.0.1:0"), &testFSM{})
	if !errors.Is(err, ErrNodeIDMismatch) || !strings.Contains(err.Error(), `"n1"`) || !strings.Contains(err.Error(), `"n2"`) {
		t.Fatalf("Open as n2 = %v, want ErrNodeIDMismatch naming n1 and n2", err)
	}
	t.Logf("refused: %v", err)

	// Normal restart: same id, raft replays the log into an empty FSM.
	f := &testFSM{}
	n = openNode(t, "n1", dir, f, addr)
	if !n.HasState() {
		t.Fatal("restart lost raft state")
	}
	if err := n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.Values(); len(got) != 1 || got[0] != "a" {
		t.Fatalf("values after restart = %q", got)
	}
}

// TestCheckLogCoversFSM: an FSM at a snapshot's index with the log
// compacted away is fine (the snapshot covers it); only an FSM beyond both
// is refused.
func TestCheckLogCoversFSM(t *testing.T) {
	dir := t.TempDir()
	store, err := openBoltStore(filepath.Join(dir, "raft.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.StoreLogs([]*raft.Log{{Index: 5, Term: 1}, {Index: 6, Term: 1}}); err != nil {
		t.Fatal(err)
	}
	snaps := []*raft.SnapshotMeta{{Index: 9}, {Index: 4}}
	for _, tt := range []struct {
		applied uint64
		snaps   []*raft.SnapshotMeta
		ok      bool
	}{
		{0, nil, true}, {6, nil, true}, {7, nil, false},
		{9, snaps, true}, {10, snaps, false},
	} {
		err := checkLogCoversFSM(store, tt.snaps, tt.applied, dir)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrFSMAhead)) {
			t.Errorf("applied %d, %d snapshots: %v", tt.applied, len(tt.snaps), err)
		}
	}
}
