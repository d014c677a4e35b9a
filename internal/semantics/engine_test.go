// Package semantics tests Temporal workflow semantics beyond the core
// (queries, child workflows, continue-as-new, cancellation, signal-with-start,
// workflow retries) with the official Go SDK against an in-process engine.
package semantics

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/raftflow/engine/internal/server"
)

type quietLogger struct{}

func (quietLogger) Debug(string, ...interface{}) {}
func (quietLogger) Info(string, ...interface{})  {}
func (quietLogger) Warn(string, ...interface{})  {}
func (quietLogger) Error(string, ...interface{}) {}

// startEngine runs a one-node engine for the test and returns a client.
func startEngine(t *testing.T) client.Client {
	t.Helper()
	srv, err := server.Start(server.Config{
		NodeID: "n1", DataDir: t.TempDir(),
		GRPCAddr: "127.0.0.1:0", RaftAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		HeartbeatTimeout: 100 * time.Millisecond, ElectionTimeout: 100 * time.Millisecond,
		LeaderLeaseTimeout: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for ok, why := srv.Ready(); !ok; ok, why = srv.Ready() {
		if time.Now().After(deadline) {
			t.Fatalf("engine not ready: %s", why)
		}
		time.Sleep(5 * time.Millisecond) // polling readiness
	}
	c, err := client.Dial(client.Options{HostPort: srv.GRPCAddr(), Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

var queueSeq atomic.Int64

// startWorker runs a worker on a fresh task queue with the given workflows
// and activities registered.
func startWorker(t *testing.T, c client.Client, register func(w worker.Worker)) string {
	t.Helper()
	tq := fmt.Sprintf("%s-%d", t.Name(), queueSeq.Add(1))
	w := worker.New(c, tq, worker.Options{})
	register(w)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return tq
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
