package fsm

// Test harness for the fsm tier (DESIGN-GUIDE §6.1): an FSM in a temp dir,
// commands applied as raft log entries with indexes and proposed_at times the
// test controls, builders for commands, and checks for history, mutable
// state, task rows and timer rows. Every harness ends with a snapshot round
// trip (registered as a cleanup, so no test can forget it).

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// t0 is the harness's initial "now" (unix nanoseconds): 2030-01-01 UTC.
const t0 = int64(1893456000) * int64(time.Second)

// Short names for the event types the tests expect.
const (
	evStarted       = enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
	evCompleted     = enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
	evFailed        = enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED
	evCanceled      = enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED
	evTerminated    = enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED
	evTimedOut      = enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT
	evSignaled      = enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
	evWTScheduled   = enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED
	evWTStarted     = enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED
	evWTCompleted   = enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
	evWTFailed      = enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED
	evWTTimedOut    = enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT
	evActScheduled  = enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
	evActStarted    = enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED
	evActCompleted  = enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
	evActFailed     = enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED
	evActTimedOut   = enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT
	evActCancelReq  = enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED
	evActCanceled   = enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED
	evTimerStarted  = enumspb.EVENT_TYPE_TIMER_STARTED
	evTimerFired    = enumspb.EVENT_TYPE_TIMER_FIRED
	evTimerCanceled = enumspb.EVENT_TYPE_TIMER_CANCELED
	evMarker        = enumspb.EVENT_TYPE_MARKER_RECORDED
	evUpsertSA      = enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
)

var testLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

type harness struct {
	t     *testing.T
	f     *FSM
	dir   string
	index uint64
	now   int64
	runs  int
	logs  []*raft.Log // every entry applied so far, in order
}

// newHarness opens a fresh FSM and registers the closing snapshot round
// trip plus Close.
func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, f: openFSM(t, dir), dir: dir, now: t0}
	t.Cleanup(func() {
		if h.f == nil {
			return
		}
		if !t.Failed() {
			snapshotRoundTrip(t, h.f)
		}
		h.f.Close()
	})
	return h
}

func openFSM(t testing.TB, dir string) *FSM {
	t.Helper()
	f, err := Open(dir, testLogger)
	if err != nil {
		t.Fatalf("open fsm: %v", err)
	}
	return f
}

// advance moves the harness clock (the proposed_at of later commands).
func (h *harness) advance(d time.Duration) { h.now += int64(d) }

// entry wraps cmd as the next raft log entry, stamping proposed_at with the
// harness clock when the command has none.
func (h *harness) entry(cmd *fsmpb.Command) *raft.Log {
	if cmd.ProposedAt == 0 {
		cmd.ProposedAt = h.now
	}
	data, err := proto.Marshal(cmd)
	if err != nil {
		h.t.Fatalf("marshal command: %v", err)
	}
	h.index++
	l := &raft.Log{Index: h.index, Term: 1, Type: raft.LogCommand, Data: data}
	h.logs = append(h.logs, l)
	return l
}

// apply applies cmd as the next log entry and returns its result.
func (h *harness) apply(cmd *fsmpb.Command) *Result {
	h.t.Helper()
	out := h.f.Apply(h.entry(cmd))
	res, ok := out.(*Result)
	if !ok {
		h.t.Fatalf("Apply returned %T, want *Result", out)
	}
	if h.f.AppliedIndex() != h.index {
		h.t.Fatalf("applied index %d after entry %d", h.f.AppliedIndex(), h.index)
	}
	return res
}

// applyOK applies cmd and fails the test on a domain error.
func (h *harness) applyOK(cmd *fsmpb.Command) *Result {
	h.t.Helper()
	res := h.apply(cmd)
	if res.Err != nil {
		h.t.Fatalf("apply %s: %v", opName(cmd), res.Err)
	}
	return res
}

