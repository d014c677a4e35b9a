package rpc

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	namespacepb "go.temporal.io/api/namespace/v1"
	replicationpb "go.temporal.io/api/replication/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

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
			CountGroupByExecutionStatus:     true,
			EagerWorkflowStart:              true,
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
	info := proto.Clone(rec.Info).(*namespacepb.NamespaceInfo)
	// ShutdownWorker completes the stopping worker's polls (see shutdown.go).
	// What Temporal's defaults enable and the engine serves (the UI and the
	// SDKs read these): updates, sync and async-accepted, included.
	info.Capabilities = &namespacepb.NamespaceInfo_Capabilities{WorkerPollCompleteOnShutdown: true, EagerWorkflowStart: true,
		SyncUpdate: true, AsyncUpdate: true, WorkerHeartbeats: true}
	return &workflowservice.DescribeNamespaceResponse{
		NamespaceInfo: info,
		Config:        rec.Config,
		ReplicationConfig: &replicationpb.NamespaceReplicationConfig{
			ActiveClusterName: "raftflow",
			Clusters:          []*replicationpb.ClusterReplicationConfig{{ClusterName: "raftflow"}},
		},
	}
}

func (s *Service) DescribeNamespace(ctx context.Context, req *workflowservice.DescribeNamespaceRequest) (*workflowservice.DescribeNamespaceResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
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
	if err := bound(req); err != nil {
		return nil, err
	}
	page, next, err := pageNamespaces(s.fsm.ListNamespaces(), req.GetPageSize(), req.GetNextPageToken())
	if err != nil {
		return nil, err
	}
	resp := &workflowservice.ListNamespacesResponse{NextPageToken: next}
	for _, rec := range page {
		resp.Namespaces = append(resp.Namespaces, describeNS(rec))
	}
	return resp, nil
}

