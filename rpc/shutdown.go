package rpc

import (
	"context"

	"go.temporal.io/api/workflowservice/v1"
)

// ShutdownWorker is Temporal's graceful worker shutdown: the stopping
// worker's outstanding polls complete (empty) and its later ones are
// refused, and its sticky queue is released (leader.Engine.ShutdownWorker;
// in-memory leader state: a missed shutdown costs a timeout, never
// correctness).
func (s *Service) ShutdownWorker(ctx context.Context, req *workflowservice.ShutdownWorkerRequest) (*workflowservice.ShutdownWorkerResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	if err := s.checkNamespace(req.GetNamespace()); err != nil {
		return nil, err
	}
	if err := s.eng.ShutdownWorker(ctx, req.GetNamespace(), req.GetWorkerInstanceKey(), req.GetStickyTaskQueue()); err != nil {
		return nil, toStatus(err)
	}
	return &workflowservice.ShutdownWorkerResponse{}, nil
}
