package rpc

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"

	"github.com/raftflow/engine/fsm"
	"github.com/raftflow/engine/fsm/fsmpb"
	"github.com/raftflow/engine/leader"
)

// longPollContext bounds a long poll so it answers (empty) before the
// client's own deadline: at most LongPollTimeout, and a second before the
// caller's deadline.
func (s *Service) longPollContext(ctx context.Context) (context.Context, context.CancelFunc) {
	d := s.cfg.LongPollTimeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl) - time.Second; left < d {
			d = max(left, 0)
		}
	}
	return context.WithTimeout(ctx, d)
}

// pollTask waits for a task on the engine (leader.Engine.Poll) within the
// long poll. It returns (nil, nil) when the long poll ends empty.
func (s *Service) pollTask(ctx context.Context, r leader.PollRequest) (*leader.Polled, error) {
	pctx, cancel := s.longPollContext(ctx)
	defer cancel()
	res, err := s.eng.Poll(pctx, r)
	if errors.Is(err, leader.ErrNotReady) {
		return nil, unavailable("raftflow: leader services are not ready; retry")
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return res, nil
}

func (s *Service) PollWorkflowTaskQueue(ctx context.Context, req *workflowservice.PollWorkflowTaskQueueRequest) (*workflowservice.PollWorkflowTaskQueueResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	if err := s.checkNamespaceID(req.GetNamespace(), "task_queue.name", req.GetTaskQueue().GetName()); err != nil {
		return nil, err
	}
	res, err := s.pollTask(ctx, leader.PollRequest{Namespace: req.Namespace, TaskQueue: req.TaskQueue.Name,
		Kind: fsmpb.TaskKind_TASK_KIND_WORKFLOW, Identity: req.Identity, WorkerKey: req.WorkerInstanceKey})
	if err != nil || res == nil {
		return &workflowservice.PollWorkflowTaskQueueResponse{}, err
	}
	if res.Query != nil {
		return s.queryTaskResponse(res.Query), nil
	}
	return s.workflowTaskResponse(res.Started.WorkflowTask), nil
}

// workflowTaskResponse is what a worker gets for a started workflow task,
// from a poll or with an eager workflow start.
func (s *Service) workflowTaskResponse(wt *fsm.StartedWorkflowTask) *workflowservice.PollWorkflowTaskQueueResponse {
	tok := wt.Token
	// A sticky worker has the workflow cached up to its previous task: send
	// only what is new. Everyone else gets the history from the start.
	from := int64(1)
	if wt.Sticky && wt.PreviousStartedEventID > 0 {
		from = wt.PreviousStartedEventID + 1
	}
	events, next := s.fsm.ReadHistory(tok.Namespace, tok.WorkflowId, tok.RunId, from, wt.StartedEventID, defaultHistoryPageSize)
	if next == 0 {
		events = appendSpeculative(events, wt.SpeculativeEvents, from, wt.StartedEventID)
	}
	resp := &workflowservice.PollWorkflowTaskQueueResponse{
		TaskToken:                  mustToken(tok),
		WorkflowExecution:          &commonpb.WorkflowExecution{WorkflowId: tok.WorkflowId, RunId: tok.RunId},
		WorkflowType:               wt.WorkflowType,
		PreviousStartedEventId:     wt.PreviousStartedEventID,
		StartedEventId:             wt.StartedEventID,
		Attempt:                    wt.Attempt,
		History:                    &historypb.History{Events: events},
		WorkflowExecutionTaskQueue: &taskqueuepb.TaskQueue{Name: wt.NormalTaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		ScheduledTime:              tsOf(wt.ScheduledTime),
		StartedTime:                tsOf(wt.StartedTime),
	}
	if next > 0 {
		resp.NextPageToken = encodePageToken(pageToken{RunID: tok.RunId, Next: next, UpTo: wt.StartedEventID})
	}
	resp.Messages = s.updateMessages(tok.Namespace, tok.WorkflowId, tok.RunId, wt.StartedEventID)
	return resp
}

func (s *Service) PollActivityTaskQueue(ctx context.Context, req *workflowservice.PollActivityTaskQueueRequest) (*workflowservice.PollActivityTaskQueueResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	if err := s.checkNamespaceID(req.GetNamespace(), "task_queue.name", req.GetTaskQueue().GetName()); err != nil {
		return nil, err
	}
	res, err := s.pollTask(ctx, leader.PollRequest{Namespace: req.Namespace, TaskQueue: req.TaskQueue.Name,
		Kind: fsmpb.TaskKind_TASK_KIND_ACTIVITY, Identity: req.Identity, WorkerKey: req.WorkerInstanceKey})
	if err != nil || res == nil {
		return &workflowservice.PollActivityTaskQueueResponse{}, err
	}
	return activityTaskResponse(res.Started.ActivityTask), nil
}

// activityTaskResponse is what a worker gets for a started activity attempt
// (from a poll, or eagerly with its workflow task completion).
func activityTaskResponse(at *fsm.StartedActivityTask) *workflowservice.PollActivityTaskQueueResponse {
	a, tok := at.Activity, at.Token
	return &workflowservice.PollActivityTaskQueueResponse{
		TaskToken:                   mustToken(tok),
		WorkflowNamespace:           tok.Namespace,
		WorkflowType:                at.WorkflowType,
		WorkflowExecution:           &commonpb.WorkflowExecution{WorkflowId: tok.WorkflowId, RunId: tok.RunId},
		ActivityType:                a.ActivityType,
		ActivityId:                  a.ActivityId,
		Header:                      a.Header,
		Input:                       a.Input,
		HeartbeatDetails:            a.HeartbeatDetails,
		ScheduledTime:               tsOf(a.ScheduledTime),
		CurrentAttemptScheduledTime: tsOf(a.CurrentAttemptScheduledTime),
		StartedTime:                 tsOf(a.StartedTime),
		Attempt:                     a.Attempt,
		ScheduleToCloseTimeout:      durOf(a.ScheduleToCloseTimeout),
		StartToCloseTimeout:         durOf(a.StartToCloseTimeout),
		HeartbeatTimeout:            durOf(a.HeartbeatTimeout),
		RetryPolicy:                 a.RetryPolicy,
		Priority:                    a.Priority,
	}
}

func mustToken(t *fsmpb.TaskToken) []byte {
	b, err := proto.Marshal(t)
	if err != nil {
		panic(err)
	}
	return b
}

func parseToken(b []byte, kind fsmpb.TaskKind) (*fsmpb.TaskToken, error) {
	if len(b) == 0 {
		return nil, invalidArg("task_token: required")
	}
	t := &fsmpb.TaskToken{}
	if err := proto.Unmarshal(b, t); err != nil || t.Kind != kind || t.WorkflowId == "" {
		return nil, invalidArg("task_token: malformed")
	}
	return t, nil
}

func (s *Service) RespondWorkflowTaskCompleted(ctx context.Context, req *workflowservice.RespondWorkflowTaskCompletedRequest) (*workflowservice.RespondWorkflowTaskCompletedResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	tok, err := parseToken(req.GetTaskToken(), fsmpb.TaskKind_TASK_KIND_WORKFLOW)
	if err != nil {
		return nil, err
	}
	if cause, msg, bad := boundCommands(req); bad {
		return nil, s.failBadCommand(ctx, tok, req, cause, msg)
	}
	if handled, err := s.validateCommands(ctx, tok, req); handled {
		return nil, err
	}
	if cause, msg, bad := oversizedCommand(req.GetCommands()); bad {
		return nil, s.failOversizedTask(ctx, tok, req, cause, msg)
	}
	var runIDs []string
	for _, c := range req.GetCommands() {
		switch c.GetCommandType() {
		case enumspb.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION, enumspb.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
			enumspb.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION:
			runIDs = append(runIDs, uuid.NewString())
		}
	}
	res, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_CompleteWorkflowTask{CompleteWorkflowTask: &fsmpb.CompleteWorkflowTask{
		Token: tok, Request: req, NewRunIds: runIDs,
	}}})
	if err != nil {
		return nil, err
	}
	resp := &workflowservice.RespondWorkflowTaskCompletedResponse{ResetHistoryEventId: res.ResetHistoryEventID}
	for _, at := range res.EagerActivities {
		resp.ActivityTasks = append(resp.ActivityTasks, activityTaskResponse(at))
	}
	if res.WorkflowTask != nil {
		resp.WorkflowTask = s.workflowTaskResponse(res.WorkflowTask)
	}
	return resp, nil
}

