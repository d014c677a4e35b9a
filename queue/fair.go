package queue

import "container/heap"

// Priority and fairness (Temporal's Priority{priority_key, fairness_key,
// fairness_weight}). A queue's tasks are dispatched:
//
//   - by priority level first, strictly: every task of level 1 before any
//     of level 2, and so on (0 means DefaultPriority; keys past
//     MaxPriority are MaxPriority, as Temporal clamps them);
//   - within a level, across fairness keys by weighted fair queueing
//     (stride scheduling): each key has a virtual time, pass, and the key
//     with the smallest pass (the earlier activated on a tie) goes next;
//     dispatching a task of weight w adds 1/w to its key's pass. A key that
//     becomes non-empty starts at the level's virtual time (the pass of the
//     last dispatch), so an idle key banks no credit;
//   - within a key, FIFO (Requeue puts a task back at its key's front).
//
// With every task at the default priority and no fairness key, a queue is
// one FIFO, as before. One leader sees the whole queue, so the order is
// exact, not per partition.
//
// All methods require Manager.mu.

const (
	// MaxPriority is the number of priority levels (Temporal's default).
	MaxPriority = 5
	// DefaultPriority is the level of a task without a priority key.
	DefaultPriority = 3
)

// priorityLevel is the level a task's priority key puts it at.
func priorityLevel(key int32) int {
	switch {
	case key <= 0:
		return DefaultPriority
	case key > MaxPriority:
		return MaxPriority
	}
	return int(key)
}

// level is one priority level of a queue: its fairness keys with tasks.
type level struct {
	keys  map[string]*fairKey
	ready keyHeap // the keys with tasks, by (pass, seq)
	vtime float64 // the pass of the last dispatch
	seq   uint64  // activations so far (tie-break)
}

// fairKey is one fairness key's FIFO within a level.
type fairKey struct {
	name       string
	head, tail *node
	n          int
	pass       float64
	seq        uint64
	index      int // in level.ready
}

type keyHeap []*fairKey

func (h keyHeap) Len() int { return len(h) }
func (h keyHeap) Less(i, j int) bool {
	if h[i].pass != h[j].pass {
		return h[i].pass < h[j].pass
	}
	return h[i].seq < h[j].seq
}
func (h keyHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *keyHeap) Push(x any) {
	k := x.(*fairKey)
	k.index = len(*h)
	*h = append(*h, k)
}
func (h *keyHeap) Pop() any {
	old := *h
	k := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	k.index = -1
	return k
}

// weight is a task's fairness weight (unset or not positive: 1).
func weight(t Task) float64 {
	if t.FairnessWeight > 0 {
		return float64(t.FairnessWeight)
	}
	return 1
}

func (q *taskQueue) pushTask(n *node, front bool) {
	li := priorityLevel(n.task.Priority)
	l := q.levels[li]
	if l == nil {
		l = &level{keys: map[string]*fairKey{}}
		q.levels[li] = l
	}
	k := l.keys[n.task.FairnessKey]
	if k == nil {
		k = &fairKey{name: n.task.FairnessKey, pass: l.vtime, index: -1}
		l.keys[k.name] = k
	}
	if k.n == 0 {
		k.pass = max(k.pass, l.vtime)
		k.seq = l.seq
		l.seq++
		heap.Push(&l.ready, k)
	}
	n.q, n.fk = q, k
	switch {
	case k.head == nil:
		k.head, k.tail = n, n
	case front:
		n.next = k.head
		k.head.prev = n
		k.head = n
	default:
		n.prev = k.tail
		k.tail.next = n
		k.tail = n
	}
	k.n++
	q.tasks++
}

// popTask unlinks and returns the task to dispatch next (nil if none),
// charging its fairness key.
func (q *taskQueue) popTask() *node {
	for li := 1; li <= MaxPriority; li++ {
		l := q.levels[li]
		if l == nil || len(l.ready) == 0 {
			continue
		}
		k := l.ready[0]
		n := k.head
		l.vtime = k.pass
		k.pass += 1 / weight(n.task)
		q.unlinkTask(n) // fixes k's place in the heap
		return n
	}
	return nil
}

func (q *taskQueue) unlinkTask(n *node) {
	k := n.fk
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		k.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		k.tail = n.prev
	}
	n.prev, n.next, n.q, n.fk = nil, nil, nil, nil
	k.n--
	q.tasks--
	li := priorityLevel(n.task.Priority)
	l := q.levels[li]
	if k.n > 0 {
		heap.Fix(&l.ready, k.index)
		return
	}
	heap.Remove(&l.ready, k.index)
	delete(l.keys, k.name)
	if len(l.keys) == 0 {
		q.levels[li] = nil
	}
}
