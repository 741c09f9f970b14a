package segment

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"mqstack/proto/kafka"
	"mqstack/storage/vfs"
)

// File name suffixes in a partition directory.
const (
	LogSuffix       = ".log"
	IndexSuffix     = ".index"
	TimeIndexSuffix = ".timeindex"
	CleanedSuffix   = ".cleaned"
	SwapSuffix      = ".swap"
	DeletedSuffix   = ".deleted"
)

// segmentName is Kafka's file name stem: the base offset in 20 digits.
func segmentName(base int64) string { return fmt.Sprintf("%020d", base) }

// parseSegmentName returns the base offset of a "%020d.<suffix>" name.
func parseSegmentName(name, suffix string) (int64, bool) {
	stem, ok := strings.CutSuffix(name, suffix)
	if !ok || len(stem) != 20 {
		return 0, false
	}
	v, err := strconv.ParseInt(stem, 10, 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return v, true
}

// segment is one .log file with its two indexes. Offsets in the indexes are
// relative to base.
type segment struct {
	fs   vfs.FS
	dir  string
	base int64

	log      vfs.File
	size     int64 // bytes in the log file
	next     int64 // offset after the last batch (base if empty)
	maxTs    int64 // largest batch maxTimestamp, kafka.NoTimestamp if none
	maxTsOff int64 // last offset of the batch holding maxTs
	rollTs   int64 // first batch's maxTimestamp, or creation time: log.roll.ms counts from it

	idx, tidx       vfs.File
	offsets         []offsetEntry
	times           []timeEntry
	maxIndexEntries int // of each index, from segment.index.bytes
	bytesSinceIndex int64
	indexesTrimmed  bool // inactive: index files cut to their entries
	dirty           bool // log or indexes written since the last sync

	// The active segment's last appended batches (up to tailMax), so that
	// a read at or near the log end (a follower at the leader's log end
	// offset, a consumer at the high watermark: every fetch of a
	// replicated partition) finds its batch without reading each batch
	// header since the last index entry, one pread each, under the log's
	// lock. tailAfter is the last offset before tail[0].
	tail      []tailEntry
	tailAfter int64
}

// tailMax bounds segment.tail (about 10 KiB).
const tailMax = 128

type tailEntry struct {
	pos int64
	h   kafka.BatchHeader
}

// addTail records a batch appended at pos (in order, after every earlier
// one); with a full tail it starts over after the last batch kept.
func (s *segment) addTail(h kafka.BatchHeader, pos int64) {
	switch {
	case len(s.tail) == tailMax:
		s.tailAfter = s.tail[len(s.tail)-1].h.LastOffset()
		s.tail = s.tail[:0]
	case len(s.tail) == 0:
		s.tailAfter = s.next - 1
	}
	s.tail = append(s.tail, tailEntry{pos: pos, h: h})
}

// tailPosition answers positionFor from the tail when it can (ok=false:
// scan the file).
func (s *segment) tailPosition(offset int64) (pos int64, h kafka.BatchHeader, found, ok bool) {
	n := len(s.tail)
	if n == 0 || offset <= s.tailAfter {
		return 0, h, false, false
	}
	last := s.tail[n-1]
	if offset > last.h.LastOffset() {
		if last.pos+last.h.Size() == s.size {
			return s.size, last.h, false, true // past the last batch
		}
		return 0, h, false, false
	}
	i := sort.Search(n, func(i int) bool { return s.tail[i].h.LastOffset() >= offset })
	return s.tail[i].pos, s.tail[i].h, true, true
}

func (s *segment) path(suffix string) string {
	return filepath.Join(s.dir, segmentName(s.base)+suffix)
}

// openFiles opens (creating if needed) the segment's three files.
func (s *segment) openFiles() error {
	var err error
	if s.log, err = s.fs.OpenFile(s.path(LogSuffix), os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644); err != nil {
		return fmt.Errorf("%w: open %s: %w", ErrIO, s.path(LogSuffix), err)
	}
	if s.idx, err = s.fs.OpenFile(s.path(IndexSuffix), os.O_CREATE|os.O_RDWR, 0o644); err != nil {
		s.closeFiles()
		return fmt.Errorf("%w: open %s: %w", ErrIO, s.path(IndexSuffix), err)
	}
	if s.tidx, err = s.fs.OpenFile(s.path(TimeIndexSuffix), os.O_CREATE|os.O_RDWR, 0o644); err != nil {
		s.closeFiles()
		return fmt.Errorf("%w: open %s: %w", ErrIO, s.path(TimeIndexSuffix), err)
	}
	st, err := s.log.Stat()
	if err != nil {
		s.closeFiles()
		return fmt.Errorf("%w: stat %s: %w", ErrIO, s.path(LogSuffix), err)
	}
	s.size = st.Size()
	return nil
}

func (s *segment) closeFiles() error {
	var first error
	for _, f := range []*vfs.File{&s.log, &s.idx, &s.tidx} {
		if *f != nil {
			if err := (*f).Close(); err != nil && first == nil {
				first = fmt.Errorf("%w: close %s: %w", ErrIO, (*f).Name(), err)
			}
			*f = nil
		}
	}
	return first
}

func readAll(f vfs.File) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > math.MaxInt32 {
		return nil, fmt.Errorf("%s is %d bytes, larger than any index", f.Name(), st.Size())
	}
	b := make([]byte, st.Size())
	n, err := f.ReadAt(b, 0)
	if err != nil && !(errors.Is(err, io.EOF) && n == len(b)) {
		return nil, err
	}
	return b, nil
}

