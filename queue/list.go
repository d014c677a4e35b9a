package queue

// This file holds the two intrusive FIFO lists a taskQueue is made of: queued
// tasks and waiting pollers. Intrusive doubly linked lists give O(1) push at
// either end, O(1) pop, and O(1) unlink from the middle (Remove by key, a
// poller giving up), with one allocation per entry and no interface boxing.
// All methods require Manager.mu.

// queueID names one task queue. Workflow and activity tasks of the same
// (namespace, queue) are separate queues, as in Temporal.
type queueID struct {
	namespace, queue string
	kind             Kind
}

// node is one queued task.
type node struct {
	task       Task
	prev, next *node
	q          *taskQueue
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
type taskQueue struct {
	id           queueID
	head, tail   *node
	tasks        int
	whead, wtail *waiter
	waiters      int
}

func (q *taskQueue) empty() bool { return q.tasks == 0 && q.waiters == 0 }

func (q *taskQueue) pushTask(n *node, front bool) {
	n.q = q
	if q.head == nil {
		q.head, q.tail = n, n
	} else if front {
		n.next = q.head
		q.head.prev = n
		q.head = n
	} else {
		n.prev = q.tail
		q.tail.next = n
		q.tail = n
	}
	q.tasks++
}

func (q *taskQueue) unlinkTask(n *node) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		q.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		q.tail = n.prev
	}
	n.prev, n.next, n.q = nil, nil, nil
	q.tasks--
}

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
