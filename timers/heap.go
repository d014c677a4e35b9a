package timers

import (
	"bytes"
	"time"
)

// item is one scheduled timer. It lives in Service.index from Add until it is
// fired successfully or removed; while it is in the heap pos is its index
// there, while a Fire call holds it pos is -1 (in flight).
type item struct {
	timer    Timer     // what Fire is given
	key      string    // string(timer.Key), the index key
	due      time.Time // when it may fire next: timer.FireAt, or later after a retry
	pos      int
	attempts int  // retries asked for by Fire, for the retry backoff
	removed  bool // Remove arrived while in flight: never reschedule
}

// timerHeap is a min-heap of items ordered by (due, key). It is hand-written
// rather than container/heap so that the hot path has no interface calls;
// the algorithm is the textbook one.
type timerHeap []*item

func less(a, b *item) bool {
	if c := a.due.Compare(b.due); c != 0 {
		return c < 0
	}
	return bytes.Compare(a.timer.Key, b.timer.Key) < 0
}

func (h *timerHeap) push(it *item) {
	it.pos = len(*h)
	*h = append(*h, it)
	h.up(it.pos)
}

// pop removes and returns the minimum. The heap must not be empty.
func (h *timerHeap) pop() *item {
	return h.remove(0)
}

func (h *timerHeap) remove(i int) *item {
	s := *h
	n := len(s) - 1
	it := s[i]
	if i != n {
		h.swap(i, n)
	}
	s[n] = nil
	*h = s[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
	it.pos = -1
	return it
}

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].pos = i
	h[j].pos = j
}

func (h timerHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !less(h[j], h[i]) {
			break
		}
		h.swap(i, j)
		j = i
	}
}

// down sifts i down and reports whether it moved.
func (h timerHeap) down(i0 int) bool {
	i, n := i0, len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && less(h[r], h[l]) {
			j = r
		}
		if !less(h[j], h[i]) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}
