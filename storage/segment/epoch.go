package segment

import (
	"fmt"
	"path/filepath"

	"mqstack/storage/checkpoint"
)

// The leader epoch cache (Kafka's LeaderEpochFileCache): for each leader
// epoch, the first offset written in it. It is kept in
// <partition dir>/leader-epoch-checkpoint, rewritten atomically whenever it
// changes, and rebuilt from the batches' partitionLeaderEpoch during
// recovery. Followers use it (OffsetsForLeaderEpoch) to find where to
// truncate.

func (l *Log) epochPath() string { return filepath.Join(l.dir, checkpoint.LeaderEpochFile) }

func (l *Log) loadEpochs() error {
	entries, err := checkpoint.ReadLeaderEpochs(l.fs, l.epochPath())
	if err != nil {
		return fmt.Errorf("%w (delete the file to rebuild it from the log)", err)
	}
	l.epochs = entries
	return nil
}

// assignEpoch records that epoch starts at offset, if epoch is newer than
// the latest known.
func (l *Log) assignEpoch(epoch int32, offset int64) {
	if epoch < 0 {
		return
	}
	if n := len(l.epochs); n > 0 {
		last := l.epochs[n-1]
		if epoch <= last.Epoch {
			return
		}
		if offset < last.StartOffset {
			// A new epoch cannot start before the previous one: drop the
			// entries it overrides, as Kafka does.
			for len(l.epochs) > 0 && l.epochs[len(l.epochs)-1].StartOffset >= offset {
				l.epochs = l.epochs[:len(l.epochs)-1]
			}
		}
	}
	l.epochs = append(l.epochs, checkpoint.EpochEntry{Epoch: epoch, StartOffset: offset})
	l.epochsDirty = true
}

// truncateEpochsFromEnd drops entries starting at or after end.
func (l *Log) truncateEpochsFromEnd(end int64) {
	n := len(l.epochs)
	for n > 0 && l.epochs[n-1].StartOffset >= end {
		n--
	}
	if n != len(l.epochs) {
		l.epochs = l.epochs[:n]
		l.epochsDirty = true
	}
}

// truncateEpochsFromStart moves entries below start: the last of them now
// starts at start, the others go.
func (l *Log) truncateEpochsFromStart(start int64) {
	i := 0
	for i < len(l.epochs) && l.epochs[i].StartOffset < start {
		i++
	}
	if i == 0 {
		return
	}
	if i < len(l.epochs) && l.epochs[i].StartOffset == start {
		l.epochs = l.epochs[i:]
	} else {
		l.epochs = append([]checkpoint.EpochEntry{{Epoch: l.epochs[i-1].Epoch, StartOffset: start}}, l.epochs[i:]...)
	}
	l.epochsDirty = true
}

func (l *Log) saveEpochs() error {
	if !l.epochsDirty {
		return nil
	}
	if err := checkpoint.WriteLeaderEpochs(l.fs, l.epochPath(), l.epochs); err != nil {
		return fmt.Errorf("%w: %w", ErrIO, err)
	}
	l.epochsDirty = false
	return nil
}

// LeaderEpochs returns a copy of the leader epoch cache.
func (l *Log) LeaderEpochs() []checkpoint.EpochEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]checkpoint.EpochEntry(nil), l.epochs...)
}

// EndOffsetForEpoch answers OffsetsForLeaderEpoch: for the largest known
// epoch <= epoch, that epoch and its end offset (the start of the next
// epoch, or the log end offset for the latest). ok=false (Kafka's
// UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET) when epoch is older than every
// known epoch.
func (l *Log) EndOffsetForEpoch(epoch int32) (foundEpoch int32, endOffset int64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.epochs) - 1; i >= 0; i-- {
		if l.epochs[i].Epoch <= epoch {
			if i == len(l.epochs)-1 {
				return l.epochs[i].Epoch, l.logEndOffset(), true
			}
			return l.epochs[i].Epoch, l.epochs[i+1].StartOffset, true
		}
	}
	return -1, -1, false
}
