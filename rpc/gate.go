package rpc

import "context"

// gate is how the unary interceptor treats a method: which node serves it
// and what the leader checks first. The zero value is gateRead, so a method
// missing from gates (a service registered later, a test's) is gated as a
// read: the gate fails closed. TestReadGateTable fails when a method of a
// served service is missing from gates.
type gate uint8

const (
	// gateRead: forwarded to the leader, which serves it after its term's
	// barrier (LeaderReady) and a quorum round (VerifyLeader). For calls
	// that answer from the state machine (or the leader's registries)
	// without proposing: a deposed leader must not answer them.
	gateRead gate = iota
	// gateWrite: forwarded to the leader, served after the barrier. For
	// calls that propose through raft (committed only under a current
	// leader, decided against applied state) or change the leader's
	// in-memory registries (polls, query answers, worker shutdown).
	gateWrite
	// gateUnimplemented: the handler answers Unimplemented; gated like a
	// write, as any Temporal call is. TestReadGateUnimplemented fails when
	// one gets a handler, so implementing it means classifying it here.
	gateUnimplemented
	// gateUngated: forwarded to the leader, served without the gate:
	// membership changes and static answers work on a starting leader.
	gateUngated
	// gateLocal: answered by the node called, never forwarded or gated.
	gateLocal
)

func (g gate) String() string {
	return [...]string{"read", "write", "unimplemented", "ungated", "local"}[g]
}

// gateOf classifies a full gRPC method name ("/pkg.Service/Method");
// unknown methods are reads.
func gateOf(fullMethod string) gate { return gates[fullMethod] }

const (
	wfs   = "/temporal.api.workflowservice.v1.WorkflowService/"
	ops   = "/temporal.api.operatorservice.v1.OperatorService/"
	adm   = "/raftflow.admin.v1.AdminService/"
	hlt   = "/grpc.health.v1.Health/"
	read  = gateRead
	write = gateWrite
	unimp = gateUnimplemented
)

