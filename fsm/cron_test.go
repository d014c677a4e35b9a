package fsm

import (
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

func TestCronBackoff(t *testing.T) {
	at := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixNano()
	}
	tests := []struct {
		schedule     string
		start, close string
		want         time.Duration
		ok           bool
	}{
		{"*/5 * * * *", "2030-01-01T00:00:00Z", "2030-01-01T00:00:00Z", 5 * time.Minute, true},
		{"*/5 * * * *", "2030-01-01T00:00:00Z", "2030-01-01T00:07:30.5Z", 2*time.Minute + 30*time.Second, true}, // rounded up
		{"*/5 * * * *", "2030-01-01T00:00:00Z", "2030-01-01T00:05:00Z", 0, true},                                // due now
		{"*/5 * * * *", "2030-01-01T00:00:00Z", "2030-03-01T00:02:00Z", 3 * time.Minute, true},                  // months later
		{"@hourly", "2030-01-01T00:10:00Z", "2030-01-01T00:10:00Z", 50 * time.Minute, true},
		{"0 12 * * MON", "2030-01-01T00:00:00Z", "2030-01-01T00:00:00Z", 6*24*time.Hour + 12*time.Hour, true}, // 2030-01-01 is a Tuesday
		{"@every 10s", "2030-01-01T00:00:00.3Z", "2030-01-01T00:00:00.3Z", 10 * time.Second, true},
		{"@every 10s", "2030-01-01T00:00:00.3Z", "2030-01-01T00:00:25Z", 5 * time.Second, true}, // anchored at the start
		{"@every 10s", "2030-01-01T00:00:00Z", "2030-01-02T00:00:03Z", 7 * time.Second, true},   // a day of ticks, jumped over
		{"not a schedule", "2030-01-01T00:00:00Z", "2030-01-01T00:00:00Z", 0, false},
		{"0 0 30 2 *", "2030-01-01T00:00:00Z", "2030-01-01T00:00:00Z", 0, false}, // February 30th never comes
	}
	for _, tc := range tests {
		got, ok := cronBackoff(tc.schedule, at(tc.start), at(tc.close))
		if ok != tc.ok || time.Duration(got) != tc.want {
			t.Errorf("cronBackoff(%q, %s, %s) = %v %v, want %v %v", tc.schedule, tc.start, tc.close, time.Duration(got), ok, tc.want, tc.ok)
		}
	}
	for s, valid := range map[string]bool{
		"* * * * *": true, "@daily": true, "@every 1h30m": true, "*/15 9-17 * * MON-FRI": true,
		"": false, "* * * *": false, "CRON_TZ=Europe/Paris 0 9 * * *": false, "61 * * * *": false, "0 0 30 2 *": false,
	} {
		if err := ValidCronSchedule(s); (err == nil) != valid {
			t.Errorf("ValidCronSchedule(%q) = %v, want valid %v", s, err, valid)
		}
	}
}

func withCron(s string) func(*workflowservice.StartWorkflowExecutionRequest) {
	return func(r *workflowservice.StartWorkflowExecutionRequest) { r.CronSchedule = s }
}

// t0 is 2030-01-01T00:00:00Z, so "*/10 * * * *" first fires 10 minutes in.
const everyTen = "*/10 * * * *"

