package leader

import (
	"context"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"github.com/raftflow/engine/fsm"
	"github.com/raftflow/engine/fsm/fsmpb"
)

// Propose stamps cmd (a request id unless it has one, and the leader's
// wall clock as proposed_at), replicates it through raftnode.Apply and
// returns the FSM's result; the command's domain outcome is in Result.Err.
// A raft error is returned as raftnode gives it: on ErrNotLeader nothing
// was proposed, on ErrLeadershipLost (or a ctx error after enqueue) the
// command may or may not have been applied. Commit latency goes to the
// metrics. Propose works on any node; only the leader's can commit.
func (e *Engine) Propose(ctx context.Context, cmd *fsmpb.Command) (*fsm.Result, error) {
	if cmd.RequestId == "" {
		cmd.RequestId = uuid.NewString()
	}
	cmd.ProposedAt = e.clock.Now().UnixNano()
	b, err := proto.Marshal(cmd)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	resp, err := e.node.Apply(ctx, b)
	if err != nil {
		return nil, err
	}
	e.metrics.Committed(time.Since(start))
	res, ok := resp.(*fsm.Result)
	if !ok || res == nil {
		return &fsm.Result{}, nil
	}
	return res, nil
}