// applyErr applies cmd and requires a domain error matching target.
func (h *harness) applyErr(cmd *fsmpb.Command, target error) *Result {
	h.t.Helper()
	res := h.apply(cmd)
	if !errors.Is(res.Err, target) {
		h.t.Fatalf("apply %s: err %v, want %v", opName(cmd), res.Err, target)
	}
	return res
}

func opName(cmd *fsmpb.Command) string { return fmt.Sprintf("%T", cmd.Op) }

// ---- command builders ----

func startReq(wfID string) *workflowservice.StartWorkflowExecutionRequest {
	return &workflowservice.StartWorkflowExecutionRequest{
		Namespace: DefaultNamespace, WorkflowId: wfID,
		WorkflowType: &commonpb.WorkflowType{Name: "wf-type"},
		TaskQueue:    &taskqueuepb.TaskQueue{Name: "tq"},
		Input:        payloads("in"),
		RequestId:    "start-" + wfID, Identity: "client",
	}
}

func startCmd(runID string, req *workflowservice.StartWorkflowExecutionRequest) *fsmpb.Command {
	return &fsmpb.Command{RequestId: "p-" + runID, Op: &fsmpb.Command_StartWorkflow{
		StartWorkflow: &fsmpb.StartWorkflow{RunId: runID, Request: req}}}
}

// start starts wfID (modified by mods) with a fresh run id and returns it.
func (h *harness) start(wfID string, mods ...func(*workflowservice.StartWorkflowExecutionRequest)) string {
	h.t.Helper()
	req := startReq(wfID)
	for _, m := range mods {
		m(req)
	}
	res := h.applyOK(startCmd(h.newRunID(), req))
	if !res.Started {
		h.t.Fatalf("start %s: not started (run %s)", wfID, res.RunID)
	}
	return res.RunID
}

func (h *harness) newRunID() string {
	h.runs++
	return fmt.Sprintf("run-%04d", h.runs)
}

func wfExec(wfID, runID string) *commonpb.WorkflowExecution {
	return &commonpb.WorkflowExecution{WorkflowId: wfID, RunId: runID}
}

func signalCmd(wfID, name, requestID string) *fsmpb.Command {
	return &fsmpb.Command{Op: &fsmpb.Command_SignalWorkflow{SignalWorkflow: &fsmpb.SignalWorkflow{
		Request: &workflowservice.SignalWorkflowExecutionRequest{
			Namespace: DefaultNamespace, WorkflowExecution: wfExec(wfID, ""), SignalName: name,
			Input: payloads(name), Identity: "signaler", RequestId: requestID,
		}}}}
}

func terminateCmd(wfID, reason string) *fsmpb.Command {
	return &fsmpb.Command{Op: &fsmpb.Command_TerminateWorkflow{TerminateWorkflow: &fsmpb.TerminateWorkflow{
		Request: &workflowservice.TerminateWorkflowExecutionRequest{
			Namespace: DefaultNamespace, WorkflowExecution: wfExec(wfID, ""), Reason: reason, Identity: "admin",
		}}}}
}

func recordStartedCmd(key []byte, identity string) *fsmpb.Command {
	return &fsmpb.Command{Op: &fsmpb.Command_RecordTaskStarted{RecordTaskStarted: &fsmpb.RecordTaskStarted{
		TaskKey: key, Identity: identity, PollRequestId: "poll-" + identity,
	}}}
}

func completeCmd(tok *fsmpb.TaskToken, cmds ...*commandpb.Command) *fsmpb.Command {
	return completeReqCmd(tok, &workflowservice.RespondWorkflowTaskCompletedRequest{
		Namespace: tok.GetNamespace(), Identity: "worker", Commands: cmds,
	})
}

func completeReqCmd(tok *fsmpb.TaskToken, req *workflowservice.RespondWorkflowTaskCompletedRequest) *fsmpb.Command {
	return &fsmpb.Command{Op: &fsmpb.Command_CompleteWorkflowTask{CompleteWorkflowTask: &fsmpb.CompleteWorkflowTask{
		Token: tok, Request: req}}}
}

