package fsm

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/proto"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// activityHarness starts "wf", schedules activity "a1" (scheduled event 5)
// with the given options and starts its first attempt.
func activityHarness(t *testing.T, mods ...func(*commandpbSchedule)) (*harness, string, *StartedActivityTask) {
	h := newHarness(t)
	runID := h.start("wf")
	h.completeWFT("wf", scheduleActivity("a1", mods...))
	h.advance(time.Second)
	return h, runID, h.pollActivity("wf", 5)
}

func retryPolicy(maxAttempts int32, nonRetryable ...string) func(*commandpbSchedule) {
	return func(a *commandpbSchedule) {
		a.RetryPolicy = &commonpb.RetryPolicy{InitialInterval: durp(time.Second), BackoffCoefficient: 2,
			MaximumAttempts: maxAttempts, NonRetryableErrorTypes: nonRetryable}
	}
}

// wantActivityClosed checks the history ends with ActivityTaskStarted, the
// close event (whose started_event_id points at it) and WorkflowTaskScheduled,
// and that the activity holds no rows any more. It returns the close event.
func wantActivityClosed(h *harness, runID string, closeType enumspb.EventType, attempt int32) *historypb.HistoryEvent {
	h.t.Helper()
	evs := h.history("wf")
	n := len(evs)
	if got, want := eventTypes(evs[n-3:]), typeNames([]enumspb.EventType{evActStarted, closeType, evWTScheduled}); got != want {
		h.t.Fatalf("history %s, want it to end %s", eventTypes(evs), want)
	}
	started, closed := evs[n-3], evs[n-2]
	sa := started.GetActivityTaskStartedEventAttributes()
	if sa.ScheduledEventId != 5 || sa.Attempt != attempt || sa.Identity != "act-worker" || sa.RequestId != "poll-act-worker" {
		h.t.Fatalf("started attributes %v", sa)
	}
	if got := closedStartedID(closed); got != started.EventId {
		h.t.Fatalf("close event started_event_id %d, want %d (the ActivityTaskStarted event)", got, started.EventId)
	}
	if st := h.state("wf"); len(st.Activities) != 0 {
		h.t.Fatalf("activity still pending: %v", st.Activities)
	}
	for _, e := range h.tasksOf(runID) {
		if e.Row.Kind == fsmpb.TaskKind_TASK_KIND_ACTIVITY {
			h.t.Fatalf("activity task row left")
		}
	}
	for _, r := range h.timersOf(runID) {
		if r.Row.Ref == 5 {
			h.t.Fatalf("activity timer rows left: %s", timerKinds(h.timersOf(runID)))
		}
	}
	return closed
}

func closedStartedID(ev *historypb.HistoryEvent) int64 {
	switch a := ev.Attributes.(type) {
	case *historypb.HistoryEvent_ActivityTaskCompletedEventAttributes:
		return a.ActivityTaskCompletedEventAttributes.StartedEventId
	case *historypb.HistoryEvent_ActivityTaskFailedEventAttributes:
		return a.ActivityTaskFailedEventAttributes.StartedEventId
	case *historypb.HistoryEvent_ActivityTaskTimedOutEventAttributes:
		return a.ActivityTaskTimedOutEventAttributes.StartedEventId
	case *historypb.HistoryEvent_ActivityTaskCanceledEventAttributes:
		return a.ActivityTaskCanceledEventAttributes.StartedEventId
	}
	return -100
}

