package fsm

import (
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestCrashDropsUnsyncedTail is a real crash of the NoSync design: Pebble
// runs on a crashable in-memory file system, and the "crash" keeps only what
// was synced (or, in the other cases, a random part of what was not), as a
// power cut would. The reopened store has lost a tail of acknowledged
// entries; raft re-delivering its log (here: the same entries, in batches,
// overlapping what survived) restores every one of them, with the same
// results, digest and invariants as the FSM that never crashed.
func TestCrashDropsUnsyncedTail(t *testing.T) {
	for _, c := range []struct {
		name     string
		unsynced int // percent of unsynced blocks the crash keeps
	}{{"synced only", 0}, {"a random part of the unsynced tail", 50}, {"most of it", 90}} {
		t.Run(c.name, func(t *testing.T) {
			mem := vfs.NewCrashableMem()
			dir := t.TempDir()
			f, err := open(dir, testLogger, mem)
			if err != nil {
				t.Fatal(err)
			}
			h := &harness{t: t, f: f, dir: dir, now: t0}
			d := genSequence(h, seedInput(81, 3000), 300, false)
			clone := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: c.unsynced,
				RNG: rand.New(rand.NewPCG(uint64(c.unsynced), 7))})
			want := f.Digest()
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}

			g, err := open(dir, testLogger, clone)
			if err != nil {
				t.Fatalf("reopen after the crash: %v", err)
			}
			defer g.Close()
			survived := g.AppliedIndex()
			if c.unsynced == 0 && survived >= uint64(len(h.logs)) {
				t.Fatalf("the crash lost nothing (applied %d of %d): the test proves nothing", survived, len(h.logs))
			}
			t.Logf("the crash kept %d of %d applied entries", survived, len(h.logs))
			for lo := 0; lo < len(h.logs); lo += 7 {
				hi := min(lo+7, len(h.logs))
				for j, o := range g.ApplyBatch(h.logs[lo:hi]) {
					idx := lo + j
					if uint64(idx+1) <= survived {
						if r, ok := o.(*Result); !ok || !r.Skipped {
							t.Fatalf("entry %d survived the crash but was applied again: %s", idx+1, describe(o))
						}
						continue
					}
					if got := describe(o); got != d.results[idx] {
						t.Fatalf("entry %d replayed: %s, first time %s", idx+1, got, d.results[idx])
					}
				}
			}
			if got := g.Digest(); got != want {
				t.Fatalf("digest after replay %s, before the crash %s", got, want)
			}
			checkInvariants(t, g)
			snapshotRoundTrip(t, g)
		})
	}
}
