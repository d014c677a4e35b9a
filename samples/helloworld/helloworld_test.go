package helloworld_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/raftflow/engine/samples/helloworld"
	"github.com/raftflow/engine/sdk/enginetest"
)

// TestHelloWorld does what the sample's README does, against an in-process
// engine and with the official SDK only: the worker of
// samples/helloworld/worker and the starter of samples/helloworld/starter,
// each with its own client.Dial to the engine's address.
func TestHelloWorld(t *testing.T) {
	srv := enginetest.Start(t)
	dial := func() client.Client {
		c, err := client.Dial(client.Options{
			HostPort: srv.Addr(),
			Logger:   sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		})
		if err != nil {
			t.Fatal("Unable to create client", err)
		}
		t.Cleanup(c.Close)
		return c
	}

	w := worker.New(dial(), helloworld.TaskQueue, worker.Options{})
	w.RegisterWorkflow(helloworld.Workflow)
	w.RegisterActivity(helloworld.Activity)
	if err := w.Start(); err != nil {
		t.Fatal("Unable to start worker", err)
	}
	t.Cleanup(w.Stop)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := dial()
	options := client.StartWorkflowOptions{ID: "hello_world_workflowID", TaskQueue: helloworld.TaskQueue}
	we, err := c.ExecuteWorkflow(ctx, options, helloworld.Workflow, "Temporal")
	if err != nil {
		t.Fatal("Unable to execute workflow", err)
	}
	var result string
	if err := we.Get(ctx, &result); err != nil {
		t.Fatal("Unable get workflow result", err)
	}
	if result != "Hello Temporal!" {
		t.Fatalf("Workflow result: %q, want %q", result, "Hello Temporal!")
	}
}
