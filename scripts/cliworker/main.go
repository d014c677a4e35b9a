// Command cliworker is the worker scripts/cli-smoke.sh drives with the
// official temporal CLI: a workflow with a signal, a query, an update and
// one activity, and one whose activity runs until an operator resets it
// (`temporal activity pause|update-options|unpause|reset`).
//
// Usage: cliworker -address HOST:PORT [-namespace NS] [-task-queue TQ]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Compose is the activity.
func Compose(ctx context.Context, greeting, name string) (string, error) {
	return greeting + ", " + name, nil
}

// Heartbeating heartbeats until its context ends: a reset (the SDK
// cancels it with activity.ErrActivityReset) completes it with "reset";
// anything else (a pause) fails the attempt.
func Heartbeating(ctx context.Context) (string, error) {
	for {
		activity.RecordHeartbeat(ctx, "progress")
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			if errors.Is(context.Cause(ctx), activity.ErrActivityReset) {
				return "reset", nil
			}
			return "", context.Cause(ctx)
		}
	}
}

// Operated runs Heartbeating and returns its result.
func Operated(ctx workflow.Context) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, HeartbeatTimeout: 2 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, BackoffCoefficient: 1}})
	var out string
	err := workflow.ExecuteActivity(ctx, Heartbeating).Get(ctx, &out)
	return out, err
}

// Greet runs the activity once and returns (for `workflow execute`).
func Greet(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, Compose, "Hello", name).Get(ctx, &out)
	return out, err
}

// Conversation waits for signals until "finish" (or cancellation),
// answering the "state" query and the "set-greeting" update.
func Conversation(ctx workflow.Context, name string) (string, error) {
	greeting := "Hello"
	var heard []string
	if err := workflow.SetQueryHandler(ctx, "state", func() (string, error) {
		return fmt.Sprintf("greeting=%s heard=%s", greeting, strings.Join(heard, ",")), nil
	}); err != nil {
		return "", err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, "set-greeting", func(ctx workflow.Context, g string) (string, error) {
		old := greeting
		greeting = g
		return old, nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, g string) error {
		if g == "" {
			return errors.New("empty greeting")
		}
		return nil
	}}); err != nil {
		return "", err
	}
	greetCh := workflow.GetSignalChannel(ctx, "greet")
	finishCh := workflow.GetSignalChannel(ctx, "finish")
	done := false
	for !done {
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(greetCh, func(c workflow.ReceiveChannel, _ bool) {
			var who string
			c.Receive(ctx, &who)
			heard = append(heard, who)
		})
		sel.AddReceive(finishCh, func(c workflow.ReceiveChannel, _ bool) {
			c.Receive(ctx, nil)
			done = true
		})
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) { done = true })
		sel.Select(ctx)
	}
	if ctx.Err() != nil {
		return "", temporal.NewCanceledError("conversation canceled")
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(actx, Compose, greeting, name).Get(ctx, &out)
	return out, err
}

func main() {
	addr := flag.String("address", "127.0.0.1:7233", "engine gRPC address")
	ns := flag.String("namespace", "default", "namespace")
	tq := flag.String("task-queue", "cli", "task queue")
	flag.Parse()
	// Worker heartbeats every second: `temporal worker list` finds it soon.
	c, err := client.Dial(client.Options{HostPort: *addr, Namespace: *ns, WorkerHeartbeatInterval: time.Second})
	if err != nil {
		log.Fatalf("cliworker: dial: %v", err)
	}
	defer c.Close()
	w := worker.New(c, *tq, worker.Options{})
	w.RegisterWorkflow(Greet)
	w.RegisterWorkflow(Conversation)
	w.RegisterActivity(Compose)
	w.RegisterWorkflow(Operated)
	w.RegisterActivity(Heartbeating)
	if err := w.Start(); err != nil {
		log.Fatalf("cliworker: start: %v", err)
	}
	fmt.Fprintln(os.Stderr, "cliworker: polling", *tq)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	w.Stop()
}
