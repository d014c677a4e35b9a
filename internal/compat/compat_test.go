package compat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"

	"github.com/raftflow/engine/internal/testutil"
)

// TestCompat runs the suite's independent tests in parallel against one
// shared engine; each uses its own task queue and workflow ids.
func TestCompat(t *testing.T) {
	e := startEngine(t)
	c := dial(t, e.Addr())
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, client.Client)
	}{
		{"HelloWorld", testHelloWorld},
		{"EagerStart", testEagerStart},
		{"ActivityRetryBackoff", testActivityRetryBackoff},
		{"NonRetryableFailure", testNonRetryableFailure},
		{"ActivityTimeouts", testActivityTimeouts},
		{"Timer", testTimer},
		{"CancelTimer", testCancelTimer},
		{"Signals", testSignals},
		{"SignalDuringActivity", testSignalDuringActivity},
		{"Terminate", testTerminate},
		{"DescribePendingActivity", testDescribePendingActivity},
		{"DuplicateWorkflowID", testDuplicateWorkflowID},
		{"WorkerRestart", testWorkerRestart},
		{"BadInput", testBadInput},
		{"LongLocalActivity", testLongLocalActivity},
		{"RootAndDescribe", testRootAndDescribe},
		{"UserMetadata", testUserMetadata},
		{"ConsistentQuery", testConsistentQuery},
		{"LargeQueryResult", testLargeQueryResult},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, c)
		})
	}
}

func start(t *testing.T, c client.Client, tq, id string, wf any, args ...any) client.WorkflowRun {
	t.Helper()
	run, err := c.ExecuteWorkflow(testutil.Context(t, 10*time.Second), client.StartWorkflowOptions{ID: id, TaskQueue: tq}, wf, args...)
	if err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
	return run
}

func describe(t *testing.T, c client.Client, id, runID string) *workflowservice.DescribeWorkflowExecutionResponse {
	t.Helper()
	d, err := c.DescribeWorkflowExecution(testutil.Context(t, 10*time.Second), id, runID)
	if err != nil {
		t.Fatalf("describe %s: %v", id, err)
	}
	return d
}

// 1. Hello world: one workflow, one activity, and exactly Temporal's history.
func testHelloWorld(t *testing.T, c client.Client) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{HelloWorkflow}, map[string]any{
		"Greet": func(ctx context.Context, name string) (string, error) { return "Hello " + name + "!", nil },
	})
	run := start(t, c, tq, tq+"-wf", HelloWorkflow, "Temporal")
	var got string
	if err := run.Get(testutil.Context(t, 30*time.Second), &got); err != nil {
		t.Fatalf("result: %v", err)
	}
	if got != "Hello Temporal!" {
		t.Fatalf("result %q, want %q", got, "Hello Temporal!")
	}
	h := history(t, c, run.GetID(), run.GetRunID())
	checkHistory(t, h)
	want := []enumspb.EventType{
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
		enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
		enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED,
		enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
	}
	if got := eventTypes(h); !slices.Equal(got, want) {
		t.Errorf("history\n got %v\nwant %v", got, want)
	}
	d := describe(t, c, run.GetID(), run.GetRunID())
	info := d.WorkflowExecutionInfo
	if info.Status != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED || info.CloseTime == nil || info.Type.GetName() != "HelloWorkflow" {
		t.Errorf("describe: status %v, close time %v, type %q", info.Status, info.CloseTime, info.Type.GetName())
	}
	if info.HistoryLength != int64(len(h.Events)) {
		t.Errorf("describe: history length %d, history has %d events", info.HistoryLength, len(h.Events))
	}
	t.Run("Replay", func(t *testing.T) { replay(t, c, run.GetID(), run.GetRunID(), HelloWorkflow) })
}

