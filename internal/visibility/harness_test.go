// Package visibility tests, with the official Temporal Go SDK against an
// in-process engine, what issue 3 asks of visibility, namespaces and limits:
// list/count/scan queries, namespace isolation, retention, deletion, cron,
// start delays and the payload limit.
package visibility

import (
	"context"
	"fmt"
	"log/slog"
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

// minRetention is the engine's shortest namespace retention in these tests
// (Temporal's API minimum is a day).
const minRetention = 500 * time.Millisecond

// startEngine runs a one-node engine for the test and returns its address.
func startEngine(t *testing.T) string {
	t.Helper()
	srv, err := server.Start(server.Config{
		NodeID: "n1", DataDir: t.TempDir(),
		GRPCAddr: "127.0.0.1:0", RaftAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		HeartbeatTimeout: 100 * time.Millisecond, ElectionTimeout: 100 * time.Millisecond,
		LeaderLeaseTimeout: 50 * time.Millisecond, MinNamespaceRetention: minRetention,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	eventually(t, 10*time.Second, "engine ready", func() (bool, string) { return srv.Ready() })
	return srv.GRPCAddr()
}

// dial connects a client to namespace ns ("" = default).
func dial(t *testing.T, addr, ns string) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: addr, Namespace: ns, Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

var queueSeq atomic.Int64

// startWorker runs a worker on a fresh task queue.
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

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v: %s", what, d, why)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, with a deadline
	}
}
