package fsm

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	enumspb "go.temporal.io/api/enums/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

func TestStartWorkflow(t *testing.T) {
	type startMod = func(*workflowservice.StartWorkflowExecutionRequest)
	withPolicies := func(c enumspb.WorkflowIdConflictPolicy, r enumspb.WorkflowIdReusePolicy) startMod {
		return func(req *workflowservice.StartWorkflowExecutionRequest) {
			req.RequestId = "second-start"
			req.WorkflowIdConflictPolicy, req.WorkflowIdReusePolicy = c, r
		}
	}
	// closeWith closes the current run of "wf" in one of the ways a run ends.
	closeWith := func(status enumspb.WorkflowExecutionStatus) func(h *harness) {
		return func(h *harness) {
			switch status {
			case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
				h.completeWFT("wf", completeWF("done"))
			case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:
				h.completeWFT("wf", failWF("failed"))
			case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
				h.applyOK(terminateCmd("wf", "stop"))
			}
			h.wantClosed("wf", status)
		}
	}
	noop := func(*harness) {}
	tests := []struct {
		name    string
		before  func(h *harness) // after the first run of "wf" started
		second  startMod         // a second start of "wf" (nil: none)
		wantErr error
		// wantStarted and wantSameRun describe the second start's result.
		wantStarted, wantSameRun bool
		check                    func(h *harness, first, second *Result)
	}{
		{name: "fresh start", before: noop, check: func(h *harness, first, _ *Result) {
			evs := h.wantEvents("wf", evStarted, evWTScheduled)
			attrs := evs[0].GetWorkflowExecutionStartedEventAttributes()
			if attrs.GetOriginalExecutionRunId() != first.RunID || attrs.GetWorkflowTaskTimeout().AsDuration() != DefaultWorkflowTaskTimeout ||
				attrs.GetIdentity() != "client" || attrs.GetInput() == nil {
				t.Fatalf("started attributes %v", attrs)
			}
			if evs[0].EventTime.AsTime().UnixNano() != t0 || evs[0].TaskId != 1 {
				t.Fatalf("event time %v task id %d, want proposed_at and raft index", evs[0].EventTime.AsTime(), evs[0].TaskId)
			}
			st := h.state("wf")
			if st.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING || st.WorkflowTask.GetScheduledEventId() != 2 || st.StartTime != t0 {
				t.Fatalf("state %v", st)
			}
			tasks := h.tasksOf(first.RunID)
			if len(tasks) != 1 || tasks[0].Row.Kind != fsmpb.TaskKind_TASK_KIND_WORKFLOW || tasks[0].Row.ScheduledEventId != 2 ||
				tasks[0].Row.TaskQueue != "tq" || tasks[0].Row.Attempt != 1 || tasks[0].Row.CreatedAt != t0 {
				t.Fatalf("task rows %v", tasks)
			}
			if timers := h.timersOf(first.RunID); len(timers) != 0 {
				t.Fatalf("a start without timeouts wrote timers %s", timerKinds(timers))
			}
		}},
		{name: "request id dedup", before: noop,
			second:      func(req *workflowservice.StartWorkflowExecutionRequest) {},
			wantSameRun: true, check: func(h *harness, _, _ *Result) {
				h.wantEvents("wf", evStarted, evWTScheduled)
			}},
		{name: "request id dedup after close", before: closeWith(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED),
			second:      func(req *workflowservice.StartWorkflowExecutionRequest) {},
			wantSameRun: true},
		{name: "id conflict while running", before: noop,
			second:  withPolicies(enumspb.WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED, enumspb.WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED),
			wantErr: ErrAlreadyStarted, check: func(h *harness, first, second *Result) {
				var ase *AlreadyStartedError
				if !errors.As(second.Err, &ase) || ase.RunID != first.RunID || !ase.ExistingRunning ||
					ase.StartRequestID != "start-wf" || ase.WorkflowID != "wf" {
					t.Fatalf("error %#v", second.Err)
				}
			}},
		{name: "conflict policy fail", before: noop,
			second:  withPolicies(enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE),
			wantErr: ErrAlreadyStarted},
		{name: "conflict policy use existing", before: noop,
			second:      withPolicies(enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, enumspb.WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED),
			wantSameRun: true, check: func(h *harness, first, _ *Result) {
				h.wantEvents("wf", evStarted, evWTScheduled)
			}},
		{name: "conflict policy terminate existing", before: func(h *harness) {
			h.pollWFT("wf") // a started task is failed by the termination
		},
			second:      withPolicies(enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING, enumspb.WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED),
			wantStarted: true, check: func(h *harness, first, second *Result) {
				old, err := h.f.GetState(DefaultNamespace, "wf", first.RunID)
				if err != nil || old.Status != enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED {
					t.Fatalf("old run %v, %v", old, err)
				}
				evs := checkedHistory(t, h.f, old)
				if got := eventTypes(evs); got != typeNames([]enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTFailed, evTerminated}) {
					t.Fatalf("old run history %s", got)
				}
				if c := evs[3].GetWorkflowTaskFailedEventAttributes().GetCause(); c != enumspb.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND {
					t.Fatalf("cause %s", c)
				}
				h.wantNoRows(first.RunID)
				h.wantEvents("wf", evStarted, evWTScheduled)
				if len(h.tasksOf(second.RunID)) != 1 {
					t.Fatalf("new run has no task row")
				}
			}},
		{name: "reuse policy terminate if running", before: noop,
			second:      withPolicies(enumspb.WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED, enumspb.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING),
			wantStarted: true},
		{name: "reuse default after completed", before: closeWith(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED),
			second:      withPolicies(enumspb.WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED, enumspb.WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED),
			wantStarted: true},
		{name: "reuse reject duplicate after completed", before: closeWith(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED),
			second:  withPolicies(enumspb.WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE),
			wantErr: ErrAlreadyStarted, check: func(h *harness, first, second *Result) {
				var ase *AlreadyStartedError
				if !errors.As(second.Err, &ase) || ase.ExistingRunning || ase.RunID != first.RunID {
					t.Fatalf("error %#v", second.Err)
				}
			}},
		{name: "reuse reject duplicate after terminated", before: closeWith(enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED),
			second:  withPolicies(enumspb.WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE),
			wantErr: ErrAlreadyStarted},
		{name: "reuse failed only after completed", before: closeWith(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED),
			second:  withPolicies(enumspb.WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY),
			wantErr: ErrAlreadyStarted},
		{name: "reuse failed only after failed", before: closeWith(enumspb.WORKFLOW_EXECUTION_STATUS_FAILED),
			second:      withPolicies(enumspb.WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY),
			wantStarted: true},
		{name: "reuse failed only after terminated", before: closeWith(enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED),
			second:      withPolicies(enumspb.WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY),
			wantStarted: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			first := h.applyOK(startCmd(h.newRunID(), startReq("wf")))
			if !first.Started || first.RunID != "run-0001" {
				t.Fatalf("first start %+v", first)
			}
			tc.before(h)
			second := &Result{}
			if tc.second != nil {
				req := startReq("wf")
				tc.second(req)
				second = h.apply(startCmd(h.newRunID(), req))
				switch {
				case tc.wantErr != nil:
					if !errors.Is(second.Err, tc.wantErr) {
						t.Fatalf("second start: %+v, want %v", second, tc.wantErr)
					}
				case second.Err != nil:
					t.Fatalf("second start: %v", second.Err)
				case second.Started != tc.wantStarted || (second.RunID == first.RunID) != tc.wantSameRun:
					t.Fatalf("second start: %+v (first run %s), want started=%v same run=%v",
						second, first.RunID, tc.wantStarted, tc.wantSameRun)
				}
				if tc.wantStarted {
					if cur := h.state("wf"); cur.RunId != second.RunID || cur.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
						t.Fatalf("current run %s %s, want %s running", cur.RunId, cur.Status, second.RunID)
					}
				}
			}
			if tc.check != nil {
				tc.check(h, first, second)
			}
		})
	}
}

