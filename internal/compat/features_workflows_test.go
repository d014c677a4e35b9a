package compat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Workflows of the feature tests (features_test.go and the files it runs).
// Like those in workflows_test.go they are plain Temporal Go SDK code,
// registered by function name on each test's own task queue.

// QueryStateWorkflow answers the "state" query and waits for signal "sig";
// it returns the signal's value.
func QueryStateWorkflow(ctx workflow.Context) (string, error) {
	state := "waiting"
	if err := workflow.SetQueryHandler(ctx, "state", func() (string, error) { return state, nil }); err != nil {
		return "", err
	}
	var s string
	workflow.GetSignalChannel(ctx, "sig").Receive(ctx, &s)
	state = "got " + s
	return s, nil
}

// childSpec tells ChildOutcomeWorkflow what child to start and how.
type childSpec struct {
	ChildID     string
	Mode        string // ChildWorkflow's mode
	ExecTimeout time.Duration
	Policy      enumspb.ParentClosePolicy
}

// ChildWorkflow is the child of the child workflow tests. Modes: "fail"
// fails with a non-retryable ApplicationError of type "ChildBroke"; "sleep"
// sleeps an hour (and returns its cancellation error when canceled); "echo"
// returns "child:" + its id.
func ChildWorkflow(ctx workflow.Context, mode string) (string, error) {
	switch mode {
	case "fail":
		return "", temporal.NewNonRetryableApplicationError("child broke", "ChildBroke", nil)
	case "sleep":
		if err := workflow.Sleep(ctx, time.Hour); err != nil {
			return "", err
		}
		return "slept", nil
	}
	return "child:" + workflow.GetInfo(ctx).WorkflowExecution.ID, nil
}

// classifyChildError names what the parent saw when its child closed
// unsuccessfully: a ChildWorkflowExecutionError and the type of its cause.
func classifyChildError(err error) string {
	var childErr *temporal.ChildWorkflowExecutionError
	if !errors.As(err, &childErr) {
		return fmt.Sprintf("not a ChildWorkflowExecutionError: %T: %v", err, err)
	}
	var (
		app  *temporal.ApplicationError
		can  *temporal.CanceledError
		term *temporal.TerminatedError
		to   *temporal.TimeoutError
	)
	cause := errors.Unwrap(childErr)
	switch {
	case errors.As(cause, &app):
		return "ApplicationError:" + app.Type()
	case errors.As(cause, &can):
		return "CanceledError"
	case errors.As(cause, &term):
		return "TerminatedError"
	case errors.As(cause, &to):
		return "TimeoutError:" + to.TimeoutType().String()
	}
	return fmt.Sprintf("ChildWorkflowExecutionError with cause %T: %v", cause, cause)
}

// ChildOutcomeWorkflow runs one child as spec says and reports how it
// ended, as classifyChildError names it ("completed:<result>" on success).
func ChildOutcomeWorkflow(ctx workflow.Context, spec childSpec) (string, error) {
	ctx = workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: spec.ChildID, WorkflowExecutionTimeout: spec.ExecTimeout,
	})
	var out string
	if err := workflow.ExecuteChildWorkflow(ctx, ChildWorkflow, spec.Mode).Get(ctx, &out); err != nil {
		return classifyChildError(err), nil
	}
	return "completed:" + out, nil
}

// ParentClosePolicyWorkflow starts a sleeping child with spec's parent
// close policy, waits until it started and for signal "finish", and
// completes while the child runs.
func ParentClosePolicyWorkflow(ctx workflow.Context, spec childSpec) (string, error) {
	ctx = workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: spec.ChildID, ParentClosePolicy: spec.Policy})
	var exec workflow.Execution
	if err := workflow.ExecuteChildWorkflow(ctx, ChildWorkflow, "sleep").GetChildWorkflowExecution().Get(ctx, &exec); err != nil {
		return "", err
	}
	workflow.GetSignalChannel(ctx, "finish").Receive(ctx, nil)
	return exec.RunID, nil
}

// CancelChildWorkflow starts a sleeping child, waits until it started,
// cancels it through its context and waits for the cancellation to complete.
func CancelChildWorkflow(ctx workflow.Context, childID string) (string, error) {
	childCtx, cancel := workflow.WithCancel(ctx)
	childCtx = workflow.WithChildOptions(childCtx, workflow.ChildWorkflowOptions{WorkflowID: childID, WaitForCancellation: true})
	f := workflow.ExecuteChildWorkflow(childCtx, ChildWorkflow, "sleep")
	if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		return "", err
	}
	cancel()
	err := f.Get(ctx, nil)
	if err == nil {
		return "child completed despite the cancellation", nil
	}
	return classifyChildError(err), nil
}

