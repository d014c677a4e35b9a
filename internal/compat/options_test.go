package compat

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/raftflow/engine/internal/testutil"
	"github.com/raftflow/engine/rpc"
)

// closeWith ends a WaitSignalWorkflow run: "completed" (by its signal) or
// "terminated".
func closeWith(t *testing.T, c client.Client, run client.WorkflowRun, how string) {
	t.Helper()
	switch how {
	case "completed":
		signal(t, c, run.GetID(), "sig", "done")
		getResult(t, run, nil)
	case "terminated":
		if err := c.TerminateWorkflow(testutil.Context(t, 10*time.Second), run.GetID(), run.GetRunID(), "compat test"); err != nil {
			t.Fatalf("terminate: %v", err)
		}
		wantErrAs[*temporal.TerminatedError](t, run)
	default:
		t.Fatalf("closeWith %q", how)
	}
}

// ID reuse policies, for a workflow id whose last run is closed (and, for
// TERMINATE_IF_RUNNING, running).
func testIDReusePolicies(t *testing.T, c client.Client, _ *replayLog) {
	for _, tc := range []struct {
		name    string
		policy  enumspb.WorkflowIdReusePolicy
		prior   string // how the first run ends ("" = still running)
		allowed bool
		refusal string // the start of Temporal's error text when refused (clients match it)
	}{
		{"AllowDuplicate/AfterCompleted", enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, "completed", true, ""},
		{"AllowDuplicateFailedOnly/AfterCompleted", enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
			"completed", false, "Workflow execution already finished successfully."},
		{"AllowDuplicateFailedOnly/AfterTerminated", enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
			"terminated", true, ""},
		{"RejectDuplicate/AfterCompleted", enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			"completed", false, "Workflow execution already finished."},
		{"RejectDuplicate/AfterTerminated", enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			"terminated", false, "Workflow execution already finished."},
		{"TerminateIfRunning/Running", enumspb.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING, "", true, ""},
		{"TerminateIfRunning/AfterCompleted", enumspb.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING,
			"completed", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tq := taskQueue(t)
			startWorker(t, c, tq, []any{WaitSignalWorkflow}, nil)
			id := tq + "-wf"
			first := start(t, c, tq, id, WaitSignalWorkflow)
			if tc.prior != "" {
				closeWith(t, c, first, tc.prior)
			}
			second, err := c.ExecuteWorkflow(testutil.Context(t, 10*time.Second), client.StartWorkflowOptions{
				ID: id, TaskQueue: tq, WorkflowIDReusePolicy: tc.policy, WorkflowExecutionErrorWhenAlreadyStarted: true,
			}, WaitSignalWorkflow)
			if !tc.allowed {
				var started *serviceerror.WorkflowExecutionAlreadyStarted
				if !errors.As(err, &started) {
					t.Fatalf("start after a %s run: %v (%T), want WorkflowExecutionAlreadyStarted", tc.prior, err, err)
				}
				if !strings.HasPrefix(started.Error(), tc.refusal) {
					t.Fatalf("start after a %s run: error %q, want Temporal's %q...", tc.prior, started.Error(), tc.refusal)
				}
				return
			}
			if err != nil {
				t.Fatalf("start again: %v", err)
			}
			if second.GetRunID() == first.GetRunID() {
				t.Fatalf("start again returned the first run %s", first.GetRunID())
			}
			if tc.prior == "" {
				wantErrAs[*temporal.TerminatedError](t, c.GetWorkflow(testutil.Context(t, 10*time.Second), id, first.GetRunID()))
			}
			closeWith(t, c, second, "completed")
		})
	}
}