func TestActivityResult(t *testing.T) {
	tests := []struct {
		name string
		mods []func(*commandpbSchedule)
		run  func(h *harness, runID string, at *StartedActivityTask)
	}{
		{name: "completed by token", run: func(h *harness, runID string, at *StartedActivityTask) {
			h.advance(time.Second)
			h.applyOK(activityResultCmd(at.Token, completed("out")))
			ev := wantActivityClosed(h, runID, evActCompleted, 1)
			if a := ev.GetActivityTaskCompletedEventAttributes(); a.ScheduledEventId != 5 || a.Result == nil || a.Identity != "act-worker" {
				h.t.Fatalf("completed attributes %v", a)
			}
			evs := h.history("wf")
			if started := evs[len(evs)-3]; started.EventTime.AsTime().UnixNano() != t0+int64(time.Second) {
				h.t.Fatalf("ActivityTaskStarted time %v, want the attempt's start time", started.EventTime.AsTime())
			}
		}},
		{name: "completed by activity id", run: func(h *harness, runID string, at *StartedActivityTask) {
			h.applyOK(activityResultCmd(&fsmpb.TaskToken{Namespace: DefaultNamespace, WorkflowId: "wf"}, func(r *fsmpb.ActivityResult) {
				r.ActivityId = "a1"
				completed("out")(r)
			}))
			wantActivityClosed(h, runID, evActCompleted, 1)
		}},
		{name: "completed while a workflow task runs", run: func(h *harness, runID string, at *StartedActivityTask) {
			h.applyOK(signalCmd("wf", "s", ""))
			wt := h.pollWFT("wf")
			h.applyOK(activityResultCmd(at.Token, completed("out")))
			if n := len(h.state("wf").BufferedEvents); n != 2 {
				h.t.Fatalf("%d buffered events, want Started and Completed", n)
			}
			h.applyOK(completeCmd(wt.Token, recordMarker("m")))
			evs := h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evActScheduled, evSignaled, evWTScheduled,
				evWTStarted, evWTCompleted, evMarker, evActStarted, evActCompleted, evWTScheduled)
			if id := evs[11].GetActivityTaskCompletedEventAttributes().StartedEventId; id != 11 {
				h.t.Fatalf("buffered completion started_event_id %d, want 11", id)
			}
		}},
		{name: "retryable failure retries without an event", mods: []func(*commandpbSchedule){retryPolicy(0), func(a *commandpbSchedule) {
			a.ScheduleToCloseTimeout = durp(time.Hour)
			a.ScheduleToStartTimeout = durp(time.Minute)
			a.HeartbeatTimeout = durp(10 * time.Second)
		}}, run: func(h *harness, runID string, at *StartedActivityTask) {
			before := h.history("wf")
			h.applyOK(activityResultCmd(at.Token, func(r *fsmpb.ActivityResult) {
				failed(appFailure("Flaky", false))(r)
				r.LastHeartbeatDetails = payloads("progress")
			}))
			if got := h.history("wf"); len(got) != len(before) {
				h.t.Fatalf("a retried failure wrote events: %s", eventTypes(got))
			}
			a := h.state("wf").Activities[5]
			if a.Attempt != 2 || a.StartedTime != 0 || !a.RetryTimerPending || a.LastFailure.GetMessage() != "boom Flaky" ||
				a.LastWorkerIdentity != "act-worker" || a.HeartbeatDetails == nil || a.TaskKey != nil {
				h.t.Fatalf("activity after failure %v", a)
			}
			if got := timerKinds(h.timersOf(runID)); got != "[ACTIVITY_RETRY@2000 ACTIVITY_SCHEDULE_TO_CLOSE@3600000]" {
				h.t.Fatalf("timers %s", got)
			}
			for _, e := range h.tasksOf(runID) {
				h.t.Fatalf("task row during backoff: %v", e.Row)
			}
			// Old-attempt results are stale now.
			h.applyErr(activityResultCmd(at.Token, completed("late")), ErrStaleTask)
			h.applyErr(heartbeatCmd(at.Token, "late"), ErrStaleTask)
			// The retry timer dispatches attempt 2.
			h.advance(time.Second)
			retry := h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_RETRY)
			h.applyOK(fireCmd(retry.Key))
			tasks := h.tasksOf(runID)
			if len(tasks) != 1 || tasks[0].Row.Attempt != 2 || tasks[0].Row.ScheduledEventId != 5 {
				h.t.Fatalf("tasks after retry timer %v", tasks)
			}
			if got := timerKinds(h.timersOf(runID)); got != "[ACTIVITY_SCHEDULE_TO_START@62000 ACTIVITY_SCHEDULE_TO_CLOSE@3600000]" {
				h.t.Fatalf("timers after retry timer %s", got)
			}
			at2 := h.pollActivity("wf", 5)
			if at2.Token.Attempt != 2 || at2.Activity.LastFailure == nil {
				h.t.Fatalf("attempt 2 %v", at2.Token)
			}
			// A second failure backs off twice as long.
			h.applyOK(activityResultCmd(at2.Token, failed(appFailure("Flaky", false))))
			if r := h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_RETRY); r.Row.FireAt != h.now+int64(2*time.Second) || r.Row.Attempt != 3 {
				h.t.Fatalf("second retry timer %v", r.Row)
			}
			h.advance(2 * time.Second)
			h.applyOK(fireCmd(h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_RETRY).Key))
			at3 := h.pollActivity("wf", 5)
			h.applyOK(activityResultCmd(at3.Token, completed("finally")))
			wantActivityClosed(h, runID, evActCompleted, 3)
			evs := h.history("wf")
			if lf := evs[len(evs)-3].GetActivityTaskStartedEventAttributes().LastFailure; lf.GetMessage() != "boom Flaky" {
				h.t.Fatalf("started event last failure %v", lf)
			}
		}},
		{name: "next retry delay from the failure", mods: []func(*commandpbSchedule){retryPolicy(0)},
			run: func(h *harness, runID string, at *StartedActivityTask) {
				f := appFailure("Later", false)
				f.GetApplicationFailureInfo().NextRetryDelay = durp(time.Minute)
				h.applyOK(activityResultCmd(at.Token, failed(f)))
				if r := h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_RETRY); r.Row.FireAt != h.now+int64(time.Minute) {
					h.t.Fatalf("retry at %d", r.Row.FireAt-h.now)
				}
			}},
		{name: "non-retryable failure", mods: []func(*commandpbSchedule){retryPolicy(0)},
			run: func(h *harness, runID string, at *StartedActivityTask) {
				h.applyOK(activityResultCmd(at.Token, failed(appFailure("Fatal", true))))
				ev := wantActivityClosed(h, runID, evActFailed, 1)
				if a := ev.GetActivityTaskFailedEventAttributes(); a.RetryState != enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE || a.Failure.GetMessage() != "boom Fatal" {
					h.t.Fatalf("failed attributes %v", a)
				}
			}},
		{name: "non-retryable error type", mods: []func(*commandpbSchedule){retryPolicy(0, "Fatal")},
			run: func(h *harness, runID string, at *StartedActivityTask) {
				h.applyOK(activityResultCmd(at.Token, failed(appFailure("Fatal", false))))
				ev := wantActivityClosed(h, runID, evActFailed, 1)
				if s := ev.GetActivityTaskFailedEventAttributes().RetryState; s != enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE {
					h.t.Fatalf("retry state %s", s)
				}
			}},
		{name: "maximum attempts", mods: []func(*commandpbSchedule){retryPolicy(2)},
			run: func(h *harness, runID string, at *StartedActivityTask) {
				h.applyOK(activityResultCmd(at.Token, failed(appFailure("Flaky", false))))
				h.advance(time.Second)
				h.applyOK(fireCmd(h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_RETRY).Key))
				at2 := h.pollActivity("wf", 5)
				h.applyOK(activityResultCmd(at2.Token, failed(appFailure("Flaky", false))))
				ev := wantActivityClosed(h, runID, evActFailed, 2)
				if s := ev.GetActivityTaskFailedEventAttributes().RetryState; s != enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED {
					h.t.Fatalf("retry state %s", s)
				}
			}},
		{name: "retry past schedule-to-close", mods: []func(*commandpbSchedule){retryPolicy(0), func(a *commandpbSchedule) {
			a.ScheduleToCloseTimeout = durp(1500 * time.Millisecond)
		}}, run: func(h *harness, runID string, at *StartedActivityTask) {
			h.applyOK(activityResultCmd(at.Token, failed(appFailure("Flaky", false))))
			ev := wantActivityClosed(h, runID, evActFailed, 1)
			if s := ev.GetActivityTaskFailedEventAttributes().RetryState; s != enumspb.RETRY_STATE_TIMEOUT {
				h.t.Fatalf("retry state %s", s)
			}
		}},
		{name: "canceled after a cancel request", run: func(h *harness, runID string, at *StartedActivityTask) {
			h.applyOK(signalCmd("wf", "s", ""))
			h.completeWFT("wf", requestCancelActivity(5))
			if !h.applyOK(heartbeatCmd(at.Token, "hb")).CancelRequested {
				h.t.Fatalf("heartbeat did not report the cancel request")
			}
			h.applyOK(activityResultCmd(at.Token, canceled()))
			ev := wantActivityClosed(h, runID, evActCanceled, 1)
			if a := ev.GetActivityTaskCanceledEventAttributes(); a.LatestCancelRequestedEventId != 10 || a.Details == nil {
				h.t.Fatalf("canceled attributes %v", a)
			}
		}},
		{name: "stale and invalid results", run: func(h *harness, runID string, at *StartedActivityTask) {
			before := h.f.Digest()
			wrong := proto.Clone(at.Token).(*fsmpb.TaskToken)
			wrong.Attempt = 2
			h.applyErr(activityResultCmd(wrong, completed("x")), ErrStaleTask)
			wrong = proto.Clone(at.Token).(*fsmpb.TaskToken)
			wrong.ScheduledEventId = 99
			h.applyErr(activityResultCmd(wrong, completed("x")), ErrStaleTask)
			h.applyErr(activityResultCmd(&fsmpb.TaskToken{Namespace: DefaultNamespace, WorkflowId: "wf"}, func(r *fsmpb.ActivityResult) {
				r.ActivityId = "nope"
				completed("x")(r)
			}), ErrStaleTask)
			h.applyErr(activityResultCmd(at.Token, func(*fsmpb.ActivityResult) {}), ErrInvalidArgument)
			wrong = proto.Clone(at.Token).(*fsmpb.TaskToken)
			wrong.WorkflowId = "nope"
			h.applyErr(activityResultCmd(wrong, completed("x")), ErrWorkflowNotFound)
			if h.f.Digest() != before {
				h.t.Fatalf("rejected results changed the state")
			}
			// An activity that is scheduled but not started cannot complete.
			h.applyOK(signalCmd("wf", "s", ""))
			h.completeWFT("wf", scheduleActivity("a2"))
			h.applyErr(activityResultCmd(&fsmpb.TaskToken{Namespace: DefaultNamespace, WorkflowId: "wf", ScheduledEventId: 10, Attempt: 1},
				completed("x")), ErrStaleTask)
			h.applyOK(terminateCmd("wf", "x"))
			h.applyErr(activityResultCmd(at.Token, completed("x")), ErrWorkflowClosed)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, runID, at := activityHarness(t, tc.mods...)
			tc.run(h, runID, at)
		})
	}
}

