package fsm

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	protocolpb "go.temporal.io/api/protocol/v1"
	updatepb "go.temporal.io/api/update/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/raftflow/engine/fsm/fsmpb"
)

func TestRecordTaskStarted(t *testing.T) {
	tests := []struct {
		name string
		run  func(h *harness, runID string)
	}{
		{"workflow task", func(h *harness, runID string) {
			key := h.taskFor("wf", fsmpb.TaskKind_TASK_KIND_WORKFLOW, 0).Key
			h.advance(time.Second)
			res := h.applyOK(recordStartedCmd(key, "w1"))
			wt := res.WorkflowTask
			want := &fsmpb.TaskToken{Namespace: DefaultNamespace, WorkflowId: "wf", RunId: runID,
				Kind: fsmpb.TaskKind_TASK_KIND_WORKFLOW, ScheduledEventId: 2, StartedEventId: 3, Attempt: 1}
			if wt == nil || !proto.Equal(wt.Token, want) || wt.StartedEventID != 3 || wt.PreviousStartedEventID != 0 ||
				wt.WorkflowType.GetName() != "wf-type" || wt.TaskQueue != "tq" || wt.ScheduledTime != t0 || wt.StartedTime != t0+int64(time.Second) {
				h.t.Fatalf("started task %+v", wt)
			}
			evs := h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted)
			a := evs[2].GetWorkflowTaskStartedEventAttributes()
			if a.ScheduledEventId != 2 || a.Identity != "w1" || a.RequestId != "poll-w1" || a.HistorySizeBytes <= 0 {
				h.t.Fatalf("started attributes %v", a)
			}
			if len(h.tasksOf(runID)) != 0 {
				h.t.Fatalf("the started task's backlog row is still there")
			}
			tm := h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_TASK_START_TO_CLOSE)
			if tm.Row.FireAt != h.now+int64(DefaultWorkflowTaskTimeout) || tm.Row.Ref != 2 || tm.Row.Attempt != 1 {
				h.t.Fatalf("start-to-close timer %v", tm.Row)
			}
			st := h.state("wf")
			if !bytes.Equal(st.WorkflowTask.TimerKey, tm.Key) || st.WorkflowTask.TaskKey != nil || st.WorkflowTask.Identity != "w1" {
				h.t.Fatalf("workflow task info %v", st.WorkflowTask)
			}
			// The same row again (a duplicate dispatch) is stale.
			h.applyErr(recordStartedCmd(key, "w2"), ErrStaleTask)
		}},
		{"previous started event id after a completion", func(h *harness, runID string) {
			h.completeWFT("wf", startTimer("t", time.Minute))
			h.applyOK(signalCmd("wf", "s", ""))
			wt := h.pollWFT("wf")
			if wt.PreviousStartedEventID != 3 || wt.StartedEventID != 8 {
				h.t.Fatalf("previous %d started %d", wt.PreviousStartedEventID, wt.StartedEventID)
			}
		}},
		{"activity task", func(h *harness, runID string) {
			h.completeWFT("wf", scheduleActivity("a1", func(a *commandpbSchedule) {
				a.ScheduleToStartTimeout = durp(10 * time.Second)
				a.ScheduleToCloseTimeout = durp(time.Minute)
				a.HeartbeatTimeout = durp(5 * time.Second)
			}))
			if got := timerKinds(h.timersOf(runID)); got != "[ACTIVITY_SCHEDULE_TO_START@10000 ACTIVITY_SCHEDULE_TO_CLOSE@60000]" {
				h.t.Fatalf("timers before start %s", got)
			}
			key := h.taskFor("wf", fsmpb.TaskKind_TASK_KIND_ACTIVITY, 5).Key
			h.advance(2 * time.Second)
			at := h.applyOK(recordStartedCmd(key, "aw")).ActivityTask
			if at == nil || at.Token.Kind != fsmpb.TaskKind_TASK_KIND_ACTIVITY || at.Token.ScheduledEventId != 5 ||
				at.Token.Attempt != 1 || at.Token.ActivityId != "a1" || at.Activity.StartedIdentity != "aw" ||
				at.Activity.ActivityType.GetName() != "act-type" || at.WorkflowType.GetName() != "wf-type" {
				h.t.Fatalf("activity task %+v", at)
			}
			// No ActivityTaskStarted event until the attempt ends.
			h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evActScheduled)
			if got := timerKinds(h.timersOf(runID)); got != "[ACTIVITY_HEARTBEAT@7000 ACTIVITY_START_TO_CLOSE@32000 ACTIVITY_SCHEDULE_TO_CLOSE@60000]" {
				h.t.Fatalf("timers after start %s", got)
			}
			a := h.state("wf").Activities[5]
			if a.StartedTime != h.now || a.TaskKey != nil || len(a.TimerKeys) != 3 {
				h.t.Fatalf("activity info %v", a)
			}
			h.applyErr(recordStartedCmd(key, "aw2"), ErrStaleTask)
		}},
		{"missing row", func(h *harness, runID string) {
			h.applyErr(recordStartedCmd(taskKey(999, 1), "w"), ErrStaleTask)
		}},
		{"row of a closed run is dropped", func(h *harness, runID string) {
			key := h.taskFor("wf", fsmpb.TaskKind_TASK_KIND_WORKFLOW, 0).Key
			// Write a row the run no longer owns (as if left behind).
			h.completeWFT("wf", completeWF("done"))
			injectRow(h, key, &fsmpb.TaskRow{Namespace: DefaultNamespace, TaskQueue: "tq",
				Kind: fsmpb.TaskKind_TASK_KIND_WORKFLOW, WorkflowId: "wf", RunId: runID, ScheduledEventId: 2, Attempt: 1})
			h.applyErr(recordStartedCmd(key, "w"), ErrStaleTask)
			h.wantNoRows(runID)
		}},
		{"superseded workflow task row is dropped", func(h *harness, runID string) {
			old := h.taskFor("wf", fsmpb.TaskKind_TASK_KIND_WORKFLOW, 0).Key
			h.pollWFT("wf")
			injectRow(h, old, &fsmpb.TaskRow{Namespace: DefaultNamespace, TaskQueue: "tq",
				Kind: fsmpb.TaskKind_TASK_KIND_WORKFLOW, WorkflowId: "wf", RunId: runID, ScheduledEventId: 2, Attempt: 1})
			before := h.history("wf")
			h.applyErr(recordStartedCmd(old, "w"), ErrStaleTask)
			if len(h.tasksOf(runID)) != 0 || len(h.history("wf")) != len(before) {
				h.t.Fatalf("stale row was not just dropped")
			}
		}},
		{"stale activity attempt", func(h *harness, runID string) {
			h.completeWFT("wf", scheduleActivity("a1"))
			key := h.taskFor("wf", fsmpb.TaskKind_TASK_KIND_ACTIVITY, 5).Key
			injectRow(h, taskKey(999, 1), &fsmpb.TaskRow{Namespace: DefaultNamespace, TaskQueue: "tq",
				Kind: fsmpb.TaskKind_TASK_KIND_ACTIVITY, WorkflowId: "wf", RunId: runID, ScheduledEventId: 5, Attempt: 7})
			h.applyErr(recordStartedCmd(taskKey(999, 1), "aw"), ErrStaleTask)
			injectRow(h, taskKey(999, 2), &fsmpb.TaskRow{Namespace: DefaultNamespace, TaskQueue: "tq",
				Kind: fsmpb.TaskKind_TASK_KIND_ACTIVITY, WorkflowId: "wf", RunId: runID, ScheduledEventId: 77, Attempt: 1})
			h.applyErr(recordStartedCmd(taskKey(999, 2), "aw"), ErrStaleTask)
			if tasks := h.tasksOf(runID); len(tasks) != 1 || !bytes.Equal(tasks[0].Key, key) {
				h.t.Fatalf("stale rows not dropped: %v", tasks)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			tc.run(h, h.start("wf"))
		})
	}
}