// loadIndexes reads both index files and checks them against the log. It
// returns an error when they must be rebuilt.
func (s *segment) loadIndexes(relLimit int64) error {
	ib, err := readAll(s.idx)
	if err != nil {
		return fmt.Errorf("%w: read %s: %w", ErrIO, s.path(IndexSuffix), err)
	}
	tb, err := readAll(s.tidx)
	if err != nil {
		return fmt.Errorf("%w: read %s: %w", ErrIO, s.path(TimeIndexSuffix), err)
	}
	offsets := parseOffsetIndex(ib)
	if err := checkOffsetIndex(offsets, s.size, relLimit); err != nil {
		return err
	}
	times := parseTimeIndex(tb)
	if s.size > 0 && len(times) == 0 {
		// The largest timestamp (retention) would have to come from a scan.
		return fmt.Errorf("empty time index for %d bytes of log", s.size)
	}
	if n := len(times); n > 0 && int64(times[n-1].RelOffset) >= relLimit {
		return fmt.Errorf("time index entry offset %d is not below %d", times[n-1].RelOffset, relLimit)
	}
	s.offsets, s.times = offsets, times
	s.indexesTrimmed = true
	s.maxTs, s.maxTsOff = kafka.NoTimestamp, s.base
	if n := len(times); n > 0 {
		s.maxTs, s.maxTsOff = times[n-1].Timestamp, s.base+int64(times[n-1].RelOffset)
	}
	// The last batch gives the next offset; the first gives rollTs.
	if s.size > 0 {
		// Kafka writes no entry for a segment's first 4 KiB: scan from 0.
		var pos int64
		if len(offsets) > 0 {
			pos = int64(offsets[len(offsets)-1].Position)
		}
		var h kafka.BatchHeader
		for pos < s.size {
			h, err = s.readHeader(pos)
			if err != nil {
				return err
			}
			if h.MaxTimestamp > s.maxTs {
				s.maxTs, s.maxTsOff = h.MaxTimestamp, h.LastOffset()
			}
			pos += h.Size()
		}
		if pos != s.size {
			return fmt.Errorf("last batch ends at %d, the log at %d", pos, s.size)
		}
		s.next = h.NextOffset()
		first, err := s.readHeader(0)
		if err != nil {
			return err
		}
		s.rollTs = first.MaxTimestamp
	} else {
		s.next = s.base
	}
	return nil
}

// readHeader reads and parses the batch header at pos.
func (s *segment) readHeader(pos int64) (kafka.BatchHeader, error) {
	var b [kafka.HeaderSize]byte
	n, err := s.log.ReadAt(b[:], pos)
	if n < len(b) {
		if err == nil || errors.Is(err, io.EOF) {
			err = fmt.Errorf("%w: %d bytes of a batch header at position %d", kafka.ErrShort, n, pos)
		}
		return kafka.BatchHeader{}, err
	}
	h, err := kafka.ParseHeader(b[:])
	if err != nil {
		return h, err
	}
	if pos+h.Size() > s.size {
		return h, fmt.Errorf("%w: batch at position %d is %d bytes, the log ends at %d", kafka.ErrShort, pos, h.Size(), s.size)
	}
	return h, nil
}

// writeIndexFiles rewrites both index files from the in-memory entries and,
// for the active segment, preallocates them to segment.index.bytes.
func (s *segment) writeIndexFiles(prealloc bool) error {
	var ib, tb []byte
	for _, e := range s.offsets {
		ib = appendOffsetEntry(ib, e)
	}
	for _, e := range s.times {
		tb = appendTimeEntry(tb, e)
	}
	for _, w := range []struct {
		f     vfs.File
		b     []byte
		alloc int64
	}{{s.idx, ib, int64(s.maxIndexEntries * offsetEntrySize)}, {s.tidx, tb, int64(s.maxIndexEntries * timeEntrySize)}} {
		if err := w.f.Truncate(0); err != nil {
			return fmt.Errorf("%w: truncate %s: %w", ErrIO, w.f.Name(), err)
		}
		if prealloc && w.alloc > int64(len(w.b)) {
			if err := w.f.Truncate(w.alloc); err != nil {
				return fmt.Errorf("%w: preallocate %s: %w", ErrIO, w.f.Name(), err)
			}
		}
		if _, err := w.f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("%w: seek %s: %w", ErrIO, w.f.Name(), err)
		}
		if _, err := w.f.Write(w.b); err != nil {
			return fmt.Errorf("%w: write %s: %w", ErrIO, w.f.Name(), err)
		}
	}
	s.indexesTrimmed = !prealloc
	s.dirty = true
	return nil
}

