package metrics

import (
	"time"

	"github.com/hashicorp/raft"
)

// FSM is what raftnode needs from a state machine (raftnode.FSM).
type FSM interface {
	raft.BatchingFSM
	AppliedIndex() uint64
}

// WrapFSM times f's applies and records their batch sizes. The clock is
// read here, outside the state machine, which must stay free of it. With
// a nil m it returns f itself.
func (m *Metrics) WrapFSM(f FSM) FSM {
	if m == nil {
		return f
	}
	return &timedFSM{FSM: f, m: m}
}

type timedFSM struct {
	FSM
	m *Metrics
}

func (t *timedFSM) Apply(l *raft.Log) any {
	start := time.Now()
	r := t.FSM.Apply(l)
	t.m.applyLatency.Observe(time.Since(start).Seconds())
	t.m.applyBatch.Observe(1)
	return r
}

func (t *timedFSM) ApplyBatch(logs []*raft.Log) []any {
	start := time.Now()
	r := t.FSM.ApplyBatch(logs)
	t.m.applyLatency.Observe(time.Since(start).Seconds())
	t.m.applyBatch.Observe(float64(len(logs)))
	return r
}
