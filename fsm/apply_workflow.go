package fsm

import (
	"fmt"
	"slices"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// DefaultNamespace always exists.
const (
	DefaultNamespace   = "default"
	DefaultNamespaceID = "00000000-0000-4000-8000-000000000001"
	// DefaultWorkflowTaskTimeout and MaxWorkflowTaskTimeout match Temporal.
	DefaultWorkflowTaskTimeout = 10 * time.Second
	MaxWorkflowTaskTimeout     = 120 * time.Second
	// MaxEagerActivities bounds the activities one workflow task completion
	// hands back to its worker (Temporal's default).
	MaxEagerActivities = 10
	// DefaultStickyScheduleToStart is used when a worker names no timeout.
	DefaultStickyScheduleToStart = 5 * time.Second
	// maxSignalRequestIDs bounds the per-run signal dedup memory.
	maxSignalRequestIDs = 1000
)

// namespaceExists reports whether ns is registered and not deleted.
func (t *txn) namespaceExists(ns string) bool {
	if ns == DefaultNamespace {
		return true
	}
	var rec fsmpb.NamespaceRecord
	return t.get(namespaceKey(ns), &rec) && !namespaceDeleted(&rec)
}

func (t *txn) registerNamespace(op *fsmpb.RegisterNamespace) *Result {
	req := op.GetRequest()
	if req.GetNamespace() == "" {
		return &Result{Err: invalidArg("namespace is required")}
	}
	if t.namespaceExists(req.Namespace) {
		return &Result{Err: ErrNamespaceExists}
	}
	if t.get(namespaceKey(req.Namespace), &fsmpb.NamespaceRecord{}) {
		// Deleted, its runs not yet purged: the name is free once they are.
		return &Result{Err: fmt.Errorf("%w: namespace %s is being deleted; register it again once it is gone", ErrNamespaceExists, req.Namespace)}
	}
	t.set(namespaceKey(req.Namespace), &fsmpb.NamespaceRecord{
		Info: &namespacepb.NamespaceInfo{
			Name: req.Namespace, Id: op.NamespaceId, State: enumspb.NAMESPACE_STATE_REGISTERED,
			Description: req.Description, OwnerEmail: req.OwnerEmail, Data: req.Data,
		},
		Config: &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: req.WorkflowExecutionRetentionPeriod},
	})
	return &Result{}
}

func (t *txn) startWorkflow(op *fsmpb.StartWorkflow) *Result {
	req := op.GetRequest()
	ns := req.GetNamespace()
	if req.GetWorkflowId() == "" || req.GetWorkflowType().GetName() == "" || req.GetTaskQueue().GetName() == "" || op.RunId == "" {
		return &Result{Err: invalidArg("workflow_id, workflow_type, task_queue and run_id are required")}
	}
	if !t.namespaceExists(ns) {
		return &Result{Err: ErrNamespaceNotFound}
	}
	if req.RequestId != "" {
		var dedup fsmpb.CurrentRun
		if t.get(dedupKey(ns, req.RequestId), &dedup) {
			return &Result{RunID: dedup.RunId}
		}
	}
	var cur fsmpb.CurrentRun
	if t.get(currentKey(ns, req.WorkflowId), &cur) {
		if res := t.resolveConflict(req.WorkflowId, ns, &cur, req.WorkflowIdConflictPolicy, req.WorkflowIdReusePolicy); res != nil {
			return res
		}
	}
	w := t.newRun(op.RunId, req, runLinks{})
	w.startFirstWorkflowTask()
	var eager *StartedWorkflowTask
	if req.RequestEagerExecution {
		eager = w.startInlineWorkflowTask(req.Identity, "eager-"+req.RequestId)
	}
	w.save()
	if req.RequestId != "" {
		t.set(dedupKey(ns, req.RequestId), &fsmpb.CurrentRun{RunId: op.RunId})
	}
	return &Result{RunID: op.RunId, Started: true, WorkflowTask: eager}
}

