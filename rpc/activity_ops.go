package rpc

import (
	"context"
	"math/rand/v2"
	"strings"
	"unicode"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// The activity operations of Temporal 1.27+ (PauseActivity,
// UnpauseActivity, ResetActivity, UpdateActivityOptions; `temporal
// activity pause|unpause|reset|update-options`): each is one raft entry
// applied by fsm.activityOperation. The request's checks and messages are
// Temporal's frontend's; a jitter is drawn here, so the state machine
// stays deterministic.

// activityOp checks what every activity operation needs (a namespace, a
// workflow id, an activity chosen by id, type or "all") and builds the
// command's envelope.
func (s *Service) activityOp(ns string, exec *commonpb.WorkflowExecution, identity, id, typ string, all bool) (*fsmpb.ActivityOperation, error) {
	if exec.GetWorkflowId() == "" {
		return nil, invalidArg("WorkflowId is not set on request.")
	}
	if err := s.checkNamespaceID(ns, "execution.workflow_id", exec.GetWorkflowId()); err != nil {
		return nil, err
	}
	if id == "" && typ == "" && !all {
		return nil, invalidArg("Either Activity.Id or Activity.Type should be set on request.")
	}
	return &fsmpb.ActivityOperation{Namespace: ns, WorkflowId: exec.GetWorkflowId(), RunId: exec.GetRunId(),
		ActivityId: id, ActivityType: typ, MatchAll: all, Identity: identity}, nil
}

// jitterDelay draws the delay of a dispatch spread over jitter (0: none).
func jitterDelay(jitter *durationpb.Duration) int64 {
	if n := jitter.AsDuration().Nanoseconds(); n > 0 {
		return rand.Int64N(n)
	}
	return 0
}

func (s *Service) PauseActivity(ctx context.Context, req *workflowservice.PauseActivityRequest) (*workflowservice.PauseActivityResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	op, err := s.activityOp(req.Namespace, req.Execution, req.Identity, req.GetId(), req.GetType(), false)
	if err != nil {
		return nil, err
	}
	op.Op = &fsmpb.ActivityOperation_Pause{Pause: &fsmpb.ActivityPause{Reason: req.Reason}}
	if _, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_ActivityOperation{ActivityOperation: op}}); err != nil {
		return nil, err
	}
	return &workflowservice.PauseActivityResponse{}, nil
}

func (s *Service) UnpauseActivity(ctx context.Context, req *workflowservice.UnpauseActivityRequest) (*workflowservice.UnpauseActivityResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	op, err := s.activityOp(req.Namespace, req.Execution, req.Identity, req.GetId(), req.GetType(), req.GetUnpauseAll())
	if err != nil {
		return nil, err
	}
	op.Op = &fsmpb.ActivityOperation_Unpause{Unpause: &fsmpb.ActivityUnpause{
		ResetAttempts: req.ResetAttempts, ResetHeartbeat: req.ResetHeartbeat, Delay: jitterDelay(req.Jitter)}}
	if _, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_ActivityOperation{ActivityOperation: op}}); err != nil {
		return nil, err
	}
	return &workflowservice.UnpauseActivityResponse{}, nil
}

func (s *Service) ResetActivity(ctx context.Context, req *workflowservice.ResetActivityRequest) (*workflowservice.ResetActivityResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	op, err := s.activityOp(req.Namespace, req.Execution, req.Identity, req.GetId(), req.GetType(), req.GetMatchAll())
	if err != nil {
		return nil, err
	}
	op.Op = &fsmpb.ActivityOperation_ResetActivity{ResetActivity: &fsmpb.ActivityReset{
		ResetHeartbeat: req.ResetHeartbeat, KeepPaused: req.KeepPaused, Delay: jitterDelay(req.Jitter),
		RestoreOriginalOptions: req.RestoreOriginalOptions}}
	if _, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_ActivityOperation{ActivityOperation: op}}); err != nil {
		return nil, err
	}
	return &workflowservice.ResetActivityResponse{}, nil
}

// UpdateActivityOptions changes the options of pending activities; the
// update mask's paths name the fields (snake_case or camelCase, as
// Temporal accepts); paths it does not know are ignored, as Temporal's.
func (s *Service) UpdateActivityOptions(ctx context.Context, req *workflowservice.UpdateActivityOptionsRequest) (*workflowservice.UpdateActivityOptionsResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	op, err := s.activityOp(req.Namespace, req.Execution, req.Identity, req.GetId(), req.GetType(), req.GetMatchAll())
	if err != nil {
		return nil, err
	}
	paths := maskPaths(req.UpdateMask)
	switch {
	case req.RestoreOriginal && len(paths) > 0:
		return nil, invalidArg("Both UpdateMask and RestoreOriginal are provided")
	case !req.RestoreOriginal && req.ActivityOptions == nil:
		return nil, invalidArg("ActivityOptions are not provided")
	case !req.RestoreOriginal && req.UpdateMask == nil:
		return nil, invalidArg("UpdateMask is not provided")
	}
	if f, msg := retryPolicyProblem(req.GetActivityOptions().GetRetryPolicy()); f != "" {
		return nil, invalidArg("activity_options.retry_policy.%s: %s", f, msg)
	}
	if f, msg := priorityProblem(req.GetActivityOptions().GetPriority()); f != "" {
		return nil, invalidArg("activity_options.priority.%s: %s", f, msg)
	}
	op.Op = &fsmpb.ActivityOperation_UpdateOptions{UpdateOptions: &fsmpb.ActivityOptionsUpdate{
		Options: req.ActivityOptions, Paths: paths, RestoreOriginal: req.RestoreOriginal}}
	res, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_ActivityOperation{ActivityOperation: op}})
	if err != nil {
		return nil, err
	}
	return &workflowservice.UpdateActivityOptionsResponse{ActivityOptions: res.ActivityOptions}, nil
}

// maskPaths are a field mask's paths in Temporal's camelCase form
// ("retry_policy.maximum_attempts" -> "retryPolicy.maximumAttempts").
func maskPaths(m *fieldmaskpb.FieldMask) []string {
	out := make([]string, 0, len(m.GetPaths()))
	for _, p := range m.GetPaths() {
		parts := strings.Split(p, ".")
		for i, part := range parts {
			var b strings.Builder
			upper := false
			for _, r := range part {
				switch {
				case r == '_':
					upper = true
				case upper:
					b.WriteRune(unicode.ToUpper(r))
					upper = false
				default:
					b.WriteRune(r)
				}
			}
			parts[i] = b.String()
		}
		out = append(out, strings.Join(parts, "."))
	}
	return out
}
