package fsm

// Durability tests (DESIGN.md "Durability contract"): Pebble commits without
// fsync, the applied index travels in the same batch, and entries at or
// below it are skipped, so a store that lost its tail (or was simply
// restarted) catches up by having raft re-deliver the log.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

// reopen closes h's FSM and opens the same directory again.
func (h *harness) reopen() {
	h.t.Helper()
	if err := h.f.Close(); err != nil {
		h.t.Fatalf("close: %v", err)
	}
	h.f = openFSM(h.t, h.dir)
}

// copyDir copies the directory tree src to dst (file by file, as a crash
// would leave it: whatever each file held when it was read).
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p != src {
			return nil
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed by Pebble meanwhile, as a crash could also find
		}
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

// replay applies logs to f in batches of up to size and returns the results
// of the entries after skipBelow (those at or below must be skipped).
func replay(t testing.TB, f *FSM, logs []*raft.Log, size int, skipBelow uint64) []string {
	t.Helper()
	var out []string
	for lo := 0; lo < len(logs); lo += size {
		batch := logs[lo:min(lo+size, len(logs))]
		for i, o := range f.ApplyBatch(batch) {
			if batch[i].Index <= skipBelow {
				if r, ok := o.(*Result); !ok || !r.Skipped {
					t.Fatalf("entry %d at or below the applied index %d: %s, want skipped", batch[i].Index, skipBelow, describe(o))
				}
				continue
			}
			out = append(out, describe(o))
		}
	}
	return out
}

// TestCrashRestart: close and reopen keeps the digest and the applied index;
// raft re-delivering the whole log afterwards is a no-op; the reopened FSM
// goes on applying.
func TestCrashRestart(t *testing.T) {
	h := newHarness(t)
	d := genSequence(h, seedInput(11, 2000), 250, false)
	digest, applied := h.f.Digest(), h.f.AppliedIndex()
	if applied != uint64(len(h.logs)) || applied < 100 {
		t.Fatalf("applied %d of %d entries", applied, len(h.logs))
	}
	h.reopen()
	if h.f.Digest() != digest || h.f.AppliedIndex() != applied {
		t.Fatalf("after reopen: applied %d (want %d), digest equal %v", h.f.AppliedIndex(), applied, h.f.Digest() == digest)
	}
	replay(t, h.f, h.logs, 7, applied)
	if h.f.Digest() != digest || h.f.AppliedIndex() != applied {
		t.Fatalf("re-delivered log changed the state")
	}
	d.in, d.pos = seedInput(12, 600), 0
	for !d.done() {
		d.step()
	}
	checkInvariants(t, h.f)
	h.reopen()
	if h.f.AppliedIndex() != uint64(len(h.logs)) {
		t.Fatalf("applied %d after second reopen, want %d", h.f.AppliedIndex(), len(h.logs))
	}
}

// TestPebbleBehind: a store that is behind the log (here: a copy taken
// after N entries, standing for one that lost its unsynced tail) catches up
// by re-applying the whole log 1..M; entries <= N are skipped and the result
// equals the store that applied everything, results included.
func TestPebbleBehind(t *testing.T) {
	h := newHarness(t)
	d := genSequence(h, seedInput(21, 1500), 150, false)
	n := h.f.AppliedIndex()
	h.reopen() // closed while copying
	behind := t.TempDir()
	copyDir(t, h.dir, behind)
	d.in, d.pos = seedInput(22, 1500), 0
	for !d.done() && len(d.results) < 300 {
		d.step()
	}
	m := h.f.AppliedIndex()
	if m <= n+50 {
		t.Fatalf("too few entries after the copy: %d..%d", n, m)
	}
	g := openFSM(t, behind)
	defer g.Close()
	if g.AppliedIndex() != n {
		t.Fatalf("copy applied %d, want %d", g.AppliedIndex(), n)
	}
	got := replay(t, g, h.logs, 16, n)
	for i, r := range got {
		if want := d.results[int(n)+i]; r != want {
			t.Fatalf("entry %d re-applied on the copy: %s, want %s", int(n)+i+1, r, want)
		}
	}
	if g.Digest() != h.f.Digest() || g.AppliedIndex() != m {
		t.Fatalf("caught-up copy: applied %d (want %d), digest equal %v", g.AppliedIndex(), m, g.Digest() == h.f.Digest())
	}
}