// ID conflict policies, for a workflow id whose run is running.
func testIDConflictPolicies(t *testing.T, c client.Client, _ *replayLog) {
	for _, tc := range []struct {
		name   string
		policy enumspb.WorkflowIdConflictPolicy
	}{
		{"Fail", enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL},
		{"UseExisting", enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING},
		{"TerminateExisting", enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tq := taskQueue(t)
			startWorker(t, c, tq, []any{WaitSignalWorkflow}, nil)
			id := tq + "-wf"
			first := start(t, c, tq, id, WaitSignalWorkflow)
			// The raw call, so the response's "started" flag is visible.
			resp, err := c.WorkflowService().StartWorkflowExecution(testutil.Context(t, 10*time.Second), &workflowservice.StartWorkflowExecutionRequest{
				Namespace: "default", WorkflowId: id, WorkflowType: &commonpb.WorkflowType{Name: "WaitSignalWorkflow"},
				TaskQueue: &taskqueuepb.TaskQueue{Name: tq}, RequestId: tq + "-second-start", WorkflowIdConflictPolicy: tc.policy,
			})
			switch tc.policy {
			case enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL:
				var started *serviceerror.WorkflowExecutionAlreadyStarted
				if !errors.As(err, &started) || started.RunId != first.GetRunID() {
					t.Fatalf("second start: %v (%T), want WorkflowExecutionAlreadyStarted naming %s", err, err, first.GetRunID())
				}
				if !strings.HasPrefix(started.Error(), "Workflow execution is already running.") {
					t.Errorf("second start: error %q, want Temporal's text", started.Error())
				}
				closeWith(t, c, first, "completed")
			case enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING:
				if err != nil || resp.RunId != first.GetRunID() || resp.Started {
					t.Fatalf("second start: %v, %v; want the running run %s, not started", resp, err, first.GetRunID())
				}
				closeWith(t, c, first, "completed")
			case enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING:
				if err != nil || resp.RunId == first.GetRunID() || !resp.Started {
					t.Fatalf("second start: %v, %v; want a new run", resp, err)
				}
				wantErrAs[*temporal.TerminatedError](t, c.GetWorkflow(testutil.Context(t, 10*time.Second), id, first.GetRunID()))
				closeWith(t, c, c.GetWorkflow(testutil.Context(t, 10*time.Second), id, resp.RunId), "completed")
			}
		})
	}
}

// Execution and run timeouts end a workflow that sleeps past them: the
// client sees a TimeoutError, the run is TIMED_OUT, never early.
func testWorkflowTimeouts(t *testing.T, c client.Client, _ *replayLog) {
	for _, tc := range []struct {
		name string
		opts client.StartWorkflowOptions
	}{
		{"Execution", client.StartWorkflowOptions{WorkflowExecutionTimeout: time.Second}},
		{"Run", client.StartWorkflowOptions{WorkflowRunTimeout: time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tq := taskQueue(t)
			startWorker(t, c, tq, []any{SleepWorkflow}, nil)
			opts := tc.opts
			opts.ID, opts.TaskQueue = tq+"-wf", tq
			run := startWith(t, c, opts, SleepWorkflow, time.Hour)
			wantErrAs[*temporal.TimeoutError](t, run)
			info := describe(t, c, run.GetID(), run.GetRunID()).WorkflowExecutionInfo
			if info.Status != enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT {
				t.Errorf("status %v, want TIMED_OUT", info.Status)
			}
			if d := info.CloseTime.AsTime().Sub(info.StartTime.AsTime()); d < time.Second {
				t.Errorf("timed out %v after the start, before the 1s timeout", d)
			}
			h := history(t, c, run.GetID(), run.GetRunID())
			checkHistory(t, h)
			if last := closeEvent(t, h).EventType; last != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT {
				t.Errorf("last event %v, want WorkflowExecutionTimedOut", last)
			}
		})
	}
}

// A workflow task that a poller takes and never answers times out after
// the workflow task timeout and is scheduled again, for the next poller.
func testWorkflowTaskTimeout(t *testing.T, c client.Client, rec *replayLog) {
	tq := taskQueue(t)
	run := startWith(t, c, client.StartWorkflowOptions{ID: tq + "-wf", TaskQueue: tq, WorkflowTaskTimeout: time.Second}, HelloWorkflow, "task timeout")
	// A raw poller takes the first workflow task and drops it.
	resp, err := c.WorkflowService().PollWorkflowTaskQueue(testutil.Context(t, 20*time.Second), &workflowservice.PollWorkflowTaskQueueRequest{
		Namespace: "default", TaskQueue: &taskqueuepb.TaskQueue{Name: tq, Kind: enumspb.TASK_QUEUE_KIND_NORMAL}, Identity: "silent-poller",
	})
	if err != nil || len(resp.TaskToken) == 0 {
		t.Fatalf("raw poll: %v, %v", resp, err)
	}
	startWorker(t, c, tq, []any{HelloWorkflow}, map[string]any{
		"Greet": func(name string) (string, error) { return "Hello " + name + "!", nil },
	})
	var got string
	getResult(t, run, &got)
	if got != "Hello task timeout!" {
		t.Fatalf("result %q", got)
	}
	h := history(t, c, run.GetID(), run.GetRunID())
	timedOut := eventsOf(h, evWTTimedOut)
	if len(timedOut) != 1 || timedOut[0].GetWorkflowTaskTimedOutEventAttributes().TimeoutType != enumspb.TIMEOUT_TYPE_START_TO_CLOSE {
		t.Fatalf("want one WorkflowTaskTimedOut (START_TO_CLOSE): %v", eventTypes(h))
	}
	taken := h.Events[timedOut[0].GetWorkflowTaskTimedOutEventAttributes().StartedEventId-1]
	if taken.GetWorkflowTaskStartedEventAttributes().GetIdentity() != "silent-poller" {
		t.Errorf("the timed-out task was started by %v, want silent-poller", taken)
	}
	if d := timedOut[0].EventTime.AsTime().Sub(taken.EventTime.AsTime()); d < time.Second {
		t.Errorf("the task timed out %v after it started, before its 1s timeout", d)
	}
	if next := h.Events[timedOut[0].EventId]; next.EventType != evWTScheduled || next.GetWorkflowTaskScheduledEventAttributes().Attempt != 2 {
		t.Errorf("after the timeout: %v, want WorkflowTaskScheduled attempt 2", next)
	}
	// checkHistory would flag the timeout this test provoked; replay only.
	rec.addHistory("workflow-task-timeout", run.GetID(), h, HelloWorkflow)
}

