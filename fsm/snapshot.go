package fsm

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"
	"github.com/klauspost/compress/s2"
)

// Snapshot stream format: the magic, then an S2-compressed stream
// (github.com/klauspost/compress/s2) of records (uvarint key length, key,
// uvarint value length, value), a zero key length, and a CRC-32C of the
// magic and everything uncompressed before it. Version 1 streams (the same
// without compression, CRC after the zero) are still read.
const (
	snapshotMagic   = "raftflow-snapshot-v2\n"
	snapshotMagicV1 = "raftflow-snapshot-v1\n"
)

type snapshot struct {
	snap *pebble.Snapshot
	db   *pebble.DB // the store snap was taken of
	refs *snapRefs
}

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if err := writeSnapshot(sink, s.snap); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *snapshot) Release() {
	s.snap.Close()
	s.refs.release(s.db)
}

// snapRefs counts the open snapshots of each Pebble store. raft persists a
// snapshot on its own goroutine while the FSM goroutine may Restore another
// one; the store being replaced must stay open until the last snapshot of it
// is released, and only then be closed and its directory removed.
type snapRefs struct {
	mu      sync.Mutex
	open    map[*pebble.DB]int
	retired map[*pebble.DB]string // replaced stores → their directories
}

func (r *snapRefs) acquire(db *pebble.DB) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.open == nil {
		r.open = map[*pebble.DB]int{}
	}
	r.open[db]++
}

func (r *snapRefs) release(db *pebble.DB) {
	r.mu.Lock()
	r.open[db]--
	n := r.open[db]
	path, retired := r.retired[db]
	if n == 0 {
		delete(r.open, db)
		delete(r.retired, db)
	}
	r.mu.Unlock()
	if n == 0 && retired {
		db.Close()
		os.RemoveAll(path)
	}
}

// retire closes a store replaced by Restore and removes its directory, now
// or, while snapshots of it are open, when the last one is released.
func (r *snapRefs) retire(db *pebble.DB, path string) {
	r.mu.Lock()
	if r.open[db] > 0 {
		if r.retired == nil {
			r.retired = map[*pebble.DB]string{}
		}
		r.retired[db] = path
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	db.Close()
	os.RemoveAll(path)
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func writeSnapshot(w io.Writer, r pebble.Reader) error {
	h := crc32.New(crcTable)
	if _, err := io.WriteString(w, snapshotMagic); err != nil {
		return err
	}
	h.Write([]byte(snapshotMagic))
	zw := s2.NewWriter(w)
	bw := bufio.NewWriterSize(io.MultiWriter(zw, h), 1<<20)
	it, err := r.NewIter(nil)
	if err != nil {
		return err
	}
	var hdr [binary.MaxVarintLen64]byte
	for it.First(); it.Valid(); it.Next() {
		k, v := it.Key(), it.Value()
		bw.Write(hdr[:binary.PutUvarint(hdr[:], uint64(len(k)))])
		bw.Write(k)
		bw.Write(hdr[:binary.PutUvarint(hdr[:], uint64(len(v)))])
		if _, err := bw.Write(v); err != nil {
			it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	bw.WriteByte(0)
	if err := bw.Flush(); err != nil {
		return err
	}
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], h.Sum32())
	if _, err := zw.Write(sum[:]); err != nil {
		return err
	}
	return zw.Close()
}

func readSnapshot(rc io.Reader, db *pebble.DB) error {
	h := crc32.New(crcTable)
	br := bufio.NewReaderSize(rc, 1<<20)
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(br, magic); err != nil {
		return errors.New("not a raftflow snapshot")
	}
	h.Write(magic)
	var body io.Reader
	switch string(magic) {
	case snapshotMagic:
		body = bufio.NewReaderSize(s2.NewReader(br), 1<<20)
	case snapshotMagicV1:
		body = br
	default:
		return errors.New("not a raftflow snapshot")
	}
	tr := io.TeeReader(body, h)
	if err := readRecords(tr, db); err != nil {
		return err
	}
	want := h.Sum32()
	var sum [4]byte
	if _, err := io.ReadFull(body, sum[:]); err != nil {
		return fmt.Errorf("truncated snapshot: %w", err)
	}
	if binary.BigEndian.Uint32(sum[:]) != want {
		return errors.New("snapshot checksum mismatch")
	}
	return db.Flush()
}

// readRecords writes the records of tr into db up to the zero key length;
// the last batch is committed with Sync (the restored store must be durable
// before CURRENT-DB points at it; readSnapshot flushes it too).
func readRecords(tr io.Reader, db *pebble.DB) error {
	rb := &byteReader{r: tr}
	b := db.NewBatch()
	for {
		kl, err := binary.ReadUvarint(rb)
		if err != nil {
			return fmt.Errorf("truncated snapshot: %w", err)
		}
		if kl == 0 {
			break
		}
		k := make([]byte, kl)
		if _, err := io.ReadFull(tr, k); err != nil {
			return fmt.Errorf("truncated snapshot: %w", err)
		}
		vl, err := binary.ReadUvarint(rb)
		if err != nil {
			return fmt.Errorf("truncated snapshot: %w", err)
		}
		v := make([]byte, vl)
		if _, err := io.ReadFull(tr, v); err != nil {
			return fmt.Errorf("truncated snapshot: %w", err)
		}
		if err := b.Set(k, v, nil); err != nil {
			return err
		}
		if b.Len() > 16<<20 {
			if err := b.Commit(pebble.NoSync); err != nil {
				return err
			}
			b = db.NewBatch()
		}
	}
	return b.Commit(pebble.Sync)
}

type byteReader struct {
	r   io.Reader
	buf [1]byte
}

func (b *byteReader) ReadByte() (byte, error) {
	_, err := io.ReadFull(b.r, b.buf[:])
	return b.buf[0], err
}