func failWFTCmd(tok *fsmpb.TaskToken, cause enumspb.WorkflowTaskFailedCause) *fsmpb.Command {
	return &fsmpb.Command{Op: &fsmpb.Command_FailWorkflowTask{FailWorkflowTask: &fsmpb.FailWorkflowTask{
		Token: tok, Request: &workflowservice.RespondWorkflowTaskFailedRequest{
			Namespace: tok.GetNamespace(), Cause: cause, Identity: "worker",
			Failure: &failurepb.Failure{Message: "workflow task panicked"},
		}}}}
}

// activityResultCmd names the activity by token (scheduled event id and attempt).
func activityResultCmd(tok *fsmpb.TaskToken, set func(*fsmpb.ActivityResult)) *fsmpb.Command {
	r := &fsmpb.ActivityResult{
		Namespace: tok.Namespace, WorkflowId: tok.WorkflowId, RunId: tok.RunId,
		ScheduledEventId: tok.ScheduledEventId, Attempt: tok.Attempt, Stamp: tok.Stamp, Identity: "act-worker",
	}
	set(r)
	return &fsmpb.Command{Op: &fsmpb.Command_ActivityResult{ActivityResult: r}}
}

func completed(p string) func(*fsmpb.ActivityResult) {
	return func(r *fsmpb.ActivityResult) {
		r.Outcome = &fsmpb.ActivityResult_Completed{Completed: payloads(p)}
	}
}

func failed(f *failurepb.Failure) func(*fsmpb.ActivityResult) {
	return func(r *fsmpb.ActivityResult) { r.Outcome = &fsmpb.ActivityResult_Failed{Failed: f} }
}

func canceled() func(*fsmpb.ActivityResult) {
	return func(r *fsmpb.ActivityResult) {
		r.Outcome = &fsmpb.ActivityResult_Canceled{Canceled: payloads("canceled")}
	}
}

func appFailure(typ string, nonRetryable bool) *failurepb.Failure {
	return &failurepb.Failure{Message: "boom " + typ, FailureInfo: &failurepb.Failure_ApplicationFailureInfo{
		ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{Type: typ, NonRetryable: nonRetryable}}}
}

func heartbeatCmd(tok *fsmpb.TaskToken, details string) *fsmpb.Command {
	return &fsmpb.Command{Op: &fsmpb.Command_HeartbeatActivity{HeartbeatActivity: &fsmpb.HeartbeatActivity{
		Namespace: tok.Namespace, WorkflowId: tok.WorkflowId, RunId: tok.RunId,
		ScheduledEventId: tok.ScheduledEventId, Attempt: tok.Attempt, Stamp: tok.Stamp, Identity: "act-worker",
		Details: payloads(details),
	}}}
}

func fireCmd(keys ...[]byte) *fsmpb.Command {
	return &fsmpb.Command{Op: &fsmpb.Command_FireTimers{FireTimers: &fsmpb.FireTimers{Keys: keys}}}
}

