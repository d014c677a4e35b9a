package fsm

import (
	"errors"
	"fmt"

	activitypb "go.temporal.io/api/activity/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// Domain outcomes returned in Result.Err. rpc/ maps them to gRPC codes.
var (
	ErrNamespaceNotFound = errors.New("fsm: namespace not found")
	ErrNamespaceExists   = errors.New("fsm: namespace already exists")
	ErrWorkflowNotFound  = errors.New("fsm: workflow execution not found")
	ErrAlreadyStarted    = errors.New("fsm: workflow execution already started")
	ErrWorkflowClosed    = errors.New("fsm: workflow execution already completed")
	// ErrStaleTask means the task (token or backlog row) no longer matches the
	// workflow: it was completed, timed out or superseded.
	ErrStaleTask = errors.New("fsm: task not found or no longer current")
	// ErrActivityNotFound: an activity operation named no pending activity.
	ErrActivityNotFound = errors.New("fsm: activity not found")
	ErrBadCommand       = errors.New("fsm: invalid workflow command")
	ErrInvalidArgument  = errors.New("fsm: invalid argument")
	ErrUnknownOperation = errors.New("fsm: unknown operation")
	// ErrHistoryLimit: the run's history grew past HistoryCountLimit or
	// HistorySizeLimit; the run was terminated instead of acting.
	ErrHistoryLimit = errors.New("fsm: workflow history exceeds limit")
	// ErrSignalLimit: the run already received MaxSignalsPerExecution signals.
	ErrSignalLimit = errors.New("fsm: exceeded workflow execution limit for signal events")
)

// AlreadyStartedError carries the running execution's identity.
type AlreadyStartedError struct {
	RunID           string
	StartRequestID  string
	WorkflowID      string
	ExistingRunning bool
	// Message is Temporal's text for the policy that refused the start
	// (clients match on its prefix, e.g. "Workflow execution already finished").
	Message string
}

func (e *AlreadyStartedError) Error() string {
	return fmt.Sprintf("%v: workflow id %q, run id %q", ErrAlreadyStarted, e.WorkflowID, e.RunID)
}
func (e *AlreadyStartedError) Unwrap() error { return ErrAlreadyStarted }

// BadCommandError says why a workflow task's commands were rejected; the
// workflow task was recorded as failed with Cause.
type BadCommandError struct {
	Cause   enumspb.WorkflowTaskFailedCause
	Message string
}

func (e *BadCommandError) Error() string {
	return fmt.Sprintf("%v: %s (%s)", ErrBadCommand, e.Message, e.Cause)
}
func (e *BadCommandError) Unwrap() error { return ErrBadCommand }

func invalidArg(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, args...)...)
}

// Result is what Apply returns for every command (as the raft response).
type Result struct {
	// Err is the domain outcome; nil on success.
	Err error
	// Skipped: the entry was at or below the applied index (replay).
	Skipped bool
	// RunID of the started (or existing, for a deduplicated start) run.
	RunID string
	// Started is false when a start was answered by an existing run.
	Started bool
	// WorkflowTask is set by RecordTaskStarted for a workflow task, by an
	// eager start and by a completion with return_new_workflow_task.
	WorkflowTask *StartedWorkflowTask
	// ResetHistoryEventID: the completed task was speculative and dropped;
	// the worker rewinds its history to this event (Temporal's
	// reset_history_event_id: the last completed task's started event).
	ResetHistoryEventID int64
	// ActivityTask is set by RecordTaskStarted for an activity task.
	ActivityTask *StartedActivityTask
	// CancelRequested, ActivityPaused and ActivityReset answer a heartbeat.
	CancelRequested, ActivityPaused, ActivityReset bool
	// NamespacePurged: a PurgeNamespace found nothing left; the namespace is gone.
	NamespacePurged bool
	// ActivityOptions: the options an UpdateActivityOptions left in force.
	ActivityOptions *activitypb.ActivityOptions
	// NotDue lists FireTimers keys that were not yet due (to retry).
	NotDue [][]byte
	// Updates lists the update progress a workflow task completion made.
	Updates []UpdateOutcome
	// EagerActivities are activities started by a workflow task completion
	// for the completing worker to run (eager activity execution).
	EagerActivities []*StartedActivityTask
}

// StartedWorkflowTask is what a poller needs to build its response.
type StartedWorkflowTask struct {
	Token           *fsmpb.TaskToken
	WorkflowType    *commonpb.WorkflowType
	TaskQueue       string
	NormalTaskQueue string
	// Sticky: the task came from a worker's sticky queue, so the poller
	// gets only the events after PreviousStartedEventID.
	Sticky                 bool
	PreviousStartedEventID int64
	StartedEventID         int64
	Attempt                int32
	ScheduledTime          int64
	StartedTime            int64
	// SpeculativeEvents: the task is speculative; its Scheduled and Started
	// events are not in history, and the worker's history ends with them.
	SpeculativeEvents []*historypb.HistoryEvent
}

// StartedActivityTask is what an activity poller needs.
type StartedActivityTask struct {
	Token        *fsmpb.TaskToken
	WorkflowType *commonpb.WorkflowType
	Activity     *fsmpb.ActivityInfo // a copy
}
