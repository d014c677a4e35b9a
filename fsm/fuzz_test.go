package fsm

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	activitypb "go.temporal.io/api/activity/v1"
	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// driver turns fuzz bytes into a random but valid command sequence. It
// applies each command to a reference FSM (entry by entry) as it goes, so
// it can pick real task keys, tokens and timer keys; stale picks are part of
// the sequence on purpose.
type driver struct {
	h       *harness
	in      []byte
	pos     int
	wts     []*fsmpb.TaskToken // workflow task tokens handed out so far
	acts    []*fsmpb.TaskToken // activity task tokens handed out so far
	results []string           // describe() of every entry's result
	seq     int                // for fresh activity and timer ids
	// liveStale counts backlog rows that RecordTaskStarted found stale.
	liveStale int
	// hostile: commands get odd strings and some entries are garbage
	// (FuzzHostileCommands).
	hostile bool
}

func (d *driver) done() bool { return d.pos >= len(d.in) }

func (d *driver) byte() byte {
	if d.done() {
		return 0
	}
	b := d.in[d.pos]
	d.pos++
	return b
}

func (d *driver) intn(n int) int { return int(d.byte()) % n }

func (d *driver) apply(cmd *fsmpb.Command) *Result {
	if d.hostile {
		if d.intn(16) == 0 {
			d.results = append(d.results, describe(d.h.applyRaw(d.garbage())))
		}
		if d.intn(3) == 0 {
			d.mutate(cmd)
		}
	}
	res := d.h.apply(cmd)
	d.results = append(d.results, describe(res))
	return res
}

var fuzzNamespaces = []string{DefaultNamespace, DefaultNamespace, DefaultNamespace, "ns1"}

func (d *driver) wfID() string { return fmt.Sprintf("wf-%d", d.intn(6)) }

// states returns every run's mutable state in key order.
func (d *driver) states() []*fsmpb.WorkflowState {
	var out []*fsmpb.WorkflowState
	d.h.f.scan([]byte{famState}, func(_, v []byte) bool {
		st := &fsmpb.WorkflowState{}
		mustUnmarshal(v, st)
		out = append(out, st)
		return true
	})
	return out
}

// wfToken returns the token of a started workflow task, or (one time in
// eight, or when none is started) one handed out earlier, likely stale.
func (d *driver) wfToken() *fsmpb.TaskToken {
	var live []*fsmpb.TaskToken
	for _, st := range d.states() {
		if wt := st.WorkflowTask; wt != nil && wt.StartedEventId > 0 && st.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			live = append(live, &fsmpb.TaskToken{Namespace: st.Namespace, WorkflowId: st.WorkflowId, RunId: st.RunId,
				Kind: fsmpb.TaskKind_TASK_KIND_WORKFLOW, ScheduledEventId: wt.ScheduledEventId, StartedEventId: wt.StartedEventId, Attempt: wt.Attempt})
		}
	}
	if len(live) == 0 || d.intn(8) == 0 {
		if d.intn(4) != 0 {
			return nil
		}
		return pick(d, d.wts)
	}
	return live[d.intn(len(live))]
}

// actToken is wfToken for started activity attempts.
func (d *driver) actToken() *fsmpb.TaskToken {
	var live []*fsmpb.TaskToken
	for _, st := range d.states() {
		if st.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			continue // a closed run's pending activities are only listed
		}
		ids := make([]int64, 0, len(st.Activities))
		for id, a := range st.Activities {
			if a.StartedTime > 0 {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for _, id := range ids {
			a := st.Activities[id]
			live = append(live, &fsmpb.TaskToken{Namespace: st.Namespace, WorkflowId: st.WorkflowId, RunId: st.RunId,
				Kind: fsmpb.TaskKind_TASK_KIND_ACTIVITY, ScheduledEventId: id, Attempt: a.Attempt, ActivityId: a.ActivityId, Stamp: a.Stamp})
		}
	}
	if len(live) == 0 || d.intn(8) == 0 {
		if d.intn(4) != 0 {
			return nil
		}
		return pick(d, d.acts)
	}
	return live[d.intn(len(live))]
}

// running counts the runs that are running.
func (d *driver) running() int {
	n := 0
	for _, st := range d.states() {
		if st.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			n++
		}
	}
	return n
}