func payloads(s string) *commonpb.Payloads {
	return &commonpb.Payloads{Payloads: []*commonpb.Payload{{
		Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"` + s + `"`)}}}
}

func durp(d time.Duration) *durationpb.Duration { return durationpb.New(d) }

// ---- workflow command builders ----

type commandpbSchedule = commandpb.ScheduleActivityTaskCommandAttributes

func stickyAttrs(queue string) *taskqueuepb.StickyExecutionAttributes {
	return &taskqueuepb.StickyExecutionAttributes{
		WorkerTaskQueue:        &taskqueuepb.TaskQueue{Name: queue, Kind: enumspb.TASK_QUEUE_KIND_STICKY},
		ScheduleToStartTimeout: durp(5 * time.Second),
	}
}

func scheduleActivity(id string, mods ...func(*commandpbSchedule)) *commandpb.Command {
	a := &commandpb.ScheduleActivityTaskCommandAttributes{
		ActivityId: id, ActivityType: &commonpb.ActivityType{Name: "act-type"},
		Input: payloads("act-in"), StartToCloseTimeout: durp(30 * time.Second),
	}
	for _, m := range mods {
		m(a)
	}
	return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
		Attributes: &commandpb.Command_ScheduleActivityTaskCommandAttributes{ScheduleActivityTaskCommandAttributes: a}}
}

func startTimer(id string, d time.Duration) *commandpb.Command {
	return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_START_TIMER,
		Attributes: &commandpb.Command_StartTimerCommandAttributes{StartTimerCommandAttributes: &commandpb.StartTimerCommandAttributes{
			TimerId: id, StartToFireTimeout: durp(d)}}}
}

func cancelTimer(id string) *commandpb.Command {
	return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_CANCEL_TIMER,
		Attributes: &commandpb.Command_CancelTimerCommandAttributes{CancelTimerCommandAttributes: &commandpb.CancelTimerCommandAttributes{
			TimerId: id}}}
}

func requestCancelActivity(scheduledID int64) *commandpb.Command {
	return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK,
		Attributes: &commandpb.Command_RequestCancelActivityTaskCommandAttributes{RequestCancelActivityTaskCommandAttributes: &commandpb.RequestCancelActivityTaskCommandAttributes{
			ScheduledEventId: scheduledID}}}
}

func recordMarker(name string) *commandpb.Command {
	return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_RECORD_MARKER,
		Attributes: &commandpb.Command_RecordMarkerCommandAttributes{RecordMarkerCommandAttributes: &commandpb.RecordMarkerCommandAttributes{
			MarkerName: name, Details: map[string]*commonpb.Payloads{"data": payloads(name)}}}}
}

func completeWF(result string) *commandpb.Command {
	return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
		Attributes: &commandpb.Command_CompleteWorkflowExecutionCommandAttributes{CompleteWorkflowExecutionCommandAttributes: &commandpb.CompleteWorkflowExecutionCommandAttributes{
			Result: payloads(result)}}}
}

func failWF(msg string) *commandpb.Command {
	return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
		Attributes: &commandpb.Command_FailWorkflowExecutionCommandAttributes{FailWorkflowExecutionCommandAttributes: &commandpb.FailWorkflowExecutionCommandAttributes{
			Failure: &failurepb.Failure{Message: msg}}}}
}

func cancelWF() *commandpb.Command {
	return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION,
		Attributes: &commandpb.Command_CancelWorkflowExecutionCommandAttributes{CancelWorkflowExecutionCommandAttributes: &commandpb.CancelWorkflowExecutionCommandAttributes{
			Details: payloads("bye")}}}
}

func upsertSA(fields map[string]string) *commandpb.Command {
	sa := &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{}}
	for k, v := range fields {
		p := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}}
		if v != "" {
			p.Data = []byte(`"` + v + `"`)
		}
		sa.IndexedFields[k] = p
	}
	return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
		Attributes: &commandpb.Command_UpsertWorkflowSearchAttributesCommandAttributes{UpsertWorkflowSearchAttributesCommandAttributes: &commandpb.UpsertWorkflowSearchAttributesCommandAttributes{
			SearchAttributes: sa}}}
}

// ---- driving a workflow ----

// taskFor returns the backlog row of wfID's current run of the given kind
// (and, for activities, scheduled event id); it fails when there is none.
func (h *harness) taskFor(wfID string, kind fsmpb.TaskKind, scheduledID int64) TaskEntry {
	h.t.Helper()
	for _, e := range h.f.ScanTasks() {
		if e.Row.WorkflowId == wfID && e.Row.Kind == kind && (scheduledID == 0 || e.Row.ScheduledEventId == scheduledID) {
			return e
		}
	}
	h.t.Fatalf("no %s task for %s (scheduled %d); tasks: %v", kind, wfID, scheduledID, h.f.ScanTasks())
	return TaskEntry{}
}

// pollWFT starts wfID's pending workflow task and returns it.
func (h *harness) pollWFT(wfID string) *StartedWorkflowTask {
	h.t.Helper()
	e := h.taskFor(wfID, fsmpb.TaskKind_TASK_KIND_WORKFLOW, 0)
	res := h.applyOK(recordStartedCmd(e.Key, "worker"))
	if res.WorkflowTask == nil {
		h.t.Fatalf("RecordTaskStarted(workflow) returned no workflow task")
	}
	return res.WorkflowTask
}

// pollActivity starts the activity scheduled by scheduledID and returns it.
func (h *harness) pollActivity(wfID string, scheduledID int64) *StartedActivityTask {
	h.t.Helper()
	e := h.taskFor(wfID, fsmpb.TaskKind_TASK_KIND_ACTIVITY, scheduledID)
	res := h.applyOK(recordStartedCmd(e.Key, "act-worker"))
	if res.ActivityTask == nil {
		h.t.Fatalf("RecordTaskStarted(activity) returned no activity task")
	}
	return res.ActivityTask
}

// completeWFT polls wfID's workflow task and completes it with cmds.
func (h *harness) completeWFT(wfID string, cmds ...*commandpb.Command) *Result {
	h.t.Helper()
	wt := h.pollWFT(wfID)
	return h.applyOK(completeCmd(wt.Token, cmds...))
}

// ---- reading state ----

func (h *harness) state(wfID string) *fsmpb.WorkflowState {
	h.t.Helper()
	st, err := h.f.GetState(DefaultNamespace, wfID, "")
	if err != nil {
		h.t.Fatalf("GetState(%s): %v", wfID, err)
	}
	return st
}

// history returns the current run's full history and checks its ids are
// dense (1..n) and agree with next_event_id.
func (h *harness) history(wfID string) []*historypb.HistoryEvent {
	h.t.Helper()
	st := h.state(wfID)
	return checkedHistory(h.t, h.f, st)
}

func checkedHistory(t testing.TB, f *FSM, st *fsmpb.WorkflowState) []*historypb.HistoryEvent {
	t.Helper()
	evs, next := f.ReadHistory(st.Namespace, st.WorkflowId, st.RunId, 1, 0, 1<<20)
	if next != 0 {
		t.Fatalf("history of %s not read to the end", st.RunId)
	}
	for i, ev := range evs {
		if ev.EventId != int64(i+1) {
			t.Fatalf("run %s: event %d has id %d (ids must be dense 1..n): %s", st.RunId, i, ev.EventId, eventTypes(evs))
		}
	}
	if int64(len(evs))+1 != st.NextEventId {
		t.Fatalf("run %s: %d events but next_event_id %d", st.RunId, len(evs), st.NextEventId)
	}
	return evs
}

// wantEvents checks the current run's history has exactly these types.
func (h *harness) wantEvents(wfID string, want ...enumspb.EventType) []*historypb.HistoryEvent {
	h.t.Helper()
	evs := h.history(wfID)
	got := make([]enumspb.EventType, len(evs))
	for i, ev := range evs {
		got[i] = ev.EventType
	}
	if !slices.Equal(got, want) {
		h.t.Fatalf("history of %s:\n got  %s\n want %s", wfID, typeNames(got), typeNames(want))
	}
	return evs
}

func eventTypes(evs []*historypb.HistoryEvent) string {
	ts := make([]enumspb.EventType, len(evs))
	for i, ev := range evs {
		ts[i] = ev.EventType
	}
	return typeNames(ts)
}

func typeNames(ts []enumspb.EventType) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = strings.TrimPrefix(t.String(), "EVENT_TYPE_")
	}
	return "[" + strings.Join(names, " ") + "]"
}

// timerRow is a timer row with its key.
type timerRow struct {
	Key []byte
	Row *fsmpb.TimerRow
}

func (f *FSM) testTimerRows() []timerRow {
	var out []timerRow
	f.scan([]byte{famTimer}, func(k, v []byte) bool {
		row := &fsmpb.TimerRow{}
		mustUnmarshal(v, row)
		out = append(out, timerRow{Key: append([]byte(nil), k...), Row: row})
		return true
	})
	return out
}

// tasksOf returns the backlog rows of run runID.
func (h *harness) tasksOf(runID string) []TaskEntry {
	var out []TaskEntry
	for _, e := range h.f.ScanTasks() {
		if e.Row.RunId == runID {
			out = append(out, e)
		}
	}
	return out
}

// timersOf returns the timer rows of run runID.
func (h *harness) timersOf(runID string) []timerRow {
	var out []timerRow
	for _, r := range h.f.testTimerRows() {
		if r.Row.RunId == runID {
			out = append(out, r)
		}
	}
	return out
}

// timerOfKind returns run runID's only timer row of kind, failing otherwise.
func (h *harness) timerOfKind(runID string, kind fsmpb.TimerKind) timerRow {
	h.t.Helper()
	var found []timerRow
	for _, r := range h.timersOf(runID) {
		if r.Row.Kind == kind {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		h.t.Fatalf("run %s: %d %s timer rows, want 1 (rows: %s)", runID, len(found), kind, timerKinds(h.timersOf(runID)))
	}
	return found[0]
}

func timerKinds(rows []timerRow) string {
	var s []string
	for _, r := range rows {
		s = append(s, fmt.Sprintf("%s@%d", strings.TrimPrefix(r.Row.Kind.String(), "TIMER_KIND_"), (r.Row.FireAt-t0)/int64(time.Millisecond)))
	}
	return "[" + strings.Join(s, " ") + "]"
}

// wantNoRows requires that the closed run runID owns no task row and no
// timer row but its retention timer (the one that deletes the closed run).
func (h *harness) wantNoRows(runID string) {
	h.t.Helper()
	if tasks := h.tasksOf(runID); len(tasks) != 0 {
		h.t.Fatalf("run %s still has %d task rows", runID, len(tasks))
	}
	if timers := h.liveTimersOf(runID); len(timers) != 0 {
		h.t.Fatalf("run %s still has timer rows %s", runID, timerKinds(timers))
	}
}

// liveTimersOf returns run runID's timer rows except the retention timer.
func (h *harness) liveTimersOf(runID string) []timerRow {
	var out []timerRow
	for _, r := range h.timersOf(runID) {
		if r.Row.Kind != fsmpb.TimerKind_TIMER_KIND_RETENTION {
			out = append(out, r)
		}
	}
	return out
}

// liveRows counts the task rows and the timer rows other than retention
// timers, of all runs.
func (h *harness) liveRows() int {
	n := len(h.f.ScanTasks())
	for _, r := range h.f.testTimerRows() {
		if r.Row.Kind != fsmpb.TimerKind_TIMER_KIND_RETENTION {
			n++
		}
	}
	return n
}

// activitiesHoldRows reports whether a pending activity of a (closed) run
// still owns a task row or timer: a closed run keeps its pending
// activities for Describe, without either.
func activitiesHoldRows(st *fsmpb.WorkflowState) bool {
	for _, a := range st.Activities {
		if a.TaskKey != nil || len(a.TimerKeys) != 0 {
			return true
		}
	}
	return false
}

// wantClosed checks the current run of wfID is closed with status and holds
// no rows, timers, workflow task or buffered events (pending activities
// stay, listed by Describe, without rows or timers).
func (h *harness) wantClosed(wfID string, status enumspb.WorkflowExecutionStatus) *fsmpb.WorkflowState {
	h.t.Helper()
	st := h.state(wfID)
	if st.Status != status {
		h.t.Fatalf("%s status %s, want %s", wfID, st.Status, status)
	}
	if st.WorkflowTask != nil || activitiesHoldRows(st) || len(st.Timers) != 0 || len(st.BufferedEvents) != 0 || len(st.TimerKeys) != 0 {
		h.t.Fatalf("closed run %s still holds state: %s", st.RunId, prototext.Format(st))
	}
	if st.CloseTime != h.now || st.CloseEventId != st.NextEventId-1 {
		h.t.Fatalf("closed run %s: close_time %d close_event_id %d (next %d)", st.RunId, st.CloseTime, st.CloseEventId, st.NextEventId)
	}
	h.wantNoRows(st.RunId)
	var ret []timerRow
	for _, r := range h.timersOf(st.RunId) {
		if r.Row.Kind == fsmpb.TimerKind_TIMER_KIND_RETENTION {
			ret = append(ret, r)
		}
	}
	if len(ret) != 1 || !bytes.Equal(ret[0].Key, st.RetentionTimerKey) || ret[0].Row.FireAt != st.CloseTime+int64(24*time.Hour) {
		h.t.Fatalf("closed run %s: retention timers %s (state names %x), want one at close + 24h", st.RunId, timerKinds(ret), st.RetentionTimerKey)
	}
	var cur fsmpb.CurrentRun
	r, done := h.f.reader()
	ok := getProto(r, currentKey(st.Namespace, st.WorkflowId), &cur)
	done()
	if !ok || cur.RunId != st.RunId || cur.Status != status {
		h.t.Fatalf("current run record %v, want run %s status %s", &cur, st.RunId, status)
	}
	return st
}

// ---- snapshots ----

// memSink is an in-memory raft.SnapshotSink.
type memSink struct {
	bytes.Buffer
	closed, canceled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Close() error  { s.closed = true; return nil }
func (s *memSink) Cancel() error { s.canceled = true; return nil }

// persist takes a snapshot of f and returns the persisted stream.
func persist(t testing.TB, f *FSM) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	defer snap.Release()
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatalf("Persist: %v", err)
	}
	if !sink.closed || sink.canceled {
		t.Fatalf("Persist left the sink closed=%v canceled=%v", sink.closed, sink.canceled)
	}
	return sink.Bytes()
}

// snapshotRoundTrip persists f, restores the stream into a second fresh FSM
// and requires equal digests and applied indexes.
func snapshotRoundTrip(t testing.TB, f *FSM) {
	t.Helper()
	data := persist(t, f)
	dir, err := os.MkdirTemp("", "fsm-restore-")
	if err != nil {
		t.Fatalf("temp dir: %v", err)
	}
	defer os.RemoveAll(dir)
	g := openFSM(t, dir)
	defer g.Close()
	if err := g.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got, want := g.Digest(), f.Digest(); got != want {
		t.Errorf("snapshot round trip: restored digest %s, want %s", got, want)
	}
	if got, want := g.AppliedIndex(), f.AppliedIndex(); got != want {
		t.Errorf("snapshot round trip: restored applied index %d, want %d", got, want)
	}
}

// describe renders a Result canonically (for comparing two FSMs' results).
func describe(out any) string {
	if out == nil {
		return "<nil>"
	}
	r, ok := out.(*Result)
	if !ok {
		return fmt.Sprintf("%T(%v)", out, out)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "err=%v skipped=%v run=%q started=%v cancel=%v paused=%v reset=%v notdue=%x", r.Err, r.Skipped, r.RunID, r.Started,
		r.CancelRequested, r.ActivityPaused, r.ActivityReset, r.NotDue)
	if r.ActivityOptions != nil {
		fmt.Fprintf(&b, " options={%s}", prototext.Format(r.ActivityOptions))
	}
	var ase *AlreadyStartedError
	if errors.As(r.Err, &ase) {
		fmt.Fprintf(&b, " already=%+v", *ase)
	}
	var bce *BadCommandError
	if errors.As(r.Err, &bce) {
		fmt.Fprintf(&b, " bad=%+v", *bce)
	}
	if wt := r.WorkflowTask; wt != nil {
		fmt.Fprintf(&b, " wft={%s type=%s tq=%s prev=%d started=%d attempt=%d sched=%d st=%d}",
			prototext.Format(wt.Token), wt.WorkflowType.GetName(), wt.TaskQueue, wt.PreviousStartedEventID,
			wt.StartedEventID, wt.Attempt, wt.ScheduledTime, wt.StartedTime)
	}
	if at := r.ActivityTask; at != nil {
		fmt.Fprintf(&b, " act={%s type=%s info=%x}", prototext.Format(at.Token), at.WorkflowType.GetName(), mustMarshal(at.Activity))
	}
	return b.String()
}