// injectRow writes a task row directly, as a stale leftover would be.
func injectRow(h *harness, key []byte, row *fsmpb.TaskRow) {
	h.t.Helper()
	if err := h.f.db.Set(key, mustMarshal(row), nil); err != nil {
		h.t.Fatal(err)
	}
}

func TestCompleteWorkflowTask(t *testing.T) {
	tests := []struct {
		name   string
		before func(h *harness) // runs before the workflow task is polled
		cmds   []*commandpb.Command
		want   []enumspb.EventType
		check  func(h *harness, runID string, res *Result)
	}{
		{name: "no commands leaves the workflow idle", want: []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTCompleted},
			check: func(h *harness, runID string, _ *Result) {
				st := h.state("wf")
				if st.WorkflowTask != nil || st.LastCompletedStartedEventId != 3 {
					h.t.Fatalf("state %v", st)
				}
				h.wantNoRows(runID)
			}},
		{name: "schedule activity", cmds: []*commandpb.Command{scheduleActivity("a1", func(a *commandpbSchedule) {
			a.ScheduleToCloseTimeout = durp(time.Minute)
			a.HeartbeatTimeout = durp(time.Hour) // capped at start-to-close
		})}, want: []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTCompleted, evActScheduled},
			check: func(h *harness, runID string, _ *Result) {
				ev := h.history("wf")[4].GetActivityTaskScheduledEventAttributes()
				if ev.ActivityId != "a1" || ev.WorkflowTaskCompletedEventId != 4 || ev.TaskQueue.GetName() != "tq" ||
					ev.StartToCloseTimeout.AsDuration() != 30*time.Second || ev.ScheduleToStartTimeout.AsDuration() != time.Minute ||
					ev.HeartbeatTimeout.AsDuration() != 30*time.Second || ev.RetryPolicy.GetInitialInterval().AsDuration() != time.Second ||
					ev.RetryPolicy.BackoffCoefficient != 2 || ev.RetryPolicy.MaximumInterval.AsDuration() != 100*time.Second {
					h.t.Fatalf("scheduled attributes %v", ev)
				}
				a := h.state("wf").Activities[5]
				if a == nil || a.Attempt != 1 || a.ActivityId != "a1" || a.ScheduledTime != h.now {
					h.t.Fatalf("activity info %v", a)
				}
				tasks := h.tasksOf(runID)
				if len(tasks) != 1 || tasks[0].Row.Kind != fsmpb.TaskKind_TASK_KIND_ACTIVITY || tasks[0].Row.ScheduledEventId != 5 ||
					!bytes.Equal(tasks[0].Key, a.TaskKey) {
					h.t.Fatalf("task rows %v", tasks)
				}
				// schedule-to-start equals schedule-to-close: only one timer.
				if got := timerKinds(h.timersOf(runID)); got != "[ACTIVITY_SCHEDULE_TO_CLOSE@61000]" {
					h.t.Fatalf("timers %s", got)
				}
			}},
		{name: "schedule activity on another queue", cmds: []*commandpb.Command{scheduleActivity("a1", func(a *commandpbSchedule) {
			a.TaskQueue = stickyAttrs("other").WorkerTaskQueue
		})}, want: []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTCompleted, evActScheduled},
			check: func(h *harness, runID string, _ *Result) {
				if tasks := h.tasksOf(runID); len(tasks) != 1 || tasks[0].Row.TaskQueue != "other" {
					h.t.Fatalf("tasks %v", tasks)
				}
			}},
		{name: "start timer", cmds: []*commandpb.Command{startTimer("t1", time.Minute)},
			want: []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTCompleted, evTimerStarted},
			check: func(h *harness, runID string, _ *Result) {
				tm := h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_USER)
				info := h.state("wf").Timers["t1"]
				if tm.Row.FireAt != h.now+int64(time.Minute) || tm.Row.TimerId != "t1" || tm.Row.Ref != 5 ||
					info == nil || !bytes.Equal(info.TimerKey, tm.Key) || info.StartedEventId != 5 {
					h.t.Fatalf("timer row %v info %v", tm.Row, info)
				}
				if len(h.tasksOf(runID)) != 0 {
					h.t.Fatalf("a timer start scheduled a task")
				}
			}},
		{name: "cancel timer", before: func(h *harness) {
			h.completeWFT("wf", startTimer("t1", time.Minute))
			h.applyOK(signalCmd("wf", "s", ""))
		}, cmds: []*commandpb.Command{cancelTimer("t1")},
			want: []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTCompleted, evTimerStarted, evSignaled, evWTScheduled, evWTStarted, evWTCompleted, evTimerCanceled},
			check: func(h *harness, runID string, _ *Result) {
				a := h.history("wf")[9].GetTimerCanceledEventAttributes()
				if a.TimerId != "t1" || a.StartedEventId != 5 || a.WorkflowTaskCompletedEventId != 9 {
					h.t.Fatalf("canceled attributes %v", a)
				}
				if len(h.state("wf").Timers) != 0 {
					h.t.Fatalf("timer still in state")
				}
				h.wantNoRows(runID)
			}},
		{name: "start and cancel a timer in one task", cmds: []*commandpb.Command{startTimer("t1", time.Minute), cancelTimer("t1")},
			want:  []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTCompleted, evTimerStarted, evTimerCanceled},
			check: func(h *harness, runID string, _ *Result) { h.wantNoRows(runID) }},
		{name: "request cancel of a scheduled activity", before: func(h *harness) {
			h.completeWFT("wf", scheduleActivity("a1"))
			h.applyOK(signalCmd("wf", "s", ""))
		}, cmds: []*commandpb.Command{requestCancelActivity(5)},
			want: []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTCompleted, evActScheduled, evSignaled, evWTScheduled,
				evWTStarted, evWTCompleted, evActCancelReq, evActCanceled, evWTScheduled},
			check: func(h *harness, runID string, _ *Result) {
				evs := h.history("wf")
				a := evs[10].GetActivityTaskCanceledEventAttributes()
				if a.ScheduledEventId != 5 || a.LatestCancelRequestedEventId != 10 || a.StartedEventId != 0 {
					h.t.Fatalf("canceled attributes %v", a)
				}
				if len(h.state("wf").Activities) != 0 {
					h.t.Fatalf("activity still pending")
				}
				tasks := h.tasksOf(runID)
				if len(tasks) != 1 || tasks[0].Row.Kind != fsmpb.TaskKind_TASK_KIND_WORKFLOW {
					h.t.Fatalf("tasks %v", tasks)
				}
			}},
		{name: "request cancel of a started activity", before: func(h *harness) {
			h.completeWFT("wf", scheduleActivity("a1"))
			h.pollActivity("wf", 5)
			h.applyOK(signalCmd("wf", "s", ""))
		}, cmds: []*commandpb.Command{requestCancelActivity(5)},
			want: []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTCompleted, evActScheduled, evSignaled, evWTScheduled,
				evWTStarted, evWTCompleted, evActCancelReq},
			check: func(h *harness, runID string, _ *Result) {
				a := h.state("wf").Activities[5]
				if a == nil || !a.CancelRequested || a.CancelRequestedEventId != 10 {
					h.t.Fatalf("activity %v", a)
				}
				if h.state("wf").WorkflowTask != nil {
					h.t.Fatalf("a cancel request of a started activity scheduled a workflow task")
				}
			}},
		{name: "record marker", cmds: []*commandpb.Command{recordMarker("version")},
			want: []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTCompleted, evMarker},
			check: func(h *harness, runID string, _ *Result) {
				a := h.history("wf")[4].GetMarkerRecordedEventAttributes()
				if a.MarkerName != "version" || a.WorkflowTaskCompletedEventId != 4 || a.Details["data"] == nil {
					h.t.Fatalf("marker attributes %v", a)
				}
				if h.state("wf").WorkflowTask != nil {
					h.t.Fatalf("a marker scheduled a workflow task")
				}
			}},
		{name: "upsert search attributes", before: func(h *harness) {
			h.completeWFT("wf", upsertSA(map[string]string{"A": "1", "B": "2"}))
			h.applyOK(signalCmd("wf", "s", ""))
		}, cmds: []*commandpb.Command{upsertSA(map[string]string{"A": "", "C": "3"})},
			want: []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTCompleted, evUpsertSA, evSignaled, evWTScheduled,
				evWTStarted, evWTCompleted, evUpsertSA},
			check: func(h *harness, runID string, _ *Result) {
				got := h.state("wf").SearchAttributes.GetIndexedFields()
				if len(got) != 2 || string(got["B"].GetData()) != `"2"` || string(got["C"].GetData()) != `"3"` {
					h.t.Fatalf("search attributes %v", got)
				}
			}},
		{name: "force create new workflow task", before: func(h *harness) {}, cmds: nil,
			want: []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTCompleted, evWTScheduled}},
		{name: "complete workflow", before: func(h *harness) {
			h.completeWFT("wf", scheduleActivity("a1"), scheduleActivity("a2"), startTimer("t1", time.Hour))
			h.pollActivity("wf", 5)
			h.applyOK(signalCmd("wf", "s", ""))
		}, cmds: []*commandpb.Command{completeWF("result")},
			want: []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTCompleted, evActScheduled, evActScheduled, evTimerStarted,
				evSignaled, evWTScheduled, evWTStarted, evWTCompleted, evCompleted},
			check: func(h *harness, runID string, res *Result) {
				a := h.history("wf")[11].GetWorkflowExecutionCompletedEventAttributes()
				if a.WorkflowTaskCompletedEventId != 11 || a.Result == nil || res.RunID != runID {
					h.t.Fatalf("completed attributes %v", a)
				}
				h.wantClosed("wf", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)
				if h.liveRows() != 0 {
					h.t.Fatalf("rows left")
				}
			}},
		{name: "fail workflow", cmds: []*commandpb.Command{recordMarker("m"), failWF("bad")},
			want: []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTCompleted, evMarker, evFailed},
			check: func(h *harness, runID string, _ *Result) {
				if a := h.history("wf")[5].GetWorkflowExecutionFailedEventAttributes(); a.Failure.GetMessage() != "bad" {
					h.t.Fatalf("failed attributes %v", a)
				}
				h.wantClosed("wf", enumspb.WORKFLOW_EXECUTION_STATUS_FAILED)
			}},
		{name: "cancel workflow", cmds: []*commandpb.Command{cancelWF()},
			want: []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTCompleted, evCanceled},
			check: func(h *harness, runID string, _ *Result) {
				h.wantClosed("wf", enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED)
			}},
		{name: "many commands get dense ids", cmds: []*commandpb.Command{
			scheduleActivity("a1"), startTimer("t1", time.Minute), recordMarker("m"), scheduleActivity("a2"), upsertSA(map[string]string{"X": "y"}),
		}, want: []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTCompleted, evActScheduled, evTimerStarted, evMarker, evActScheduled, evUpsertSA},
			check: func(h *harness, runID string, _ *Result) {
				st := h.state("wf")
				if st.Activities[5] == nil || st.Activities[8] == nil || st.Timers["t1"].GetStartedEventId() != 6 {
					h.t.Fatalf("state %v", st)
				}
				if len(h.tasksOf(runID)) != 2 || len(h.timersOf(runID)) != 1 {
					h.t.Fatalf("rows: tasks %d timers %s", len(h.tasksOf(runID)), timerKinds(h.timersOf(runID)))
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			runID := h.start("wf")
			if tc.before != nil {
				tc.before(h)
			}
			wt := h.pollWFT("wf")
			h.advance(time.Second)
			req := &workflowservice.RespondWorkflowTaskCompletedRequest{Identity: "worker", Commands: tc.cmds,
				ForceCreateNewWorkflowTask: tc.name == "force create new workflow task"}
			res := h.applyOK(completeReqCmd(wt.Token, req))
			evs := h.wantEvents("wf", tc.want...)
			done := evs[wt.StartedEventID].GetWorkflowTaskCompletedEventAttributes()
			if done.GetScheduledEventId() != wt.Token.ScheduledEventId || done.StartedEventId != wt.StartedEventID || done.Identity != "worker" {
				t.Fatalf("completed attributes %v", done)
			}
			if st := h.state("wf"); st.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && st.WorkflowTask.GetStartedEventId() != 0 {
				t.Fatalf("workflow task still started")
			}
			for _, tm := range h.timersOf(runID) {
				if tm.Row.Kind == fsmpb.TimerKind_TIMER_KIND_WORKFLOW_TASK_START_TO_CLOSE {
					t.Fatalf("start-to-close timer of a completed workflow task left behind")
				}
			}
			// The token is spent.
			h.applyErr(completeCmd(wt.Token), ErrStaleTask)
			if tc.check != nil {
				tc.check(h, runID, res)
			}
		})
	}
}

