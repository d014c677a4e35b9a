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
)

// Run chains: continue-as-new, workflow retry, the next cron run and new run
// ids: how a run closes and hands its workflow id on to the next run of the
// chain in the same entry. The cron schedule arithmetic is in cron.go, the
// one retry evaluator in retry.go.

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

// applyContinueAsNew applies the ContinueAsNewWorkflowExecution command.
func (w *run) applyContinueAsNew(tc *taskCompletion, c *commandpb.Command) bool {
	w.continueAsNew(c.GetContinueAsNewWorkflowExecutionCommandAttributes(), tc.completedID)
	return false
}

// continueAsNew closes the run with WorkflowExecutionContinuedAsNew and starts
// the next run of the same workflow id in the same entry.
func (w *run) continueAsNew(a *commandpb.ContinueAsNewWorkflowExecutionCommandAttributes, completedID int64) {
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
	ev := w.workflowExecutionContinuedAsNewEvent(&historypb.WorkflowExecutionContinuedAsNewEventAttributes{
		NewExecutionRunId: newRunID, WorkflowType: typ, TaskQueue: &taskqueuepb.TaskQueue{Name: tq, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		Input: a.Input, WorkflowRunTimeout: runTimeout, WorkflowTaskTimeout: taskTimeout,
		WorkflowTaskCompletedEventId: completedID, BackoffStartInterval: a.BackoffStartInterval,
		Initiator: a.Initiator, Failure: a.Failure, LastCompletionResult: a.LastCompletionResult,
		Header: a.Header, Memo: a.Memo, SearchAttributes: a.SearchAttributes,
	})
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
		Header: a.Header, Priority: s.Priority,
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
func (w *run) startNextRun(closeEv *historypb.HistoryEvent, status enumspb.WorkflowExecutionStatus, runID string,
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

// A run that completes, fails or times out may hand over to the next run of
// its chain: a retry (retryOrClose) or the next cron run (closeOrCron). Its
// close event then names that run; closeEvent builds it for the next run's id
// ("": none).

// retryOrClose ends a run that failed with f (a failure or a run timeout):
// the next attempt when the retry policy retries it (retryDecision), else
// closeOrCron. closeEvent also takes the decision's retry state.
func (w *run) retryOrClose(f *failurepb.Failure, status enumspb.WorkflowExecutionStatus,
	closeEvent func(state enumspb.RetryState, newRunID string) *historypb.HistoryEvent) {
	s := w.st
	backoff, state := retryDecision(s.RetryPolicy, s.Attempt, f, w.t.now, executionExpiry(s))
	if state == enumspb.RETRY_STATE_IN_PROGRESS {
		runID := w.t.newRunID()
		req, _ := w.repeatRequest()
		w.startNextRun(closeEvent(state, runID), status, runID, req,
			runLinks{attempt: s.Attempt + 1, backoff: backoff, initiator: enumspb.CONTINUE_AS_NEW_INITIATOR_RETRY, lastFailure: f})
		return
	}
	w.closeOrCron(status, nil, f, func(newRunID string) *historypb.HistoryEvent { return closeEvent(state, newRunID) })
}

// closeOrCron ends a run that completed, or failed or timed out without a
// retry: the next cron run when the run's schedule has one within the
// execution's expiration, else just the close. result is the run's result
// (completion) and f its failure; a failed run hands on the last successful
// run's result.
func (w *run) closeOrCron(status enumspb.WorkflowExecutionStatus, result *commonpb.Payloads, f *failurepb.Failure,
	closeEvent func(newRunID string) *historypb.HistoryEvent) {
	s := w.st
	backoff, ok := int64(0), false
	if s.CronSchedule != "" {
		backoff, ok = cronBackoff(s.CronSchedule, s.StartTime, w.t.now)
	}
	if !ok || (s.ExecutionExpiration > 0 && reaches(after(w.t.now, backoff), s.ExecutionExpiration)) {
		w.closeRun(closeEvent(""), status)
		return
	}
	runID := w.t.newRunID()
	req, start := w.repeatRequest()
	if result == nil {
		result = start.GetLastCompletionResult()
	}
	w.startNextRun(closeEvent(runID), status, runID, req,
		runLinks{backoff: backoff, initiator: enumspb.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE, lastResult: result, lastFailure: f})
}

// repeatRequest is the start request of the run's next retry or cron run:
// the run's own, with the input and header of its Started event (returned
// too).
func (w *run) repeatRequest() (*workflowservice.StartWorkflowExecutionRequest, *historypb.WorkflowExecutionStartedEventAttributes) {
	s := w.st
	var first historypb.HistoryEvent
	getProto(w.t.b, historyKey(s.Namespace, s.WorkflowId, s.RunId, 1), &first)
	start := first.GetWorkflowExecutionStartedEventAttributes()
	return &workflowservice.StartWorkflowExecutionRequest{
		Namespace: s.Namespace, WorkflowId: s.WorkflowId, WorkflowType: s.WorkflowType,
		TaskQueue: &taskqueuepb.TaskQueue{Name: s.TaskQueue}, Input: start.GetInput(),
		WorkflowRunTimeout: dur(s.RunTimeout), WorkflowTaskTimeout: dur(s.TaskTimeout), Identity: s.Identity,
		RetryPolicy: s.RetryPolicy, CronSchedule: s.CronSchedule, Memo: s.Memo, SearchAttributes: s.SearchAttributes,
		Header: start.GetHeader(), Priority: s.Priority,
	}, start
}
