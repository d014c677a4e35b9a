package fsm

// Key layout. Every key starts with one family byte; integers are big-endian
// so byte order equals numeric order; strings are length-prefixed (uint16)
// so that a key's components never run into each other.
//
//	0x01 meta        'applied'                              → uint64 raft index
//	0x02 namespace   name                                   → NamespaceRecord
//	0x03 current     ns, workflow_id                        → CurrentRun
//	0x04 state       ns, workflow_id, run_id                → WorkflowState
//	0x05 history     ns, workflow_id, run_id, event_id(u64) → temporal HistoryEvent
//	0x06 timer       fire_at(u64 ns), raft index(u64), seq(u32) → TimerRow
//	0x07 task        raft index(u64), seq(u32)              → TaskRow
//	0x08 start dedup ns, request_id                         → run_id
//	0x09 node        node_id                                → NodeInfo
//	0x0A visibility  ns, start_time(u64 ns), workflow_id, run_id → VisibilityRecord
//	0x0B search attr ns, name                               → uint64 IndexedValueType
//
// Timer keys sort by fire time, so the timer service scans them in order;
// task keys sort by creation, so each queue's backlog is rebuilt FIFO. Both
// end in (raft index, seq): unique, deterministic, and never reused.
// Visibility keys sort a namespace's runs by start time, so listing (newest
// first by default) is a range scan in either direction; a page token is the
// last key returned. Search attribute rows remember the type of each custom
// search attribute the namespace has used (for GetSearchAttributes).

import (
	"encoding/binary"
)

const (
	famMeta      byte = 0x01
	famNamespace byte = 0x02
	famCurrent   byte = 0x03
	famState     byte = 0x04
	famHistory   byte = 0x05
	famTimer     byte = 0x06
	famTask      byte = 0x07
	famDedup     byte = 0x08
	famNode      byte = 0x09
	famVis       byte = 0x0A
	famSearchAtt byte = 0x0B
)

var appliedKey = []byte{famMeta, 'a', 'p', 'p', 'l', 'i', 'e', 'd'}

type keyBuf []byte

func newKey(fam byte) keyBuf { return keyBuf{fam} }

// maxKeyComponent is the longest string a key can hold (its uint16 length prefix).
const maxKeyComponent = 0xffff

func (k keyBuf) str(s string) keyBuf {
	if len(s) > maxKeyComponent {
		// rpc/ bounds identifiers far below this. A command that gets here
		// anyway fails as a whole (its Result.Err), on every replica alike;
		// a read gets the panic (the gRPC recovery interceptor answers it).
		applyFail(invalidArg("a key component of %d bytes exceeds %d bytes", len(s), maxKeyComponent))
	}
	k = binary.BigEndian.AppendUint16(k, uint16(len(s)))
	return append(k, s...)
}

func (k keyBuf) u64(v uint64) keyBuf { return binary.BigEndian.AppendUint64(k, v) }
func (k keyBuf) u32(v uint32) keyBuf { return binary.BigEndian.AppendUint32(k, v) }

func namespaceKey(name string) []byte { return newKey(famNamespace).str(name) }
func currentKey(ns, wfID string) []byte {
	return newKey(famCurrent).str(ns).str(wfID)
}
func stateKey(ns, wfID, runID string) []byte {
	return newKey(famState).str(ns).str(wfID).str(runID)
}
func historyPrefix(ns, wfID, runID string) []byte {
	return newKey(famHistory).str(ns).str(wfID).str(runID)
}
func historyKey(ns, wfID, runID string, eventID int64) []byte {
	return keyBuf(historyPrefix(ns, wfID, runID)).u64(uint64(eventID))
}
func timerKey(fireAt int64, index uint64, seq uint32) []byte {
	if fireAt < 0 {
		fireAt = 0
	}
	return newKey(famTimer).u64(uint64(fireAt)).u64(index).u32(seq)
}
func taskKey(index uint64, seq uint32) []byte { return newKey(famTask).u64(index).u32(seq) }
func dedupKey(ns, requestID string) []byte    { return newKey(famDedup).str(ns).str(requestID) }
func nodeKey(id string) []byte                { return newKey(famNode).str(id) }
func visPrefix(ns string) []byte              { return newKey(famVis).str(ns) }
func visKey(ns string, startTime int64, wfID, runID string) []byte {
	return keyBuf(visPrefix(ns)).u64(uint64(max(startTime, 0))).str(wfID).str(runID)
}
func searchAttrKey(ns, name string) []byte { return newKey(famSearchAtt).str(ns).str(name) }

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// TimerFireAt decodes the fire time (unix nanoseconds) from a timer key.
func TimerFireAt(key []byte) (int64, bool) {
	if len(key) < 9 || key[0] != famTimer {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(key[1:9])), true
}
