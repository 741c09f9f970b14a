package segment

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/rs/zerolog"

	"mqstack/proto/kafka"
	"mqstack/storage/checkpoint"
	"mqstack/storage/vfs"
)

// Options open one partition's log.
type Options struct {
	FS     vfs.FS
	Dir    string // the partition directory, <log.dir>/<topic>-<partition>
	Config Config
	Logger zerolog.Logger
	// Clock returns the current time in Unix milliseconds. The package
	// reads no wall clock: log.roll.ms, LogAppendTime and retention use it.
	Clock func() int64
	// RecoveryPoint is the first offset not known to be flushed (from the
	// recovery-point-offset-checkpoint); 0 if unknown.
	RecoveryPoint int64
	// LogStartOffset from the log-start-offset-checkpoint; 0 if unknown.
	LogStartOffset int64
	// CleanShutdown is true when the log dir held .kafka_cleanshutdown:
	// nothing is re-validated.
	CleanShutdown bool
}

// Log is one partition's log: an ordered list of segments, the last of
// which (the active segment) takes appends. It is safe for concurrent use;
// one mutex guards it.
type Log struct {
	mu       sync.Mutex
	fs       vfs.FS
	dir      string
	cfg      Config
	log      zerolog.Logger
	clock    func() int64
	segments []*segment // by base offset; never empty while open

	logStartOffset int64
	highWatermark  int64
	recoveryPoint  int64
	dirDirty       bool // directory entries changed since the last SyncDir
	closed         bool
	epochs         []checkpoint.EpochEntry // leader epoch cache, see epoch.go
	epochsDirty    bool
	truncations    uint64 // Truncate calls that removed data (a log dir move copies again)
}

// Open opens or creates the partition log in opts.Dir, completing an
// interrupted compaction swap and, after an unclean shutdown, re-validating
// every batch from the recovery point on (see doc.go).
func Open(opts Options) (*Log, error) {
	if opts.FS == nil {
		return nil, fmt.Errorf("%w: Options.FS is nil", ErrConfig)
	}
	if opts.Clock == nil {
		return nil, fmt.Errorf("%w: Options.Clock is nil (pass a clock in Unix milliseconds)", ErrConfig)
	}
	if err := opts.Config.Validate(); err != nil {
		return nil, fmt.Errorf("log %s: %w", opts.Dir, err)
	}
	l := &Log{fs: opts.FS, dir: opts.Dir, cfg: opts.Config, clock: opts.Clock,
		log: opts.Logger.With().Str("component", "segment").Str("dir", opts.Dir).Logger()}
	if err := vfs.MkdirAllDurable(l.fs, l.dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: create partition directory %s: %w", ErrIO, l.dir, err)
	}
	if err := l.load(opts); err != nil {
		for _, s := range l.segments {
			_ = s.closeFiles()
		}
		return nil, err
	}
	return l, nil
}

func (l *Log) newSegment(base int64) *segment {
	return &segment{fs: l.fs, dir: l.dir, base: base, next: base, maxTs: kafka.NoTimestamp, maxTsOff: base,
		rollTs: kafka.NoTimestamp, maxIndexEntries: l.cfg.SegmentIndexBytes / timeEntrySize}
}