func TestCron(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, h *harness)
	}{
		{"the first workflow task waits for the first schedule time", func(t *testing.T, h *harness) {
			runID := h.start("wf", withCron(everyTen), func(r *workflowservice.StartWorkflowExecutionRequest) {
				r.WorkflowRunTimeout = durp(time.Minute)
			})
			h.wantEvents("wf", evStarted)
			st := h.state("wf")
			if st.ExecutionTime != t0+int64(10*time.Minute) || st.FirstWorkflowTaskBackoff != int64(10*time.Minute) || st.StartDelay {
				t.Fatalf("state: execution time %d backoff %d delay %v", st.ExecutionTime-t0, st.FirstWorkflowTaskBackoff, st.StartDelay)
			}
			if b := h.history("wf")[0].GetWorkflowExecutionStartedEventAttributes().GetFirstWorkflowTaskBackoff().AsDuration(); b != 10*time.Minute {
				t.Fatalf("started event backoff %v", b)
			}
			// The run timeout counts from the first workflow task.
			if rt := h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_RUN_TIMEOUT); rt.Row.FireAt != t0+int64(11*time.Minute) {
				t.Fatalf("run timeout at %v", time.Duration(rt.Row.FireAt-t0))
			}
			if r := h.visRow(runID); r.ExecutionTime.AsTime().UnixNano() != st.ExecutionTime {
				t.Fatalf("visibility execution time %v", r.ExecutionTime.AsTime())
			}
			// A signal during a cron backoff waits for it.
			h.applyOK(signalCmd("wf", "early", ""))
			if len(h.tasksOf(runID)) != 0 {
				t.Fatalf("a signal scheduled a workflow task during the cron backoff")
			}
			h.fireKind(runID, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_BACKOFF)
			h.wantEvents("wf", evStarted, evSignaled, evWTScheduled)
		}},
		{"completion starts the next run at the next schedule time", func(t *testing.T, h *harness) {
			first := h.start("wf", withCron(everyTen))
			h.fireKind(first, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_BACKOFF)
			h.advance(3 * time.Minute) // now 00:13
			h.completeWFT("wf", completeWF("r1"))
			st := h.state("wf")
			if st.RunId == first || st.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING || st.FirstWorkflowTaskBackoff != int64(7*time.Minute) ||
				st.FirstRunId != first || st.Attempt != 1 || st.CronSchedule != everyTen {
				t.Fatalf("next run: %v", st)
			}
			attrs := h.history("wf")[0].GetWorkflowExecutionStartedEventAttributes()
			if attrs.Initiator != enumspb.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE || attrs.ContinuedExecutionRunId != first ||
				string(attrs.GetLastCompletionResult().GetPayloads()[0].GetData()) != `"r1"` || string(attrs.GetInput().GetPayloads()[0].GetData()) != `"in"` {
				t.Fatalf("next run started with %v", attrs)
			}
			old, err := h.f.GetState(DefaultNamespace, "wf", first)
			if err != nil || old.Status != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
				t.Fatalf("first run: %v %v", old, err)
			}
			evs, _ := h.f.ReadHistory(DefaultNamespace, "wf", first, old.CloseEventId, 0, 1)
			if evs[0].GetWorkflowExecutionCompletedEventAttributes().GetNewExecutionRunId() != st.RunId {
				t.Fatalf("close event %v does not name the next run", evs[0])
			}
		}},
		{"a failure without retries also continues the schedule", func(t *testing.T, h *harness) {
			first := h.start("wf", withCron(everyTen))
			h.fireKind(first, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_BACKOFF)
			h.advance(time.Second)
			h.completeWFT("wf", failWF("boom"))
			st := h.state("wf")
			attrs := h.history("wf")[0].GetWorkflowExecutionStartedEventAttributes()
			if st.RunId == first || attrs.GetContinuedFailure().GetMessage() != "boom" || st.FirstWorkflowTaskBackoff != int64(10*time.Minute-time.Second) {
				t.Fatalf("next run %v started with %v", st, attrs)
			}
		}},
		{"a run timeout continues the schedule", func(t *testing.T, h *harness) {
			first := h.start("wf", withCron(everyTen), func(r *workflowservice.StartWorkflowExecutionRequest) {
				r.WorkflowRunTimeout = durp(time.Minute)
			})
			h.fireKind(first, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_BACKOFF)
			h.fireKind(first, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_RUN_TIMEOUT)
			if st := h.state("wf"); st.RunId == first || st.FirstWorkflowTaskBackoff != int64(9*time.Minute) {
				t.Fatalf("after a timeout: %v", st)
			}
		}},
		{"terminate ends the chain", func(t *testing.T, h *harness) {
			h.start("wf", withCron(everyTen))
			h.applyOK(terminateCmd("wf", "stop"))
			h.wantClosed("wf", enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED)
		}},
		{"a start delay: a signal ends it early", func(t *testing.T, h *harness) {
			runID := h.start("wf", func(r *workflowservice.StartWorkflowExecutionRequest) { r.WorkflowStartDelay = durp(time.Hour) })
			st := h.state("wf")
			if !st.StartDelay || st.FirstWorkflowTaskBackoff != int64(time.Hour) || st.ExecutionTime != t0+int64(time.Hour) {
				t.Fatalf("delayed start state %v", st)
			}
			h.timerOfKind(runID, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_BACKOFF)
			h.advance(time.Minute)
			h.applyOK(signalCmd("wf", "wake", ""))
			h.wantEvents("wf", evStarted, evSignaled, evWTScheduled)
			if n := len(h.timersOf(runID)); n != 0 {
				t.Fatalf("backoff timer left after the delay ended: %s", timerKinds(h.timersOf(runID)))
			}
			if st := h.state("wf"); st.StartDelay || st.FirstWorkflowTaskBackoff != 0 {
				t.Fatalf("delay not cleared: %v", st)
			}
		}},
		{"signal-with-start keeps its own start delay", func(t *testing.T, h *harness) {
			h.applyOK(&fsmpb.Command{Op: &fsmpb.Command_SignalWithStart{SignalWithStart: &fsmpb.SignalWithStart{RunId: "run-sws",
				Request: &workflowservice.SignalWithStartWorkflowExecutionRequest{
					Namespace: DefaultNamespace, WorkflowId: "wf", WorkflowType: startReq("wf").WorkflowType, TaskQueue: startReq("wf").TaskQueue,
					SignalName: "hello", WorkflowStartDelay: durp(time.Hour), RequestId: "sws-1",
				}}}})
			h.wantEvents("wf", evStarted, evSignaled)
			h.fireKind("run-sws", fsmpb.TimerKind_TIMER_KIND_WORKFLOW_BACKOFF)
			h.wantEvents("wf", evStarted, evSignaled, evWTScheduled)
			if st := h.state("wf"); st.SignalCount != 1 {
				t.Fatalf("signal count %d", st.SignalCount)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newHarness(t)) })
	}
}
