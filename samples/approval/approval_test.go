package approval_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/raftflow/engine/internal/testutil"
	"github.com/raftflow/engine/samples/approval"
	"github.com/raftflow/engine/sdk/enginetest"
)

// setup starts the sample's worker (as samples/approval/worker does) on an
// sdk.Dial client of srv and returns another client, the starter's.
func setup(t *testing.T, srv *enginetest.Server) (client.Client, *approval.Notifier) {
	t.Helper()
	n := &approval.Notifier{}
	testutil.StartWorker(t, srv.Client(), approval.TaskQueue, func(r worker.Registry) { approval.Register(r, n) })
	return srv.Client(), n
}

func request(id string, deadline, escalation time.Duration) approval.Request {
	return approval.Request{
		ID: id, Requester: "rita", Description: "laptop", AmountCents: 120000,
		Approver: "ann", Escalation: "bob", Deadline: deadline, EscalationDeadline: escalation,
	}
}

// waitStatus polls the state query until the request has status want
// (a query can fail while the engine or the worker is coming back).
func waitStatus(t *testing.T, c client.Client, id string, want approval.Status) approval.State {
	t.Helper()
	var st approval.State
	testutil.Eventually(t, 30*time.Second, fmt.Sprintf("request %s to be %s", id, want), func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		if st, err = approval.Current(ctx, c, id); err != nil {
			return false, err.Error()
		}
		if st.Status != want {
			return false, "status " + string(st.Status)
		}
		return true, ""
	})
	return st
}

func checkOutcome(t *testing.T, ctx context.Context, c client.Client, id string, want approval.State) {
	t.Helper()
	got, err := approval.Outcome(ctx, c, id)
	if err != nil {
		t.Fatal(err)
	}
	got.Deadline = time.Time{}
	if got != want {
		t.Fatalf("outcome %+v, want %+v", got, want)
	}
}

// TestApprovalSurvivesRestart: the request waits for its approver; the
// engine is restarted in the middle of the wait; the request still waits,
// with the same deadline, and completes when approved.
func TestApprovalSurvivesRestart(t *testing.T) {
	srv := enginetest.Start(t)
	c, n := setup(t, srv)
	ctx := testutil.Context(t, 60*time.Second)
	if _, err := approval.Start(ctx, c, request("r1", time.Hour, time.Hour)); err != nil {
		t.Fatal(err)
	}
	before := waitStatus(t, c, "r1", approval.Waiting)

	srv.Restart(0)

	after := waitStatus(t, c, "r1", approval.Waiting)
	if !after.Deadline.Equal(before.Deadline) || after.Approver != "ann" {
		t.Fatalf("after the restart: %+v, before: %+v", after, before)
	}
	if err := approval.Decide(ctx, c, "r1", true, approval.Vote{By: "ann", Comment: "fine"}); err != nil {
		t.Fatal(err)
	}
	checkOutcome(t, ctx, c, "r1", approval.State{Status: approval.Approved, Approver: "ann", DecidedBy: "ann", Comment: "fine"})
	if sent := n.Sent(); len(sent) != 1 || sent[0].To != "rita" || sent[0].Text != "request r1: approved by ann" {
		t.Fatalf("notifications %+v", sent)
	}
}

// TestApprovalDeadlines: with no vote by the deadline the request is
// escalated (the escalation approver is notified) and then decided by the
// escalation approver; with no vote at all it expires.
func TestApprovalDeadlines(t *testing.T) {
	srv := enginetest.Start(t)
	c, n := setup(t, srv)
	ctx := testutil.Context(t, 60*time.Second)

	if _, err := approval.Start(ctx, c, request("r2", 100*time.Millisecond, time.Hour)); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, "the escalation notice", func() (bool, string) {
		for _, m := range n.Sent() {
			if m.To == "bob" && strings.Contains(m.Text, "request r2") {
				return true, ""
			}
		}
		return false, fmt.Sprintf("sent %+v", n.Sent())
	})
	if st := waitStatus(t, c, "r2", approval.Escalated); st.Approver != "bob" || !st.Escalated {
		t.Fatalf("escalated state %+v", st)
	}
	if err := approval.Decide(ctx, c, "r2", false, approval.Vote{By: "bob", Comment: "too much"}); err != nil {
		t.Fatal(err)
	}
	checkOutcome(t, ctx, c, "r2", approval.State{Status: approval.Rejected, Approver: "bob", Escalated: true, DecidedBy: "bob", Comment: "too much"})

	if _, err := approval.Start(ctx, c, request("r3", 50*time.Millisecond, 50*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	checkOutcome(t, ctx, c, "r3", approval.State{Status: approval.Expired, Approver: "bob", Escalated: true})
	var toRita []string
	for _, m := range n.Sent() {
		if m.To == "rita" {
			toRita = append(toRita, m.Text)
		}
	}
	if want := []string{"request r2: rejected by bob", "request r3: expired"}; strings.Join(toRita, "|") != strings.Join(want, "|") {
		t.Fatalf("requester got %q, want %q", toRita, want)
	}
}

// TestApprovalAcrossLeaderKill: on a three-node engine, the leader is
// killed while the request waits; it keeps waiting and completes when
// approved through the surviving nodes.
func TestApprovalAcrossLeaderKill(t *testing.T) {
	if testing.Short() {
		t.Skip("three nodes")
	}
	srv := enginetest.Start(t, enginetest.Nodes(3))
	c, _ := setup(t, srv)
	ctx := testutil.Context(t, 60*time.Second)
	if _, err := approval.Start(ctx, c, request("r4", time.Hour, time.Hour)); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, "r4", approval.Waiting)

	srv.Kill(srv.Leader())

	waitStatus(t, c, "r4", approval.Waiting)
	if err := approval.Decide(ctx, c, "r4", true, approval.Vote{By: "ann"}); err != nil {
		t.Fatal(err)
	}
	checkOutcome(t, ctx, c, "r4", approval.State{Status: approval.Approved, Approver: "ann", DecidedBy: "ann"})
}
