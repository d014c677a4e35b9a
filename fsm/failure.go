package fsm

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/cockroachdb/pebble/v2"
)

// Two kinds of failure can interrupt a command half-way through its apply,
// and they are handled in opposite ways:
//
//   - A deterministic failure: the command itself cannot be applied (a
//     string too long for a key, a value no code path expected, a stored row
//     the command's shape makes unreadable). Every replica fails the same
//     entry in the same way, on every replay. The entry's writes are
//     discarded, its Result.Err says why, and the node goes on: a committed
//     entry must never be able to stop a node, because it would stop every
//     node on every restart.
//   - A storage failure: Pebble could not read, write or commit. Only this
//     node is affected, and its state can no longer be trusted. The FSM
//     stops applying (crash-only) and calls the fail handler, which stops
//     the process; raft's log still holds every entry, so a restart on a
//     healthy disk replays them.
//
// Code inside apply signals a storage failure with storageFail and a
// deterministic one with applyFail (or any other panic); applyEntry tells
// them apart.

// ErrApplyFailed is the Result.Err of an entry whose command failed to apply
// deterministically for a reason other than an invalid argument (a bug: the
// message and the node's log say where). Nothing of the entry was written.
var ErrApplyFailed = errors.New("fsm: command could not be applied")

// applyError is a deterministic failure raised inside apply.
type applyError struct{ err error }

// storageError is a storage failure raised inside apply or a read.
type storageError struct{ err error }

func (e storageError) Error() string { return e.err.Error() }

// applyFail aborts the current command with err as its result.
func applyFail(err error) { panic(applyError{err}) }

// storageFail aborts the current command and stops the FSM.
func storageFail(format string, args ...any) {
	panic(storageError{fmt.Errorf("fsm: storage: "+format, args...)})
}

// applyEntry applies one command, turning a deterministic failure into the
// command's Result.Err. A storage failure passes through as a panic of
// storageError for ApplyBatch to handle.
func (t *txn) applyEntry(index uint64, data []byte) (res *Result, failed error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		switch e := r.(type) {
		case storageError:
			panic(e)
		case applyError:
			failed = fmt.Errorf("entry %d: %w", index, e.err)
		default:
			failed = fmt.Errorf("%w: entry %d: %v", ErrApplyFailed, index, r)
			t.logPanic(index, r)
		}
	}()
	cmd, err := decodeCommand(data)
	if err != nil {
		return nil, fmt.Errorf("%w: entry %d: %v", ErrApplyFailed, index, err)
	}
	t.runIDs = nil
	t.now = cmd.GetProposedAt()
	return t.apply(cmd), nil
}

// logPanic records an unexpected panic (a bug) with its stack; the entry
// still fails cleanly.
func (t *txn) logPanic(index uint64, r any) {
	if t.log != nil {
		t.log.Error("fsm: command panicked while applying; recorded as failed on every replica",
			"index", index, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	}
}

// SetFailHandler installs fn, called at most once, on any goroutine, when a
// Pebble read, write, commit or background error means the state machine
// can no longer be trusted (crash-only: the node must stop). After it the
// FSM applies nothing more. Without a handler a storage failure panics.
func (f *FSM) SetFailHandler(fn func(error)) { f.onFail.Store(&fn) }

// Failed returns the storage error that stopped the FSM, or nil.
func (f *FSM) Failed() error {
	if p := f.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// fail records the first storage failure and reports it. It returns, so
// that callers on goroutines the FSM does not own (Pebble's) can go on;
// the apply goroutine calls halt after it.
func (f *FSM) fail(err error) {
	if !f.failed.CompareAndSwap(nil, &err) {
		return
	}
	f.logger.Error("fsm: storage failure: this node stops applying the log; "+
		"fix the disk and restart it (the raft log holds every entry)", "err", err)
	if p := f.onFail.Load(); p != nil && *p != nil {
		(*p)(err)
		return
	}
	panic(fmt.Sprintf("fsm: storage failure: %v", err))
}

// halt ends the apply goroutine after a storage failure: nothing more may be
// applied or acknowledged. raft's FSM goroutine exits (its deferred
// bookkeeping runs, so raft can still shut down); the fail handler is
// expected to stop the process.
func (f *FSM) halt() {
	runtime.Goexit()
}

// Probe proves Pebble's write path healthy: it writes a synced WAL record
// that holds no key (state, digest and snapshots are unchanged). Pebble
// latches a failed WAL write (e.g. ENOSPC) and reports it only at a later
// commit, possibly hours later; Probe surfaces it now. An error is a
// storage failure: the FSM stops (fail handler) and Probe returns it.
func (f *FSM) Probe() (err error) {
	if err := f.Failed(); err != nil {
		return err
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.db == nil {
		return errors.New("fsm: probe after Close")
	}
	func() {
		defer func() { // Pebble panics when its WAL write fails
			if r := recover(); r != nil {
				err = fmt.Errorf("pebble WAL write failed: %v", r)
			}
		}()
		err = f.db.LogData([]byte("probe"), pebble.Sync)
	}()
	if err != nil {
		err = fmt.Errorf("fsm: storage: probe write: %w", err)
		f.fail(err)
	}
	return err
}