func TestHeartbeatActivity(t *testing.T) {
	h, runID, at := activityHarness(t, func(a *commandpbSchedule) { a.HeartbeatTimeout = durp(10 * time.Second) })
	h.advance(3 * time.Second)
	res := h.applyOK(heartbeatCmd(at.Token, "p1"))
	if res.CancelRequested || res.RunID != runID {
		t.Fatalf("heartbeat result %+v", res)
	}
	a := h.state("wf").Activities[5]
	if a.LastHeartbeatTime != h.now || string(a.HeartbeatDetails.GetPayloads()[0].GetData()) != `"p1"` {
		t.Fatalf("activity %v", a)
	}
	// By activity id, without details: the time moves, the details stay.
	h.advance(time.Second)
	h.applyOK(&fsmpb.Command{Op: &fsmpb.Command_HeartbeatActivity{HeartbeatActivity: &fsmpb.HeartbeatActivity{
		Namespace: DefaultNamespace, WorkflowId: "wf", ActivityId: "a1"}}})
	a = h.state("wf").Activities[5]
	if a.LastHeartbeatTime != h.now || a.HeartbeatDetails == nil {
		t.Fatalf("activity %v", a)
	}
	h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evActScheduled)
	// Stale heartbeats.
	wrong := proto.Clone(at.Token).(*fsmpb.TaskToken)
	wrong.Attempt = 3
	h.applyErr(heartbeatCmd(wrong, "x"), ErrStaleTask)
	h.applyErr(&fsmpb.Command{Op: &fsmpb.Command_HeartbeatActivity{HeartbeatActivity: &fsmpb.HeartbeatActivity{
		Namespace: DefaultNamespace, WorkflowId: "wf", ActivityId: "nope"}}}, ErrStaleTask)
	// The failure's timeout carries the last details.
	h.applyOK(activityResultCmd(at.Token, failed(&failurepb.Failure{Message: "x", FailureInfo: &failurepb.Failure_ApplicationFailureInfo{
		ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{NonRetryable: true}}})))
	wantActivityClosed(h, runID, evActFailed, 1)
	h.applyErr(heartbeatCmd(at.Token, "x"), ErrStaleTask)
}

