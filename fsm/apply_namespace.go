package fsm

import (
	"bytes"

	enumspb "go.temporal.io/api/enums/v1"
	namespacepb "go.temporal.io/api/namespace/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// updateNamespace applies UpdateNamespace: set fields of update_info and the
// retention of config replace the stored ones; data keys are upserted.
// Other config fields (archival, bad binaries) are not supported and kept.
func (t *txn) updateNamespace(op *fsmpb.UpdateNamespace) *Result {
	req := op.GetRequest()
	name := req.GetNamespace()
	rec := &fsmpb.NamespaceRecord{}
	if !t.get(namespaceKey(name), rec) {
		if name != DefaultNamespace {
			return &Result{Err: ErrNamespaceNotFound}
		}
		rec = defaultNamespace()
	}
	if namespaceDeleted(rec) {
		return &Result{Err: ErrNamespaceNotFound}
	}
	if rec.Info == nil {
		rec.Info = &namespacepb.NamespaceInfo{Name: name}
	}
	if rec.Config == nil {
		rec.Config = &namespacepb.NamespaceConfig{}
	}
	if u := req.GetUpdateInfo(); u != nil {
		if u.Description != "" {
			rec.Info.Description = u.Description
		}
		if u.OwnerEmail != "" {
			rec.Info.OwnerEmail = u.OwnerEmail
		}
		if len(u.Data) > 0 && rec.Info.Data == nil {
			rec.Info.Data = map[string]string{}
		}
		for k, v := range u.Data {
			rec.Info.Data[k] = v
		}
		if u.State != enumspb.NAMESPACE_STATE_UNSPECIFIED {
			rec.Info.State = u.State
		}
	}
	if c := req.GetConfig(); c.GetWorkflowExecutionRetentionTtl() != nil {
		rec.Config.WorkflowExecutionRetentionTtl = c.WorkflowExecutionRetentionTtl
	}
	t.set(namespaceKey(name), rec)
	return &Result{}
}

// namespaceRetention is how long closed runs of ns are kept (0: forever).
func (t *txn) namespaceRetention(ns string) int64 {
	rec := &fsmpb.NamespaceRecord{}
	if !t.get(namespaceKey(ns), rec) {
		if ns != DefaultNamespace {
			return 0
		}
		rec = defaultNamespace()
	}
	return nanosOf(rec.GetConfig().GetWorkflowExecutionRetentionTtl())
}

// addRetentionTimer arms the timer that deletes the just-closed run once its
// namespace's retention (as of the close) has passed.
func (w *run) addRetentionTimer() {
	s := w.st
	ret := w.t.namespaceRetention(s.Namespace)
	if ret <= 0 || len(s.RetentionTimerKey) > 0 {
		return
	}
	s.RetentionTimerKey = w.t.addTimer(&fsmpb.TimerRow{
		Kind: fsmpb.TimerKind_TIMER_KIND_RETENTION, Namespace: s.Namespace,
		WorkflowId: s.WorkflowId, RunId: s.RunId, FireAt: after(w.t.now, ret),
	})
}

// expireRun handles a fired retention timer: the run is deleted if it is
// still the closed run that armed this timer.
func (t *txn) expireRun(key []byte, row *fsmpb.TimerRow) {
	st := &fsmpb.WorkflowState{}
	if !t.get(stateKey(row.Namespace, row.WorkflowId, row.RunId), st) ||
		st.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING || !bytes.Equal(st.RetentionTimerKey, key) {
		return
	}
	st.RetentionTimerKey = nil // fired: its row is gone already
	t.deleteRun(st)
}

// deleteRun removes a closed run: its mutable state, history, visibility
// record, retention timer, start-dedup record and, if it still names this
// run, the workflow id's current-run record.
func (t *txn) deleteRun(st *fsmpb.WorkflowState) {
	ns, wfID, runID := st.Namespace, st.WorkflowId, st.RunId
	t.del(stateKey(ns, wfID, runID))
	hp := historyPrefix(ns, wfID, runID)
	if err := t.b.DeleteRange(hp, prefixEnd(hp), nil); err != nil {
		storageFail("batch delete range: %v", err)
	}
	t.del(visKey(ns, st.StartTime, wfID, runID))
	t.delTimer(st.RetentionTimerKey)
	var cur fsmpb.CurrentRun
	if t.get(currentKey(ns, wfID), &cur) && cur.RunId == runID {
		t.del(currentKey(ns, wfID))
	}
	if st.CreateRequestId != "" {
		var dedup fsmpb.CurrentRun
		if t.get(dedupKey(ns, st.CreateRequestId), &dedup) && dedup.RunId == runID {
			t.del(dedupKey(ns, st.CreateRequestId))
		}
	}
	// Wake history long polls on the run: they find it gone.
	t.hints = append(t.hints, hint{kind: hintHistory, ns: ns, wf: wfID, runID: runID})
}

// deleteWorkflow applies DeleteWorkflowExecution: a running run is
// terminated first (with everything termination implies: parent notified,
// children handled by their parent close policy), then deleted.
func (t *txn) deleteWorkflow(op *fsmpb.DeleteWorkflow) *Result {
	w, err := t.loadRun(op.Namespace, op.WorkflowId, op.RunId)
	if err != nil {
		return &Result{Err: err}
	}
	if w.st.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		w.terminate("Delete workflow execution", op.Identity, nil)
	}
	t.deleteRun(w.st)
	return &Result{RunID: w.st.RunId}
}
