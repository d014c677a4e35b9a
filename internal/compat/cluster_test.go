package compat

import (
	"context"
	"slices"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/raftflow/engine/internal/testutil"
	"github.com/raftflow/engine/sdk/enginetest"
)

// TestThreeNodeFollower runs a subset of the suite against a three-node
// cluster, with the client and the worker connected to a follower: every
// call is forwarded to the leader, long polls and queries included.
func TestThreeNodeFollower(t *testing.T) {
	t.Parallel()
	cl := enginetest.Start(t, enginetest.Nodes(3))
	follower := (cl.Leader() + 1) % 3
	c := dial(t, cl.GRPCAddr(follower))
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{HelloWorkflow, SignalsWorkflow, ChildOutcomeWorkflow, ChildWorkflow,
		QueryStateWorkflow, CounterUpdateWorkflow, ChainWorkflow}, map[string]any{
		"Greet": func(ctx context.Context, name string) (string, error) { return "Hello " + name + "!", nil },
	})
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, id string)
	}{
		{"Hello", func(t *testing.T, id string) {
			run := start(t, c, tq, id, HelloWorkflow, "cluster")
			var got string
			getResult(t, run, &got)
			if got != "Hello cluster!" {
				t.Fatalf("result %q", got)
			}
			replay(t, c, id, run.GetRunID(), HelloWorkflow)
		}},
		{"Signal", func(t *testing.T, id string) {
			run := start(t, c, tq, id, SignalsWorkflow, 2)
			signal(t, c, id, "sig", "one")
			signal(t, c, id, "sig", "two")
			var got []string
			getResult(t, run, &got)
			if !slices.Equal(got, []string{"one", "two"}) {
				t.Fatalf("result %q", got)
			}
			replay(t, c, id, run.GetRunID(), SignalsWorkflow)
		}},
		{"Child", func(t *testing.T, id string) {
			run := start(t, c, tq, id, ChildOutcomeWorkflow, childSpec{ChildID: id + "-child", Mode: "echo"})
			var got string
			getResult(t, run, &got)
			if want := "completed:child:" + id + "-child"; got != want {
				t.Fatalf("result %q, want %q", got, want)
			}
			replay(t, c, id, run.GetRunID(), ChildOutcomeWorkflow, ChildWorkflow)
		}},
		{"Query", func(t *testing.T, id string) {
			run := start(t, c, tq, id, QueryStateWorkflow)
			if got := query(t, c, id, "", "state"); got != "waiting" {
				t.Fatalf("query %q", got)
			}
			signal(t, c, id, "sig", "x")
			getResult(t, run, nil)
			if got := query(t, c, id, "", "state"); got != "got x" {
				t.Fatalf("query after close %q", got)
			}
		}},
		{"Update", func(t *testing.T, id string) {
			run := start(t, c, tq, id, CounterUpdateWorkflow)
			ctx := testutil.Context(t, 30*time.Second)
			h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
				WorkflowID: id, UpdateName: "add", Args: []any{7}, WaitForStage: client.WorkflowUpdateStageCompleted,
			})
			var got int
			if err == nil {
				err = h.Get(ctx, &got)
			}
			if err != nil || got != 7 {
				t.Fatalf("update: %d, %v", got, err)
			}
			signal(t, c, id, "done", nil)
			getResult(t, run, &got)
			replay(t, c, id, run.GetRunID(), CounterUpdateWorkflow)
		}},
		{"UpdateWithStart", func(t *testing.T, id string) {
			ctx := testutil.Context(t, 30*time.Second)
			h, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
				StartWorkflowOperation: c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
					ID: id, TaskQueue: tq, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
				}, CounterUpdateWorkflow),
				UpdateOptions: client.UpdateWorkflowOptions{
					UpdateName: "add", Args: []any{4}, WaitForStage: client.WorkflowUpdateStageCompleted,
				},
			})
			var got int
			if err == nil {
				err = h.Get(ctx, &got)
			}
			if err != nil || got != 4 {
				t.Fatalf("update-with-start: %d, %v", got, err)
			}
			signal(t, c, id, "done", nil)
			getResult(t, c.GetWorkflow(ctx, id, h.RunID()), &got)
			if got != 4 {
				t.Fatalf("result %d, want 4", got)
			}
			replay(t, c, id, h.RunID(), CounterUpdateWorkflow)
		}},
		{"ActivityOperations", func(t *testing.T, _ string) { testActivityOperations(t, c, nil) }},
		{"PriorityOrder", func(t *testing.T, _ string) { testPriorityOrder(t, c, nil) }},
		{"ContinueAsNew", func(t *testing.T, id string) {
			run := start(t, c, tq, id, ChainWorkflow, chainInput{Step: 1, Last: 3})
			var got []string
			getResult(t, run, &got)
			if !slices.Equal(got, []string{"step 1", "step 2", "step 3"}) {
				t.Fatalf("result %q", got)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, tq+"-"+tc.name)
		})
	}
}
