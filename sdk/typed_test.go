package sdk_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/raftflow/engine/internal/testutil"
	"github.com/raftflow/engine/sdk"
	"github.com/raftflow/engine/sdk/enginetest"
)

type greeting struct {
	Name  string
	Times int
}

type tally struct {
	Greeting string
	Total    int
}

func greet(_ context.Context, in greeting) (string, error) {
	return strings.Repeat("hi ", in.Times) + in.Name, nil
}

func shout(_ context.Context, s string) (string, error) { return strings.ToUpper(s), nil }

// journal records what the no-result activity was given.
var journal struct {
	sync.Mutex
	lines []string
}

func note(_ context.Context, s string) error {
	journal.Lock()
	defer journal.Unlock()
	journal.lines = append(journal.lines, s)
	return nil
}

var (
	addSignal  = sdk.NewSignal[int]("add")
	doneSignal = sdk.NewSignal[string]("done")
	totalQuery = sdk.NewQuery[int]("total")
	addUpdate  = sdk.NewUpdate[int, int]("add-update")
)

// tallyWorkflow greets through a typed activity, a no-result activity and
// a local activity, then sums "add" signals (and updates) until "done".
func tallyWorkflow(ctx workflow.Context, in greeting) (tally, error) {
	total := 0
	if err := totalQuery.SetHandler(ctx, func() (int, error) { return total, nil }); err != nil {
		return tally{}, err
	}
	err := addUpdate.SetHandlerWithValidator(ctx,
		func(_ workflow.Context, n int) (int, error) { total += n; return total, nil },
		func(_ workflow.Context, n int) error {
			if n < 0 {
				return errors.New("negative")
			}
			return nil
		})
	if err != nil {
		return tally{}, err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	g, err := sdk.ExecuteActivity(ctx, greet, in).Get(ctx)
	if err != nil {
		return tally{}, err
	}
	if _, err := sdk.ExecuteActivityNoResult(ctx, note, g).Get(ctx); err != nil {
		return tally{}, err
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	if g, err = sdk.ExecuteLocalActivity(lctx, shout, g).Get(ctx); err != nil {
		return tally{}, err
	}
	for done := false; !done; {
		sel := workflow.NewSelector(ctx)
		addSignal.AddToSelector(ctx, sel, func(n int) { total += n })
		doneSignal.AddToSelector(ctx, sel, func(string) { done = true })
		sel.Select(ctx)
	}
	for {
		n, ok := addSignal.ReceiveAsync(ctx)
		if !ok {
			break
		}
		total += n
	}
	return tally{Greeting: g, Total: total}, nil
}

func registerTally(r worker.Registry) {
	r.RegisterWorkflow(tallyWorkflow)
	r.RegisterActivity(greet)
	r.RegisterActivity(note)
}

// unimplemented reports whether err says the engine does not serve the
// call yet.
func unimplemented(err error) bool {
	var u *serviceerror.Unimplemented
	return errors.As(err, &u)
}

func TestTypedHelpers(t *testing.T) {
	srv := enginetest.Start(t)
	c := srv.Client()
	tq := testutil.TaskQueue(t)
	testutil.StartWorker(t, c, tq, registerTally)
	ctx := testutil.Context(t, 60*time.Second)

	run, err := sdk.ExecuteWorkflow(ctx, c, client.StartWorkflowOptions{ID: "tally", TaskQueue: tq}, tallyWorkflow, greeting{Name: "ann", Times: 2})
	if err != nil {
		t.Fatal(err)
	}
	if run.ID() != "tally" || run.RunID() == "" || run.Raw() == nil {
		t.Fatalf("run %q %q", run.ID(), run.RunID())
	}
	for _, n := range []int{1, 2, 3} {
		if err := addSignal.Send(ctx, c, run.ID(), "", n); err != nil {
			t.Fatal(err)
		}
	}

	// Queries and updates are the engine's issue 3: check them when served.
	if got, err := totalQuery.Query(ctx, c, run.ID(), ""); unimplemented(err) {
		t.Logf("query not served by the engine yet: %v", err)
	} else if err != nil || got < 0 || got > 6 {
		t.Errorf("query total: %d, %v", got, err)
	}
	if got, err := addUpdate.Execute(ctx, c, run.ID(), "", 4); unimplemented(err) {
		t.Logf("update not served by the engine yet: %v", err)
	} else if err != nil || got < 4 {
		t.Errorf("update: %d, %v", got, err)
	} else {
		if _, err := addUpdate.Execute(ctx, c, run.ID(), "", -1); err == nil {
			t.Error("validator did not reject a negative update")
		}
		if err := addSignal.Send(ctx, c, run.ID(), "", -4); err != nil { // keep the total at 6
			t.Fatal(err)
		}
	}

	if err := doneSignal.Send(ctx, c, run.ID(), run.RunID(), "that's all"); err != nil {
		t.Fatal(err)
	}
	got, err := run.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (tally{Greeting: "HI HI ANN", Total: 6}); got != want {
		t.Fatalf("result %+v, want %+v", got, want)
	}
	again, err := sdk.GetWorkflow(ctx, c, tallyWorkflow, run.ID(), "").Get(ctx)
	if err != nil || again != got {
		t.Fatalf("GetWorkflow: %+v, %v", again, err)
	}
	journal.Lock()
	lines := append([]string(nil), journal.lines...)
	journal.Unlock()
	if len(lines) != 1 || lines[0] != "hi hi ann" {
		t.Fatalf("no-result activity got %q", lines)
	}
	if addSignal.Name() != "add" || totalQuery.Name() != "total" || addUpdate.Name() != "add-update" {
		t.Fatal("names")
	}
}

func childGreeting(ctx workflow.Context, in greeting) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	return sdk.ExecuteActivity(ctx, greet, in).Get(ctx)
}

// parentWorkflow runs childGreeting as a typed child and reports the
// child's workflow ID with its result.
func parentWorkflow(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: "child-of-" + name})
	child := sdk.ExecuteChildWorkflow(ctx, childGreeting, greeting{Name: name, Times: 1})
	exec, err := child.Started(ctx)
	if err != nil {
		return "", err
	}
	out, err := child.Get(ctx)
	if err != nil || !child.IsReady() || child.Underlying() == nil {
		return "", err
	}
	return exec.ID + ": " + out, nil
}

func TestTypedChildWorkflow(t *testing.T) {
	c := engineClient(t)
	tq := testutil.TaskQueue(t)
	testutil.StartWorker(t, c, tq, func(r worker.Registry) {
		r.RegisterWorkflow(parentWorkflow)
		r.RegisterWorkflow(childGreeting)
		r.RegisterActivity(greet)
	})
	ctx := testutil.Context(t, 60*time.Second)
	run, err := sdk.ExecuteWorkflow(ctx, c, client.StartWorkflowOptions{ID: "parent", TaskQueue: tq}, parentWorkflow, "bo")
	if err != nil {
		t.Fatal(err)
	}
	got, err := run.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := "child-of-bo: hi bo"; got != want {
		t.Fatalf("result %q, want %q", got, want)
	}
}
