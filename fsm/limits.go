package fsm

import (
	commandpb "go.temporal.io/api/command/v1"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// Limits the state machine applies itself. They decide what a history
// contains, so they are constants every replica agrees on, never settings.
// rpc/limits.go lists them beside the limits rpc/ enforces. The values are
// the Temporal server's defaults.
const (
	// HistoryCountSuggestContinueAsNew and HistorySizeSuggestContinueAsNew:
	// from here on every WorkflowTaskStarted event carries
	// suggest_continue_as_new (Temporal's limit.historyCount.suggestContinueAsNew
	// and limit.historySize.suggestContinueAsNew).
	HistoryCountSuggestContinueAsNew = 4 * 1024
	HistorySizeSuggestContinueAsNew  = 4 << 20
	// HistoryCountLimit and HistorySizeLimit: a run whose history grew past
	// either is terminated the next time anything acts on it (Temporal's
	// limit.historyCount.error and limit.historySize.error).
	HistoryCountLimit = 50 * 1024
	HistorySizeLimit  = 50 << 20
	// MaxPendingActivities, MaxPendingChildren, MaxPendingSignals and
	// MaxPendingCancelRequests bound what one run may have in flight; a
	// workflow task whose commands would exceed one fails with the matching
	// WorkflowTaskFailedCause (Temporal's limit.numPending*.error). External
	// signals and cancel requests complete in the entry that issues them, so
	// for those two the bound applies to one workflow task's commands.
	MaxPendingActivities     = 2000
	MaxPendingChildren       = 2000
	MaxPendingSignals        = 2000
	MaxPendingCancelRequests = 2000
	// MaxSignalsPerExecution bounds the signals one run accepts (Temporal's
	// history.maximumSignalsPerExecution); later ones get ErrSignalLimit.
	MaxSignalsPerExecution = 10000
)

// Temporal's termination reasons for a history over its limit.
const (
	reasonHistorySize  = "Workflow history size exceeds limit."
	reasonHistoryCount = "Workflow history count exceeds limit."
)

// historyOverLimit returns the termination reason when the run's history is
// past a hard limit ("" when it is not).
func historyOverLimit(st *fsmpb.WorkflowState) string {
	switch {
	case st.HistorySizeBytes > HistorySizeLimit:
		return reasonHistorySize
	case st.NextEventId-1 > HistoryCountLimit:
		return reasonHistoryCount
	}
	return ""
}

// suggestContinueAsNew says why a run should continue as new (nil: it need not).
func suggestContinueAsNew(st *fsmpb.WorkflowState) []enumspb.SuggestContinueAsNewReason {
	var out []enumspb.SuggestContinueAsNewReason
	if st.HistorySizeBytes >= HistorySizeSuggestContinueAsNew {
		out = append(out, enumspb.SUGGEST_CONTINUE_AS_NEW_REASON_HISTORY_SIZE_TOO_LARGE)
	}
	if st.NextEventId-1 >= HistoryCountSuggestContinueAsNew {
		out = append(out, enumspb.SUGGEST_CONTINUE_AS_NEW_REASON_TOO_MANY_HISTORY_EVENTS)
	}
	return out
}

// checkCommandLimits fails a workflow task whose commands would take the run
// past a pending-work limit (Temporal checks each command as it applies it;
// the first one over the limit fails the task, which discards them all, so
// checking before applying any is the same) or name an unusable cron
// schedule.
func (w *run) checkCommandLimits(cmds []*commandpb.Command) *BadCommandError {
	activities, children := len(w.st.Activities), len(w.st.Children)
	var signals, cancels int
	over := func(n *int, limit int) bool {
		if *n >= limit {
			return true
		}
		*n++
		return false
	}
	for i, c := range cmds {
		switch c.CommandType {
		case enumspb.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK:
			if over(&activities, MaxPendingActivities) {
				return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_PENDING_ACTIVITIES_LIMIT_EXCEEDED,
					"command %d: the workflow already has %d pending activities (the limit)", i, MaxPendingActivities)
			}
		case enumspb.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION:
			if over(&children, MaxPendingChildren) {
				return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_PENDING_CHILD_WORKFLOWS_LIMIT_EXCEEDED,
					"command %d: the workflow already has %d pending child workflows (the limit)", i, MaxPendingChildren)
			}
			if cs := c.GetStartChildWorkflowExecutionCommandAttributes().GetCronSchedule(); cs != "" {
				if err := ValidCronSchedule(cs); err != nil {
					return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES,
						"command %d: cron_schedule %q: %v", i, cs, err)
				}
			}
		case enumspb.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION:
			if over(&signals, MaxPendingSignals) {
				return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_PENDING_SIGNALS_LIMIT_EXCEEDED,
					"command %d: more than %d external signals in one workflow task", i, MaxPendingSignals)
			}
		case enumspb.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION:
			if over(&cancels, MaxPendingCancelRequests) {
				return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_PENDING_REQUEST_CANCEL_LIMIT_EXCEEDED,
					"command %d: more than %d external cancel requests in one workflow task", i, MaxPendingCancelRequests)
			}
		case enumspb.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
			if cs := c.GetContinueAsNewWorkflowExecutionCommandAttributes().GetCronSchedule(); cs != "" {
				if err := ValidCronSchedule(cs); err != nil {
					return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES,
						"command %d: cron_schedule %q: %v", i, cs, err)
				}
			}
		}
	}
	return nil
}
