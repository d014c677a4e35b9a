package fsm

import (
	"errors"
	"testing"
	"time"

	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// visRows lists a namespace's visibility records (newest first unless asc).
func (h *harness) visRows(ns string, asc bool) []*workflowpb.WorkflowExecutionInfo {
	h.t.Helper()
	var out []*workflowpb.WorkflowExecutionInfo
	if err := h.f.ScanVisibility(VisibilityScan{Namespace: ns, Desc: !asc}, func(_ []byte, info *workflowpb.WorkflowExecutionInfo) bool {
		out = append(out, info)
		return true
	}); err != nil {
		h.t.Fatalf("ScanVisibility: %v", err)
	}
	return out
}

// visRow returns the one visibility record of run runID in the default namespace.
func (h *harness) visRow(runID string) *workflowpb.WorkflowExecutionInfo {
	h.t.Helper()
	for _, r := range h.visRows(DefaultNamespace, false) {
		if r.GetExecution().GetRunId() == runID {
			return r
		}
	}
	h.t.Fatalf("no visibility record for run %s", runID)
	return nil
}

func registerNSCmd(name string, retention time.Duration) *fsmpb.Command {
	return &fsmpb.Command{Op: &fsmpb.Command_RegisterNamespace{RegisterNamespace: &fsmpb.RegisterNamespace{
		NamespaceId: "id-" + name, Request: &workflowservice.RegisterNamespaceRequest{
			Namespace: name, WorkflowExecutionRetentionPeriod: durp(retention),
		}}}}
}

func updateNSCmd(req *workflowservice.UpdateNamespaceRequest) *fsmpb.Command {
	return &fsmpb.Command{Op: &fsmpb.Command_UpdateNamespace{UpdateNamespace: &fsmpb.UpdateNamespace{Request: req}}}
}

func deleteCmd(ns, wfID, runID string) *fsmpb.Command {
	return &fsmpb.Command{Op: &fsmpb.Command_DeleteWorkflow{DeleteWorkflow: &fsmpb.DeleteWorkflow{
		Namespace: ns, WorkflowId: wfID, RunId: runID, Identity: "admin"}}}
}

// The x-prefixed builders are this file's (the harness may grow its own).
func xContinueAsNew() *commandpb.Command {
	return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
		Attributes: &commandpb.Command_ContinueAsNewWorkflowExecutionCommandAttributes{ContinueAsNewWorkflowExecutionCommandAttributes: &commandpb.ContinueAsNewWorkflowExecutionCommandAttributes{
			WorkflowType: &commonpb.WorkflowType{Name: "wf-type"}, TaskQueue: &taskqueuepb.TaskQueue{Name: "tq"}, Input: payloads("next"),
		}}}
}

func xModifyMemo(key, value string) *commandpb.Command {
	return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES,
		Attributes: &commandpb.Command_ModifyWorkflowPropertiesCommandAttributes{ModifyWorkflowPropertiesCommandAttributes: &commandpb.ModifyWorkflowPropertiesCommandAttributes{
			UpsertedMemo: &commonpb.Memo{Fields: map[string]*commonpb.Payload{key: payloads(value).Payloads[0]}},
		}}}
}

func typedSA(name, typ, json string) *commonpb.SearchAttributes {
	return &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{name: {
		Metadata: map[string][]byte{"encoding": []byte("json/plain"), "type": []byte(typ)}, Data: []byte(json)}}}
}

// wantGone checks a deleted run left nothing behind.
func (h *harness) wantGone(ns, wfID, runID string) {
	h.t.Helper()
	if _, err := h.f.GetState(ns, wfID, runID); !errors.Is(err, ErrWorkflowNotFound) {
		h.t.Fatalf("state of deleted run %s: err %v", runID, err)
	}
	if evs, _ := h.f.ReadHistory(ns, wfID, runID, 1, 0, 10); len(evs) != 0 {
		h.t.Fatalf("deleted run %s still has %d events", runID, len(evs))
	}
	for _, r := range h.visRows(ns, false) {
		if r.GetExecution().GetRunId() == runID {
			h.t.Fatalf("deleted run %s still listed", runID)
		}
	}
	if n := len(h.timersOf(runID)) + len(h.tasksOf(runID)); n != 0 {
		h.t.Fatalf("deleted run %s still owns %d rows", runID, n)
	}
	r, done := h.f.reader()
	defer done()
	var cur fsmpb.CurrentRun
	if getProto(r, currentKey(ns, wfID), &cur) && cur.RunId == runID {
		h.t.Fatalf("current-run record still names deleted run %s", runID)
	}
}