// startInlineWorkflowTask hands the run's just-scheduled workflow task
// straight to a worker that asked for it in the same request (eager
// workflow start; a completion's return_new_workflow_task): it is recorded
// as started by identity in that request's own transaction and never
// reaches the task queue. It returns nil when the run has no task to hand
// out yet (a start delay, a cron schedule's first wait).
func (w *run) startInlineWorkflowTask(identity, pollRequestID string) *StartedWorkflowTask {
	wt := w.st.WorkflowTask
	if wt == nil || len(wt.TaskKey) == 0 || wt.StartedEventId != 0 {
		return nil
	}
	key := wt.TaskKey
	res := w.startWorkflowTask(&fsmpb.RecordTaskStarted{TaskKey: key, Identity: identity, PollRequestId: pollRequestID})
	w.t.dropTaskHints(key)
	return res.WorkflowTask
}

// resolveConflict applies the ID conflict policy (a run is running) or the
// ID reuse policy (the last run is closed). nil means: go ahead and start.
func (t *txn) resolveConflict(wfID, ns string, cur *fsmpb.CurrentRun,
	conflict enumspb.WorkflowIdConflictPolicy, reuse enumspb.WorkflowIdReusePolicy) *Result {
	started := &AlreadyStartedError{RunID: cur.RunId, StartRequestID: cur.CreateRequestId, WorkflowID: wfID}
	if cur.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		switch {
		case conflict == enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING:
			return &Result{RunID: cur.RunId}
		case conflict == enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING,
			reuse == enumspb.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING:
			w, err := t.loadRunning(ns, wfID, cur.RunId)
			if err != nil {
				return &Result{Err: err}
			}
			w.terminate("terminated by a new start (ID conflict policy)", "raftflow", nil)
			w.save()
			return nil
		default:
			started.ExistingRunning = true
			started.Message = fmt.Sprintf("Workflow execution is already running. WorkflowId: %v, RunId: %v.",
				wfID, cur.RunId)
			return &Result{Err: started}
		}
	}
	switch reuse {
	case enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE:
		started.Message = fmt.Sprintf("Workflow execution already finished. WorkflowId: %v, RunId: %v. "+
			"Workflow Id reuse policy: reject duplicate workflow Id.", wfID, cur.RunId)
		return &Result{Err: started}
	case enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY:
		if cur.Status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			started.Message = fmt.Sprintf("Workflow execution already finished successfully. WorkflowId: %v, "+
				"RunId: %v. Workflow Id reuse policy: allow duplicate workflow Id if last run failed.", wfID, cur.RunId)
			return &Result{Err: started}
		}
	}
	return nil
}

// newRun creates a run from a start request (also used, built from their
// own requests, by signal-with-start and continue-as-new later).
// runLinks carries what a run inherits from its parent or its previous run.
type runLinks struct {
	parent         *fsmpb.ParentInfo
	continuedRunID string
	firstRunID     string
	attempt        int32
	backoff        int64 // delay of the first workflow task
	expiration     int64 // absolute end of the execution chain (0: none)
	initiator      enumspb.ContinueAsNewInitiator
	lastResult     *commonpb.Payloads
	lastFailure    *failurepb.Failure
}