// Cron: "@every 2s" starts the next run at the first schedule time after
// the previous run closed (schedule times count from the chain's run start,
// rounded up to whole seconds as Temporal does), carrying the last result;
// its first workflow task is never dispatched early.
func testCron(t *testing.T, c client.Client, _ *replayLog) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{CronTickWorkflow}, nil)
	const every = 2 * time.Second
	run := startWith(t, c, client.StartWorkflowOptions{ID: tq + "-wf", TaskQueue: tq, CronSchedule: "@every 2s"}, CronTickWorkflow)
	var n int
	if err := run.GetWithOptions(testutil.Context(t, 30*time.Second), &n, client.WorkflowRunGetOptions{DisableFollowingRuns: true}); err != nil || n != 1 {
		t.Fatalf("first run: %d, %v", n, err)
	}
	first := describe(t, c, run.GetID(), run.GetRunID()).WorkflowExecutionInfo
	h1 := history(t, c, run.GetID(), run.GetRunID())
	nextRun := closeEvent(t, h1).GetWorkflowExecutionCompletedEventAttributes().GetNewExecutionRunId()
	if nextRun == "" {
		t.Fatalf("first run's close event %v names no next run", closeEvent(t, h1))
	}
	second := c.GetWorkflow(testutil.Context(t, 10*time.Second), run.GetID(), nextRun)
	if err := second.GetWithOptions(testutil.Context(t, 30*time.Second), &n, client.WorkflowRunGetOptions{DisableFollowingRuns: true}); err != nil || n != 2 {
		t.Fatalf("second run: %d, %v", n, err)
	}
	info := describe(t, c, run.GetID(), nextRun).WorkflowExecutionInfo
	start1, close1, exec2 := first.StartTime.AsTime(), first.CloseTime.AsTime(), info.ExecutionTime.AsTime()
	// "@every" schedule times: the first run's start truncated to the
	// second, plus multiples of the interval.
	due := start1.Truncate(time.Second).Add(every)
	for due.Before(close1) {
		due = due.Add(every)
	}
	if exec2.Before(due) || !exec2.Before(due.Add(time.Second)) {
		t.Errorf("second run's execution time %v, want the schedule time %v (rounded up to a whole second after the close at %v)",
			exec2, due, close1)
	}
	h2 := history(t, c, run.GetID(), nextRun)
	checkHistory(t, h2)
	sa := h2.Events[0].GetWorkflowExecutionStartedEventAttributes()
	if sa.Initiator != enumspb.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE || sa.FirstWorkflowTaskBackoff.AsDuration() != exec2.Sub(info.StartTime.AsTime()) {
		t.Errorf("second run started by %v with backoff %v, want CRON_SCHEDULE and %v", sa.Initiator, sa.FirstWorkflowTaskBackoff.AsDuration(), exec2.Sub(info.StartTime.AsTime()))
	}
	if sched := eventsOf(h2, evWTScheduled); len(sched) == 0 || sched[0].EventTime.AsTime().Before(exec2) {
		t.Errorf("second run's first workflow task %v, not before its execution time %v", sched, exec2)
	}
	if err := c.TerminateWorkflow(testutil.Context(t, 10*time.Second), run.GetID(), "", "enough"); err != nil {
		t.Fatalf("terminate the chain: %v", err)
	}
}