func TestVisibilityIndex(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, h *harness)
	}{
		{"a start inserts a running record", func(t *testing.T, h *harness) {
			runID := h.start("wf", func(r *workflowservice.StartWorkflowExecutionRequest) {
				r.SearchAttributes = typedSA("CustomKeywordField", "Keyword", `"gold"`)
				r.Memo = &commonpb.Memo{Fields: map[string]*commonpb.Payload{"note": payloads("hi").Payloads[0]}}
			})
			r := h.visRow(runID)
			if r.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING || r.GetType().GetName() != "wf-type" || r.TaskQueue != "tq" ||
				r.StartTime.AsTime().UnixNano() != t0 || r.ExecutionTime.AsTime().UnixNano() != t0 || r.CloseTime != nil ||
				r.GetExecution().GetWorkflowId() != "wf" || r.FirstRunId != runID || r.HistoryLength != 2 {
				t.Fatalf("record %v", r)
			}
			if r.GetMemo().GetFields()["note"] == nil || r.GetSearchAttributes().GetIndexedFields()["CustomKeywordField"] == nil {
				t.Fatalf("memo or search attributes missing: %v", r)
			}
			if got := h.f.SearchAttributeTypes()["CustomKeywordField"]; got != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
				t.Fatalf("registered type %s", got)
			}
		}},
		{"upserts and memo changes rewrite it, close finalizes it", func(t *testing.T, h *harness) {
			runID := h.start("wf")
			h.advance(time.Second)
			h.completeWFT("wf", upsertSA(map[string]string{"CustomKeywordField": "silver"}))
			if sa := h.visRow(runID).GetSearchAttributes().GetIndexedFields()["CustomKeywordField"]; string(sa.GetData()) != `"silver"` {
				t.Fatalf("upserted attribute %v", sa)
			}
			h.advance(time.Second)
			h.applyOK(signalCmd("wf", "go", ""))
			h.completeWFT("wf", xModifyMemo("note", "x"), completeWF("done"))
			r := h.visRow(runID)
			st := h.wantClosed("wf", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)
			if r.Status != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED || r.CloseTime.AsTime().UnixNano() != h.now ||
				r.HistoryLength != st.NextEventId-1 || r.HistorySizeBytes != st.HistorySizeBytes ||
				r.ExecutionDuration.AsDuration() != 2*time.Second || r.GetMemo().GetFields()["note"] == nil {
				t.Fatalf("closed record %v", r)
			}
			if typ := h.f.SearchAttributeTypes()["CustomKeywordField"]; typ != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
				t.Fatalf("untyped string attribute registered as %s", typ)
			}
		}},
		{"rows sort by start time; tokens resume either way; namespaces are apart", func(t *testing.T, h *harness) {
			h.applyOK(registerNSCmd("other", 72*time.Hour))
			var ids []string
			for _, wf := range []string{"a", "b", "c"} {
				ids = append(ids, h.start(wf))
				h.advance(time.Second)
			}
			h.applyOK(startCmd("run-other", func() *workflowservice.StartWorkflowExecutionRequest {
				r := startReq("a")
				r.Namespace = "other"
				return r
			}()))
			desc := h.visRows(DefaultNamespace, false)
			asc := h.visRows(DefaultNamespace, true)
			if len(desc) != 3 || desc[0].GetExecution().GetRunId() != ids[2] || desc[2].GetExecution().GetRunId() != ids[0] ||
				asc[0].GetExecution().GetRunId() != ids[0] {
				t.Fatalf("order: desc %v asc %v", desc, asc)
			}
			if o := h.visRows("other", false); len(o) != 1 || o[0].GetExecution().GetRunId() != "run-other" {
				t.Fatalf("other namespace rows %v", o)
			}
			// Resume after the first row, in both directions.
			for _, dir := range []bool{false, true} {
				var first []byte
				h.f.ScanVisibility(VisibilityScan{Namespace: DefaultNamespace, Desc: dir}, func(k []byte, _ *workflowpb.WorkflowExecutionInfo) bool {
					first = k
					return false
				})
				var rest []string
				if err := h.f.ScanVisibility(VisibilityScan{Namespace: DefaultNamespace, Desc: dir, After: first}, func(_ []byte, i *workflowpb.WorkflowExecutionInfo) bool {
					rest = append(rest, i.GetExecution().GetRunId())
					return true
				}); err != nil {
					t.Fatal(err)
				}
				if len(rest) != 2 {
					t.Fatalf("desc=%v: after the first row got %v", dir, rest)
				}
				// A default-namespace token is refused in another namespace.
				if err := h.f.ScanVisibility(VisibilityScan{Namespace: "other", After: first}, func([]byte, *workflowpb.WorkflowExecutionInfo) bool { return true }); !errors.Is(err, ErrInvalidArgument) {
					t.Fatalf("foreign token: err %v", err)
				}
			}
		}},
		{"continue-as-new leaves one record per run", func(t *testing.T, h *harness) {
			first := h.start("wf")
			h.completeWFT("wf", xContinueAsNew())
			second := h.state("wf").RunId
			if h.visRow(first).Status != enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW ||
				h.visRow(second).Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				t.Fatalf("records %v / %v", h.visRow(first), h.visRow(second))
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newHarness(t)) })
	}
}