// newRun creates a run from a start request and writes its Started event.
// The caller schedules the first workflow task (startFirstWorkflowTask) or
// records an event first (signal-with-start).
func (t *txn) newRun(runID string, req *workflowservice.StartWorkflowExecutionRequest, l runLinks) *run {
	now := t.now
	startDelay := false
	if l.continuedRunID == "" && l.backoff == 0 {
		// A new chain: a cron schedule delays the first workflow task to
		// the first schedule time, else a start delay delays it.
		if b := firstCronBackoff(req.CronSchedule, now); b > 0 {
			l.backoff = b
		} else if d := nanosOf(req.WorkflowStartDelay); d > 0 {
			l.backoff, startDelay = d, true
		}
	}
	exec := nanosOf(req.WorkflowExecutionTimeout)
	runTimeout := nanosOf(req.WorkflowRunTimeout)
	if l.expiration > 0 {
		exec = max(l.expiration-now, 1)
	}
	if runTimeout == 0 || (exec > 0 && runTimeout > exec) {
		runTimeout = exec
	}
	task := nanosOf(req.WorkflowTaskTimeout)
	if task <= 0 {
		task = int64(DefaultWorkflowTaskTimeout)
	}
	task = min(task, int64(MaxWorkflowTaskTimeout))
	if runTimeout > 0 {
		task = min(task, runTimeout)
	}
	st := &fsmpb.WorkflowState{
		Namespace: req.Namespace, WorkflowId: req.WorkflowId, RunId: runID,
		WorkflowType: req.WorkflowType, TaskQueue: req.TaskQueue.GetName(),
		Status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, NextEventId: 1,
		StartTime: now, ExecutionTime: after(now, l.backoff), RunTimeout: runTimeout, ExecutionTimeout: exec, TaskTimeout: task,
		CreateRequestId: req.RequestId, Memo: req.Memo, SearchAttributes: req.SearchAttributes,
		FirstRunId: runID, Attempt: 1, Identity: req.Identity,
		Parent: l.parent, RetryPolicy: req.RetryPolicy, CronSchedule: req.CronSchedule,
		FirstWorkflowTaskBackoff: l.backoff, ContinuedRunId: l.continuedRunID, StartDelay: startDelay,
		Priority: req.Priority,
	}
	if l.firstRunID != "" {
		st.FirstRunId = l.firstRunID
	}
	if l.attempt > 0 {
		st.Attempt = l.attempt
	}
	if exec > 0 {
		st.ExecutionExpiration = after(now, exec)
	}
	w := &run{t: t, st: st, visDirty: true}
	t.hints = append(t.hints, hint{kind: hintRunStarted, ns: req.Namespace})
	attrs := &historypb.WorkflowExecutionStartedEventAttributes{
		WorkflowType: req.WorkflowType, WorkflowId: req.WorkflowId,
		TaskQueue:                &taskqueuepb.TaskQueue{Name: st.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		Input:                    req.Input,
		WorkflowExecutionTimeout: dur(exec), WorkflowRunTimeout: dur(runTimeout), WorkflowTaskTimeout: dur(task),
		Identity: req.Identity, OriginalExecutionRunId: runID, FirstExecutionRunId: st.FirstRunId, Attempt: st.Attempt,
		Header: req.Header, Memo: req.Memo, SearchAttributes: req.SearchAttributes,
		RetryPolicy: req.RetryPolicy, CronSchedule: req.CronSchedule,
		ContinuedExecutionRunId: l.continuedRunID, Initiator: l.initiator,
		LastCompletionResult: l.lastResult, ContinuedFailure: l.lastFailure,
		FirstWorkflowTaskBackoff: dur(l.backoff), Priority: req.Priority,
	}
	if p := l.parent; p != nil {
		attrs.ParentWorkflowNamespace = p.Namespace
		attrs.ParentWorkflowExecution = &commonpb.WorkflowExecution{WorkflowId: p.WorkflowId, RunId: p.RunId}
		attrs.ParentInitiatedEventId = p.InitiatedEventId
		attrs.RootWorkflowExecution = p.Root
	}
	if exec > 0 {
		attrs.WorkflowExecutionExpirationTime = ts(after(now, exec))
	}
	started := w.workflowExecutionStartedEvent(attrs)
	started.UserMetadata = req.UserMetadata // summary and details of the start (the UI shows them)
	w.appendEvents(started)
	if runTimeout > 0 {
		// The run timeout counts from the first workflow task (after any
		// backoff), within the execution's expiration.
		fire := after(after(now, l.backoff), runTimeout)
		if exec > 0 {
			fire = min(fire, after(now, exec))
		}
		w.addRunTimer(fsmpb.TimerKind_TIMER_KIND_WORKFLOW_RUN_TIMEOUT, fire)
	}
	if exec > 0 && exec != runTimeout {
		w.addRunTimer(fsmpb.TimerKind_TIMER_KIND_WORKFLOW_EXECUTION_TIMEOUT, after(now, exec))
	}
	t.set(currentKey(req.Namespace, req.WorkflowId), &fsmpb.CurrentRun{
		RunId: runID, Status: st.Status, CreateRequestId: req.RequestId,
	})
	return w
}

// startFirstWorkflowTask schedules the run's first workflow task, or a
// timer for it when the run starts with a backoff (retry, cron).
func (w *run) startFirstWorkflowTask() {
	if b := w.st.FirstWorkflowTaskBackoff; b > 0 {
		w.addRunTimer(fsmpb.TimerKind_TIMER_KIND_WORKFLOW_BACKOFF, after(w.t.now, b))
		return
	}
	w.ensureWorkflowTask()
}

func (t *txn) signalWithStart(op *fsmpb.SignalWithStart) *Result {
	req := op.GetRequest()
	ns := req.GetNamespace()
	if req.GetWorkflowId() == "" || req.GetWorkflowType().GetName() == "" || req.GetTaskQueue().GetName() == "" || op.RunId == "" {
		return &Result{Err: invalidArg("workflow_id, workflow_type, task_queue and run_id are required")}
	}
	if !t.namespaceExists(ns) {
		return &Result{Err: ErrNamespaceNotFound}
	}
	var cur fsmpb.CurrentRun
	if t.get(currentKey(ns, req.WorkflowId), &cur) {
		if cur.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING &&
			req.WorkflowIdConflictPolicy != enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING {
			res := t.signalWorkflow(&fsmpb.SignalWorkflow{Request: &workflowservice.SignalWorkflowExecutionRequest{
				Namespace: ns, WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: req.WorkflowId, RunId: cur.RunId},
				SignalName: req.SignalName, Input: req.SignalInput, Identity: req.Identity, RequestId: req.RequestId, Header: req.Header,
			}})
			return res
		}
		if res := t.resolveConflict(req.WorkflowId, ns, &cur, req.WorkflowIdConflictPolicy, req.WorkflowIdReusePolicy); res != nil {
			return res
		}
	}
	start := &workflowservice.StartWorkflowExecutionRequest{
		Namespace: ns, WorkflowId: req.WorkflowId, WorkflowType: req.WorkflowType, TaskQueue: req.TaskQueue,
		Input: req.Input, WorkflowExecutionTimeout: req.WorkflowExecutionTimeout, WorkflowRunTimeout: req.WorkflowRunTimeout,
		WorkflowTaskTimeout: req.WorkflowTaskTimeout, Identity: req.Identity, RequestId: req.RequestId,
		RetryPolicy: req.RetryPolicy, CronSchedule: req.CronSchedule, Memo: req.Memo,
		SearchAttributes: req.SearchAttributes, Header: req.Header, WorkflowStartDelay: req.WorkflowStartDelay,
		UserMetadata: req.UserMetadata,
	}
	w := t.newRun(op.RunId, start, runLinks{})
	// The signal comes with the first workflow task, after any cron
	// backoff or start delay.
	w.appendEvents(w.workflowExecutionSignaledEvent(req.SignalName, req.SignalInput, req.Identity, req.Header, nil))
	w.startFirstWorkflowTask()
	w.st.SignalCount = 1
	if req.RequestId != "" {
		w.st.SignalRequestIds = append(w.st.SignalRequestIds, req.RequestId)
	}
	w.save()
	return &Result{RunID: op.RunId, Started: true}
}

