package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"
)

// loadIdle creates n workflows that then sit idle, waiting on a timer of
// length timer or (signal) on a signal that never comes. It speaks the
// WorkflowService directly instead of running SDK workflow code: an eager
// start hands back the first workflow task, whose completion starts the
// timer (or nothing). Two calls per workflow, so millions load in minutes;
// the engine stores exactly what an SDK worker's workflow.Sleep or
// signal-channel Receive would leave. Returns workflows per second.
func loadIdle(addr string, n, conc int, timer time.Duration, signal bool) (float64, error) {
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return 0, err
	}
	defer cc.Close()
	ws := workflowservice.NewWorkflowServiceClient(cc)
	tq := fmt.Sprintf("bench-idle-%d", time.Now().UnixNano())
	var firstErr atomic.Value
	var failed atomic.Int64
	t0 := time.Now()
	forEach(n, conc, func(i int) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := idleOne(ctx, ws, tq, fmt.Sprintf("%s-%d", tq, i), timer, signal)
		if err != nil {
			failed.Add(1)
			firstErr.CompareAndSwap(nil, err)
		}
	})
	if f := failed.Load(); f > 0 {
		return 0, fmt.Errorf("%d of %d idle workflows failed to load; first: %v", f, n, firstErr.Load())
	}
	return float64(n) / time.Since(t0).Seconds(), nil
}

func idleOne(ctx context.Context, ws workflowservice.WorkflowServiceClient, tq, id string, timer time.Duration, signal bool) error {
	resp, err := ws.StartWorkflowExecution(ctx, &workflowservice.StartWorkflowExecutionRequest{
		Namespace: "default", WorkflowId: id, RequestId: uuid.NewString(), Identity: "bench-loader",
		WorkflowType: &commonpb.WorkflowType{Name: "IdleWorkflow"}, TaskQueue: &taskqueuepb.TaskQueue{Name: tq},
		RequestEagerExecution: true,
	})
	if err != nil {
		return err
	}
	wt := resp.GetEagerWorkflowTask()
	if wt == nil {
		return fmt.Errorf("start of %s returned no eager workflow task", id)
	}
	var cmds []*commandpb.Command
	if !signal {
		cmds = append(cmds, &commandpb.Command{
			CommandType: enumspb.COMMAND_TYPE_START_TIMER,
			Attributes: &commandpb.Command_StartTimerCommandAttributes{StartTimerCommandAttributes: &commandpb.StartTimerCommandAttributes{
				TimerId: "1", StartToFireTimeout: durationpb.New(timer),
			}},
		})
	}
	_, err = ws.RespondWorkflowTaskCompleted(ctx, &workflowservice.RespondWorkflowTaskCompletedRequest{
		Namespace: "default", TaskToken: wt.TaskToken, Identity: "bench-loader", Commands: cmds,
	})
	return err
}
