package server

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// panicService is a gRPC service whose unary and streaming handlers panic.
var panicService = grpc.ServiceDesc{
	ServiceName: "raftflow.test.Panic",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Boom",
		Handler: func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			in := new(emptypb.Empty)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(context.Context, any) (any, error) { panic("boom (unary)") }
			return ic(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: "/raftflow.test.Panic/Boom"}, h)
		},
	}},
	Streams: []grpc.StreamDesc{{
		StreamName:    "BoomStream",
		ServerStreams: true,
		Handler:       func(any, grpc.ServerStream) error { panic("boom (stream)") },
	}},
}

// TestRecoverPanics: a handler panic, unary or streaming, answers Internal,
// logs the panic and its stack, and the node serves on.
func TestRecoverPanics(t *testing.T) {
	var logs lockedBuffer
	srv, err := Start(Config{
		NodeID: "n1", DataDir: t.TempDir(),
		GRPCAddr: "127.0.0.1:0", RaftAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		HeartbeatTimeout: 100 * time.Millisecond, ElectionTimeout: 100 * time.Millisecond,
		LeaderLeaseTimeout: 50 * time.Millisecond,
		Logger:             slog.New(slog.NewTextHandler(&logs, nil)),
		register:           func(gs *grpc.Server) { gs.RegisterService(&panicService, struct{}{}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ok, why := srv.Ready(); !ok; ok, why = srv.Ready() {
		if ctx.Err() != nil {
			t.Fatalf("node not ready: %s", why)
		}
		time.Sleep(5 * time.Millisecond)
	}
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	for i := range 2 { // the second call proves the first left the node serving
		err := conn.Invoke(ctx, "/raftflow.test.Panic/Boom", &emptypb.Empty{}, &emptypb.Empty{})
		if status.Code(err) != codes.Internal {
			t.Fatalf("unary panic %d: %v, want Internal", i, err)
		}
	}
	stream, err := conn.NewStream(ctx, &panicService.Streams[0], "/raftflow.test.Panic/BoomStream")
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.SendMsg(&emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	stream.CloseSend()
	if err := stream.RecvMsg(&emptypb.Empty{}); status.Code(err) != codes.Internal {
		t.Fatalf("stream panic: %v, want Internal", err)
	}

	wf := workflowservice.NewWorkflowServiceClient(conn)
	if _, err := wf.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"}); err != nil {
		t.Fatalf("the node does not serve after the panics: %v", err)
	}
	if ok, why := srv.Ready(); !ok {
		t.Fatalf("the node is not ready after the panics: %s", why)
	}
	out := logs.String()
	for _, want := range []string{"boom (unary)", "boom (stream)", "method=/raftflow.test.Panic/Boom", "recover_test.go"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q (the panic and its stack)", want)
		}
	}
}