func (s *Service) RespondWorkflowTaskFailed(ctx context.Context, req *workflowservice.RespondWorkflowTaskFailedRequest) (*workflowservice.RespondWorkflowTaskFailedResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	tok, err := parseToken(req.GetTaskToken(), fsmpb.TaskKind_TASK_KIND_WORKFLOW)
	if err != nil {
		return nil, err
	}
	if _, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_FailWorkflowTask{FailWorkflowTask: &fsmpb.FailWorkflowTask{
		Token: tok, Request: req,
	}}}); err != nil {
		return nil, err
	}
	return &workflowservice.RespondWorkflowTaskFailedResponse{}, nil
}

// activityTarget names an activity by token or by (namespace, ids).
func activityTarget(token []byte, ns, wfID, runID, activityID string) (*fsmpb.ActivityResult, error) {
	if len(token) > 0 {
		t, err := parseToken(token, fsmpb.TaskKind_TASK_KIND_ACTIVITY)
		if err != nil {
			return nil, err
		}
		return &fsmpb.ActivityResult{Namespace: t.Namespace, WorkflowId: t.WorkflowId, RunId: t.RunId,
			ScheduledEventId: t.ScheduledEventId, Attempt: t.Attempt, ActivityId: t.ActivityId, Stamp: t.Stamp}, nil
	}
	if err := checkID("namespace", ns); err != nil {
		return nil, err
	}
	if err := checkID("workflow_id", wfID); err != nil {
		return nil, err
	}
	if err := checkID("activity_id", activityID); err != nil {
		return nil, err
	}
	return &fsmpb.ActivityResult{Namespace: ns, WorkflowId: wfID, RunId: runID, ActivityId: activityID}, nil
}

