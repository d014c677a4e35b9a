package sdk_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/raftflow/engine/internal/testutil"
	"github.com/raftflow/engine/sdk"
)

// undoLog records, per test case, the compensations that ran, in order.
var undoLog struct {
	sync.Mutex
	byCase map[string][]string
}

type undoStep struct {
	Case, Name string
	Fail       bool
}

func undo(_ context.Context, s undoStep) (string, error) {
	undoLog.Lock()
	defer undoLog.Unlock()
	if undoLog.byCase == nil {
		undoLog.byCase = map[string][]string{}
	}
	undoLog.byCase[s.Case] = append(undoLog.byCase[s.Case], s.Name)
	if s.Fail {
		return "", temporal.NewNonRetryableApplicationError("cannot undo "+s.Name, "UndoFailed", nil)
	}
	return "undid " + s.Name, nil
}

func undone(c string) []string {
	undoLog.Lock()
	defer undoLog.Unlock()
	return slices.Clone(undoLog.byCase[c])
}

type sagaCase struct {
	Name        string
	Parallel    bool
	StopOnError bool
	Fail        []string // compensations that fail
}

type sagaReport struct {
	Err       string
	Failed    []string // CompensationError.Failures names
	Ran       int
	AppErrors int  // failures that unwrap to a *temporal.ApplicationError
	Second    bool // a second Compensate returned nil
	Left      int  // Len after Compensate
}

// sagaWorkflow registers compensations a, b, c (c through AddCompensation,
// the others as activities), then compensates.
func sagaWorkflow(ctx workflow.Context, sc sagaCase) (sagaReport, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	saga := sdk.NewSaga(sdk.SagaOptions{Parallel: sc.Parallel, StopOnError: sc.StopOnError})
	step := func(name string) undoStep {
		return undoStep{Case: sc.Name, Name: name, Fail: slices.Contains(sc.Fail, name)}
	}
	sdk.AddActivityCompensation(saga, undo, step("a"))
	sdk.AddActivityCompensation(saga, undo, step("b"))
	saga.AddCompensation("c", func(ctx workflow.Context) error {
		_, err := sdk.ExecuteActivity(ctx, undo, step("c")).Get(ctx)
		return err
	})
	err := saga.Compensate(ctx)
	rep := sagaReport{Second: saga.Compensate(ctx) == nil, Left: saga.Len()}
	if err == nil {
		return rep, nil
	}
	rep.Err = err.Error()
	var ce *sdk.CompensationError
	if errors.As(err, &ce) {
		rep.Ran = ce.Ran
		for _, f := range ce.Failures {
			rep.Failed = append(rep.Failed, f.Name)
		}
	}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ae *temporal.ApplicationError
		if errors.As(e, &ae) && ae.Type() == "UndoFailed" {
			rep.AppErrors++
		}
	}
	return rep, nil
}

func TestSaga(t *testing.T) {
	c := engineClient(t)
	tq := testutil.TaskQueue(t)
	testutil.StartWorker(t, c, tq, func(r worker.Registry) {
		r.RegisterWorkflow(sagaWorkflow)
		r.RegisterActivity(undo)
	})
	ctx := testutil.Context(t, 60*time.Second)
	tests := []struct {
		sc       sagaCase
		order    []string // nil: any order
		ran      []string // with order nil: the set that ran
		failed   []string // names: an activity compensation is named after the activity
		ranCount int
	}{
		{sc: sagaCase{Name: "reverse"}, order: []string{"c", "b", "a"}},
		{sc: sagaCase{Name: "continue", Fail: []string{"b", "c"}}, order: []string{"c", "b", "a"}, failed: []string{"c", "undo"}, ranCount: 3},
		{sc: sagaCase{Name: "stop", StopOnError: true, Fail: []string{"b"}}, order: []string{"c", "b"}, failed: []string{"undo"}, ranCount: 2},
		{sc: sagaCase{Name: "parallel", Parallel: true, Fail: []string{"a"}}, ran: []string{"a", "b", "c"}, failed: []string{"undo"}, ranCount: 3},
	}
	for _, tt := range tests {
		t.Run(tt.sc.Name, func(t *testing.T) {
			run, err := sdk.ExecuteWorkflow(ctx, c, client.StartWorkflowOptions{ID: "saga-" + tt.sc.Name, TaskQueue: tq}, sagaWorkflow, tt.sc)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := run.Get(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := undone(tt.sc.Name)
			if tt.order != nil && !slices.Equal(got, tt.order) {
				t.Errorf("compensations ran %q, want %q", got, tt.order)
			}
			if tt.order == nil {
				slices.Sort(got)
				if !slices.Equal(got, tt.ran) {
					t.Errorf("compensations ran %q, want %q", got, tt.ran)
				}
			}
			if !slices.Equal(rep.Failed, tt.failed) || rep.Ran != tt.ranCount || rep.AppErrors != len(tt.failed) {
				t.Errorf("report %+v, want failed %q of %d", rep, tt.failed, tt.ranCount)
			}
			if !rep.Second || rep.Left != 0 {
				t.Errorf("a second Compensate ran something: %+v", rep)
			}
			if len(tt.failed) > 0 {
				t.Logf("error: %s", rep.Err)
			}
		})
	}
}
