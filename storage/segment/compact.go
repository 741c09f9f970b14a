package segment

import (
	"errors"
	"fmt"
	"io"
	"os"

	"mqstack/proto/kafka"
)

// CleanResult reports what a compaction pass did.
type CleanResult struct {
	Segments       int // segments rewritten
	RecordsRemoved int
	BytesBefore    int64
	BytesAfter     int64
}

// Clean compacts the log for cleanup.policy=compact at time now (Unix ms):
// in every segment below both the active segment and the high watermark,
// only the last record of each key is kept, and tombstones (null values) of
// segments whose largest timestamp is older than delete.retention.ms are
// dropped. Records without a key, control batches and transactional batches
// are kept as they are. Each rewritten segment is written as
// <base>.log.cleaned, fsynced, renamed to <base>.log.swap and then over
// <base>.log; Open completes a swap that a crash interrupted.
func (l *Log) Clean(now int64) (CleanResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var res CleanResult
	if l.closed {
		return res, ErrClosed
	}
	if !l.cfg.hasPolicy("compact") {
		return res, nil
	}
	// Cleanable: segments before the active one that end at or below the HW.
	var cleanable []*segment
	for i := 0; i+1 < len(l.segments); i++ {
		if l.segments[i+1].base > l.highWatermark {
			break
		}
		cleanable = append(cleanable, l.segments[i])
	}
	if len(cleanable) == 0 {
		return res, nil
	}
	// Pass 1: the last offset of every key.
	lastOffset := map[string]int64{}
	for _, s := range cleanable {
		err := s.eachBatch(func(b []byte, h kafka.BatchHeader) error {
			if h.Control() || h.Transactional() {
				return nil
			}
			batch, _, err := kafka.DecodeBatch(b)
			if err != nil {
				return err
			}
			for _, r := range batch.Records {
				if r.Key != nil {
					lastOffset[string(r.Key)] = r.Offset
				}
			}
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	// Pass 2: rewrite each segment.
	for _, s := range cleanable {
		dropTombstones := s.maxTs != kafka.NoTimestamp && now-s.maxTs > l.cfg.DeleteRetentionMs
		var out []byte
		removed := 0
		err := s.eachBatch(func(b []byte, h kafka.BatchHeader) error {
			if h.Control() || h.Transactional() {
				out = append(out, b...)
				return nil
			}
			batch, _, err := kafka.DecodeBatch(b)
			if err != nil {
				return err
			}
			kept := batch.Records[:0:0]
			for _, r := range batch.Records {
				if r.Key != nil && (lastOffset[string(r.Key)] != r.Offset || (r.Value == nil && dropTombstones)) {
					continue
				}
				kept = append(kept, r)
			}
			removed += len(batch.Records) - len(kept)
			switch {
			case len(kept) == len(batch.Records):
				out = append(out, b...)
			case len(kept) > 0:
				opts := kafka.BatchOptions{BaseOffset: h.BaseOffset, PartitionLeaderEpoch: h.PartitionLeaderEpoch,
					Compression: h.Compression(), LogAppendTime: h.LogAppendTime(), MaxTimestamp: h.MaxTimestamp,
					ProducerID: h.ProducerID, ProducerEpoch: h.ProducerEpoch, BaseSequence: h.BaseSequence,
					LastOffsetDelta: h.LastOffsetDelta}
				out, err = kafka.AppendBatch(out, opts, kept)
				return err
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		if removed == 0 {
			continue
		}
		res.Segments++
		res.RecordsRemoved += removed
		res.BytesBefore += s.size
		res.BytesAfter += int64(len(out))
		if err := l.swapSegment(s, out); err != nil {
			return res, err
		}
	}
	if res.Segments > 0 {
		l.log.Info().Int("segments", res.Segments).Int("records_removed", res.RecordsRemoved).
			Int64("bytes_before", res.BytesBefore).Int64("bytes_after", res.BytesAfter).Msg("compacted log")
	}
	return res, nil
}

// eachBatch calls fn with every batch of s, in order.
func (s *segment) eachBatch(fn func(b []byte, h kafka.BatchHeader) error) error {
	for pos := int64(0); pos < s.size; {
		h, err := s.readHeader(pos)
		if err != nil {
			return fmt.Errorf("%w: %s at position %d: %w", ErrCorrupt, s.path(LogSuffix), pos, err)
		}
		b := make([]byte, h.Size())
		if _, err := s.log.ReadAt(b, pos); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: read %s at %d: %w", ErrIO, s.path(LogSuffix), pos, err)
		}
		if err := fn(b, h); err != nil {
			return fmt.Errorf("%s at position %d: %w", s.path(LogSuffix), pos, err)
		}
		pos += h.Size()
	}
	return nil
}

// swapSegment replaces s's log with data: .cleaned, fsync, rename to .swap,
// remove the old indexes, rename over .log, fsync the directory, reopen and
// rebuild the indexes.
func (l *Log) swapSegment(s *segment, data []byte) error {
	cleaned := s.path(LogSuffix + CleanedSuffix)
	swap := s.path(LogSuffix + SwapSuffix)
	f, err := l.fs.OpenFile(cleaned, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("%w: create %s: %w", ErrIO, cleaned, err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("%w: write %s: %w", ErrIO, cleaned, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("%w: fsync %s: %w", ErrIO, cleaned, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%w: close %s: %w", ErrIO, cleaned, err)
	}
	if err := l.fs.Rename(cleaned, swap); err != nil {
		return fmt.Errorf("%w: rename %s: %w", ErrIO, cleaned, err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fmt.Errorf("%w: fsync directory %s: %w", ErrIO, l.dir, err)
	}
	// From here a crash is completed by Open; an error leaves the log
	// closed so that Open does it.
	fail := func(err error) error {
		l.failLocked()
		return fmt.Errorf("%w; the log is closed, reopen it to complete the swap", err)
	}
	if err := s.closeFiles(); err != nil {
		return fail(err)
	}
	for _, suffix := range []string{IndexSuffix, TimeIndexSuffix} {
		if err := l.fs.Remove(s.path(suffix)); err != nil {
			return fail(fmt.Errorf("%w: remove %s: %w", ErrIO, s.path(suffix), err))
		}
	}
	if err := l.fs.Rename(swap, s.path(LogSuffix)); err != nil {
		return fail(fmt.Errorf("%w: rename %s: %w", ErrIO, swap, err))
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fail(fmt.Errorf("%w: fsync directory %s: %w", ErrIO, l.dir, err))
	}
	if err := s.openFiles(); err != nil {
		return fail(err)
	}
	if _, err := l.recoverSegment(s, -1, false); err != nil {
		return fail(err)
	}
	return s.sync()
}