// TestCrashCopyWhileOpen copies the store while it is open, mid-stream, as
// a process crash would leave it (unsynced WAL writes may or may not be
// there). Whatever prefix survived, re-delivering the log converges.
func TestCrashCopyWhileOpen(t *testing.T) {
	h := newHarness(t)
	d := genSequence(h, seedInput(31, 1200), 120, false)
	crashed := t.TempDir()
	copyDir(t, h.dir, crashed) // no Close: a crash
	n := h.f.AppliedIndex()
	d.in, d.pos = seedInput(32, 800), 0
	for !d.done() {
		d.step()
	}
	g := openFSM(t, crashed)
	defer g.Close()
	if g.AppliedIndex() > n {
		t.Fatalf("crashed copy applied %d, more than the %d applied when it was taken", g.AppliedIndex(), n)
	}
	replay(t, g, h.logs, 5, g.AppliedIndex())
	if g.Digest() != h.f.Digest() {
		t.Fatalf("crashed copy did not converge")
	}
}

func readCurrent(t testing.TB, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, currentFile))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func dbDirs(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), "db-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestRestoreReplacesState: Restore into an FSM that holds other data
// replaces all of it (including a higher applied index), switches
// CURRENT-DB, survives reopen, and the restored FSM goes on applying.
func TestRestoreReplacesState(t *testing.T) {
	src := newHarness(t)
	genSequence(src, seedInput(41, 1500), 150, false)
	snap := persist(t, src.f)
	srcDigest, srcApplied := src.f.Digest(), src.f.AppliedIndex()

	dst := newHarness(t)
	genSequence(dst, seedInput(42, 3000), 300, false)
	dst.start("only-in-dst")
	if dst.f.AppliedIndex() <= srcApplied || dst.f.Digest() == srcDigest {
		t.Fatalf("test needs a target that differs and is ahead")
	}
	if got := readCurrent(t, dst.dir); got != "db-000001" {
		t.Fatalf("CURRENT-DB %q", got)
	}
	if err := dst.f.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	check := func(when string) {
		t.Helper()
		if dst.f.Digest() != srcDigest || dst.f.AppliedIndex() != srcApplied {
			t.Fatalf("%s: applied %d (want %d), digest equal %v", when, dst.f.AppliedIndex(), srcApplied, dst.f.Digest() == srcDigest)
		}
		if _, err := dst.f.GetState(DefaultNamespace, "only-in-dst", ""); !errors.Is(err, ErrWorkflowNotFound) {
			t.Fatalf("%s: data of the replaced store survived: %v", when, err)
		}
		if got, dirs := readCurrent(t, dst.dir), dbDirs(t, dst.dir); got != "db-000002" || len(dirs) != 1 || dirs[0] != got {
			t.Fatalf("%s: CURRENT-DB %q, db dirs %v", when, got, dirs)
		}
	}
	check("after restore")
	dst.reopen()
	check("after reopen")
	checkInvariants(t, dst.f)

	// The restored FSM continues from the snapshot's index: raft sends the
	// entries after it, and both stores stay equal.
	d := genSequence(src, seedInput(43, 600), 60, false)
	replay(t, dst.f, src.logs, 9, srcApplied)
	if dst.f.Digest() != src.f.Digest() {
		t.Fatalf("restored FSM diverged after %d more entries", len(d.results))
	}
	// A second restore moves to the next directory.
	if err := dst.f.Restore(io.NopCloser(bytes.NewReader(persist(t, src.f)))); err != nil {
		t.Fatal(err)
	}
	dst.reopen()
	if got := readCurrent(t, dst.dir); got != "db-000003" || dst.f.Digest() != src.f.Digest() {
		t.Fatalf("second restore: CURRENT-DB %q, digest equal %v", got, dst.f.Digest() == src.f.Digest())
	}
}

// TestRestoreRejectsBadSnapshot: a truncated or corrupted stream is refused
// and the current store stays in place, untouched.
func TestRestoreRejectsBadSnapshot(t *testing.T) {
	src := newHarness(t)
	genSequence(src, seedInput(51, 800), 80, false)
	good := persist(t, src.f)
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	tests := map[string][]byte{
		"empty":         {},
		"wrong magic":   append([]byte("not-a-snapshot\n"), good[len(snapshotMagic):]...),
		"truncated":     good[:len(good)/2],
		"no checksum":   good[:len(good)-4],
		"flipped byte":  flipped,
		"bad checksum":  append(bytes.Clone(good[:len(good)-1]), good[len(good)-1]^1),
		"trailing only": []byte(snapshotMagic),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.start("mine")
			digest := h.f.Digest()
			if err := h.f.Restore(io.NopCloser(bytes.NewReader(data))); err == nil {
				t.Fatalf("Restore accepted a bad snapshot")
			}
			if h.f.Digest() != digest || h.f.AppliedIndex() != 1 {
				t.Fatalf("a failed restore changed the state")
			}
			if got, dirs := readCurrent(t, h.dir), dbDirs(t, h.dir); got != "db-000001" || len(dirs) != 1 {
				t.Fatalf("CURRENT-DB %q, db dirs %v", got, dirs)
			}
			h.reopen()
			if h.f.Digest() != digest {
				t.Fatalf("state lost after reopen")
			}
		})
	}
}

