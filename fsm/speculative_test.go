package fsm

import (
	"testing"
	"time"

	commandpb "go.temporal.io/api/command/v1"
	failurepb "go.temporal.io/api/failure/v1"
	protocolpb "go.temporal.io/api/protocol/v1"
	updatepb "go.temporal.io/api/update/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/raftflow/engine/fsm/fsmpb"
)

func admitCmd(wfID, updateID string) *fsmpb.Command {
	return &fsmpb.Command{Op: &fsmpb.Command_AdmitUpdate{AdmitUpdate: &fsmpb.AdmitUpdate{
		Namespace: DefaultNamespace, WorkflowId: wfID, UpdateId: updateID}}}
}

func rejection(t *testing.T, updateID string) *protocolpb.Message {
	t.Helper()
	body, err := anypb.New(&updatepb.Rejection{RejectedRequestMessageId: updateID + "/request",
		Failure: &failurepb.Failure{Message: "unknown update " + updateID}})
	if err != nil {
		t.Fatal(err)
	}
	return &protocolpb.Message{Id: updateID + "/reject", ProtocolInstanceId: updateID, Body: body}
}

// completeWith completes the started task wt with the given commands and
// messages, as the Go SDK does (it may be sent events again).
func (h *harness) completeWith(wt *StartedWorkflowTask, msgs []*protocolpb.Message, cmds ...*commandpb.Command) *Result {
	h.t.Helper()
	return h.applyOK(completeReqCmd(wt.Token, &workflowservice.RespondWorkflowTaskCompletedRequest{
		Namespace: DefaultNamespace, Identity: "worker", Commands: cmds, Messages: msgs,
		Capabilities: &workflowservice.RespondWorkflowTaskCompletedRequest_Capabilities{
			DiscardSpeculativeWorkflowTaskWithEvents: true},
	}))
}

// wantSpeculative checks the started task is speculative: its Scheduled and
// Started events, with the next ids, are handed to the worker, not written.
func wantSpeculative(t *testing.T, h *harness, wt *StartedWorkflowTask, scheduledID int64) {
	t.Helper()
	evs := wt.SpeculativeEvents
	if len(evs) != 2 || evs[0].EventId != scheduledID || evs[0].EventType != evWTScheduled ||
		evs[1].EventId != scheduledID+1 || evs[1].EventType != evWTStarted ||
		wt.StartedEventID != scheduledID+1 || wt.Token.ScheduledEventId != scheduledID {
		t.Fatalf("task %+v with events %s, want a speculative task scheduled as %d", wt, eventTypes(evs), scheduledID)
	}
	if next := h.state("wf").NextEventId; next != scheduledID {
		t.Fatalf("next event id %d: the speculative task's events were written", next)
	}
}

