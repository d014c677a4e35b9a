package fsm

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// The read methods below may be called from any goroutine. They see the
// state as of the last committed batch.

func (f *FSM) reader() (pebble.Reader, func()) {
	f.mu.RLock()
	if f.db == nil {
		f.mu.RUnlock()
		panic("fsm: used after Close")
	}
	return f.db, f.mu.RUnlock
}

// GetNamespace returns a namespace (the default one always exists).
func (f *FSM) GetNamespace(name string) (*fsmpb.NamespaceRecord, error) {
	r, done := f.reader()
	defer done()
	var rec fsmpb.NamespaceRecord
	if getProto(r, namespaceKey(name), &rec) {
		if namespaceDeleted(&rec) {
			return nil, ErrNamespaceNotFound
		}
		return &rec, nil
	}
	if name == DefaultNamespace {
		return defaultNamespace(), nil
	}
	return nil, ErrNamespaceNotFound
}

func defaultNamespace() *fsmpb.NamespaceRecord {
	return &fsmpb.NamespaceRecord{
		Info:   &namespacepb.NamespaceInfo{Name: DefaultNamespace, Id: DefaultNamespaceID, State: enumspb.NAMESPACE_STATE_REGISTERED, Description: "default namespace"},
		Config: &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: dur(int64(24 * 3600 * 1e9))},
	}
}

// ListNamespaces lists every namespace, the default one first.
func (f *FSM) ListNamespaces() []*fsmpb.NamespaceRecord {
	out := []*fsmpb.NamespaceRecord{defaultNamespace()}
	f.scan([]byte{famNamespace}, func(k, v []byte) bool {
		rec := &fsmpb.NamespaceRecord{}
		mustUnmarshal(v, rec)
		if rec.Info.GetName() != DefaultNamespace && !namespaceDeleted(rec) {
			out = append(out, rec)
		}
		return true
	})
	return out
}

// GetState returns a run's mutable state; runID "" means the current run.
func (f *FSM) GetState(ns, wfID, runID string) (*fsmpb.WorkflowState, error) {
	r, done := f.reader()
	defer done()
	if runID == "" {
		var cur fsmpb.CurrentRun
		if !getProto(r, currentKey(ns, wfID), &cur) {
			return nil, ErrWorkflowNotFound
		}
		runID = cur.RunId
	}
	st := &fsmpb.WorkflowState{}
	if !getProto(r, stateKey(ns, wfID, runID), st) {
		return nil, ErrWorkflowNotFound
	}
	return st, nil
}

// ReadHistory returns up to max events with ids in [from, upTo] (upTo 0: no
// bound) and the id of the next event to read (0 when none remain).
func (f *FSM) ReadHistory(ns, wfID, runID string, from, upTo int64, max int) ([]*historypb.HistoryEvent, int64) {
	prefix := historyPrefix(ns, wfID, runID)
	lo := historyKey(ns, wfID, runID, max64(from, 1))
	hi := prefixEnd(prefix)
	if upTo > 0 {
		hi = historyKey(ns, wfID, runID, upTo+1)
	}
	var out []*historypb.HistoryEvent
	var next int64
	f.scanRange(lo, hi, func(k, v []byte) bool {
		ev := &historypb.HistoryEvent{}
		mustUnmarshal(v, ev)
		if len(out) == max {
			next = ev.EventId
			return false
		}
		out = append(out, ev)
		return true
	})
	return out, next
}

// TaskEntry is a backlog row with its key.
type TaskEntry struct {
	Key []byte
	Row *fsmpb.TaskRow
}

// ScanTasks returns every backlog row in creation order.
func (f *FSM) ScanTasks() []TaskEntry {
	var out []TaskEntry
	f.scan([]byte{famTask}, func(k, v []byte) bool {
		row := &fsmpb.TaskRow{}
		mustUnmarshal(v, row)
		out = append(out, TaskEntry{Key: append([]byte(nil), k...), Row: row})
		return true
	})
	return out
}

// TimerEntry is a durable timer's key and fire time.
type TimerEntry struct {
	Key    []byte
	FireAt int64
}

// ScanTimers returns every timer in fire-time order.
func (f *FSM) ScanTimers() []TimerEntry {
	var out []TimerEntry
	f.scan([]byte{famTimer}, func(k, v []byte) bool {
		at, _ := TimerFireAt(k)
		out = append(out, TimerEntry{Key: append([]byte(nil), k...), FireAt: at})
		return true
	})
	return out
}

// Nodes lists the cluster members' advertised addresses.
func (f *FSM) Nodes() []*fsmpb.NodeInfo {
	var out []*fsmpb.NodeInfo
	f.scan([]byte{famNode}, func(k, v []byte) bool {
		n := &fsmpb.NodeInfo{}
		mustUnmarshal(v, n)
		out = append(out, n)
		return true
	})
	return out
}

// Digest hashes the whole keyspace except the meta family (the applied index
// legitimately differs between nodes at rest). Equal digests mean equal state.
func (f *FSM) Digest() string {
	h := sha256.New()
	f.scanRange([]byte{famMeta + 1}, nil, func(k, v []byte) bool {
		fmt.Fprintf(h, "%d:%x=%d:%x;", len(k), k, len(v), v)
		return true
	})
	return hex.EncodeToString(h.Sum(nil))
}

func (f *FSM) scan(prefix []byte, fn func(k, v []byte) bool) {
	f.scanRange(prefix, prefixEnd(prefix), fn)
}

func (f *FSM) scanRange(lo, hi []byte, fn func(k, v []byte) bool) {
	r, done := f.reader()
	defer done()
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		panic(fmt.Sprintf("fsm: iterator: %v", err))
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if !fn(it.Key(), it.Value()) {
			return
		}
	}
	if err := it.Error(); err != nil && !errors.Is(err, pebble.ErrNotFound) {
		panic(fmt.Sprintf("fsm: iterate: %v", err))
	}
}

func mustUnmarshal(b []byte, m proto.Message) {
	if err := proto.Unmarshal(b, m); err != nil {
		panic(fmt.Sprintf("fsm: decode %T: %v", m, err))
	}
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