// Eager workflow start: a worker on the starting client gets the first
// workflow task in the start's answer (the SDK's EnableEagerStart), so the
// first WorkflowTaskStarted carries the engine's eager request id and no poll
// was needed.
func testEagerStart(t *testing.T, c client.Client) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{HelloWorkflow}, map[string]any{
		"Greet": func(ctx context.Context, name string) (string, error) { return "Hello " + name + "!", nil },
	})
	run, err := c.ExecuteWorkflow(testutil.Context(t, 10*time.Second),
		client.StartWorkflowOptions{ID: tq + "-wf", TaskQueue: tq, EnableEagerStart: true}, HelloWorkflow, "eager")
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	var got string
	if err := run.Get(testutil.Context(t, 30*time.Second), &got); err != nil || got != "Hello eager!" {
		t.Fatalf("result %q, %v", got, err)
	}
	h := history(t, c, run.GetID(), run.GetRunID())
	checkHistory(t, h)
	first := h.Events[2].GetWorkflowTaskStartedEventAttributes()
	if first == nil || !strings.HasPrefix(first.GetRequestId(), "eager-") {
		t.Fatalf("first workflow task was not started eagerly: %v", h.Events[2])
	}
	t.Run("Replay", func(t *testing.T) { replay(t, c, run.GetID(), run.GetRunID(), HelloWorkflow) })
}

// 5. A durable timer never fires early, by workflow time and by the event
// times the engine writes.
func testTimer(t *testing.T, c client.Client) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{SleepWorkflow}, nil)
	const d = time.Second
	began := time.Now()
	run := start(t, c, tq, tq+"-wf", SleepWorkflow, d)
	var slept time.Duration
	if err := run.Get(testutil.Context(t, 30*time.Second), &slept); err != nil {
		t.Fatalf("result: %v", err)
	}
	if wall := time.Since(began); wall < d {
		t.Errorf("workflow finished %v after start, before its %v timer", wall, d)
	}
	if slept < d {
		t.Errorf("workflow.Now advanced %v across a %v sleep", slept, d)
	}
	h := history(t, c, run.GetID(), run.GetRunID())
	checkHistory(t, h)
	started := eventsOf(h, enumspb.EVENT_TYPE_TIMER_STARTED)
	fired := eventsOf(h, enumspb.EVENT_TYPE_TIMER_FIRED)
	if len(started) != 1 || len(fired) != 1 {
		t.Fatalf("want one TimerStarted and one TimerFired: %v", eventTypes(h))
	}
	sa, fa := started[0].GetTimerStartedEventAttributes(), fired[0].GetTimerFiredEventAttributes()
	if sa.StartToFireTimeout.AsDuration() != d {
		t.Errorf("TimerStarted start_to_fire_timeout %v, want %v", sa.StartToFireTimeout.AsDuration(), d)
	}
	if fa.TimerId != sa.TimerId || fa.StartedEventId != started[0].EventId {
		t.Errorf("TimerFired names timer %q started by event %d, want %q and %d", fa.TimerId, fa.StartedEventId, sa.TimerId, started[0].EventId)
	}
	if gap := fired[0].EventTime.AsTime().Sub(started[0].EventTime.AsTime()); gap < d {
		t.Errorf("TimerFired %v after TimerStarted, before the %v timeout", gap, d)
	}
	t.Run("Replay", func(t *testing.T) { replay(t, c, run.GetID(), run.GetRunID(), SleepWorkflow) })
}

