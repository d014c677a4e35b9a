package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workerpb "go.temporal.io/api/worker/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/raftflow/engine/leader"
	"github.com/raftflow/engine/rpc/visquery"
)

// The worker APIs: RecordWorkerHeartbeat (the SDKs send it when
// DescribeNamespace advertises worker_heartbeats), ListWorkers,
// CountWorkers and DescribeWorker over the leader's in-memory registry
// (leader/workerhb.go), and ListTaskQueuePartitions (one partition per task
// queue and type, owned by the leader).

// RecordWorkerHeartbeat stores each worker's latest heartbeat.
func (s *Service) RecordWorkerHeartbeat(ctx context.Context, req *workflowservice.RecordWorkerHeartbeatRequest) (*workflowservice.RecordWorkerHeartbeatResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
	if err := s.checkNamespace(req.Namespace); err != nil {
		return nil, err
	}
	for i, hb := range req.WorkerHeartbeat {
		if err := checkID(fmt.Sprintf("worker_heartbeat[%d].worker_instance_key", i), hb.GetWorkerInstanceKey()); err != nil {
			return nil, err
		}
	}
	if err := s.eng.RecordWorkerHeartbeats(req.Namespace, req.WorkerHeartbeat); err != nil {
		if errors.Is(err, leader.ErrTooManyWorkers) {
			return nil, svcErr(serviceerror.NewResourceExhausted(enumspb.RESOURCE_EXHAUSTED_CAUSE_SYSTEM_OVERLOADED, err.Error()))
		}
		return nil, err
	}
	return &workflowservice.RecordWorkerHeartbeatResponse{}, nil
}

// matchingWorkers are the namespace's live workers the query selects.
// The query language is the visibility one (rpc/visquery) over the fields
// Temporal documents for ListWorkers: WorkerInstanceKey, WorkerIdentity,
// HostName, TaskQueue, DeploymentName, BuildId, SdkName, SdkVersion,
// StartTime and Status (Running, ShuttingDown, Shutdown).
func (s *Service) matchingWorkers(ns, query string) ([]*workerpb.WorkerHeartbeat, error) {
	if err := s.checkNamespace(ns); err != nil {
		return nil, err
	}
	q, err := visquery.Parse(query)
	if err != nil {
		return nil, invalidArg("query: %v", err)
	}
	var out []*workerpb.WorkerHeartbeat
	for _, hb := range s.eng.Workers(ns) {
		if q.Match(workerRow(hb)) {
			out = append(out, hb)
		}
	}
	return out, nil
}

// workerRow presents a heartbeat to the visibility query evaluator: the
// task queue and start time as the system fields, the rest as keywords.
func workerRow(hb *workerpb.WorkerHeartbeat) *workflowpb.WorkflowExecutionInfo {
	fields := map[string]*commonpb.Payload{}
	kw := func(name, v string) {
		if v != "" {
			data, _ := json.Marshal(v)
			fields[name] = &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain"), "type": []byte("Keyword")}, Data: data}
		}
	}
	kw("WorkerInstanceKey", hb.WorkerInstanceKey)
	kw("WorkerIdentity", hb.WorkerIdentity)
	kw("HostName", hb.GetHostInfo().GetHostName())
	kw("DeploymentName", hb.GetDeploymentVersion().GetDeploymentName())
	kw("BuildId", hb.GetDeploymentVersion().GetBuildId())
	kw("SdkName", hb.SdkName)
	kw("SdkVersion", hb.SdkVersion)
	if hb.Status != enumspb.WORKER_STATUS_UNSPECIFIED {
		kw("Status", workerStatusName(hb.Status))
	}
	return &workflowpb.WorkflowExecutionInfo{TaskQueue: hb.TaskQueue, StartTime: hb.StartTime,
		SearchAttributes: &commonpb.SearchAttributes{IndexedFields: fields}}
}

