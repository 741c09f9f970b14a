package segment

// Producer state snapshots: Kafka's <offset>.snapshot files in the
// partition directory (ProducerStateManager, snapshot version 1). A
// snapshot at offset N holds the idempotent producers' state after every
// batch below N; the broker writes one when a segment rolls (N = the new
// segment's base offset) and at a clean shutdown (N = the log end offset),
// and at startup loads the newest one and replays the batches from N on.
//
//	version                  int16 = 1
//	crc                      uint32: CRC-32C of everything after this field
//	producer_entries         int32 count, then per producer:
//	  producer_id              int64
//	  epoch                    int16
//	  last_sequence            int32
//	  last_offset              int64   last offset of the producer's last batch
//	  offset_delta             int32   last_sequence - first sequence of that batch
//	  timestamp                int64   its max timestamp
//	  coordinator_epoch        int32   -1 (no transactions)
//	  current_txn_first_offset int64   -1 (no open transaction)
//
// Snapshots are written to a temporary name, fsynced and renamed, so a
// crash leaves the old file or the new one; a snapshot that does not
// decode (bad CRC, cut short) is skipped for an older one, or for a replay
// of the whole log. Snapshots above a truncation point are deleted with
// the data they describe; only the two newest are kept.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"sort"

	"mqstack/storage/checkpoint"
	"mqstack/storage/vfs"
)

// SnapshotSuffix names producer state snapshot files.
const SnapshotSuffix = ".snapshot"

// ProducerSnapshotVersion is the version written and read.
const ProducerSnapshotVersion = 1

const (
	snapshotHeaderSize = 2 + 4 + 4
	snapshotEntrySize  = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8
	// producerSnapshotsKept is how many snapshot files stay after a write.
	producerSnapshotsKept = 2
)

// ErrSnapshot is wrapped by producer snapshot decode errors.
var ErrSnapshot = errors.New("segment: bad producer snapshot")

var snapshotCRC = crc32.MakeTable(crc32.Castagnoli)

// ProducerSnapshotEntry is one producer's state in a snapshot.
type ProducerSnapshotEntry struct {
	ProducerID            int64
	Epoch                 int16
	LastSequence          int32
	LastOffset            int64
	OffsetDelta           int32
	Timestamp             int64
	CoordinatorEpoch      int32
	CurrentTxnFirstOffset int64
}

// EncodeProducerSnapshot returns a snapshot file's bytes.
func EncodeProducerSnapshot(entries []ProducerSnapshotEntry) []byte {
	b := make([]byte, snapshotHeaderSize, snapshotHeaderSize+len(entries)*snapshotEntrySize)
	binary.BigEndian.PutUint16(b, ProducerSnapshotVersion)
	binary.BigEndian.PutUint32(b[6:], uint32(len(entries)))
	for _, e := range entries {
		b = binary.BigEndian.AppendUint64(b, uint64(e.ProducerID))
		b = binary.BigEndian.AppendUint16(b, uint16(e.Epoch))
		b = binary.BigEndian.AppendUint32(b, uint32(e.LastSequence))
		b = binary.BigEndian.AppendUint64(b, uint64(e.LastOffset))
		b = binary.BigEndian.AppendUint32(b, uint32(e.OffsetDelta))
		b = binary.BigEndian.AppendUint64(b, uint64(e.Timestamp))
		b = binary.BigEndian.AppendUint32(b, uint32(e.CoordinatorEpoch))
		b = binary.BigEndian.AppendUint64(b, uint64(e.CurrentTxnFirstOffset))
	}
	binary.BigEndian.PutUint32(b[2:], crc32.Checksum(b[6:], snapshotCRC))
	return b
}