// step appends one command to the sequence.
func (d *driver) step() {
	d.h.advance(time.Duration(d.intn(4)) * 100 * time.Millisecond)
	if d.running() < 2 && d.intn(2) == 0 {
		d.start()
		return
	}
	switch d.intn(20) {
	case 0, 1:
		d.start()
	case 2, 3:
		d.apply(signalCmd(d.wfID(), "sig", d.requestID("sig", 3)))
	case 4, 5, 6, 7:
		d.recordStarted()
	case 8, 9, 10, 11:
		if tok := d.wfToken(); tok != nil {
			req := &workflowservice.RespondWorkflowTaskCompletedRequest{
				Identity: "worker", Commands: d.commands(tok), ForceCreateNewWorkflowTask: d.intn(8) == 0,
			}
			if d.intn(4) == 0 {
				req.StickyAttributes = stickyAttrs("sticky")
			}
			cmd := completeReqCmd(tok, req)
			for range d.intn(3) {
				cmd.GetCompleteWorkflowTask().NewRunIds = append(cmd.GetCompleteWorkflowTask().NewRunIds, d.h.newRunID())
			}
			d.apply(cmd)
		} else {
			d.recordStarted()
		}
	case 12:
		if tok := d.wfToken(); tok != nil {
			d.apply(failWFTCmd(tok, enumspb.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE))
		} else {
			d.recordStarted()
		}
	case 13, 14:
		d.activityResult()
	case 15:
		if tok := d.actToken(); tok != nil {
			d.apply(heartbeatCmd(tok, fmt.Sprintf("hb-%d", d.intn(3))))
		} else {
			d.fire()
		}
	case 16, 17:
		d.fire()
	default:
		d.misc()
	}
}

func (d *driver) requestID(prefix string, n int) string {
	if i := d.intn(n + 1); i < n {
		return fmt.Sprintf("%s-%d", prefix, i)
	}
	return ""
}

func pick[T any](d *driver, from []T) T {
	var zero T
	if len(from) == 0 {
		return zero
	}
	// Prefer recent entries: they are the likely live ones.
	i := len(from) - 1 - d.intn(min(len(from), 4))
	return from[i]
}

func (d *driver) start() {
	req := startReq(d.wfID())
	req.Namespace = fuzzNamespaces[d.intn(len(fuzzNamespaces))]
	req.RequestId = d.requestID("start", 5)
	req.WorkflowIdConflictPolicy = enumspb.WorkflowIdConflictPolicy(d.intn(4))
	req.WorkflowIdReusePolicy = enumspb.WorkflowIdReusePolicy(d.intn(5))
	switch d.intn(6) {
	case 0:
		req.WorkflowRunTimeout = durp(time.Minute)
	case 1:
		req.WorkflowRunTimeout = durp(10 * time.Minute)
	case 2:
		req.WorkflowExecutionTimeout = durp(5 * time.Minute)
	}
	if d.intn(3) == 0 {
		req.WorkflowTaskTimeout = durp(2 * time.Second)
	}
	if d.intn(3) == 0 {
		req.SearchAttributes = upsertSA(map[string]string{"K": "v"}).GetUpsertWorkflowSearchAttributesCommandAttributes().SearchAttributes
	}
	d.apply(startCmd(d.h.newRunID(), req))
}

func (d *driver) recordStarted() {
	tasks := d.h.f.ScanTasks()
	if len(tasks) == 0 && d.intn(4) != 0 {
		d.apply(signalCmd(d.wfID(), "sig", ""))
		return
	}
	key := taskKey(uint64(d.intn(8)), 1) // usually missing: stale
	live := len(tasks) > 0 && d.intn(8) != 0
	if live {
		key = tasks[d.intn(len(tasks))].Key
	}
	res := d.apply(recordStartedCmd(key, fmt.Sprintf("w%d", d.intn(2))))
	if live && res.Err != nil {
		d.liveStale++
	}
	if res.WorkflowTask != nil {
		d.wts = append(d.wts, res.WorkflowTask.Token)
	}
	if res.ActivityTask != nil {
		d.acts = append(d.acts, res.ActivityTask.Token)
	}
}

