package compat

import (
	"fmt"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/raftflow/engine/internal/testutil"
)

// A child that fails, is canceled, is terminated or times out: the parent
// sees a ChildWorkflowExecutionError wrapping an ApplicationError, a
// CanceledError, a TerminatedError or a TimeoutError, from the matching
// ChildWorkflowExecution* event.
func testChildOutcomes(t *testing.T, c client.Client, rec *replayLog) {
	for _, tc := range []struct {
		name   string
		spec   childSpec
		act    func(t *testing.T, childID string) // done to the child while it sleeps
		want   string
		event  enumspb.EventType
		status enumspb.WorkflowExecutionStatus
	}{
		{
			name: "Failed", spec: childSpec{Mode: "fail"},
			want: "ApplicationError:ChildBroke", event: enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
			status: enumspb.WORKFLOW_EXECUTION_STATUS_FAILED,
		},
		{
			name: "Canceled", spec: childSpec{Mode: "sleep"},
			act: func(t *testing.T, childID string) {
				if err := c.CancelWorkflow(testutil.Context(t, 10*time.Second), childID, ""); err != nil {
					t.Fatalf("cancel child: %v", err)
				}
			},
			want: "CanceledError", event: enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED,
			status: enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED,
		},
		{
			name: "Terminated", spec: childSpec{Mode: "sleep"},
			act: func(t *testing.T, childID string) {
				if err := c.TerminateWorkflow(testutil.Context(t, 10*time.Second), childID, "", "compat test"); err != nil {
					t.Fatalf("terminate child: %v", err)
				}
			},
			want: "TerminatedError", event: enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED,
			status: enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED,
		},
		{
			name: "TimedOut", spec: childSpec{Mode: "sleep", ExecTimeout: time.Second},
			want: "TimeoutError:", event: enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
			status: enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tq := taskQueue(t)
			startWorker(t, c, tq, []any{ChildOutcomeWorkflow, ChildWorkflow}, nil)
			spec := tc.spec
			spec.ChildID = tq + "-child"
			run := start(t, c, tq, tq+"-parent", ChildOutcomeWorkflow, spec)
			if tc.act != nil {
				waitTimerStarted(t, c, spec.ChildID, "")
				tc.act(t, spec.ChildID)
			}
			var got string
			getResult(t, run, &got)
			if !strings.HasPrefix(got, tc.want) {
				t.Fatalf("parent saw %q, want %s", got, tc.want)
			}
			h := history(t, c, run.GetID(), run.GetRunID())
			evs := eventsOf(h, tc.event)
			if len(evs) != 1 {
				t.Fatalf("parent history has %d %v events, want 1: %v", len(evs), tc.event, eventTypes(h))
			}
			child := describe(t, c, spec.ChildID, "").WorkflowExecutionInfo
			if child.Status != tc.status {
				t.Errorf("child status %v, want %v", child.Status, tc.status)
			}
			if child.ParentExecution.GetWorkflowId() != run.GetID() || child.ParentExecution.GetRunId() != run.GetRunID() ||
				child.ParentNamespaceId != defaultNamespaceID(t, c) {
				t.Errorf("child's parent execution %v in namespace %q, want %s/%s in the default namespace",
					child.ParentExecution, child.ParentNamespaceId, run.GetID(), run.GetRunID())
			}
			name := "child-" + strings.ToLower(tc.name)
			rec.add(t, c, name+"-parent", run.GetID(), run.GetRunID(), ChildOutcomeWorkflow, ChildWorkflow)
			rec.add(t, c, name+"-child", spec.ChildID, child.Execution.GetRunId(), ChildWorkflow)
		})
	}
}

// Parent close policies: when the parent completes while its child runs,
// TERMINATE (the default) terminates the child, REQUEST_CANCEL cancels it
// (the child sees the request and ends canceled), ABANDON leaves it running.
func testParentClosePolicies(t *testing.T, c client.Client, rec *replayLog) {
	for _, tc := range []struct {
		name   string
		policy enumspb.ParentClosePolicy
		status enumspb.WorkflowExecutionStatus
	}{
		{"DefaultTerminate", enumspb.PARENT_CLOSE_POLICY_UNSPECIFIED, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED},
		{"Terminate", enumspb.PARENT_CLOSE_POLICY_TERMINATE, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED},
		{"RequestCancel", enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED},
		{"Abandon", enumspb.PARENT_CLOSE_POLICY_ABANDON, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tq := taskQueue(t)
			startWorker(t, c, tq, []any{ParentClosePolicyWorkflow, ChildWorkflow}, nil)
			childID := tq + "-child"
			run := start(t, c, tq, tq+"-parent", ParentClosePolicyWorkflow, childSpec{ChildID: childID, Policy: tc.policy})
			// The child sleeps (no workflow task in flight) when the parent closes.
			waitTimerStarted(t, c, childID, "")
			signal(t, c, run.GetID(), "finish", nil)
			var childRun string
			getResult(t, run, &childRun)
			checkHistory(t, history(t, c, run.GetID(), run.GetRunID()))
			if tc.status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				// Nothing happens to an abandoned child, and the parent's close
				// is one atomic transition: the child runs now and later.
				info := describe(t, c, childID, childRun).WorkflowExecutionInfo
				if info.Status != tc.status {
					t.Fatalf("abandoned child status %v, want RUNNING", info.Status)
				}
				if err := c.CancelWorkflow(testutil.Context(t, 10*time.Second), childID, childRun); err != nil {
					t.Fatalf("cancel the abandoned child: %v", err)
				}
				tc.status = enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED
			}
			testutil.Eventually(t, 20*time.Second, "child closed by the policy", func() (bool, string) {
				info := describe(t, c, childID, childRun).WorkflowExecutionInfo
				return info.Status == tc.status, fmt.Sprintf("child status %v, want %v", info.Status, tc.status)
			})
			h := history(t, c, childID, childRun)
			checkHistory(t, h)
			if tc.policy == enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL {
				if n := len(eventsOf(h, evCancelReq)); n != 1 {
					t.Errorf("child history has %d WorkflowExecutionCancelRequested events, want 1: %v", n, eventTypes(h))
				}
				rec.add(t, c, "child-parent-close-request-cancel", childID, childRun, ChildWorkflow)
			}
		})
	}
}

// defaultNamespaceID is the id of namespace "default".
func defaultNamespaceID(t *testing.T, c client.Client) string {
	t.Helper()
	ns, err := c.WorkflowService().DescribeNamespace(testutil.Context(t, 10*time.Second), &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
	if err != nil || ns.GetNamespaceInfo().GetId() == "" {
		t.Fatalf("describe namespace default: %v, %v", ns, err)
	}
	return ns.NamespaceInfo.Id
}
