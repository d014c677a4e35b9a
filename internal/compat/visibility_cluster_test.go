package compat

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/raftflow/engine/internal/testutil"
	"github.com/raftflow/engine/sdk/enginetest"
)

// TestListAcrossLeaderChange pages through a list on one leader and goes on
// with the same token after the leader was killed: lists come from the
// replicated index, so the pages continue exactly.
func TestListAcrossLeaderChange(t *testing.T) {
	c := enginetest.Start(t, enginetest.Nodes(3))
	ctx := testutil.Context(t, 60*time.Second)
	first := c.Leader()
	cl := dial(t, c.GRPCAddr(first))
	var want []string
	for i := range 5 {
		id := fmt.Sprintf("wf-%d", i)
		// Nobody polls the queue: the runs stay open.
		if _, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: "unpolled"}, "Anything"); err != nil {
			t.Fatal(err)
		}
		want = append([]string{id}, want...) // newest first
	}
	page, err := cl.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 2})
	if err != nil || len(page.Executions) != 2 || len(page.NextPageToken) == 0 {
		t.Fatalf("first page: %v %v", page, err)
	}
	got := []string{page.Executions[0].GetExecution().GetWorkflowId(), page.Executions[1].GetExecution().GetWorkflowId()}

	c.Kill(first)
	next := c.Leader()
	// A client of a node that is now a follower: its calls are forwarded.
	follower := (next + 1) % 3
	if follower == first {
		follower = (follower + 1) % 3
	}
	cl2 := dial(t, c.GRPCAddr(follower))
	token := page.NextPageToken
	for len(token) > 0 {
		page, err = cl2.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 2, NextPageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Executions {
			got = append(got, e.GetExecution().GetWorkflowId())
		}
		token = page.NextPageToken
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages across the leader change: %v, want %v", got, want)
	}
	for _, i := range []int{next, follower} {
		n, err := dial(t, c.GRPCAddr(i)).CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: "ExecutionStatus = 'Running'"})
		if err != nil || n.Count != 5 {
			t.Fatalf("count via node %d: %v %v", i, n, err)
		}
	}
}
