package leader

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	workerpb "go.temporal.io/api/worker/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Worker heartbeats (RecordWorkerHeartbeat, which the SDKs send every
// WorkerHeartbeatInterval when the namespace advertises the worker_heartbeats
// capability) are kept in memory on the leader, as Temporal's matching
// service keeps them: the latest one of each worker instance, for
// ListWorkers, CountWorkers and DescribeWorker (the Web UI's Workers page).
// A worker not heard from for workerTTL is dropped; after a leader change
// the list refills as workers heartbeat again.

const (
	workerTTL = 5 * time.Minute
	// maxWorkers bounds the registry (a hostile client cannot grow it
	// without limit): past it, new instances are refused until old ones
	// expire.
	maxWorkers = 10000
)

// ErrTooManyWorkers: the registry is full of live workers.
var ErrTooManyWorkers = errors.New("leader: too many workers heartbeating")

type workerKey struct{ ns, instance string }

type workerEntry struct {
	hb   *workerpb.WorkerHeartbeat
	seen time.Time
}

type workerRegistry struct {
	mu sync.Mutex
	m  map[workerKey]workerEntry
}

func newWorkerRegistry() *workerRegistry { return &workerRegistry{m: map[workerKey]workerEntry{}} }

// RecordWorkerHeartbeats stores the latest heartbeat of each worker
// instance of namespace ns (copies; instance keys must be set).
func (e *Engine) RecordWorkerHeartbeats(ns string, hbs []*workerpb.WorkerHeartbeat) error {
	r := e.workerHBs
	now := e.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, hb := range hbs {
		k := workerKey{ns, hb.GetWorkerInstanceKey()}
		if _, known := r.m[k]; !known && len(r.m) >= maxWorkers {
			r.expire(now)
			if len(r.m) >= maxWorkers {
				return ErrTooManyWorkers
			}
		}
		r.m[k] = workerEntry{hb: proto.Clone(hb).(*workerpb.WorkerHeartbeat), seen: now}
	}
	return nil
}

func (r *workerRegistry) expire(now time.Time) {
	for k, w := range r.m {
		if now.Sub(w.seen) > workerTTL {
			delete(r.m, k)
		}
	}
}

// Workers lists the live workers of namespace ns by instance key, each a
// copy with elapsed_since_last_heartbeat set.
func (e *Engine) Workers(ns string) []*workerpb.WorkerHeartbeat {
	r := e.workerHBs
	now := e.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expire(now)
	var out []*workerpb.WorkerHeartbeat
	for k, w := range r.m {
		if k.ns == ns {
			out = append(out, withElapsed(w, now))
		}
	}
	slices.SortFunc(out, func(a, b *workerpb.WorkerHeartbeat) int {
		return strings.Compare(a.WorkerInstanceKey, b.WorkerInstanceKey)
	})
	return out
}

// Worker is the live worker instance of namespace ns, or nil.
func (e *Engine) Worker(ns, instance string) *workerpb.WorkerHeartbeat {
	r := e.workerHBs
	now := e.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.m[workerKey{ns, instance}]
	if !ok || now.Sub(w.seen) > workerTTL {
		return nil
	}
	return withElapsed(w, now)
}

func withElapsed(w workerEntry, now time.Time) *workerpb.WorkerHeartbeat {
	hb := proto.Clone(w.hb).(*workerpb.WorkerHeartbeat)
	hb.ElapsedSinceLastHeartbeat = durationpb.New(now.Sub(w.seen))
	return hb
}
