package rpc

import (
	"context"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// DescribeTaskQueue lists the workers that polled the queue recently and,
// with ReportStats, its backlog. Versioning, rate limits and partitions do
// not exist on raftflow and are left empty.
func (s *Service) DescribeTaskQueue(ctx context.Context, req *workflowservice.DescribeTaskQueueRequest) (*workflowservice.DescribeTaskQueueResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
	if err := s.checkNamespace(req.Namespace); err != nil {
		return nil, err
	}
	if req.TaskQueue.GetName() == "" {
		return nil, invalidArg("task_queue: required")
	}
	kind := fsmpb.TaskKind_TASK_KIND_WORKFLOW
	if req.TaskQueueType == enumspb.TASK_QUEUE_TYPE_ACTIVITY {
		kind = fsmpb.TaskKind_TASK_KIND_ACTIVITY
	} else if req.TaskQueueType != enumspb.TASK_QUEUE_TYPE_UNSPECIFIED && req.TaskQueueType != enumspb.TASK_QUEUE_TYPE_WORKFLOW {
		return &workflowservice.DescribeTaskQueueResponse{}, nil
	}
	name := req.TaskQueue.GetName()
	resp := &workflowservice.DescribeTaskQueueResponse{}
	for _, p := range s.eng.Pollers(req.Namespace, name, kind) {
		resp.Pollers = append(resp.Pollers, &taskqueuepb.PollerInfo{Identity: p.Identity, LastAccessTime: timestamppb.New(p.LastAccess)})
	}
	if req.ReportStats {
		resp.Stats = &taskqueuepb.TaskQueueStats{ApproximateBacklogCount: int64(s.eng.Backlog(req.Namespace, name, kind))}
	}
	return resp, nil
}
