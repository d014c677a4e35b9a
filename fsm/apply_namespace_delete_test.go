package fsm

import (
	"errors"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

func deleteNSCmd(ns string) *fsmpb.Command {
	return &fsmpb.Command{Op: &fsmpb.Command_DeleteNamespace{DeleteNamespace: &fsmpb.DeleteNamespace{Namespace: ns}}}
}

func purgeNSCmd(ns string, max int32) *fsmpb.Command {
	return &fsmpb.Command{Op: &fsmpb.Command_PurgeNamespace{PurgeNamespace: &fsmpb.PurgeNamespace{Namespace: ns, MaxRuns: max}}}
}

// TestDeleteNamespace: a deleted namespace is gone for every call at once;
// PurgeNamespace entries then remove its runs (running ones terminated,
// their tasks and timers with them) a bounded number at a time, and then
// every key it owned and its record, after which the name is free again.
// The default namespace is protected. Other namespaces are untouched.
func TestDeleteNamespace(t *testing.T) {
	h := newHarness(t)
	h.applyOK(registerNSCmd("doomed", 48*time.Hour))
	inNS := func(ns string) func(*workflowservice.StartWorkflowExecutionRequest) {
		return func(r *workflowservice.StartWorkflowExecutionRequest) { r.Namespace = ns }
	}
	for _, id := range []string{"a", "b", "c"} {
		h.start(id, inNS("doomed"))
	}
	keep := h.start("keep")
	h.applyOK(&fsmpb.Command{Op: &fsmpb.Command_SearchAttributes{SearchAttributes: &fsmpb.SearchAttributes{
		Namespace: "doomed", Add: map[string]enumspb.IndexedValueType{"Region": enumspb.INDEXED_VALUE_TYPE_KEYWORD}}}})

	h.applyErr(deleteNSCmd(DefaultNamespace), ErrNamespaceProtected)
	h.applyErr(deleteNSCmd("nope"), ErrNamespaceNotFound)
	h.applyOK(deleteNSCmd("doomed"))
	if _, err := h.f.GetNamespace("doomed"); !errors.Is(err, ErrNamespaceNotFound) {
		t.Fatalf("GetNamespace after delete: %v", err)
	}
	for _, rec := range h.f.ListNamespaces() {
		if rec.GetInfo().GetName() == "doomed" {
			t.Fatalf("ListNamespaces lists the deleted namespace")
		}
	}
	if got := h.f.DeletedNamespaces(); len(got) != 1 || got[0] != "doomed" {
		t.Fatalf("DeletedNamespaces %v", got)
	}
	h.applyErr(deleteNSCmd("doomed"), ErrNamespaceNotFound)
	h.applyErr(startCmd(h.newRunID(), func() *workflowservice.StartWorkflowExecutionRequest {
		r := startReq("d")
		r.Namespace = "doomed"
		return r
	}()), ErrNamespaceNotFound)
	h.applyErr(registerNSCmd("doomed", 48*time.Hour), ErrNamespaceExists)

	// Two runs per entry: three runs take two entries.
	if res := h.applyOK(purgeNSCmd("doomed", 2)); res.NamespacePurged {
		t.Fatalf("purged after the first entry")
	}
	if res := h.applyOK(purgeNSCmd("doomed", 2)); !res.NamespacePurged {
		t.Fatalf("not purged after the second entry")
	}
	if res := h.applyOK(purgeNSCmd("doomed", 2)); !res.NamespacePurged {
		t.Fatalf("a purge of a gone namespace: not purged")
	}
	ns := newKey(famNamespace).str("doomed")
	for _, fam := range []byte{famCurrent, famState, famHistory, famDedup, famVis, famSearchAtt} {
		p := newKey(fam).str("doomed")
		h.f.scan(p, func(k, _ []byte) bool {
			t.Errorf("key %x of the deleted namespace left (family %#x)", k, fam)
			return false
		})
	}
	h.f.scan(ns, func(k, _ []byte) bool { t.Errorf("namespace record left"); return false })
	for _, e := range h.f.ScanTasks() {
		if e.Row.Namespace == "doomed" {
			t.Errorf("task row left: %v", e.Row)
		}
	}
	for _, r := range h.f.testTimerRows() {
		if r.Row.Namespace == "doomed" {
			t.Errorf("timer row left: %v", r.Row)
		}
	}
	if st := h.state("keep"); st.RunId != keep {
		t.Fatalf("the default namespace's run changed: %v", st)
	}
	h.applyOK(registerNSCmd("doomed", 48*time.Hour))
	if _, err := h.f.GetNamespace("doomed"); err != nil {
		t.Fatalf("registered again: %v", err)
	}
}