func TestStartWorkflowTimeouts(t *testing.T) {
	tests := []struct {
		name                   string
		run, exec, task        time.Duration
		wantRun, wantTask      time.Duration
		wantKinds              []fsmpb.TimerKind
		wantExpirationAtOffset time.Duration
	}{
		{name: "run timeout only", run: time.Minute, wantRun: time.Minute, wantTask: 10 * time.Second,
			wantKinds: []fsmpb.TimerKind{fsmpb.TimerKind_TIMER_KIND_WORKFLOW_RUN_TIMEOUT}},
		{name: "execution timeout caps run", run: time.Hour, exec: time.Minute, wantRun: time.Minute, wantTask: 10 * time.Second,
			wantKinds: []fsmpb.TimerKind{fsmpb.TimerKind_TIMER_KIND_WORKFLOW_RUN_TIMEOUT}, wantExpirationAtOffset: time.Minute},
		{name: "both", run: time.Minute, exec: time.Hour, wantRun: time.Minute, wantTask: 10 * time.Second,
			wantKinds:              []fsmpb.TimerKind{fsmpb.TimerKind_TIMER_KIND_WORKFLOW_RUN_TIMEOUT, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_EXECUTION_TIMEOUT},
			wantExpirationAtOffset: time.Hour},
		{name: "task timeout capped at max", task: time.Hour, wantTask: MaxWorkflowTaskTimeout},
		{name: "task timeout capped at run", run: 5 * time.Second, task: time.Minute, wantRun: 5 * time.Second, wantTask: 5 * time.Second,
			wantKinds: []fsmpb.TimerKind{fsmpb.TimerKind_TIMER_KIND_WORKFLOW_RUN_TIMEOUT}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			runID := h.start("wf", func(req *workflowservice.StartWorkflowExecutionRequest) {
				if tc.run > 0 {
					req.WorkflowRunTimeout = durp(tc.run)
				}
				if tc.exec > 0 {
					req.WorkflowExecutionTimeout = durp(tc.exec)
				}
				if tc.task > 0 {
					req.WorkflowTaskTimeout = durp(tc.task)
				}
			})
			st := h.state("wf")
			if st.RunTimeout != int64(tc.wantRun) || st.TaskTimeout != int64(tc.wantTask) {
				t.Fatalf("run timeout %v task timeout %v", time.Duration(st.RunTimeout), time.Duration(st.TaskTimeout))
			}
			var kinds []fsmpb.TimerKind
			for _, r := range h.timersOf(runID) {
				kinds = append(kinds, r.Row.Kind)
				want := map[fsmpb.TimerKind]int64{
					fsmpb.TimerKind_TIMER_KIND_WORKFLOW_RUN_TIMEOUT:       t0 + int64(tc.wantRun),
					fsmpb.TimerKind_TIMER_KIND_WORKFLOW_EXECUTION_TIMEOUT: t0 + int64(tc.exec),
				}[r.Row.Kind]
				if r.Row.FireAt != want {
					t.Fatalf("%s fires at %+d, want %+d", r.Row.Kind, r.Row.FireAt-t0, want-t0)
				}
			}
			if !slices.Equal(kinds, tc.wantKinds) {
				t.Fatalf("timer kinds %v, want %v", kinds, tc.wantKinds)
			}
			if len(st.TimerKeys) != len(tc.wantKinds) {
				t.Fatalf("state holds %d run timer keys", len(st.TimerKeys))
			}
			attrs := h.history("wf")[0].GetWorkflowExecutionStartedEventAttributes()
			exp := attrs.GetWorkflowExecutionExpirationTime()
			if (exp != nil) != (tc.wantExpirationAtOffset > 0) ||
				(exp != nil && exp.AsTime().UnixNano() != t0+int64(tc.wantExpirationAtOffset)) {
				t.Fatalf("expiration time %v", exp)
			}
		})
	}
}

