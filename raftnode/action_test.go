package raftnode

import (
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func TestDecide(t *testing.T) {
	tests := []struct {
		hasState bool
		join     []string
		want     Action
	}{
		{false, nil, ActionBootstrap},
		{false, []string{}, ActionBootstrap},
		{false, []string{"a:1"}, ActionJoin},
		{false, []string{"a:1", "b:1"}, ActionJoin},
		{true, nil, ActionRestart},
		{true, []string{"a:1"}, ActionRestart},
	}
	for _, tt := range tests {
		if got := Decide(tt.hasState, tt.join); got != tt.want {
			t.Errorf("Decide(%v, %v) = %v, want %v", tt.hasState, tt.join, got, tt.want)
		}
	}
	for a, s := range map[Action]string{ActionBootstrap: "bootstrap", ActionJoin: "join", ActionRestart: "restart", Action(9): "Action(9)"} {
		if a.String() != s {
			t.Errorf("%d.String() = %q, want %q", int(a), a.String(), s)
		}
	}
}

func TestSkipRestoreOnStart(t *testing.T) {
	snaps := func(idx ...uint64) []*raft.SnapshotMeta {
		var out []*raft.SnapshotMeta
		for _, i := range idx {
			out = append(out, &raft.SnapshotMeta{Index: i})
		}
		return out
	}
	tests := []struct {
		name    string
		snaps   []*raft.SnapshotMeta
		applied uint64
		want    bool
	}{
		{"no snapshot, empty fsm", nil, 0, true},
		{"no snapshot, fsm has data", nil, 42, true},
		{"fsm behind snapshot", snaps(100), 99, false},
		{"empty fsm, snapshot", snaps(100), 0, false},
		{"fsm at snapshot", snaps(100), 100, true},
		{"fsm past snapshot", snaps(100), 150, true},
		{"newest first", snaps(200, 100), 150, false},
		{"any order", snaps(100, 200), 150, false},
		{"past all", snaps(200, 100), 200, true},
	}
	for _, tt := range tests {
		if got := skipRestoreOnStart(tt.snaps, tt.applied); got != tt.want {
			t.Errorf("%s: skipRestoreOnStart = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	if c.SnapshotThreshold != 8192 || c.SnapshotInterval != 30*time.Second || c.TrailingLogs != 10240 ||
		c.HeartbeatTimeout != time.Second || c.ElectionTimeout != time.Second ||
		c.LeaderLeaseTimeout != 500*time.Millisecond || c.CommitTimeout != 50*time.Millisecond || c.Logger == nil {
		t.Fatalf("defaults: %+v", c)
	}
	// Only the heartbeat set: derived timeouts must keep raft's invariants.
	for _, hb := range []time.Duration{100 * time.Millisecond, 3 * time.Second} {
		c := Config{NodeID: "n", HeartbeatTimeout: hb}.withDefaults()
		if err := raft.ValidateConfig(c.raftConfig(true, make(chan bool, 1), newHCLog(testLogger(), "raft"))); err != nil {
			t.Errorf("heartbeat %v: %v", hb, err)
		}
	}
	rc := Config{NodeID: "n"}.withDefaults().raftConfig(false, nil, nil)
	if !rc.BatchApplyCh || rc.MaxAppendEntries != 1024 || rc.NoSnapshotRestoreOnStart {
		t.Fatalf("raft config: %+v", rc)
	}
}

func TestAdvertise(t *testing.T) {
	if _, err := Open(Config{NodeID: "n", DataDir: t.TempDir(), RaftBind: "0.0.0.0:0", Logger: testLogger()}, &testFSM{}); err == nil {
		t.Fatal("binding 0.0.0.0 without RaftAdvertise must fail")
	}
	for _, bad := range []string{"nohost", ":7000", "0.0.0.0:7000", "h:0", "h:x"} {
		if _, err := advertiseFor(nil, bad); err == nil {
			t.Errorf("advertise %q accepted", bad)
		}
	}
	n, err := Open(Config{NodeID: "n", DataDir: t.TempDir(), RaftBind: "127.0.0.1:0", RaftAdvertise: "node-1.example:7000", Logger: testLogger()}, &testFSM{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown()
	if n.RaftAddr() != "node-1.example:7000" {
		t.Fatalf("RaftAddr = %q", n.RaftAddr())
	}
}
