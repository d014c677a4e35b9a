package metrics

import (
	"cmp"
	"slices"
	"sync"

	"github.com/raftflow/engine/queue"
)

// Label cardinality bounds: task queue and namespace names come from
// clients, and every distinct value is a time series held in memory here
// and in Prometheus. Beyond the bound, values are folded into Other.
const (
	// MaxQueueSeries bounds the distinct (namespace, task_queue) pairs of
	// raftflow_queue_backlog and raftflow_queue_pollers per scrape.
	MaxQueueSeries = 1000
	// MaxNamespaceLabels bounds the distinct namespace values of the
	// workflow counters over the node's life.
	MaxNamespaceLabels = 1000
	// Other is the label value that stands for every value over a bound.
	Other = "_other"
)

type queueKey struct{ ns, queue, kind string }

// capQueues returns the per-queue gauge values with at most max distinct
// (namespace, task_queue) pairs: the queues with the most backlog and
// pollers keep their names (ties by name, so the choice is stable), the
// rest are summed per kind under namespace and task_queue Other.
func capQueues(qs []queue.QueueStats, max int) map[queueKey][2]int {
	type pair struct{ ns, queue string }
	load := map[pair]int{}
	for _, q := range qs {
		load[pair{q.Namespace, q.Queue}] += q.Backlog + q.Pollers
	}
	keep := map[pair]bool{}
	if len(load) <= max {
		for p := range load {
			keep[p] = true
		}
	} else {
		ps := make([]pair, 0, len(load))
		for p := range load {
			ps = append(ps, p)
		}
		slices.SortFunc(ps, func(a, b pair) int {
			return cmp.Or(cmp.Compare(load[b], load[a]), cmp.Compare(a.ns, b.ns), cmp.Compare(a.queue, b.queue))
		})
		for _, p := range ps[:max] {
			keep[p] = true
		}
	}
	out := map[queueKey][2]int{}
	for _, q := range qs {
		k := queueKey{q.Namespace, q.Queue, q.Kind.String()}
		if !keep[pair{q.Namespace, q.Queue}] {
			k.ns, k.queue = Other, Other
		}
		v := out[k]
		out[k] = [2]int{v[0] + q.Backlog, v[1] + q.Pollers}
	}
	return out
}

// labelCap lets the first max distinct values through and maps the rest
// to Other. Safe for concurrent use.
type labelCap struct {
	mu   sync.Mutex
	max  int
	seen map[string]bool
}

func newLabelCap(max int) *labelCap { return &labelCap{max: max, seen: map[string]bool{}} }

func (c *labelCap) value(v string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[v] {
		return v
	}
	if len(c.seen) >= c.max {
		return Other
	}
	c.seen[v] = true
	return v
}
