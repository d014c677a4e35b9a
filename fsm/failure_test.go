package fsm

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/hashicorp/raft"
	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// long is longer than any key component can be (uint16 length prefix).
var long = strings.Repeat("k", maxKeyComponent+1)

// oddStrings are what a hostile client puts into a string field. (Invalid
// UTF-8 cannot be marshaled into a proto3 string; garbage entries cover
// bytes that do not decode.)
var oddStrings = []string{"", long, strings.Repeat("é", 40000), "\x00", "a\x00b/c", " ", "ns1"}

// applyRaw applies data (not necessarily a valid command) as the next entry.
func (h *harness) applyRaw(data []byte) *Result {
	h.t.Helper()
	h.index++
	l := &raft.Log{Index: h.index, Term: 1, Type: raft.LogCommand, Data: data}
	h.logs = append(h.logs, l)
	res, ok := h.f.Apply(l).(*Result)
	if !ok || h.f.AppliedIndex() != h.index {
		h.t.Fatalf("raw entry %d: result %T, applied index %d", h.index, res, h.f.AppliedIndex())
	}
	return res
}

// garbage returns bytes for an entry that is most likely not a command.
func (d *driver) garbage() []byte {
	n := d.intn(24)
	b := make([]byte, n)
	for i := range b {
		b[i] = d.byte()
	}
	return b
}

// mutate replaces one string field of cmd (a map key included), chosen by
// the fuzz input, with an odd string.
func (d *driver) mutate(cmd *fsmpb.Command) {
	var slots []func(string)
	stringSlots(cmd.ProtoReflect(), &slots)
	if len(slots) == 0 {
		return
	}
	slots[d.intn(len(slots))](oddStrings[d.intn(len(oddStrings))])
}

// stringSlots collects a setter for every populated string field and string
// map key under m, in a deterministic order.
func stringSlots(m protoreflect.Message, out *[]func(string)) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				switch fd.Kind() {
				case protoreflect.StringKind:
					*out = append(*out, func(s string) { l.Set(i, protoreflect.ValueOfString(s)) })
				case protoreflect.MessageKind:
					stringSlots(l.Get(i).Message(), out)
				}
			}
		case fd.IsMap():
			mp := v.Map()
			var keys []protoreflect.MapKey
			mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool { keys = append(keys, k); return true })
			slices.SortFunc(keys, func(a, b protoreflect.MapKey) int { return strings.Compare(a.String(), b.String()) })
			for _, k := range keys {
				if fd.MapKey().Kind() == protoreflect.StringKind {
					*out = append(*out, func(s string) {
						val := mp.Get(k)
						mp.Clear(k)
						mp.Set(protoreflect.ValueOfString(s).MapKey(), val)
					})
				}
				if fd.MapValue().Kind() == protoreflect.MessageKind {
					stringSlots(mp.Get(k).Message(), out)
				}
			}
		case fd.Kind() == protoreflect.StringKind:
			*out = append(*out, func(s string) { m.Set(fd, protoreflect.ValueOfString(s)) })
		case fd.Kind() == protoreflect.MessageKind:
			stringSlots(v.Message(), out)
		}
		return true
	})
}

// FuzzHostileCommands is FuzzDeterminism with a hostile proposer: a third of
// the commands get one string field (a map key included) replaced by an
// empty, over-long or odd string, and some entries are garbage bytes. Apply
// must always return (never panic), and the entry-by-entry and batched FSMs
// must still agree on every result and on the final digest.
func FuzzHostileCommands(f *testing.F) {
	for seed := range uint64(6) {
		f.Add(seedInput(100+seed, 3000))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) { checkDeterminism(t, in, true) })
}