func TestCompleteWorkflowTaskRejected(t *testing.T) {
	badAct := func(mod func(*commandpbSchedule)) *commandpb.Command { return scheduleActivity("x", mod) }
	tests := []struct {
		name  string
		setup func(h *harness)
		cmds  []*commandpb.Command
		cause enumspb.WorkflowTaskFailedCause
	}{
		{"activity without attributes", nil, []*commandpb.Command{{CommandType: enumspb.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK}},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES},
		{"activity without id", nil, []*commandpb.Command{badAct(func(a *commandpbSchedule) { a.ActivityId = "" })},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES},
		{"activity without type", nil, []*commandpb.Command{badAct(func(a *commandpbSchedule) { a.ActivityType = nil })},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES},
		{"activity without timeouts", nil, []*commandpb.Command{badAct(func(a *commandpbSchedule) { a.StartToCloseTimeout = nil })},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES},
		{"duplicate activity id in one task", nil, []*commandpb.Command{scheduleActivity("a"), scheduleActivity("a")},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES},
		{"activity id of a pending activity", func(h *harness) {
			h.completeWFT("wf", scheduleActivity("a"))
			h.applyOK(signalCmd("wf", "s", ""))
		}, []*commandpb.Command{scheduleActivity("a")}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES},
		{"timer without id", nil, []*commandpb.Command{startTimer("", time.Second)}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES},
		{"timer without duration", nil, []*commandpb.Command{startTimer("t", 0)}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES},
		{"duplicate timer id", nil, []*commandpb.Command{startTimer("t", time.Second), startTimer("t", time.Second)},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES},
		{"cancel unknown timer", nil, []*commandpb.Command{cancelTimer("nope")}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES},
		{"cancel unknown activity", nil, []*commandpb.Command{requestCancelActivity(42)},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES},
		{"marker without name", nil, []*commandpb.Command{recordMarker("")}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES},
		{"unsupported command", nil, []*commandpb.Command{{CommandType: enumspb.COMMAND_TYPE_UNSPECIFIED}},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND},
		{"valid commands before a bad one are not applied", nil,
			[]*commandpb.Command{scheduleActivity("ok"), startTimer("ok", time.Second), recordMarker("m"), cancelTimer("nope")},
			enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			runID := h.start("wf")
			if tc.setup != nil {
				tc.setup(h)
			}
			wt := h.pollWFT("wf")
			h.applyOK(signalCmd("wf", "buffered", "")) // flushed by the failure
			pending := len(h.state("wf").Activities)
			res := h.applyErr(completeCmd(wt.Token, tc.cmds...), ErrBadCommand)
			var bce *BadCommandError
			if !errors.As(res.Err, &bce) || bce.Cause != tc.cause || bce.Message == "" {
				t.Fatalf("error %#v, want cause %s", res.Err, tc.cause)
			}
			evs := h.history("wf")
			n := len(evs)
			if got := eventTypes(evs[n-3:]); got != typeNames([]enumspb.EventType{evWTFailed, evSignaled, evWTScheduled}) {
				t.Fatalf("history ends %s", got)
			}
			f := evs[n-3].GetWorkflowTaskFailedEventAttributes()
			if f.Cause != tc.cause || f.ScheduledEventId != wt.Token.ScheduledEventId || f.StartedEventId != wt.StartedEventID ||
				f.Failure.GetMessage() != bce.Message {
				t.Fatalf("failed attributes %v", f)
			}
			if a := evs[n-1].GetWorkflowTaskScheduledEventAttributes(); a.Attempt != 2 {
				t.Fatalf("retry attempt %d, want 2", a.Attempt)
			}
			st := h.state("wf")
			if len(st.Activities) != pending || len(st.Timers) != 0 || st.WorkflowTask.GetAttempt() != 2 {
				t.Fatalf("rejected commands changed the state: %v", st)
			}
			for _, e := range h.tasksOf(runID) {
				if e.Row.Kind == fsmpb.TaskKind_TASK_KIND_ACTIVITY && e.Row.ScheduledEventId > int64(wt.StartedEventID) {
					t.Fatalf("a rejected activity was dispatched")
				}
			}
			// The next attempt can be polled and completed.
			next := h.pollWFT("wf")
			if next.Attempt != 2 {
				t.Fatalf("attempt %d", next.Attempt)
			}
			h.applyOK(completeCmd(next.Token, completeWF("ok")))
			h.wantClosed("wf", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)
		})
	}
}

