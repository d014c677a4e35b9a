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

	"github.com/raftflow/engine/sdk/enginetest"
)

// startEngine runs a one-node engine for the test (sdk/enginetest) and
// returns a client of it.
func startEngine(t *testing.T) client.Client {
	t.Helper()
	return enginetest.Start(t).Client()
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