func (t *txn) requestCancelWorkflow(op *fsmpb.RequestCancelWorkflow) *Result {
	req := op.GetRequest()
	w, err := t.loadInChain(req.GetNamespace(), req.GetWorkflowExecution(), req.GetFirstExecutionRunId())
	if err != nil {
		return &Result{Err: err}
	}
	if !w.st.CancelRequested {
		w.requestCancel(req.Reason, req.Identity, nil)
		w.save()
	}
	return &Result{RunID: w.st.RunId}
}

// loadInChain loads the running run a cancel or terminate request names.
// With first_execution_run_id the request names a chain of runs, as
// Temporal: the run id is ignored, the current run is taken, and it must
// belong to that chain (ErrWorkflowNotFound otherwise).
func (t *txn) loadInChain(ns string, exec *commonpb.WorkflowExecution, firstRunID string) (*run, error) {
	runID := exec.GetRunId()
	if firstRunID != "" {
		runID = ""
	}
	w, err := t.loadRunning(ns, exec.GetWorkflowId(), runID)
	if err != nil {
		return nil, err
	}
	if firstRunID != "" && w.st.FirstRunId != firstRunID {
		return nil, ErrWorkflowNotFound
	}
	return w, nil
}

// requestCancel records a cancellation request the workflow code will see.
func (w *run) requestCancel(cause, identity string, external *fsmpb.ParentInfo) {
	w.st.CancelRequested = true
	var exec *commonpb.WorkflowExecution
	var initiatedID int64
	if external != nil {
		exec = &commonpb.WorkflowExecution{WorkflowId: external.WorkflowId, RunId: external.RunId}
		initiatedID = external.InitiatedEventId
	}
	w.record(w.workflowExecutionCancelRequestedEvent(cause, identity, exec, initiatedID))
}

