package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	grpcstatus "google.golang.org/grpc/status"

	"github.com/raftflow/engine/internal/testutil"
)

// TestGzipRequests: the engine binary serves a gzip-compressed call (the
// Go SDK's default since v1.50, which otherwise gets Unimplemented and
// retries uncompressed) on its first attempt; a request that only inflates
// past the 64 MiB message limit is refused ResourceExhausted and the node
// serves on. (A process of its own: this test registers gzip on its side.)
func TestGzipRequests(t *testing.T) {
	p := newProc(t, "n1", nil)
	p.start(t)
	testutil.EventuallyTrue(t, 30*time.Second, "a ready engine", p.ready)
	conn, err := grpc.NewClient(p.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	wf := workflowservice.NewWorkflowServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	describe := func(ns string) error {
		_, err := wf.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns}, grpc.UseCompressor(gzip.Name))
		return err
	}
	if err := describe("default"); err != nil {
		t.Fatalf("gzip request: %v", err)
	}
	const limit = 64 << 20
	if err := describe(strings.Repeat("a", limit+1)); grpcstatus.Code(err) != codes.ResourceExhausted {
		t.Fatalf("inflating request: %v, want ResourceExhausted", err)
	}
	if err := describe("default"); err != nil {
		t.Fatalf("the node does not serve after the inflating request: %v", err)
	}
}
