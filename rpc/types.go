package rpc

import (
	"cmp"
	"slices"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
)

type (
	workflowExecutionConfig = workflowpb.WorkflowExecutionConfig
	workflowExecutionInfo   = workflowpb.WorkflowExecutionInfo
	pendingActivityInfo     = workflowpb.PendingActivityInfo
	pendingWorkflowTaskInfo = workflowpb.PendingWorkflowTaskInfo
	workflowExtendedInfo    = workflowpb.WorkflowExecutionExtendedInfo
)

type taskQueueRef struct{ name string }

func (t *taskQueueRef) pb() *taskqueuepb.TaskQueue {
	return &taskqueuepb.TaskQueue{Name: t.name, Kind: enumspb.TASK_QUEUE_KIND_NORMAL}
}

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
