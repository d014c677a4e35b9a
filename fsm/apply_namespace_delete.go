package fsm

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// Namespace deletion (OperatorService DeleteNamespace), in two steps as in
// Temporal: DeleteNamespace marks the namespace DELETED, after which no
// call finds it (GetNamespace, ListNamespaces and every command that
// checks namespaceExists treat it as absent); then the leader's purger
// proposes PurgeNamespace entries, each removing a bounded number of runs,
// until none is left and the namespace record itself goes. Each entry is
// small and idempotent, so a leader change in the middle only means the
// next leader proposes the rest; the name can be registered again once the
// record is gone.

// ErrNamespaceProtected: the default namespace cannot be deleted.
var ErrNamespaceProtected = errors.New("fsm: namespace is protected from deletion")

// MaxPurgeRuns bounds the runs one PurgeNamespace entry removes.
const MaxPurgeRuns = 100

func namespaceDeleted(rec *fsmpb.NamespaceRecord) bool {
	return rec.GetInfo().GetState() == enumspb.NAMESPACE_STATE_DELETED
}

func (t *txn) deleteNamespace(op *fsmpb.DeleteNamespace) *Result {
	ns := op.GetNamespace()
	if ns == DefaultNamespace {
		return &Result{Err: fmt.Errorf("%w: %s", ErrNamespaceProtected, ns)}
	}
	rec := &fsmpb.NamespaceRecord{}
	if !t.get(namespaceKey(ns), rec) || namespaceDeleted(rec) {
		return &Result{Err: fmt.Errorf("%w: %s", ErrNamespaceNotFound, ns)}
	}
	rec.Info.State = enumspb.NAMESPACE_STATE_DELETED
	t.set(namespaceKey(ns), rec)
	t.nsDeleted = true
	return &Result{}
}

// purgeNamespace removes up to max_runs runs of a deleted namespace; when
// none is left, it removes what else the namespace owns and its record,
// and answers NamespacePurged.
func (t *txn) purgeNamespace(op *fsmpb.PurgeNamespace) *Result {
	ns := op.GetNamespace()
	rec := &fsmpb.NamespaceRecord{}
	if !t.get(namespaceKey(ns), rec) {
		return &Result{NamespacePurged: true} // already gone
	}
	if !namespaceDeleted(rec) {
		return &Result{Err: invalidArg("namespace %s is not deleted", ns)}
	}
	limit := int(op.GetMaxRuns())
	if limit <= 0 || limit > MaxPurgeRuns {
		limit = MaxPurgeRuns
	}
	runs := t.scanStates(ns, limit+1)
	more := len(runs) > limit
	if more {
		runs = runs[:limit]
	}
	for _, st := range runs {
		w, err := t.loadRun(st.Namespace, st.WorkflowId, st.RunId)
		if err != nil {
			continue
		}
		if w.st.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			w.terminate("Namespace deleted", "raftflow", nil)
		}
		t.deleteRun(w.st)
	}
	if more {
		return &Result{}
	}
	for _, fam := range []byte{famCurrent, famHistory, famDedup, famVis, famSearchAtt} {
		p := newKey(fam).str(ns)
		if err := t.b.DeleteRange(p, prefixEnd(p), nil); err != nil {
			storageFail("batch delete range: %v", err)
		}
	}
	t.del(namespaceKey(ns))
	return &Result{NamespacePurged: true}
}

// scanStates reads up to n run states of namespace ns, in key order.
func (t *txn) scanStates(ns string, n int) []*fsmpb.WorkflowState {
	p := newKey(famState).str(ns)
	it, err := t.b.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		storageFail("iterator: %v", err)
	}
	defer it.Close()
	var out []*fsmpb.WorkflowState
	for it.First(); it.Valid() && len(out) < n; it.Next() {
		st := &fsmpb.WorkflowState{}
		mustUnmarshal(it.Value(), st)
		out = append(out, st)
	}
	if err := it.Error(); err != nil {
		storageFail("iterate: %v", err)
	}
	return out
}

// DeletedNamespaces lists the namespaces marked deleted and not yet purged.
func (f *FSM) DeletedNamespaces() []string {
	var out []string
	f.scan([]byte{famNamespace}, func(_, v []byte) bool {
		rec := &fsmpb.NamespaceRecord{}
		mustUnmarshal(v, rec)
		if namespaceDeleted(rec) {
			out = append(out, rec.GetInfo().GetName())
		}
		return true
	})
	return out
}