// decodeField decodes one memo or search attribute payload.
func decodeField(t *testing.T, p *commonpb.Payload, out any) {
	t.Helper()
	if p == nil {
		t.Fatalf("no such field")
	}
	if err := converter.GetDefaultDataConverter().FromPayload(p, out); err != nil {
		t.Fatalf("decode %v: %v", p, err)
	}
}

// Memo and search attributes given at the start are in Describe, and so
// are the ones the workflow upserts (UpsertTypedSearchAttributes,
// UpsertMemo), merged with them.
func testMemoAndSearchAttributes(t *testing.T, c client.Client, _ *replayLog) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{UpsertWorkflow}, nil)
	run := startWith(t, c, client.StartWorkflowOptions{
		ID: tq + "-wf", TaskQueue: tq, Memo: map[string]any{"owner": "compat"},
		TypedSearchAttributes: temporal.NewSearchAttributes(colorKey.ValueSet("blue")),
	}, UpsertWorkflow)
	testutil.Eventually(t, 20*time.Second, "the upserts", func() (bool, string) {
		info := describe(t, c, run.GetID(), run.GetRunID()).WorkflowExecutionInfo
		return info.Memo.GetFields()["stage"] != nil && info.SearchAttributes.GetIndexedFields()["CompatSize"] != nil,
			fmt.Sprint(info.Memo, info.SearchAttributes)
	})
	check := func(when string) {
		info := describe(t, c, run.GetID(), run.GetRunID()).WorkflowExecutionInfo
		var owner, stage, color string
		var size int64
		decodeField(t, info.Memo.GetFields()["owner"], &owner)
		decodeField(t, info.Memo.GetFields()["stage"], &stage)
		decodeField(t, info.SearchAttributes.GetIndexedFields()["CompatColor"], &color)
		decodeField(t, info.SearchAttributes.GetIndexedFields()["CompatSize"], &size)
		if owner != "compat" || stage != "upserted" || color != "blue" || size != 42 {
			t.Errorf("%s: memo owner=%q stage=%q, search attributes CompatColor=%q CompatSize=%d", when, owner, stage, color, size)
		}
	}
	check("running")
	signal(t, c, run.GetID(), "sig", nil)
	getResult(t, run, nil)
	check("closed")
	h := history(t, c, run.GetID(), run.GetRunID())
	checkHistory(t, h)
	if n := len(eventsOf(h, enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)); n != 1 {
		t.Errorf("%d UpsertWorkflowSearchAttributes events, want 1", n)
	}
	if n := len(eventsOf(h, enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED)); n != 1 {
		t.Errorf("%d WorkflowPropertiesModified events, want 1", n)
	}
}

// Signal-with-start: a new workflow id starts with the signal recorded
// before its first workflow task; for a running one it only signals (the
// same run, no second start).
func testSignalWithStart(t *testing.T, c client.Client, rec *replayLog) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{SignalsWorkflow}, nil)
	id := tq + "-wf"
	opts := client.StartWorkflowOptions{ID: id, TaskQueue: tq}
	run, err := c.SignalWithStartWorkflow(testutil.Context(t, 10*time.Second), id, "sig", "first", opts, SignalsWorkflow, 2)
	if err != nil {
		t.Fatalf("signal-with-start (new): %v", err)
	}
	again, err := c.SignalWithStartWorkflow(testutil.Context(t, 10*time.Second), id, "sig", "second", opts, SignalsWorkflow, 2)
	if err != nil || again.GetRunID() != run.GetRunID() {
		t.Fatalf("signal-with-start (running): run %v, %v; want the running %s", again, err, run.GetRunID())
	}
	var got []string
	getResult(t, run, &got)
	if want := []string{"first", "second"}; !slices.Equal(got, want) {
		t.Fatalf("result %q, want %q", got, want)
	}
	h := history(t, c, id, run.GetRunID())
	if types := eventTypes(h); !slices.Equal(types[:3], []enumspb.EventType{evStarted, evSignaled, evWTScheduled}) ||
		len(eventsOf(h, evStarted)) != 1 || len(eventsOf(h, evSignaled)) != 2 {
		t.Errorf("history %v, want Started, Signaled, WorkflowTaskScheduled first, one start and two signals", types)
	}
	rec.add(t, c, "signal-with-start", id, run.GetRunID(), SignalsWorkflow)
}

