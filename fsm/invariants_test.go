package fsm

import (
	"bytes"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/prototext"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// checkInvariants checks the whole keyspace for the structural rules every
// transition must keep:
//   - every run's history ids are dense 1..next_event_id-1;
//   - a closed run holds nothing (no workflow task, activity, timer, buffered
//     event) and its close event is its last;
//   - buffered events exist only while a workflow task is started;
//   - every task and timer key mutable state names exists and matches what it
//     names (kind, scheduled event id, attempt), and every task and timer row
//     is named by exactly one owner: no dangling references, no orphan rows;
//   - the current-run record of each workflow id names an existing run with
//     the same status.
func checkInvariants(t testing.TB, f *FSM) {
	t.Helper()
	tasks := map[string]*fsmpb.TaskRow{}
	for _, e := range f.ScanTasks() {
		tasks[string(e.Key)] = e.Row
	}
	timers := map[string]*fsmpb.TimerRow{}
	for _, r := range f.testTimerRows() {
		timers[string(r.Key)] = r.Row
	}
	var states []*fsmpb.WorkflowState
	f.scan([]byte{famState}, func(_, v []byte) bool {
		st := &fsmpb.WorkflowState{}
		mustUnmarshal(v, st)
		states = append(states, st)
		return true
	})
	owned := map[string]string{} // row key → owner description
	own := func(st *fsmpb.WorkflowState, key []byte, what string) {
		t.Helper()
		if prev, dup := owned[string(key)]; dup {
			t.Fatalf("run %s: row %x owned twice (%s and %s)", st.RunId, key, prev, what)
		}
		owned[string(key)] = st.RunId + " " + what
	}
	for _, st := range states {
		evs := checkedHistory(t, f, st)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("run %s (%s): "+format+"\nstate: %s\nhistory: %s",
				append(append([]any{st.RunId, st.Status}, args...), prototext.Format(st), eventTypes(evs))...)
		}
		eventAt := func(id int64) *historypb.HistoryEvent {
			if id < 1 || id > int64(len(evs)) {
				return nil
			}
			return evs[id-1]
		}
		if len(evs) == 0 || evs[0].EventType != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED {
			fail("history does not begin with WorkflowExecutionStarted")
		}
		if st.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			if st.WorkflowTask != nil || activitiesHoldRows(st) || len(st.Timers) != 0 || len(st.BufferedEvents) != 0 || len(st.TimerKeys) != 0 {
				fail("closed run still holds state")
			}
			if st.CloseEventId != int64(len(evs)) {
				fail("close event id %d is not the last event", st.CloseEventId)
			}
			// A closed run owns only its retention timer (apply_namespace.go).
			if k := st.RetentionTimerKey; len(k) > 0 {
				if row := timers[string(k)]; row == nil || row.Kind != fsmpb.TimerKind_TIMER_KIND_RETENTION || row.RunId != st.RunId {
					fail("retention timer row %x missing or not this run's: %v", k, row)
				}
				own(st, k, "retention timer")
			}
			continue
		}
		if len(st.RetentionTimerKey) > 0 {
			fail("running run has a retention timer")
		}
		if len(st.BufferedEvents) > 0 && !(st.WorkflowTask != nil && st.WorkflowTask.StartedEventId > 0) {
			fail("buffered events without a started workflow task")
		}
		taskRef := func(key []byte, kind fsmpb.TaskKind, scheduledID int64, attempt int32, what string) {
			t.Helper()
			row := tasks[string(key)]
			if row == nil {
				fail("%s: task row %x missing", what, key)
			}
			if row.Kind != kind || row.ScheduledEventId != scheduledID || row.Attempt != attempt || row.RunId != st.RunId ||
				row.WorkflowId != st.WorkflowId || row.Namespace != st.Namespace {
				fail("%s: task row %v does not match", what, row)
			}
			own(st, key, what)
		}
		timerRef := func(key []byte, what string) *fsmpb.TimerRow {
			t.Helper()
			row := timers[string(key)]
			if row == nil {
				fail("%s: timer row %x missing", what, key)
			}
			if row.RunId != st.RunId || row.WorkflowId != st.WorkflowId || row.Namespace != st.Namespace {
				fail("%s: timer row %v belongs to another run", what, row)
			}
			if at, _ := TimerFireAt(key); at != max(row.FireAt, 0) {
				fail("%s: timer key time %d, row %d", what, at, row.FireAt)
			}
			own(st, key, what)
			return row
		}
		if wt := st.WorkflowTask; wt != nil {
			eventAt := eventAt
			if spec := wt.SpeculativeEvents; len(spec) > 0 {
				// A speculative task's events follow the history, unwritten.
				for i, ev := range spec {
					if ev.EventId != st.NextEventId+int64(i) {
						fail("speculative workflow task event %d has id %d, want %d", i, ev.EventId, st.NextEventId+int64(i))
					}
				}
				eventAt = func(id int64) *historypb.HistoryEvent {
					if i := id - st.NextEventId; i >= 0 && i < int64(len(spec)) {
						return spec[i]
					}
					return nil
				}
			}
			if ev := eventAt(wt.ScheduledEventId); ev.GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED {
				fail("workflow task scheduled id %d is not a WorkflowTaskScheduled event", wt.ScheduledEventId)
			}
			if wt.StartedEventId == 0 {
				if wt.Sticky {
					row := timerRef(wt.TimerKey, "sticky schedule-to-start timer")
					if row.Kind != fsmpb.TimerKind_TIMER_KIND_WORKFLOW_TASK_SCHEDULE_TO_START || row.Ref != wt.ScheduledEventId || row.Attempt != wt.Attempt {
						fail("sticky workflow task timer %v", row)
					}
				} else if len(wt.TimerKey) != 0 {
					fail("scheduled workflow task on a normal queue has a timer")
				}
				taskRef(wt.TaskKey, fsmpb.TaskKind_TASK_KIND_WORKFLOW, wt.ScheduledEventId, wt.Attempt, "workflow task")
			} else {
				if ev := eventAt(wt.StartedEventId); ev.GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED {
					fail("workflow task started id %d is not a WorkflowTaskStarted event", wt.StartedEventId)
				}
				if len(wt.TaskKey) != 0 {
					fail("started workflow task still has a task row key")
				}
				row := timerRef(wt.TimerKey, "workflow task timer")
				if row.Kind != fsmpb.TimerKind_TIMER_KIND_WORKFLOW_TASK_START_TO_CLOSE || row.Ref != wt.ScheduledEventId || row.Attempt != wt.Attempt {
					fail("workflow task timer %v", row)
				}
			}
		}
		activityIDs := map[string]bool{}
		for id, a := range st.Activities {
			if id != a.ScheduledEventId {
				fail("activity map key %d names activity %d", id, a.ScheduledEventId)
			}
			if activityIDs[a.ActivityId] {
				fail("activity id %q pending twice", a.ActivityId)
			}
			activityIDs[a.ActivityId] = true
			if ev := eventAt(id); ev.GetActivityTaskScheduledEventAttributes().GetActivityId() != a.ActivityId {
				fail("activity %d: event %v is not its ActivityTaskScheduled", id, ev)
			}
			waiting := a.StartedTime == 0 && !a.RetryTimerPending
			if waiting {
				taskRef(a.TaskKey, fsmpb.TaskKind_TASK_KIND_ACTIVITY, id, a.Attempt, "activity task")
			} else if len(a.TaskKey) != 0 {
				fail("activity %d started or backing off but still has a task row key", id)
			}
			retryTimers := 0
			for _, k := range a.TimerKeys {
				row := timerRef(k, "activity timer")
				if row.Ref != id {
					fail("activity %d owns timer %v", id, row)
				}
				switch row.Kind {
				case fsmpb.TimerKind_TIMER_KIND_ACTIVITY_RETRY:
					retryTimers++
					if !a.RetryTimerPending || row.Attempt != a.Attempt {
						fail("activity %d: retry timer %v", id, row)
					}
				case fsmpb.TimerKind_TIMER_KIND_ACTIVITY_START_TO_CLOSE, fsmpb.TimerKind_TIMER_KIND_ACTIVITY_HEARTBEAT:
					if a.StartedTime == 0 || row.Attempt != a.Attempt {
						fail("activity %d: %s timer %v for an attempt that is not running", id, row.Kind, row)
					}
				case fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_START:
					if !waiting || row.Attempt != a.Attempt {
						fail("activity %d: schedule-to-start timer %v for an attempt that is not waiting", id, row)
					}
				case fsmpb.TimerKind_TIMER_KIND_ACTIVITY_SCHEDULE_TO_CLOSE:
				default:
					fail("activity %d owns a %s timer", id, row.Kind)
				}
			}
			if a.RetryTimerPending && retryTimers != 1 {
				fail("activity %d backs off with %d retry timers", id, retryTimers)
			}
		}
		for name, tm := range st.Timers {
			row := timerRef(tm.TimerKey, "user timer")
			if row.Kind != fsmpb.TimerKind_TIMER_KIND_USER || row.TimerId != name || row.Ref != tm.StartedEventId || row.FireAt != tm.FireAt {
				fail("user timer %q row %v", name, row)
			}
			if ev := eventAt(tm.StartedEventId); ev.GetTimerStartedEventAttributes().GetTimerId() != name {
				fail("user timer %q: event %d is not its TimerStarted", name, tm.StartedEventId)
			}
		}
		for _, k := range st.TimerKeys {
			row := timerRef(k, "run timer")
			switch row.Kind {
			case fsmpb.TimerKind_TIMER_KIND_WORKFLOW_RUN_TIMEOUT, fsmpb.TimerKind_TIMER_KIND_WORKFLOW_EXECUTION_TIMEOUT,
				fsmpb.TimerKind_TIMER_KIND_WORKFLOW_BACKOFF:
			default:
				fail("run timer of kind %s", row.Kind)
			}
		}
	}
	for k, row := range tasks {
		if _, ok := owned[k]; !ok {
			t.Fatalf("orphan task row %x: %v", k, row)
		}
	}
	for k, row := range timers {
		if _, ok := owned[k]; !ok {
			t.Fatalf("orphan timer row %x: %v", k, row)
		}
	}
	f.scan([]byte{famCurrent}, func(k, v []byte) bool {
		var cur fsmpb.CurrentRun
		mustUnmarshal(v, &cur)
		found := false
		for _, st := range states {
			if st.RunId == cur.RunId && bytes.Equal(currentKey(st.Namespace, st.WorkflowId), k) {
				found = true
				if st.Status != cur.Status {
					t.Fatalf("current run %s has status %s, its state %s", cur.RunId, cur.Status, st.Status)
				}
			}
		}
		if !found {
			t.Fatalf("current run record %x names missing run %s", k, cur.RunId)
		}
		return true
	})
}
