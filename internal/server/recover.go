package server

import (
	"context"
	"log/slog"
	"runtime/debug"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A handler that panics must cost one call, never the node: gRPC runs each
// call on its own goroutine, where an unrecovered panic ends the process
// (and with it every call in flight and, on the leader, the cluster's
// leadership). The recovery interceptors sit outermost, so a panic in any
// other interceptor is caught too. The caller gets Internal; the log gets
// the panic value and the stack. State needs no repair: a handler proposes
// whole commands through raft, so a panic before or after a proposal
// leaves no half-made change.

// errPanic is what the caller of a panicking handler gets.
var errPanic = status.Error(codes.Internal, "raftflow: internal error (the server recovered from a panic; see its log)")

func recoverUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				logPanic(log, info.FullMethod, r)
				resp, err = nil, errPanic
			}
		}()
		return handler(ctx, req)
	}
}

func recoverStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if r := recover(); r != nil {
				logPanic(log, info.FullMethod, r)
				err = errPanic
			}
		}()
		return handler(srv, ss)
	}
}

func logPanic(log *slog.Logger, method string, r any) {
	log.Error("grpc handler panicked; answered Internal", "method", method, "panic", r, "stack", string(debug.Stack()))
}
