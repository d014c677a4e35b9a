package raftnode

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// ErrStorage wraps every raft log-store or stable-store failure: a write
// that failed after start (see Config.OnStorageFailure), a raft.db that
// cannot be opened or read, or a failed start-up probe.
var ErrStorage = errors.New("raftnode: raft storage failed")

// boltLockTimeout bounds the wait for raft.db's file lock: another process
// (a second engine on the same data dir) holds it.
const boltLockTimeout = 5 * time.Second

// openBoltStore opens raft.db after checking the file (checkBoltFile), so a
// truncated or corrupt file is a start error naming the path instead of a
// panic or a fault inside bbolt.
func openBoltStore(path string) (store *raftboltdb.BoltStore, err error) {
	if err := checkBoltFile(path); err != nil {
		return nil, err
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			store, err = nil, corruptBolt(path, fmt.Sprint(r))
		}
	}()
	store, err = raftboltdb.New(raftboltdb.Options{Path: path, BoltOptions: &bbolt.Options{Timeout: boltLockTimeout}})
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %v", ErrStorage, path, err)
	}
	return store, nil
}

// checkBoltFile opens path read-only and checks what bbolt would otherwise
// trip over later: valid meta pages (bbolt's own check at open), a file
// long enough for every page its meta page counts (a truncated file
// otherwise faults when a page past the end is touched, which no recover
// catches without SetPanicOnFault), and readable first and last log
// entries. Page faults and bbolt panics during the check become errors.
// A missing or empty file is fine: bbolt initialises it, and a raft/ that
// lost its log is caught by checkLogCoversFSM.
func checkBoltFile(path string) (err error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStorage, err)
	}
	if fi.Size() == 0 {
		return nil
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = corruptBolt(path, fmt.Sprint(r))
		}
	}()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: boltLockTimeout})
	if errors.Is(err, bbolt.ErrTimeout) {
		return fmt.Errorf("%w: %s is locked by another process (another engine on this data dir?)", ErrStorage, path)
	}
	if err != nil {
		return corruptBolt(path, err.Error())
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		if need := tx.Size(); need > fi.Size() {
			return corruptBolt(path, fmt.Sprintf("the file is %d bytes but its pages reach %d bytes (truncated)", fi.Size(), need))
		}
		if b := tx.Bucket([]byte("logs")); b != nil {
			c := b.Cursor()
			c.First()
			c.Last()
		}
		return nil
	})
}

func corruptBolt(path, what string) error {
	return fmt.Errorf("%w: raft log store %s is corrupt or truncated (%s). The node refuses to start. "+
		"Restore the data dir's raft/ from a backup taken together with fsm/, or, in a cluster, remove this node "+
		"(engine cluster remove), empty its data dir and start it again with --join; see docs/operations.md, "+
		"Storage faults and recovery", ErrStorage, path, what)
}

// failStore is the log and stable store raft sees: bolt, with every write
// error reported once to fail before raft sees it. Whatever a write error
// means (disk full, I/O error, a closed file), the store can no longer be
// trusted, so the node must stop (crash-only); fail (Config.OnStorageFailure)
// normally exits the process right there.
//
// If the process goes on (a test, an embedder stopping the node from
// another goroutine), the store stays failed: later log writes fail at once
// without touching the disk, and stable writes (term, vote), including the
// one that failed, never return. Raft panics on a failed term or vote
// write, and acknowledging one unwritten could let this node vote twice in
// a term; blocking is what a dead process does. Node.shutdown bounds its
// wait for raft accordingly. A stable write parks here, outside
// guardedStable's lock, so Shutdown's guardedStable.close does not wait
// for it.
type failStore struct {
	*raftboltdb.BoltStore                  // log store, reads
	stable                raft.StableStore // term and vote writes (guardedStable over the same bolt)
	fail                  func(error)
	fault                 func(op string) error // Config.StoreFault

	mu     sync.Mutex
	failed error
	never  chan struct{} // never closed: parks stable writes after a failure
}

func newFailStore(b *raftboltdb.BoltStore, stable raft.StableStore, fail func(error), fault func(string) error) *failStore {
	return &failStore{BoltStore: b, stable: stable, fail: fail, fault: fault, never: make(chan struct{})}
}

// write runs one store write unless the store already failed, and reports
// its first error to fail.
func (s *failStore) write(op string, stable bool, fn func() error) error {
	s.mu.Lock()
	err := s.failed
	s.mu.Unlock()
	if err == nil && s.fault != nil {
		err = s.fault(op)
	}
	if err == nil {
		err = fn()
	}
	if err == nil {
		return nil
	}
	s.mu.Lock()
	first := s.failed == nil
	if first {
		s.failed = err
	}
	s.mu.Unlock()
	if first {
		s.fail(fmt.Errorf("%w: %s: %w", ErrStorage, op, err))
	}
	if stable {
		<-s.never
	}
	return err
}

func (s *failStore) StoreLog(l *raft.Log) error {
	return s.write("store log", false, func() error { return s.BoltStore.StoreLog(l) })
}

func (s *failStore) StoreLogs(ls []*raft.Log) error {
	return s.write("store logs", false, func() error { return s.BoltStore.StoreLogs(ls) })
}

func (s *failStore) DeleteRange(lo, hi uint64) error {
	return s.write("delete logs", false, func() error { return s.BoltStore.DeleteRange(lo, hi) })
}

func (s *failStore) Set(k, v []byte) error {
	return s.write("stable set", true, func() error { return s.stable.Set(k, v) })
}

func (s *failStore) SetUint64(k []byte, v uint64) error {
	return s.write("stable set", true, func() error { return s.stable.SetUint64(k, v) })
}

// probeKey is the stable-store key of the start-up probe (raft's own keys
// are CurrentTerm, LastVoteTerm and LastVoteCand).
var probeKey = []byte("raftflow-probe")

// probe proves the store healthy before raft starts: a synced write (bolt
// commits with fsync) and a read back, and a read of the log's last entry.
// A disk that is full, read-only or failing is found here, at start.
func (s *failStore) probe() error {
	want := []byte(time.Now().UTC().Format(time.RFC3339Nano))
	if err := s.BoltStore.Set(probeKey, want); err != nil {
		return fmt.Errorf("%w: start-up probe: synced write to raft.db: %v", ErrStorage, err)
	}
	got, err := s.BoltStore.Get(probeKey)
	if err != nil || string(got) != string(want) {
		return fmt.Errorf("%w: start-up probe: read back from raft.db: %q, %v", ErrStorage, got, err)
	}
	last, err := s.BoltStore.LastIndex()
	if err != nil {
		return fmt.Errorf("%w: start-up probe: last log index: %v", ErrStorage, err)
	}
	if last > 0 {
		var l raft.Log
		if err := s.BoltStore.GetLog(last, &l); err != nil {
			return fmt.Errorf("%w: start-up probe: read log entry %d: %v", ErrStorage, last, err)
		}
	}
	return nil
}