// TestCloseWithBufferedEvents: a close command cannot win over events that
// arrived while the task ran; the task fails with UNHANDLED_COMMAND and a new
// one delivers them.
func TestCloseWithBufferedEvents(t *testing.T) {
	tests := []*commandpb.Command{completeWF("r"), failWF("f"), cancelWF()}
	for _, closeCmd := range tests {
		t.Run("buffered signal/"+closeCmd.CommandType.String(), func(t *testing.T) {
			h := newHarness(t)
			runID := h.start("wf")
			wt := h.pollWFT("wf")
			h.applyOK(signalCmd("wf", "late", ""))
			res := h.apply(completeCmd(wt.Token, recordMarker("m"), closeCmd))
			var badCmd *BadCommandError
			if !errors.As(res.Err, &badCmd) || badCmd.Cause != enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND || badCmd.Message != "UnhandledCommand" {
				t.Fatalf("err %v, want the UnhandledCommand rejection", res.Err)
			}
			evs := h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTFailed, evSignaled, evWTScheduled)
			if c := evs[3].GetWorkflowTaskFailedEventAttributes().Cause; c != enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND {
				t.Fatalf("cause %s", c)
			}
			st := h.state("wf")
			if st.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING || len(st.BufferedEvents) != 0 || st.WorkflowTask.GetScheduledEventId() != 6 {
				t.Fatalf("state %v", st)
			}
			if tasks := h.tasksOf(runID); len(tasks) != 1 || tasks[0].Row.ScheduledEventId != 6 {
				t.Fatalf("tasks %v", tasks)
			}
			// Now the workflow has seen the signal and may close.
			h.completeWFT("wf", closeCmd)
			if h.state("wf").Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				t.Fatalf("workflow did not close")
			}
			h.wantNoRows(runID)
		})
	}
}