// TestOverlongKeyFailsOnlyItsEntry: a command whose string cannot be a key
// component (before: a panic inside ApplyBatch on every replica, on every
// restart) fails with ErrInvalidArgument and writes nothing; the entries
// around it in the same batch apply as if it were not there.
func TestOverlongKeyFailsOnlyItsEntry(t *testing.T) {
	h := newHarness(t)
	runA := h.start("a")
	wt := h.pollWFT("a")
	bad := map[string]*fsmpb.Command{
		"workflow_id": startCmd("run-x", startReq(long)),
		"request_id": startCmd("run-y", func() *workflowservice.StartWorkflowExecutionRequest {
			r := startReq("b2")
			r.RequestId = long
			return r
		}()),
		"token namespace": completeCmd(&fsmpb.TaskToken{Namespace: long, WorkflowId: "a", RunId: runA,
			Kind: fsmpb.TaskKind_TASK_KIND_WORKFLOW, ScheduledEventId: wt.Token.ScheduledEventId, StartedEventId: wt.Token.StartedEventId}),
		"token workflow_id": completeCmd(&fsmpb.TaskToken{Namespace: DefaultNamespace, WorkflowId: long, RunId: runA}),
		"token run_id":      completeCmd(&fsmpb.TaskToken{Namespace: DefaultNamespace, WorkflowId: "a", RunId: long}),
		"search attribute name": startCmd("run-z", func() *workflowservice.StartWorkflowExecutionRequest {
			r := startReq("b3")
			r.SearchAttributes = &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{long: payloads("v").Payloads[0]}}
			return r
		}()),
		"child workflow_id": completeCmd(wt.Token, &commandpb.Command{
			CommandType: enumspb.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_StartChildWorkflowExecutionCommandAttributes{StartChildWorkflowExecutionCommandAttributes: &commandpb.StartChildWorkflowExecutionCommandAttributes{
				Namespace: DefaultNamespace, WorkflowId: long, WorkflowType: &commonpb.WorkflowType{Name: "child"},
				TaskQueue: startReq("").TaskQueue}}}),
		"external signal target": completeCmd(wt.Token, &commandpb.Command{
			CommandType: enumspb.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_SignalExternalWorkflowExecutionCommandAttributes{SignalExternalWorkflowExecutionCommandAttributes: &commandpb.SignalExternalWorkflowExecutionCommandAttributes{
				Namespace: DefaultNamespace, Execution: wfExec(long, ""), SignalName: "s"}}}),
		"external cancel target": completeCmd(wt.Token, &commandpb.Command{
			CommandType: enumspb.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_RequestCancelExternalWorkflowExecutionCommandAttributes{RequestCancelExternalWorkflowExecutionCommandAttributes: &commandpb.RequestCancelExternalWorkflowExecutionCommandAttributes{
				Namespace: long, WorkflowId: "a"}}}),
	}
	names := make([]string, 0, len(bad))
	for n := range bad {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		before := h.f.Digest()
		// One batch: a good signal, the bad command, another good signal.
		logs := []*raft.Log{h.entry(signalCmd("a", "s1-"+name, "")), h.entry(bad[name]), h.entry(signalCmd("a", "s2-"+name, ""))}
		out := h.f.ApplyBatch(logs)
		if r := out[1].(*Result); r.Err == nil {
			t.Fatalf("%s: overlong value applied without error", name)
		} else if !errors.Is(r.Err, ErrInvalidArgument) && !errors.Is(r.Err, ErrStaleTask) && !errors.Is(r.Err, ErrWorkflowNotFound) && !errors.Is(r.Err, ErrNamespaceNotFound) {
			t.Fatalf("%s: err %v, want an invalid argument (or a not-found the key never reached)", name, r.Err)
		}
		for _, i := range []int{0, 2} {
			if r := out[i].(*Result); r.Err != nil {
				t.Fatalf("%s: good entry %d failed: %v", name, i, r.Err)
			}
		}
		if h.f.AppliedIndex() != h.index {
			t.Fatalf("%s: applied index %d, want %d", name, h.f.AppliedIndex(), h.index)
		}
		if h.f.Digest() == before {
			t.Fatalf("%s: the good entries of the batch were not applied", name)
		}
	}
	// Same log, one entry at a time, on a fresh FSM: same state.
	g := openFSM(t, t.TempDir())
	defer g.Close()
	for _, l := range h.logs {
		g.Apply(l)
	}
	if a, b := h.f.Digest(), g.Digest(); a != b {
		t.Fatalf("batched %s != entry by entry %s", a, b)
	}
	if got := h.state("a").SignalCount; got != int64(2*len(bad)) {
		t.Fatalf("%d signals recorded, want %d", got, 2*len(bad))
	}
}

