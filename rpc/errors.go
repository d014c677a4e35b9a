package rpc

import (
	"context"
	"errors"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/raftflow/engine/fsm"
	"github.com/raftflow/engine/raftnode"
)

// toStatus maps an fsm domain error or a raft error to the gRPC error a
// Temporal client expects (Temporal's serviceerror types carry the details
// the SDK inspects, e.g. WorkflowExecutionAlreadyStarted).
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok && !isPlain(err) {
		return err
	}
	var started *fsm.AlreadyStartedError
	var badCmd *fsm.BadCommandError
	switch {
	case errors.As(err, &started):
		msg := started.Message
		if msg == "" {
			msg = "workflow execution already started"
		}
		return svcErr(serviceerror.NewWorkflowExecutionAlreadyStarted(msg, started.StartRequestID, started.RunID))
	case errors.As(err, &badCmd):
		return svcErr(serviceerror.NewInvalidArgument(badCmd.Message))
	case errors.Is(err, fsm.ErrNamespaceNotFound):
		return svcErr(serviceerror.NewNamespaceNotFound(err.Error()))
	case errors.Is(err, fsm.ErrNamespaceExists):
		msg := "namespace already exists"
		if strings.Contains(err.Error(), "being deleted") {
			msg = strings.TrimPrefix(err.Error(), fsm.ErrNamespaceExists.Error()+": ")
		}
		return svcErr(serviceerror.NewNamespaceAlreadyExists(msg))
	case errors.Is(err, fsm.ErrNamespaceProtected):
		return svcErr(serviceerror.NewFailedPrecondition(strings.TrimPrefix(err.Error(), "fsm: ")))
	case errors.Is(err, fsm.ErrWorkflowNotFound):
		return svcErr(serviceerror.NewNotFound("workflow execution not found"))
	case errors.Is(err, fsm.ErrWorkflowClosed):
		return svcErr(serviceerror.NewNotFound("workflow execution already completed"))
	case errors.Is(err, fsm.ErrActivityNotFound):
		return svcErr(serviceerror.NewNotFound("Can't find pending activity with such ID. Invalid activityID or activity already completed"))
	case errors.Is(err, fsm.ErrStaleTask):
		return svcErr(serviceerror.NewNotFound("task not found or no longer current"))
	case errors.Is(err, fsm.ErrHistoryLimit):
		// Temporal's message: "Workflow history count exceeds limit." (or size).
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return svcErr(serviceerror.NewInvalidArgument(msg))
	case errors.Is(err, fsm.ErrSignalLimit):
		return svcErr(serviceerror.NewResourceExhausted(enumspb.RESOURCE_EXHAUSTED_CAUSE_UNSPECIFIED,
			"exceeded workflow execution limit for signal events"))
	case errors.Is(err, fsm.ErrInvalidArgument):
		return svcErr(serviceerror.NewInvalidArgument(err.Error()))
	case errors.Is(err, raftnode.ErrNotLeader):
		return status.Error(codes.Unavailable, "raftflow: this node is not the leader; retry")
	case errors.Is(err, raftnode.ErrLeadershipLost):
		return status.Error(codes.Unavailable, "raftflow: leadership lost; the request may or may not have been applied")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

// isPlain reports whether err only looks like a status because it is an
// unknown error (status.FromError wraps those as codes.Unknown).
func isPlain(err error) bool {
	s, _ := status.FromError(err)
	return s.Code() == codes.Unknown
}

func svcErr(err error) error { return serviceerror.ToStatus(err).Err() }

func invalidArg(format string, args ...any) error {
	return svcErr(serviceerror.NewInvalidArgumentf(format, args...))
}

func unavailable(msg string) error { return status.Error(codes.Unavailable, msg) }
