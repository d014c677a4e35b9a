package fsm

import (
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// An activity whose schedule command asks for eager execution on the
// workflow's own task queue is started at once and handed back with the
// completion; no backlog row is written. Its completion then works as usual.
func TestEagerActivity(t *testing.T) {
	h := newHarness(t)
	runID := h.start("eager")
	eager := scheduleActivity("a1")
	eager.GetScheduleActivityTaskCommandAttributes().RequestEagerExecution = true
	res := h.completeWFT("eager", eager)
	if len(res.EagerActivities) != 1 {
		t.Fatalf("eager activities: got %d, want 1", len(res.EagerActivities))
	}
	at := res.EagerActivities[0]
	if at.Activity.StartedTime == 0 || at.Token.Kind != fsmpb.TaskKind_TASK_KIND_ACTIVITY {
		t.Fatalf("eager activity not started: %+v", at)
	}
	for _, task := range h.tasksOf(runID) {
		if task.Row.Kind == fsmpb.TaskKind_TASK_KIND_ACTIVITY {
			t.Fatalf("eager activity left a backlog row: %+v", task.Row)
		}
	}
	h.applyOK(activityResultCmd(at.Token, completed("done")))
	h.wantEvents("eager",
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
		enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED,
		enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)

	// Another task queue is never eager.
	runID2 := h.start("eager2")
	other := scheduleActivity("a2")
	attrs := other.GetScheduleActivityTaskCommandAttributes()
	attrs.RequestEagerExecution = true
	attrs.TaskQueue = &taskqueuepb.TaskQueue{Name: "elsewhere"}
	if res := h.completeWFT("eager2", other); len(res.EagerActivities) != 0 {
		t.Fatalf("activity on another queue was dispatched eagerly")
	}
	found := false
	for _, task := range h.tasksOf(runID2) {
		found = found || task.Row.Kind == fsmpb.TaskKind_TASK_KIND_ACTIVITY
	}
	if !found {
		t.Fatal("non-eager activity has no backlog row")
	}
}

// A start that asks for eager execution gets its first workflow task
// started in the same entry: no backlog row, no task hint for the queue, the
// Started event names the starting worker. A delayed start has nothing to
// hand out yet; a deduplicated retry of the start gets no second task.
func TestEagerWorkflowStart(t *testing.T) {
	h := newHarness(t)
	m := newHintModel(t, h.f)
	h.f.SetHints(m)
	req := startReq("eagerwf")
	req.RequestEagerExecution, req.Identity = true, "starter-worker"
	m.want = h.index + 1
	res := h.applyOK(startCmd(h.newRunID(), req))
	m.matches("eager start")
	if m.added != 0 {
		t.Fatalf("eager start hinted %d tasks to the queue", m.added)
	}
	h.f.SetHints(nil)
	wt := res.WorkflowTask
	if !res.Started || wt == nil || wt.StartedEventID != 3 || wt.Token.Kind != fsmpb.TaskKind_TASK_KIND_WORKFLOW {
		t.Fatalf("eager start: started %v, task %+v", res.Started, wt)
	}
	if tasks := h.tasksOf(res.RunID); len(tasks) != 0 {
		t.Fatalf("eager workflow task left backlog rows: %v", tasks)
	}
	h.wantEvents("eagerwf", enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED)
	if id := h.history("eagerwf")[2].GetWorkflowTaskStartedEventAttributes().GetIdentity(); id != "starter-worker" {
		t.Fatalf("WorkflowTaskStarted identity %q", id)
	}
	h.applyOK(completeCmd(wt.Token, completeWF("ok")))

	again := h.apply(startCmd(h.newRunID(), req))
	if again.WorkflowTask != nil || again.RunID != res.RunID {
		t.Fatalf("deduplicated start: %+v", again)
	}

	delayed := startReq("eagerdelayed")
	delayed.RequestEagerExecution, delayed.WorkflowStartDelay = true, durp(time.Minute)
	if res := h.applyOK(startCmd(h.newRunID(), delayed)); res.WorkflowTask != nil {
		t.Fatalf("delayed start handed out a workflow task")
	}
}