// chainInput is what ChainWorkflow carries from run to run.
type chainInput struct {
	Step  int
	Last  int
	Trail []string
}

// ChainWorkflow continues as new until in.Step reaches in.Last, adding each
// run's step and attempt to the trail it carries, and returns the trail.
func ChainWorkflow(ctx workflow.Context, in chainInput) ([]string, error) {
	in.Trail = append(in.Trail, fmt.Sprintf("step %d", in.Step))
	if in.Step < in.Last {
		in.Step++
		return nil, workflow.NewContinueAsNewError(ctx, ChainWorkflow, in)
	}
	return in.Trail, nil
}

// RetriedWorkflow fails until its attempt (workflow.GetInfo) reaches
// succeedAt, and returns the attempt it succeeded on and the error message
// of the attempt before, as the run sees it (GetLastError).
func RetriedWorkflow(ctx workflow.Context, succeedAt int32) (string, error) {
	info := workflow.GetInfo(ctx)
	if info.Attempt < succeedAt {
		return "", fmt.Errorf("attempt %d failed", info.Attempt)
	}
	last := "none"
	if err := workflow.GetLastError(ctx); err != nil {
		last = err.Error()
	}
	return fmt.Sprintf("succeeded on attempt %d after %q", info.Attempt, last), nil
}

// CancelActivityWorkflow starts activity "Heartbeater" (heartbeat timeout
// hb, waiting for the cancellation to complete), cancels it when signal
// "cancel" arrives, and reports how the activity ended.
func CancelActivityWorkflow(ctx workflow.Context, hb time.Duration) (string, error) {
	actCtx, cancel := workflow.WithCancel(ctx)
	actCtx = workflow.WithActivityOptions(actCtx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second, HeartbeatTimeout: hb, WaitForCancellation: true,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	f := workflow.ExecuteActivity(actCtx, "Heartbeater")
	workflow.GetSignalChannel(ctx, "cancel").Receive(ctx, nil)
	cancel()
	err := f.Get(ctx, nil)
	var canceled *temporal.CanceledError
	if errors.As(err, &canceled) {
		return "activity canceled", nil
	}
	return fmt.Sprintf("activity ended with %T: %v", err, err), nil
}

// SignalExternalWorkflow signals workflow target (signal "sig", value v),
// then signals a workflow that does not exist, and reports both outcomes.
func SignalExternalWorkflow(ctx workflow.Context, target, v string) (string, error) {
	if err := workflow.SignalExternalWorkflow(ctx, target, "", "sig", v).Get(ctx, nil); err != nil {
		return "", fmt.Errorf("signal %s: %w", target, err)
	}
	err := workflow.SignalExternalWorkflow(ctx, target+"-missing", "", "sig", v).Get(ctx, nil)
	if err == nil {
		return "", errors.New("signalling a missing workflow succeeded")
	}
	return "signaled; missing: " + err.Error(), nil
}

// CancelExternalWorkflow requests the cancellation of workflow target.
func CancelExternalWorkflow(ctx workflow.Context, target string) (string, error) {
	if err := workflow.RequestCancelExternalWorkflow(ctx, target, "").Get(ctx, nil); err != nil {
		return "", fmt.Errorf("cancel %s: %w", target, err)
	}
	return "cancel requested", nil
}

// AsyncActivityWorkflow runs activity "Async" (completed from outside by
// the test) with activity id "async" and returns its result.
func AsyncActivityWorkflow(ctx workflow.Context, arg string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{ActivityID: "async", StartToCloseTimeout: 30 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, "Async", arg).Get(ctx, &out)
	return out, err
}

// markerCalls counts, by key, the executions of the local activity and of
// the side effect of MarkersWorkflow, and keeps the side effect's value.
var markerCalls sync.Map // key -> *markerCount

type markerCount struct {
	local, side atomic.Int32
	sideValue   atomic.Value // string
}

func markerCounter(key string) *markerCount {
	v, _ := markerCalls.LoadOrStore(key, &markerCount{})
	return v.(*markerCount)
}

// LocalUpper is MarkersWorkflow's local activity.
func LocalUpper(ctx context.Context, key string) (string, error) {
	markerCounter(key).local.Add(1)
	return "LOCAL-" + key, nil
}

// MarkersWorkflow runs a local activity, a side effect (a value that differs
// on every execution), a mutable side effect and a GetVersion, then waits
// for signal "go" and returns their values: a worker that replays the
// history must get them from the markers, not run the code again.
func MarkersWorkflow(ctx workflow.Context, key string) ([]string, error) {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var local string
	if err := workflow.ExecuteLocalActivity(lctx, LocalUpper, key).Get(ctx, &local); err != nil {
		return nil, err
	}
	var side string
	err := workflow.SideEffect(ctx, func(workflow.Context) any {
		c := markerCounter(key)
		v := fmt.Sprintf("side-%d-%d", c.side.Add(1), time.Now().UnixNano())
		c.sideValue.Store(v)
		return v
	}).Get(&side)
	if err != nil {
		return nil, err
	}
	var mutable string
	err = workflow.MutableSideEffect(ctx, "mutable", func(workflow.Context) any { return "mutable-" + key },
		func(a, b any) bool { return a == b }).Get(&mutable)
	if err != nil {
		return nil, err
	}
	v := workflow.GetVersion(ctx, "markers-change", workflow.DefaultVersion, 2)
	workflow.GetSignalChannel(ctx, "go").Receive(ctx, nil)
	return []string{local, side, mutable, fmt.Sprintf("version %d", v)}, nil
}

var (
	colorKey = temporal.NewSearchAttributeKeyKeyword("CompatColor")
	sizeKey  = temporal.NewSearchAttributeKeyInt64("CompatSize")
)

// UpsertWorkflow upserts search attribute CompatSize and memo entry
// "stage", then waits for signal "sig".
func UpsertWorkflow(ctx workflow.Context) error {
	if err := workflow.UpsertTypedSearchAttributes(ctx, sizeKey.ValueSet(42)); err != nil {
		return err
	}
	if err := workflow.UpsertMemo(ctx, map[string]any{"stage": "upserted"}); err != nil {
		return err
	}
	workflow.GetSignalChannel(ctx, "sig").Receive(ctx, nil)
	return nil
}

// CronTickWorkflow counts its runs through the cron chain's last
// completion result.
func CronTickWorkflow(ctx workflow.Context) (int, error) {
	n := 0
	if workflow.HasLastCompletionResult(ctx) {
		if err := workflow.GetLastCompletionResult(ctx, &n); err != nil {
			return 0, err
		}
	}
	return n + 1, nil
}

// CounterUpdateWorkflow adds each "add" update's (non-negative) argument to
// a total and returns the total when signal "done" arrives.
func CounterUpdateWorkflow(ctx workflow.Context) (int, error) {
	total := 0
	err := workflow.SetUpdateHandlerWithOptions(ctx, "add", func(ctx workflow.Context, n int) (int, error) {
		total += n
		return total, nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, n int) error {
		if n < 0 {
			return errors.New("negative")
		}
		return nil
	}})
	if err != nil {
		return 0, err
	}
	workflow.GetSignalChannel(ctx, "done").Receive(ctx, nil)
	return total, nil
}

