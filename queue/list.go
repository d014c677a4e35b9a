package queue

// This file holds the intrusive FIFO lists a taskQueue is made of: queued
// tasks (one list per fairness key and priority level, see fair.go) and
// waiting pollers. Intrusive doubly linked lists give O(1) push at
// either end, O(1) pop, and O(1) unlink from the middle (Remove by key, a
// poller giving up), with one allocation per entry and no interface boxing.
// All methods require Manager.mu.

// queueID names one task queue. Workflow and activity tasks of the same
// (namespace, queue) are separate queues, as in Temporal.
type queueID struct {
	namespace, queue string
	kind             Kind
}

// node is one queued task, linked in its fairness key's FIFO.
type node struct {
	task       Task
	prev, next *node
	q          *taskQueue
	fk         *fairKey
}

// waiter is one poller blocked in Poll. ch has capacity 1 and receives
// exactly one result, always sent under Manager.mu at the moment the waiter
// is unlinked, so the send never blocks and a waiter that finds itself
// unlinked knows a result is (or is about to be readable) in ch.
type waiter struct {
	ch         chan result
	prev, next *waiter
	linked     bool
}

// result is what a waiter is woken with: a task, or ErrNotActive.
type result struct {
	task Task
	err  error
}

// taskQueue is the in-memory state of one queue. Invariant: a queue never
// has both queued tasks and waiting pollers (a task arriving at a queue with
// a waiter is handed over at once), and a queue with neither is deleted.
// Its tasks are held by priority level (fair.go).
type taskQueue struct {
	id           queueID
	levels       [MaxPriority + 1]*level // index: priority key 1..MaxPriority
	tasks        int
	whead, wtail *waiter
	waiters      int
}

func (q *taskQueue) empty() bool { return q.tasks == 0 && q.waiters == 0 }

func (q *taskQueue) pushWaiter(w *waiter) {
	if q.wtail == nil {
		q.whead, q.wtail = w, w
	} else {
		w.prev = q.wtail
		q.wtail.next = w
		q.wtail = w
	}
	w.linked = true
	q.waiters++
}

func (q *taskQueue) unlinkWaiter(w *waiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		q.whead = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		q.wtail = w.prev
	}
	w.prev, w.next, w.linked = nil, nil, false
	q.waiters--
}
