package fsm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// The visibility index (key family 0x0A) holds one VisibilityRecord per run,
// written by the state machine in the same batch as the transition it
// reflects: inserted when a run starts, rewritten when it closes and when
// its search attributes or memo change. Like Temporal's visibility store it
// is a summary, not the mutable state: a running run's history length and
// size are as of its last rewrite. Lists and counts are range scans over a
// namespace's rows, so they come from replicated state and are the same on
// every node and after a leader change.

// writeVisibility (re)writes the run's visibility record and registers the
// types of its custom search attributes. save calls it when visDirty is set.
func (w *run) writeVisibility() {
	s := w.st
	info := &workflowpb.WorkflowExecutionInfo{
		Execution:        wfExecution(s.WorkflowId, s.RunId),
		Type:             s.WorkflowType,
		StartTime:        ts(s.StartTime),
		Status:           s.Status,
		HistoryLength:    s.NextEventId - 1,
		ExecutionTime:    ts(s.ExecutionTime),
		Memo:             s.Memo,
		SearchAttributes: s.SearchAttributes,
		TaskQueue:        s.TaskQueue,
		HistorySizeBytes: s.HistorySizeBytes,
		FirstRunId:       s.FirstRunId,
	}
	if s.CloseTime > 0 {
		info.CloseTime = ts(s.CloseTime)
		if d := s.CloseTime - s.ExecutionTime; d > 0 {
			info.ExecutionDuration = dur(d)
		}
	}
	if p := s.Parent; p != nil {
		info.ParentExecution = wfExecution(p.WorkflowId, p.RunId)
	}
	w.t.set(visKey(s.Namespace, s.StartTime, s.WorkflowId, s.RunId), &fsmpb.VisibilityRecord{Info: info})
	w.t.registerSearchAttributes(s.Namespace, s.SearchAttributes)
}

func wfExecution(wfID, runID string) *commonpb.WorkflowExecution {
	return &commonpb.WorkflowExecution{WorkflowId: wfID, RunId: runID}
}

// registerSearchAttributes remembers the type of each custom search
// attribute the first time the namespace uses it.
func (t *txn) registerSearchAttributes(ns string, sa *commonpb.SearchAttributes) {
	fields := sa.GetIndexedFields()
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if _, pinned := t.searchAttrType(ns, name); pinned {
			continue
		}
		if typ := SearchAttributeType(fields[name]); typ != enumspb.INDEXED_VALUE_TYPE_UNSPECIFIED {
			t.setRaw(searchAttrKey(ns, name), encodeU64(uint64(typ)))
		}
	}
}

// SearchAttributeType is a search attribute payload's type: the "type"
// metadata the SDKs set for typed search attributes, else inferred from the
// JSON value (string: Keyword, integer: Int, number: Double, bool: Bool,
// array: KeywordList). UNSPECIFIED when it cannot tell.
func SearchAttributeType(p *commonpb.Payload) enumspb.IndexedValueType {
	if t := p.GetMetadata()["type"]; len(t) > 0 {
		if v, err := enumspb.IndexedValueTypeFromString(string(t)); err == nil {
			return v
		}
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(p.GetData()))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return enumspb.INDEXED_VALUE_TYPE_UNSPECIFIED
	}
	switch x := v.(type) {
	case string:
		return enumspb.INDEXED_VALUE_TYPE_KEYWORD
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return enumspb.INDEXED_VALUE_TYPE_INT
		}
		return enumspb.INDEXED_VALUE_TYPE_DOUBLE
	case bool:
		return enumspb.INDEXED_VALUE_TYPE_BOOL
	case []any:
		return enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST
	}
	return enumspb.INDEXED_VALUE_TYPE_UNSPECIFIED
}

// ---- reads ----

// VisibilityScan names where a visibility scan starts: after (strictly) the
// key After, or at the first or last row when After is empty.
type VisibilityScan struct {
	Namespace string
	// Desc scans newest first (by start time).
	Desc  bool
	After []byte
}