// TestUndecodableEntryFails: an entry that is not a command fails with
// ErrApplyFailed; the node goes on.
func TestUndecodableEntryFails(t *testing.T) {
	h := newHarness(t)
	res := h.applyRaw([]byte{0xff, 0xff, 0xff})
	if !errors.Is(res.Err, ErrApplyFailed) {
		t.Fatalf("err %v, want ErrApplyFailed", res.Err)
	}
	h.start("after")
}

// TestStorageFailureStopsApplying: once Pebble's writes fail, the FSM calls
// the fail handler and stops applying (the apply goroutine exits without
// answering), instead of acknowledging entries it cannot store or panicking
// later.
func TestStorageFailureStopsApplying(t *testing.T) {
	toggle := &errorfs.Toggle{Injector: errorfs.ErrInjected.If(errorfs.Writes)}
	f, err := open(t.TempDir(), testLogger, errorfs.Wrap(vfs.Default, toggle))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	failed := make(chan error, 1)
	f.SetFailHandler(func(err error) { failed <- err })
	h := &harness{t: t, f: f, now: t0}
	h.start("ok")
	toggle.On()
	// Commits are not synced, so the first failing WAL write may surface
	// only on a later commit: apply until the FSM stops.
	for i := 0; ; i++ {
		if i == 1000 {
			t.Fatal("1000 entries applied on a failing disk")
		}
		done := make(chan bool)
		l := h.entry(startCmd(h.newRunID(), startReq("w"+strings.Repeat("x", i%3)+string(rune('a'+i%26)))))
		go func() {
			defer close(done)
			f.ApplyBatch([]*raft.Log{l})
			done <- true
		}()
		if <-done {
			continue
		}
		// The goroutine exited without returning: halted.
		break
	}
	select { // the handler runs before the apply goroutine exits
	case err := <-failed:
		if !strings.Contains(err.Error(), "storage") {
			t.Fatalf("fail handler got %v", err)
		}
	default:
		t.Fatal("fail handler not called")
	}
	if f.Failed() == nil {
		t.Fatal("Failed() is nil after a storage failure")
	}
	// Nothing more is applied, even once the disk is healthy again.
	toggle.Off()
	applied := f.AppliedIndex()
	done := make(chan bool)
	l := h.entry(signalCmd("ok", "late", ""))
	go func() {
		defer close(done)
		f.ApplyBatch([]*raft.Log{l})
		done <- true
	}()
	if <-done || f.AppliedIndex() != applied {
		t.Fatal("a failed FSM applied another entry")
	}
}

// TestProbeFindsLatchedWALError: a failed WAL write is found by Probe (a
// synced, keyless record) without waiting for the next command, and it
// stops the FSM; on a healthy disk Probe changes nothing.
func TestProbeFindsLatchedWALError(t *testing.T) {
	toggle := &errorfs.Toggle{Injector: errorfs.ErrInjected.If(errorfs.Writes)}
	f, err := open(t.TempDir(), testLogger, errorfs.Wrap(vfs.Default, toggle))
	if err != nil {
		t.Fatal(err)
	}
	failed := make(chan error, 1)
	f.SetFailHandler(func(err error) { failed <- err })
	h := &harness{t: t, f: f, now: t0}
	h.start("ok")
	digest := f.Digest()
	if err := f.Probe(); err != nil {
		t.Fatalf("probe on a healthy disk: %v", err)
	}
	if f.Digest() != digest {
		t.Fatal("probe changed the state")
	}
	toggle.On()
	if err := f.Probe(); err == nil {
		t.Fatal("probe on a failing disk succeeded")
	}
	select {
	case <-failed:
	default:
		t.Fatal("fail handler not called")
	}
	toggle.Off()
	if f.Failed() == nil || f.Probe() == nil {
		t.Fatal("a failed FSM probes healthy once the disk recovers")
	}
}