func (s *Service) activityResult(ctx context.Context, r *fsmpb.ActivityResult, identity string) error {
	r.Identity = identity
	field, n := oversizedOutcome(r)
	if field != "" {
		// Over the payload limit: the activity fails (non-retryable) instead.
		r.Outcome, r.LastHeartbeatDetails = &fsmpb.ActivityResult_Failed{Failed: sizeFailure(field, n)}, nil
	}
	_, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_ActivityResult{ActivityResult: r}})
	if err == nil && field != "" {
		err = payloadError(field, n)
	}
	return err
}

func (s *Service) RespondActivityTaskCompleted(ctx context.Context, req *workflowservice.RespondActivityTaskCompletedRequest) (*workflowservice.RespondActivityTaskCompletedResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	r, err := activityTarget(req.GetTaskToken(), "", "", "", "")
	if err != nil {
		return nil, err
	}
	r.Outcome = &fsmpb.ActivityResult_Completed{Completed: orEmpty(req.Result)}
	return &workflowservice.RespondActivityTaskCompletedResponse{}, s.activityResult(ctx, r, req.Identity)
}

func (s *Service) RespondActivityTaskCompletedById(ctx context.Context, req *workflowservice.RespondActivityTaskCompletedByIdRequest) (*workflowservice.RespondActivityTaskCompletedByIdResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	r, err := activityTarget(nil, req.Namespace, req.WorkflowId, req.RunId, req.ActivityId)
	if err != nil {
		return nil, err
	}
	r.Outcome = &fsmpb.ActivityResult_Completed{Completed: orEmpty(req.Result)}
	return &workflowservice.RespondActivityTaskCompletedByIdResponse{}, s.activityResult(ctx, r, req.Identity)
}

func (s *Service) RespondActivityTaskFailed(ctx context.Context, req *workflowservice.RespondActivityTaskFailedRequest) (*workflowservice.RespondActivityTaskFailedResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	r, err := activityTarget(req.GetTaskToken(), "", "", "", "")
	if err != nil {
		return nil, err
	}
	if req.Failure == nil {
		return nil, invalidArg("failure: required")
	}
	r.Outcome = &fsmpb.ActivityResult_Failed{Failed: req.Failure}
	r.LastHeartbeatDetails = req.LastHeartbeatDetails
	return &workflowservice.RespondActivityTaskFailedResponse{}, s.activityResult(ctx, r, req.Identity)
}