func TestRetentionAndDelete(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, h *harness)
	}{
		{"a closed run is deleted when its retention expires", func(t *testing.T, h *harness) {
			runID := h.start("wf")
			h.advance(time.Minute)
			h.completeWFT("wf", completeWF("done"))
			closedAt := h.now
			r := h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_RETENTION)
			if r.Row.FireAt != closedAt+int64(24*time.Hour) { // the default namespace keeps one day
				t.Fatalf("retention fires at %d, want close + 24h", r.Row.FireAt-closedAt)
			}
			// Not before its time.
			if res := h.applyOK(fireCmd(r.Key)); len(res.NotDue) != 1 {
				t.Fatalf("retention fired early")
			}
			h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_RETENTION)
			h.wantGone(DefaultNamespace, "wf", runID)
			// The id is free again, and the old request id no longer dedups.
			if res := h.applyOK(startCmd("run-new", startReq("wf"))); !res.Started || res.RunID != "run-new" {
				t.Fatalf("restart after deletion: %+v", res)
			}
		}},
		{"retention follows the namespace's setting at close", func(t *testing.T, h *harness) {
			h.applyOK(registerNSCmd("short", 2*time.Hour))
			req := startReq("wf")
			req.Namespace = "short"
			h.applyOK(startCmd("run-s", req))
			h.applyOK(updateNSCmd(&workflowservice.UpdateNamespaceRequest{Namespace: "short",
				Config: &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durp(3 * time.Hour)}}))
			h.applyOK(&fsmpb.Command{Op: &fsmpb.Command_TerminateWorkflow{TerminateWorkflow: &fsmpb.TerminateWorkflow{
				Request: &workflowservice.TerminateWorkflowExecutionRequest{Namespace: "short", WorkflowExecution: wfExec("wf", "")}}}})
			r := h.timerOfKind("run-s", fsmpb.TimerKind_TIMER_KIND_RETENTION)
			if r.Row.FireAt != h.now+int64(3*time.Hour) || r.Row.Namespace != "short" {
				t.Fatalf("retention row %v", r.Row)
			}
		}},
		{"a stale retention timer deletes nothing", func(t *testing.T, h *harness) {
			runID := h.start("wf")
			h.completeWFT("wf", completeWF("done"))
			r := h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_RETENTION)
			// Forge a second retention row for the same run: not the one the
			// run armed, so firing it is a no-op.
			forged := timerKey(r.Row.FireAt, 999999, 1)
			h.f.mu.RLock()
			b := h.f.db.NewBatch()
			b.Set(forged, mustMarshal(r.Row), nil)
			b.Commit(nil)
			h.f.mu.RUnlock()
			h.now = r.Row.FireAt
			h.applyOK(fireCmd(forged))
			if st := h.state("wf"); st.RunId != runID {
				t.Fatalf("run deleted by a stale retention timer")
			}
		}},
		{"delete terminates a running run first", func(t *testing.T, h *harness) {
			runID := h.start("wf")
			h.pollWFT("wf")
			res := h.applyOK(deleteCmd(DefaultNamespace, "wf", ""))
			if res.RunID != runID {
				t.Fatalf("deleted run %q", res.RunID)
			}
			h.wantGone(DefaultNamespace, "wf", runID)
		}},
		{"delete of a closed run keeps the other runs", func(t *testing.T, h *harness) {
			first := h.start("wf")
			h.completeWFT("wf", xContinueAsNew())
			second := h.state("wf").RunId
			h.applyOK(deleteCmd(DefaultNamespace, "wf", first))
			h.wantGone(DefaultNamespace, "wf", first)
			if st := h.state("wf"); st.RunId != second || st.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				t.Fatalf("current run after deleting its predecessor: %v", st)
			}
			h.visRow(second)
		}},
		{"delete of an unknown run", func(t *testing.T, h *harness) {
			h.applyErr(deleteCmd(DefaultNamespace, "nope", ""), ErrWorkflowNotFound)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newHarness(t)) })
	}
}

