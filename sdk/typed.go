package sdk

import (
	"context"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
)

// Future is a workflow.Future whose result type is known: Get returns it
// instead of decoding into an untyped pointer.
type Future[T any] struct {
	f        workflow.Future
	noResult bool // the activity returns only an error
}

// Get blocks until the result is ready and returns it (the zero T with the
// error on failure).
func (f Future[T]) Get(ctx workflow.Context) (T, error) {
	var v T
	if f.noResult {
		return v, f.f.Get(ctx, nil)
	}
	err := f.f.Get(ctx, &v)
	return v, err
}

// IsReady reports whether Get would return at once.
func (f Future[T]) IsReady() bool { return f.f.IsReady() }

// Underlying is the SDK's future, for what this type does not wrap.
func (f Future[T]) Underlying() workflow.Future { return f.f }

// AddToSelector adds a case to sel: when the result is ready, fn gets it.
func (f Future[T]) AddToSelector(ctx workflow.Context, sel workflow.Selector, fn func(T, error)) workflow.Selector {
	return sel.AddFuture(f.f, func(workflow.Future) { fn(f.Get(ctx)) })
}

// ExecuteActivity schedules the activity fn with input in, from workflow
// code, like workflow.ExecuteActivity(ctx, fn, in); the activity options
// come from ctx (workflow.WithActivityOptions). Unlike the SDK's version,
// the compiler checks that in is what fn takes and Get returns what fn
// returns. fn is registered on the worker as usual (its name is fn's name,
// as with the SDK).
func ExecuteActivity[In, Out any](ctx workflow.Context, fn func(context.Context, In) (Out, error), in In) Future[Out] {
	return Future[Out]{f: workflow.ExecuteActivity(ctx, fn, in)}
}

// ExecuteActivityNoResult is ExecuteActivity for an activity that returns
// only an error. Get's value is always struct{}{}.
func ExecuteActivityNoResult[In any](ctx workflow.Context, fn func(context.Context, In) error, in In) Future[struct{}] {
	return Future[struct{}]{f: workflow.ExecuteActivity(ctx, fn, in), noResult: true}
}

// ExecuteLocalActivity is ExecuteActivity for a local activity (options from
// workflow.WithLocalActivityOptions; fn need not be registered).
func ExecuteLocalActivity[In, Out any](ctx workflow.Context, fn func(context.Context, In) (Out, error), in In) Future[Out] {
	return Future[Out]{f: workflow.ExecuteLocalActivity(ctx, fn, in)}
}

// Run is a started workflow whose result type is known.
type Run[Out any] struct{ run client.WorkflowRun }

// ID is the workflow ID.
func (r Run[Out]) ID() string { return r.run.GetID() }

// RunID is the run ID of the run that was started (or found).
func (r Run[Out]) RunID() string { return r.run.GetRunID() }

// Get waits for the workflow to close and returns its result (following
// continue-as-new like client.WorkflowRun.Get). On failure the error is the
// SDK's (*temporal.WorkflowExecutionError wrapping the cause).
func (r Run[Out]) Get(ctx context.Context) (Out, error) {
	var v Out
	err := r.run.Get(ctx, &v)
	return v, err
}

// Raw is the SDK's client.WorkflowRun.
func (r Run[Out]) Raw() client.WorkflowRun { return r.run }

// ExecuteWorkflow starts the workflow wf with input in, like
// c.ExecuteWorkflow(ctx, opts, wf, in), with the argument and result types
// checked by the compiler.
func ExecuteWorkflow[In, Out any](ctx context.Context, c client.Client, opts client.StartWorkflowOptions, wf func(workflow.Context, In) (Out, error), in In) (Run[Out], error) {
	run, err := c.ExecuteWorkflow(ctx, opts, wf, in)
	if err != nil {
		return Run[Out]{}, err
	}
	return Run[Out]{run: run}, nil
}

// GetWorkflow returns a handle on an existing workflow run of wf (runID
// empty: the latest run), like c.GetWorkflow; wf only fixes the result type.
func GetWorkflow[In, Out any](ctx context.Context, c client.Client, wf func(workflow.Context, In) (Out, error), workflowID, runID string) Run[Out] {
	return Run[Out]{run: c.GetWorkflow(ctx, workflowID, runID)}
}

// ChildFuture is a started child workflow whose result type is known.
type ChildFuture[Out any] struct{ f workflow.ChildWorkflowFuture }

// Get blocks until the child closes and returns its result.
func (c ChildFuture[Out]) Get(ctx workflow.Context) (Out, error) {
	var v Out
	err := c.f.Get(ctx, &v)
	return v, err
}

// Started blocks until the child has started (or failed to) and returns its
// execution.
func (c ChildFuture[Out]) Started(ctx workflow.Context) (workflow.Execution, error) {
	var e workflow.Execution
	err := c.f.GetChildWorkflowExecution().Get(ctx, &e)
	return e, err
}

// IsReady reports whether Get would return at once.
func (c ChildFuture[Out]) IsReady() bool { return c.f.IsReady() }

// Underlying is the SDK's future, for signals to the child and selectors.
func (c ChildFuture[Out]) Underlying() workflow.ChildWorkflowFuture { return c.f }

// ExecuteChildWorkflow starts the child workflow wf with input in, from
// workflow code, like workflow.ExecuteChildWorkflow(ctx, wf, in) (options
// from workflow.WithChildOptions), with the types checked by the compiler.
func ExecuteChildWorkflow[In, Out any](ctx workflow.Context, wf func(workflow.Context, In) (Out, error), in In) ChildFuture[Out] {
	return ChildFuture[Out]{f: workflow.ExecuteChildWorkflow(ctx, wf, in)}
}