func (s *Service) RespondActivityTaskFailedById(ctx context.Context, req *workflowservice.RespondActivityTaskFailedByIdRequest) (*workflowservice.RespondActivityTaskFailedByIdResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	r, err := activityTarget(nil, req.Namespace, req.WorkflowId, req.RunId, req.ActivityId)
	if err != nil {
		return nil, err
	}
	if req.Failure == nil {
		return nil, invalidArg("failure: required")
	}
	r.Outcome = &fsmpb.ActivityResult_Failed{Failed: req.Failure}
	r.LastHeartbeatDetails = req.LastHeartbeatDetails
	return &workflowservice.RespondActivityTaskFailedByIdResponse{}, s.activityResult(ctx, r, req.Identity)
}

func (s *Service) RespondActivityTaskCanceled(ctx context.Context, req *workflowservice.RespondActivityTaskCanceledRequest) (*workflowservice.RespondActivityTaskCanceledResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	r, err := activityTarget(req.GetTaskToken(), "", "", "", "")
	if err != nil {
		return nil, err
	}
	r.Outcome = &fsmpb.ActivityResult_Canceled{Canceled: orEmpty(req.Details)}
	return &workflowservice.RespondActivityTaskCanceledResponse{}, s.activityResult(ctx, r, req.Identity)
}

func (s *Service) RespondActivityTaskCanceledById(ctx context.Context, req *workflowservice.RespondActivityTaskCanceledByIdRequest) (*workflowservice.RespondActivityTaskCanceledByIdResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	r, err := activityTarget(nil, req.Namespace, req.WorkflowId, req.RunId, req.ActivityId)
	if err != nil {
		return nil, err
	}
	r.Outcome = &fsmpb.ActivityResult_Canceled{Canceled: orEmpty(req.Details)}
	return &workflowservice.RespondActivityTaskCanceledByIdResponse{}, s.activityResult(ctx, r, req.Identity)
}

func orEmpty(p *commonpb.Payloads) *commonpb.Payloads {
	if p == nil {
		return &commonpb.Payloads{}
	}
	return p
}

// heartbeat records an activity heartbeat; the answer says whether the
// activity was asked to cancel, paused or reset since.
func (s *Service) heartbeat(ctx context.Context, r *fsmpb.ActivityResult, details *commonpb.Payloads, identity string) (*workflowservice.RecordActivityTaskHeartbeatResponse, error) {
	if n := proto.Size(details); n > maxPayloadSize {
		r.Outcome = &fsmpb.ActivityResult_Failed{Failed: sizeFailure("details", n)}
		if err := s.activityResult(ctx, r, identity); err != nil {
			return nil, err
		}
		return nil, payloadError("details", n)
	}
	res, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_HeartbeatActivity{HeartbeatActivity: &fsmpb.HeartbeatActivity{
		Namespace: r.Namespace, WorkflowId: r.WorkflowId, RunId: r.RunId, ScheduledEventId: r.ScheduledEventId,
		Attempt: r.Attempt, ActivityId: r.ActivityId, Identity: identity, Details: details, Stamp: r.Stamp,
	}}})
	if err != nil {
		return nil, err
	}
	return &workflowservice.RecordActivityTaskHeartbeatResponse{
		CancelRequested: res.CancelRequested, ActivityPaused: res.ActivityPaused, ActivityReset: res.ActivityReset,
	}, nil
}

func (s *Service) RecordActivityTaskHeartbeat(ctx context.Context, req *workflowservice.RecordActivityTaskHeartbeatRequest) (*workflowservice.RecordActivityTaskHeartbeatResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	r, err := activityTarget(req.GetTaskToken(), "", "", "", "")
	if err != nil {
		return nil, err
	}
	return s.heartbeat(ctx, r, req.Details, req.Identity)
}

func (s *Service) RecordActivityTaskHeartbeatById(ctx context.Context, req *workflowservice.RecordActivityTaskHeartbeatByIdRequest) (*workflowservice.RecordActivityTaskHeartbeatByIdResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	r, err := activityTarget(nil, req.Namespace, req.WorkflowId, req.RunId, req.ActivityId)
	if err != nil {
		return nil, err
	}
	resp, err := s.heartbeat(ctx, r, req.Details, req.Identity)
	if err != nil {
		return nil, err
	}
	return &workflowservice.RecordActivityTaskHeartbeatByIdResponse{
		CancelRequested: resp.CancelRequested, ActivityPaused: resp.ActivityPaused, ActivityReset: resp.ActivityReset,
	}, nil
}