// 5b. Cancelling a started timer writes TimerCanceled.
func testCancelTimer(t *testing.T, c client.Client) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{CancelTimerWorkflow}, nil)
	run := start(t, c, tq, tq+"-wf", CancelTimerWorkflow)
	var got string
	if err := run.Get(testutil.Context(t, 30*time.Second), &got); err != nil {
		t.Fatalf("result: %v", err)
	}
	if got != "canceled" {
		t.Fatalf("result %q, want canceled", got)
	}
	h := history(t, c, run.GetID(), run.GetRunID())
	checkHistory(t, h)
	var long int64
	for _, ev := range eventsOf(h, enumspb.EVENT_TYPE_TIMER_STARTED) {
		if ev.GetTimerStartedEventAttributes().StartToFireTimeout.AsDuration() == time.Hour {
			long = ev.EventId
		}
	}
	canceled := eventsOf(h, enumspb.EVENT_TYPE_TIMER_CANCELED)
	if long == 0 || len(canceled) != 1 {
		t.Fatalf("want the hour timer started and one TimerCanceled: %v", eventTypes(h))
	}
	if id := canceled[0].GetTimerCanceledEventAttributes().StartedEventId; id != long {
		t.Errorf("TimerCanceled names started event %d, want %d", id, long)
	}
	if n := len(eventsOf(h, enumspb.EVENT_TYPE_TIMER_FIRED)); n != 1 {
		t.Errorf("%d TimerFired events, want 1 (the short timer only)", n)
	}
	t.Run("Replay", func(t *testing.T) { replay(t, c, run.GetID(), run.GetRunID(), CancelTimerWorkflow) })
}

func signal(t *testing.T, c client.Client, id, name string, arg any) {
	t.Helper()
	if err := c.SignalWorkflow(testutil.Context(t, 10*time.Second), id, "", name, arg); err != nil {
		t.Fatalf("signal %s: %v", id, err)
	}
}

// 6. Signals arrive in the order they were sent.
func testSignals(t *testing.T, c client.Client) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{SignalsWorkflow}, nil)
	run := start(t, c, tq, tq+"-wf", SignalsWorkflow, 3)
	want := []string{"one", "two", "three"}
	for _, s := range want {
		signal(t, c, run.GetID(), "sig", s)
	}
	var got []string
	if err := run.Get(testutil.Context(t, 30*time.Second), &got); err != nil {
		t.Fatalf("result: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("result %q, want %q", got, want)
	}
	h := history(t, c, run.GetID(), run.GetRunID())
	checkHistory(t, h)
	if n := len(eventsOf(h, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)); n != 3 {
		t.Errorf("%d WorkflowExecutionSignaled events, want 3", n)
	}
	t.Run("Replay", func(t *testing.T) { replay(t, c, run.GetID(), run.GetRunID(), SignalsWorkflow) })
}

// stepActivity is ActivityThenSignalWorkflow's "Step": it counts calls,
// reports each start on started (if not nil) and waits for gate (if not nil).
type stepActivity struct {
	mu      sync.Mutex
	calls   []string
	started chan string
	gate    <-chan struct{}
}