// TestCloseWithAdmittedUpdate: an update admitted while the task ran has not
// reached the workflow (it rides on the next task); as Temporal, a close
// command cannot win over it either. The next task carries it and may close.
func TestCloseWithAdmittedUpdate(t *testing.T) {
	h := newHarness(t)
	h.start("wf")
	wt := h.pollWFT("wf")
	h.applyOK(&fsmpb.Command{Op: &fsmpb.Command_AdmitUpdate{AdmitUpdate: &fsmpb.AdmitUpdate{
		Namespace: DefaultNamespace, WorkflowId: "wf", UpdateId: "u1"}}})
	res := h.apply(completeCmd(wt.Token, completeWF("r")))
	var badCmd *BadCommandError
	if !errors.As(res.Err, &badCmd) || badCmd.Cause != enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND {
		t.Fatalf("err %v, want the UnhandledCommand rejection", res.Err)
	}
	h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTFailed, evWTScheduled)
	h.completeWFT("wf", completeWF("r")) // its start delivered u1
	h.wantClosed("wf", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)
}

func TestCompleteWorkflowTaskStale(t *testing.T) {
	tests := []struct {
		name  string
		token func(h *harness, wt *StartedWorkflowTask) *fsmpb.TaskToken
	}{
		{"wrong attempt", func(h *harness, wt *StartedWorkflowTask) *fsmpb.TaskToken {
			tok := proto.Clone(wt.Token).(*fsmpb.TaskToken)
			tok.Attempt++
			return tok
		}},
		{"wrong started id", func(h *harness, wt *StartedWorkflowTask) *fsmpb.TaskToken {
			tok := proto.Clone(wt.Token).(*fsmpb.TaskToken)
			tok.StartedEventId++
			return tok
		}},
		{"wrong run", func(h *harness, wt *StartedWorkflowTask) *fsmpb.TaskToken {
			tok := proto.Clone(wt.Token).(*fsmpb.TaskToken)
			tok.RunId = "other"
			return tok
		}},
		{"timed out task", func(h *harness, wt *StartedWorkflowTask) *fsmpb.TaskToken {
			h.advance(DefaultWorkflowTaskTimeout)
			h.applyOK(fireCmd(h.timerOfKind(wt.Token.RunId, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_TASK_START_TO_CLOSE).Key))
			return wt.Token
		}},
		{"closed workflow", func(h *harness, wt *StartedWorkflowTask) *fsmpb.TaskToken {
			h.applyOK(terminateCmd("wf", "x"))
			return wt.Token
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.start("wf")
			wt := h.pollWFT("wf")
			tok := tc.token(h, wt)
			before := h.f.Digest()
			h.applyErr(completeCmd(tok, completeWF("x")), ErrStaleTask)
			h.applyErr(failWFTCmd(tok, enumspb.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE), ErrStaleTask)
			if h.f.Digest() != before {
				t.Fatalf("a stale completion changed the state")
			}
		})
	}
}