func TestStartWorkflowInvalid(t *testing.T) {
	tests := []struct {
		name  string
		runID string
		mod   func(*workflowservice.StartWorkflowExecutionRequest)
		want  error
	}{
		{"no workflow id", "r", func(r *workflowservice.StartWorkflowExecutionRequest) { r.WorkflowId = "" }, ErrInvalidArgument},
		{"no type", "r", func(r *workflowservice.StartWorkflowExecutionRequest) { r.WorkflowType = nil }, ErrInvalidArgument},
		{"no task queue", "r", func(r *workflowservice.StartWorkflowExecutionRequest) { r.TaskQueue = nil }, ErrInvalidArgument},
		{"no run id", "", func(r *workflowservice.StartWorkflowExecutionRequest) {}, ErrInvalidArgument},
		{"unknown namespace", "r", func(r *workflowservice.StartWorkflowExecutionRequest) { r.Namespace = "nope" }, ErrNamespaceNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			before := h.f.Digest()
			req := startReq("wf")
			tc.mod(req)
			h.applyErr(startCmd(tc.runID, req), tc.want)
			if h.f.Digest() != before {
				t.Fatalf("a rejected start changed the state")
			}
		})
	}
}

func TestSignalWorkflow(t *testing.T) {
	tests := []struct {
		name string
		run  func(h *harness)
	}{
		{"signal with a scheduled task adds no task", func(h *harness) {
			h.applyOK(signalCmd("wf", "s1", "sig-1"))
			evs := h.wantEvents("wf", evStarted, evWTScheduled, evSignaled)
			if a := evs[2].GetWorkflowExecutionSignaledEventAttributes(); a.SignalName != "s1" || a.Identity != "signaler" || a.Input == nil {
				h.t.Fatalf("signaled attributes %v", a)
			}
			if n := len(h.tasksOf(h.state("wf").RunId)); n != 1 {
				h.t.Fatalf("%d task rows, want 1", n)
			}
		}},
		{"signal to an idle workflow schedules a task", func(h *harness) {
			h.completeWFT("wf", recordMarker("m"))
			h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evMarker)
			if len(h.f.ScanTasks()) != 0 {
				h.t.Fatalf("idle workflow has a task")
			}
			h.applyOK(signalCmd("wf", "s1", "sig-1"))
			evs := h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evMarker, evSignaled, evWTScheduled)
			if tasks := h.f.ScanTasks(); len(tasks) != 1 || tasks[0].Row.ScheduledEventId != evs[6].EventId {
				h.t.Fatalf("tasks %v", tasks)
			}
		}},
		{"dedup by request id", func(h *harness) {
			first := h.applyOK(signalCmd("wf", "s1", "sig-1"))
			dup := h.applyOK(signalCmd("wf", "s1", "sig-1"))
			if dup.RunID != first.RunID {
				h.t.Fatalf("dedup answered run %q, want %q", dup.RunID, first.RunID)
			}
			h.applyOK(signalCmd("wf", "s2", "")) // no request id: never deduplicated
			h.applyOK(signalCmd("wf", "s2", ""))
			h.wantEvents("wf", evStarted, evWTScheduled, evSignaled, evSignaled, evSignaled)
		}},
		{"buffered while the task runs, flushed after completion", func(h *harness) {
			wt := h.pollWFT("wf")
			h.applyOK(signalCmd("wf", "s1", "sig-1"))
			h.applyOK(signalCmd("wf", "s2", "sig-2"))
			h.applyOK(signalCmd("wf", "s1", "sig-1")) // duplicate while buffered
			h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted)
			if n := len(h.state("wf").BufferedEvents); n != 2 {
				h.t.Fatalf("%d buffered events, want 2", n)
			}
			h.applyOK(completeCmd(wt.Token, recordMarker("m")))
			evs := h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evMarker, evSignaled, evSignaled, evWTScheduled)
			if evs[5].GetWorkflowExecutionSignaledEventAttributes().SignalName != "s1" ||
				evs[6].GetWorkflowExecutionSignaledEventAttributes().SignalName != "s2" {
				h.t.Fatalf("signals out of order: %v", evs[5:7])
			}
			st := h.state("wf")
			if len(st.BufferedEvents) != 0 || st.WorkflowTask.GetScheduledEventId() != 8 || st.LastCompletedStartedEventId != 3 {
				h.t.Fatalf("state after flush: %v", st)
			}
		}},
		{"unknown workflow", func(h *harness) {
			h.applyErr(signalCmd("nope", "s", ""), ErrWorkflowNotFound)
		}},
		{"closed workflow", func(h *harness) {
			h.applyOK(terminateCmd("wf", "bye"))
			h.applyErr(signalCmd("wf", "s", "sig-x"), ErrWorkflowClosed)
		}},
		{"request ids are bounded", func(h *harness) {
			const n = maxSignalRequestIDs + 5
			for i := range n {
				h.applyOK(signalCmd("wf", "s", fmt.Sprintf("sig-%d", i)))
			}
			if got := len(h.state("wf").SignalRequestIds); got != maxSignalRequestIDs {
				h.t.Fatalf("%d remembered signal request ids, want %d", got, maxSignalRequestIDs)
			}
			next := h.state("wf").NextEventId
			h.applyOK(signalCmd("wf", "s", fmt.Sprintf("sig-%d", n-1))) // remembered: deduplicated
			if h.state("wf").NextEventId != next {
				h.t.Fatalf("a remembered signal request id was not deduplicated")
			}
			h.applyOK(signalCmd("wf", "s", "sig-0")) // forgotten: a new signal
			if h.state("wf").NextEventId != next+1 {
				h.t.Fatalf("the oldest signal request id was not forgotten")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.start("wf")
			tc.run(h)
		})
	}
}

