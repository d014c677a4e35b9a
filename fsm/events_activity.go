package fsm

import (
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// History builder (see events_workflow.go): activities, user timers,
// markers, search attributes and memo.

func (w *run) activityTaskScheduledEvent(attrs *historypb.ActivityTaskScheduledEventAttributes) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
	ev.Attributes = &historypb.HistoryEvent_ActivityTaskScheduledEventAttributes{ActivityTaskScheduledEventAttributes: attrs}
	return ev
}

// activityTaskStartedEvent is the Started event of the activity's current
// attempt, written when the attempt ends (timed at its start).
func (w *run) activityTaskStartedEvent(a *fsmpb.ActivityInfo) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED)
	ev.EventTime = ts(a.StartedTime)
	ev.Attributes = &historypb.HistoryEvent_ActivityTaskStartedEventAttributes{ActivityTaskStartedEventAttributes: &historypb.ActivityTaskStartedEventAttributes{
		ScheduledEventId: a.ScheduledEventId, Identity: a.StartedIdentity, RequestId: a.PollRequestId,
		Attempt: a.Attempt, LastFailure: a.LastFailure,
	}}
	return ev
}

// The activity close events take startedID -1 when the Started event is
// written just before them (appendEvents fills in its id), 0 when the
// activity never started.

func (w *run) activityTaskCompletedEvent(scheduledID, startedID int64, result *commonpb.Payloads, identity string) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
	ev.Attributes = &historypb.HistoryEvent_ActivityTaskCompletedEventAttributes{ActivityTaskCompletedEventAttributes: &historypb.ActivityTaskCompletedEventAttributes{
		Result: result, ScheduledEventId: scheduledID, StartedEventId: startedID, Identity: identity,
	}}
	return ev
}

func (w *run) activityTaskFailedEvent(scheduledID, startedID int64, f *failurepb.Failure, identity string, state enumspb.RetryState) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED)
	ev.Attributes = &historypb.HistoryEvent_ActivityTaskFailedEventAttributes{ActivityTaskFailedEventAttributes: &historypb.ActivityTaskFailedEventAttributes{
		Failure: f, ScheduledEventId: scheduledID, StartedEventId: startedID, Identity: identity, RetryState: state,
	}}
	return ev
}

func (w *run) activityTaskTimedOutEvent(scheduledID, startedID int64, f *failurepb.Failure, state enumspb.RetryState) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT)
	ev.Attributes = &historypb.HistoryEvent_ActivityTaskTimedOutEventAttributes{ActivityTaskTimedOutEventAttributes: &historypb.ActivityTaskTimedOutEventAttributes{
		Failure: f, ScheduledEventId: scheduledID, StartedEventId: startedID, RetryState: state,
	}}
	return ev
}

func (w *run) activityTaskCancelRequestedEvent(scheduledID, completedID int64) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED)
	ev.Attributes = &historypb.HistoryEvent_ActivityTaskCancelRequestedEventAttributes{ActivityTaskCancelRequestedEventAttributes: &historypb.ActivityTaskCancelRequestedEventAttributes{
		ScheduledEventId: scheduledID, WorkflowTaskCompletedEventId: completedID,
	}}
	return ev
}

// activityTaskCanceledEvent: by the worker (details, identity, after a
// start) or at once when a not yet started activity is asked to cancel.
func (w *run) activityTaskCanceledEvent(scheduledID, startedID, cancelRequestedID int64, details *commonpb.Payloads, identity string) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED)
	ev.Attributes = &historypb.HistoryEvent_ActivityTaskCanceledEventAttributes{ActivityTaskCanceledEventAttributes: &historypb.ActivityTaskCanceledEventAttributes{
		Details: details, LatestCancelRequestedEventId: cancelRequestedID,
		ScheduledEventId: scheduledID, StartedEventId: startedID, Identity: identity,
	}}
	return ev
}

func (w *run) timerStartedEvent(timerID string, startToFire *durationpb.Duration, completedID int64) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_TIMER_STARTED)
	ev.Attributes = &historypb.HistoryEvent_TimerStartedEventAttributes{TimerStartedEventAttributes: &historypb.TimerStartedEventAttributes{
		TimerId: timerID, StartToFireTimeout: startToFire, WorkflowTaskCompletedEventId: completedID,
	}}
	return ev
}

func (w *run) timerFiredEvent(timerID string, startedID int64) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_TIMER_FIRED)
	ev.Attributes = &historypb.HistoryEvent_TimerFiredEventAttributes{TimerFiredEventAttributes: &historypb.TimerFiredEventAttributes{
		TimerId: timerID, StartedEventId: startedID,
	}}
	return ev
}

func (w *run) timerCanceledEvent(timerID string, startedID, completedID int64, identity string) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_TIMER_CANCELED)
	ev.Attributes = &historypb.HistoryEvent_TimerCanceledEventAttributes{TimerCanceledEventAttributes: &historypb.TimerCanceledEventAttributes{
		TimerId: timerID, StartedEventId: startedID, WorkflowTaskCompletedEventId: completedID, Identity: identity,
	}}
	return ev
}

func (w *run) markerRecordedEvent(name string, details map[string]*commonpb.Payloads, completedID int64,
	header *commonpb.Header, f *failurepb.Failure) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_MARKER_RECORDED)
	ev.Attributes = &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{
		MarkerName: name, Details: details, WorkflowTaskCompletedEventId: completedID, Header: header, Failure: f,
	}}
	return ev
}

func (w *run) upsertWorkflowSearchAttributesEvent(completedID int64, sa *commonpb.SearchAttributes) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)
	ev.Attributes = &historypb.HistoryEvent_UpsertWorkflowSearchAttributesEventAttributes{UpsertWorkflowSearchAttributesEventAttributes: &historypb.UpsertWorkflowSearchAttributesEventAttributes{
		WorkflowTaskCompletedEventId: completedID, SearchAttributes: sa,
	}}
	return ev
}

func (w *run) workflowPropertiesModifiedEvent(completedID int64, memo *commonpb.Memo) *historypb.HistoryEvent {
	ev := w.event(enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED)
	ev.Attributes = &historypb.HistoryEvent_WorkflowPropertiesModifiedEventAttributes{WorkflowPropertiesModifiedEventAttributes: &historypb.WorkflowPropertiesModifiedEventAttributes{
		WorkflowTaskCompletedEventId: completedID, UpsertedMemo: memo,
	}}
	return ev
}
