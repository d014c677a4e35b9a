package rpc

import (
	"context"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// checkRetention validates a namespace retention period (nil: unchanged or
// the default). Temporal requires at least a day; Config.MinRetention may
// lower that (tests of retention).
func (s *Service) checkRetention(field string, d *durationpb.Duration) error {
	if d == nil {
		return nil
	}
	min := s.cfg.MinRetention
	if min <= 0 {
		min = defaultMinRetention
	}
	if err := d.CheckValid(); err != nil {
		return invalidArg("%s: %v", field, err)
	}
	if d.AsDuration() < min {
		return invalidArg("%s: %s is shorter than the minimum retention of %s", field, d.AsDuration(), min)
	}
	return nil
}

// UpdateNamespace changes a namespace's description, owner email, data,
// state (registered or deprecated) and retention. The new retention applies
// to runs that close afterwards.
func (s *Service) UpdateNamespace(ctx context.Context, req *workflowservice.UpdateNamespaceRequest) (*workflowservice.UpdateNamespaceResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	if err := s.checkNamespace(req.GetNamespace()); err != nil {
		return nil, err
	}
	if err := s.checkRetention("config.workflow_execution_retention_ttl", req.GetConfig().GetWorkflowExecutionRetentionTtl()); err != nil {
		return nil, err
	}
	switch st := req.GetUpdateInfo().GetState(); st {
	case enumspb.NAMESPACE_STATE_UNSPECIFIED, enumspb.NAMESPACE_STATE_REGISTERED, enumspb.NAMESPACE_STATE_DEPRECATED:
	default:
		return nil, invalidArg("update_info.state: %s is not supported by raftflow", st)
	}
	if req.GetPromoteNamespace() || req.GetReplicationConfig() != nil && req.GetReplicationConfig().GetActiveClusterName() != "" &&
		req.GetReplicationConfig().GetActiveClusterName() != "raftflow" {
		return nil, invalidArg("replication_config: raftflow has one cluster, %q", "raftflow")
	}
	if _, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_UpdateNamespace{UpdateNamespace: &fsmpb.UpdateNamespace{Request: req}}}); err != nil {
		return nil, err
	}
	rec, err := s.fsm.GetNamespace(req.Namespace)
	if err != nil {
		return nil, toStatus(err)
	}
	d := describeNS(rec)
	return &workflowservice.UpdateNamespaceResponse{
		NamespaceInfo: d.NamespaceInfo, Config: d.Config, ReplicationConfig: d.ReplicationConfig,
	}, nil
}

// nsTokenPrefix versions ListNamespaces page tokens (prefix + last name).
const nsTokenPrefix = "rfns1:"

// pageNamespaces returns the page of recs after the token and the next token.
func pageNamespaces(recs []*fsmpb.NamespaceRecord, pageSize int32, token []byte) ([]*fsmpb.NamespaceRecord, []byte, error) {
	start := 0
	if len(token) > 0 {
		t := string(token)
		if !strings.HasPrefix(t, nsTokenPrefix) {
			return nil, nil, invalidArg("next_page_token: malformed")
		}
		last := t[len(nsTokenPrefix):]
		start = len(recs)
		for i, r := range recs {
			if r.GetInfo().GetName() == last {
				start = i + 1
				break
			}
		}
	}
	n := int(pageSize)
	if n <= 0 || n > 1000 {
		n = 1000
	}
	end := min(start+n, len(recs))
	page := recs[start:end]
	var next []byte
	if end < len(recs) {
		next = []byte(nsTokenPrefix + recs[end-1].GetInfo().GetName())
	}
	return page, next, nil
}

// DeleteWorkflowExecution deletes a run (the current one when run_id is
// empty): a running run is terminated first. Its history, mutable state and
// visibility record are gone when the call returns.
func (s *Service) DeleteWorkflowExecution(ctx context.Context, req *workflowservice.DeleteWorkflowExecutionRequest) (*workflowservice.DeleteWorkflowExecutionResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
	e := req.GetWorkflowExecution()
	if err := s.checkNamespaceID(req.GetNamespace(), "workflow_execution.workflow_id", e.GetWorkflowId()); err != nil {
		return nil, err
	}
	if len(e.GetRunId()) > maxIDLength {
		return nil, invalidArg("workflow_execution.run_id: longer than %d bytes", maxIDLength)
	}
	if _, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_DeleteWorkflow{DeleteWorkflow: &fsmpb.DeleteWorkflow{
		Namespace: req.Namespace, WorkflowId: e.GetWorkflowId(), RunId: e.GetRunId(), Identity: "DeleteWorkflowExecution",
	}}}); err != nil {
		return nil, err
	}
	return &workflowservice.DeleteWorkflowExecutionResponse{}, nil
}
