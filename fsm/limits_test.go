package fsm

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// mutateState rewrites wfID's current run state outside of Apply, to put a
// run at the edge of a limit without replaying thousands of commands.
func (h *harness) mutateState(wfID string, f func(*fsmpb.WorkflowState)) {
	h.t.Helper()
	st := h.state(wfID)
	f(st)
	h.f.mu.RLock()
	defer h.f.mu.RUnlock()
	if err := h.f.db.Set(stateKey(st.Namespace, st.WorkflowId, st.RunId), mustMarshal(st), pebble.Sync); err != nil {
		h.t.Fatal(err)
	}
}

func bigPayloads(n int) *commonpb.Payloads {
	return &commonpb.Payloads{Payloads: []*commonpb.Payload{{
		Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: make([]byte, n)}}}
}

func signalExternal(wfID string) *commandpb.Command {
	return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION,
		Attributes: &commandpb.Command_SignalExternalWorkflowExecutionCommandAttributes{SignalExternalWorkflowExecutionCommandAttributes: &commandpb.SignalExternalWorkflowExecutionCommandAttributes{
			Execution: wfExec(wfID, ""), SignalName: "s"}}}
}

func TestLimits(t *testing.T) {
	many := func(n int, mk func(i int) *commandpb.Command) []*commandpb.Command {
		out := make([]*commandpb.Command, n)
		for i := range out {
			out[i] = mk(i)
		}
		return out
	}
	// overLimit completes wfID's workflow task with cmds and requires it to
	// fail with cause, changing nothing else.
	overLimit := func(h *harness, cmds []*commandpb.Command, cause enumspb.WorkflowTaskFailedCause) {
		h.t.Helper()
		wt := h.pollWFT("wf")
		res := h.apply(completeCmd(wt.Token, cmds...))
		var bce *BadCommandError
		if !errors.As(res.Err, &bce) || bce.Cause != cause {
			h.t.Fatalf("completion: err %v, want cause %s", res.Err, cause)
		}
		evs := h.history("wf")
		if f := evs[len(evs)-2]; f.GetWorkflowTaskFailedEventAttributes().GetCause() != cause {
			h.t.Fatalf("history %s", eventTypes(evs))
		}
	}
	tests := []struct {
		name string
		run  func(t *testing.T, h *harness)
	}{
		{"pending activities", func(t *testing.T, h *harness) {
			h.start("wf")
			h.completeWFT("wf", many(MaxPendingActivities-1, func(i int) *commandpb.Command { return scheduleActivity(fmt.Sprint("a", i)) })...)
			h.applyOK(signalCmd("wf", "more", ""))
			overLimit(h, many(2, func(i int) *commandpb.Command { return scheduleActivity(fmt.Sprint("b", i)) }),
				enumspb.WORKFLOW_TASK_FAILED_CAUSE_PENDING_ACTIVITIES_LIMIT_EXCEEDED)
			if n := len(h.state("wf").Activities); n != MaxPendingActivities-1 {
				t.Fatalf("%d pending activities", n)
			}
		}},
		{"external signals in one task", func(t *testing.T, h *harness) {
			h.start("wf")
			overLimit(h, many(MaxPendingSignals+1, func(int) *commandpb.Command { return signalExternal("other") }),
				enumspb.WORKFLOW_TASK_FAILED_CAUSE_PENDING_SIGNALS_LIMIT_EXCEEDED)
		}},
		{"signals per execution", func(t *testing.T, h *harness) {
			h.start("wf")
			h.mutateState("wf", func(st *fsmpb.WorkflowState) { st.SignalCount = MaxSignalsPerExecution - 1 })
			h.applyOK(signalCmd("wf", "last", ""))
			before := h.state("wf").NextEventId
			h.applyErr(signalCmd("wf", "one too many", "req-x"), ErrSignalLimit)
			if st := h.state("wf"); st.NextEventId != before || len(st.SignalRequestIds) != 0 {
				t.Fatalf("a refused signal changed the run: %v", st)
			}
			// An external signal to it fails with the limit's cause.
			h.start("sender")
			h.completeWFT("sender", signalExternal("wf"))
			evs := h.history("sender")
			if c := evs[len(evs)-2].GetSignalExternalWorkflowExecutionFailedEventAttributes().GetCause(); c != enumspb.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_SIGNAL_COUNT_LIMIT_EXCEEDED {
				t.Fatalf("sender history %s, cause %s", eventTypes(evs), c)
			}
		}},
		{"continue-as-new is suggested past the soft history size", func(t *testing.T, h *harness) {
			h.start("wf")
			for i := 0; i < 3; i++ {
				h.applyOK(&fsmpb.Command{Op: &fsmpb.Command_SignalWorkflow{SignalWorkflow: &fsmpb.SignalWorkflow{
					Request: &workflowservice.SignalWorkflowExecutionRequest{Namespace: DefaultNamespace, WorkflowExecution: wfExec("wf", ""),
						SignalName: "big", Input: bigPayloads(1536 << 10)}}}})
			}
			wt := h.pollWFT("wf")
			attrs := h.history("wf")[wt.StartedEventID-1].GetWorkflowTaskStartedEventAttributes()
			if !attrs.SuggestContinueAsNew || len(attrs.SuggestContinueAsNewReasons) != 1 ||
				attrs.SuggestContinueAsNewReasons[0] != enumspb.SUGGEST_CONTINUE_AS_NEW_REASON_HISTORY_SIZE_TOO_LARGE ||
				attrs.HistorySizeBytes < HistorySizeSuggestContinueAsNew {
				t.Fatalf("started attributes %v", attrs)
			}
		}},
		{"a run past the hard history size is terminated", func(t *testing.T, h *harness) {
			h.start("wf")
			h.mutateState("wf", func(st *fsmpb.WorkflowState) { st.HistorySizeBytes = HistorySizeLimit + 1 })
			res := h.applyErr(signalCmd("wf", "late", ""), ErrHistoryLimit)
			if !strings.Contains(res.Err.Error(), "Workflow history size exceeds limit.") {
				t.Fatalf("error %v", res.Err)
			}
			h.wantClosed("wf", enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED)
			evs := h.wantEvents("wf", evStarted, evWTScheduled, evTerminated)
			if r := evs[2].GetWorkflowExecutionTerminatedEventAttributes().GetReason(); r != "Workflow history size exceeds limit." {
				t.Fatalf("reason %q", r)
			}
		}},
		{"an oversized command fails the task and terminates the run", func(t *testing.T, h *harness) {
			h.start("wf")
			wt := h.pollWFT("wf")
			h.applyOK(&fsmpb.Command{Op: &fsmpb.Command_FailWorkflowTask{FailWorkflowTask: &fsmpb.FailWorkflowTask{
				Token: wt.Token, TerminateReason: "BadScheduleActivityAttributes: ScheduleActivityTaskCommandAttributes.Input exceeds size limit.",
				Request: &workflowservice.RespondWorkflowTaskFailedRequest{Cause: enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES,
					Identity: "worker", Failure: &failurepb.Failure{Message: "too big"}},
			}}})
			h.wantClosed("wf", enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED)
			evs := h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTFailed, evTerminated)
			if evs[3].GetWorkflowTaskFailedEventAttributes().GetCause() != enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES ||
				!strings.HasPrefix(evs[4].GetWorkflowExecutionTerminatedEventAttributes().GetReason(), "BadScheduleActivityAttributes: ") {
				t.Fatalf("history %v / %v", evs[3], evs[4])
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newHarness(t)) })
	}
	// The count limit, which takes 51,200 events to reach, by its predicate.
	st := &fsmpb.WorkflowState{NextEventId: HistoryCountLimit + 2}
	if historyOverLimit(st) != reasonHistoryCount {
		t.Fatalf("count limit not detected")
	}
	if st.NextEventId = HistoryCountLimit + 1; historyOverLimit(st) != "" {
		t.Fatalf("count limit detected at the limit itself")
	}
}