func (l *Log) load(opts Options) error {
	if err := l.loadEpochs(); err != nil {
		return err
	}
	names, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("%w: list %s: %w", ErrIO, l.dir, err)
	}
	// Leftovers of an interrupted compaction or deletion.
	var bases []int64
	has := map[string]bool{}
	for _, n := range names {
		has[n] = true
	}
	for _, n := range names {
		switch {
		case strings.HasSuffix(n, CleanedSuffix), strings.HasSuffix(n, DeletedSuffix):
			if err := l.fs.Remove(l.join(n)); err != nil {
				return fmt.Errorf("%w: remove leftover %s: %w", ErrIO, l.join(n), err)
			}
			l.log.Info().Str("file", l.join(n)).Msg("removed leftover of an interrupted cleaning or deletion")
			l.dirDirty = true
		case strings.HasSuffix(n, LogSuffix+SwapSuffix):
			base, ok := parseSegmentName(strings.TrimSuffix(n, SwapSuffix), LogSuffix)
			if !ok {
				continue
			}
			stem := l.join(segmentName(base))
			for _, suffix := range []string{IndexSuffix, TimeIndexSuffix} {
				if err := l.fs.Remove(stem + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("%w: remove %s: %w", ErrIO, stem+suffix, err)
				}
			}
			if err := l.fs.Rename(l.join(n), stem+LogSuffix); err != nil {
				return fmt.Errorf("%w: complete swap of %s: %w", ErrIO, l.join(n), err)
			}
			l.log.Info().Str("file", stem+LogSuffix).Msg("completed an interrupted compaction swap")
			has[segmentName(base)+LogSuffix] = true
			l.dirDirty = true
		}
	}
	for n := range has {
		if base, ok := parseSegmentName(n, LogSuffix); ok {
			bases = append(bases, base)
		}
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	// Index files without a log are removed.
	for _, n := range names {
		for _, suffix := range []string{IndexSuffix, TimeIndexSuffix} {
			if base, ok := parseSegmentName(n, suffix); ok && !has[segmentName(base)+LogSuffix] {
				if err := l.fs.Remove(l.join(n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("%w: remove orphan index %s: %w", ErrIO, l.join(n), err)
				}
			}
		}
	}

	// First segment to re-validate: the one holding the recovery point.
	recoverFrom := len(bases)
	if !opts.CleanShutdown {
		recoverFrom = 0
		for i, b := range bases {
			if b <= opts.RecoveryPoint {
				recoverFrom = i
			}
		}
	}
	for i := 0; i < len(bases); i++ {
		s := l.newSegment(bases[i])
		if err := s.openFiles(); err != nil {
			return err
		}
		l.segments = append(l.segments, s)
		relLimit := int64(math.MaxInt32) + 1
		if i+1 < len(bases) {
			relLimit = bases[i+1] - bases[i]
		}
		if i < recoverFrom {
			if err := s.loadIndexes(relLimit); err == nil {
				continue
			} else {
				l.log.Warn().Str("file", s.path(IndexSuffix)).Err(err).Msg("index does not match the log; rebuilding it")
			}
		}
		prevNext := int64(-1)
		if i > 0 {
			prevNext = l.segments[i-1].next
		}
		cut, err := l.recoverSegment(s, prevNext, i >= recoverFrom)
		if err != nil {
			return err
		}
		if cut {
			// Everything after the first bad byte goes, later segments too.
			for _, b := range bases[i+1:] {
				later := l.newSegment(b)
				if err := later.remove(); err != nil {
					return err
				}
				l.log.Warn().Str("file", later.path(LogSuffix)).Int64("offset", b).Msg("deleted segment after a truncated one")
			}
			l.dirDirty = true
			break
		}
	}
	if len(l.segments) == 0 {
		base := max(opts.LogStartOffset, 0)
		s := l.newSegment(base)
		if err := s.openFiles(); err != nil {
			return err
		}
		if err := s.writeIndexFiles(true); err != nil {
			return err
		}
		l.segments = append(l.segments, s)
		l.dirDirty = true
	} else {
		// The active segment's indexes are preallocated again.
		if err := l.active().writeIndexFiles(true); err != nil {
			return err
		}
	}
	l.logStartOffset = max(opts.LogStartOffset, l.segments[0].base)
	if l.logStartOffset > l.logEndOffset() {
		l.logStartOffset = l.logEndOffset()
	}
	l.recoveryPoint = min(opts.RecoveryPoint, l.logEndOffset())
	if !opts.CleanShutdown {
		l.recoveryPoint = l.logEndOffset()
	}
	l.highWatermark = l.logStartOffset
	l.truncateEpochsFromEnd(l.logEndOffset())
	l.truncateEpochsFromStart(l.logStartOffset)
	if err := l.saveEpochs(); err != nil {
		return err
	}
	// A recovered log is made durable before anything is served from it.
	return l.flushLocked()
}

func (l *Log) join(name string) string { return l.dir + "/" + name }

// recoverSegment scans every batch of s, rebuilding its indexes. With
// validate, each batch's CRC and offsets are checked and the log is cut at
// the first bad byte (cut=true). Without, a failure is an error.
func (l *Log) recoverSegment(s *segment, prevNext int64, validate bool) (cut bool, err error) {
	s.offsets, s.times, s.tail = nil, nil, nil
	s.maxTs, s.maxTsOff, s.rollTs, s.bytesSinceIndex = kafka.NoTimestamp, s.base, kafka.NoTimestamp, 0
	s.next = s.base
	var pos int64
	var reason error
	buf := make([]byte, 0, 64<<10)
	for pos < s.size {
		h, herr := s.readHeader(pos)
		if herr != nil {
			reason = herr
			break
		}
		if h.Size() > int64(cap(buf)) {
			buf = make([]byte, 0, h.Size())
		}
		b := buf[:h.Size()]
		if _, rerr := s.log.ReadAt(b, pos); rerr != nil {
			if !errors.Is(rerr, io.EOF) {
				return false, fmt.Errorf("%w: read %s at %d: %w", ErrIO, s.path(LogSuffix), pos, rerr)
			}
			reason = rerr
			break
		}
		if _, _, cerr := kafka.CheckBatch(b); cerr != nil {
			reason = cerr
			break
		}
		if h.BaseOffset < s.next || h.BaseOffset < prevNext || h.LastOffset()-s.base > math.MaxInt32 {
			reason = fmt.Errorf("%w: batch offsets %d-%d after offset %d in a segment based at %d", ErrOffsetsOutOfOrder, h.BaseOffset, h.LastOffset(), max(s.next, prevNext)-1, s.base)
			break
		}
		if err := s.addIndexEntries(h, pos, int64(l.cfg.IndexIntervalBytes)); err != nil {
			return false, err
		}
		l.assignEpoch(h.PartitionLeaderEpoch, h.BaseOffset)
		s.next = h.NextOffset()
		pos += h.Size()
	}
	if reason == nil {
		return false, s.writeIndexFiles(false)
	}
	if !validate {
		return false, fmt.Errorf("%w: %s at position %d: %w (the file changed below the recovery point; restore it or remove the recovery-point-offset-checkpoint to re-validate and truncate)", ErrCorrupt, s.path(LogSuffix), pos, reason)
	}
	l.log.Warn().Str("file", s.path(LogSuffix)).Int64("position", pos).Int64("offset", s.next).
		Int64("bytes", s.size-pos).Err(reason).Msg("truncating log at the first invalid batch")
	if err := s.log.Truncate(pos); err != nil {
		return false, fmt.Errorf("%w: truncate %s to %d: %w", ErrIO, s.path(LogSuffix), pos, err)
	}
	s.size = pos
	s.dirty = true
	return true, s.writeIndexFiles(false)
}

func (l *Log) active() *segment { return l.segments[len(l.segments)-1] }

func (l *Log) logEndOffset() int64 { return l.active().next }

// AppendOptions say how a batch set is appended.
type AppendOptions struct {
	// AssignOffsets: the leader path. Offsets are assigned from the log end
	// offset, LeaderEpoch is written to every batch, LogAppendTime is set
	// when the topic uses it, and every record is validated. Without it
	// (the follower path) batches keep their offsets, which must start at
	// or after the log end offset.
	AssignOffsets bool
	LeaderEpoch   int32
}

// AppendResult describes an append.
type AppendResult struct {
	FirstOffset   int64 // base offset of the first batch
	LastOffset    int64 // last offset of the last batch
	LogAppendTime int64 // the time written, or -1 for CreateTime
	Batches       int
	Bytes         int
	// Rolled: this append started a new segment at FirstOffset (the
	// broker snapshots producer state there, as Kafka does on roll).
	Rolled bool
}

// Append validates and appends one or more concatenated record batches
// (v2). Header fields are rewritten in place in records. The data is in the
// OS page cache (or MemFS) when Append returns; Flush makes it durable.
func (l *Log) Append(records []byte, opts AppendOptions) (AppendResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	res := AppendResult{LogAppendTime: kafka.NoTimestamp}
	if l.closed {
		return res, ErrClosed
	}
	if len(records) == 0 {
		return res, fmt.Errorf("%w: no batches", ErrInvalidBatch)
	}
	now := l.clock()
	next := l.logEndOffset()
	var headers []kafka.BatchHeader
	var positions []int
	for pos := 0; pos < len(records); {
		h, n, err := kafka.CheckBatch(records[pos:])
		if err != nil {
			return res, fmt.Errorf("%w: batch %d at byte %d: %w", ErrInvalidBatch, len(headers), pos, err)
		}
		// Like Kafka's appendAsFollower, replicated batches skip max.message.bytes.
		if opts.AssignOffsets && l.cfg.MaxMessageBytes > 0 && n > l.cfg.MaxMessageBytes {
			return res, fmt.Errorf("%w: batch of %d bytes, max.message.bytes is %d", ErrRecordTooLarge, n, l.cfg.MaxMessageBytes)
		}
		if int64(n) > l.cfg.SegmentBytes {
			return res, fmt.Errorf("%w: batch of %d bytes, segment.bytes is %d", ErrRecordTooLarge, n, l.cfg.SegmentBytes)
		}
		b := records[pos : pos+n]
		if opts.AssignOffsets {
			// Every record checked, none kept (CheckBatch did the CRC).
			if err := kafka.ValidateRecords(h, b, max(l.cfg.MaxMessageBytes, 1<<20)*64); err != nil {
				return res, fmt.Errorf("%w: batch %d: %w", ErrInvalidBatch, len(headers), err)
			}
			kafka.SetBaseOffset(b, next)
			kafka.SetPartitionLeaderEpoch(b, opts.LeaderEpoch)
			if l.cfg.LogAppendTime {
				kafka.SetLogAppendTime(b, now)
				res.LogAppendTime = now
			}
			h, _, _ = kafka.CheckBatch(b)
		} else if h.BaseOffset < next {
			return res, fmt.Errorf("%w: batch at offset %d, the log end offset is %d", ErrOffsetsOutOfOrder, h.BaseOffset, next)
		}
		next = h.NextOffset()
		headers = append(headers, h)
		positions = append(positions, pos)
		pos += n
	}
	res.FirstOffset, res.LastOffset = headers[0].BaseOffset, headers[len(headers)-1].LastOffset()
	res.Batches, res.Bytes = len(headers), len(records)

	prevSegments := len(l.segments)
	if err := l.maybeRoll(int64(len(records)), res.FirstOffset, res.LastOffset, headers[0].MaxTimestamp, now); err != nil {
		return res, err
	}
	for _, h := range headers {
		l.assignEpoch(h.PartitionLeaderEpoch, h.BaseOffset)
	}
	if err := l.saveEpochs(); err != nil {
		return res, err
	}
	s := l.active()
	start := s.size
	if _, err := s.log.Write(records); err != nil {
		// Cut what a short write left so the log stays a list of whole batches.
		if terr := s.log.Truncate(start); terr != nil {
			l.failLocked()
			return res, fmt.Errorf("%w: append to %s failed (%v) and the partial write could not be cut: %w; the log is closed, reopen it to recover", ErrIO, s.path(LogSuffix), err, terr)
		}
		return res, fmt.Errorf("%w: append to %s: %w", ErrIO, s.path(LogSuffix), err)
	}
	s.dirty = true
	for i, h := range headers {
		s.size = start + int64(positions[i])
		if err := s.addIndexEntries(h, s.size, int64(l.cfg.IndexIntervalBytes)); err != nil {
			s.size = start + int64(len(records))
			s.next = res.LastOffset + 1
			s.tail = nil // the batches after h are not in it
			return res, err
		}
	}
	s.size = start + int64(len(records))
	s.next = res.LastOffset + 1
	res.Rolled = len(l.segments) > prevSegments
	return res, nil
}

// maybeRoll starts a new active segment if the append would overflow the
// active one (segment.bytes), it is older than segment.ms, an index is
// full, or the offsets would not fit its 32-bit relative offsets.
func (l *Log) maybeRoll(size, firstOffset, lastOffset, firstMaxTs, now int64) error {
	s := l.active()
	if s.size == 0 {
		if s.base != firstOffset && l.logEndOffset() == s.base {
			// An empty active segment is re-based to where the data starts.
			return l.rollLocked(firstOffset)
		}
		return nil
	}
	rollTs := s.rollTs
	reason := ""
	switch {
	case s.size+size > l.cfg.SegmentBytes:
		reason = "segment.bytes"
	case rollTs != kafka.NoTimestamp && now-rollTs >= l.cfg.SegmentMs:
		reason = "segment.ms"
	case s.indexFull():
		reason = "segment.index.bytes"
	case lastOffset-s.base > math.MaxInt32:
		reason = "relative offset overflow"
	}
	if reason == "" {
		return nil
	}
	l.log.Debug().Str("reason", reason).Int64("base", firstOffset).Msg("rolling segment")
	return l.rollLocked(firstOffset)
}

// Roll starts a new active segment at the log end offset.
func (l *Log) Roll() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if l.active().size == 0 {
		return nil
	}
	return l.rollLocked(l.logEndOffset())
}

