package fsm

import (
	"errors"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

func signalWithStartCmd(runID, wfID, requestID string) *fsmpb.Command {
	return &fsmpb.Command{Op: &fsmpb.Command_SignalWithStart{SignalWithStart: &fsmpb.SignalWithStart{
		RunId: runID, Request: &workflowservice.SignalWithStartWorkflowExecutionRequest{
			Namespace: DefaultNamespace, WorkflowId: wfID, WorkflowType: startReq("").WorkflowType,
			TaskQueue: startReq("").TaskQueue, SignalName: "go", SignalInput: payloads("go"),
			Identity: "client", RequestId: requestID,
		}}}}
}

func cancelRequestCmd(wfID string) *fsmpb.Command {
	return &fsmpb.Command{Op: &fsmpb.Command_RequestCancelWorkflow{RequestCancelWorkflow: &fsmpb.RequestCancelWorkflow{
		Request: &workflowservice.RequestCancelWorkflowExecutionRequest{
			Namespace: DefaultNamespace, WorkflowExecution: wfExec(wfID, ""), Identity: "canceler", Reason: "stop"}}}}
}

func deleteWorkflowCmd(wfID, runID string) *fsmpb.Command {
	return &fsmpb.Command{Op: &fsmpb.Command_DeleteWorkflow{DeleteWorkflow: &fsmpb.DeleteWorkflow{
		Namespace: DefaultNamespace, WorkflowId: wfID, RunId: runID, Identity: "admin"}}}
}

// TestOtherWorkflowCommands covers the client-side commands beyond start,
// signal and terminate.
func TestOtherWorkflowCommands(t *testing.T) {
	tests := []struct {
		name string
		run  func(h *harness)
	}{
		{"signal-with-start starts", func(h *harness) {
			res := h.applyOK(signalWithStartCmd("run-sws", "wf", "sws-1"))
			if !res.Started || res.RunID != "run-sws" {
				h.t.Fatalf("result %+v", res)
			}
			h.wantEvents("wf", evStarted, evSignaled, evWTScheduled)
			if tasks := h.tasksOf("run-sws"); len(tasks) != 1 {
				h.t.Fatalf("tasks %v", tasks)
			}
			// A retry of the same request is deduplicated.
			res = h.applyOK(signalWithStartCmd("run-other", "wf", "sws-1"))
			if res.Started || res.RunID != "run-sws" {
				h.t.Fatalf("retry %+v", res)
			}
			h.wantEvents("wf", evStarted, evSignaled, evWTScheduled)
		}},
		{"signal-with-start signals a running workflow", func(h *harness) {
			runID := h.start("wf")
			wt := h.pollWFT("wf")
			res := h.applyOK(signalWithStartCmd("run-unused", "wf", "sws-1"))
			if res.Started || res.RunID != runID {
				h.t.Fatalf("result %+v", res)
			}
			h.applyOK(completeCmd(wt.Token))
			h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evSignaled, evWTScheduled)
		}},
		{"request cancel", func(h *harness) {
			runID := h.start("wf")
			h.completeWFT("wf", startTimer("t", time.Hour))
			res := h.applyOK(cancelRequestCmd("wf"))
			if res.RunID != runID {
				h.t.Fatalf("result %+v", res)
			}
			h.applyOK(cancelRequestCmd("wf")) // once is enough
			evs := h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evTimerStarted,
				enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED, evWTScheduled)
			if a := evs[5].GetWorkflowExecutionCancelRequestedEventAttributes(); a.Identity != "canceler" || a.Cause != "stop" {
				h.t.Fatalf("cancel requested attributes %v", a)
			}
			h.completeWFT("wf", cancelTimer("t"), cancelWF())
			h.wantClosed("wf", enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED)
			h.applyErr(cancelRequestCmd("wf"), ErrWorkflowClosed)
		}},
		{"delete a running workflow", func(h *harness) {
			runID := h.start("wf")
			h.completeWFT("wf", scheduleActivity("a"), startTimer("t", time.Hour))
			res := h.applyOK(deleteWorkflowCmd("wf", ""))
			if res.RunID != runID {
				h.t.Fatalf("result %+v", res)
			}
			if _, err := h.f.GetState(DefaultNamespace, "wf", runID); !errors.Is(err, ErrWorkflowNotFound) {
				h.t.Fatalf("deleted run still there: %v", err)
			}
			if evs, _ := h.f.ReadHistory(DefaultNamespace, "wf", runID, 1, 0, 10); len(evs) != 0 {
				h.t.Fatalf("history left")
			}
			if len(h.f.ScanTasks())+len(h.f.ScanTimers()) != 0 {
				h.t.Fatalf("rows left: %v %v", h.f.ScanTasks(), h.f.ScanTimers())
			}
			h.applyErr(deleteWorkflowCmd("wf", ""), ErrWorkflowNotFound)
			h.start("wf", func(r *workflowservice.StartWorkflowExecutionRequest) {
				r.WorkflowIdReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
			})
		}},
		{"namespace retention applies to later closes", func(h *harness) {
			h.applyOK(&fsmpb.Command{Op: &fsmpb.Command_UpdateNamespace{UpdateNamespace: &fsmpb.UpdateNamespace{
				Request: &workflowservice.UpdateNamespaceRequest{Namespace: DefaultNamespace,
					UpdateInfo: &namespacepb.UpdateNamespaceInfo{Description: "changed"},
					Config:     &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durp(time.Hour)}}}}})
			rec, err := h.f.GetNamespace(DefaultNamespace)
			if err != nil || rec.Info.Description != "changed" || rec.Config.WorkflowExecutionRetentionTtl.AsDuration() != time.Hour {
				h.t.Fatalf("namespace %v, %v", rec, err)
			}
			runID := h.start("wf")
			h.completeWFT("wf", completeWF("x"))
			r := h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_RETENTION)
			if r.Row.FireAt != h.now+int64(time.Hour) {
				h.t.Fatalf("retention timer at %v", time.Duration(r.Row.FireAt-h.now))
			}
			h.applyErr(&fsmpb.Command{Op: &fsmpb.Command_UpdateNamespace{UpdateNamespace: &fsmpb.UpdateNamespace{
				Request: &workflowservice.UpdateNamespaceRequest{Namespace: "nope"}}}}, ErrNamespaceNotFound)
		}},
		{"admit update", func(h *harness) {
			admit := func(id string) *fsmpb.Command {
				return &fsmpb.Command{Op: &fsmpb.Command_AdmitUpdate{AdmitUpdate: &fsmpb.AdmitUpdate{
					Namespace: DefaultNamespace, WorkflowId: "wf", UpdateId: id}}}
			}
			h.start("wf")
			h.completeWFT("wf")
			if h.state("wf").WorkflowTask != nil {
				h.t.Fatalf("idle workflow has a task")
			}
			h.applyOK(admit("u1")) // idle: a speculative workflow task carries the update
			h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted)
			if wt := h.state("wf").WorkflowTask; wt == nil || len(wt.SpeculativeEvents) != 1 || wt.ScheduledEventId != 5 {
				h.t.Fatalf("idle workflow's task for the update: %v", wt)
			}
			h.pollWFT("wf")
			h.applyOK(admit("u2")) // running task: remembered for the next one
			if !h.state("wf").UpdateRequested {
				h.t.Fatalf("update request not remembered")
			}
			h.applyErr(&fsmpb.Command{Op: &fsmpb.Command_AdmitUpdate{AdmitUpdate: &fsmpb.AdmitUpdate{
				Namespace: DefaultNamespace, WorkflowId: "nope", UpdateId: "u"}}}, ErrWorkflowNotFound)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(newHarness(t)) })
	}
}
