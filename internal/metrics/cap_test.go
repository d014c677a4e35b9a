package metrics

import (
	"fmt"
	"testing"

	"github.com/raftflow/engine/queue"
)

// TestCapQueues: past the bound, the busiest queues keep their names and
// the rest fold into one Other series per kind, with their sums.
func TestCapQueues(t *testing.T) {
	var qs []queue.QueueStats
	for i := range 50 {
		qs = append(qs, queue.QueueStats{Namespace: "ns", Queue: fmt.Sprintf("q%02d", i), Kind: queue.KindWorkflow, Backlog: i})
	}
	qs = append(qs, queue.QueueStats{Namespace: "ns", Queue: "q49", Kind: queue.KindActivity, Pollers: 2})
	got := capQueues(qs, 10)
	if len(got) != 10+1+1 { // 10 named workflow series, q49's activity series, one Other
		t.Fatalf("%d series: %v", len(got), got)
	}
	for i := 40; i < 50; i++ {
		if _, ok := got[queueKey{"ns", fmt.Sprintf("q%02d", i), queue.KindWorkflow.String()}]; !ok {
			t.Errorf("busy queue q%02d lost its name", i)
		}
	}
	want := 0
	for i := range 40 {
		want += i
	}
	if v := got[queueKey{Other, Other, queue.KindWorkflow.String()}]; v[0] != want {
		t.Errorf("Other backlog %d, want %d", v[0], want)
	}
	if len(capQueues(qs[:5], 10)) != 5 {
		t.Error("under the bound every queue keeps its name")
	}
}

func TestLabelCap(t *testing.T) {
	c := newLabelCap(2)
	for _, v := range []string{"a", "b", "a"} {
		if c.value(v) != v {
			t.Errorf("%q renamed", v)
		}
	}
	if c.value("c") != Other {
		t.Error("third value not folded")
	}
}