func (l *Log) rollLocked(base int64) error {
	old := l.active()
	if old.size == 0 {
		// Replace an empty active segment instead of keeping it.
		if err := old.remove(); err != nil {
			return err
		}
		l.segments = l.segments[:len(l.segments)-1]
	} else if err := old.seal(); err != nil {
		return err
	}
	s := l.newSegment(base)
	s.rollTs = kafka.NoTimestamp
	if err := s.openFiles(); err != nil {
		return err
	}
	if s.size != 0 {
		_ = s.closeFiles()
		return fmt.Errorf("%w: new segment %s already holds %d bytes", ErrCorrupt, s.path(LogSuffix), s.size)
	}
	if err := s.writeIndexFiles(true); err != nil {
		_ = s.closeFiles()
		return err
	}
	l.segments = append(l.segments, s)
	l.dirDirty = true
	return nil
}

// Flush makes every appended batch durable: the segments' files are
// fsynced, then the directory if segments were created or removed. The
// recovery point becomes the log end offset.
func (l *Log) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	return l.flushLocked()
}

func (l *Log) flushLocked() error {
	for _, s := range l.segments {
		if err := s.sync(); err != nil {
			return err
		}
	}
	if l.dirDirty {
		if err := l.fs.SyncDir(l.dir); err != nil {
			return fmt.Errorf("%w: fsync directory %s: %w", ErrIO, l.dir, err)
		}
		l.dirDirty = false
	}
	l.recoveryPoint = l.logEndOffset()
	return nil
}