// DecodeProducerSnapshot parses a snapshot file's bytes.
func DecodeProducerSnapshot(b []byte) ([]ProducerSnapshotEntry, error) {
	if len(b) < snapshotHeaderSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the header", ErrSnapshot, len(b))
	}
	if v := int16(binary.BigEndian.Uint16(b)); v != ProducerSnapshotVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrSnapshot, v, ProducerSnapshotVersion)
	}
	if want, got := binary.BigEndian.Uint32(b[2:]), crc32.Checksum(b[6:], snapshotCRC); want != got {
		return nil, fmt.Errorf("%w: crc %08x, computed %08x", ErrSnapshot, want, got)
	}
	n := int32(binary.BigEndian.Uint32(b[6:]))
	rest := b[snapshotHeaderSize:]
	if n < 0 || int64(n)*snapshotEntrySize != int64(len(rest)) {
		return nil, fmt.Errorf("%w: %d entries in %d bytes", ErrSnapshot, n, len(rest))
	}
	out := make([]ProducerSnapshotEntry, n)
	for i := range out {
		e := rest[i*snapshotEntrySize:]
		out[i] = ProducerSnapshotEntry{
			ProducerID:            int64(binary.BigEndian.Uint64(e)),
			Epoch:                 int16(binary.BigEndian.Uint16(e[8:])),
			LastSequence:          int32(binary.BigEndian.Uint32(e[10:])),
			LastOffset:            int64(binary.BigEndian.Uint64(e[14:])),
			OffsetDelta:           int32(binary.BigEndian.Uint32(e[22:])),
			Timestamp:             int64(binary.BigEndian.Uint64(e[26:])),
			CoordinatorEpoch:      int32(binary.BigEndian.Uint32(e[34:])),
			CurrentTxnFirstOffset: int64(binary.BigEndian.Uint64(e[38:])),
		}
	}
	return out, nil
}

// producerSnapshots lists the snapshot offsets in the directory, ascending.
func (l *Log) producerSnapshots() ([]int64, error) {
	names, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return nil, fmt.Errorf("%w: list %s: %w", ErrIO, l.dir, err)
	}
	var out []int64
	for _, n := range names {
		if off, ok := parseSegmentName(n, SnapshotSuffix); ok {
			out = append(out, off)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// WriteProducerSnapshot writes <offset>.snapshot durably and deletes older
// snapshots beyond the newest two.
func (l *Log) WriteProducerSnapshot(offset int64, entries []ProducerSnapshotEntry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	path := l.join(segmentName(offset) + SnapshotSuffix)
	if err := checkpoint.WriteFile(l.fs, path, EncodeProducerSnapshot(entries)); err != nil {
		return fmt.Errorf("%w: producer snapshot: %w", ErrIO, err)
	}
	offs, err := l.producerSnapshots()
	if err != nil {
		return err
	}
	for len(offs) > producerSnapshotsKept {
		if err := l.fs.Remove(l.join(segmentName(offs[0]) + SnapshotSuffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: remove old producer snapshot: %w", ErrIO, err)
		}
		offs = offs[1:]
	}
	return nil
}

// LatestProducerSnapshot returns the newest readable snapshot at or below
// the log end offset (ok=false when there is none: replay the whole log).
// Snapshots past the log end (left by a truncation) and unreadable ones are
// deleted and logged.
func (l *Log) LatestProducerSnapshot() (offset int64, entries []ProducerSnapshotEntry, ok bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	offs, err := l.producerSnapshots()
	if err != nil {
		return 0, nil, false, err
	}
	leo := l.logEndOffset()
	for i := len(offs) - 1; i >= 0; i-- {
		path := l.join(segmentName(offs[i]) + SnapshotSuffix)
		var data []byte
		if offs[i] <= leo {
			data, err = readFile(l.fs, path)
			if err == nil {
				entries, err = DecodeProducerSnapshot(data)
			}
			if err == nil {
				return offs[i], entries, true, nil
			}
		}
		l.log.Warn().Str("file", path).Int64("log_end_offset", leo).AnErr("error", err).Msg("deleting a producer snapshot past the log end or unreadable")
		if rerr := l.fs.Remove(path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return 0, nil, false, fmt.Errorf("%w: remove producer snapshot %s: %w", ErrIO, path, rerr)
		}
	}
	return 0, nil, false, nil
}

// deleteProducerSnapshotsAbove removes snapshots past offset (after a
// truncation they describe data that is gone).
func (l *Log) deleteProducerSnapshotsAbove(offset int64) error {
	offs, err := l.producerSnapshots()
	if err != nil {
		return err
	}
	for _, o := range offs {
		if o > offset {
			if err := l.fs.Remove(l.join(segmentName(o) + SnapshotSuffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%w: remove producer snapshot: %w", ErrIO, err)
			}
		}
	}
	return nil
}

func readFile(fsys vfs.FS, path string) ([]byte, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f)
}
