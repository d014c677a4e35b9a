package enginetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

// ownTB is the testing.TB of a StartServer engine: enough of one for the
// test cluster, outside any test. A fatal call panics with a fatalError,
// which run turns back into an error; temporary directories and cleanups
// are released by close.
type ownTB struct {
	testing.TB // nil: methods not defined below are not supported

	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	failed   bool
	errs     []error // from Error and Errorf
	cleanups []func()
	dirs     []string
	closed   bool
}

// fatalError is the panic value of ownTB's fatal calls.
type fatalError struct{ err error }

func (f fatalError) Error() string { return f.err.Error() }
func (f fatalError) Unwrap() error { return f.err }

func newOwnTB() *ownTB {
	ctx, cancel := context.WithCancel(context.Background())
	return &ownTB{ctx: ctx, cancel: cancel}
}

// run calls f and returns the error of a fatal call f made, if any.
func (t *ownTB) run(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			fe, ok := r.(fatalError)
			if !ok {
				panic(r)
			}
			err = fe.err
		}
	}()
	f()
	return nil
}

// close runs the cleanups (newest first) and removes the temporary
// directories. Later calls do nothing.
func (t *ownTB) close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	cleanups, dirs := t.cleanups, t.dirs
	t.cleanups, t.dirs = nil, nil
	t.mu.Unlock()
	t.cancel()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	for _, d := range dirs {
		os.RemoveAll(d)
	}
}

func (t *ownTB) Helper()      {}
func (t *ownTB) Name() string { return "enginetest" }

func (t *ownTB) Context() context.Context { return t.ctx }

func (t *ownTB) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

func (t *ownTB) TempDir() string {
	d, err := os.MkdirTemp("", "enginetest-")
	if err != nil {
		t.Fatalf("enginetest: temp dir: %v", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dirs = append(t.dirs, d)
	return d
}

func (t *ownTB) Fail() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failed = true
}

func (t *ownTB) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

func (t *ownTB) FailNow() { t.fatal(errors.New("enginetest: failed")) }

func (t *ownTB) Fatal(args ...any) { t.fatal(errors.New(fmt.Sprint(args...))) }

func (t *ownTB) Fatalf(format string, args ...any) { t.fatal(fmt.Errorf(format, args...)) }

// fatal panics with err and the errors reported before it.
func (t *ownTB) fatal(err error) {
	t.mu.Lock()
	t.failed = true
	err = errors.Join(append(t.errs, err)...)
	t.errs = nil
	t.mu.Unlock()
	panic(fatalError{err})
}

// Error and Errorf mark the server failed; the next fatal call reports
// their messages.
func (t *ownTB) Error(args ...any) { t.addErr(errors.New(fmt.Sprint(args...))) }

func (t *ownTB) Errorf(format string, args ...any) { t.addErr(fmt.Errorf(format, args...)) }

func (t *ownTB) addErr(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failed = true
	t.errs = append(t.errs, err)
}

func (t *ownTB) Log(args ...any)                 {}
func (t *ownTB) Logf(format string, args ...any) {}
func (t *ownTB) Skipped() bool                   { return false }