func (s *stepActivity) run(ctx context.Context, arg string) (string, error) {
	s.mu.Lock()
	s.calls = append(s.calls, arg)
	s.mu.Unlock()
	if s.started != nil {
		s.started <- arg
	}
	if s.gate != nil && arg == "one" {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return "step(" + arg + ")", nil
}

func (s *stepActivity) callList() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// 6b. A signal sent while the workflow's activity runs is not lost.
func testSignalDuringActivity(t *testing.T, c client.Client) {
	tq := taskQueue(t)
	gate := make(chan struct{})
	step := &stepActivity{started: make(chan string, 2), gate: gate}
	startWorker(t, c, tq, []any{ActivityThenSignalWorkflow}, map[string]any{"Step": step.run})
	run := start(t, c, tq, tq+"-wf", ActivityThenSignalWorkflow)
	select {
	case <-step.started:
	case <-testutil.Context(t, 20*time.Second).Done():
		t.Fatal("activity never started")
	}
	signal(t, c, run.GetID(), "sig", "two")
	close(gate)
	var got string
	if err := run.Get(testutil.Context(t, 30*time.Second), &got); err != nil {
		t.Fatalf("result: %v", err)
	}
	if want := "step(one)|two|step(two)"; got != want {
		t.Fatalf("result %q, want %q", got, want)
	}
	h := history(t, c, run.GetID(), run.GetRunID())
	checkHistory(t, h)
	types := eventTypes(h)
	sig := slices.Index(types, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
	done := slices.Index(types, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
	if sig < 0 || done < 0 || sig > done {
		t.Errorf("want the signal recorded before the first activity completed: %v", types)
	}
	t.Run("Replay", func(t *testing.T) { replay(t, c, run.GetID(), run.GetRunID(), ActivityThenSignalWorkflow) })
}

// waitWorkflowTaskCompleted polls until the run's history has at least n
// WorkflowTaskCompleted events and no workflow task is pending.
func waitWorkflowTaskCompleted(t *testing.T, c client.Client, id, runID string, n int) {
	t.Helper()
	testutil.Eventually(t, 20*time.Second, "workflow task completed", func() (bool, string) {
		h := history(t, c, id, runID)
		types := eventTypes(h)
		if got := len(eventsOf(h, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)); got < n || types[len(types)-1] != enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			return false, fmt.Sprint(types)
		}
		return true, ""
	})
}

// 7. Terminate closes the run: TerminatedError for the waiter, a
// WorkflowExecutionTerminated event last, status TERMINATED.
func testTerminate(t *testing.T, c client.Client) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{WaitSignalWorkflow}, nil)
	run := start(t, c, tq, tq+"-wf", WaitSignalWorkflow)
	waitWorkflowTaskCompleted(t, c, run.GetID(), run.GetRunID(), 1)
	if err := c.TerminateWorkflow(testutil.Context(t, 10*time.Second), run.GetID(), run.GetRunID(), "compat test", "some", "details"); err != nil {
		t.Fatalf("terminate: %v", err)
	}
	err := run.Get(testutil.Context(t, 30*time.Second), nil)
	var term *temporal.TerminatedError
	if !errors.As(err, &term) {
		t.Fatalf("workflow error %v (%T), want a TerminatedError", err, err)
	}
	h := history(t, c, run.GetID(), run.GetRunID())
	checkHistory(t, h)
	last := h.Events[len(h.Events)-1]
	if last.EventType != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED {
		t.Fatalf("last event %v, want WorkflowExecutionTerminated: %v", last.EventType, eventTypes(h))
	}
	if r := last.GetWorkflowExecutionTerminatedEventAttributes().Reason; r != "compat test" {
		t.Errorf("terminate reason %q, want %q", r, "compat test")
	}
	info := describe(t, c, run.GetID(), "").WorkflowExecutionInfo
	if info.Status != enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED || info.CloseTime == nil {
		t.Errorf("describe: status %v close time %v, want TERMINATED and a close time", info.Status, info.CloseTime)
	}
	err = c.SignalWorkflow(testutil.Context(t, 10*time.Second), run.GetID(), "", "sig", "late")
	var notFound *serviceerror.NotFound
	if !errors.As(err, &notFound) {
		t.Errorf("signal after terminate: %v (%T), want a NotFound error", err, err)
	}
}