func (t *txn) signalWorkflow(op *fsmpb.SignalWorkflow) *Result {
	req := op.GetRequest()
	w, err := t.loadRun(req.GetNamespace(), req.GetWorkflowExecution().GetWorkflowId(), req.GetWorkflowExecution().GetRunId())
	if err != nil {
		return &Result{Err: err}
	}
	// A retried signal (same request id) answers as the first attempt did,
	// even if the workflow has closed since: it was delivered. Only then
	// does a closed run refuse new signals. (The jepsen no-lost-acks checker
	// found the retry-after-close case answering NotFound.)
	if req.RequestId != "" && slices.Contains(w.st.SignalRequestIds, req.RequestId) {
		return &Result{RunID: w.st.RunId}
	}
	if w, err = t.loadRunning(w.st.Namespace, w.st.WorkflowId, w.st.RunId); err != nil {
		return &Result{Err: err}
	}
	if req.RequestId != "" {
		w.st.SignalRequestIds = append(w.st.SignalRequestIds, req.RequestId)
		if n := len(w.st.SignalRequestIds); n > maxSignalRequestIDs {
			w.st.SignalRequestIds = slices.Clone(w.st.SignalRequestIds[n-maxSignalRequestIDs:])
		}
	}
	if w.st.SignalCount >= MaxSignalsPerExecution {
		return &Result{Err: ErrSignalLimit}
	}
	w.st.SignalCount++
	w.record(w.workflowExecutionSignaledEvent(req.SignalName, req.Input, req.Identity, req.Header, nil))
	w.save()
	return &Result{RunID: w.st.RunId}
}

func (t *txn) terminateWorkflow(op *fsmpb.TerminateWorkflow) *Result {
	req := op.GetRequest()
	w, err := t.loadInChain(req.GetNamespace(), req.GetWorkflowExecution(), req.GetFirstExecutionRunId())
	if err != nil {
		return &Result{Err: err}
	}
	w.terminate(req.Reason, req.Identity, req.Details)
	w.save()
	return &Result{RunID: w.st.RunId}
}

func (w *run) terminate(reason, identity string, details *commonpb.Payloads) {
	w.failStartedWorkflowTask(enumspb.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND, identity)
	w.closeRun(w.workflowExecutionTerminatedEvent(reason, details, identity), enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED)
}

func (t *txn) resetSticky(op *fsmpb.ResetSticky) *Result {
	w, err := t.loadRun(op.Namespace, op.WorkflowId, op.RunId)
	if err != nil {
		return &Result{Err: err}
	}
	moved := w.unstickWorkflowTask()
	if w.st.StickyTaskQueue != "" || moved {
		w.clearSticky()
		w.save()
	}
	return &Result{}
}