// gates classifies every method of every service the gRPC server serves.
var gates = map[string]gate{
	// WorkflowService: namespaces.
	wfs + "RegisterNamespace":  write,
	wfs + "DescribeNamespace":  read,
	wfs + "ListNamespaces":     read,
	wfs + "UpdateNamespace":    write,
	wfs + "DeprecateNamespace": unimp,

	// Workflow executions.
	wfs + "StartWorkflowExecution":             write,
	wfs + "ExecuteMultiOperation":              write,
	wfs + "GetWorkflowExecutionHistory":        read,
	wfs + "GetWorkflowExecutionHistoryReverse": read,
	wfs + "RequestCancelWorkflowExecution":     write,
	wfs + "SignalWorkflowExecution":            write,
	wfs + "SignalWithStartWorkflowExecution":   write,
	wfs + "ResetWorkflowExecution":             unimp,
	wfs + "TerminateWorkflowExecution":         write,
	wfs + "DeleteWorkflowExecution":            write,
	wfs + "QueryWorkflow":                      read, // in-memory query task, never proposed
	wfs + "DescribeWorkflowExecution":          read,
	wfs + "UpdateWorkflowExecution":            write,
	wfs + "PollWorkflowExecutionUpdate":        read,
	wfs + "UpdateWorkflowExecutionOptions":     unimp,
	wfs + "PauseWorkflowExecution":             unimp,
	wfs + "UnpauseWorkflowExecution":           unimp,
	wfs + "PollWorkflowExecutionTimeSkipping":  unimp,

	// Workers: polls record the task started through raft before answering.
	wfs + "PollWorkflowTaskQueue":            write,
	wfs + "RespondWorkflowTaskCompleted":     write,
	wfs + "RespondWorkflowTaskFailed":        write,
	wfs + "PollActivityTaskQueue":            write,
	wfs + "RecordActivityTaskHeartbeat":      write,
	wfs + "RecordActivityTaskHeartbeatById":  write,
	wfs + "RespondActivityTaskCompleted":     write,
	wfs + "RespondActivityTaskCompletedById": write,
	wfs + "RespondActivityTaskFailed":        write,
	wfs + "RespondActivityTaskFailedById":    write,
	wfs + "RespondActivityTaskCanceled":      write,
	wfs + "RespondActivityTaskCanceledById":  write,
	wfs + "RespondQueryTaskCompleted":        write, // the leader's query registry
	wfs + "ResetStickyTaskQueue":             write,
	wfs + "ShutdownWorker":                   write, // the leader's poll and sticky registries
	wfs + "DescribeTaskQueue":                read,
	wfs + "ListTaskQueuePartitions":          read,
	wfs + "UpdateTaskQueueConfig":            unimp,

	// Visibility.
	wfs + "ListOpenWorkflowExecutions":     read,
	wfs + "ListClosedWorkflowExecutions":   read,
	wfs + "ListWorkflowExecutions":         read,
	wfs + "ListArchivedWorkflowExecutions": unimp,
	wfs + "ScanWorkflowExecutions":         read,
	wfs + "CountWorkflowExecutions":        read,
	wfs + "GetSearchAttributes":            read,

	// Static answers.
	wfs + "GetClusterInfo": gateUngated,
	wfs + "GetSystemInfo":  gateUngated,

	// Schedules, worker versioning and deployments, batch operations,
	// Nexus, activity options and pausing, workflow rules, worker
	// heartbeats and config, standalone activities and Nexus operations.
	wfs + "CreateSchedule":                               unimp,
	wfs + "DescribeSchedule":                             unimp,
	wfs + "UpdateSchedule":                               unimp,
	wfs + "PatchSchedule":                                unimp,
	wfs + "ListScheduleMatchingTimes":                    unimp,
	wfs + "DeleteSchedule":                               unimp,
	wfs + "ListSchedules":                                unimp,
	wfs + "CountSchedules":                               unimp,
	wfs + "UpdateWorkerBuildIdCompatibility":             unimp,
	wfs + "GetWorkerBuildIdCompatibility":                unimp,
	wfs + "UpdateWorkerVersioningRules":                  unimp,
	wfs + "GetWorkerVersioningRules":                     unimp,
	wfs + "GetWorkerTaskReachability":                    unimp,
	wfs + "DescribeDeployment":                           unimp,
	wfs + "DescribeWorkerDeploymentVersion":              unimp,
	wfs + "ListDeployments":                              unimp,
	wfs + "GetDeploymentReachability":                    unimp,
	wfs + "GetCurrentDeployment":                         unimp,
	wfs + "SetCurrentDeployment":                         unimp,
	wfs + "SetWorkerDeploymentCurrentVersion":            unimp,
	wfs + "DescribeWorkerDeployment":                     unimp,
	wfs + "DeleteWorkerDeployment":                       unimp,
	wfs + "DeleteWorkerDeploymentVersion":                unimp,
	wfs + "SetWorkerDeploymentRampingVersion":            unimp,
	wfs + "ListWorkerDeployments":                        unimp,
	wfs + "CreateWorkerDeployment":                       unimp,
	wfs + "CreateWorkerDeploymentVersion":                unimp,
	wfs + "UpdateWorkerDeploymentVersionComputeConfig":   unimp,
	wfs + "ValidateWorkerDeploymentVersionComputeConfig": unimp,
	wfs + "UpdateWorkerDeploymentVersionMetadata":        unimp,
	wfs + "SetWorkerDeploymentManager":                   unimp,
	wfs + "StartBatchOperation":                          unimp,
	wfs + "StopBatchOperation":                           unimp,
	wfs + "DescribeBatchOperation":                       unimp,
	wfs + "ListBatchOperations":                          unimp,
	wfs + "PollNexusTaskQueue":                           unimp,
	wfs + "RespondNexusTaskCompleted":                    unimp,
	wfs + "RespondNexusTaskFailed":                       unimp,
	wfs + "UpdateActivityOptions":                        write,
	wfs + "PauseActivity":                                write,
	wfs + "UnpauseActivity":                              write,
	wfs + "ResetActivity":                                write,
	wfs + "CreateWorkflowRule":                           unimp,
	wfs + "DescribeWorkflowRule":                         unimp,
	wfs + "DeleteWorkflowRule":                           unimp,
	wfs + "ListWorkflowRules":                            unimp,
	wfs + "TriggerWorkflowRule":                          unimp,
	wfs + "RecordWorkerHeartbeat":                        write, // the leader's worker registry
	wfs + "ListWorkers":                                  read,
	wfs + "CountWorkers":                                 read,
	wfs + "FetchWorkerConfig":                            unimp,
	wfs + "UpdateWorkerConfig":                           unimp,
	wfs + "DescribeWorker":                               read,
	wfs + "StartActivityExecution":                       unimp,
	wfs + "StartNexusOperationExecution":                 unimp,
	wfs + "DescribeActivityExecution":                    unimp,
	wfs + "DescribeNexusOperationExecution":              unimp,
	wfs + "PollActivityExecution":                        unimp,
	wfs + "PollNexusOperationExecution":                  unimp,
	wfs + "ListActivityExecutions":                       unimp,
	wfs + "ListNexusOperationExecutions":                 unimp,
	wfs + "CountActivityExecutions":                      unimp,
	wfs + "CountNexusOperationExecutions":                unimp,
	wfs + "RequestCancelActivityExecution":               unimp,
	wfs + "RequestCancelNexusOperationExecution":         unimp,
	wfs + "TerminateActivityExecution":                   unimp,
	wfs + "DeleteActivityExecution":                      unimp,
	wfs + "PauseActivityExecution":                       unimp,
	wfs + "ResetActivityExecution":                       unimp,
	wfs + "UnpauseActivityExecution":                     unimp,
	wfs + "UpdateActivityExecutionOptions":               unimp,
	wfs + "TerminateNexusOperationExecution":             unimp,
	wfs + "DeleteNexusOperationExecution":                unimp,

	// OperatorService: only what the Web UI needs (see operator).
	ops + "ListSearchAttributes":     read,
	ops + "AddSearchAttributes":      write,
	ops + "RemoveSearchAttributes":   write,
	ops + "DeleteNamespace":          write,
	ops + "AddOrUpdateRemoteCluster": unimp,
	ops + "RemoveRemoteCluster":      unimp,
	ops + "ListClusters":             unimp,
	ops + "GetNexusEndpoint":         unimp,
	ops + "CreateNexusEndpoint":      unimp,
	ops + "UpdateNexusEndpoint":      unimp,
	ops + "DeleteNexusEndpoint":      unimp,
	ops + "ListNexusEndpoints":       unimp,

	// AdminService: membership on the leader, without the barrier (a
	// starting leader must accept joins); status and snapshots of the node
	// called.
	adm + "Join":               gateUngated,
	adm + "Remove":             gateUngated,
	adm + "TransferLeadership": gateUngated,
	adm + "Status":             gateLocal,
	adm + "Snapshot":           gateLocal,

	// grpc.health.v1 (registered by internal/server): this node's
	// readiness. Watch is a stream, which the unary interceptor never sees.
	hlt + "Check": gateLocal,
	hlt + "List":  gateUngated,
	hlt + "Watch": gateLocal,
}

// readable keeps a leader from answering from a stale state machine. Until
// its term's Barrier has applied every earlier entry (LeaderReady), no
// gated call is served: a new leader may not have applied writes the
// previous leader acknowledged. A read also waits for a quorum to confirm
// this node still leads, so a leader cut off from the others (whose
// successor may already acknowledge writes) answers Unavailable instead of
// old state. Writes need no quorum round of their own: raft commits them
// only under a current leader, and the FSM decides them against applied
// state.
func (s *Service) readable(ctx context.Context, g gate) error {
	if g == gateUngated || g == gateLocal {
		return nil
	}
	if !s.node.LeaderReady() {
		return unavailable("raftflow: the new leader is still applying earlier entries; retry")
	}
	if g == gateRead {
		if err := s.node.VerifyLeader(ctx); err != nil {
			return unavailable("raftflow: leadership not confirmed by a quorum; retry")
		}
	}
	return nil
}
