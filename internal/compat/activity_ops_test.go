package compat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	activitypb "go.temporal.io/api/activity/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/raftflow/engine/internal/testutil"
)

// OperatedActivityWorkflow runs the "Operated" activity once (retried as
// its policy says) and returns its result.
func OperatedActivityWorkflow(ctx workflow.Context) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second, HeartbeatTimeout: 5 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, BackoffCoefficient: 1},
	})
	var out string
	err := workflow.ExecuteActivity(ctx, "Operated").Get(ctx, &out)
	return out, err
}

// operatedActivity fails its first attempt; a later attempt with heartbeat
// details (an earlier attempt's) returns its attempt number; otherwise it
// heartbeats until its context ends (a pause or reset cancels it, as the
// SDK does on activity_paused / activity_reset) and fails with the cause.
func operatedActivity(ctx context.Context) (string, error) {
	info := activity.GetInfo(ctx)
	if info.Attempt == 1 {
		return "", errors.New("first attempt fails")
	}
	if activity.HasHeartbeatDetails(ctx) {
		return fmt.Sprintf("attempt %d", info.Attempt), nil
	}
	for {
		activity.RecordHeartbeat(ctx, "progress")
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return "", context.Cause(ctx)
		}
	}
}

// testActivityOperations drives PauseActivity, UnpauseActivity,
// ResetActivity and UpdateActivityOptions through the official SDK's
// client, as `temporal activity ...` and the Web UI do: a pause stops the
// running attempt (its heartbeat says so) and holds the next one until the
// unpause; a reset makes the attempt after the running one attempt 2 again;
// updated options show in Describe; bad requests get Temporal's errors.
func testActivityOperations(t *testing.T, c client.Client, _ *replayLog) {
	tq := taskQueue(t)
	startWorker(t, c, tq, []any{OperatedActivityWorkflow}, map[string]any{"Operated": operatedActivity})
	ctx := testutil.Context(t, 60*time.Second)
	svc := c.WorkflowService()
	exec := func(id string) *commonpb.WorkflowExecution { return &commonpb.WorkflowExecution{WorkflowId: id} }
	pending := func(id string, want string, ok func(*workflowpb.PendingActivityInfo) bool) *workflowpb.PendingActivityInfo {
		t.Helper()
		var got *workflowpb.PendingActivityInfo
		testutil.Eventually(t, 20*time.Second, want, func() (bool, string) {
			d := describe(t, c, id, "")
			if len(d.PendingActivities) != 1 {
				return false, fmt.Sprintf("%d pending activities", len(d.PendingActivities))
			}
			got = d.PendingActivities[0]
			return ok(got), fmt.Sprint(got)
		})
		return got
	}
	running2 := func(p *workflowpb.PendingActivityInfo) bool {
		return p.State == enumspb.PENDING_ACTIVITY_STATE_STARTED && p.Attempt == 2 && p.HeartbeatDetails != nil
	}

	// Pause, change the options, unpause.
	pauseID := tq + "-pause"
	run := start(t, c, tq, pauseID, OperatedActivityWorkflow)
	pending(pauseID, "attempt 2 running", running2)
	var invalid *serviceerror.InvalidArgument
	if _, err := svc.PauseActivity(ctx, &workflowservice.PauseActivityRequest{Namespace: "default", Execution: exec(pauseID)}); !errors.As(err, &invalid) ||
		!strings.Contains(err.Error(), "Activity.Id or Activity.Type") {
		t.Fatalf("pause naming no activity: %v, want InvalidArgument", err)
	}
	var notFound *serviceerror.NotFound
	if _, err := svc.PauseActivity(ctx, &workflowservice.PauseActivityRequest{Namespace: "default", Execution: exec(pauseID),
		Activity: &workflowservice.PauseActivityRequest_Id{Id: "no-such-activity"}}); !errors.As(err, &notFound) {
		t.Fatalf("pause of an unknown activity: %v, want NotFound", err)
	}
	if _, err := svc.PauseActivity(ctx, &workflowservice.PauseActivityRequest{Namespace: "default", Execution: exec(pauseID),
		Activity: &workflowservice.PauseActivityRequest_Type{Type: "Operated"}, Identity: "operator", Reason: "maintenance"}); err != nil {
		t.Fatalf("pause: %v", err)
	}
	p := pending(pauseID, "the paused activity waiting as attempt 3", func(p *workflowpb.PendingActivityInfo) bool {
		return p.State == enumspb.PENDING_ACTIVITY_STATE_PAUSED && p.Attempt == 3
	})
	if !p.Paused || p.GetPauseInfo().GetManual().GetReason() != "maintenance" || p.GetPauseInfo().GetManual().GetIdentity() != "operator" ||
		p.GetLastFailure().GetMessage() != "activity paused" {
		t.Fatalf("paused activity %v", p)
	}
	upd, err := svc.UpdateActivityOptions(ctx, &workflowservice.UpdateActivityOptionsRequest{Namespace: "default", Execution: exec(pauseID),
		Activity:        &workflowservice.UpdateActivityOptionsRequest_Type{Type: "Operated"},
		ActivityOptions: &activitypb.ActivityOptions{HeartbeatTimeout: durationpb.New(7 * time.Second)},
		UpdateMask:      &fieldmaskpb.FieldMask{Paths: []string{"heartbeat_timeout"}}})
	if err != nil || upd.GetActivityOptions().GetHeartbeatTimeout().AsDuration() != 7*time.Second ||
		upd.GetActivityOptions().GetStartToCloseTimeout().AsDuration() != 30*time.Second {
		t.Fatalf("update options: %v, %v", upd, err)
	}
	if _, err := svc.UpdateActivityOptions(ctx, &workflowservice.UpdateActivityOptionsRequest{Namespace: "default", Execution: exec(pauseID),
		Activity:        &workflowservice.UpdateActivityOptionsRequest_Type{Type: "Operated"},
		ActivityOptions: &activitypb.ActivityOptions{}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"start_to_close_timeout", "schedule_to_close_timeout"}},
	}); !errors.As(err, &invalid) {
		t.Fatalf("an update leaving no timeout: %v, want InvalidArgument", err)
	}
	if d := describe(t, c, pauseID, ""); d.PendingActivities[0].GetActivityOptions().GetHeartbeatTimeout().AsDuration() != 7*time.Second {
		t.Fatalf("described options %v", d.PendingActivities[0].GetActivityOptions())
	}
	if _, err := svc.UnpauseActivity(ctx, &workflowservice.UnpauseActivityRequest{Namespace: "default", Execution: exec(pauseID),
		Activity: &workflowservice.UnpauseActivityRequest_Id{Id: p.ActivityId}}); err != nil {
		t.Fatalf("unpause: %v", err)
	}
	var got string
	getResult(t, run, &got)
	if got != "attempt 3" {
		t.Fatalf("result %q, want attempt 3 (run after the unpause)", got)
	}
	if _, err := svc.UnpauseActivity(ctx, &workflowservice.UnpauseActivityRequest{Namespace: "default", Execution: exec(pauseID),
		Activity: &workflowservice.UnpauseActivityRequest_Id{Id: p.ActivityId}}); !errors.As(err, &notFound) {
		t.Fatalf("unpause after the workflow completed: %v, want NotFound", err)
	}

	// Reset the running attempt 2: the next one is attempt 2 again.
	resetID := tq + "-reset"
	run = start(t, c, tq, resetID, OperatedActivityWorkflow)
	pending(resetID, "attempt 2 running", running2)
	if _, err := svc.ResetActivity(ctx, &workflowservice.ResetActivityRequest{Namespace: "default", Execution: exec(resetID),
		Activity: &workflowservice.ResetActivityRequest_Type{Type: "Operated"}}); err != nil {
		t.Fatalf("reset: %v", err)
	}
	getResult(t, run, &got)
	if got != "attempt 2" {
		t.Fatalf("result %q, want attempt 2 (counted from 1 again after the reset)", got)
	}
}
