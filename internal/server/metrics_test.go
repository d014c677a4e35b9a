package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/raftflow/engine/internal/testcluster"
)

// TestMetricsAndHealth runs a workflow (timer, activity) on a one-node
// engine, then scrapes /metrics and checks that every documented metric is
// there, and that the health endpoints and grpc.health.v1 say ready.
func TestMetricsAndHealth(t *testing.T) {
	c := testcluster.Start(t, 1)
	cl, err := client.Dial(client.Options{HostPort: c.GRPCAddr(0), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	runGreet(t, cl, "metrics-1")
	if _, err := cl.CheckHealth(ctxFor(t, 10*time.Second), &client.CheckHealthRequest{}); err != nil {
		t.Fatalf("SDK CheckHealth: %v", err)
	}

	body := httpGet(t, c.HTTPAddr(0), "/metrics", 200)
	for _, name := range []string{
		`raftflow_raft_state{state="Leader"} 1`,
		"raftflow_raft_term ", "raftflow_raft_last_index ", "raftflow_raft_commit_index ",
		"raftflow_raft_applied_index ", "raftflow_raft_commit_duration_seconds_bucket",
		"raftflow_raft_leader_changes_total ", `raftflow_raft_members{suffrage="Voter"} 1`,
		"raftflow_fsm_applied_index ", "raftflow_fsm_apply_duration_seconds_count",
		"raftflow_fsm_apply_batch_entries_bucket",
		`raftflow_queue_poll_wait_seconds_count{kind="workflow",result="task"}`,
		`raftflow_queue_matches_total{type="sync"}`, `raftflow_queue_matches_total{type="backlog"}`,
		"raftflow_timers_pending ", "raftflow_timers_fire_lateness_seconds_count 1",
		`raftflow_grpc_requests_total{code="OK",method="StartWorkflowExecution",service="WorkflowService"} 1`,
		`raftflow_grpc_request_duration_seconds_count{method="RespondActivityTaskCompleted",service="WorkflowService"}`,
		`raftflow_workflow_started_total{namespace="default"} 1`,
		`raftflow_workflow_closed_total{namespace="default",status="completed"} 1`,
		"raftflow_ready 1", "go_goroutines ", "process_cpu_seconds_total ",
	} {
		if !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %q", name)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
	// A poll waiting on an empty queue shows in the per-queue gauges.
	pollCtx, stopPoll := context.WithCancel(context.Background())
	defer stopPoll()
	go cl.WorkflowService().PollActivityTaskQueue(pollCtx, &workflowservice.PollActivityTaskQueueRequest{
		Namespace: "default", TaskQueue: &taskqueuepb.TaskQueue{Name: "idle"},
	})
	want := `raftflow_queue_pollers{kind="activity",namespace="default",task_queue="idle"} 1`
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(httpGet(t, c.HTTPAddr(0), "/metrics", 200), want) {
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never showed %s", want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stopPoll()

	for _, p := range []string{"/livez", "/healthz", "/readyz"} {
		httpGet(t, c.HTTPAddr(0), p, 200)
	}

	conn, err := grpc.NewClient(c.GRPCAddr(0), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	for _, svc := range []string{"", "temporal.api.workflowservice.v1.WorkflowService"} {
		resp, err := hc.Check(ctxFor(t, 10*time.Second), &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health %q: %v %v", svc, resp, err)
		}
	}
	if _, err := hc.Check(ctxFor(t, 10*time.Second), &healthpb.HealthCheckRequest{Service: "nope"}); err == nil {
		t.Error("health of an unknown service: want NotFound")
	}
}

func httpGet(t *testing.T, addr, path string, want int) string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s%s", addr, path))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d %s, want %d", path, resp.StatusCode, b, want)
	}
	return string(b)
}