func TestFailWorkflowTask(t *testing.T) {
	tests := []struct {
		name   string
		during func(h *harness)
		want   []enumspb.EventType
	}{
		{"plain", func(h *harness) {},
			[]enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTFailed, evWTScheduled}},
		{"flushes buffered events", func(h *harness) { h.applyOK(signalCmd("wf", "s", "")) },
			[]enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTFailed, evSignaled, evWTScheduled}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			runID := h.start("wf")
			wt := h.pollWFT("wf")
			tc.during(h)
			h.applyOK(failWFTCmd(wt.Token, enumspb.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE))
			evs := h.wantEvents("wf", tc.want...)
			f := evs[3].GetWorkflowTaskFailedEventAttributes()
			if f.Cause != enumspb.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE || f.Failure.GetMessage() != "workflow task panicked" ||
				f.ScheduledEventId != 2 || f.StartedEventId != 3 || f.Identity != "worker" {
				t.Fatalf("failed attributes %v", f)
			}
			last := evs[len(evs)-1]
			if last.GetWorkflowTaskScheduledEventAttributes().Attempt != 2 {
				t.Fatalf("next attempt %v", last)
			}
			tasks := h.tasksOf(runID)
			if len(tasks) != 1 || tasks[0].Row.Attempt != 2 || tasks[0].Row.ScheduledEventId != last.EventId {
				t.Fatalf("tasks %v", tasks)
			}
			if timers := h.timersOf(runID); len(timers) != 0 {
				t.Fatalf("timers left %s", timerKinds(timers))
			}
			// Attempts keep counting; each writes Scheduled/Started (no
			// transient events yet).
			wt2 := h.pollWFT("wf")
			h.applyOK(failWFTCmd(wt2.Token, enumspb.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE))
			if a := h.state("wf").WorkflowTask.GetAttempt(); a != 3 {
				t.Fatalf("attempt %d, want 3", a)
			}
			h.applyErr(failWFTCmd(wt.Token, enumspb.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE), ErrStaleTask)
		})
	}
}