// commands returns 0..3 random workflow commands for the task of tok.
func (d *driver) commands(tok *fsmpb.TaskToken) []*commandpb.Command {
	var out []*commandpb.Command
	for range d.intn(4) {
		out = append(out, d.command(tok))
	}
	return out
}

func (d *driver) command(tok *fsmpb.TaskToken) *commandpb.Command {
	var st *fsmpb.WorkflowState
	if max(len(tok.Namespace), len(tok.WorkflowId), len(tok.RunId)) <= 0xFFFF {
		// A hostile token may name ids no key can hold: the read paths'
		// callers (rpc) refuse those before reading; so does the driver.
		st, _ = d.h.f.GetState(tok.Namespace, tok.WorkflowId, tok.RunId)
	}
	switch d.intn(32) {
	case 0, 1, 2, 3, 4, 5, 6, 7, 8, 9:
		d.seq++
		id := fmt.Sprintf("act-%d", d.seq)
		if d.intn(16) == 0 {
			id = "act-1" // maybe in use: a bad command
		}
		return scheduleActivity(id, func(a *commandpbSchedule) {
			timeouts := []time.Duration{0, 3 * time.Second, 10 * time.Second, time.Minute}
			a.StartToCloseTimeout = durp(timeouts[1+d.intn(3)])
			a.ScheduleToCloseTimeout = durp(timeouts[d.intn(4)])
			a.ScheduleToStartTimeout = durp(timeouts[d.intn(4)])
			a.HeartbeatTimeout = durp(timeouts[d.intn(3)])
			if d.intn(16) == 0 {
				a.StartToCloseTimeout, a.ScheduleToCloseTimeout = nil, nil // a bad command
			}
			if d.intn(4) != 0 {
				a.RetryPolicy = &commonpb.RetryPolicy{InitialInterval: durp(time.Second), BackoffCoefficient: 1.5,
					MaximumAttempts: int32(d.intn(4)), NonRetryableErrorTypes: []string{"Fatal"}}
			}
		})
	case 10, 11, 12, 13, 14:
		d.seq++
		id := fmt.Sprintf("t-%d", d.seq)
		if d.intn(16) == 0 {
			id = "t-1"
		}
		fire := time.Duration(1+d.intn(3)) * 5 * time.Second
		if d.intn(16) == 0 {
			fire = 0 // a bad command
		}
		return startTimer(id, fire)
	case 15, 16:
		var names []string
		for name := range st.GetTimers() {
			names = append(names, name)
		}
		slices.Sort(names)
		if len(names) == 0 || d.intn(8) == 0 {
			return cancelTimer("nope") // a bad command
		}
		return cancelTimer(names[d.intn(len(names))])
	case 17, 18, 19:
		var ids []int64
		for id := range st.GetActivities() {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		if len(ids) == 0 || d.intn(8) == 0 {
			return requestCancelActivity(int64(d.intn(12))) // likely a bad command
		}
		return requestCancelActivity(ids[d.intn(len(ids))])
	case 20, 21:
		return recordMarker([]string{"", "m", "m", "m", "m", "m", "m", "m"}[d.intn(8)])
	case 22, 23:
		return upsertSA(map[string]string{"K": []string{"", "a", "b"}[d.intn(3)]})
	case 24, 25:
		return completeWF("r")
	case 26:
		return failWF("f")
	case 27:
		return cancelWF()
	case 28:
		return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_UNSPECIFIED}
	case 29:
		d.seq++
		return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_StartChildWorkflowExecutionCommandAttributes{StartChildWorkflowExecutionCommandAttributes: &commandpb.StartChildWorkflowExecutionCommandAttributes{
				WorkflowId: []string{fmt.Sprintf("child-%d", d.seq), d.wfID()}[d.intn(2)], WorkflowType: startReq("").WorkflowType,
				ParentClosePolicy: enumspb.ParentClosePolicy(d.intn(4)),
			}}}
	case 30:
		if d.intn(2) == 0 {
			return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION,
				Attributes: &commandpb.Command_SignalExternalWorkflowExecutionCommandAttributes{SignalExternalWorkflowExecutionCommandAttributes: &commandpb.SignalExternalWorkflowExecutionCommandAttributes{
					Execution: wfExec(d.wfID(), ""), SignalName: "ext",
				}}}
		}
		return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_RequestCancelExternalWorkflowExecutionCommandAttributes{RequestCancelExternalWorkflowExecutionCommandAttributes: &commandpb.RequestCancelExternalWorkflowExecutionCommandAttributes{
				WorkflowId: d.wfID(),
			}}}
	default:
		return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_ContinueAsNewWorkflowExecutionCommandAttributes{ContinueAsNewWorkflowExecutionCommandAttributes: &commandpb.ContinueAsNewWorkflowExecutionCommandAttributes{
				WorkflowType: startReq("").WorkflowType, TaskQueue: startReq("").TaskQueue,
			}}}
	}
}

