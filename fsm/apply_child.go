package fsm

import (
	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	sdkpb "go.temporal.io/api/sdk/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// The StartChildWorkflowExecution command.

func (w *run) validateStartChild(_ *taskCompletion, i int, c *commandpb.Command) *BadCommandError {
	a := c.GetStartChildWorkflowExecutionCommandAttributes()
	cause := enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES
	switch {
	case a.GetWorkflowId() == "":
		return bad(cause, "command %d: workflow_id is not set", i)
	case a.GetWorkflowType().GetName() == "":
		return bad(cause, "command %d: workflow_type is not set", i)
	}
	return nil
}

func (w *run) applyStartChild(tc *taskCompletion, c *commandpb.Command) bool {
	w.startChild(c.GetStartChildWorkflowExecutionCommandAttributes(), c.UserMetadata, tc)
	return true
}

// startChild applies a StartChildWorkflowExecution command: the Initiated
// event, then (in the same entry) either the child's first run, or not;
// the parent's ChildWorkflowExecutionStarted or StartChildWorkflowExecutionFailed
// event follows the batch (tc.results).
// The child's Started event carries the command's user metadata, as
// Temporal's does.
func (w *run) startChild(a *commandpb.StartChildWorkflowExecutionCommandAttributes, meta *sdkpb.UserMetadata, tc *taskCompletion) {
	s, completedID := w.st, tc.completedID
	ns := a.Namespace
	if ns == "" {
		ns = s.Namespace
	}
	tq := a.GetTaskQueue().GetName()
	if tq == "" {
		tq = s.TaskQueue
	}
	init := &historypb.StartChildWorkflowExecutionInitiatedEventAttributes{
		Namespace: ns, WorkflowId: a.WorkflowId, WorkflowType: a.WorkflowType,
		TaskQueue: &taskqueuepb.TaskQueue{Name: tq, Kind: enumspb.TASK_QUEUE_KIND_NORMAL}, Input: a.Input,
		WorkflowExecutionTimeout: a.WorkflowExecutionTimeout, WorkflowRunTimeout: a.WorkflowRunTimeout,
		WorkflowTaskTimeout: a.WorkflowTaskTimeout, ParentClosePolicy: a.ParentClosePolicy, Control: a.Control,
		WorkflowTaskCompletedEventId: completedID, WorkflowIdReusePolicy: a.WorkflowIdReusePolicy,
		RetryPolicy: a.RetryPolicy, CronSchedule: a.CronSchedule, Header: a.Header, Memo: a.Memo,
		SearchAttributes: a.SearchAttributes, Priority: a.Priority,
	}
	ev := w.startChildWorkflowExecutionInitiatedEvent(init)
	w.appendEvents(ev)
	initiated := ev.EventId
	fail := func(cause enumspb.StartChildWorkflowExecutionFailedCause) {
		tc.results = append(tc.results, func() {
			w.appendEvents(w.startChildWorkflowExecutionFailedEvent(init, cause, initiated))
		})
	}
	if !w.t.namespaceExists(ns) {
		fail(enumspb.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_NAMESPACE_NOT_FOUND)
		return
	}
	var cur fsmpb.CurrentRun
	if w.t.get(currentKey(ns, a.WorkflowId), &cur) {
		if cur.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING ||
			w.t.resolveConflict(a.WorkflowId, ns, &cur, enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL, a.WorkflowIdReusePolicy) != nil {
			fail(enumspb.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS)
			return
		}
	}
	runID := w.t.newRunID()
	child := w.t.newRun(runID, &workflowservice.StartWorkflowExecutionRequest{
		Namespace: ns, WorkflowId: a.WorkflowId, WorkflowType: a.WorkflowType,
		TaskQueue: &taskqueuepb.TaskQueue{Name: tq}, Input: a.Input,
		WorkflowExecutionTimeout: a.WorkflowExecutionTimeout, WorkflowRunTimeout: a.WorkflowRunTimeout,
		WorkflowTaskTimeout: a.WorkflowTaskTimeout, Identity: s.Identity, RetryPolicy: a.RetryPolicy,
		CronSchedule: a.CronSchedule, Memo: a.Memo, SearchAttributes: a.SearchAttributes, Header: a.Header,
		UserMetadata: meta, Priority: mergePriority(s.Priority, a.Priority),
	}, runLinks{parent: &fsmpb.ParentInfo{Namespace: s.Namespace, WorkflowId: s.WorkflowId, RunId: s.RunId, InitiatedEventId: initiated,
		Root: RootOf(s)}})
	child.startFirstWorkflowTask()
	child.save()
	if s.Children == nil {
		s.Children = map[int64]*fsmpb.ChildInfo{}
	}
	ci := &fsmpb.ChildInfo{
		InitiatedEventId: initiated, Namespace: ns, WorkflowId: a.WorkflowId,
		RunId: runID, WorkflowType: a.WorkflowType, ParentClosePolicy: a.ParentClosePolicy,
	}
	s.Children[initiated] = ci // now: a close command later in the batch applies its policy
	tc.results = append(tc.results, func() {
		started := w.childWorkflowExecutionStartedEvent(ns, initiated, a.WorkflowType, a.Header,
			&commonpb.WorkflowExecution{WorkflowId: a.WorkflowId, RunId: runID})
		w.appendEvents(started)
		ci.StartedEventId = started.EventId
	})
}

// notifyParent tells a running parent that this child closed.
func (w *run) notifyParent(closeEv *historypb.HistoryEvent) {
	p := w.st.Parent
	if p == nil {
		return
	}
	parent, err := w.t.loadRunning(p.Namespace, p.WorkflowId, p.RunId)
	if err != nil {
		return
	}
	ci := parent.st.Children[p.InitiatedEventId]
	if ci == nil {
		return
	}
	delete(parent.st.Children, p.InitiatedEventId)
	exec := &commonpb.WorkflowExecution{WorkflowId: w.st.WorkflowId, RunId: w.st.RunId}
	var ev *historypb.HistoryEvent
	switch a := closeEv.Attributes.(type) {
	case *historypb.HistoryEvent_WorkflowExecutionCompletedEventAttributes:
		ev = parent.childWorkflowExecutionCompletedEvent(ci, exec, a.WorkflowExecutionCompletedEventAttributes.Result)
	case *historypb.HistoryEvent_WorkflowExecutionFailedEventAttributes:
		at := a.WorkflowExecutionFailedEventAttributes
		ev = parent.childWorkflowExecutionFailedEvent(ci, exec, at.Failure, at.RetryState)
	case *historypb.HistoryEvent_WorkflowExecutionCanceledEventAttributes:
		ev = parent.childWorkflowExecutionCanceledEvent(ci, exec, a.WorkflowExecutionCanceledEventAttributes.Details)
	case *historypb.HistoryEvent_WorkflowExecutionTerminatedEventAttributes:
		ev = parent.childWorkflowExecutionTerminatedEvent(ci, exec)
	case *historypb.HistoryEvent_WorkflowExecutionTimedOutEventAttributes:
		ev = parent.childWorkflowExecutionTimedOutEvent(ci, exec, a.WorkflowExecutionTimedOutEventAttributes.RetryState)
	default:
		return
	}
	parent.record(ev)
	parent.save()
}

// applyParentClosePolicy acts on the children of a run that just closed.
func (w *run) applyParentClosePolicy() {
	for _, id := range sortedInt64Keys(w.st.Children) {
		ci := w.st.Children[id]
		child, err := w.t.loadRunning(ci.Namespace, ci.WorkflowId, "")
		if err != nil || child.st.FirstRunId != ci.RunId && child.st.RunId != ci.RunId && !sameChain(child.st, ci) {
			continue
		}
		switch ci.ParentClosePolicy {
		case enumspb.PARENT_CLOSE_POLICY_ABANDON:
			continue
		case enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL:
			if !child.st.CancelRequested {
				child.requestCancel("by parent close policy", "raftflow", nil)
			}
		default: // TERMINATE is Temporal's default
			child.terminate("by parent close policy", "raftflow", nil)
		}
		child.save()
	}
	w.st.Children = nil
}

// sameChain: the child's current run descends from the run the parent started.
func sameChain(st *fsmpb.WorkflowState, ci *fsmpb.ChildInfo) bool {
	return st.Parent != nil && st.Parent.InitiatedEventId == ci.InitiatedEventId
}

func sortedInt64Keys[V any](m map[int64]V) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// RootOf is the root run of a chain of parents that s belongs to: its
// parent's root, or s itself at the top (Temporal's root execution).
func RootOf(s *fsmpb.WorkflowState) *commonpb.WorkflowExecution {
	if r := s.GetParent().GetRoot(); r != nil {
		return r
	}
	if p := s.GetParent(); p != nil { // a row from before roots were kept
		return &commonpb.WorkflowExecution{WorkflowId: p.WorkflowId, RunId: p.RunId}
	}
	return &commonpb.WorkflowExecution{WorkflowId: s.WorkflowId, RunId: s.RunId}
}