// 8. Describe shows a running workflow's started activity.
func testDescribePendingActivity(t *testing.T, c client.Client) {
	tq := taskQueue(t)
	gate := make(chan struct{})
	step := &stepActivity{gate: gate}
	startWorker(t, c, tq, []any{ActivityThenSignalWorkflow}, map[string]any{"Step": step.run})
	run := start(t, c, tq, tq+"-wf", ActivityThenSignalWorkflow)
	var d *workflowservice.DescribeWorkflowExecutionResponse
	testutil.Eventually(t, 20*time.Second, "a started pending activity", func() (bool, string) {
		d = describe(t, c, run.GetID(), run.GetRunID())
		pa := d.PendingActivities
		return len(pa) == 1 && pa[0].State == enumspb.PENDING_ACTIVITY_STATE_STARTED, fmt.Sprint(pa)
	})
	info := d.WorkflowExecutionInfo
	if info.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING || info.CloseTime != nil {
		t.Errorf("status %v close time %v, want RUNNING and none", info.Status, info.CloseTime)
	}
	if info.Execution.GetWorkflowId() != run.GetID() || info.Execution.GetRunId() != run.GetRunID() {
		t.Errorf("execution %v, want %s/%s", info.Execution, run.GetID(), run.GetRunID())
	}
	if info.Type.GetName() != "ActivityThenSignalWorkflow" || info.TaskQueue != tq || d.ExecutionConfig.GetTaskQueue().GetName() != tq {
		t.Errorf("type %q task queue %q / %q, want ActivityThenSignalWorkflow on %s", info.Type.GetName(), info.TaskQueue, d.ExecutionConfig.GetTaskQueue().GetName(), tq)
	}
	pa := d.PendingActivities[0]
	if pa.Attempt != 1 || pa.ActivityType.GetName() != "Step" || pa.LastStartedTime == nil || pa.ActivityId == "" {
		t.Errorf("pending activity %v, want Step, attempt 1, with an id and a start time", pa)
	}
	close(gate)
	signal(t, c, run.GetID(), "sig", "x")
	if err := run.Get(testutil.Context(t, 30*time.Second), nil); err != nil {
		t.Fatalf("result: %v", err)
	}
	d = describe(t, c, run.GetID(), run.GetRunID())
	if d.WorkflowExecutionInfo.Status != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED || len(d.PendingActivities) != 0 {
		t.Errorf("after completion: status %v, %d pending activities", d.WorkflowExecutionInfo.Status, len(d.PendingActivities))
	}
}

// 9. Starting a running workflow id again: AlreadyStarted when asked for, the
// existing run otherwise.
func testDuplicateWorkflowID(t *testing.T, c client.Client) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{WaitSignalWorkflow}, nil)
	id := tq + "-wf"
	run := start(t, c, tq, id, WaitSignalWorkflow)
	_, err := c.ExecuteWorkflow(testutil.Context(t, 10*time.Second), client.StartWorkflowOptions{
		ID: id, TaskQueue: tq, WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, WaitSignalWorkflow)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if !errors.As(err, &started) {
		t.Fatalf("second start: %v (%T), want WorkflowExecutionAlreadyStarted", err, err)
	}
	if started.RunId != run.GetRunID() {
		t.Errorf("AlreadyStarted names run %q, want the running %q", started.RunId, run.GetRunID())
	}
	again := start(t, c, tq, id, WaitSignalWorkflow)
	if again.GetRunID() != run.GetRunID() {
		t.Errorf("start without the error option returned run %q, want the running %q", again.GetRunID(), run.GetRunID())
	}
	signal(t, c, id, "sig", "done")
	var got string
	if err := run.Get(testutil.Context(t, 30*time.Second), &got); err != nil || got != "done" {
		t.Fatalf("result %q, %v; want done", got, err)
	}
	h := history(t, c, id, run.GetRunID())
	checkHistory(t, h)
	if n := len(eventsOf(h, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)); n != 1 {
		t.Errorf("%d WorkflowExecutionStarted events, want 1", n)
	}
}

