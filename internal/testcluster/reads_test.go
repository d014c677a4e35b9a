package testcluster_test

import (
	"context"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/raftflow/engine/internal/testcluster"
	"github.com/raftflow/engine/internal/testutil"
)

// TestIsolatedLeaderRefusesReads: a leader cut off from the others still
// believes it leads until its lease runs out. Asked for state in that
// window, it must not answer from its state machine (a successor may
// already have acknowledged newer writes): the read waits for a quorum to
// confirm the leadership, which never comes, and ends Unavailable. Once
// healed, the same read through the same node succeeds again.
func TestIsolatedLeaderRefusesReads(t *testing.T) {
	c := testcluster.Start(t, 3)
	leader := c.Leader()
	sdkc := dial(t, c.GRPCAddr(leader))
	run, err := sdkc.ExecuteWorkflow(testutil.Context(t, 10*time.Second), startOptions("reads-wf", "reads-tq"), helloWorkflow, "x")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(c.GRPCAddr(leader), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ws := workflowservice.NewWorkflowServiceClient(conn)
	describe := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := ws.DescribeWorkflowExecution(ctx, &workflowservice.DescribeWorkflowExecutionRequest{
			Namespace: namespace, Execution: &commonpb.WorkflowExecution{WorkflowId: run.GetID()},
		})
		return err
	}
	if err := describe(); err != nil {
		t.Fatalf("describe on the healthy leader: %v", err)
	}
	c.Partition(leader)
	if err := describe(); status.Code(err) != codes.Unavailable {
		t.Fatalf("describe on the isolated leader: got %v, want Unavailable", err)
	}
	c.Heal()
	testutil.EventuallyTrue(t, 20*time.Second, "reads served again", func() bool { return describe() == nil })
}
