// Package saga is an order flow across three services, written with
// raftflow's sdk.Saga: reserve inventory, charge the payment, ship. When a
// step fails, the steps already done are undone in reverse order (refund
// the payment, then release the inventory) and the workflow fails with the
// whole trail.
package saga

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/raftflow/engine/sdk"
)

// TaskQueue is the queue the worker polls and the starter starts on.
const TaskQueue = "saga-orders"

// FailureType is the application error type of a failed order; its
// details are the trail ([]string).
const FailureType = "OrderFailed"

// Order is what the customer asked for.
type Order struct {
	ID          string
	Item        string
	Quantity    int
	AmountCents int64
	ShipTo      string
}

// Result is a shipped order with the trail of what was done.
type Result struct {
	OrderID  string
	Shipment Shipment
	Trail    []string
}

// OrderWorkflow runs the order. Each step that succeeds registers its
// compensation; if a later step fails, the saga runs them newest first and
// the workflow fails with an application error of type FailureType whose
// details are the trail: every step and compensation, in order.
func OrderWorkflow(ctx workflow.Context, o Order) (Result, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, MaximumAttempts: 5},
	})
	var s *Services // activity references only; the worker holds the real one
	var trail []string
	record := func(step, msg string, err error) {
		if err != nil {
			msg = "FAILED: " + reason(err)
		}
		trail = append(trail, step+": "+msg)
	}
	saga := sdk.NewSaga(sdk.SagaOptions{})
	undo := func(step string, fn func(workflow.Context) (string, error)) {
		saga.AddCompensation(step, func(ctx workflow.Context) error {
			msg, err := fn(ctx)
			record(step, msg, err)
			return err
		})
	}
	fail := func(step string, err error) (Result, error) {
		record(step, "", err)
		cerr := saga.Compensate(ctx)
		msg := fmt.Sprintf("order %s failed at %s: %s", o.ID, step, reason(err))
		if cerr != nil {
			msg += "; some compensations failed too"
		}
		return Result{}, temporal.NewNonRetryableApplicationError(msg, FailureType, errors.Join(err, cerr), trail)
	}

	res, err := sdk.ExecuteActivity(ctx, s.ReserveInventory, o).Get(ctx)
	if err != nil {
		return fail("reserve inventory", err)
	}
	record("reserve inventory", fmt.Sprintf("reserved %d x %s (%s)", res.Quantity, res.Item, res.ID), nil)
	undo("release inventory", func(ctx workflow.Context) (string, error) {
		return sdk.ExecuteActivity(ctx, s.ReleaseInventory, res).Get(ctx)
	})

	charge, err := sdk.ExecuteActivity(ctx, s.ChargePayment, o).Get(ctx)
	if err != nil {
		return fail("charge payment", err)
	}
	record("charge payment", fmt.Sprintf("charged %s (%s)", money(charge.AmountCents), charge.ID), nil)
	undo("refund payment", func(ctx workflow.Context) (string, error) {
		return sdk.ExecuteActivity(ctx, s.RefundPayment, charge).Get(ctx)
	})

	ship, err := sdk.ExecuteActivity(ctx, s.Ship, o).Get(ctx)
	if err != nil {
		return fail("ship", err)
	}
	record("ship", fmt.Sprintf("shipped with %s (%s)", ship.Carrier, ship.ID), nil)
	return Result{OrderID: o.ID, Shipment: ship, Trail: trail}, nil
}

// reason is the innermost message of an activity failure.
func reason(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}

func money(cents int64) string { return fmt.Sprintf("$%d.%02d", cents/100, cents%100) }

// FailedError is a failed order as the starter sees it.
type FailedError struct {
	Message string
	Trail   []string
}

func (e *FailedError) Error() string { return e.Message }

// Place starts the order workflow (workflow ID "order-<id>") and waits for
// it. A failed order is returned as a *FailedError carrying the trail.
func Place(ctx context.Context, c client.Client, o Order) (Result, error) {
	run, err := sdk.ExecuteWorkflow(ctx, c, client.StartWorkflowOptions{ID: "order-" + o.ID, TaskQueue: TaskQueue}, OrderWorkflow, o)
	if err != nil {
		return Result{}, err
	}
	res, err := run.Get(ctx)
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == FailureType {
		f := &FailedError{Message: app.Message()}
		if derr := app.Details(&f.Trail); derr != nil {
			return Result{}, fmt.Errorf("%w (and its trail is unreadable: %v)", err, derr)
		}
		return Result{}, f
	}
	return res, err
}

// Report writes what Place returned, the trail numbered, as the starter
// prints it.
func Report(w io.Writer, o Order, res Result, err error) {
	var f *FailedError
	trail := res.Trail
	switch {
	case errors.As(err, &f):
		fmt.Fprintf(w, "Order %s FAILED: %s\n", o.ID, f.Message)
		trail = f.Trail
	case err != nil:
		fmt.Fprintf(w, "Order %s: %v\n", o.ID, err)
		return
	default:
		fmt.Fprintf(w, "Order %s shipped: %s via %s\n", o.ID, res.Shipment.ID, res.Shipment.Carrier)
	}
	fmt.Fprintln(w, "Trail:")
	for i, step := range trail {
		fmt.Fprintf(w, "  %d. %s\n", i+1, step)
	}
}
