package fsm

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// newRunID returns the next leader-stamped run id of the command, or, for
// runs started by a timer (retries, cron), one derived from the log position:
// (index, seq) is unique for the life of the cluster, and the derivation is
// pure, so every replica computes the same id.
func (t *txn) newRunID() string {
	if len(t.runIDs) > 0 {
		id := t.runIDs[0]
		t.runIDs = t.runIDs[1:]
		return id
	}
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], t.index)
	binary.BigEndian.PutUint32(b[8:], t.nextSeq())
	h := sha256.Sum256(append([]byte("raftflow-run-id:"), b[:]...))
	h[6] = (h[6] & 0x0f) | 0x80 // version 8 (custom)
	h[8] = (h[8] & 0x3f) | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// startChild applies a StartChildWorkflowExecution command: the Initiated
// event, then (in the same entry) either the child's first run and the
// parent's ChildWorkflowExecutionStarted event, or StartChildWorkflowExecutionFailed.
func (w *wf) startChild(a *commandpb.StartChildWorkflowExecutionCommandAttributes, completedID int64) {
	s := w.st
	ns := a.Namespace
	if ns == "" {
		ns = s.Namespace
	}
	tq := a.GetTaskQueue().GetName()
	if tq == "" {
		tq = s.TaskQueue
	}
	ev := w.event(enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED)
	ev.Attributes = &historypb.HistoryEvent_StartChildWorkflowExecutionInitiatedEventAttributes{StartChildWorkflowExecutionInitiatedEventAttributes: &historypb.StartChildWorkflowExecutionInitiatedEventAttributes{
		Namespace: ns, WorkflowId: a.WorkflowId, WorkflowType: a.WorkflowType,
		TaskQueue: &taskqueuepb.TaskQueue{Name: tq, Kind: enumspb.TASK_QUEUE_KIND_NORMAL}, Input: a.Input,
		WorkflowExecutionTimeout: a.WorkflowExecutionTimeout, WorkflowRunTimeout: a.WorkflowRunTimeout,
		WorkflowTaskTimeout: a.WorkflowTaskTimeout, ParentClosePolicy: a.ParentClosePolicy, Control: a.Control,
		WorkflowTaskCompletedEventId: completedID, WorkflowIdReusePolicy: a.WorkflowIdReusePolicy,
		RetryPolicy: a.RetryPolicy, CronSchedule: a.CronSchedule, Header: a.Header, Memo: a.Memo,
		SearchAttributes: a.SearchAttributes,
	}}
	w.appendEvents(ev)
	initiated := ev.EventId
	fail := func(cause enumspb.StartChildWorkflowExecutionFailedCause) {
		f := w.event(enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED)
		f.Attributes = &historypb.HistoryEvent_StartChildWorkflowExecutionFailedEventAttributes{StartChildWorkflowExecutionFailedEventAttributes: &historypb.StartChildWorkflowExecutionFailedEventAttributes{
			Namespace: ns, WorkflowId: a.WorkflowId, WorkflowType: a.WorkflowType, Cause: cause,
			Control: a.Control, InitiatedEventId: initiated, WorkflowTaskCompletedEventId: completedID,
		}}
		w.appendEvents(f)
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
	}, runLinks{parent: &fsmpb.ParentInfo{Namespace: s.Namespace, WorkflowId: s.WorkflowId, RunId: s.RunId, InitiatedEventId: initiated}})
	child.startFirstWorkflowTask()
	child.save()
	started := w.event(enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED)
	started.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionStartedEventAttributes{ChildWorkflowExecutionStartedEventAttributes: &historypb.ChildWorkflowExecutionStartedEventAttributes{
		Namespace: ns, InitiatedEventId: initiated, WorkflowType: a.WorkflowType, Header: a.Header,
		WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: a.WorkflowId, RunId: runID},
	}}
	w.appendEvents(started)
	if s.Children == nil {
		s.Children = map[int64]*fsmpb.ChildInfo{}
	}
	s.Children[initiated] = &fsmpb.ChildInfo{
		InitiatedEventId: initiated, StartedEventId: started.EventId, Namespace: ns, WorkflowId: a.WorkflowId,
		RunId: runID, WorkflowType: a.WorkflowType, ParentClosePolicy: a.ParentClosePolicy,
	}
}