func (d *driver) activityResult() {
	tok := d.actToken()
	if tok == nil {
		d.recordStarted()
		return
	}
	var set func(*fsmpb.ActivityResult)
	switch d.intn(6) {
	case 0, 1:
		set = completed("ok")
	case 2:
		set = failed(appFailure("Flaky", false))
	case 3:
		set = failed(appFailure("Fatal", d.intn(2) == 0))
	case 4:
		set = canceled()
	default:
		set = func(r *fsmpb.ActivityResult) { // by activity id
			r.ScheduledEventId, r.Attempt, r.ActivityId = 0, 0, tok.ActivityId
			completed("by-id")(r)
		}
	}
	d.apply(activityResultCmd(tok, set))
}

// activityOperation pauses, unpauses, resets or changes the options of an
// activity of some workflow (by id, type or all; often none matches).
func (d *driver) activityOperation() {
	op := &fsmpb.ActivityOperation{Namespace: DefaultNamespace, WorkflowId: d.wfID(), Identity: "operator"}
	switch d.intn(3) {
	case 0:
		op.ActivityId = fmt.Sprintf("act-%d", d.intn(d.seq+1))
	case 1:
		op.ActivityType = "act-type"
	default:
		op.MatchAll = true
	}
	delay := int64(d.intn(3)) * int64(time.Second)
	switch d.intn(5) {
	case 0, 1:
		pauseOp("fuzz")(op)
	case 2:
		unpauseOp(&fsmpb.ActivityUnpause{ResetAttempts: d.intn(2) == 0, ResetHeartbeat: d.intn(2) == 0, Delay: delay})(op)
	case 3:
		resetOp(&fsmpb.ActivityReset{ResetHeartbeat: d.intn(2) == 0, KeepPaused: d.intn(2) == 0, Delay: delay,
			RestoreOriginalOptions: d.intn(2) == 0})(op)
	default:
		optionsOp(&fsmpb.ActivityOptionsUpdate{Options: &activitypb.ActivityOptions{
			TaskQueue:           &taskqueuepb.TaskQueue{Name: []string{"", "tq", "other"}[d.intn(3)]},
			StartToCloseTimeout: durp(time.Duration(d.intn(3)) * 10 * time.Second), HeartbeatTimeout: durp(time.Duration(d.intn(2)) * 5 * time.Second),
		}, Paths: []string{"taskQueue.name", "startToCloseTimeout", "heartbeatTimeout"}[:1+d.intn(3)], RestoreOriginal: d.intn(4) == 0})(op)
	}
	d.apply(&fsmpb.Command{Op: &fsmpb.Command_ActivityOperation{ActivityOperation: op}})
}

