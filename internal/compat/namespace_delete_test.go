package compat

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/raftflow/engine/internal/testutil"
	"github.com/raftflow/engine/sdk/enginetest"
)

// TestDeleteNamespace: OperatorService.DeleteNamespace through a follower of
// three nodes, as `temporal operator namespace delete` calls it: the
// namespace is gone at once (describe and start answer NamespaceNotFound),
// the leader's purger terminates and removes its running workflows in the
// background, and then the name can be registered again, empty. The
// default namespace is protected; an unknown one is refused.
func TestDeleteNamespace(t *testing.T) {
	t.Parallel()
	cl := enginetest.Start(t, enginetest.Nodes(3))
	addr := cl.GRPCAddr((cl.Leader() + 1) % 3)
	nsc := dialNamespaceClient(t, addr)
	ctx := testutil.Context(t, 60*time.Second)
	const ns = "to-delete"
	register := func() error {
		return nsc.Register(ctx, &workflowservice.RegisterNamespaceRequest{Namespace: ns, WorkflowExecutionRetentionPeriod: durationpb.New(48 * time.Hour)})
	}
	if err := register(); err != nil {
		t.Fatal(err)
	}
	c := dialNamespace(t, addr, ns)
	for i := range 5 {
		if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("wf-%d", i), TaskQueue: "nobody-polls"}, "NoSuchWorkflow"); err != nil {
			t.Fatal(err)
		}
	}
	ops := c.OperatorService()
	var failed *serviceerror.FailedPrecondition
	if _, err := ops.DeleteNamespace(ctx, &operatorservice.DeleteNamespaceRequest{Namespace: "default"}); !errors.As(err, &failed) {
		t.Fatalf("deleting the default namespace: %v, want FailedPrecondition", err)
	}
	var invalid *serviceerror.InvalidArgument
	if _, err := ops.DeleteNamespace(ctx, &operatorservice.DeleteNamespaceRequest{Namespace: "no-such-namespace"}); !errors.As(err, &invalid) ||
		!strings.Contains(err.Error(), "is not found") {
		t.Fatalf("deleting an unknown namespace: %v, want InvalidArgument", err)
	}
	resp, err := ops.DeleteNamespace(ctx, &operatorservice.DeleteNamespaceRequest{Namespace: ns})
	if err != nil || resp.DeletedNamespace != ns {
		t.Fatalf("delete: %v, %v", resp, err)
	}
	var notFound *serviceerror.NamespaceNotFound
	if _, err := nsc.Describe(ctx, ns); !errors.As(err, &notFound) {
		t.Fatalf("describe after delete: %v, want NamespaceNotFound", err)
	}
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "late", TaskQueue: "nobody-polls"}, "NoSuchWorkflow"); !errors.As(err, &notFound) {
		t.Fatalf("start after delete: %v, want NamespaceNotFound", err)
	}
	testutil.Eventually(t, 30*time.Second, "the name registered again once the purge finished", func() (bool, string) {
		err := register()
		return err == nil, fmt.Sprint(err)
	})
	if ids := listIDs(t, c, "", 0); len(ids) != 0 {
		t.Fatalf("the re-registered namespace lists %v", ids)
	}
	if _, err := c.DescribeWorkflowExecution(ctx, "wf-0", ""); err == nil {
		t.Fatalf("a run of the deleted namespace survived")
	}
}
