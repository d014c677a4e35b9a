package sdk

import (
	"context"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
)

// Signal is a signal name bound to its payload type. Declare it once, next
// to the workflow, and use it on both sides:
//
//	var Approve = sdk.NewSignal[Vote]("approve")
//	v := Approve.Receive(ctx)                          // in the workflow
//	err := Approve.Send(ctx, c, id, "", Vote{By: "ann"}) // in a client
type Signal[T any] struct{ name string }

// NewSignal declares a signal.
func NewSignal[T any](name string) Signal[T] { return Signal[T]{name: name} }

// Name is the signal's name on the wire.
func (s Signal[T]) Name() string { return s.name }

// Send signals the workflow run (runID empty: the current run), like
// c.SignalWorkflow.
func (s Signal[T]) Send(ctx context.Context, c client.Client, workflowID, runID string, v T) error {
	return c.SignalWorkflow(ctx, workflowID, runID, s.name, v)
}

// Channel is the signal's channel in workflow code.
func (s Signal[T]) Channel(ctx workflow.Context) workflow.ReceiveChannel {
	return workflow.GetSignalChannel(ctx, s.name)
}

// Receive blocks (in workflow code) until a signal arrives and returns its
// value.
func (s Signal[T]) Receive(ctx workflow.Context) T {
	var v T
	s.Channel(ctx).Receive(ctx, &v)
	return v
}

// ReceiveAsync returns a signal that already arrived, if any.
func (s Signal[T]) ReceiveAsync(ctx workflow.Context) (T, bool) {
	var v T
	ok := s.Channel(ctx).ReceiveAsync(&v)
	return v, ok
}

// AddToSelector adds a case to sel: when a signal arrives, it is received
// and fn gets its value.
func (s Signal[T]) AddToSelector(ctx workflow.Context, sel workflow.Selector, fn func(T)) workflow.Selector {
	return sel.AddReceive(s.Channel(ctx), func(ch workflow.ReceiveChannel, _ bool) {
		var v T
		ch.Receive(ctx, &v)
		fn(v)
	})
}

// Query is a query name bound to its result type (a query without
// arguments; for one with arguments use workflow.SetQueryHandler and
// client.QueryWorkflow).
type Query[Out any] struct{ name string }

// NewQuery declares a query.
func NewQuery[Out any](name string) Query[Out] { return Query[Out]{name: name} }

// Name is the query's name on the wire.
func (q Query[Out]) Name() string { return q.name }

// SetHandler answers the query from workflow code (workflow.SetQueryHandler).
// The handler must not block or change workflow state.
func (q Query[Out]) SetHandler(ctx workflow.Context, h func() (Out, error)) error {
	return workflow.SetQueryHandler(ctx, q.name, h)
}

// Query asks the workflow run (runID empty: the current run), like
// c.QueryWorkflow, and decodes the answer.
func (q Query[Out]) Query(ctx context.Context, c client.Client, workflowID, runID string) (Out, error) {
	var v Out
	res, err := c.QueryWorkflow(ctx, workflowID, runID, q.name)
	if err != nil {
		return v, err
	}
	err = res.Get(&v)
	return v, err
}

// Update is an update name bound to its argument and result types.
type Update[In, Out any] struct{ name string }

// NewUpdate declares an update.
func NewUpdate[In, Out any](name string) Update[In, Out] { return Update[In, Out]{name: name} }

// Name is the update's name on the wire.
func (u Update[In, Out]) Name() string { return u.name }

// SetHandler handles the update in workflow code
// (workflow.SetUpdateHandler).
func (u Update[In, Out]) SetHandler(ctx workflow.Context, h func(workflow.Context, In) (Out, error)) error {
	return workflow.SetUpdateHandler(ctx, u.name, h)
}

// SetHandlerWithValidator is SetHandler with a validator that may reject
// the update before it is recorded in history (it must not block or
// change workflow state).
func (u Update[In, Out]) SetHandlerWithValidator(ctx workflow.Context, h func(workflow.Context, In) (Out, error), validate func(workflow.Context, In) error) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, u.name, h, workflow.UpdateHandlerOptions{Validator: validate})
}

// Execute sends the update to the workflow run (runID empty: the current
// run) and waits for its result, like c.UpdateWorkflow with WaitForStage
// completed.
func (u Update[In, Out]) Execute(ctx context.Context, c client.Client, workflowID, runID string, in In) (Out, error) {
	var v Out
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, RunID: runID, UpdateName: u.name,
		Args: []any{in}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return v, err
	}
	err = h.Get(ctx, &v)
	return v, err
}
