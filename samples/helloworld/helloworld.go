// Package helloworld is Temporal's hello-world sample, unchanged: a workflow
// that calls one activity. It runs against raftflow as it runs against
// Temporal.
package helloworld

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/workflow"
)

// TaskQueue is the queue the worker polls and the starter starts on.
const TaskQueue = "hello-world"

// Workflow greets name through an activity.
func Workflow(ctx workflow.Context, name string) (string, error) {
	ao := workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second}
	ctx = workflow.WithActivityOptions(ctx, ao)
	logger := workflow.GetLogger(ctx)
	logger.Info("HelloWorld workflow started", "name", name)
	var result string
	if err := workflow.ExecuteActivity(ctx, Activity, name).Get(ctx, &result); err != nil {
		logger.Error("Activity failed.", "Error", err)
		return "", err
	}
	logger.Info("HelloWorld workflow completed.", "result", result)
	return result, nil
}

// Activity builds the greeting.
func Activity(ctx context.Context, name string) (string, error) {
	activity.GetLogger(ctx).Info("Activity", "name", name)
	return "Hello " + name + "!", nil
}
