package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/raftflow/engine/sdk"
	"github.com/raftflow/engine/sdk/enginetest"
)

// Greet is an activity: plain Temporal code.
func Greet(_ context.Context, name string) (string, error) { return "Hello, " + name + "!", nil }

// GreetWorkflow is a workflow: plain Temporal code, with a typed activity
// call.
func GreetWorkflow(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	return sdk.ExecuteActivity(ctx, Greet, name).Get(ctx)
}

// exampleLogger keeps the SDK's log out of the examples' output.
var exampleLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// Dial a cluster with every node's address; a worker and a starter share
// the client. The engine here is an in-process one (enginetest); against a
// real cluster the endpoints are the nodes' gRPC addresses.
func ExampleDial() {
	srv, err := enginetest.StartServer()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx := context.Background()
	c, err := sdk.Dial(ctx, sdk.Options{Endpoints: srv.Endpoints(), Logger: exampleLogger})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	w := worker.New(c, "greetings", worker.Options{})
	w.RegisterWorkflow(GreetWorkflow)
	w.RegisterActivity(Greet)
	if err := w.Start(); err != nil {
		log.Fatal(err)
	}
	defer w.Stop()

	run, err := sdk.ExecuteWorkflow(ctx, c, client.StartWorkflowOptions{ID: "greet-1", TaskQueue: "greetings"}, GreetWorkflow, "Temporal")
	if err != nil {
		log.Fatal(err)
	}
	greeting, err := run.Get(ctx) // a string: GreetWorkflow's result type
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(greeting)
	// Output: Hello, Temporal!
}

// A client of a three-node cluster keeps working while a node is down: here
// the leader is killed between two workflows.
func ExampleDial_cluster() {
	srv, err := enginetest.StartServer(enginetest.Nodes(3))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx := context.Background()
	c, err := sdk.Dial(ctx, sdk.Options{Endpoints: srv.Endpoints(), Logger: exampleLogger})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	w := worker.New(c, "greetings", worker.Options{})
	w.RegisterWorkflow(GreetWorkflow)
	w.RegisterActivity(Greet)
	if err := w.Start(); err != nil {
		log.Fatal(err)
	}
	defer w.Stop()

	for _, name := range []string{"before", "after"} {
		run, err := sdk.ExecuteWorkflow(ctx, c, client.StartWorkflowOptions{ID: "greet-" + name, TaskQueue: "greetings"}, GreetWorkflow, name)
		if err != nil {
			log.Fatal(err)
		}
		greeting, err := run.Get(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(greeting)
		if name == "before" {
			srv.Kill(srv.Leader())
		}
	}
	// Output:
	// Hello, before!
	// Hello, after!
}

// The signals and the query of CounterWorkflow, declared once for the
// workflow and its clients.
var (
	Add   = sdk.NewSignal[int]("add")
	Stop  = sdk.NewSignal[string]("stop")
	Total = sdk.NewQuery[int]("total")
)

// CounterWorkflow adds up Add signals until a Stop signal.
func CounterWorkflow(ctx workflow.Context, start int) (int, error) {
	sum := start
	if err := Total.SetHandler(ctx, func() (int, error) { return sum, nil }); err != nil {
		return 0, err
	}
	for stopped := false; !stopped; {
		sel := workflow.NewSelector(ctx)
		Add.AddToSelector(ctx, sel, func(n int) { sum += n })
		Stop.AddToSelector(ctx, sel, func(string) { stopped = true })
		sel.Select(ctx)
	}
	return sum, nil
}

// Typed signals and queries: their payload types are checked by the
// compiler, in the workflow and in clients.
func ExampleSignal() {
	srv, err := enginetest.StartServer()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	c, err := sdk.Dial(ctx, sdk.Options{Endpoints: srv.Endpoints(), Logger: exampleLogger})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	w := worker.New(c, "counters", worker.Options{})
	w.RegisterWorkflow(CounterWorkflow)
	if err := w.Start(); err != nil {
		log.Fatal(err)
	}
	defer w.Stop()

	run, err := sdk.ExecuteWorkflow(ctx, c, client.StartWorkflowOptions{ID: "counter-1", TaskQueue: "counters"}, CounterWorkflow, 10)
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range []int{1, 2, 3} {
		if err := Add.Send(ctx, c, run.ID(), "", n); err != nil {
			log.Fatal(err)
		}
	}
	// A query sees the signals processed so far; poll until all three are.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for ; ; <-tick.C {
		if sum, err := Total.Query(ctx, c, run.ID(), ""); err == nil && sum == 16 {
			fmt.Println("total so far:", sum)
			break
		}
	}
	if err := Stop.Send(ctx, c, run.ID(), "", "done"); err != nil {
		log.Fatal(err)
	}
	sum, err := run.Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("final:", sum)
	// Output:
	// total so far: 16
	// final: 16
}

// Reserve, Release, Charge and Refund are the activities of the saga
// example.
func Reserve(_ context.Context, item string) (string, error) {
	fmt.Println("reserve", item)
	return "r-" + item, nil
}

func Release(_ context.Context, reservation string) (string, error) {
	fmt.Println("release", reservation)
	return "", nil
}

func Charge(_ context.Context, cents int) (string, error) {
	fmt.Println("charge", cents)
	return "c-1", nil
}

func Refund(_ context.Context, charge string) (string, error) {
	fmt.Println("refund", charge)
	return "", nil
}

func Ship(_ context.Context, item string) (string, error) {
	fmt.Println("ship", item, "fails")
	return "", temporal.NewNonRetryableApplicationError("no carrier", "Undeliverable", nil)
}

// OrderWorkflow adds a compensation after each step that succeeded; when
// shipping fails, they run newest first.
func OrderWorkflow(ctx workflow.Context, item string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	saga := sdk.NewSaga(sdk.SagaOptions{})
	res, err := sdk.ExecuteActivity(ctx, Reserve, item).Get(ctx)
	if err != nil {
		return "", errors.Join(err, saga.Compensate(ctx))
	}
	sdk.AddActivityCompensation(saga, Release, res)
	charge, err := sdk.ExecuteActivity(ctx, Charge, 2500).Get(ctx)
	if err != nil {
		return "", errors.Join(err, saga.Compensate(ctx))
	}
	sdk.AddActivityCompensation(saga, Refund, charge)
	parcel, err := sdk.ExecuteActivity(ctx, Ship, item).Get(ctx)
	if err != nil {
		return "", errors.Join(err, saga.Compensate(ctx))
	}
	return parcel, nil
}

// A saga undoes the steps done so far, in reverse order, when a step fails.
func ExampleSaga() {
	srv, err := enginetest.StartServer()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	c, err := sdk.Dial(ctx, sdk.Options{Endpoints: srv.Endpoints(), Logger: exampleLogger})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	w := worker.New(c, "orders", worker.Options{})
	w.RegisterWorkflow(OrderWorkflow)
	for _, a := range []any{Reserve, Release, Charge, Refund, Ship} {
		w.RegisterActivity(a)
	}
	if err := w.Start(); err != nil {
		log.Fatal(err)
	}
	defer w.Stop()

	run, err := sdk.ExecuteWorkflow(ctx, c, client.StartWorkflowOptions{ID: "order-1", TaskQueue: "orders"}, OrderWorkflow, "widget")
	if err != nil {
		log.Fatal(err)
	}
	_, err = run.Get(ctx)
	fmt.Println("order failed:", err != nil)
	// Output:
	// reserve widget
	// charge 2500
	// ship widget fails
	// refund c-1
	// release r-widget
	// order failed: true
}