// notifyParent tells a running parent that this child closed.
func (w *wf) notifyParent(closeEv *historypb.HistoryEvent) {
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
	ns, typ, init, started := ci.Namespace, ci.WorkflowType, ci.InitiatedEventId, ci.StartedEventId
	var ev *historypb.HistoryEvent
	switch a := closeEv.Attributes.(type) {
	case *historypb.HistoryEvent_WorkflowExecutionCompletedEventAttributes:
		ev = parent.event(enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED)
		ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionCompletedEventAttributes{ChildWorkflowExecutionCompletedEventAttributes: &historypb.ChildWorkflowExecutionCompletedEventAttributes{
			Result: a.WorkflowExecutionCompletedEventAttributes.Result, Namespace: ns, WorkflowExecution: exec,
			WorkflowType: typ, InitiatedEventId: init, StartedEventId: started,
		}}
	case *historypb.HistoryEvent_WorkflowExecutionFailedEventAttributes:
		ev = parent.event(enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED)
		ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionFailedEventAttributes{ChildWorkflowExecutionFailedEventAttributes: &historypb.ChildWorkflowExecutionFailedEventAttributes{
			Failure: a.WorkflowExecutionFailedEventAttributes.Failure, Namespace: ns, WorkflowExecution: exec,
			WorkflowType: typ, InitiatedEventId: init, StartedEventId: started, RetryState: a.WorkflowExecutionFailedEventAttributes.RetryState,
		}}
	case *historypb.HistoryEvent_WorkflowExecutionCanceledEventAttributes:
		ev = parent.event(enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED)
		ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionCanceledEventAttributes{ChildWorkflowExecutionCanceledEventAttributes: &historypb.ChildWorkflowExecutionCanceledEventAttributes{
			Details: a.WorkflowExecutionCanceledEventAttributes.Details, Namespace: ns, WorkflowExecution: exec,
			WorkflowType: typ, InitiatedEventId: init, StartedEventId: started,
		}}
	case *historypb.HistoryEvent_WorkflowExecutionTerminatedEventAttributes:
		ev = parent.event(enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED)
		ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionTerminatedEventAttributes{ChildWorkflowExecutionTerminatedEventAttributes: &historypb.ChildWorkflowExecutionTerminatedEventAttributes{
			Namespace: ns, WorkflowExecution: exec, WorkflowType: typ, InitiatedEventId: init, StartedEventId: started,
		}}
	case *historypb.HistoryEvent_WorkflowExecutionTimedOutEventAttributes:
		ev = parent.event(enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT)
		ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionTimedOutEventAttributes{ChildWorkflowExecutionTimedOutEventAttributes: &historypb.ChildWorkflowExecutionTimedOutEventAttributes{
			Namespace: ns, WorkflowExecution: exec, WorkflowType: typ, InitiatedEventId: init, StartedEventId: started,
			RetryState: a.WorkflowExecutionTimedOutEventAttributes.RetryState,
		}}
	default:
		return
	}
	parent.record(ev)
	parent.save()
}