// TestRequestCancelActivityTwice: two cancel requests for one activity in
// one completion (or a second request after the first) are a bad command,
// as in Temporal; they must never reach apply with the activity gone.
func TestRequestCancelActivityTwice(t *testing.T) {
	tests := []struct {
		name    string
		started bool
		twice   bool // both requests in the same completion
	}{
		{"scheduled, same task", false, true},
		{"started, same task", true, true},
		{"started, later task", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.start("wf")
			h.completeWFT("wf", scheduleActivity("a1"))
			if tc.started {
				h.pollActivity("wf", 5)
			}
			h.applyOK(signalCmd("wf", "s", ""))
			if !tc.twice {
				h.completeWFT("wf", requestCancelActivity(5))
				h.applyOK(signalCmd("wf", "s", ""))
			}
			wt := h.pollWFT("wf")
			cmds := []*commandpb.Command{requestCancelActivity(5)}
			if tc.twice {
				cmds = append(cmds, requestCancelActivity(5))
			}
			before := len(h.history("wf"))
			res := h.applyErr(completeCmd(wt.Token, cmds...), ErrBadCommand)
			var bce *BadCommandError
			if !errors.As(res.Err, &bce) || bce.Cause != enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES {
				t.Fatalf("error %v", res.Err)
			}
			evs := h.history("wf")
			if got := eventTypes(evs[before:]); got != typeNames([]enumspb.EventType{evWTFailed, evWTScheduled}) {
				t.Fatalf("events after the rejected task %s", got)
			}
		})
	}
}

// TestReturnNewWorkflowTask: a completion with return_new_workflow_task
// that makes a new workflow task (a heartbeat: force_create_new_workflow_task,
// as the SDK sends while a local activity outlives the task timeout; or
// events buffered while the task ran) gets that task back, started in the
// same transaction, answered as sticky, and no task row is queued for it.
// Without the flag the task goes to the queue as before.
func TestReturnNewWorkflowTask(t *testing.T) {
	for _, tc := range []struct {
		name     string
		force    bool
		buffered bool
		want     []enumspb.EventType
	}{
		{"heartbeat", true, false, []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTCompleted, evWTScheduled, evWTStarted}},
		{"buffered signal", false, true, []enumspb.EventType{evStarted, evWTScheduled, evWTStarted, evWTCompleted, evSignaled, evWTScheduled, evWTStarted}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			runID := h.start("wf")
			wt := h.pollWFT("wf")
			if tc.buffered {
				h.applyOK(signalCmd("wf", "s", ""))
			}
			res := h.applyOK(completeReqCmd(wt.Token, &workflowservice.RespondWorkflowTaskCompletedRequest{
				Namespace: DefaultNamespace, Identity: "worker", ForceCreateNewWorkflowTask: tc.force, ReturnNewWorkflowTask: true,
			}))
			next := res.WorkflowTask
			if next == nil {
				t.Fatal("no workflow task returned")
			}
			h.wantEvents("wf", tc.want...)
			if !next.Sticky || next.PreviousStartedEventID != wt.StartedEventID || next.StartedEventID != int64(len(tc.want)) ||
				next.Token.StartedEventId != next.StartedEventID || next.Token.ScheduledEventId != next.StartedEventID-1 {
				t.Fatalf("returned task %+v (previous started %d)", next, wt.StartedEventID)
			}
			if tasks := h.tasksOf(runID); len(tasks) != 0 {
				t.Fatalf("returned task also queued: %v", tasks)
			}
			// The returned task completes like a polled one.
			h.applyOK(completeCmd(next.Token, completeWF("done")))
			if st := h.state("wf").Status; st != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
				t.Fatalf("status %v", st)
			}
		})
	}
	t.Run("not asked", func(t *testing.T) {
		h := newHarness(t)
		runID := h.start("wf")
		wt := h.pollWFT("wf")
		res := h.applyOK(completeReqCmd(wt.Token, &workflowservice.RespondWorkflowTaskCompletedRequest{
			Namespace: DefaultNamespace, Identity: "worker", ForceCreateNewWorkflowTask: true,
		}))
		if res.WorkflowTask != nil {
			t.Fatal("task returned without return_new_workflow_task")
		}
		if tasks := h.tasksOf(runID); len(tasks) != 1 {
			t.Fatalf("tasks %v", tasks)
		}
	})
}