// 10. A new worker (empty cache) picks up a workflow mid-way by replaying its
// history, without non-determinism errors and without waiting for the
// stopped worker's sticky queue to time out.
func testWorkerRestart(t *testing.T, c client.Client) {
	tq := taskQueue(t)
	step := &stepActivity{}
	acts := map[string]any{"Step": step.run}
	stop := startNamedWorker(t, c, tq, "first-worker", []any{ActivityThenSignalWorkflow}, acts)
	run := start(t, c, tq, tq+"-wf", ActivityThenSignalWorkflow)
	// Wait until the first activity completed and the workflow task that saw
	// it completed too: the workflow now waits for the signal.
	waitWorkflowTaskCompleted(t, c, run.GetID(), run.GetRunID(), 2)
	stop()
	startNamedWorker(t, c, tq, "second-worker", []any{ActivityThenSignalWorkflow}, acts)
	signal(t, c, run.GetID(), "sig", "two")
	var got string
	if err := run.Get(testutil.Context(t, 30*time.Second), &got); err != nil {
		t.Fatalf("result: %v", err)
	}
	if want := "step(one)|two|step(two)"; got != want {
		t.Fatalf("result %q, want %q", got, want)
	}
	if calls := step.callList(); !slices.Equal(calls, []string{"one", "two"}) {
		t.Errorf("activity calls %q, want [one two] (each once)", calls)
	}
	h := history(t, c, run.GetID(), run.GetRunID())
	checkHistory(t, h)
	// Every workflow task after the signal ran on the new worker.
	signaled := false
	for _, ev := range h.Events {
		switch ev.EventType {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			signaled = true
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
			want := "first-worker"
			if signaled {
				want = "second-worker"
			}
			if id := ev.GetWorkflowTaskStartedEventAttributes().Identity; id != want {
				t.Errorf("workflow task started by event %d ran on %q, want %q", ev.EventId, id, want)
			}
		}
	}
	t.Run("Replay", func(t *testing.T) { replay(t, c, run.GetID(), run.GetRunID(), ActivityThenSignalWorkflow) })
}

// 13. Bad requests on the raw WorkflowService get clear gRPC errors.
func testBadInput(t *testing.T, c client.Client) {
	svc := c.WorkflowService()
	ctx := testutil.Context(t, 10*time.Second)
	code := func(err error) codes.Code { return serviceerror.ToStatus(err).Code() }
	req := func() *workflowservice.StartWorkflowExecutionRequest {
		return &workflowservice.StartWorkflowExecutionRequest{
			Namespace: "default", WorkflowId: "bad-input", RequestId: "bad-input-request",
			WorkflowType: &commonpb.WorkflowType{Name: "HelloWorkflow"}, TaskQueue: &taskqueuepb.TaskQueue{Name: taskQueue(t)},
		}
	}

	r := req()
	r.WorkflowId = ""
	_, err := svc.StartWorkflowExecution(ctx, r)
	if code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "workflow_id") {
		t.Errorf("empty workflow id: %v (code %v), want InvalidArgument naming workflow_id", err, code(err))
	}
	var invalid *serviceerror.InvalidArgument
	if !errors.As(err, &invalid) {
		t.Errorf("empty workflow id: %T, want *serviceerror.InvalidArgument", err)
	}

	r = req()
	r.TaskQueue = nil
	_, err = svc.StartWorkflowExecution(ctx, r)
	if code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "task_queue") {
		t.Errorf("no task queue: %v (code %v), want InvalidArgument naming task_queue", err, code(err))
	}

	r = req()
	r.Namespace = "no-such-namespace"
	_, err = svc.StartWorkflowExecution(ctx, r)
	if code(err) != codes.NotFound || !strings.Contains(err.Error(), "no-such-namespace") {
		t.Errorf("unknown namespace: %v (code %v), want NotFound naming the namespace", err, code(err))
	}
	var nsErr *serviceerror.NamespaceNotFound
	if !errors.As(err, &nsErr) {
		t.Errorf("unknown namespace: %T, want *serviceerror.NamespaceNotFound", err)
	}

	_, err = svc.ListSchedules(ctx, &workflowservice.ListSchedulesRequest{Namespace: "default"})
	if code(err) != codes.Unimplemented || !strings.Contains(err.Error(), "ListSchedules") {
		t.Errorf("ListSchedules: %v (code %v), want Unimplemented naming the method", err, code(err))
	}

	_, err = svc.DescribeWorkflowExecution(ctx, &workflowservice.DescribeWorkflowExecutionRequest{
		Namespace: "default", Execution: &commonpb.WorkflowExecution{WorkflowId: "never-started"},
	})
	var notFound *serviceerror.NotFound
	if !errors.As(err, &notFound) {
		t.Errorf("describe unknown workflow: %v (%T), want NotFound", err, err)
	}
}
