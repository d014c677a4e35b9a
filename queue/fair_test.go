package queue

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

type prioTask struct {
	seq      int
	priority int32
	key      string
	weight   float32
}

func prio(seq int, priority int32, key string, weight float32) Task {
	t := wf(fmt.Sprintf("t%05d", seq))
	t.Priority, t.FairnessKey, t.FairnessWeight = priority, key, weight
	t.Payload = prioTask{seq, priority, key, weight}
	return t
}

// checkOrder verifies a dispatch order of tasks that were all queued
// before the first poll: strict priority levels; FIFO within a (level,
// key); and, within a level, weighted fairness: while every key of the
// level still has tasks, no two keys' dispatched counts divided by their
// weights differ by more than the largest stride (1 / the smallest
// weight), stride scheduling's bound.
func checkOrder(t *testing.T, order []prioTask) {
	t.Helper()
	remaining := map[int]map[string]int{} // level -> key -> tasks left
	weights := map[string]float64{}
	for _, p := range order {
		l := priorityLevel(p.priority)
		if remaining[l] == nil {
			remaining[l] = map[string]int{}
		}
		remaining[l][p.key]++
		weights[p.key] = float64(p.weight)
		if p.weight <= 0 {
			weights[p.key] = 1
		}
	}
	lastLevel := 0
	lastSeq := map[string]int{}
	counts := map[string]int{}
	for i, p := range order {
		l := priorityLevel(p.priority)
		if l < lastLevel {
			t.Fatalf("dispatch %d: priority level %d after level %d", i, l, lastLevel)
		}
		if l != lastLevel {
			lastLevel, counts = l, map[string]int{}
		}
		fifo := fmt.Sprint(l, "/", p.key)
		if s, ok := lastSeq[fifo]; ok && p.seq < s {
			t.Fatalf("dispatch %d: task %d of %s after task %d (not FIFO)", i, p.seq, fifo, s)
		}
		lastSeq[fifo] = p.seq
		counts[p.key]++
		remaining[l][p.key]--
		allBusy := true
		for _, n := range remaining[l] {
			if n == 0 {
				allBusy = false
			}
		}
		if !allBusy {
			continue
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		maxStride := 0.0
		for k := range remaining[l] {
			v := float64(counts[k]) / weights[k]
			lo, hi = min(lo, v), max(hi, v)
			maxStride = max(maxStride, 1/weights[k])
		}
		if hi-lo > maxStride+1e-9 {
			t.Fatalf("dispatch %d (level %d): counts/weight spread %.3f > %.3f: %v", i, l, hi-lo, maxStride, counts)
		}
	}
}

func drain(t *testing.T, m *Manager, n int) []prioTask {
	t.Helper()
	out := make([]prioTask, 0, n)
	for range n {
		out = append(out, mustPoll(t, m, "ns", "q", KindWorkflow).Payload.(prioTask))
	}
	assertEmpty(t, m)
	return out
}

// TestPriorityOrder10000 checks the dispatch order of 10,000 tasks over five
// priority levels and four fairness keys of weights 1, 2, 3 and 5 (and the
// default key): strict levels, weighted fair shares within a level, FIFO
// within a key. A new leader's rebuild (Start with the backlog in key
// order) gives the very same order.
func TestPriorityOrder10000(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	keys := []struct {
		name string
		w    float32
	}{{"", 0}, {"tenant-a", 1}, {"tenant-b", 2}, {"tenant-c", 3}, {"tenant-d", 5}}
	var tasks []Task
	for i := range 10000 {
		k := keys[r.IntN(len(keys))]
		tasks = append(tasks, prio(i, int32(r.IntN(MaxPriority+2)), k.name, k.w)) // 0 and 6 too
	}
	m := NewManager()
	m.Start(nil)
	for _, tk := range tasks {
		m.Add(tk)
	}
	order := drain(t, m, len(tasks))
	checkOrder(t, order)

	rebuilt := NewManager()
	rebuilt.Start(tasks)
	if again := drain(t, rebuilt, len(tasks)); !slices.Equal(again, order) {
		t.Fatalf("a rebuilt queue dispatches in another order")
	}
	// Levels: 0 is the default (3), past MaxPriority is MaxPriority.
	if first, last := order[0], order[len(order)-1]; priorityLevel(first.priority) != 1 || priorityLevel(last.priority) != MaxPriority {
		t.Fatalf("first %+v, last %+v", first, last)
	}
}

// TestFairnessShares: two always-busy keys of weights 1 and 3 share a level
// 1:3 exactly in every window of four; a key that arrives late starts at
// the level's virtual time (no banked credit), so it gets its share from
// then on, not a burst.
func TestFairnessShares(t *testing.T) {
	m := NewManager()
	m.Start(nil)
	seq := 0
	add := func(key string, w float32, n int) {
		for range n {
			m.Add(prio(seq, 0, key, w))
			seq++
		}
	}
	add("light", 1, 100)
	add("heavy", 3, 300)
	var got []string
	for range 40 {
		got = append(got, mustPoll(t, m, "ns", "q", KindWorkflow).FairnessKey)
	}
	for i := 0; i < 40; i += 4 {
		n := 0
		for _, k := range got[i : i+4] {
			if k == "light" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("window %d: %v, want one light task in every four", i/4, got[i:i+4])
		}
	}
	add("late", 1, 50)
	counts := map[string]int{}
	for range 50 {
		counts[mustPoll(t, m, "ns", "q", KindWorkflow).FairnessKey]++
	}
	if counts["late"] < 9 || counts["late"] > 11 {
		t.Fatalf("after a late key arrived: %v, want it about 10 of 50 (1 of 5)", counts)
	}
}

// TestPriorityRequeueAndRemove: Requeue puts a task back first in its key
// (and, with one key, first in its level); Remove from the middle of a key
// keeps the rest in order; a higher priority task added later still goes
// first.
func TestPriorityRequeueAndRemove(t *testing.T) {
	m := NewManager()
	m.Start(nil)
	for i := range 5 {
		m.Add(prio(i, 3, "k", 0))
	}
	first := mustPoll(t, m, "ns", "q", KindWorkflow)
	m.Requeue(first)
	m.Remove([]byte("t00002"))
	m.Add(prio(9, 1, "urgent", 0))
	var got []string
	for range 5 {
		got = append(got, string(mustPoll(t, m, "ns", "q", KindWorkflow).Key))
	}
	if want := []string{"t00009", "t00000", "t00001", "t00003", "t00004"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	assertEmpty(t, m)
}