// TestRequestCancelOfActivityFinishedDuringTask: the workflow asks to cancel
// an activity that finished while its task ran (the close event is still
// buffered). Temporal accepts the request (AddActivityTaskCancelRequestedEvent
// checks the buffered finish event) instead of failing the workflow task.
func TestRequestCancelOfActivityFinishedDuringTask(t *testing.T) {
	h, runID, at := activityHarness(t)
	h.applyOK(signalCmd("wf", "s", ""))
	wt := h.pollWFT("wf")
	h.applyOK(activityResultCmd(at.Token, completed("raced")))
	res := h.apply(completeCmd(wt.Token, requestCancelActivity(5)))
	if res.Err != nil {
		t.Fatalf("cancel of a just-finished activity: %v", res.Err)
	}
	evs := h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evActScheduled, evSignaled, evWTScheduled,
		evWTStarted, evWTCompleted, evActCancelReq, evActStarted, evActCompleted, evWTScheduled)
	if a := evs[9].GetActivityTaskCancelRequestedEventAttributes(); a.ScheduledEventId != 5 || a.WorkflowTaskCompletedEventId != 9 {
		t.Fatalf("cancel requested attributes %v", a)
	}
	if id := evs[11].GetActivityTaskCompletedEventAttributes().StartedEventId; id != 11 {
		t.Fatalf("completed started_event_id %d, want 11", id)
	}
	if st := h.state("wf"); len(st.Activities) != 0 || len(st.BufferedEvents) != 0 || st.WorkflowTask.GetAttempt() != 1 {
		t.Fatalf("state %v", st)
	}
	if tasks := h.tasksOf(runID); len(tasks) != 1 || tasks[0].Row.Kind != fsmpb.TaskKind_TASK_KIND_WORKFLOW {
		t.Fatalf("tasks %v", tasks)
	}
}