// MixedWorkflow receives n signals "sig", sleeps on a timer, and runs
// activity "Flaky" (which fails before its third attempt) with retries;
// it returns the signals and the activity's result.
func MixedWorkflow(ctx workflow.Context, n int) ([]string, error) {
	var got []string
	ch := workflow.GetSignalChannel(ctx, "sig")
	for range n {
		var s string
		ch.Receive(ctx, &s)
		got = append(got, s)
	}
	if err := workflow.Sleep(ctx, 50*time.Millisecond); err != nil {
		return nil, err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 50 * time.Millisecond, MaximumAttempts: 5},
	})
	var out string
	if err := workflow.ExecuteActivity(ctx, "Flaky", "x").Get(ctx, &out); err != nil {
		return nil, err
	}
	return append(got, out), nil
}

// LastFailureWorkflow runs activity "FailThenBlock" with a short retry
// interval and a schedule-to-close timeout, and returns its error.
func LastFailureWorkflow(ctx workflow.Context, scheduleToClose time.Duration) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		ScheduleToCloseTimeout: scheduleToClose, StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 50 * time.Millisecond, BackoffCoefficient: 1},
	})
	return workflow.ExecuteActivity(ctx, "FailThenBlock").Get(ctx, nil)
}

// UnpolledActivityWorkflow runs activity "Nobody" on task queue queue,
// where no worker polls, with a schedule-to-start timeout, and returns its
// error.
func UnpolledActivityWorkflow(ctx workflow.Context, queue string) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: queue, ScheduleToStartTimeout: 500 * time.Millisecond, StartToCloseTimeout: 10 * time.Second,
	})
	return workflow.ExecuteActivity(ctx, "Nobody").Get(ctx, nil)
}