// TestResultEventsFollowTheBatch: the outcome events of commands acting on
// other runs (child started or failed, external signal or cancel done or
// failed) come after every event of the completion's commands, as Temporal
// writes them, so the command events keep the ids the SDK numbered
// contiguously from WorkflowTaskCompleted. A marker after each proves it.
func TestResultEventsFollowTheBatch(t *testing.T) {
	signal := func(wfID string) *commandpb.Command {
		return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_SignalExternalWorkflowExecutionCommandAttributes{SignalExternalWorkflowExecutionCommandAttributes: &commandpb.SignalExternalWorkflowExecutionCommandAttributes{
				Execution: wfExec(wfID, ""), SignalName: "s"}}}
	}
	cancel := func(wfID string) *commandpb.Command {
		return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_RequestCancelExternalWorkflowExecutionCommandAttributes{RequestCancelExternalWorkflowExecutionCommandAttributes: &commandpb.RequestCancelExternalWorkflowExecutionCommandAttributes{
				WorkflowId: wfID}}}
	}
	child := func(wfID string) *commandpb.Command {
		return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_StartChildWorkflowExecutionCommandAttributes{StartChildWorkflowExecutionCommandAttributes: &commandpb.StartChildWorkflowExecutionCommandAttributes{
				WorkflowId: wfID, WorkflowType: &commonpb.WorkflowType{Name: "child"}}}}
	}
	h := newHarness(t)
	h.start("other")
	h.start("wf")
	wt := h.pollWFT("wf")
	h.applyOK(completeCmd(wt.Token,
		signal("other"), recordMarker("m1"), signal("missing"), recordMarker("m2"),
		cancel("other"), recordMarker("m3"), cancel("missing"), recordMarker("m4"),
		child("kid"), recordMarker("m5"), child("other"), recordMarker("m6")))
	h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted,
		enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED, evMarker,
		enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED, evMarker,
		enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED, evMarker,
		enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED, evMarker,
		enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED, evMarker,
		enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED, evMarker,
		enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
		enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
		enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
		enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
		enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
		enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED,
		evWTScheduled)
	st := h.state("wf")
	if ci := st.Children[13]; ci == nil || ci.StartedEventId != 21 {
		t.Fatalf("child info %v, want started by event 21", ci)
	}
}

// updateOrder records, per hint, whether update progress or a history append
// came: a waiter woken by the history must find the update's outcome known.
type updateOrder struct {
	hintModel
	seen []string
}

func (u *updateOrder) UpdatesAdvanced(ns, wfID, runID string, outcomes []UpdateOutcome) {
	for _, o := range outcomes {
		u.seen = append(u.seen, "update "+o.UpdateID+" "+o.Stage.String())
	}
}
func (u *updateOrder) HistoryAppended(ns, wfID, runID string) {
	u.hintModel.HistoryAppended(ns, wfID, runID)
	u.seen = append(u.seen, "history")
}

// TestRejectionWithClose: the worker rejects an update (no handler) in the
// task whose command completes the workflow. The rejection writes no event
// but still reaches the update's caller (Temporal applies the messages no
// command sequenced after the commands, even once the run closed), and it
// is hinted before the run's history append.
func TestRejectionWithClose(t *testing.T) {
	h := newHarness(t)
	h.start("wf")
	h.applyOK(&fsmpb.Command{Op: &fsmpb.Command_AdmitUpdate{AdmitUpdate: &fsmpb.AdmitUpdate{
		Namespace: DefaultNamespace, WorkflowId: "wf", UpdateId: "u1"}}})
	wt := h.pollWFT("wf")
	body, err := anypb.New(&updatepb.Rejection{RejectedRequestMessageId: "u1/request",
		Failure: &failurepb.Failure{Message: "unknown update name"}})
	if err != nil {
		t.Fatal(err)
	}
	m := &updateOrder{hintModel: *newHintModel(t, h.f)}
	h.f.SetHints(m)
	m.want = h.index + 1
	res := h.applyOK(completeReqCmd(wt.Token, &workflowservice.RespondWorkflowTaskCompletedRequest{
		Namespace: DefaultNamespace, Identity: "worker", Commands: []*commandpb.Command{completeWF("r")},
		Messages: []*protocolpb.Message{{Id: "u1/reject", ProtocolInstanceId: "u1", Body: body}},
	}))
	h.f.SetHints(nil)
	h.wantClosed("wf", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)
	if len(res.Updates) != 1 || res.Updates[0].UpdateID != "u1" ||
		res.Updates[0].Outcome.GetFailure().GetMessage() != "unknown update name" {
		t.Fatalf("updates %+v, want u1's rejection", res.Updates)
	}
	rejected := "update u1 " + enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED.String()
	if len(m.seen) < 2 || m.seen[0] != rejected || slices.Index(m.seen[1:], rejected) >= 0 ||
		!slices.Contains(m.seen, "history") {
		t.Fatalf("hints %q, want %q once, before every history hint", m.seen, rejected)
	}
}
