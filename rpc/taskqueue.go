package rpc

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/raftflow/engine/queue"
)

// pollerTTL is how long a poller stays listed after its last poll (Temporal
// lists pollers seen in the last five minutes).
const pollerTTL = 5 * time.Minute

type pollerKey struct {
	ns, queue string
	kind      queue.Kind
	identity  string
}

// pollersSeen remembers when each worker identity last polled each task
// queue, for DescribeTaskQueue (the Web UI's worker lists). In-memory and
// per node: after a leader change the list refills as workers poll again.
type pollersSeen struct {
	mu   sync.Mutex
	last map[pollerKey]time.Time
}

func newPollersSeen() *pollersSeen { return &pollersSeen{last: map[pollerKey]time.Time{}} }

func (p *pollersSeen) saw(ns, tq string, kind queue.Kind, identity string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last[pollerKey{ns, tq, kind, identity}] = now
	if len(p.last) > 1024 { // drop the expired now and then
		for k, t := range p.last {
			if now.Sub(t) > pollerTTL {
				delete(p.last, k)
			}
		}
	}
}

func (p *pollersSeen) list(ns, tq string, kind queue.Kind, now time.Time) []*taskqueuepb.PollerInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*taskqueuepb.PollerInfo
	for k, t := range p.last {
		if k.ns == ns && k.queue == tq && k.kind == kind && now.Sub(t) <= pollerTTL {
			out = append(out, &taskqueuepb.PollerInfo{Identity: k.identity, LastAccessTime: timestamppb.New(t)})
		}
	}
	slices.SortFunc(out, func(a, b *taskqueuepb.PollerInfo) int { return strings.Compare(a.Identity, b.Identity) })
	return out
}

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
	kind := queue.KindWorkflow
	if req.TaskQueueType == enumspb.TASK_QUEUE_TYPE_ACTIVITY {
		kind = queue.KindActivity
	} else if req.TaskQueueType != enumspb.TASK_QUEUE_TYPE_UNSPECIFIED && req.TaskQueueType != enumspb.TASK_QUEUE_TYPE_WORKFLOW {
		return &workflowservice.DescribeTaskQueueResponse{}, nil
	}
	name := req.TaskQueue.GetName()
	resp := &workflowservice.DescribeTaskQueueResponse{Pollers: s.pollers.list(req.Namespace, name, kind, s.clock.Now())}
	if req.ReportStats {
		var backlog int64
		for _, q := range s.queues.Stats() {
			if q.Namespace == req.Namespace && q.Queue == name && q.Kind == kind {
				backlog = int64(q.Backlog)
			}
		}
		resp.Stats = &taskqueuepb.TaskQueueStats{ApproximateBacklogCount: backlog}
	}
	return resp, nil
}
