package fsm

import (
	"errors"
	"strings"
	"time"

	"github.com/robfig/cron"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// Cron schedules follow Temporal's semantics: the first run starts at once
// with its first workflow task delayed to the first schedule time; when a
// run completes, fails (after any retries) or reaches its run timeout, the
// next run starts in the same entry with a backoff to the next schedule time
// after the close. A cancel or terminate ends the chain. Schedules are
// standard five-field cron specs or descriptors (@hourly, @every 90s),
// always in UTC: time zones (CRON_TZ=) are not supported, which also keeps
// the computation independent of the host's time zone database.

// ValidCronSchedule reports whether schedule can be used (rpc/ checks it
// before a start is proposed).
func ValidCronSchedule(schedule string) error {
	if strings.HasPrefix(strings.TrimSpace(schedule), "CRON_TZ=") || strings.HasPrefix(strings.TrimSpace(schedule), "TZ=") {
		return errors.New("time zones (CRON_TZ=) are not supported; schedules are in UTC")
	}
	sched, err := cron.ParseStandard(schedule)
	if err != nil {
		return err
	}
	if sched.Next(time.Unix(0, 0).UTC()).IsZero() {
		return errors.New("the schedule never fires")
	}
	return nil
}

// cronBackoff is the delay from closeTime to the first schedule time not
// before it, counting schedule times from startTime (Temporal's
// GetBackoffForNextSchedule without jitter), rounded up to whole seconds.
// ok is false when there is no next time. It is a pure function of its
// arguments.
func cronBackoff(schedule string, startTime, closeTime int64) (int64, bool) {
	sched, err := cron.ParseStandard(schedule)
	if err != nil {
		return 0, false
	}
	start, closed := time.Unix(0, startTime).UTC(), time.Unix(0, closeTime).UTC()
	next := sched.Next(start)
	if !next.IsZero() && next.Before(closed) {
		switch s := sched.(type) {
		case cron.ConstantDelaySchedule:
			// Times are next + k*Delay: jump to the first one not before close.
			if s.Delay > 0 {
				k := (closed.Sub(next) + s.Delay - 1) / s.Delay
				next = next.Add(k * s.Delay)
			}
		default:
			// Spec schedules are absolute: resume the search just before close.
			next = sched.Next(closed.Add(-time.Second))
		}
	}
	for !next.IsZero() && next.Before(closed) {
		next = sched.Next(next)
	}
	if next.IsZero() {
		return 0, false
	}
	d := next.Sub(closed)
	if r := d % time.Second; r != 0 {
		d += time.Second - r
	}
	return int64(d), true
}

// firstCronBackoff is the delay of a new cron chain's first workflow task.
func firstCronBackoff(schedule string, now int64) int64 {
	if schedule == "" {
		return 0
	}
	b, _ := cronBackoff(schedule, now, now)
	return b
}

// cronNext starts the run's next cron run, closing this one with closeEv
// (whose new_execution_run_id it sets) and status. result is the run's
// result (completion) and f its failure (failure, timeout). It reports
// false, changing nothing, when the run has no cron schedule or the
// schedule has no next time within the execution's expiration.
func (w *run) cronNext(closeEv *historypb.HistoryEvent, status enumspb.WorkflowExecutionStatus, result *commonpb.Payloads, f *failurepb.Failure) bool {
	s := w.st
	if s.CronSchedule == "" {
		return false
	}
	backoff, ok := cronBackoff(s.CronSchedule, s.StartTime, w.t.now)
	if !ok || (s.ExecutionExpiration > 0 && reaches(after(w.t.now, backoff), s.ExecutionExpiration)) {
		return false
	}
	runID := w.t.newRunID()
	switch a := closeEv.Attributes.(type) {
	case *historypb.HistoryEvent_WorkflowExecutionCompletedEventAttributes:
		a.WorkflowExecutionCompletedEventAttributes.NewExecutionRunId = runID
	case *historypb.HistoryEvent_WorkflowExecutionFailedEventAttributes:
		a.WorkflowExecutionFailedEventAttributes.NewExecutionRunId = runID
	case *historypb.HistoryEvent_WorkflowExecutionTimedOutEventAttributes:
		a.WorkflowExecutionTimedOutEventAttributes.NewExecutionRunId = runID
	default:
		return false
	}
	var first historypb.HistoryEvent
	getProto(w.t.b, historyKey(s.Namespace, s.WorkflowId, s.RunId, 1), &first)
	start := first.GetWorkflowExecutionStartedEventAttributes()
	if result == nil {
		// A failed run hands on the last successful run's result.
		result = start.GetLastCompletionResult()
	}
	w.startNextRun(closeEv, status, runID, &workflowservice.StartWorkflowExecutionRequest{
		Namespace: s.Namespace, WorkflowId: s.WorkflowId, WorkflowType: s.WorkflowType,
		TaskQueue: &taskqueuepb.TaskQueue{Name: s.TaskQueue}, Input: start.GetInput(),
		WorkflowRunTimeout: dur(s.RunTimeout), WorkflowTaskTimeout: dur(s.TaskTimeout), Identity: s.Identity,
		RetryPolicy: s.RetryPolicy, CronSchedule: s.CronSchedule, Memo: s.Memo, SearchAttributes: s.SearchAttributes,
		Header: start.GetHeader(),
	}, runLinks{backoff: backoff, initiator: enumspb.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE, lastResult: result, lastFailure: f})
	return true
}

// endStartDelay ends a pending start delay early (a signal arrived): the
// backoff timer goes and the first workflow task may be scheduled. It
// reports false for a cron or retry backoff, which signals do not end.
func (w *run) endStartDelay() bool {
	s := w.st
	if !s.StartDelay {
		return false
	}
	keep := s.TimerKeys[:0]
	for _, k := range s.TimerKeys {
		var row fsmpb.TimerRow
		if w.t.get(k, &row) && row.Kind == fsmpb.TimerKind_TIMER_KIND_WORKFLOW_BACKOFF {
			w.t.delTimer(k)
			continue
		}
		keep = append(keep, k)
	}
	s.TimerKeys = keep
	s.FirstWorkflowTaskBackoff, s.StartDelay = 0, false
	return true
}