// ScanVisibility calls fn with each of the namespace's visibility records in
// start-time order (descending when Desc) after sc.After, until fn returns
// false. key is the row's key (a page token: pass it as After to resume).
// It returns ErrInvalidArgument for an After that is not a key of the
// namespace's rows (a token from elsewhere).
func (f *FSM) ScanVisibility(sc VisibilityScan, fn func(key []byte, info *workflowpb.WorkflowExecutionInfo) bool) error {
	prefix := visPrefix(sc.Namespace)
	lo, hi := prefix, prefixEnd(prefix)
	if len(sc.After) > 0 {
		if !bytes.HasPrefix(sc.After, prefix) || len(sc.After) == len(prefix) {
			return invalidArg("page token does not belong to namespace %q", sc.Namespace)
		}
		if sc.Desc {
			hi = sc.After
		} else {
			lo = append(append([]byte(nil), sc.After...), 0)
		}
	}
	r, done := f.reader()
	defer done()
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		panic(fmt.Sprintf("fsm: iterator: %v", err))
	}
	defer it.Close()
	first, next := it.First, it.Next
	if sc.Desc {
		first, next = it.Last, it.Prev
	}
	for ok := first(); ok; ok = next() {
		rec := &fsmpb.VisibilityRecord{}
		mustUnmarshal(it.Value(), rec)
		if !fn(append([]byte(nil), it.Key()...), rec.Info) {
			break
		}
	}
	if err := it.Error(); err != nil {
		panic(fmt.Sprintf("fsm: iterate: %v", err))
	}
	return nil
}

// SearchAttributeTypes returns every custom search attribute any namespace
// has registered or used, with its type (where namespaces disagree, the
// first namespace in key order wins). GetSearchAttributes, which names no
// namespace, answers it.
func (f *FSM) SearchAttributeTypes() map[string]enumspb.IndexedValueType {
	return f.searchAttributeTypes([]byte{famSearchAtt})
}

// SearchAttributeTypesOf returns the custom search attributes namespace ns
// has registered or used, with their types.
func (f *FSM) SearchAttributeTypesOf(ns string) map[string]enumspb.IndexedValueType {
	return f.searchAttributeTypes(newKey(famSearchAtt).str(ns))
}

func (f *FSM) searchAttributeTypes(prefix []byte) map[string]enumspb.IndexedValueType {
	out := map[string]enumspb.IndexedValueType{}
	f.scan(prefix, func(k, v []byte) bool {
		name, ok := lastStr(k)
		if ok {
			if _, seen := out[name]; !seen {
				out[name] = enumspb.IndexedValueType(decodeU64(v))
			}
		}
		return true
	})
	return out
}

// lastStr decodes the second length-prefixed string of a search attribute
// key (family, ns, name).
func lastStr(k []byte) (string, bool) {
	if len(k) < 3 {
		return "", false
	}
	n := int(k[1])<<8 | int(k[2])
	rest := k[3+n:]
	if len(rest) < 2 {
		return "", false
	}
	m := int(rest[0])<<8 | int(rest[1])
	if len(rest) != 2+m {
		return "", false
	}
	return string(rest[2:]), true
}

// searchAttrType reads the type pinned for a namespace's custom search
// attribute (registered or first used), if any.
func (t *txn) searchAttrType(ns, name string) (enumspb.IndexedValueType, bool) {
	k := searchAttrKey(ns, name)
	v, c, err := t.b.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, false
	}
	if err != nil {
		storageFail("read %x: %v", k, err)
	}
	defer c.Close()
	return enumspb.IndexedValueType(decodeU64(v)), true
}

// searchAttributes registers (add) and unregisters (remove) custom search
// attributes of a namespace (OperatorService). A name already pinned with
// another type refuses the whole request, as does removing a name the
// namespace does not have; re-adding with the same type is a no-op, as in
// Temporal. Nothing is written unless every name is valid.
func (t *txn) searchAttributes(op *fsmpb.SearchAttributes) *Result {
	ns := op.GetNamespace()
	if !t.namespaceExists(ns) {
		return &Result{Err: ErrNamespaceNotFound}
	}
	names := make([]string, 0, len(op.Add))
	for name := range op.Add {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if cur, ok := t.searchAttrType(ns, name); ok && cur != op.Add[name] {
			return &Result{Err: invalidArg("search attribute %s already exists with type %s", name, cur)}
		}
	}
	for _, name := range op.Remove {
		if _, ok := t.searchAttrType(ns, name); !ok {
			return &Result{Err: invalidArg("Search attribute %s doesn't exist.", name)}
		}
	}
	for _, name := range names {
		t.setRaw(searchAttrKey(ns, name), encodeU64(uint64(op.Add[name])))
	}
	for _, name := range op.Remove {
		t.del(searchAttrKey(ns, name))
	}
	return &Result{}
}