func (s *Service) RegisterNamespace(ctx context.Context, req *workflowservice.RegisterNamespaceRequest) (*workflowservice.RegisterNamespaceResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	if err := checkID("namespace", req.GetNamespace()); err != nil {
		return nil, err
	}
	if req.WorkflowExecutionRetentionPeriod == nil {
		req.WorkflowExecutionRetentionPeriod = durationpb.New(defaultNamespaceRetention)
	}
	if err := s.checkRetention("workflow_execution_retention_period", req.WorkflowExecutionRetentionPeriod); err != nil {
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
// checkNamespaceID checks a request's namespace and the one required name
// it addresses in it: a workflow id, a task queue (field names it in the
// error message).
func (s *Service) checkNamespaceID(ns, field, id string) error {
	if err := s.checkNamespace(ns); err != nil {
		return err
	}
	return checkID(field, id)
}

func (s *Service) checkNamespace(ns string) error {
	if ns == "" {
		return invalidArg("namespace: required")
	}
	// A positive answer is cached (it saves a storage read on every call)
	// until a namespace is deleted anywhere: the fsm's namespace epoch then
	// changes and the cache starts again.
	if ns == fsm.DefaultNamespace {
		return nil
	}
	epoch := s.fsm.NamespaceEpoch()
	if e, ok := s.knownNamespaces.Load(ns); ok && e.(uint64) == epoch {
		return nil
	}
	if _, err := s.fsm.GetNamespace(ns); err != nil {
		return toStatus(fmt.Errorf("%w: %s", err, ns))
	}
	s.knownNamespaces.Store(ns, epoch)
	return nil
}

// checkStartSchedule validates a start's cron schedule and start delay
// (Temporal allows one or the other).
func checkStartSchedule(cron string, delay *durationpb.Duration) error {
	if cron != "" {
		if err := fsm.ValidCronSchedule(cron); err != nil {
			return invalidArg("cron_schedule: %q: %v", cron, err)
		}
	}
	if delay != nil {
		if err := delay.CheckValid(); err != nil || delay.AsDuration() < 0 {
			return invalidArg("workflow_start_delay: must be a valid, non-negative duration")
		}
		if cron != "" && delay.AsDuration() > 0 {
			return invalidArg("workflow_start_delay: cannot be used together with cron_schedule")
		}
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
	if err := s.checkStart(req); err != nil {
		return nil, err
	}
	res, err := s.apply(ctx, &fsmpb.Command{RequestId: req.RequestId, Op: &fsmpb.Command_StartWorkflow{StartWorkflow: &fsmpb.StartWorkflow{
		RunId: uuid.NewString(), Request: req,
	}}})
	if err != nil {
		return nil, err
	}
	resp := &workflowservice.StartWorkflowExecutionResponse{RunId: res.RunID, Started: res.Started}
	if res.WorkflowTask != nil {
		resp.EagerWorkflowTask = s.workflowTaskResponse(res.WorkflowTask)
	}
	return resp, nil
}

// checkStart validates a start request (alone or in update-with-start) and
// gives it a request id if it has none.
func (s *Service) checkStart(req *workflowservice.StartWorkflowExecutionRequest) error {
	if err := s.validate(req); err != nil {
		return err
	}
	if err := s.checkNamespace(req.GetNamespace()); err != nil {
		return err
	}
	for _, c := range []struct{ f, v string }{
		{"workflow_id", req.GetWorkflowId()}, {"workflow_type.name", req.GetWorkflowType().GetName()},
		{"task_queue.name", req.GetTaskQueue().GetName()},
	} {
		if err := checkID(c.f, c.v); err != nil {
			return err
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
			return invalidArg("%s: must not be negative", d.f)
		}
	}
	if err := checkStartSchedule(req.GetCronSchedule(), req.GetWorkflowStartDelay()); err != nil {
		return err
	}
	if err := checkBlobs(blob("input", req.GetInput()), blob("memo", req.GetMemo()),
		blob("search_attributes", req.GetSearchAttributes()), blob("header", req.GetHeader())); err != nil {
		return err
	}
	if req.RequestId == "" {
		req.RequestId = uuid.NewString()
	}
	return nil
}

func (s *Service) SignalWorkflowExecution(ctx context.Context, req *workflowservice.SignalWorkflowExecutionRequest) (*workflowservice.SignalWorkflowExecutionResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	if err := s.checkNamespaceID(req.GetNamespace(), "workflow_execution.workflow_id", req.GetWorkflowExecution().GetWorkflowId()); err != nil {
		return nil, err
	}
	if err := checkID("signal_name", req.GetSignalName()); err != nil {
		return nil, err
	}
	if err := checkBlobs(blob("input", req.GetInput()), blob("header", req.GetHeader())); err != nil {
		return nil, err
	}
	if chaosDropSignal() { // deliberately broken chaos builds only (chaos_on.go)
		return &workflowservice.SignalWorkflowExecutionResponse{}, nil
	}
	if _, err := s.apply(ctx, &fsmpb.Command{RequestId: req.RequestId, Op: &fsmpb.Command_SignalWorkflow{SignalWorkflow: &fsmpb.SignalWorkflow{Request: req}}}); err != nil {
		return nil, err
	}
	return &workflowservice.SignalWorkflowExecutionResponse{}, nil
}

func (s *Service) SignalWithStartWorkflowExecution(ctx context.Context, req *workflowservice.SignalWithStartWorkflowExecutionRequest) (*workflowservice.SignalWithStartWorkflowExecutionResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
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
	if err := checkStartSchedule(req.GetCronSchedule(), req.GetWorkflowStartDelay()); err != nil {
		return nil, err
	}
	if err := checkBlobs(blob("input", req.GetInput()), blob("signal_input", req.GetSignalInput()), blob("memo", req.GetMemo()),
		blob("search_attributes", req.GetSearchAttributes()), blob("header", req.GetHeader())); err != nil {
		return nil, err
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
	if err := s.validate(req); err != nil {
		return nil, err
	}
	if err := s.checkNamespaceID(req.GetNamespace(), "workflow_execution.workflow_id", req.GetWorkflowExecution().GetWorkflowId()); err != nil {
		return nil, err
	}
	if _, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_RequestCancelWorkflow{RequestCancelWorkflow: &fsmpb.RequestCancelWorkflow{Request: req}}}); err != nil {
		return nil, err
	}
	return &workflowservice.RequestCancelWorkflowExecutionResponse{}, nil
}

func (s *Service) TerminateWorkflowExecution(ctx context.Context, req *workflowservice.TerminateWorkflowExecutionRequest) (*workflowservice.TerminateWorkflowExecutionResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	if err := s.checkNamespaceID(req.GetNamespace(), "workflow_execution.workflow_id", req.GetWorkflowExecution().GetWorkflowId()); err != nil {
		return nil, err
	}
	if _, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_TerminateWorkflow{TerminateWorkflow: &fsmpb.TerminateWorkflow{Request: req}}}); err != nil {
		return nil, err
	}
	return &workflowservice.TerminateWorkflowExecutionResponse{}, nil
}

func (s *Service) ResetStickyTaskQueue(ctx context.Context, req *workflowservice.ResetStickyTaskQueueRequest) (*workflowservice.ResetStickyTaskQueueResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
	e := req.GetExecution()
	if err := s.checkNamespaceID(req.GetNamespace(), "execution.workflow_id", e.GetWorkflowId()); err != nil {
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