// workerStatusName is the enum's short name (WORKER_STATUS_SHUTTING_DOWN:
// ShuttingDown).
func workerStatusName(st enumspb.WorkerStatus) string {
	var b strings.Builder
	for _, part := range strings.Split(strings.TrimPrefix(st.String(), "WORKER_STATUS_"), "_") {
		if part != "" {
			b.WriteString(part[:1] + strings.ToLower(part[1:]))
		}
	}
	return b.String()
}

// ListWorkers pages through the matching workers by instance key; the page
// token is the last key of the previous page.
func (s *Service) ListWorkers(ctx context.Context, req *workflowservice.ListWorkersRequest) (*workflowservice.ListWorkersResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
	workers, err := s.matchingWorkers(req.Namespace, req.Query)
	if err != nil {
		return nil, err
	}
	size := int(req.PageSize)
	if size <= 0 || size > 1000 {
		size = 1000
	}
	after := string(req.NextPageToken)
	resp := &workflowservice.ListWorkersResponse{}
	for _, hb := range workers {
		if after != "" && hb.WorkerInstanceKey <= after {
			continue
		}
		if len(resp.Workers) == size {
			resp.NextPageToken = []byte(resp.Workers[size-1].WorkerInstanceKey)
			break
		}
		resp.WorkersInfo = append(resp.WorkersInfo, &workerpb.WorkerInfo{WorkerHeartbeat: hb})
		resp.Workers = append(resp.Workers, &workerpb.WorkerListInfo{
			WorkerInstanceKey: hb.WorkerInstanceKey, WorkerIdentity: hb.WorkerIdentity, TaskQueue: hb.TaskQueue,
			DeploymentVersion: hb.DeploymentVersion, SdkName: hb.SdkName, SdkVersion: hb.SdkVersion, Status: hb.Status,
			StartTime: hb.StartTime, HostName: hb.GetHostInfo().GetHostName(), WorkerGroupingKey: hb.GetHostInfo().GetWorkerGroupingKey(),
			ProcessId: hb.GetHostInfo().GetProcessId(), Plugins: hb.Plugins, Drivers: hb.Drivers,
		})
	}
	return resp, nil
}

func (s *Service) CountWorkers(ctx context.Context, req *workflowservice.CountWorkersRequest) (*workflowservice.CountWorkersResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
	workers, err := s.matchingWorkers(req.Namespace, req.Query)
	if err != nil {
		return nil, err
	}
	return &workflowservice.CountWorkersResponse{Count: int64(len(workers))}, nil
}

func (s *Service) DescribeWorker(ctx context.Context, req *workflowservice.DescribeWorkerRequest) (*workflowservice.DescribeWorkerResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
	if err := s.checkNamespaceID(req.Namespace, "worker_instance_key", req.WorkerInstanceKey); err != nil {
		return nil, err
	}
	hb := s.eng.Worker(req.Namespace, req.WorkerInstanceKey)
	if hb == nil {
		return nil, svcErr(serviceerror.NewNotFoundf("worker %s not found", req.WorkerInstanceKey))
	}
	return &workflowservice.DescribeWorkerResponse{WorkerInfo: &workerpb.WorkerInfo{WorkerHeartbeat: hb}}, nil
}

// ListTaskQueuePartitions: a raftflow task queue has one partition per
// type, served by the leader.
func (s *Service) ListTaskQueuePartitions(ctx context.Context, req *workflowservice.ListTaskQueuePartitionsRequest) (*workflowservice.ListTaskQueuePartitionsResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
	if err := s.checkNamespace(req.Namespace); err != nil {
		return nil, err
	}
	name := req.GetTaskQueue().GetName()
	if name == "" {
		return nil, invalidArg("task_queue: required")
	}
	owner := []*taskqueuepb.TaskQueuePartitionMetadata{{Key: name, OwnerHostName: s.cfg.Self.GetGrpcAddr()}}
	return &workflowservice.ListTaskQueuePartitionsResponse{ActivityTaskQueuePartitions: owner, WorkflowTaskQueuePartitions: owner}, nil
}