// addIndexEntries records the index entries for a batch of h written at
// pos, as Kafka's LogSegment.append does: an offset entry (and a time entry
// if the max timestamp grew) once more than indexInterval bytes were
// appended since the last entry.
func (s *segment) addIndexEntries(h kafka.BatchHeader, pos int64, indexInterval int64) error {
	if s.size == 0 || pos == 0 {
		s.rollTs = h.MaxTimestamp
	}
	if h.MaxTimestamp > s.maxTs {
		s.maxTs, s.maxTsOff = h.MaxTimestamp, h.LastOffset()
	}
	s.addTail(h, pos)
	if s.bytesSinceIndex > indexInterval || pos == 0 {
		e := offsetEntry{RelOffset: int32(h.LastOffset() - s.base), Position: int32(pos)}
		if err := s.writeEntry(s.idx, int64(len(s.offsets))*offsetEntrySize, appendOffsetEntry(nil, e)); err != nil {
			return err
		}
		s.offsets = append(s.offsets, e)
		if err := s.maybeAppendTime(); err != nil {
			return err
		}
		s.bytesSinceIndex = 0
	}
	s.bytesSinceIndex += h.Size()
	return nil
}

// maybeAppendTime adds (maxTs, offset of maxTs) to the time index if maxTs
// grew since the last entry.
func (s *segment) maybeAppendTime() error {
	if s.maxTs == kafka.NoTimestamp || (len(s.times) > 0 && s.times[len(s.times)-1].Timestamp >= s.maxTs) {
		return nil
	}
	e := timeEntry{Timestamp: s.maxTs, RelOffset: int32(s.maxTsOff - s.base)}
	if n := len(s.times); n > 0 && e.RelOffset < s.times[n-1].RelOffset {
		e.RelOffset = s.times[n-1].RelOffset
	}
	if err := s.writeEntry(s.tidx, int64(len(s.times))*timeEntrySize, appendTimeEntry(nil, e)); err != nil {
		return err
	}
	s.times = append(s.times, e)
	return nil
}

func (s *segment) writeEntry(f vfs.File, at int64, b []byte) error {
	if _, err := f.Seek(at, io.SeekStart); err != nil {
		return fmt.Errorf("%w: seek %s: %w", ErrIO, f.Name(), err)
	}
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("%w: write %s: %w", ErrIO, f.Name(), err)
	}
	s.dirty = true
	return nil
}

// indexFull reports whether either index has no room for another entry.
func (s *segment) indexFull() bool {
	return len(s.offsets) >= s.maxIndexEntries || len(s.times) >= s.maxIndexEntries
}

// sync makes the segment's files durable.
func (s *segment) sync() error {
	if !s.dirty {
		return nil
	}
	for _, f := range []vfs.File{s.log, s.idx, s.tidx} {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("%w: fsync %s: %w", ErrIO, f.Name(), err)
		}
	}
	s.dirty = false
	return nil
}

// seal is called when the segment stops being active: the last time entry
// is added and the index files are cut to their entries (Kafka's
// onBecomeInactiveSegment and trimToValidSize).
func (s *segment) seal() error {
	s.tail = nil
	if s.indexesTrimmed {
		return nil
	}
	if err := s.maybeAppendTime(); err != nil {
		return err
	}
	return s.writeIndexFiles(false)
}

// positionFor returns the position of the first batch whose last offset is
// >= offset, and that batch's header; found=false if there is none.
func (s *segment) positionFor(offset int64) (pos int64, h kafka.BatchHeader, found bool, err error) {
	if pos, h, found, ok := s.tailPosition(offset); ok {
		return pos, h, found, nil
	}
	return s.scanPosition(offset)
}

// scanPosition is positionFor from the offset index: the headers from the
// indexed position on are read one by one.
func (s *segment) scanPosition(offset int64) (pos int64, h kafka.BatchHeader, found bool, err error) {
	pos = lookupOffset(s.offsets, offset-s.base)
	for pos < s.size {
		h, err = s.readHeader(pos)
		if err != nil {
			return 0, h, false, fmt.Errorf("%w: %s at position %d: %w", ErrCorrupt, s.path(LogSuffix), pos, err)
		}
		if h.LastOffset() >= offset {
			return pos, h, true, nil
		}
		pos += h.Size()
	}
	return s.size, h, false, nil
}

// remove closes and deletes the segment's files.
func (s *segment) remove() error {
	cerr := s.closeFiles()
	for _, suffix := range []string{LogSuffix, IndexSuffix, TimeIndexSuffix} {
		if err := s.fs.Remove(s.path(suffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: remove %s: %w", ErrIO, s.path(suffix), err)
		}
	}
	return cerr
}
