package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/raftflow/engine/internal/cli"
	"github.com/raftflow/engine/internal/testcluster"
)

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Cluster(args, &out, &errb)
	return out.String(), errb.String(), code
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := run(t, args...)
	if code != 0 {
		t.Fatalf("engine cluster %v: exit %d: %s%s", args, code, out, errs)
	}
	return out
}

type member struct {
	ID       string `json:"id"`
	GRPCAddr string `json:"grpc_addr"`
	Leader   bool   `json:"leader"`
	Suffrage string `json:"suffrage"`
}

type status struct {
	NodeID   string   `json:"node_id"`
	State    string   `json:"state"`
	LeaderID string   `json:"leader_id"`
	Members  []member `json:"members"`
}

// TestClusterCLI drives every command against an in-process 3-node
// cluster, through a follower's address, in text and JSON.
func TestClusterCLI(t *testing.T) {
	c := testcluster.Start(t, 3)
	l := c.Leader()
	f := (l + 1) % 3
	addr := "--address=" + c.GRPCAddr(f)

	out := mustRun(t, addr, "status")
	for _, want := range []string{"node:     " + c.ID(f) + " (Follower)", "leader:   " + c.ID(l), "members:  3", "leader", "Voter"} {
		if !strings.Contains(out, want) {
			t.Errorf("status text lacks %q:\n%s", want, out)
		}
	}
	var st status
	if err := json.Unmarshal([]byte(mustRun(t, "status", addr, "-o", "json")), &st); err != nil {
		t.Fatal(err)
	}
	if st.NodeID != c.ID(f) || st.LeaderID != c.ID(l) || len(st.Members) != 3 {
		t.Fatalf("status json: %+v", st)
	}
	var ms struct{ Members []member }
	if err := json.Unmarshal([]byte(mustRun(t, "-o=json", addr, "members")), &ms); err != nil {
		t.Fatal(err)
	}
	leaders := 0
	for _, m := range ms.Members {
		if m.Leader {
			leaders++
		}
		if m.GRPCAddr == "" || m.Suffrage != "Voter" {
			t.Errorf("member %+v", m)
		}
	}
	if len(ms.Members) != 3 || leaders != 1 {
		t.Fatalf("members: %+v", ms.Members)
	}
	if out := mustRun(t, addr, "members"); strings.Count(out, "\n") != 4 {
		t.Errorf("members text:\n%s", out)
	}

	// Transfer to a named follower, through the other follower.
	to := 3 - l - f
	out = mustRun(t, addr, "transfer-leadership", c.ID(to))
	if want := "leadership transferred from " + c.ID(l) + " to " + c.ID(to); !strings.Contains(out, want) {
		t.Fatalf("transfer: %q, want %q", out, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if got := c.Leader(); got != to {
		t.Fatalf("leader %s after transfer, want %s", c.ID(got), c.ID(to))
	}
	// Without a target, raft picks one.
	var tr struct {
		PreviousLeaderID string `json:"previous_leader_id"`
		LeaderID         string `json:"leader_id"`
	}
	out = mustRun(t, "-o", "json", "--address", c.GRPCAddr(to), "transfer-leadership")
	if err := json.Unmarshal([]byte(out), &tr); err != nil || tr.PreviousLeaderID != c.ID(to) || tr.LeaderID == c.ID(to) || tr.LeaderID == "" {
		t.Fatalf("transfer json %q: %+v %v", out, tr, err)
	}
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}

	out = mustRun(t, "--address", c.GRPCAddr(f), "snapshot")
	if !strings.HasPrefix(out, "node "+c.ID(f)+" took snapshot ") {
		t.Fatalf("snapshot: %q", out)
	}
	// A refused call is exit status 1 with the gRPC code.
	if _, errs, code := run(t, addr, "transfer-leadership", "nobody"); code != 1 || !strings.Contains(errs, "FailedPrecondition") {
		t.Fatalf("transfer to a non-member: exit %d %q", code, errs)
	}

	// Remove a follower (not the one addressed); the others see two members.
	victim := -1
	for i := range 3 {
		if i != f && i != c.Leader() {
			victim = i
		}
	}
	mustRun(t, addr, "remove", c.ID(victim))
	if err := json.Unmarshal([]byte(mustRun(t, addr, "status", "-o", "json")), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Members) != 2 {
		t.Fatalf("after remove: %+v", st.Members)
	}
	c.Kill(victim) // a removed node would otherwise keep calling elections
}

// TestClusterCLIErrors checks the exit statuses of failures and bad usage.
func TestClusterCLIErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{nil, 2},
		{[]string{"frobnicate"}, 2},
		{[]string{"remove"}, 2},
		{[]string{"status", "-o", "yaml"}, 2},
		{[]string{"--no-such-flag", "status"}, 2},
		{[]string{"--help"}, 0},
		// Nothing listens on port 1 of localhost.
		{[]string{"--address", "127.0.0.1:1", "--timeout", "2s", "status"}, 1},
	} {
		if _, errs, code := run(t, tc.args...); code != tc.code {
			t.Errorf("%v: exit %d, want %d (%s)", tc.args, code, tc.code, errs)
		}
	}
}
