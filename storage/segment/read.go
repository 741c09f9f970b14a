package segment

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"mqstack/proto/kafka"
	"mqstack/storage/vfs"
)

// ReadResult is a byte range of whole batches in one segment file, ready
// to be sent with sendfile: File, Position and Length.
type ReadResult struct {
	// File is the segment's open .log file, owned by the Log. It stays valid
	// until the segment is deleted (retention, DeleteRecords, Truncate,
	// compaction swap) or the Log is closed; callers that run those
	// concurrently must copy (ReadBytes).
	File     vfs.File
	Path     string
	Position int64
	Length   int64 // 0 when there is nothing to read at the offset
	// FirstOffset is the base offset of the first batch returned; it may be
	// below the requested offset (a batch is never split), NextOffset is
	// the offset after the last batch returned.
	FirstOffset int64
	NextOffset  int64

	LogStartOffset int64
	HighWatermark  int64
	LogEndOffset   int64
}

// Read returns the batches holding offsets from offset on, whole batches
// only, up to maxBytes; the first batch is returned whole even when it is
// larger (Kafka's minOneMessage). Only batches whose last offset is below
// maxOffset are returned: pass HighWatermark for consumers, LogEndOffset
// for followers. Reading at the log end offset returns an empty range; an
// offset below LogStartOffset or above LogEndOffset is
// ErrOffsetOutOfRange.
func (l *Log) Read(offset int64, maxBytes int, maxOffset int64) (ReadResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.readLocked(offset, maxBytes, maxOffset)
}

func (l *Log) readLocked(offset int64, maxBytes int, maxOffset int64) (ReadResult, error) {
	res := ReadResult{LogStartOffset: l.logStartOffset, HighWatermark: l.highWatermark,
		LogEndOffset: l.logEndOffset(), FirstOffset: offset, NextOffset: offset}
	if l.closed {
		return res, ErrClosed
	}
	maxBytes = max(maxBytes, 0)
	if offset < l.logStartOffset || offset > res.LogEndOffset {
		return res, fmt.Errorf("%w: offset %d, the log holds %d to %d", ErrOffsetOutOfRange, offset, l.logStartOffset, res.LogEndOffset)
	}
	i := sort.Search(len(l.segments), func(i int) bool { return l.segments[i].base > offset }) - 1
	if i < 0 {
		i = 0
	}
	for ; i < len(l.segments); i++ {
		s := l.segments[i]
		pos, h, found, err := s.positionFor(offset)
		if err != nil {
			return res, err
		}
		if !found {
			continue
		}
		res.File, res.Path, res.Position = s.log, s.path(LogSuffix), pos
		if h.LastOffset() >= maxOffset {
			return res, nil
		}
		res.FirstOffset = h.BaseOffset
		// Headers are parsed from a read-ahead window, refilled as needed.
		win := &window{s: s, buf: make([]byte, min(int64(maxBytes)+kafka.HeaderSize, 256<<10, s.size-pos))}
		end := pos
		for end < s.size {
			if end != pos {
				if h, err = win.header(end); err != nil {
					return res, fmt.Errorf("%w: %s at position %d: %w", ErrCorrupt, s.path(LogSuffix), end, err)
				}
				if h.LastOffset() >= maxOffset || end+h.Size()-pos > int64(maxBytes) {
					break
				}
			}
			end += h.Size()
			res.NextOffset = h.NextOffset()
		}
		res.Length = end - pos
		return res, nil
	}
	return res, nil
}

// ReadBytes is Read returning a copy of the bytes.
func (l *Log) ReadBytes(offset int64, maxBytes int, maxOffset int64) ([]byte, ReadResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	res, err := l.readLocked(offset, maxBytes, maxOffset)
	if err != nil || res.Length == 0 {
		return nil, res, err
	}
	b, err := l.copyLocked(res)
	return b, res, err
}

// copyLocked reads a ReadResult's bytes.
func (l *Log) copyLocked(res ReadResult) ([]byte, error) {
	b := make([]byte, res.Length)
	if n, err := res.File.ReadAt(b, res.Position); n != len(b) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%w: read %s at %d: %w", ErrIO, res.Path, res.Position, err)
	}
	return b, nil
}

// OffsetForTimestamp returns the first offset whose record timestamp is >=
// ts (ListOffsets), or found=false if there is none. It uses the time
// index and then decodes the batches after the entry it finds.
func (l *Log) OffsetForTimestamp(ts int64) (offset int64, found bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, false, ErrClosed
	}
	for _, s := range l.segments {
		if s.maxTs < ts {
			continue
		}
		start := max(s.base+lookupTime(s.times, ts), l.logStartOffset)
		pos, _, ok, err := s.positionFor(start)
		if err != nil || !ok {
			return 0, false, err
		}
		for pos < s.size {
			h, err := s.readHeader(pos)
			if err != nil {
				return 0, false, fmt.Errorf("%w: %s at position %d: %w", ErrCorrupt, s.path(LogSuffix), pos, err)
			}
			if h.MaxTimestamp >= ts {
				b := make([]byte, h.Size())
				if _, err := s.log.ReadAt(b, pos); err != nil && !errors.Is(err, io.EOF) {
					return 0, false, fmt.Errorf("%w: read %s at %d: %w", ErrIO, s.path(LogSuffix), pos, err)
				}
				batch, _, err := kafka.DecodeBatch(b)
				if err != nil {
					return 0, false, fmt.Errorf("%w: %s at position %d: %w", ErrCorrupt, s.path(LogSuffix), pos, err)
				}
				for _, r := range batch.Records {
					t := r.Timestamp
					if batch.LogAppendTime() {
						t = batch.MaxTimestamp
					}
					if t >= ts && r.Offset >= start {
						return r.Offset, true, nil
					}
				}
			}
			pos += h.Size()
		}
	}
	return 0, false, nil
}

// window caches a range of a segment's log for parsing batch headers.
type window struct {
	s     *segment
	buf   []byte
	start int64
	n     int // valid bytes in buf
}

// header parses the batch header at pos, reading the window there if it
// does not hold it.
func (w *window) header(pos int64) (kafka.BatchHeader, error) {
	if pos < w.start || pos+kafka.HeaderSize > w.start+int64(w.n) {
		n, err := w.s.log.ReadAt(w.buf, pos)
		if n < kafka.HeaderSize && err != nil && !errors.Is(err, io.EOF) {
			return kafka.BatchHeader{}, err
		}
		w.start, w.n = pos, n
		if n < kafka.HeaderSize {
			return kafka.BatchHeader{}, fmt.Errorf("%w: %d bytes of a batch header at position %d", kafka.ErrShort, n, pos)
		}
	}
	h, err := kafka.ParseHeader(w.buf[pos-w.start:])
	if err == nil && pos+h.Size() > w.s.size {
		err = fmt.Errorf("%w: batch of %d bytes at position %d, the log ends at %d", kafka.ErrShort, h.Size(), pos, w.s.size)
	}
	return h, err
}