// Search-attribute registration through the OperatorService, as setup
// scripts do before any workflow starts: the registered type is listed and
// pinned (a start with a value of another type is refused); re-adding is a
// no-op, another type, a system name or an empty request is refused;
// removal unlists it.
func testSearchAttributeRegistration(t *testing.T, c client.Client, _ *replayLog) {
	ctx := testutil.Context(t, 10*time.Second)
	ops := c.OperatorService()
	name := "CompatRegistered" + strings.ReplaceAll(taskQueue(t), "-", "")
	add := func(typ enumspb.IndexedValueType) error {
		_, err := ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace: "default", SearchAttributes: map[string]enumspb.IndexedValueType{name: typ}})
		return err
	}
	listed := func() (enumspb.IndexedValueType, bool) {
		resp, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
		if err != nil {
			t.Fatal(err)
		}
		typ, ok := resp.CustomAttributes[name]
		return typ, ok
	}
	if err := add(enumspb.INDEXED_VALUE_TYPE_INT); err != nil {
		t.Fatalf("register: %v", err)
	}
	if typ, ok := listed(); !ok || typ != enumspb.INDEXED_VALUE_TYPE_INT {
		t.Fatalf("listed as %v (%v), want Int", typ, ok)
	}
	if err := add(enumspb.INDEXED_VALUE_TYPE_INT); err != nil {
		t.Fatalf("registering again with the same type: %v", err)
	}
	var invalid *serviceerror.InvalidArgument
	if err := add(enumspb.INDEXED_VALUE_TYPE_KEYWORD); !errors.As(err, &invalid) {
		t.Fatalf("registering with another type: %v, want InvalidArgument", err)
	}
	if _, err := ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: "default",
		SearchAttributes: map[string]enumspb.IndexedValueType{"WorkflowType": enumspb.INDEXED_VALUE_TYPE_KEYWORD}}); !errors.As(err, &invalid) ||
		!strings.Contains(err.Error(), "reserved by system") {
		t.Fatalf("registering a system attribute: %v, want InvalidArgument", err)
	}
	if _, err := ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: "default"}); !errors.As(err, &invalid) {
		t.Fatalf("an empty registration: %v, want InvalidArgument", err)
	}
	key := temporal.NewSearchAttributeKeyKeyword(name)
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: name + "-wf", TaskQueue: taskQueue(t),
		TypedSearchAttributes: temporal.NewSearchAttributes(key.ValueSet("text"))}, "NoSuchWorkflow")
	if !errors.As(err, &invalid) {
		t.Fatalf("a start with a Keyword value for an Int attribute: %v, want InvalidArgument", err)
	}
	if _, err := ops.RemoveSearchAttributes(ctx, &operatorservice.RemoveSearchAttributesRequest{
		Namespace: "default", SearchAttributes: []string{name}}); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if _, ok := listed(); ok {
		t.Fatalf("%s still listed after its removal", name)
	}
	testStrictSearchAttributes(t, c, name)
}

// testStrictSearchAttributes: a namespace with raftflow's strict setting
// refuses an unregistered search attribute as Temporal does (naming it);
// a registered one is accepted, and the default namespace is not strict.
func testStrictSearchAttributes(t *testing.T, c client.Client, name string) {
	ctx := testutil.Context(t, 10*time.Second)
	ns := "strict-" + taskQueue(t)
	if _, err := c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: ns, WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour),
		Data: map[string]string{rpc.StrictSearchAttributesKey: "true"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: ns, SearchAttributes: map[string]enumspb.IndexedValueType{name: enumspb.INDEXED_VALUE_TYPE_KEYWORD}}); err != nil {
		t.Fatal(err)
	}
	start := func(id, attr string) error {
		p, err := converter.GetDefaultDataConverter().ToPayload("v")
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.WorkflowService().StartWorkflowExecution(ctx, &workflowservice.StartWorkflowExecutionRequest{
			Namespace: ns, WorkflowId: id, RequestId: id, WorkflowType: &commonpb.WorkflowType{Name: "NoSuchWorkflow"},
			TaskQueue:        &taskqueuepb.TaskQueue{Name: taskQueue(t)},
			SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{attr: p}},
		})
		return err
	}
	var invalid *serviceerror.InvalidArgument
	if err := start("unregistered", "NeverRegistered"); !errors.As(err, &invalid) || !strings.Contains(err.Error(), "search attribute NeverRegistered is not defined") {
		t.Fatalf("an unregistered attribute in a strict namespace: %v, want InvalidArgument naming it", err)
	}
	if err := start("registered", name); err != nil {
		t.Fatalf("a registered attribute in a strict namespace: %v", err)
	}
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: "default", SearchAttributes: map[string]enumspb.IndexedValueType{name: enumspb.INDEXED_VALUE_TYPE_INT}}); err != nil {
		t.Fatalf("the same name with another type in another namespace: %v", err)
	}
}
