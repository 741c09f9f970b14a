package segment

import (
	"fmt"
)

// Truncate removes every batch holding an offset >= to (a follower
// truncating to the leader's log). A batch holding to is removed whole, so
// the log end offset becomes the first removed batch's base offset; it is
// returned. The high watermark and recovery point follow it down.
func (l *Log) Truncate(to int64) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	if to >= l.logEndOffset() {
		return l.logEndOffset(), nil
	}
	if to <= l.logStartOffset {
		return l.truncateFullyLocked(max(to, 0))
	}
	// Drop whole segments at or after to, keeping the first.
	for len(l.segments) > 1 && l.active().base >= to {
		s := l.active()
		if err := s.remove(); err != nil {
			return 0, err
		}
		l.segments = l.segments[:len(l.segments)-1]
		l.dirDirty = true
	}
	s := l.active()
	pos, _, found, err := s.positionFor(to)
	if err != nil {
		return 0, err
	}
	if found {
		if err := s.log.Truncate(pos); err != nil {
			return 0, fmt.Errorf("%w: truncate %s to %d: %w", ErrIO, s.path(LogSuffix), pos, err)
		}
		s.size = pos
		s.dirty = true
		if _, err := l.recoverSegment(s, -1, false); err != nil {
			return 0, err
		}
		if err := s.writeIndexFiles(true); err != nil {
			return 0, err
		}
	}
	if err := l.afterShrink(); err != nil {
		return 0, err
	}
	l.log.Info().Int64("to", to).Int64("log_end_offset", l.logEndOffset()).Msg("truncated log")
	return l.logEndOffset(), nil
}

// TruncateFullyAndStartAt deletes every segment and starts an empty log at
// offset (a follower whose leader's log starts past its end).
func (l *Log) TruncateFullyAndStartAt(offset int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	_, err := l.truncateFullyLocked(offset)
	return err
}

func (l *Log) truncateFullyLocked(offset int64) (int64, error) {
	for len(l.segments) > 0 {
		if err := l.segments[0].remove(); err != nil {
			return 0, err
		}
		l.segments = l.segments[1:]
	}
	l.dirDirty = true
	s := l.newSegment(offset)
	if err := s.openFiles(); err != nil {
		return 0, err
	}
	l.segments = []*segment{s}
	if err := s.writeIndexFiles(true); err != nil {
		return 0, err
	}
	l.logStartOffset = offset
	l.epochs, l.epochsDirty = nil, true
	if err := l.afterShrink(); err != nil {
		return 0, err
	}
	return offset, nil
}

func (l *Log) afterShrink() error {
	l.truncations++
	leo := l.logEndOffset()
	l.highWatermark = min(max(l.highWatermark, l.logStartOffset), leo)
	l.recoveryPoint = min(l.recoveryPoint, leo)
	l.logStartOffset = min(l.logStartOffset, leo)
	l.truncateEpochsFromEnd(leo)
	if err := l.deleteProducerSnapshotsAbove(leo); err != nil {
		return err
	}
	return l.saveEpochs()
}

// DeleteRecordsBefore is the DeleteRecords API: it advances the log start
// offset to offset (-1 means the high watermark), which must not pass the
// high watermark, and deletes the segments wholly below it. It returns the
// new log start offset.
func (l *Log) DeleteRecordsBefore(offset int64) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	if offset == -1 {
		offset = l.highWatermark
	}
	if offset < 0 || offset > l.highWatermark {
		return l.logStartOffset, fmt.Errorf("%w: delete records before %d, the high watermark is %d", ErrOffsetOutOfRange, offset, l.highWatermark)
	}
	if offset > l.logStartOffset {
		l.logStartOffset = offset
		l.log.Info().Int64("log_start_offset", offset).Msg("log start offset advanced by DeleteRecords")
	}
	_, err := l.deleteSegmentsLocked(func(s, next *segment) bool {
		return next != nil && next.base <= l.logStartOffset
	}, "log start offset")
	if err != nil {
		return l.logStartOffset, err
	}
	l.truncateEpochsFromStart(l.logStartOffset)
	return l.logStartOffset, l.saveEpochs()
}

// DeleteOldSegments applies retention at time now (Unix ms): for
// cleanup.policy delete, segments whose largest timestamp is older than
// retention.ms, then the oldest segments while the log is larger than
// retention.bytes; for every policy, segments wholly below the log start
// offset. A segment is only deleted once the high watermark has passed its
// end. If every segment goes, a new empty one is rolled first. It returns
// how many segments were deleted.
func (l *Log) DeleteOldSegments(now int64) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	total := 0
	if l.cfg.hasPolicy("delete") {
		if l.cfg.RetentionMs >= 0 {
			n, err := l.deleteSegmentsLocked(func(s, _ *segment) bool {
				return s.maxTs != -1 && now-s.maxTs > l.cfg.RetentionMs
			}, "retention.ms")
			total += n
			if err != nil {
				return total, err
			}
		}
		if l.cfg.RetentionBytes >= 0 {
			var size int64
			for _, s := range l.segments {
				size += s.size
			}
			excess := size - l.cfg.RetentionBytes
			n, err := l.deleteSegmentsLocked(func(s, _ *segment) bool {
				if excess-s.size >= 0 {
					excess -= s.size
					return true
				}
				return false
			}, "retention.bytes")
			total += n
			if err != nil {
				return total, err
			}
		}
	}
	n, err := l.deleteSegmentsLocked(func(s, next *segment) bool {
		return next != nil && next.base <= l.logStartOffset
	}, "log start offset")
	return total + n, err
}

// deleteSegmentsLocked deletes the longest prefix of segments that match
// and lie below the high watermark, as Kafka's deletableSegments.
func (l *Log) deleteSegmentsLocked(match func(s, next *segment) bool, reason string) (int, error) {
	count := 0
	for i, s := range l.segments {
		var next *segment
		upper := l.logEndOffset()
		if i+1 < len(l.segments) {
			next = l.segments[i+1]
			upper = next.base
		}
		if next == nil && s.size == 0 {
			break
		}
		if l.highWatermark < upper || !match(s, next) {
			break
		}
		count++
	}
	if count == 0 {
		return 0, nil
	}
	if count == len(l.segments) {
		if err := l.rollLocked(l.logEndOffset()); err != nil {
			return 0, err
		}
	}
	for i := 0; i < count; i++ {
		s := l.segments[0]
		if err := s.remove(); err != nil {
			return i, err
		}
		l.segments = l.segments[1:]
		l.dirDirty = true
		l.log.Info().Str("file", s.path(LogSuffix)).Int64("base_offset", s.base).Int64("bytes", s.size).
			Str("reason", reason).Msg("deleted segment")
	}
	l.logStartOffset = max(l.logStartOffset, l.segments[0].base)
	l.truncateEpochsFromStart(l.logStartOffset)
	return count, l.saveEpochs()
}
