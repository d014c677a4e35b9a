package leader

import (
	"errors"
	"fmt"
	"testing"
	"time"

	workerpb "go.temporal.io/api/worker/v1"
)

type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }
func (c *stepClock) NewTimer(time.Duration) (<-chan time.Time, func() bool) {
	return make(chan time.Time), func() bool { return true }
}

// TestWorkerRegistry: the latest heartbeat of each instance per namespace,
// listed by instance key with the time since it arrived; dropped after
// workerTTL; a full registry refuses new instances until old ones expire.
func TestWorkerRegistry(t *testing.T) {
	clock := &stepClock{now: time.Unix(1_800_000_000, 0)}
	e := &Engine{clock: clock, workerHBs: newWorkerRegistry()}
	hb := func(key, tq string) *workerpb.WorkerHeartbeat {
		return &workerpb.WorkerHeartbeat{WorkerInstanceKey: key, TaskQueue: tq}
	}
	if err := e.RecordWorkerHeartbeats("ns", []*workerpb.WorkerHeartbeat{hb("b", "q1"), hb("a", "q1")}); err != nil {
		t.Fatal(err)
	}
	if err := e.RecordWorkerHeartbeats("other", []*workerpb.WorkerHeartbeat{hb("c", "q1")}); err != nil {
		t.Fatal(err)
	}
	clock.now = clock.now.Add(time.Minute)
	if err := e.RecordWorkerHeartbeats("ns", []*workerpb.WorkerHeartbeat{hb("a", "q2")}); err != nil {
		t.Fatal(err)
	}
	ws := e.Workers("ns")
	if len(ws) != 2 || ws[0].WorkerInstanceKey != "a" || ws[0].TaskQueue != "q2" || ws[1].WorkerInstanceKey != "b" ||
		ws[0].ElapsedSinceLastHeartbeat.AsDuration() != 0 || ws[1].ElapsedSinceLastHeartbeat.AsDuration() != time.Minute {
		t.Fatalf("workers of ns: %v", ws)
	}
	if w := e.Worker("ns", "c"); w != nil {
		t.Fatalf("another namespace's worker: %v", w)
	}
	clock.now = clock.now.Add(workerTTL - time.Second) // b was last heard workerTTL+59s ago
	if ws := e.Workers("ns"); len(ws) != 1 || ws[0].WorkerInstanceKey != "a" || e.Worker("ns", "b") != nil {
		t.Fatalf("after b's TTL: %v", ws)
	}

	full := &Engine{clock: clock, workerHBs: newWorkerRegistry()}
	for i := range maxWorkers {
		if err := full.RecordWorkerHeartbeats("ns", []*workerpb.WorkerHeartbeat{hb(fmt.Sprint(i), "q")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := full.RecordWorkerHeartbeats("ns", []*workerpb.WorkerHeartbeat{hb("one-more", "q")}); !errors.Is(err, ErrTooManyWorkers) {
		t.Fatalf("a new worker past the bound: %v, want ErrTooManyWorkers", err)
	}
	if err := full.RecordWorkerHeartbeats("ns", []*workerpb.WorkerHeartbeat{hb("7", "q")}); err != nil {
		t.Fatalf("a known worker past the bound: %v", err)
	}
	clock.now = clock.now.Add(workerTTL + time.Second)
	if err := full.RecordWorkerHeartbeats("ns", []*workerpb.WorkerHeartbeat{hb("one-more", "q")}); err != nil {
		t.Fatalf("after the others expired: %v", err)
	}
}