// fire advances the clock and fires some due timers, sometimes with a key
// that is not due yet or no longer exists.
func (d *driver) fire() {
	d.h.advance(time.Duration(d.intn(8)*d.intn(8)) * 250 * time.Millisecond)
	var keys [][]byte
	for _, e := range d.h.f.ScanTimers() {
		if e.FireAt <= d.h.now && d.intn(4) != 0 {
			keys = append(keys, e.Key)
		} else if e.FireAt > d.h.now && d.intn(8) == 0 {
			keys = append(keys, e.Key) // not due: reported back
		}
	}
	if d.intn(4) == 0 {
		keys = append(keys, timerKey(d.h.now, uint64(d.intn(8)), 1)) // stale
	}
	d.apply(fireCmd(keys...))
}

func (d *driver) misc() {
	switch d.intn(16) {
	case 14:
		d.activityOperation()
	case 15:
		if d.intn(2) == 0 {
			d.apply(deleteNSCmd("ns1"))
		} else {
			d.apply(purgeNSCmd("ns1", int32(d.intn(3))))
		}
	case 9:
		req := &workflowservice.SignalWithStartWorkflowExecutionRequest{
			Namespace: DefaultNamespace, WorkflowId: d.wfID(), WorkflowType: startReq("").WorkflowType,
			TaskQueue: startReq("").TaskQueue, SignalName: "sws", RequestId: d.requestID("sws", 3),
			WorkflowIdConflictPolicy: enumspb.WorkflowIdConflictPolicy(d.intn(4)),
		}
		d.apply(&fsmpb.Command{Op: &fsmpb.Command_SignalWithStart{SignalWithStart: &fsmpb.SignalWithStart{
			RunId: d.h.newRunID(), Request: req}}})
	case 10:
		d.apply(&fsmpb.Command{Op: &fsmpb.Command_RequestCancelWorkflow{RequestCancelWorkflow: &fsmpb.RequestCancelWorkflow{
			Request: &workflowservice.RequestCancelWorkflowExecutionRequest{Namespace: DefaultNamespace,
				WorkflowExecution: wfExec(d.wfID(), ""), Identity: "canceler", RequestId: d.requestID("cancel", 2)}}}})
	case 11:
		d.apply(&fsmpb.Command{Op: &fsmpb.Command_AdmitUpdate{AdmitUpdate: &fsmpb.AdmitUpdate{
			Namespace: DefaultNamespace, WorkflowId: d.wfID(), UpdateId: fmt.Sprintf("u-%d", d.intn(3))}}})
	case 12:
		ttl := []time.Duration{0, time.Minute, time.Hour}[d.intn(3)]
		d.apply(&fsmpb.Command{Op: &fsmpb.Command_UpdateNamespace{UpdateNamespace: &fsmpb.UpdateNamespace{
			Request: &workflowservice.UpdateNamespaceRequest{Namespace: fuzzNamespaces[d.intn(len(fuzzNamespaces))],
				Config: &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durp(ttl)}}}}})
	case 7:
		// No fuzz input read here, so the seed corpora keep their meaning:
		// registering twice is a no-op, the namespace always exists.
		d.apply(&fsmpb.Command{Op: &fsmpb.Command_SearchAttributes{SearchAttributes: &fsmpb.SearchAttributes{
			Namespace: DefaultNamespace, Add: map[string]enumspb.IndexedValueType{"FuzzAttr": enumspb.INDEXED_VALUE_TYPE_KEYWORD}}}})
	case 13:
		d.apply(&fsmpb.Command{Op: &fsmpb.Command_DeleteWorkflow{DeleteWorkflow: &fsmpb.DeleteWorkflow{
			Namespace: DefaultNamespace, WorkflowId: d.wfID(), Identity: "admin"}}})
	case 0:
		d.apply(terminateCmd(d.wfID(), "fuzz"))
	case 1, 2, 8:
		d.start()
	case 3:
		d.apply(&fsmpb.Command{Op: &fsmpb.Command_RegisterNamespace{RegisterNamespace: &fsmpb.RegisterNamespace{
			NamespaceId: "id-ns1", Request: &workflowservice.RegisterNamespaceRequest{Namespace: "ns1"}}}})
	case 4:
		d.apply(&fsmpb.Command{Op: &fsmpb.Command_SetNode{SetNode: &fsmpb.SetNode{Node: &fsmpb.NodeInfo{
			Id: fmt.Sprintf("n%d", d.intn(3)), RaftAddr: fmt.Sprintf("h%d:1", d.intn(9))}}}})
	case 5:
		d.apply(&fsmpb.Command{Op: &fsmpb.Command_RemoveNode{RemoveNode: &fsmpb.RemoveNode{Id: fmt.Sprintf("n%d", d.intn(3))}}})
	case 6:
		d.apply(&fsmpb.Command{Op: &fsmpb.Command_ResetSticky{ResetSticky: &fsmpb.ResetSticky{
			Namespace: DefaultNamespace, WorkflowId: d.wfID()}}})
	default:
		d.apply(&fsmpb.Command{Op: &fsmpb.Command_Noop{Noop: &fsmpb.Noop{}}})
	}
}

