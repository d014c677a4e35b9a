package enginetest

import (
	"fmt"
	"io"
	"log"
	"os"
	"sync"
)

// owner owns a StartServer engine: it is what internal/testcluster needs
// of a test (testcluster.TB), implemented for code that has no test. Its
// Fatalf panics with a fatalError, which run turns back into an error;
// its cleanups and temporary directories are released by close; Logf
// writes to stderr when RAFTFLOW_TEST_LOG is set and is dropped otherwise.
type owner struct {
	log *log.Logger

	mu       sync.Mutex
	failed   bool
	cleanups []func() // and directories to remove, in registration order
	closed   bool
}

// fatalError is the panic value of owner.Fatalf.
type fatalError struct{ err error }

func (f fatalError) Error() string { return f.err.Error() }
func (f fatalError) Unwrap() error { return f.err }

func newOwner() *owner {
	var w io.Writer = io.Discard
	if os.Getenv("RAFTFLOW_TEST_LOG") != "" {
		w = os.Stderr
	}
	return &owner{log: log.New(w, "enginetest: ", log.LstdFlags)}
}

// run calls f and returns the error of a Fatalf call f made, if any.
// Other panics pass through.
func (o *owner) run(f func()) (err error) {
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

// close runs the cleanups, newest first (a temporary directory is removed
// after the cleanups registered after it, as in a test). Later calls do
// nothing.
func (o *owner) close() {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	o.closed = true
	cleanups := o.cleanups
	o.cleanups = nil
	o.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
}

// Helper does nothing: there is no test log whose line numbers it would
// adjust.
func (o *owner) Helper() {}

// Cleanup registers f to run at close.
func (o *owner) Cleanup(f func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cleanups = append(o.cleanups, f)
}

// TempDir creates a directory removed at close.
func (o *owner) TempDir() string {
	d, err := os.MkdirTemp("", "enginetest-")
	if err != nil {
		o.Fatalf("enginetest: temp dir: %v", err)
	}
	o.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// Logf logs to stderr when RAFTFLOW_TEST_LOG is set.
func (o *owner) Logf(format string, args ...any) { o.log.Printf(format, args...) }

// Fatalf marks the owner failed and panics with a fatalError (see run).
func (o *owner) Fatalf(format string, args ...any) {
	o.mu.Lock()
	o.failed = true
	o.mu.Unlock()
	panic(fatalError{fmt.Errorf(format, args...)})
}

// Failed reports whether Fatalf was called.
func (o *owner) Failed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.failed
}