// applyParentClosePolicy acts on the children of a run that just closed.
func (w *wf) applyParentClosePolicy() {
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

// signalExternal applies SignalExternalWorkflowExecution: Initiated, then
// (same entry) the target's Signaled event and ExternalWorkflowExecutionSignaled,
// or SignalExternalWorkflowExecutionFailed.
func (w *wf) signalExternal(a *commandpb.SignalExternalWorkflowExecutionCommandAttributes, completedID int64) {
	s := w.st
	ns := a.Namespace
	if ns == "" {
		ns = s.Namespace
	}
	ev := w.event(enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED)
	ev.Attributes = &historypb.HistoryEvent_SignalExternalWorkflowExecutionInitiatedEventAttributes{SignalExternalWorkflowExecutionInitiatedEventAttributes: &historypb.SignalExternalWorkflowExecutionInitiatedEventAttributes{
		WorkflowTaskCompletedEventId: completedID, Namespace: ns, WorkflowExecution: a.Execution,
		SignalName: a.SignalName, Input: a.Input, Control: a.Control, ChildWorkflowOnly: a.ChildWorkflowOnly, Header: a.Header,
	}}
	w.appendEvents(ev)
	target, err := w.t.loadRunning(ns, a.GetExecution().GetWorkflowId(), a.GetExecution().GetRunId())
	cause := enumspb.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND
	if err == nil && target.st.SignalCount >= MaxSignalsPerExecution {
		cause, err = enumspb.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_SIGNAL_COUNT_LIMIT_EXCEEDED, ErrSignalLimit
	}
	if err != nil || (target.st.RunId == s.RunId && target.st.WorkflowId == s.WorkflowId) {
		f := w.event(enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED)
		f.Attributes = &historypb.HistoryEvent_SignalExternalWorkflowExecutionFailedEventAttributes{SignalExternalWorkflowExecutionFailedEventAttributes: &historypb.SignalExternalWorkflowExecutionFailedEventAttributes{
			Cause:                        cause,
			WorkflowTaskCompletedEventId: completedID, Namespace: ns, WorkflowExecution: a.Execution,
			InitiatedEventId: ev.EventId, Control: a.Control,
		}}
		w.appendEvents(f)
		return
	}
	sig := target.event(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
	sig.Attributes = &historypb.HistoryEvent_WorkflowExecutionSignaledEventAttributes{WorkflowExecutionSignaledEventAttributes: &historypb.WorkflowExecutionSignaledEventAttributes{
		SignalName: a.SignalName, Input: a.Input, Identity: s.Identity, Header: a.Header,
		ExternalWorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: s.WorkflowId, RunId: s.RunId},
	}}
	target.st.SignalCount++
	target.record(sig)
	target.save()
	done := w.event(enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED)
	done.Attributes = &historypb.HistoryEvent_ExternalWorkflowExecutionSignaledEventAttributes{ExternalWorkflowExecutionSignaledEventAttributes: &historypb.ExternalWorkflowExecutionSignaledEventAttributes{
		InitiatedEventId: ev.EventId, Namespace: ns, Control: a.Control,
		WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: target.st.WorkflowId, RunId: target.st.RunId},
	}}
	w.appendEvents(done)
}

// cancelExternal applies RequestCancelExternalWorkflowExecution.
func (w *wf) cancelExternal(a *commandpb.RequestCancelExternalWorkflowExecutionCommandAttributes, completedID int64) {
	s := w.st
	ns := a.Namespace
	if ns == "" {
		ns = s.Namespace
	}
	exec := &commonpb.WorkflowExecution{WorkflowId: a.WorkflowId, RunId: a.RunId}
	ev := w.event(enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED)
	ev.Attributes = &historypb.HistoryEvent_RequestCancelExternalWorkflowExecutionInitiatedEventAttributes{RequestCancelExternalWorkflowExecutionInitiatedEventAttributes: &historypb.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes{
		WorkflowTaskCompletedEventId: completedID, Namespace: ns, WorkflowExecution: exec,
		Control: a.Control, ChildWorkflowOnly: a.ChildWorkflowOnly, Reason: a.Reason,
	}}
	w.appendEvents(ev)
	target, err := w.t.loadRunning(ns, a.WorkflowId, a.RunId)
	if err != nil || (target.st.RunId == s.RunId && target.st.WorkflowId == s.WorkflowId) {
		f := w.event(enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED)
		f.Attributes = &historypb.HistoryEvent_RequestCancelExternalWorkflowExecutionFailedEventAttributes{RequestCancelExternalWorkflowExecutionFailedEventAttributes: &historypb.RequestCancelExternalWorkflowExecutionFailedEventAttributes{
			Cause:                        enumspb.CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
			WorkflowTaskCompletedEventId: completedID, Namespace: ns, WorkflowExecution: exec,
			InitiatedEventId: ev.EventId, Control: a.Control,
		}}
		w.appendEvents(f)
		return
	}
	if !target.st.CancelRequested {
		target.requestCancel(a.Reason, s.Identity, &fsmpb.ParentInfo{WorkflowId: s.WorkflowId, RunId: s.RunId, InitiatedEventId: ev.EventId})
		target.save()
	}
	done := w.event(enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED)
	done.Attributes = &historypb.HistoryEvent_ExternalWorkflowExecutionCancelRequestedEventAttributes{ExternalWorkflowExecutionCancelRequestedEventAttributes: &historypb.ExternalWorkflowExecutionCancelRequestedEventAttributes{
		InitiatedEventId: ev.EventId, Namespace: ns,
		WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: target.st.WorkflowId, RunId: target.st.RunId},
	}}
	w.appendEvents(done)
}

