package compat

import (
	"errors"
	"fmt"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/raftflow/engine/internal/testutil"
	"github.com/raftflow/engine/sdk/enginetest"
)

// TestWorkerAPIs: the official SDK's worker heartbeats (sent because
// DescribeNamespace advertises worker_heartbeats) reach ListWorkers,
// CountWorkers and DescribeWorker, filtered by the ListWorkers query, on
// one node and through a follower of three; ListTaskQueuePartitions names
// the one partition; bad requests get InvalidArgument and NotFound.
func TestWorkerAPIs(t *testing.T) {
	t.Parallel()
	t.Run("one node", func(t *testing.T) {
		t.Parallel()
		testWorkerAPIs(t, startEngine(t).Addr())
	})
	t.Run("follower", func(t *testing.T) {
		t.Parallel()
		cl := enginetest.Start(t, enginetest.Nodes(3))
		testWorkerAPIs(t, cl.GRPCAddr((cl.Leader()+1)%3))
	})
}

func testWorkerAPIs(t *testing.T, addr string) {
	c, err := client.Dial(client.Options{HostPort: addr, Identity: "heartbeating-worker", WorkerHeartbeatInterval: time.Second,
		Logger: sdklog.NewStructuredLogger(logger())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{HelloWorkflow}, nil)
	ctx := testutil.Context(t, 30*time.Second)
	svc := c.WorkflowService()
	query := fmt.Sprintf("TaskQueue = %q AND Status = 'Running'", tq)
	var key string
	testutil.Eventually(t, 20*time.Second, "the worker listed", func() (bool, string) {
		resp, err := svc.ListWorkers(ctx, &workflowservice.ListWorkersRequest{Namespace: "default", Query: query})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Workers) != 1 {
			return false, fmt.Sprintf("%d workers", len(resp.Workers))
		}
		w := resp.Workers[0]
		key = w.WorkerInstanceKey
		return w.WorkerIdentity == "heartbeating-worker" && w.TaskQueue == tq && w.SdkName != "" && key != "" &&
			resp.WorkersInfo[0].GetWorkerHeartbeat().GetWorkerInstanceKey() == key, fmt.Sprint(w)
	})
	d, err := svc.DescribeWorker(ctx, &workflowservice.DescribeWorkerRequest{Namespace: "default", WorkerInstanceKey: key})
	if err != nil || d.GetWorkerInfo().GetWorkerHeartbeat().GetTaskQueue() != tq ||
		d.GetWorkerInfo().GetWorkerHeartbeat().GetStatus() != enumspb.WORKER_STATUS_RUNNING ||
		d.GetWorkerInfo().GetWorkerHeartbeat().GetElapsedSinceLastHeartbeat() == nil {
		t.Fatalf("describe worker: %v, %v", d, err)
	}
	for q, want := range map[string]int64{
		query: 1,
		fmt.Sprintf("TaskQueue = %q AND WorkerIdentity = 'someone-else'", tq): 0,
		fmt.Sprintf("WorkerInstanceKey = %q", key):                            1,
	} {
		n, err := svc.CountWorkers(ctx, &workflowservice.CountWorkersRequest{Namespace: "default", Query: q})
		if err != nil || n.Count != want {
			t.Fatalf("count %q: %v, %v; want %d", q, n, err, want)
		}
	}
	var invalid *serviceerror.InvalidArgument
	if _, err := svc.ListWorkers(ctx, &workflowservice.ListWorkersRequest{Namespace: "default", Query: "TaskQueue = "}); !errors.As(err, &invalid) {
		t.Fatalf("a malformed query: %v, want InvalidArgument", err)
	}
	var notFound *serviceerror.NotFound
	if _, err := svc.DescribeWorker(ctx, &workflowservice.DescribeWorkerRequest{Namespace: "default", WorkerInstanceKey: "nobody"}); !errors.As(err, &notFound) {
		t.Fatalf("describe an unknown worker: %v, want NotFound", err)
	}
	p, err := svc.ListTaskQueuePartitions(ctx, &workflowservice.ListTaskQueuePartitionsRequest{Namespace: "default",
		TaskQueue: &taskqueuepb.TaskQueue{Name: tq}})
	if err != nil || len(p.WorkflowTaskQueuePartitions) != 1 || len(p.ActivityTaskQueuePartitions) != 1 ||
		p.WorkflowTaskQueuePartitions[0].Key != tq || p.WorkflowTaskQueuePartitions[0].OwnerHostName == "" {
		t.Fatalf("partitions: %v, %v", p, err)
	}
}