// genSequence drives h with the fuzz input until it is used up (at most
// maxSteps commands) and returns the driver.
func genSequence(h *harness, in []byte, maxSteps int, hostile bool) *driver {
	d := &driver{h: h, in: in, hostile: hostile}
	for !d.done() && len(d.results) < maxSteps {
		d.step()
	}
	return d
}

// seedInput returns a deterministic pseudo-random fuzz input.
func seedInput(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// FuzzDeterminism applies one random command sequence to two FSMs, one
// entry by entry (Apply) and one in batches (ApplyBatch) that overlap what
// it already applied, and requires equal results and equal digests. The
// reference FSM's state must also satisfy checkInvariants, and (via the
// harness) survive a snapshot round trip.
func FuzzDeterminism(f *testing.F) {
	for seed := range uint64(6) {
		f.Add(seedInput(seed, 3000))
	}
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0}, 64))
	f.Add(bytes.Repeat([]byte{5, 3, 1, 0, 6, 200, 7}, 40))
	f.Fuzz(func(t *testing.T, in []byte) { checkDeterminism(t, in, false) })
}

// checkDeterminism is the body of FuzzDeterminism and FuzzHostileCommands.
func checkDeterminism(t *testing.T, in []byte, hostile bool) {
	h := newHarness(t)
	d := genSequence(h, in, 600, hostile)
	checkInvariants(t, h.f)

	g := openFSM(t, t.TempDir())
	defer g.Close()
	logs := h.logs
	next := 0 // first entry g has not applied
	for i := 0; next < len(logs); i++ {
		size := 1 + int(at(in, 2*i))%12
		back := min(next, int(at(in, 2*i+1))%4) // re-send already applied entries
		lo, hi := next-back, min(next+size, len(logs))
		out := g.ApplyBatch(logs[lo:hi])
		for j, o := range out {
			idx := lo + j
			if idx < next {
				if r, ok := o.(*Result); !ok || !r.Skipped {
					t.Fatalf("replayed entry %d: %s, want skipped", idx+1, describe(o))
				}
				continue
			}
			if got := describe(o); got != d.results[idx] {
				t.Fatalf("entry %d (%s): batch result\n %s\nwant\n %s", idx+1, entryOp(logs[idx]), got, d.results[idx])
			}
		}
		next = hi
		if g.AppliedIndex() != uint64(next) {
			t.Fatalf("applied index %d after batch ending at %d", g.AppliedIndex(), next)
		}
	}
	if a, b := h.f.Digest(), g.Digest(); a != b {
		t.Fatalf("digest after %d entries: entry-by-entry %s, batched %s", len(logs), a, b)
	}
	// Replaying the whole log is a no-op.
	for _, o := range g.ApplyBatch(logs) {
		if r, ok := o.(*Result); !ok || !r.Skipped {
			t.Fatalf("full replay: %s, want skipped", describe(o))
		}
	}
	if h.f.Digest() != g.Digest() || g.AppliedIndex() != uint64(len(logs)) {
		t.Fatalf("full replay changed the state")
	}
}

func at(b []byte, i int) byte {
	if len(b) == 0 {
		return 0
	}
	return b[i%len(b)]
}

func entryOp(l *raft.Log) string {
	var cmd fsmpb.Command
	if err := proto.Unmarshal(l.Data, &cmd); err != nil {
		return "undecodable"
	}
	return opName(&cmd)
}
