package rpc

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	replicationpb "go.temporal.io/api/replication/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/raftflow/engine/fsm"
	"github.com/raftflow/engine/fsm/fsmpb"
)

// ServerVersion is reported by GetSystemInfo and GetClusterInfo.
const ServerVersion = "1.25.0"

func (s *Service) GetSystemInfo(ctx context.Context, _ *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	return &workflowservice.GetSystemInfoResponse{
		ServerVersion: ServerVersion,
		Capabilities: &workflowservice.GetSystemInfoResponse_Capabilities{
			SignalAndQueryHeader:            true,
			InternalErrorDifferentiation:    true,
			ActivityFailureIncludeHeartbeat: true,
			SupportsSchedules:               false,
			EncodedFailureAttributes:        true,
			UpsertMemo:                      true,
			SdkMetadata:                     true,
			CountGroupByExecutionStatus:     false,
		},
	}, nil
}

func (s *Service) GetClusterInfo(ctx context.Context, _ *workflowservice.GetClusterInfoRequest) (*workflowservice.GetClusterInfoResponse, error) {
	return &workflowservice.GetClusterInfoResponse{
		SupportedClients:  map[string]string{},
		ServerVersion:     ServerVersion,
		ClusterId:         "raftflow",
		ClusterName:       "raftflow",
		HistoryShardCount: 1,
		PersistenceStore:  "raftflow-pebble",
		VisibilityStore:   "raftflow-pebble",
	}, nil
}

func describeNS(rec *fsmpb.NamespaceRecord) *workflowservice.DescribeNamespaceResponse {
	return &workflowservice.DescribeNamespaceResponse{
		NamespaceInfo: rec.Info,
		Config:        rec.Config,
		ReplicationConfig: &replicationpb.NamespaceReplicationConfig{
			ActiveClusterName: "raftflow",
			Clusters:          []*replicationpb.ClusterReplicationConfig{{ClusterName: "raftflow"}},
		},
	}
}

func (s *Service) DescribeNamespace(ctx context.Context, req *workflowservice.DescribeNamespaceRequest) (*workflowservice.DescribeNamespaceResponse, error) {
	name := req.GetNamespace()
	if name == "" && req.GetId() != "" {
		for _, rec := range s.fsm.ListNamespaces() {
			if rec.Info.GetId() == req.GetId() {
				return describeNS(rec), nil
			}
		}
		return nil, toStatus(fsm.ErrNamespaceNotFound)
	}
	if name == "" {
		return nil, invalidArg("namespace: required")
	}
	rec, err := s.fsm.GetNamespace(name)
	if err != nil {
		return nil, toStatus(fmt.Errorf("%w: %s", err, name))
	}
	return describeNS(rec), nil
}

func (s *Service) ListNamespaces(ctx context.Context, req *workflowservice.ListNamespacesRequest) (*workflowservice.ListNamespacesResponse, error) {
	resp := &workflowservice.ListNamespacesResponse{}
	for _, rec := range s.fsm.ListNamespaces() {
		resp.Namespaces = append(resp.Namespaces, describeNS(rec))
	}
	return resp, nil
}

func (s *Service) RegisterNamespace(ctx context.Context, req *workflowservice.RegisterNamespaceRequest) (*workflowservice.RegisterNamespaceResponse, error) {
	if err := checkID("namespace", req.GetNamespace()); err != nil {
		return nil, err
	}
	_, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_RegisterNamespace{RegisterNamespace: &fsmpb.RegisterNamespace{
		NamespaceId: uuid.NewString(), Request: req,
	}}})
	if err != nil {
		return nil, err
	}
	return &workflowservice.RegisterNamespaceResponse{}, nil
}

// checkNamespace verifies the namespace exists (NotFound otherwise).
func (s *Service) checkNamespace(ns string) error {
	if ns == "" {
		return invalidArg("namespace: required")
	}
	if _, err := s.fsm.GetNamespace(ns); err != nil {
		return toStatus(fmt.Errorf("%w: %s", err, ns))
	}
	return nil
}

func checkID(field, v string) error {
	if v == "" {
		return invalidArg("%s: required", field)
	}
	if len(v) > maxIDLength {
		return invalidArg("%s: longer than %d bytes", field, maxIDLength)
	}
	return nil
}

func (s *Service) StartWorkflowExecution(ctx context.Context, req *workflowservice.StartWorkflowExecutionRequest) (*workflowservice.StartWorkflowExecutionResponse, error) {
	if err := s.checkNamespace(req.GetNamespace()); err != nil {
		return nil, err
	}
	for _, c := range []struct{ f, v string }{
		{"workflow_id", req.GetWorkflowId()}, {"workflow_type.name", req.GetWorkflowType().GetName()},
		{"task_queue.name", req.GetTaskQueue().GetName()},
	} {
		if err := checkID(c.f, c.v); err != nil {
			return nil, err
		}
	}
	for _, d := range []struct {
		f string
		v int64
	}{
		{"workflow_execution_timeout", req.GetWorkflowExecutionTimeout().AsDuration().Nanoseconds()},
		{"workflow_run_timeout", req.GetWorkflowRunTimeout().AsDuration().Nanoseconds()},
		{"workflow_task_timeout", req.GetWorkflowTaskTimeout().AsDuration().Nanoseconds()},
	} {
		if d.v < 0 {
			return nil, invalidArg("%s: must not be negative", d.f)
		}
	}
	if req.GetCronSchedule() != "" {
		return nil, invalidArg("cron_schedule: not supported by raftflow yet")
	}
	if req.GetWorkflowStartDelay().AsDuration() > 0 {
		return nil, invalidArg("workflow_start_delay: not supported by raftflow yet")
	}
	if req.RequestId == "" {
		req.RequestId = uuid.NewString()
	}
	res, err := s.apply(ctx, &fsmpb.Command{RequestId: req.RequestId, Op: &fsmpb.Command_StartWorkflow{StartWorkflow: &fsmpb.StartWorkflow{
		RunId: uuid.NewString(), Request: req,
	}}})
	if err != nil {
		return nil, err
	}
	return &workflowservice.StartWorkflowExecutionResponse{RunId: res.RunID, Started: res.Started}, nil
}