func TestTerminateWorkflow(t *testing.T) {
	tests := []struct {
		name   string
		before func(h *harness)
		want   []enumspb.EventType
	}{
		{"scheduled task", func(h *harness) {},
			[]enumspb.EventType{evStarted, evWTScheduled, evTerminated}},
		{"started task with buffered signal", func(h *harness) {
			h.pollWFT("wf")
			h.applyOK(signalCmd("wf", "s", "sig"))
		}, []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTFailed, evSignaled, evTerminated}},
		{"pending activity, timer and run timeout", func(h *harness) {
			h.completeWFT("wf", scheduleActivity("a1", func(a *commandpbSchedule) {
				a.ScheduleToCloseTimeout = durp(time.Minute)
				a.ScheduleToStartTimeout = durp(10 * time.Second)
				a.HeartbeatTimeout = durp(5 * time.Second)
			}), scheduleActivity("a2"), startTimer("t1", time.Hour))
			h.pollActivity("wf", 5)
		}, []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTCompleted, evActScheduled, evActScheduled, evTimerStarted, evTerminated}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			runID := h.start("wf", func(r *workflowservice.StartWorkflowExecutionRequest) { r.WorkflowRunTimeout = durp(time.Hour * 2) })
			tc.before(h)
			h.advance(time.Second)
			res := h.applyOK(terminateCmd("wf", "enough"))
			if res.RunID != runID {
				t.Fatalf("terminate answered run %q", res.RunID)
			}
			evs := h.wantEvents("wf", tc.want...)
			last := evs[len(evs)-1].GetWorkflowExecutionTerminatedEventAttributes()
			if last.Reason != "enough" || last.Identity != "admin" {
				t.Fatalf("terminated attributes %v", last)
			}
			h.wantClosed("wf", enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED)
			if n := h.liveRows(); n != 0 {
				t.Fatalf("%d rows left after terminate", n)
			}
			h.applyErr(terminateCmd("wf", "again"), ErrWorkflowClosed)
			h.applyErr(terminateCmd("other", "x"), ErrWorkflowNotFound)
		})
	}
}

