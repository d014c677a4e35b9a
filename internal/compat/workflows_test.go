package compat

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The workflows below are plain Temporal Go SDK workflow code. Their type
// names are their function names; every test registers them on its own task
// queue, so tests never see each other's tasks.

// HelloWorkflow runs one activity, "Greet", and returns its result.
func HelloWorkflow(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, "Greet", name).Get(ctx, &out)
	return out, err
}

// activityCall says which activity RunActivityWorkflow runs, and how.
type activityCall struct {
	Name         string
	Arg          string
	StartToClose time.Duration
	Heartbeat    time.Duration
	Retry        *temporal.RetryPolicy
}

// RunActivityWorkflow runs one activity as call describes and returns its
// result or its error (an *temporal.ActivityError) unchanged.
func RunActivityWorkflow(ctx workflow.Context, call activityCall) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: call.StartToClose,
		HeartbeatTimeout:    call.Heartbeat,
		RetryPolicy:         call.Retry,
	})
	var out string
	err := workflow.ExecuteActivity(ctx, call.Name, call.Arg).Get(ctx, &out)
	return out, err
}

// SleepWorkflow sleeps d on a durable timer and returns how much workflow
// time passed across the sleep.
func SleepWorkflow(ctx workflow.Context, d time.Duration) (time.Duration, error) {
	before := workflow.Now(ctx)
	if err := workflow.Sleep(ctx, d); err != nil {
		return 0, err
	}
	return workflow.Now(ctx).Sub(before), nil
}

// CancelTimerWorkflow starts a long timer, lets a short one fire (so the
// long timer is started in an earlier workflow task than its cancellation),
// cancels the long one and reports how waiting on it ended.
func CancelTimerWorkflow(ctx workflow.Context) (string, error) {
	timerCtx, cancel := workflow.WithCancel(ctx)
	long := workflow.NewTimer(timerCtx, time.Hour)
	if err := workflow.Sleep(ctx, 100*time.Millisecond); err != nil {
		return "", err
	}
	cancel()
	err := long.Get(ctx, nil)
	if !temporal.IsCanceledError(err) {
		return "", fmt.Errorf("waiting on the canceled timer returned %v, want a CanceledError", err)
	}
	return "canceled", nil
}

// SignalsWorkflow receives n signals named "sig" and returns them in order.
func SignalsWorkflow(ctx workflow.Context, n int) ([]string, error) {
	ch := workflow.GetSignalChannel(ctx, "sig")
	var got []string
	for range n {
		var s string
		ch.Receive(ctx, &s)
		got = append(got, s)
	}
	return got, nil
}

// ActivityThenSignalWorkflow runs activity "Step" (arg "one"), then waits for
// signal "sig", then runs "Step" again with the signal's value, and returns
// the three joined. StartToClose is generous: the tests block "Step" at will.
func ActivityThenSignalWorkflow(ctx workflow.Context) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	var first, second, sig string
	if err := workflow.ExecuteActivity(ctx, "Step", "one").Get(ctx, &first); err != nil {
		return "", err
	}
	workflow.GetSignalChannel(ctx, "sig").Receive(ctx, &sig)
	if err := workflow.ExecuteActivity(ctx, "Step", sig).Get(ctx, &second); err != nil {
		return "", err
	}
	return first + "|" + sig + "|" + second, nil
}

// WaitSignalWorkflow returns the value of the first "sig" signal.
func WaitSignalWorkflow(ctx workflow.Context) (string, error) {
	var s string
	workflow.GetSignalChannel(ctx, "sig").Receive(ctx, &s)
	return s, nil
}
