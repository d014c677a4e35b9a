package fsm

import (
	"bytes"
	"errors"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// fireKind advances the clock to run runID's only timer of kind, fires it
// and returns the fired row.
func (h *harness) fireKind(runID string, kind fsmpb.TimerKind) timerRow {
	h.t.Helper()
	r := h.timerOfKind(runID, kind)
	if r.Row.FireAt > h.now {
		h.now = r.Row.FireAt
	}
	res := h.applyOK(fireCmd(r.Key))
	if len(res.NotDue) != 0 {
		h.t.Fatalf("due timer reported not due")
	}
	for _, left := range h.f.ScanTimers() {
		if bytes.Equal(left.Key, r.Key) {
			h.t.Fatalf("fired timer row still stored")
		}
	}
	return r
}

// onlyRunTimeout is what timerKinds shows for a TestFireTimers run that
// holds no timer but its run timeout.
const onlyRunTimeout = "[WORKFLOW_RUN_TIMEOUT@86400000]"

func TestFireTimers(t *testing.T) {
	tests := []struct {
		name string
		run  func(h *harness, runID string)
	}{
		{"user timer: not due, then due, then gone", func(h *harness, runID string) {
			h.completeWFT("wf", startTimer("t1", time.Minute))
			tm := h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_USER)
			before := h.f.Digest()
			h.advance(time.Minute - time.Nanosecond)
			res := h.applyOK(fireCmd(tm.Key))
			if len(res.NotDue) != 1 || !bytes.Equal(res.NotDue[0], tm.Key) || h.f.Digest() != before {
				h.t.Fatalf("early fire: NotDue %x, changed %v", res.NotDue, h.f.Digest() != before)
			}
			h.advance(time.Nanosecond)
			h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_USER)
			evs := h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evTimerStarted, evTimerFired, evWTScheduled)
			if a := evs[5].GetTimerFiredEventAttributes(); a.TimerId != "t1" || a.StartedEventId != 5 {
				h.t.Fatalf("fired attributes %v", a)
			}
			if len(h.state("wf").Timers) != 0 {
				h.t.Fatalf("fired timer still in state")
			}
			before = h.f.Digest()
			h.applyOK(fireCmd(tm.Key)) // fired already: a no-op
			if h.f.Digest() != before {
				h.t.Fatalf("refiring changed the state")
			}
		}},
		{"user timer fires while the task runs, then is canceled", func(h *harness, runID string) {
			h.completeWFT("wf", startTimer("t1", time.Minute))
			h.applyOK(signalCmd("wf", "s", ""))
			wt := h.pollWFT("wf")
			h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_USER)
			if n := len(h.state("wf").BufferedEvents); n != 1 {
				h.t.Fatalf("%d buffered events", n)
			}
			h.applyOK(completeCmd(wt.Token, cancelTimer("t1")))
			evs := h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evTimerStarted, evSignaled, evWTScheduled,
				evWTStarted, evWTCompleted, evTimerCanceled)
			if a := evs[9].GetTimerCanceledEventAttributes(); a.StartedEventId != 5 {
				h.t.Fatalf("canceled attributes %v", a)
			}
			if st := h.state("wf"); st.WorkflowTask != nil || len(st.BufferedEvents) != 0 {
				h.t.Fatalf("state %v", st)
			}
		}},
		{"user timer fires while the task runs, then is delivered", func(h *harness, runID string) {
			h.completeWFT("wf", startTimer("t1", time.Minute))
			h.applyOK(signalCmd("wf", "s", ""))
			wt := h.pollWFT("wf")
			h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_USER)
			h.applyOK(completeCmd(wt.Token))
			h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evTimerStarted, evSignaled, evWTScheduled,
				evWTStarted, evWTCompleted, evTimerFired, evWTScheduled)
		}},
		{"workflow task start-to-close", func(h *harness, runID string) {
			wt := h.pollWFT("wf")
			h.applyOK(signalCmd("wf", "s", ""))
			fired := h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_TASK_START_TO_CLOSE)
			if fired.Row.FireAt != wt.StartedTime+int64(DefaultWorkflowTaskTimeout) {
				h.t.Fatalf("timer at %d", fired.Row.FireAt-wt.StartedTime)
			}
			evs := h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTTimedOut, evSignaled, evWTScheduled)
			if a := evs[3].GetWorkflowTaskTimedOutEventAttributes(); a.ScheduledEventId != 2 || a.StartedEventId != 3 ||
				a.TimeoutType != enumspb.TIMEOUT_TYPE_START_TO_CLOSE {
				h.t.Fatalf("timed out attributes %v", a)
			}
			if a := evs[5].GetWorkflowTaskScheduledEventAttributes(); a.Attempt != 2 {
				h.t.Fatalf("attempt %d", a.Attempt)
			}
			if tasks := h.tasksOf(runID); len(tasks) != 1 || tasks[0].Row.Attempt != 2 {
				h.t.Fatalf("tasks %v", tasks)
			}
			if got := timerKinds(h.timersOf(runID)); got != onlyRunTimeout {
				h.t.Fatalf("timers %s", got)
			}
			h.applyErr(completeCmd(wt.Token), ErrStaleTask)
		}},
		{"activity schedule-to-start", func(h *harness, runID string) {
			h.completeWFT("wf", scheduleActivity("a1", func(a *commandpbSchedule) { a.ScheduleToStartTimeout = durp(5 * time.Second) }))
			h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_START)
			evs := h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evActScheduled, evActTimedOut, evWTScheduled)
			a := evs[5].GetActivityTaskTimedOutEventAttributes()
			if a.StartedEventId != 0 || a.ScheduledEventId != 5 || a.RetryState != enumspb.RETRY_STATE_TIMEOUT ||
				a.Failure.GetTimeoutFailureInfo().GetTimeoutType() != enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START {
				h.t.Fatalf("timed out attributes %v", a)
			}
			if len(h.tasksOf(runID)) != 1 || timerKinds(h.timersOf(runID)) != onlyRunTimeout {
				h.t.Fatalf("rows left: tasks %v timers %s", h.tasksOf(runID), timerKinds(h.timersOf(runID)))
			}
		}},
		{"activity schedule-to-close after start", func(h *harness, runID string) {
			h.completeWFT("wf", scheduleActivity("a1", func(a *commandpbSchedule) { a.ScheduleToCloseTimeout = durp(20 * time.Second) }))
			h.pollActivity("wf", 5)
			h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_CLOSE)
			ev := wantActivityClosed(h, runID, evActTimedOut, 1)
			if tt := ev.GetActivityTaskTimedOutEventAttributes().Failure.GetTimeoutFailureInfo().GetTimeoutType(); tt != enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE {
				h.t.Fatalf("timeout type %s", tt)
			}
		}},
		{"activity schedule-to-close during retry backoff", func(h *harness, runID string) {
			h.completeWFT("wf", scheduleActivity("a1", retryPolicy(0), func(a *commandpbSchedule) {
				a.ScheduleToCloseTimeout = durp(time.Minute)
				a.RetryPolicy.InitialInterval = durp(10 * time.Second)
			}))
			at := h.pollActivity("wf", 5)
			h.applyOK(activityResultCmd(at.Token, failed(appFailure("Flaky", false))))
			h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_RETRY)
			h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_CLOSE)
			evs := h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evActScheduled, evActTimedOut, evWTScheduled)
			a := evs[5].GetActivityTaskTimedOutEventAttributes()
			if a.StartedEventId != 0 || a.Failure.GetCause().GetMessage() != "boom Flaky" {
				h.t.Fatalf("timed out attributes %v", a)
			}
			if len(h.tasksOf(runID)) != 1 || timerKinds(h.timersOf(runID)) != onlyRunTimeout {
				h.t.Fatalf("rows left: tasks %v timers %s", h.tasksOf(runID), timerKinds(h.timersOf(runID)))
			}
		}},
		{"activity start-to-close, no retries left", func(h *harness, runID string) {
			h.completeWFT("wf", scheduleActivity("a1", retryPolicy(1)))
			h.pollActivity("wf", 5)
			h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_START_TO_CLOSE)
			ev := wantActivityClosed(h, runID, evActTimedOut, 1)
			a := ev.GetActivityTaskTimedOutEventAttributes()
			if a.RetryState != enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED ||
				a.Failure.GetTimeoutFailureInfo().GetTimeoutType() != enumspb.TIMEOUT_TYPE_START_TO_CLOSE {
				h.t.Fatalf("timed out attributes %v", a)
			}
		}},
		{"activity start-to-close retries", func(h *harness, runID string) {
			h.completeWFT("wf", scheduleActivity("a1", retryPolicy(0)))
			before := h.history("wf")
			h.pollActivity("wf", 5)
			h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_START_TO_CLOSE)
			if len(h.history("wf")) != len(before) {
				h.t.Fatalf("retried timeout wrote events")
			}
			a := h.state("wf").Activities[5]
			if a.Attempt != 2 || a.LastFailure.GetTimeoutFailureInfo() == nil {
				h.t.Fatalf("activity %v", a)
			}
			h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_RETRY)
			if tasks := h.tasksOf(runID); len(tasks) != 1 || tasks[0].Row.Attempt != 2 {
				h.t.Fatalf("tasks %v", tasks)
			}
		}},
		{"activity heartbeat: re-armed, then timed out", func(h *harness, runID string) {
			h.completeWFT("wf", scheduleActivity("a1", retryPolicy(1), func(a *commandpbSchedule) { a.HeartbeatTimeout = durp(2 * time.Second) }))
			at := h.pollActivity("wf", 5)
			started := h.now
			h.advance(time.Second)
			h.applyOK(heartbeatCmd(at.Token, "p"))
			h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_HEARTBEAT)
			if r := h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_HEARTBEAT); r.Row.FireAt != started+int64(3*time.Second) {
				h.t.Fatalf("re-armed heartbeat timer at %d", r.Row.FireAt-started)
			}
			// start-to-close, schedule-to-close (the run timeout) and heartbeat
			if len(h.state("wf").Activities[5].TimerKeys) != 3 {
				h.t.Fatalf("timer keys %d", len(h.state("wf").Activities[5].TimerKeys))
			}
			h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evActScheduled)
			h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_HEARTBEAT)
			ev := wantActivityClosed(h, runID, evActTimedOut, 1)
			f := ev.GetActivityTaskTimedOutEventAttributes().Failure
			if f.GetTimeoutFailureInfo().GetTimeoutType() != enumspb.TIMEOUT_TYPE_HEARTBEAT || f.GetTimeoutFailureInfo().GetLastHeartbeatDetails() == nil {
				h.t.Fatalf("failure %v", f)
			}
		}},
		{"workflow run timeout", func(h *harness, runID string) {
			h.completeWFT("wf", scheduleActivity("a1"), startTimer("t1", time.Hour))
			h.pollActivity("wf", 5)
			h.applyOK(signalCmd("wf", "s", ""))
			h.pollWFT("wf")
			h.applyOK(signalCmd("wf", "s2", ""))
			h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_RUN_TIMEOUT)
			evs := h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evActScheduled, evTimerStarted, evSignaled,
				evWTScheduled, evWTStarted, evWTFailed, evSignaled, evTimedOut)
			if c := evs[9].GetWorkflowTaskFailedEventAttributes().Cause; c != enumspb.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND {
				h.t.Fatalf("cause %s", c)
			}
			if s := evs[11].GetWorkflowExecutionTimedOutEventAttributes().RetryState; s != enumspb.RETRY_STATE_TIMEOUT {
				h.t.Fatalf("retry state %s", s)
			}
			h.wantClosed("wf", enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT)
			if h.liveRows() != 0 {
				h.t.Fatalf("rows left")
			}
		}},
		{"workflow execution timeout", func(h *harness, runID string) {
			h.applyOK(terminateCmd("wf", "replace"))
			runID = h.start("wf", func(r *workflowservice.StartWorkflowExecutionRequest) {
				r.RequestId = "second"
				r.WorkflowRunTimeout = durp(time.Hour)
				r.WorkflowExecutionTimeout = durp(2 * time.Hour)
			})
			// Fire the execution timer alone (as if the run timer's proposal
			// were still in flight).
			h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_EXECUTION_TIMEOUT)
			h.wantEvents("wf", evStarted, evWTScheduled, evTimedOut)
			h.wantClosed("wf", enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT)
		}},
		{"sticky workflow task schedule-to-start", func(h *harness, runID string) {
			wt := h.pollWFT("wf")
			h.applyOK(completeReqCmd(wt.Token, &workflowservice.RespondWorkflowTaskCompletedRequest{
				Identity: "worker", StickyAttributes: stickyAttrs("worker-1"),
			}))
			h.applyOK(signalCmd("wf", "s", ""))
			st := h.state("wf")
			tasks := h.tasksOf(runID)
			if !st.WorkflowTask.GetSticky() || len(tasks) != 1 || tasks[0].Row.TaskQueue != "worker-1" {
				h.t.Fatalf("workflow task %v, tasks %v", st.WorkflowTask, tasks)
			}
			fired := h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_TASK_SCHEDULE_TO_START)
			if fired.Row.FireAt != st.WorkflowTask.ScheduledTime+int64(5*time.Second) {
				h.t.Fatalf("sticky timer at %d", fired.Row.FireAt-st.WorkflowTask.ScheduledTime)
			}
			evs := h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evSignaled, evWTScheduled, evWTTimedOut, evWTScheduled)
			if a := evs[6].GetWorkflowTaskTimedOutEventAttributes(); a.TimeoutType != enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START || a.ScheduledEventId != 6 {
				h.t.Fatalf("timed out attributes %v", a)
			}
			if q := evs[7].GetWorkflowTaskScheduledEventAttributes().GetTaskQueue(); q.GetName() != "tq" || q.GetKind() != enumspb.TASK_QUEUE_KIND_NORMAL {
				h.t.Fatalf("fallback queue %v", q)
			}
			if tasks := h.tasksOf(runID); len(tasks) != 1 || tasks[0].Row.TaskQueue != "tq" {
				h.t.Fatalf("tasks after fallback %v", tasks)
			}
			if st := h.state("wf"); st.StickyTaskQueue != "" || st.WorkflowTask.GetSticky() {
				h.t.Fatalf("sticky affinity kept: %v", st)
			}
		}},
		{"workflow start delay (backoff)", func(h *harness, runID string) {
			delayed := h.start("delayed", func(r *workflowservice.StartWorkflowExecutionRequest) {
				r.RequestId = "delayed"
				r.WorkflowStartDelay = durp(time.Minute)
			})
			h.wantEvents("delayed", evStarted)
			if len(h.tasksOf(delayed)) != 0 {
				h.t.Fatalf("a delayed start scheduled a task")
			}
			h.fireKind(delayed, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_BACKOFF)
			h.wantEvents("delayed", evStarted, evWTScheduled)
			if tasks := h.tasksOf(delayed); len(tasks) != 1 || tasks[0].Row.Kind != fsmpb.TaskKind_TASK_KIND_WORKFLOW {
				h.t.Fatalf("tasks %v", tasks)
			}
		}},
		{"retention deletes the closed run", func(h *harness, runID string) {
			h.completeWFT("wf", completeWF("done"))
			h.wantClosed("wf", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)
			h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_RETENTION)
			if _, err := h.f.GetState(DefaultNamespace, "wf", ""); !errors.Is(err, ErrWorkflowNotFound) {
				h.t.Fatalf("current run still found: %v", err)
			}
			if _, err := h.f.GetState(DefaultNamespace, "wf", runID); !errors.Is(err, ErrWorkflowNotFound) {
				h.t.Fatalf("run still found: %v", err)
			}
			if evs, _ := h.f.ReadHistory(DefaultNamespace, "wf", runID, 1, 0, 100); len(evs) != 0 {
				h.t.Fatalf("%d history events left", len(evs))
			}
			if len(h.timersOf(runID))+len(h.tasksOf(runID)) != 0 {
				h.t.Fatalf("rows left")
			}
			// The start request id is forgotten with the run.
			if res := h.applyOK(startCmd("run-again", startReq("wf"))); !res.Started || res.RunID != "run-again" {
				h.t.Fatalf("restart %+v", res)
			}
		}},
		{"several keys in one command", func(h *harness, runID string) {
			h.completeWFT("wf", startTimer("soon", time.Second), startTimer("late", time.Hour))
			soon, late := h.state("wf").Timers["soon"].TimerKey, h.state("wf").Timers["late"].TimerKey
			h.advance(time.Second)
			res := h.applyOK(fireCmd(late, soon, soon, timerKey(h.now, 999, 1)))
			if len(res.NotDue) != 1 || !bytes.Equal(res.NotDue[0], late) {
				h.t.Fatalf("NotDue %x", res.NotDue)
			}
			h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evTimerStarted, evTimerStarted, evTimerFired, evWTScheduled)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			runID := h.start("wf", func(r *workflowservice.StartWorkflowExecutionRequest) { r.WorkflowRunTimeout = durp(24 * time.Hour) })
			tc.run(h, runID)
		})
	}
}