// TestSpeculativeWorkflowTask: an update to an idle run gets a workflow task
// that writes nothing unless it must, as Temporal's speculative tasks: a
// rejection-only completion leaves the history as it was (and tells the
// worker where to rewind), anything else writes the task's events with the
// ids the worker was given.
func TestSpeculativeWorkflowTask(t *testing.T) {
	idle := func(h *harness) {
		h.start("wf")
		h.completeWFT("wf")
	}
	tests := []struct {
		name string
		run  func(t *testing.T, h *harness)
	}{
		{"rejected: nothing written", func(t *testing.T, h *harness) {
			idle(h)
			h.applyOK(admitCmd("wf", "u1"))
			wt := h.pollWFT("wf")
			wantSpeculative(t, h, wt, 5)
			h.applyOK(admitCmd("wf", "u2")) // admitted while it ran
			res := h.completeWith(wt, []*protocolpb.Message{rejection(t, "u1")})
			if res.ResetHistoryEventID != 3 || len(res.Updates) != 1 || res.Updates[0].UpdateID != "u1" ||
				res.Updates[0].Outcome.GetFailure() == nil {
				t.Fatalf("result %+v, want u1 rejected and a rewind to event 3", res)
			}
			h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted)
			// u2 gets the next speculative task, with the same ids.
			wt = h.pollWFT("wf")
			wantSpeculative(t, h, wt, 5)
			h.completeWith(wt, []*protocolpb.Message{rejection(t, "u2")})
			h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted)
			if st := h.state("wf"); st.WorkflowTask != nil || st.UpdateRequested {
				t.Fatalf("task %v, update requested %v after the rejections", st.WorkflowTask, st.UpdateRequested)
			}
		}},
		{"commands: written", func(t *testing.T, h *harness) {
			idle(h)
			h.applyOK(admitCmd("wf", "u1"))
			wt := h.pollWFT("wf")
			wantSpeculative(t, h, wt, 5)
			res := h.completeWith(wt, []*protocolpb.Message{rejection(t, "u1")}, startTimer("t1", time.Minute))
			if res.ResetHistoryEventID != 0 {
				t.Fatalf("written task answered with a rewind to %d", res.ResetHistoryEventID)
			}
			evs := h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted,
				evWTScheduled, evWTStarted, evWTCompleted, evTimerStarted)
			if c := evs[6].GetWorkflowTaskCompletedEventAttributes(); c.ScheduledEventId != 5 || c.StartedEventId != 6 {
				t.Fatalf("completed event names %d/%d, want 5/6", c.ScheduledEventId, c.StartedEventId)
			}
		}},
		{"signal before the poll: a normal task", func(t *testing.T, h *harness) {
			idle(h)
			h.applyOK(admitCmd("wf", "u1"))
			h.applyOK(signalCmd("wf", "sig", "r1"))
			h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evWTScheduled, evSignaled)
			wt := h.pollWFT("wf")
			if len(wt.SpeculativeEvents) != 0 || wt.StartedEventID != 7 || wt.Token.ScheduledEventId != 5 {
				t.Fatalf("task %+v, want the written task 5 started as 7", wt)
			}
			h.completeWith(wt, []*protocolpb.Message{rejection(t, "u1")})
			h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evWTScheduled, evSignaled,
				evWTStarted, evWTCompleted)
		}},
		{"signal while it runs: written", func(t *testing.T, h *harness) {
			idle(h)
			h.applyOK(admitCmd("wf", "u1"))
			wt := h.pollWFT("wf")
			h.applyOK(signalCmd("wf", "sig", "r1")) // buffered
			res := h.completeWith(wt, []*protocolpb.Message{rejection(t, "u1")})
			if res.ResetHistoryEventID != 0 {
				t.Fatalf("written task answered with a rewind to %d", res.ResetHistoryEventID)
			}
			h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted,
				evWTScheduled, evWTStarted, evWTCompleted, evSignaled, evWTScheduled)
		}},
		{"timed out: written", func(t *testing.T, h *harness) {
			idle(h)
			h.applyOK(admitCmd("wf", "u1"))
			wt := h.pollWFT("wf")
			h.advance(DefaultWorkflowTaskTimeout)
			h.applyOK(fireCmd(h.timerOfKind(wt.Token.RunId, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_TASK_START_TO_CLOSE).Key))
			h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted,
				evWTScheduled, evWTStarted, evWTTimedOut, evWTScheduled)
			h.applyErr(completeCmd(wt.Token), ErrStaleTask)
		}},
		{"start delay: kept unless the task is written", func(t *testing.T, h *harness) {
			runID := h.start("wf", func(r *workflowservice.StartWorkflowExecutionRequest) {
				r.WorkflowStartDelay = durp(time.Hour)
			})
			h.applyOK(admitCmd("wf", "u1"))
			wt := h.pollWFT("wf")
			wantSpeculative(t, h, wt, 2)
			if res := h.completeWith(wt, []*protocolpb.Message{rejection(t, "u1")}); res.ResetHistoryEventID != 0 {
				t.Fatalf("rewind to %d, want 0 (no task completed yet)", res.ResetHistoryEventID)
			}
			h.wantEvents("wf", evStarted)
			h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_BACKOFF) // still delayed
			h.applyOK(admitCmd("wf", "u2"))
			wt = h.pollWFT("wf")
			wantSpeculative(t, h, wt, 2)
			h.completeWith(wt, nil, startTimer("t1", time.Minute))
			h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evTimerStarted)
			for _, r := range h.timersOf(runID) {
				if r.Row.Kind == fsmpb.TimerKind_TIMER_KIND_WORKFLOW_BACKOFF {
					t.Fatalf("the start delay outlived the workflow's first task")
				}
			}
			if st := h.state("wf"); st.FirstWorkflowTaskBackoff != 0 || st.StartDelay {
				t.Fatalf("backoff %d, start delay %v after the first task", st.FirstWorkflowTaskBackoff, st.StartDelay)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newHarness(t)) })
	}
}
