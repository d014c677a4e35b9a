package enginetest_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/raftflow/engine/internal/testutil"
	"github.com/raftflow/engine/sdk"
	"github.com/raftflow/engine/sdk/enginetest"
)

func hello(ctx workflow.Context, name string) (string, error) { return "hello " + name, nil }

func run(t *testing.T, ctx context.Context, c client.Client, tq, id string) {
	t.Helper()
	r, err := sdk.ExecuteWorkflow(ctx, c, client.StartWorkflowOptions{ID: id, TaskQueue: tq}, hello, id)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Get(ctx)
	if err != nil || got != "hello "+id {
		t.Fatalf("%s: %q, %v", id, got, err)
	}
}

func startWorker(t *testing.T, c client.Client, tq string) {
	t.Helper()
	testutil.StartWorker(t, c, tq, func(r worker.Registry) { r.RegisterWorkflow(hello) })
}

// TestRestart: a workflow run before a restart (graceful or after a kill)
// is still there after it, and new ones run, through the same client.
func TestRestart(t *testing.T) {
	srv := enginetest.Start(t)
	if srv.Nodes() != 1 || len(srv.Endpoints()) != 1 || srv.Endpoints()[0] != srv.Addr() || srv.Leader() != 0 {
		t.Fatalf("nodes %d endpoints %q addr %s", srv.Nodes(), srv.Endpoints(), srv.Addr())
	}
	c := srv.Client()
	startWorker(t, c, "restart")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run(t, ctx, c, "restart", "before")
	addr := srv.Addr()

	srv.Restart(0) // running: stopped gracefully first
	run(t, ctx, c, "restart", "after-restart")
	srv.Kill(0)
	if srv.Alive(0) {
		t.Fatal("killed node alive")
	}
	srv.Restart(0)
	run(t, ctx, c, "restart", "after-kill")
	if srv.Addr() != addr {
		t.Fatalf("address changed across restarts: %s, then %s", addr, srv.Addr())
	}
	d, err := c.DescribeWorkflowExecution(ctx, "before", "")
	if err != nil || d.GetWorkflowExecutionInfo().GetCloseTime() == nil {
		t.Fatalf("the first workflow after two restarts: %v, %v", d, err)
	}
}

// TestPartition: with the leader of three nodes cut off, the other two
// elect a new one and a client of all three nodes keeps working; after the
// heal the cluster is whole again.
func TestPartition(t *testing.T) {
	if testing.Short() {
		t.Skip("three nodes")
	}
	srv := enginetest.Start(t, enginetest.Nodes(3))
	c := srv.Client()
	startWorker(t, c, "partition")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run(t, ctx, c, "partition", "whole")

	old := srv.Leader()
	srv.Partition(old)
	if p := srv.Partitioned(); len(p) != 1 || p[0] != old {
		t.Fatalf("partitioned %v", p)
	}
	if l := srv.Leader(); l == old {
		t.Fatalf("node %d still leads while cut off", old)
	}
	run(t, ctx, c, "partition", "split")
	srv.Heal()
	if err := srv.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if len(srv.Partitioned()) != 0 {
		t.Fatal("still partitioned after Heal")
	}
	run(t, ctx, c, "partition", "healed")
}

// TestStartServer: outside a test the engine serves until Close; a
// failure to start is an error, and a failing method panics.
func TestStartServer(t *testing.T) {
	srv, err := enginetest.StartServer()
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + srv.HTTPAddr(0) + "/readyz"
	resp, err := http.Get(url)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	resp.Body.Close()
	srv.Close()
	srv.Close() // a second Close does nothing
	if _, err := http.Get(url); err == nil {
		t.Fatal("engine still serves after Close")
	}

	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("Kill of a stopped node did not panic")
			}
		}()
		srv.Kill(0)
	}()

	if _, err := enginetest.StartServer(enginetest.WaitTimeout(time.Nanosecond)); err == nil {
		t.Fatal("StartServer with no time to get ready succeeded")
	} else {
		t.Logf("as expected: %v", err)
	}
}

// StartServer starts an engine outside a test, here for an example;
// in a test, use Start(t).
func ExampleStartServer() {
	srv, err := enginetest.StartServer()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx := context.Background()
	c, err := client.Dial(client.Options{ // the official SDK's client works as is
		HostPort: srv.Addr(),
		Logger:   slogLogger(),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	w := worker.New(c, "hello", worker.Options{})
	w.RegisterWorkflow(hello)
	if err := w.Start(); err != nil {
		log.Fatal(err)
	}
	defer w.Stop()
	r, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "example", TaskQueue: "hello"}, hello, "engine")
	if err != nil {
		log.Fatal(err)
	}
	var got string
	if err := r.Get(ctx, &got); err != nil {
		log.Fatal(err)
	}
	fmt.Println(got)
	// Output: hello engine
}

func slogLogger() sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}