// TestCancelActivityScheduledInSameTask: the SDK sends ScheduleActivityTask
// and RequestCancelActivityTask in one completion when the workflow cancels
// an activity at once, the cancel naming the ActivityTaskScheduled event
// the schedule will write. As Temporal applies commands in order, that is
// valid: a not-yet-started activity is canceled at once (two events), an
// eagerly dispatched one is only asked (one), and later commands' events
// keep the ids the SDK counted. A cancel naming a batch event that is not an
// activity's, or an activity scheduled after it, still fails the task.
func TestCancelActivityScheduledInSameTask(t *testing.T) {
	eager := func(a *commandpbSchedule) { a.RequestEagerExecution = true }
	h := newHarness(t)
	h.start("wf")
	wt := h.pollWFT("wf")
	wantBad := func(res *Result, cmd int) {
		t.Helper()
		var bce *BadCommandError
		if !errors.As(res.Err, &bce) || bce.Cause != enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES ||
			!strings.HasPrefix(bce.Message, fmt.Sprintf("command %d:", cmd)) {
			t.Fatalf("result %v, want command %d to fail the task", res.Err, cmd)
		}
	}
	wantBad(h.apply(completeCmd(wt.Token,
		scheduleActivity("a1", eager), requestCancelActivity(5), // 5, 6
		scheduleActivity("a2"), requestCancelActivity(7), // 7, 8 (Canceled follows the batch)
		recordMarker("m"), requestCancelActivity(9))), 5) // 9 is a marker
	h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTFailed, evWTScheduled)

	wt = h.pollWFT("wf") // events 6, 7; the next completion writes 8 first
	wantBad(h.apply(completeCmd(wt.Token, requestCancelActivity(9), scheduleActivity("a1"))), 0)
	h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTFailed, evWTScheduled, evWTStarted, evWTFailed, evWTScheduled)

	wt = h.pollWFT("wf") // 9; the completion is 10
	res := h.applyOK(completeCmd(wt.Token,
		scheduleActivity("a1", eager), requestCancelActivity(11), // 11, 12
		scheduleActivity("a2"), requestCancelActivity(13), // 13, 14
		recordMarker("m"), scheduleActivity("a3"), requestCancelActivity(16))) // 15; 16, 17
	// As Temporal (it buffers them), the Canceled events of the activities
	// that had not started follow the batch: the SDK numbers each command's
	// events from the previous one's.
	evs := h.wantEvents("wf", evStarted, evWTScheduled, evWTStarted, evWTFailed, evWTScheduled, evWTStarted, evWTFailed,
		evWTScheduled, evWTStarted, evWTCompleted,
		evActScheduled, evActCancelReq, evActScheduled, evActCancelReq, evMarker,
		evActScheduled, evActCancelReq, evActCanceled, evActCanceled, evWTScheduled)
	for id, want := range map[int64]int64{12: 11, 14: 13, 17: 16} {
		if got := evs[id-1].GetActivityTaskCancelRequestedEventAttributes().GetScheduledEventId(); got != want {
			t.Fatalf("event %d cancels %d, want %d", id, got, want)
		}
	}
	for id, want := range map[int64][2]int64{18: {13, 14}, 19: {16, 17}} {
		a := evs[id-1].GetActivityTaskCanceledEventAttributes()
		if a.GetScheduledEventId() != want[0] || a.GetLatestCancelRequestedEventId() != want[1] {
			t.Fatalf("event %d: %v, want scheduled %d, cancel requested %d", id, a, want[0], want[1])
		}
	}
	if len(res.EagerActivities) != 1 {
		t.Fatalf("eager activities %d, want 1", len(res.EagerActivities))
	}
	st := h.state("wf")
	if a := st.Activities[11]; a == nil || !a.CancelRequested || len(st.Activities) != 1 {
		t.Fatalf("activities %v: want only the eager one, asked to cancel", st.Activities)
	}
}
