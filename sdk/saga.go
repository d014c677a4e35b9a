package sdk

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strings"

	"go.temporal.io/sdk/workflow"
)

// SagaOptions configures a Saga. The zero value runs the compensations one
// at a time, newest first, and goes on past a failing one.
type SagaOptions struct {
	// Parallel runs every compensation at once instead of in reverse
	// order. Use it only when the compensations do not depend on each
	// other.
	Parallel bool
	// StopOnError stops at the first compensation that fails, leaving the
	// older ones unrun (sequential mode only). By default every
	// compensation runs and all failures are reported.
	StopOnError bool
}

// Saga collects compensations while a workflow makes progress and runs them
// if it has to undo it, like the Saga class of Temporal's Java SDK. Use it
// from workflow code only (one coroutine at a time, like all workflow
// state):
//
//	saga := sdk.NewSaga(sdk.SagaOptions{})
//	res, err := sdk.ExecuteActivity(ctx, Reserve, order).Get(ctx)
//	if err != nil {
//		return errors.Join(err, saga.Compensate(ctx))
//	}
//	sdk.AddActivityCompensation(saga, Release, res)
//	...
//
// A step whose activity might have acted even though it reported failure
// (a timeout, for example) should add its compensation before running it,
// and the compensation must then tolerate "nothing to undo".
type Saga struct {
	opts  SagaOptions
	steps []compensation
}

type compensation struct {
	name string
	fn   func(workflow.Context) error
}

// NewSaga returns an empty saga.
func NewSaga(opts SagaOptions) *Saga { return &Saga{opts: opts} }

// AddCompensation registers fn, named name in errors, to run on Compensate.
// fn runs in workflow code: typically it executes an activity and waits.
func (s *Saga) AddCompensation(name string, fn func(ctx workflow.Context) error) {
	s.steps = append(s.steps, compensation{name: name, fn: fn})
}

// Len is the number of compensations registered and not yet run.
func (s *Saga) Len() int { return len(s.steps) }

// AddActivityCompensation registers the activity fn with input in as a
// compensation of s, named after fn. The activity runs with the activity
// options of the context given to Compensate.
func AddActivityCompensation[In, Out any](s *Saga, fn func(context.Context, In) (Out, error), in In) {
	s.AddCompensation(funcName(fn), func(ctx workflow.Context) error {
		_, err := ExecuteActivity(ctx, fn, in).Get(ctx)
		return err
	})
}

// Compensate runs the registered compensations (newest first, or all at
// once with Parallel) and forgets them, so a second call runs nothing. It
// runs them in a disconnected context (workflow.NewDisconnectedContext), so
// they run even when the workflow is being cancelled. It returns nil when
// every compensation succeeded, otherwise a *CompensationError listing each
// failure.
func (s *Saga) Compensate(ctx workflow.Context) error {
	steps := s.steps
	s.steps = nil
	if len(steps) == 0 {
		return nil
	}
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	errs := make([]error, len(steps)) // by registration index
	ran := len(steps)
	if s.opts.Parallel {
		wg := workflow.NewWaitGroup(ctx)
		for i, c := range steps {
			wg.Add(1)
			workflow.Go(ctx, func(ctx workflow.Context) {
				defer wg.Done()
				errs[i] = c.fn(ctx)
			})
		}
		wg.Wait(ctx)
	} else {
		for i := len(steps) - 1; i >= 0; i-- {
			errs[i] = steps[i].fn(ctx)
			if errs[i] != nil && s.opts.StopOnError {
				ran = len(steps) - i
				break
			}
		}
	}
	ce := &CompensationError{Ran: ran}
	for i := len(steps) - 1; i >= 0; i-- {
		if errs[i] != nil {
			ce.Failures = append(ce.Failures, CompensationFailure{Name: steps[i].name, Err: errs[i]})
		}
	}
	if len(ce.Failures) == 0 {
		return nil
	}
	return ce
}

// CompensationError reports the compensations that failed.
type CompensationError struct {
	// Failures lists the failed compensations, newest registration first.
	Failures []CompensationFailure
	// Ran is how many compensations were attempted (fewer than were
	// registered only with StopOnError).
	Ran int
}

// CompensationFailure is one failed compensation.
type CompensationFailure struct {
	Name string
	Err  error
}

func (e *CompensationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sdk: %d of %d compensations failed", len(e.Failures), e.Ran)
	for i, f := range e.Failures {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s%s: %v", sep, f.Name, f.Err)
	}
	return b.String()
}

// Unwrap returns every failure's error, for errors.Is and errors.As.
func (e *CompensationError) Unwrap() []error {
	out := make([]error, len(e.Failures))
	for i, f := range e.Failures {
		out[i] = f.Err
	}
	return out
}

// funcName is the name the SDK registers a function under: the last part
// of its qualified name, without the "-fm" of a method value.
func funcName(fn any) string {
	f := runtime.FuncForPC(reflect.ValueOf(fn).Pointer())
	if f == nil {
		return "compensation"
	}
	name := f.Name()
	if i := strings.LastIndex(name, "."); i >= 0 {
		name = name[i+1:]
	}
	return strings.TrimSuffix(name, "-fm")
}