// TestSnapshotIsPointInTime: Persist streams the state as of Snapshot(),
// not as of Persist, even when entries were applied in between.
func TestSnapshotIsPointInTime(t *testing.T) {
	h := newHarness(t)
	d := genSequence(h, seedInput(61, 800), 80, false)
	snap, err := h.f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	digest, applied := h.f.Digest(), h.f.AppliedIndex()
	d.in, d.pos = seedInput(62, 400), 0
	for !d.done() {
		d.step()
	}
	if h.f.Digest() == digest {
		t.Fatalf("test needs the state to change after the snapshot")
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	g := openFSM(t, t.TempDir())
	defer g.Close()
	if err := g.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	if g.Digest() != digest || g.AppliedIndex() != applied {
		t.Fatalf("snapshot is not point-in-time: applied %d (want %d)", g.AppliedIndex(), applied)
	}
}

// TestPersistAfterRestore: raft persists a snapshot on its own goroutine
// while the FSM goroutine may install another snapshot (a follower that
// receives InstallSnapshot). The snapshot taken before Restore must still
// stream the old state.
func TestPersistAfterRestore(t *testing.T) {
	h := newHarness(t)
	genSequence(h, seedInput(71, 800), 80, false)
	digest, applied := h.f.Digest(), h.f.AppliedIndex()
	snap, err := h.f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	other := newHarness(t)
	other.start("other")
	if err := h.f.Restore(io.NopCloser(bytes.NewReader(persist(t, other.f)))); err != nil {
		t.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatalf("Persist after Restore: %v", err)
	}
	snap.Release()
	g := openFSM(t, t.TempDir())
	defer g.Close()
	if err := g.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	if g.Digest() != digest || g.AppliedIndex() != applied {
		t.Fatalf("snapshot persisted after a restore does not hold the state it was taken of")
	}
	if dirs := dbDirs(t, h.dir); len(dirs) != 1 {
		t.Fatalf("db dirs after the snapshot's release: %v", dirs)
	}
	if h.f.Digest() != other.f.Digest() {
		t.Fatalf("restored state wrong")
	}
}

// writeSnapshotV1 writes the version 1 stream (uncompressed, CRC after the
// zero key length), as engines before v2 persisted their snapshots.
func writeSnapshotV1(t *testing.T, f *FSM) []byte {
	t.Helper()
	snap := f.db.NewSnapshot()
	defer snap.Close()
	var buf bytes.Buffer
	h := crc32.New(crcTable)
	w := io.MultiWriter(&buf, h)
	io.WriteString(w, snapshotMagicV1)
	it, err := snap.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	for it.First(); it.Valid(); it.Next() {
		w.Write(binary.AppendUvarint(nil, uint64(len(it.Key()))))
		w.Write(it.Key())
		w.Write(binary.AppendUvarint(nil, uint64(len(it.Value()))))
		w.Write(it.Value())
	}
	it.Close()
	w.Write([]byte{0})
	return binary.BigEndian.AppendUint32(buf.Bytes(), h.Sum32())
}

// TestRestoreReadsV1Snapshot: a snapshot an older engine wrote (before
// compression) still restores to the same state; the current format is
// smaller for the same state.
func TestRestoreReadsV1Snapshot(t *testing.T) {
	src := newHarness(t)
	genSequence(src, seedInput(61, 1500), 150, false)
	v1, v2 := writeSnapshotV1(t, src.f), persist(t, src.f)
	if len(v2) >= len(v1) {
		t.Errorf("compressed snapshot %d bytes, uncompressed %d", len(v2), len(v1))
	}
	dst := newHarness(t)
	if err := dst.f.Restore(io.NopCloser(bytes.NewReader(v1))); err != nil {
		t.Fatalf("Restore(v1): %v", err)
	}
	if dst.f.Digest() != src.f.Digest() || dst.f.AppliedIndex() != src.f.AppliedIndex() {
		t.Fatalf("v1 restore: applied %d (want %d), digests equal %v", dst.f.AppliedIndex(), src.f.AppliedIndex(), dst.f.Digest() == src.f.Digest())
	}
}