func TestUpdateNamespace(t *testing.T) {
	tests := []struct {
		name    string
		ns      string
		req     *workflowservice.UpdateNamespaceRequest
		wantErr error
		check   func(t *testing.T, rec *fsmpb.NamespaceRecord)
	}{
		{name: "description, owner, data and retention", ns: "ns1", req: &workflowservice.UpdateNamespaceRequest{
			UpdateInfo: &namespacepb.UpdateNamespaceInfo{Description: "d", OwnerEmail: "o@x", Data: map[string]string{"k": "v"}},
			Config:     &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durp(48 * time.Hour)},
		}, check: func(t *testing.T, rec *fsmpb.NamespaceRecord) {
			if rec.Info.Description != "d" || rec.Info.OwnerEmail != "o@x" || rec.Info.Data["k"] != "v" ||
				rec.Config.WorkflowExecutionRetentionTtl.AsDuration() != 48*time.Hour || rec.Info.Id != "id-ns1" {
				t.Fatalf("record %v", rec)
			}
		}},
		{name: "unset fields are kept", ns: "ns1", req: &workflowservice.UpdateNamespaceRequest{
			UpdateInfo: &namespacepb.UpdateNamespaceInfo{State: enumspb.NAMESPACE_STATE_DEPRECATED},
		}, check: func(t *testing.T, rec *fsmpb.NamespaceRecord) {
			if rec.Info.State != enumspb.NAMESPACE_STATE_DEPRECATED || rec.Config.WorkflowExecutionRetentionTtl.AsDuration() != 72*time.Hour {
				t.Fatalf("record %v", rec)
			}
		}},
		{name: "the default namespace", ns: DefaultNamespace, req: &workflowservice.UpdateNamespaceRequest{
			UpdateInfo: &namespacepb.UpdateNamespaceInfo{Description: "mine"},
		}, check: func(t *testing.T, rec *fsmpb.NamespaceRecord) {
			if rec.Info.Description != "mine" || rec.Info.Id != DefaultNamespaceID || rec.Config.WorkflowExecutionRetentionTtl.AsDuration() != 24*time.Hour {
				t.Fatalf("record %v", rec)
			}
		}},
		{name: "unknown namespace", ns: "nope", req: &workflowservice.UpdateNamespaceRequest{}, wantErr: ErrNamespaceNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.applyOK(registerNSCmd("ns1", 72*time.Hour))
			tc.req.Namespace = tc.ns
			if tc.wantErr != nil {
				h.applyErr(updateNSCmd(tc.req), tc.wantErr)
				return
			}
			h.applyOK(updateNSCmd(tc.req))
			rec, err := h.f.GetNamespace(tc.ns)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, rec)
		})
	}
}

// TestSearchAttributeRegistration: OperatorService registration pins a
// namespace's custom search attribute types; a conflicting type or removing
// an unknown name refuses the whole command and writes nothing.
func TestSearchAttributeRegistration(t *testing.T) {
	sa := func(ns string, add map[string]enumspb.IndexedValueType, remove ...string) *fsmpb.Command {
		return &fsmpb.Command{Op: &fsmpb.Command_SearchAttributes{SearchAttributes: &fsmpb.SearchAttributes{
			Namespace: ns, Add: add, Remove: remove}}}
	}
	h := newHarness(t)
	h.applyOK(sa(DefaultNamespace, map[string]enumspb.IndexedValueType{
		"CustomerId": enumspb.INDEXED_VALUE_TYPE_KEYWORD, "Amount": enumspb.INDEXED_VALUE_TYPE_DOUBLE}))
	types := h.f.SearchAttributeTypes()
	if types["CustomerId"] != enumspb.INDEXED_VALUE_TYPE_KEYWORD || types["Amount"] != enumspb.INDEXED_VALUE_TYPE_DOUBLE {
		t.Fatalf("registered types %v", types)
	}
	h.applyOK(sa(DefaultNamespace, map[string]enumspb.IndexedValueType{"CustomerId": enumspb.INDEXED_VALUE_TYPE_KEYWORD}))
	before := h.f.Digest()
	h.applyErr(sa(DefaultNamespace, map[string]enumspb.IndexedValueType{
		"Other": enumspb.INDEXED_VALUE_TYPE_INT, "CustomerId": enumspb.INDEXED_VALUE_TYPE_INT}), ErrInvalidArgument)
	h.applyErr(sa(DefaultNamespace, nil, "Amount", "Nope"), ErrInvalidArgument)
	h.applyErr(sa("no-such-namespace", map[string]enumspb.IndexedValueType{"X": enumspb.INDEXED_VALUE_TYPE_INT}), ErrNamespaceNotFound)
	if h.f.Digest() != before {
		t.Fatalf("a refused registration changed the state")
	}
	// A first use does not override a registration.
	h.start("wf", func(r *workflowservice.StartWorkflowExecutionRequest) {
		r.SearchAttributes = typedSA("Amount", "Int", `3`)
	})
	if got := h.f.SearchAttributeTypes()["Amount"]; got != enumspb.INDEXED_VALUE_TYPE_DOUBLE {
		t.Fatalf("Amount is %v after a use, want the registered Double", got)
	}
	h.applyOK(sa(DefaultNamespace, nil, "Amount"))
	if _, ok := h.f.SearchAttributeTypes()["Amount"]; ok {
		t.Fatalf("Amount still registered after its removal")
	}
}
