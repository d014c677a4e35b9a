// Package testutil holds the helpers every raftflow test tier shares:
// polling waits with a deadline (never a fixed sleep), contexts bounded by
// the test, unique task queue names, and an official Temporal SDK worker
// that lives as long as the test.
//
// The waits and StartWorker fail the test through t.Fatalf, so call them
// from the test's goroutine. Nothing here starts an engine: that is
// sdk/enginetest (in-process) and internal/testutil/enginebin (the binary).
package testutil

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

// PollInterval is how often the waits check their condition.
const PollInterval = 10 * time.Millisecond

// Eventually checks cond every PollInterval until it holds; after timeout
// it fails t with what and cond's last explanation.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (ok bool, why string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if why, ok := poll(ctx, cond); !ok {
		if why != "" {
			why = ": " + why
		}
		t.Fatalf("timed out after %v waiting for %s%s", timeout, what, why)
	}
}

// EventuallyTrue is Eventually for a condition with no explanation.
func EventuallyTrue(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	Eventually(t, timeout, what, func() (bool, string) { return cond(), "" })
}

// Poll checks cond every PollInterval until it holds (nil) or ctx ends
// (an error carrying ctx's error and cond's last explanation). It does not
// touch a test, so any goroutine may call it.
func Poll(ctx context.Context, what string, cond func() (ok bool, why string)) error {
	if why, ok := poll(ctx, cond); !ok {
		return fmt.Errorf("waiting for %s: %w (last: %s)", what, ctx.Err(), why)
	}
	return nil
}

func poll(ctx context.Context, cond func() (bool, string)) (why string, ok bool) {
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	for {
		ok, why := cond()
		if ok {
			return "", true
		}
		select {
		case <-ctx.Done():
			return why, false
		case <-tick.C:
		}
	}
}

// Context returns a context that ends after d or when t ends.
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

var queueSeq atomic.Int64

// TaskQueue returns a task queue name unique in the test binary, made of
// t's name (slashes and spaces replaced) and a sequence number.
func TaskQueue(t testing.TB) string {
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	return fmt.Sprintf("%s-%d", name, queueSeq.Add(1))
}

// WorkerOption adjusts the worker.Options of StartWorker.
type WorkerOption func(*worker.Options)

// Identity sets the worker identity the engine records in history (the
// SDK's default otherwise).
func Identity(id string) WorkerOption { return func(o *worker.Options) { o.Identity = id } }

// WithWorkerOptions replaces the worker.Options wholesale.
func WithWorkerOptions(wo worker.Options) WorkerOption {
	return func(o *worker.Options) { *o = wo }
}

// StartWorker starts an official SDK worker polling tq through c, with
// what register registers (workflows, activities). It stops when t ends:
// cleanups run newest first, so before the client and engine the test
// started earlier. The returned stop stops it sooner; calling it again
// does nothing.
func StartWorker(t testing.TB, c client.Client, tq string, register func(worker.Registry), opts ...WorkerOption) (stop func()) {
	t.Helper()
	var wo worker.Options
	for _, o := range opts {
		o(&wo)
	}
	w := worker.New(c, tq, wo)
	if register != nil {
		register(w)
	}
	if err := w.Start(); err != nil {
		t.Fatalf("start worker on %s: %v", tq, err)
	}
	var once sync.Once
	stop = func() { once.Do(w.Stop) }
	t.Cleanup(stop)
	return stop
}
