package compat

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/raftflow/engine/internal/server"
)

// verbose turns engine and SDK logs on (to stderr): RAFTFLOW_COMPAT_VERBOSE=1.
// RAFTFLOW_COMPAT_DUMP=1 logs every history checkHistory looks at.
var verbose = os.Getenv("RAFTFLOW_COMPAT_VERBOSE") != ""

func logger() *slog.Logger {
	if verbose {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// engine is one in-process raftflow node whose addresses survive a restart.
type engine struct {
	cfg server.Config
	srv *server.Server
}

// startEngine starts a one-node engine with its data in a fresh t.TempDir()
// and waits until it is ready. It is closed when t ends.
func startEngine(t testing.TB) *engine {
	t.Helper()
	e := &engine{cfg: server.Config{
		NodeID: "n1", DataDir: t.TempDir(),
		GRPCAddr: "127.0.0.1:0", RaftAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		HeartbeatTimeout: 200 * time.Millisecond, ElectionTimeout: 200 * time.Millisecond,
		LeaderLeaseTimeout: 100 * time.Millisecond,
		Logger:             logger(),
	}}
	e.start(t)
	// Pin the addresses the OS chose, so a restart binds and advertises the
	// same ones (raft's configuration stores the advertised raft address, and
	// connected SDK clients redial the same gRPC address).
	e.cfg.GRPCAddr, e.cfg.RaftAddr, e.cfg.HTTPAddr = e.srv.GRPCAddr(), e.srv.RaftAddr(), e.srv.HTTPAddr()
	t.Cleanup(func() { e.srv.Close() })
	return e
}

func (e *engine) start(t testing.TB) {
	t.Helper()
	srv, err := server.Start(e.cfg)
	if err != nil {
		t.Fatalf("start engine: %v", err)
	}
	e.srv = srv
	eventually(t, 20*time.Second, "engine ready", func() (bool, string) { return srv.Ready() })
}

// restart closes the node and starts it again on the same data directory
// and addresses.
func (e *engine) restart(t testing.TB) {
	t.Helper()
	if err := e.srv.Close(); err != nil {
		t.Fatalf("close engine: %v", err)
	}
	e.start(t)
}

func (e *engine) addr() string { return e.srv.GRPCAddr() }

// dial connects an official SDK client; closed when t ends.
func dial(t testing.TB, hostPort string) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: hostPort, Logger: sdklog.NewStructuredLogger(logger())})
	if err != nil {
		t.Fatalf("dial %s: %v", hostPort, err)
	}
	t.Cleanup(c.Close)
	return c
}

var queueSeq atomic.Int64

// taskQueue returns a task queue name unique to this test run.
func taskQueue(t testing.TB) string {
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	return fmt.Sprintf("compat-%s-%d", name, queueSeq.Add(1))
}

// startWorker registers workflows and the named activities on tq and starts
// an official SDK worker. It is stopped when t ends; stop it earlier with
// the returned function (safe to call twice).
func startWorker(t testing.TB, c client.Client, tq string, workflows []any, activities map[string]any) (stop func()) {
	t.Helper()
	return startNamedWorker(t, c, tq, "", workflows, activities)
}

// startNamedWorker is startWorker with the worker identity the engine
// records in history (the SDK's default when empty).
func startNamedWorker(t testing.TB, c client.Client, tq, identity string, workflows []any, activities map[string]any) (stop func()) {
	t.Helper()
	w := worker.New(c, tq, worker.Options{Identity: identity})
	for _, wf := range workflows {
		w.RegisterWorkflow(wf)
	}
	for name, fn := range activities {
		w.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	if err := w.Start(); err != nil {
		t.Fatalf("start worker on %s: %v", tq, err)
	}
	var once sync.Once
	stop = func() { once.Do(w.Stop) }
	t.Cleanup(stop)
	return stop
}

// released returns a channel closed when t ends, before the workers started
// earlier are stopped: activities that block on purpose also wait on it, so
// no activity outlives its test.
func released(t testing.TB) <-chan struct{} {
	ch := make(chan struct{})
	t.Cleanup(func() { close(ch) })
	return ch
}

// ctxFor returns a context bounded by d and by the test's own deadline.
func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds or timeout passes (then fails the
// test with cond's last explanation).
func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %s", timeout, what, why)
		}
		<-tick.C
	}
}

// history reads a run's whole history through the SDK client.
func history(t testing.TB, c client.Client, wfID, runID string) *historypb.History {
	t.Helper()
	it := c.GetWorkflowHistory(ctxFor(t, 10*time.Second), wfID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("read history of %s: %v", wfID, err)
		}
		h.Events = append(h.Events, ev)
	}
	return h
}

func eventTypes(h *historypb.History) []enumspb.EventType {
	out := make([]enumspb.EventType, len(h.Events))
	for i, ev := range h.Events {
		out[i] = ev.EventType
	}
	return out
}

func eventsOf(h *historypb.History, typ enumspb.EventType) []*historypb.HistoryEvent {
	var out []*historypb.HistoryEvent
	for _, ev := range h.Events {
		if ev.EventType == typ {
			out = append(out, ev)
		}
	}
	return out
}

// checkHistory asserts what every history must satisfy: dense event ids from
// 1, and no failed or timed-out workflow task (which would mean the SDK
// rejected what the engine sent, e.g. a non-determinism error, or a task was
// stranded). Event times are not checked for order: as in Temporal, buffered
// events keep the time they arrived and ActivityTaskStarted carries the
// attempt's start time, both earlier than events written before them.
func checkHistory(t testing.TB, h *historypb.History) {
	t.Helper()
	if os.Getenv("RAFTFLOW_COMPAT_DUMP") != "" {
		for _, ev := range h.Events {
			t.Logf("%3d %s %s %v", ev.EventId, ev.EventTime.AsTime().Format("15:04:05.000000"), ev.EventType, ev.Attributes)
		}
	}
	for i, ev := range h.Events {
		if ev.EventId != int64(i+1) {
			t.Errorf("event %d has id %d (ids must be dense from 1)", i, ev.EventId)
		}
		switch ev.EventType {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED:
			t.Errorf("event %d: WorkflowTaskFailed: %v", ev.EventId, ev.GetWorkflowTaskFailedEventAttributes())
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
			t.Errorf("event %d: WorkflowTaskTimedOut: %v", ev.EventId, ev.GetWorkflowTaskTimedOutEventAttributes())
		}
	}
}

// replay replays a closed run's history with the SDK's WorkflowReplayer,
// which fails on any mismatch between the history and the workflow code.
func replay(t testing.TB, c client.Client, wfID, runID string, workflows ...any) {
	t.Helper()
	h := history(t, c, wfID, runID)
	r := worker.NewWorkflowReplayer()
	for _, wf := range workflows {
		r.RegisterWorkflow(wf)
	}
	if err := r.ReplayWorkflowHistory(sdklog.NewStructuredLogger(logger()), h); err != nil {
		t.Fatalf("replay %s: %v\nhistory: %v", wfID, err, eventTypes(h))
	}
}