func (s *Service) SignalWorkflowExecution(ctx context.Context, req *workflowservice.SignalWorkflowExecutionRequest) (*workflowservice.SignalWorkflowExecutionResponse, error) {
	if err := s.checkNamespace(req.GetNamespace()); err != nil {
		return nil, err
	}
	if err := checkID("workflow_execution.workflow_id", req.GetWorkflowExecution().GetWorkflowId()); err != nil {
		return nil, err
	}
	if err := checkID("signal_name", req.GetSignalName()); err != nil {
		return nil, err
	}
	if _, err := s.apply(ctx, &fsmpb.Command{RequestId: req.RequestId, Op: &fsmpb.Command_SignalWorkflow{SignalWorkflow: &fsmpb.SignalWorkflow{Request: req}}}); err != nil {
		return nil, err
	}
	return &workflowservice.SignalWorkflowExecutionResponse{}, nil
}

func (s *Service) SignalWithStartWorkflowExecution(ctx context.Context, req *workflowservice.SignalWithStartWorkflowExecutionRequest) (*workflowservice.SignalWithStartWorkflowExecutionResponse, error) {
	if err := s.checkNamespace(req.GetNamespace()); err != nil {
		return nil, err
	}
	for _, c := range []struct{ f, v string }{
		{"workflow_id", req.GetWorkflowId()}, {"workflow_type.name", req.GetWorkflowType().GetName()},
		{"task_queue.name", req.GetTaskQueue().GetName()}, {"signal_name", req.GetSignalName()},
	} {
		if err := checkID(c.f, c.v); err != nil {
			return nil, err
		}
	}
	if req.GetCronSchedule() != "" {
		return nil, invalidArg("cron_schedule: not supported by raftflow yet")
	}
	if req.RequestId == "" {
		req.RequestId = uuid.NewString()
	}
	res, err := s.apply(ctx, &fsmpb.Command{RequestId: req.RequestId, Op: &fsmpb.Command_SignalWithStart{SignalWithStart: &fsmpb.SignalWithStart{
		RunId: uuid.NewString(), Request: req,
	}}})
	if err != nil {
		return nil, err
	}
	return &workflowservice.SignalWithStartWorkflowExecutionResponse{RunId: res.RunID, Started: res.Started}, nil
}

func (s *Service) RequestCancelWorkflowExecution(ctx context.Context, req *workflowservice.RequestCancelWorkflowExecutionRequest) (*workflowservice.RequestCancelWorkflowExecutionResponse, error) {
	if err := s.checkNamespace(req.GetNamespace()); err != nil {
		return nil, err
	}
	if err := checkID("workflow_execution.workflow_id", req.GetWorkflowExecution().GetWorkflowId()); err != nil {
		return nil, err
	}
	if _, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_RequestCancelWorkflow{RequestCancelWorkflow: &fsmpb.RequestCancelWorkflow{Request: req}}}); err != nil {
		return nil, err
	}
	return &workflowservice.RequestCancelWorkflowExecutionResponse{}, nil
}

func (s *Service) TerminateWorkflowExecution(ctx context.Context, req *workflowservice.TerminateWorkflowExecutionRequest) (*workflowservice.TerminateWorkflowExecutionResponse, error) {
	if err := s.checkNamespace(req.GetNamespace()); err != nil {
		return nil, err
	}
	if err := checkID("workflow_execution.workflow_id", req.GetWorkflowExecution().GetWorkflowId()); err != nil {
		return nil, err
	}
	if _, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_TerminateWorkflow{TerminateWorkflow: &fsmpb.TerminateWorkflow{Request: req}}}); err != nil {
		return nil, err
	}
	return &workflowservice.TerminateWorkflowExecutionResponse{}, nil
}

func (s *Service) ResetStickyTaskQueue(ctx context.Context, req *workflowservice.ResetStickyTaskQueueRequest) (*workflowservice.ResetStickyTaskQueueResponse, error) {
	if err := s.checkNamespace(req.GetNamespace()); err != nil {
		return nil, err
	}
	e := req.GetExecution()
	if err := checkID("execution.workflow_id", e.GetWorkflowId()); err != nil {
		return nil, err
	}
	_, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_ResetSticky{ResetSticky: &fsmpb.ResetSticky{
		Namespace: req.Namespace, WorkflowId: e.GetWorkflowId(), RunId: e.GetRunId(),
	}}})
	if err != nil && !errors.Is(err, fsm.ErrWorkflowNotFound) {
		return nil, err
	}
	return &workflowservice.ResetStickyTaskQueueResponse{}, nil
}

// ShutdownWorker is sent by SDK workers when they stop; sticky queues are not
// used yet, so there is nothing to release.
func (s *Service) ShutdownWorker(ctx context.Context, req *workflowservice.ShutdownWorkerRequest) (*workflowservice.ShutdownWorkerResponse, error) {
	return &workflowservice.ShutdownWorkerResponse{}, nil
}