// Close flushes, cuts the active segment's index files to their entries and
// closes every file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closeLocked()
}

func (l *Log) closeLocked() error {
	if l.closed {
		return nil
	}
	err := l.active().seal()
	if err == nil {
		err = l.flushLocked()
	}
	for _, s := range l.segments {
		if cerr := s.closeFiles(); cerr != nil && err == nil {
			err = cerr
		}
	}
	l.closed = true
	return err
}

// LogEndOffset is the offset the next appended record gets.
func (l *Log) LogEndOffset() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logEndOffset()
}

// LogStartOffset is the first offset that may be read.
func (l *Log) LogStartOffset() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logStartOffset
}

// RecoveryPoint is the offset up to which the log is known flushed.
func (l *Log) RecoveryPoint() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.recoveryPoint
}

// HighWatermark is the last offset known replicated to the ISR (+1). The
// replica layer sets it; it stays within [LogStartOffset, LogEndOffset].
func (l *Log) HighWatermark() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.highWatermark
}

// SetHighWatermark sets the high watermark, clamped to [LogStartOffset,
// LogEndOffset], and returns the value kept.
func (l *Log) SetHighWatermark(hw int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.highWatermark = min(max(hw, l.logStartOffset), l.logEndOffset())
	return l.highWatermark
}

// Size is the total bytes of all segments.
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, s := range l.segments {
		n += s.size
	}
	return n
}

// SegmentBases lists the segments' base offsets, oldest first.
func (l *Log) SegmentBases() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]int64, len(l.segments))
	for i, s := range l.segments {
		out[i] = s.base
	}
	return out
}

// failLocked closes the log after an error that left memory and files out
// of step; reopening recovers from the files.
func (l *Log) failLocked() {
	for _, s := range l.segments {
		_ = s.closeFiles()
	}
	l.closed = true
}

// Config returns the settings in force.
func (l *Log) Config() Config {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cfg
}

// SetConfig changes the settings of an open log, as Kafka applies a topic
// config change: the next append, roll, retention pass and compaction use
// them; segments already written keep their index sizes. It reports
// whether anything changed.
func (l *Log) SetConfig(c Config) (bool, error) {
	if err := c.Validate(); err != nil {
		return false, fmt.Errorf("log %s: %w", l.dir, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cfg == c {
		return false, nil
	}
	l.cfg = c
	return true, nil
}