// continueAsNew closes the run with WorkflowExecutionContinuedAsNew and starts
// the next run of the same workflow id in the same entry.
func (w *wf) continueAsNew(a *commandpb.ContinueAsNewWorkflowExecutionCommandAttributes, completedID int64) {
	s := w.st
	typ := a.WorkflowType
	if typ.GetName() == "" {
		typ = s.WorkflowType
	}
	tq := a.GetTaskQueue().GetName()
	if tq == "" {
		tq = s.TaskQueue
	}
	runTimeout, taskTimeout := a.WorkflowRunTimeout, a.WorkflowTaskTimeout
	if nanosOf(runTimeout) <= 0 {
		runTimeout = dur(s.RunTimeout)
	}
	if nanosOf(taskTimeout) <= 0 {
		taskTimeout = dur(s.TaskTimeout)
	}
	newRunID := w.t.newRunID()
	ev := w.event(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW)
	ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionContinuedAsNewEventAttributes{WorkflowExecutionContinuedAsNewEventAttributes: &historypb.WorkflowExecutionContinuedAsNewEventAttributes{
		NewExecutionRunId: newRunID, WorkflowType: typ, TaskQueue: &taskqueuepb.TaskQueue{Name: tq, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		Input: a.Input, WorkflowRunTimeout: runTimeout, WorkflowTaskTimeout: taskTimeout,
		WorkflowTaskCompletedEventId: completedID, BackoffStartInterval: a.BackoffStartInterval,
		Initiator: a.Initiator, Failure: a.Failure, LastCompletionResult: a.LastCompletionResult,
		Header: a.Header, Memo: a.Memo, SearchAttributes: a.SearchAttributes,
	}}
	retry := a.RetryPolicy
	if retry == nil {
		retry = s.RetryPolicy
	}
	cron := a.CronSchedule
	if cron == "" {
		cron = s.CronSchedule
	}
	w.startNextRun(ev, enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, newRunID, &workflowservice.StartWorkflowExecutionRequest{
		Namespace: s.Namespace, WorkflowId: s.WorkflowId, WorkflowType: typ, TaskQueue: &taskqueuepb.TaskQueue{Name: tq},
		Input: a.Input, WorkflowRunTimeout: runTimeout, WorkflowTaskTimeout: taskTimeout, Identity: s.Identity,
		RetryPolicy: retry, CronSchedule: cron, Memo: orMemo(a.Memo, s.Memo), SearchAttributes: orSA(a.SearchAttributes, s.SearchAttributes),
		Header: a.Header,
	}, runLinks{initiator: canInitiator(a.Initiator), backoff: nanosOf(a.BackoffStartInterval), lastResult: a.LastCompletionResult, lastFailure: a.Failure})
}

// canInitiator is the initiator the next run of a continue-as-new records:
// the command's, or WORKFLOW when the command names none (the SDKs leave
// it unset), as Temporal defaults it. The ContinuedAsNew event keeps the
// command's value, as in Temporal.
func canInitiator(i enumspb.ContinueAsNewInitiator) enumspb.ContinueAsNewInitiator {
	if i == enumspb.CONTINUE_AS_NEW_INITIATOR_UNSPECIFIED {
		return enumspb.CONTINUE_AS_NEW_INITIATOR_WORKFLOW
	}
	return i
}

// startNextRun closes this run with closeEv and starts its successor (same
// workflow id, parent and first run id) in the same entry.
func (w *wf) startNextRun(closeEv *historypb.HistoryEvent, status enumspb.WorkflowExecutionStatus, runID string,
	req *workflowservice.StartWorkflowExecutionRequest, l runLinks) {
	s := w.st
	w.closeRun(closeEv, status)
	l.parent, l.continuedRunID, l.firstRunID = s.Parent, s.RunId, s.FirstRunId
	if s.ExecutionExpiration > 0 {
		l.expiration = s.ExecutionExpiration
	}
	if l.attempt == 0 {
		l.attempt = 1
	}
	next := w.t.newRun(runID, req, l)
	next.startFirstWorkflowTask()
	next.save()
}

func orMemo(a, b *commonpb.Memo) *commonpb.Memo {
	if a != nil {
		return a
	}
	return b
}

func orSA(a, b *commonpb.SearchAttributes) *commonpb.SearchAttributes {
	if a != nil {
		return a
	}
	return b
}

// workflowRetry decides whether a failed or timed-out run is retried by its
// workflow retry policy: the backoff before the next attempt, or a final state.
func (w *wf) workflowRetry(f *failurepb.Failure) (int64, enumspb.RetryState) {
	s := w.st
	if s.RetryPolicy == nil {
		return 0, enumspb.RETRY_STATE_RETRY_POLICY_NOT_SET
	}
	p := normalizeRetryPolicy(s.RetryPolicy)
	if p.MaximumAttempts > 0 && s.Attempt >= p.MaximumAttempts {
		return 0, enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED
	}
	if app := f.GetApplicationFailureInfo(); app != nil && (app.NonRetryable || containsStr(p.NonRetryableErrorTypes, app.Type)) {
		return 0, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE
	}
	backoff := retryBackoff(p, s.Attempt)
	if d := nanosOf(f.GetApplicationFailureInfo().GetNextRetryDelay()); d > 0 {
		backoff = d // as Temporal, which honours it for workflows as for activities
	}
	if s.ExecutionExpiration > 0 && reaches(after(w.t.now, backoff), s.ExecutionExpiration) {
		return 0, enumspb.RETRY_STATE_TIMEOUT
	}
	return backoff, enumspb.RETRY_STATE_IN_PROGRESS
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// retryRun closes the run with closeEv (whose new_execution_run_id the caller
// sets) and starts the next attempt after backoff.
func (w *wf) retryRun(closeEv *historypb.HistoryEvent, status enumspb.WorkflowExecutionStatus, runID string, backoff int64, f *failurepb.Failure) {
	s := w.st
	var first historypb.HistoryEvent
	getProto(w.t.b, historyKey(s.Namespace, s.WorkflowId, s.RunId, 1), &first)
	start := first.GetWorkflowExecutionStartedEventAttributes()
	w.startNextRun(closeEv, status, runID, &workflowservice.StartWorkflowExecutionRequest{
		Namespace: s.Namespace, WorkflowId: s.WorkflowId, WorkflowType: s.WorkflowType,
		TaskQueue: &taskqueuepb.TaskQueue{Name: s.TaskQueue}, Input: start.GetInput(),
		WorkflowRunTimeout: dur(s.RunTimeout), WorkflowTaskTimeout: dur(s.TaskTimeout), Identity: s.Identity,
		RetryPolicy: s.RetryPolicy, CronSchedule: s.CronSchedule, Memo: s.Memo, SearchAttributes: s.SearchAttributes,
		Header: start.GetHeader(),
	}, runLinks{attempt: s.Attempt + 1, backoff: backoff, initiator: enumspb.CONTINUE_AS_NEW_INITIATOR_RETRY, lastFailure: f})
}