// injectTimer writes a timer row directly, as a leftover whose owner moved
// on would be, and returns its key.
func injectTimer(h *harness, row *fsmpb.TimerRow) []byte {
	h.t.Helper()
	row.FireAt = h.now
	key := timerKey(row.FireAt, 1<<40, uint32(len(h.f.ScanTimers())+1))
	if err := h.f.db.Set(key, mustMarshal(row), nil); err != nil {
		h.t.Fatal(err)
	}
	return key
}

// TestFireStaleTimers: firing re-validates; a row whose owner moved on is
// deleted and changes nothing else.
func TestFireStaleTimers(t *testing.T) {
	tests := []struct {
		name string
		row  func(runID string) *fsmpb.TimerRow
	}{
		{"user timer of another start", func(runID string) *fsmpb.TimerRow {
			return &fsmpb.TimerRow{Kind: fsmpb.TimerKind_TIMER_KIND_USER, RunId: runID, TimerId: "t1", Ref: 4}
		}},
		{"unknown user timer", func(runID string) *fsmpb.TimerRow {
			return &fsmpb.TimerRow{Kind: fsmpb.TimerKind_TIMER_KIND_USER, RunId: runID, TimerId: "nope", Ref: 5}
		}},
		{"workflow task timer of an earlier attempt", func(runID string) *fsmpb.TimerRow {
			return &fsmpb.TimerRow{Kind: fsmpb.TimerKind_TIMER_KIND_WORKFLOW_TASK_START_TO_CLOSE, RunId: runID, Ref: 8, Attempt: 7}
		}},
		{"workflow task timer of an earlier task", func(runID string) *fsmpb.TimerRow {
			return &fsmpb.TimerRow{Kind: fsmpb.TimerKind_TIMER_KIND_WORKFLOW_TASK_START_TO_CLOSE, RunId: runID, Ref: 2, Attempt: 1}
		}},
		{"activity timer of an unknown activity", func(runID string) *fsmpb.TimerRow {
			return &fsmpb.TimerRow{Kind: fsmpb.TimerKind_TIMER_KIND_ACTIVITY_START_TO_CLOSE, RunId: runID, Ref: 77, Attempt: 1}
		}},
		{"start-to-close of an earlier attempt", func(runID string) *fsmpb.TimerRow {
			return &fsmpb.TimerRow{Kind: fsmpb.TimerKind_TIMER_KIND_ACTIVITY_START_TO_CLOSE, RunId: runID, Ref: 6, Attempt: 0}
		}},
		{"heartbeat of an earlier attempt", func(runID string) *fsmpb.TimerRow {
			return &fsmpb.TimerRow{Kind: fsmpb.TimerKind_TIMER_KIND_ACTIVITY_HEARTBEAT, RunId: runID, Ref: 6, Attempt: 0}
		}},
		{"schedule-to-start of a started activity", func(runID string) *fsmpb.TimerRow {
			return &fsmpb.TimerRow{Kind: fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_START, RunId: runID, Ref: 6, Attempt: 1}
		}},
		{"retry timer without a pending retry", func(runID string) *fsmpb.TimerRow {
			return &fsmpb.TimerRow{Kind: fsmpb.TimerKind_TIMER_KIND_ACTIVITY_RETRY, RunId: runID, Ref: 6, Attempt: 1}
		}},
		{"any timer of another run", func(runID string) *fsmpb.TimerRow {
			return &fsmpb.TimerRow{Kind: fsmpb.TimerKind_TIMER_KIND_WORKFLOW_RUN_TIMEOUT, RunId: "closed-or-unknown"}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			runID := h.start("wf")
			h.completeWFT("wf", startTimer("t1", time.Hour), scheduleActivity("a1", func(a *commandpbSchedule) { a.HeartbeatTimeout = durp(time.Minute) }))
			h.pollActivity("wf", 6)
			h.applyOK(signalCmd("wf", "s", ""))
			h.pollWFT("wf") // workflow task 8, attempt 1, started
			stBefore, evsBefore := h.state("wf"), len(h.history("wf"))
			digest := h.f.Digest()
			row := tc.row(runID)
			row.Namespace, row.WorkflowId = DefaultNamespace, "wf"
			key := injectTimer(h, row)
			h.applyOK(fireCmd(key))
			if h.f.Digest() != digest {
				t.Fatalf("a stale timer changed the state")
			}
			if len(h.history("wf")) != evsBefore || h.state("wf").NextEventId != stBefore.NextEventId {
				t.Fatalf("a stale timer wrote events")
			}
		})
	}
}
