package sdk_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/raftflow/engine/sdk/enginetest"
)

var queueSeq atomic.Int64

// taskQueue is a task queue name unique to the test.
func taskQueue(t testing.TB) string {
	return fmt.Sprintf("%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), queueSeq.Add(1))
}

// startWorker starts a worker on tq with what register registers; it is
// stopped when t ends.
func startWorker(t testing.TB, c client.Client, tq string, register func(worker.Registry)) {
	t.Helper()
	w := worker.New(c, tq, worker.Options{})
	register(w)
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(w.Stop)
}

// ctxFor is a context bounded by d, cancelled when t ends.
func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond every 10 ms until it holds, failing t after timeout.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

// engineClient starts a one-node engine for t and returns a client of it.
func engineClient(t testing.TB) client.Client {
	t.Helper()
	return enginetest.Start(t).Client()
}
