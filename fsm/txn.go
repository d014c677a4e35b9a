package fsm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/proto"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// txn is the context of one ApplyBatch: an indexed batch (so later entries
// read what earlier ones wrote), the current entry's index and time, and the
// hints to deliver after commit.
type txn struct {
	b     *pebble.Batch
	index uint64
	seq   uint32
	now   int64
	hints []hint
	// runIDs are the current command's leader-stamped run ids (see newRunID).
	runIDs []string
	log    *slog.Logger // where a command that panicked is reported
	// nsDeleted: a namespace was deleted in this batch (FSM.nsEpoch).
	nsDeleted bool
}

type hintKind uint8

const (
	hintTaskAdded hintKind = iota + 1
	hintTaskRemoved
	hintTimerAdded
	hintTimerRemoved
	hintHistory
	hintRunStarted
	hintRunClosed
	hintUpdates
)

type hint struct {
	kind          hintKind
	key           []byte
	row           *fsmpb.TaskRow
	fireAt        int64
	ns, wf, runID string
	status        enumspb.WorkflowExecutionStatus // hintRunClosed
	updates       []UpdateOutcome                 // hintUpdates
}

func (t *txn) deliver(h Hints) {
	lh, _ := h.(LifecycleHints)
	uh, _ := h.(UpdateHints)
	// Update progress first: a waiter woken by any of the batch's history
	// hints must find its update's outcome (see UpdateHints).
	for _, x := range t.hints {
		if x.kind == hintUpdates && uh != nil {
			uh.UpdatesAdvanced(x.ns, x.wf, x.runID, x.updates)
		}
	}
	for _, x := range t.hints {
		switch x.kind {
		case hintTaskAdded:
			h.TaskAdded(x.key, x.row)
		case hintTaskRemoved:
			h.TaskRemoved(x.key)
		case hintTimerAdded:
			h.TimerAdded(x.key, x.fireAt)
		case hintTimerRemoved:
			h.TimerRemoved(x.key)
		case hintHistory:
			h.HistoryAppended(x.ns, x.wf, x.runID)
		case hintRunStarted:
			if lh != nil {
				lh.WorkflowStarted(x.ns)
			}
		case hintRunClosed:
			if lh != nil {
				lh.WorkflowClosed(x.ns, x.status)
			}
		}
	}
}

var marshalOpts = proto.MarshalOptions{Deterministic: true}

func mustMarshal(m proto.Message) []byte {
	b, err := marshalOpts.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("fsm: marshal %T: %v", m, err))
	}
	return b
}

func (t *txn) setRaw(k, v []byte) {
	if err := t.b.Set(k, v, nil); err != nil {
		storageFail("batch set: %v", err)
	}
}

func (t *txn) set(k []byte, m proto.Message) { t.setRaw(k, mustMarshal(m)) }

func (t *txn) del(k []byte) {
	if err := t.b.Delete(k, nil); err != nil {
		storageFail("batch delete: %v", err)
	}
}

// get decodes the value at k into m; false when absent.
func getProto(r pebble.Reader, k []byte, m proto.Message) bool {
	v, c, err := r.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return false
	}
	if err != nil {
		storageFail("read %x: %v", k, err)
	}
	defer c.Close()
	if err := proto.Unmarshal(v, m); err != nil {
		panic(fmt.Sprintf("fsm: decode %T at %x: %v", m, k, err))
	}
	return true
}

func (t *txn) get(k []byte, m proto.Message) bool { return getProto(t.b, k, m) }

func (t *txn) nextSeq() uint32 {
	t.seq++
	return t.seq
}

// addTimer writes a timer row and returns its key.
func (t *txn) addTimer(row *fsmpb.TimerRow) []byte {
	k := timerKey(row.FireAt, t.index, t.nextSeq())
	t.set(k, row)
	t.hints = append(t.hints, hint{kind: hintTimerAdded, key: k, fireAt: row.FireAt})
	return k
}

func (t *txn) delTimer(k []byte) {
	if len(k) == 0 {
		return
	}
	t.del(k)
	t.hints = append(t.hints, hint{kind: hintTimerRemoved, key: k})
}

// addTask writes a task row and returns its key.
func (t *txn) addTask(row *fsmpb.TaskRow) []byte {
	k := taskKey(t.index, t.nextSeq())
	row.CreatedAt = t.now
	t.set(k, row)
	t.hints = append(t.hints, hint{kind: hintTaskAdded, key: k, row: row})
	return k
}

// dropTaskHints forgets the added/removed hints of a task that was created
// and consumed in this transaction, so the leader's queue never sees it.
func (t *txn) dropTaskHints(k []byte) {
	kept := t.hints[:0]
	for _, h := range t.hints {
		if (h.kind == hintTaskAdded || h.kind == hintTaskRemoved) && bytes.Equal(h.key, k) {
			continue
		}
		kept = append(kept, h)
	}
	t.hints = kept
}

func (t *txn) delTask(k []byte) {
	if len(k) == 0 {
		return
	}
	t.del(k)
	t.hints = append(t.hints, hint{kind: hintTaskRemoved, key: k})
}

func (t *txn) putEvent(st *fsmpb.WorkflowState, ev *historypb.HistoryEvent) {
	b := mustMarshal(ev)
	st.HistorySizeBytes += int64(len(b))
	t.setRaw(historyKey(st.Namespace, st.WorkflowId, st.RunId, ev.EventId), b)
}

func encodeU64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
func decodeU64(b []byte) uint64 {
	if len(b) != 8 {
		panic(fmt.Sprintf("fsm: bad uint64 of %d bytes", len(b)))
	}
	return binary.BigEndian.Uint64(b)
}