func TestRegisterNamespace(t *testing.T) {
	reg := func(name string) *fsmpb.Command {
		return &fsmpb.Command{Op: &fsmpb.Command_RegisterNamespace{RegisterNamespace: &fsmpb.RegisterNamespace{
			NamespaceId: "id-" + name, Request: &workflowservice.RegisterNamespaceRequest{
				Namespace: name, Description: "d", OwnerEmail: "o@example.com",
				WorkflowExecutionRetentionPeriod: durp(72 * time.Hour),
			}}}}
	}
	tests := []struct {
		name string
		run  func(h *harness)
	}{
		{"register then use", func(h *harness) {
			h.applyOK(reg("orders"))
			rec, err := h.f.GetNamespace("orders")
			if err != nil || rec.Info.Id != "id-orders" || rec.Info.State != enumspb.NAMESPACE_STATE_REGISTERED ||
				rec.Config.WorkflowExecutionRetentionTtl.AsDuration() != 72*time.Hour {
				h.t.Fatalf("namespace %v, %v", rec, err)
			}
			if all := h.f.ListNamespaces(); len(all) != 2 || all[0].Info.Name != DefaultNamespace || all[1].Info.Name != "orders" {
				h.t.Fatalf("namespaces %v", all)
			}
			req := startReq("wf")
			req.Namespace = "orders"
			res := h.applyOK(startCmd("run-x", req))
			if st, err := h.f.GetState("orders", "wf", res.RunID); err != nil || st.Namespace != "orders" {
				h.t.Fatalf("state %v, %v", st, err)
			}
			// The same workflow id in another namespace is another workflow.
			h.start("wf")
		}},
		{"duplicate", func(h *harness) {
			h.applyOK(reg("orders"))
			h.applyErr(reg("orders"), ErrNamespaceExists)
		}},
		{"default exists", func(h *harness) {
			h.applyErr(reg(DefaultNamespace), ErrNamespaceExists)
			if _, err := h.f.GetNamespace(DefaultNamespace); err != nil {
				h.t.Fatal(err)
			}
		}},
		{"empty name", func(h *harness) { h.applyErr(reg(""), ErrInvalidArgument) }},
		{"unknown", func(h *harness) {
			if _, err := h.f.GetNamespace("nope"); !errors.Is(err, ErrNamespaceNotFound) {
				h.t.Fatalf("err %v", err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(newHarness(t)) })
	}
}

func TestNodesAndHousekeeping(t *testing.T) {
	setNode := func(id, addr string) *fsmpb.Command {
		return &fsmpb.Command{Op: &fsmpb.Command_SetNode{SetNode: &fsmpb.SetNode{Node: &fsmpb.NodeInfo{
			Id: id, RaftAddr: addr + ":7000", GrpcAddr: addr + ":7233", HttpAddr: addr + ":8080"}}}}
	}
	removeNode := func(id string) *fsmpb.Command {
		return &fsmpb.Command{Op: &fsmpb.Command_RemoveNode{RemoveNode: &fsmpb.RemoveNode{Id: id}}}
	}
	ids := func(h *harness) []string {
		var out []string
		for _, n := range h.f.Nodes() {
			out = append(out, n.Id+"@"+n.GrpcAddr)
		}
		return out
	}
	tests := []struct {
		name string
		run  func(h *harness)
	}{
		{"set, update, remove nodes", func(h *harness) {
			h.applyOK(setNode("n2", "b"))
			h.applyOK(setNode("n1", "a"))
			if got := ids(h); !slices.Equal(got, []string{"n1@a:7233", "n2@b:7233"}) {
				h.t.Fatalf("nodes %v", got)
			}
			h.applyOK(setNode("n1", "c"))
			if got := ids(h); !slices.Equal(got, []string{"n1@c:7233", "n2@b:7233"}) {
				h.t.Fatalf("nodes after update %v", got)
			}
			h.applyOK(removeNode("n2"))
			h.applyOK(removeNode("n9")) // unknown: a no-op
			if got := ids(h); !slices.Equal(got, []string{"n1@c:7233"}) {
				h.t.Fatalf("nodes after remove %v", got)
			}
		}},
		{"noop advances the applied index only", func(h *harness) {
			h.start("wf")
			before := h.f.Digest()
			h.applyOK(&fsmpb.Command{Op: &fsmpb.Command_Noop{Noop: &fsmpb.Noop{}}})
			if h.f.Digest() != before || h.f.AppliedIndex() != 2 {
				h.t.Fatalf("noop changed state or index")
			}
		}},
		{"unknown operation", func(h *harness) {
			before := h.f.Digest()
			h.applyErr(&fsmpb.Command{RequestId: "empty"}, ErrUnknownOperation)
			if h.f.Digest() != before || h.f.AppliedIndex() != 1 {
				h.t.Fatalf("unknown op changed state or did not advance the index")
			}
		}},
		{"reset sticky", func(h *harness) {
			h.start("wf")
			wt := h.pollWFT("wf")
			h.applyOK(completeReqCmd(wt.Token, &workflowservice.RespondWorkflowTaskCompletedRequest{
				Identity: "worker", StickyAttributes: stickyAttrs("worker-sticky"),
			}))
			if st := h.state("wf"); st.StickyTaskQueue != "worker-sticky" || st.StickyScheduleToStartTimeout != int64(5*time.Second) {
				h.t.Fatalf("sticky %q %v", st.StickyTaskQueue, st.StickyScheduleToStartTimeout)
			}
			h.applyOK(&fsmpb.Command{Op: &fsmpb.Command_ResetSticky{ResetSticky: &fsmpb.ResetSticky{
				Namespace: DefaultNamespace, WorkflowId: "wf"}}})
			if st := h.state("wf"); st.StickyTaskQueue != "" || st.StickyScheduleToStartTimeout != 0 {
				h.t.Fatalf("sticky not reset: %q", st.StickyTaskQueue)
			}
			h.applyErr(&fsmpb.Command{Op: &fsmpb.Command_ResetSticky{ResetSticky: &fsmpb.ResetSticky{
				Namespace: DefaultNamespace, WorkflowId: "nope"}}}, ErrWorkflowNotFound)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(newHarness(t)) })
	}
}

// TestApplyNonCommandEntries: configuration entries (delivered by
// raft.BatchingFSM) advance the applied index without changing state.
func TestApplyNonCommandEntries(t *testing.T) {
	h := newHarness(t)
	h.start("wf")
	before := h.f.Digest()
	h.index++
	l := &raft.Log{Index: h.index, Term: 1, Type: raft.LogConfiguration}
	if out := h.f.Apply(l); out != nil {
		t.Fatalf("configuration entry returned %v", out)
	}
	if h.f.AppliedIndex() != h.index || h.f.Digest() != before {
		t.Fatalf("applied %d, digest changed %v", h.f.AppliedIndex(), h.f.Digest() != before)
	}
	// Replayed command entries (index <= applied) are skipped, not reapplied.
	out := h.f.Apply(h.logs[0])
	if r, ok := out.(*Result); !ok || !r.Skipped {
		t.Fatalf("replayed entry returned %v", describe(out))
	}
	if h.f.Digest() != before {
		t.Fatalf("a replayed start changed the state")
	}
}

// TestCancelTerminateFirstExecutionRunID: with first_execution_run_id a
// cancel or terminate names a chain of runs, as Temporal: a chain the
// current run does not belong to is NotFound and changes nothing; the
// right chain reaches the current run whatever run id the request names.
func TestCancelTerminateFirstExecutionRunID(t *testing.T) {
	cancelCmd := func(runID, first string) *fsmpb.Command {
		return &fsmpb.Command{Op: &fsmpb.Command_RequestCancelWorkflow{RequestCancelWorkflow: &fsmpb.RequestCancelWorkflow{
			Request: &workflowservice.RequestCancelWorkflowExecutionRequest{
				Namespace: DefaultNamespace, WorkflowExecution: wfExec("wf", runID), FirstExecutionRunId: first, Identity: "admin",
			}}}}
	}
	terminate := func(runID, first string) *fsmpb.Command {
		cmd := terminateCmd("wf", "enough")
		req := cmd.GetTerminateWorkflow().Request
		req.WorkflowExecution.RunId, req.FirstExecutionRunId = runID, first
		return cmd
	}
	h := newHarness(t)
	runID := h.start("wf")
	h.applyErr(cancelCmd("", "not-the-chain"), ErrWorkflowNotFound)
	h.applyErr(terminate(runID, "not-the-chain"), ErrWorkflowNotFound)
	if st := h.state("wf"); st.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING || st.CancelRequested {
		t.Fatalf("a refused request changed the run: %v", st)
	}
	if res := h.applyOK(cancelCmd("some-other-run", runID)); res.RunID != runID {
		t.Fatalf("cancel reached run %q", res.RunID)
	}
	if !h.state("wf").CancelRequested {
		t.Fatal("cancel not recorded")
	}
	h.applyOK(terminate("", runID))
	if st := h.state("wf").Status; st != enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED {
		t.Fatalf("status %v", st)
	}
}
