package sdk_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/raftflow/engine/internal/testutil"
	"github.com/raftflow/engine/sdk"
	"github.com/raftflow/engine/sdk/enginetest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// loseFirst is a client interceptor (inside Dial's retry) that lets the
// first attempt of each listed method reach the engine and be applied, then
// throws the answer away and reports Unavailable, as when a leader crashes
// after committing and before answering. It records each attempt's request
// ID and the real answer of the first.
type loseFirst struct {
	methods map[string]bool
	mu      sync.Mutex
	ids     map[string][]string // method -> request ID per attempt
	first   map[string]any      // method -> answer of the first attempt
}

func (l *loseFirst) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if !l.methods[method] {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	id := req.(interface{ GetRequestId() string }).GetRequestId()
	err := invoker(ctx, method, req, reply, cc, opts...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ids[method] = append(l.ids[method], id)
	if len(l.ids[method]) == 1 && err == nil {
		l.first[method] = reply
		return status.Error(codes.Unavailable, "test: answer lost after the call was applied")
	}
	return err
}

func (l *loseFirst) attempts(method string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ids[method]...)
}

// countSignals counts "go" signals until an "end" signal, then returns the
// count (a duplicated "go" would land before "end").
func countSignals(ctx workflow.Context, _ string) (int, error) {
	n := 0
	goCh, endCh := workflow.GetSignalChannel(ctx, "go"), workflow.GetSignalChannel(ctx, "end")
	for ended := false; !ended; {
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(goCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); n++ })
		sel.AddReceive(endCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); ended = true })
		sel.Select(ctx)
	}
	for goCh.ReceiveAsync(nil) {
		n++
	}
	return n, nil
}

// TestRetryIsIdempotent: a start and a signal whose first attempt was
// applied but whose answer was lost are retried with the same request ID,
// and the engine applies them once. The start's request ID is the SDK's;
// the signal is a raw WorkflowService call without one, which Dial's
// client fills in before the first attempt.
func TestRetryIsIdempotent(t *testing.T) {
	srv := enginetest.Start(t)
	const (
		start  = "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution"
		signal = "/temporal.api.workflowservice.v1.WorkflowService/SignalWorkflowExecution"
	)
	lose := &loseFirst{methods: map[string]bool{start: true, signal: true}, ids: map[string][]string{}, first: map[string]any{}}
	ctx := testutil.Context(t, 60*time.Second)
	c, err := sdk.Dial(ctx, sdk.Options{
		Endpoints: srv.Endpoints(), Logger: quiet(),
		Client: client.Options{ConnectionOptions: client.ConnectionOptions{
			DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(lose.intercept)},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tq := testutil.TaskQueue(t)
	testutil.StartWorker(t, c, tq, func(r worker.Registry) { r.RegisterWorkflow(countSignals) })

	run, err := sdk.ExecuteWorkflow(ctx, c, client.StartWorkflowOptions{ID: "idempotent", TaskQueue: tq}, countSignals, "")
	if err != nil {
		t.Fatal(err)
	}
	ids := lose.attempts(start)
	if len(ids) != 2 || ids[0] == "" || ids[1] != ids[0] {
		t.Fatalf("start attempts carried request ids %q, want two equal non-empty ones", ids)
	}
	if first := lose.first[start].(*workflowservice.StartWorkflowExecutionResponse); first.RunId != run.RunID() {
		t.Fatalf("retried start answered run %s, the applied one was %s", run.RunID(), first.RunId)
	}

	_, err = c.WorkflowService().SignalWorkflowExecution(ctx, &workflowservice.SignalWorkflowExecutionRequest{
		Namespace: sdk.DefaultNamespace, WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: run.ID()},
		SignalName: "go", Identity: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	ids = lose.attempts(signal)
	if len(ids) != 2 || ids[0] == "" || ids[1] != ids[0] {
		t.Fatalf("signal attempts carried request ids %q, want two equal non-empty ones", ids)
	}
	if err := c.SignalWorkflow(ctx, run.ID(), "", "end", nil); err != nil {
		t.Fatal(err)
	}
	n, err := run.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("the workflow received %d \"go\" signals, want 1 (a retry was applied twice)", n)
	}
}

// TestSDKReusesRequestIDs checks what Dial's retry relies on: the official
// SDK, on its own (client.Dial, no sdk package), sets a request ID on
// starts and signals and keeps it across its own retries. The first
// attempt of each is refused with Unavailable before reaching the engine.
func TestSDKReusesRequestIDs(t *testing.T) {
	srv := enginetest.Start(t)
	const (
		start  = "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution"
		signal = "/temporal.api.workflowservice.v1.WorkflowService/SignalWorkflowExecution"
	)
	var mu sync.Mutex
	ids := map[string][]string{}
	refuseFirst := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if method == start || method == signal {
			mu.Lock()
			ids[method] = append(ids[method], req.(interface{ GetRequestId() string }).GetRequestId())
			first := len(ids[method]) == 1
			mu.Unlock()
			if first {
				return status.Error(codes.Unavailable, "test: refused")
			}
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	c, err := client.Dial(client.Options{
		HostPort: srv.Addr(), Logger: sdklog.NewStructuredLogger(quiet()),
		ConnectionOptions: client.ConnectionOptions{DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(refuseFirst)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := testutil.Context(t, 30*time.Second)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "sdk-ids", TaskQueue: testutil.TaskQueue(t)}, countSignals, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SignalWorkflow(ctx, run.GetID(), "", "go", nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, m := range []string{start, signal} {
		got := ids[m]
		if len(got) != 2 || got[0] == "" || got[1] != got[0] {
			t.Errorf("%s: request ids per attempt %q, want two equal non-empty ones", m, got)
		}
	}
	if err := c.TerminateWorkflow(ctx, run.GetID(), "", "done"); err != nil {
		t.Fatal(err)
	}
}

// deadAddr is a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestDialSkipsDeadEndpoint: a client given a dead endpoint first works
// through the live one; with no live endpoint, Dial fails within its ctx.
func TestDialSkipsDeadEndpoint(t *testing.T) {
	srv := enginetest.Start(t)
	ctx := testutil.Context(t, 30*time.Second)
	c, err := sdk.Dial(ctx, sdk.Options{Endpoints: []string{deadAddr(t), srv.Addr()}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 5 { // round robin would have tried the dead node by now
		if _, err := c.WorkflowService().GetSystemInfo(ctx, &workflowservice.GetSystemInfoRequest{}); err != nil {
			t.Fatal(err)
		}
	}

	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if c, err := sdk.Dial(short, sdk.Options{Endpoints: []string{deadAddr(t)}, Logger: quiet()}); err == nil {
		c.Close()
		t.Fatal("Dial succeeded with no live endpoint")
	}
}
