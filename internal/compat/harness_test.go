package compat

import (
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/raftflow/engine/internal/testutil"
	"github.com/raftflow/engine/sdk/enginetest"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
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

// startEngine starts a one-node engine for the test through sdk/enginetest
// (data in t.TempDir(), ports chosen by the OS) and waits until it is
// ready; it is closed when t ends, and Restart(0) restarts it on the same
// data and address. With RAFTFLOW_COMPAT_VERBOSE set the engine logs to
// stderr; otherwise its log is printed if the test fails.
func startEngine(t testing.TB, opts ...enginetest.Option) *enginetest.Server {
	t.Helper()
	if verbose {
		opts = append([]enginetest.Option{enginetest.Logger(logger())}, opts...)
	}
	return enginetest.Start(t, opts...)
}

// dial connects an official SDK client (client.Dial, not sdk.Dial: the
// unmodified SDK is the oracle) to namespace "default"; closed when t ends.
func dial(t testing.TB, hostPort string) client.Client {
	t.Helper()
	return dialNamespace(t, hostPort, "")
}

// dialNamespace is dial for namespace ns ("" is "default").
func dialNamespace(t testing.TB, hostPort, ns string) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: hostPort, Namespace: ns, Logger: sdklog.NewStructuredLogger(logger())})
	if err != nil {
		t.Fatalf("dial %s: %v", hostPort, err)
	}
	t.Cleanup(c.Close)
	return c
}

// dialNamespaceClient connects an official SDK namespace client; closed
// when t ends.
func dialNamespaceClient(t testing.TB, hostPort string) client.NamespaceClient {
	t.Helper()
	nsc, err := client.NewNamespaceClient(client.Options{HostPort: hostPort, Logger: sdklog.NewStructuredLogger(logger())})
	if err != nil {
		t.Fatalf("dial namespace client %s: %v", hostPort, err)
	}
	t.Cleanup(nsc.Close)
	return nsc
}

// taskQueue returns a task queue name unique to this test run.
func taskQueue(t testing.TB) string { return "compat-" + testutil.TaskQueue(t) }

// startWorker registers workflows and the named activities on tq and starts
// an official SDK worker (testutil.StartWorker). It is stopped when t ends;
// stop it earlier with the returned function (safe to call twice).
func startWorker(t testing.TB, c client.Client, tq string, workflows []any, activities map[string]any) (stop func()) {
	t.Helper()
	return startNamedWorker(t, c, tq, "", workflows, activities)
}

// startNamedWorker is startWorker with the worker identity the engine
// records in history (the SDK's default when empty).
func startNamedWorker(t testing.TB, c client.Client, tq, identity string, workflows []any, activities map[string]any) (stop func()) {
	t.Helper()
	return testutil.StartWorker(t, c, tq, func(r worker.Registry) {
		for _, wf := range workflows {
			r.RegisterWorkflow(wf)
		}
		for name, fn := range activities {
			r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
		}
	}, testutil.Identity(identity))
}

// startQueueWorker starts a worker with what register registers on a fresh
// task queue, and returns the queue.
func startQueueWorker(t testing.TB, c client.Client, register func(worker.Registry)) string {
	t.Helper()
	tq := testutil.TaskQueue(t)
	testutil.StartWorker(t, c, tq, register)
	return tq
}

// released returns a channel closed when t ends, before the workers started
// earlier are stopped: activities that block on purpose also wait on it, so
// no activity outlives its test.
func released(t testing.TB) <-chan struct{} {
	ch := make(chan struct{})
	t.Cleanup(func() { close(ch) })
	return ch
}

// history reads a run's whole history through the SDK client.
func history(t testing.TB, c client.Client, wfID, runID string) *historypb.History {
	t.Helper()
	it := c.GetWorkflowHistory(testutil.Context(t, 10*time.Second), wfID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
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
