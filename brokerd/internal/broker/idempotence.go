package broker

import (
	"math"
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"

	"mqstack/proto/kafka"
	"mqstack/storage/checkpoint"
	"mqstack/storage/segment"
)

// Idempotent produce: per partition and producer id, the producer epoch
// and the last five batches' sequence ranges and offsets (Kafka's
// ProducerStateManager). A retried batch is answered with its original
// offset and not appended again; a gap is OUT_OF_ORDER_SEQUENCE_NUMBER, an
// older epoch INVALID_PRODUCER_EPOCH, a producer the partition does not
// know sending a sequence above 0 UNKNOWN_PRODUCER_ID (the client then
// resets). The state survives restarts as in Kafka: a producer snapshot
// (<offset>.snapshot, storage/segment) is written when a segment rolls and
// at a clean shutdown, and at startup the newest snapshot is loaded and
// the batches after it replayed (the whole log when there is none), so a
// producer's retry after a broker restart is still recognised.

const producerBatchesKept = 5

type batchMeta struct {
	firstSeq, lastSeq int32
	baseOffset        int64
	maxTimestamp      int64
}

type producerEntry struct {
	epoch   int16
	batches []batchMeta
}

type producerStates struct {
	mu sync.Mutex // held across check, append and record
	m  map[checkpoint.TopicPartition]map[int64]*producerEntry
}

// check decides what to do with an idempotent batch: dup >= 0 is the base
// offset of the duplicate it repeats; code != 0 an error.
func (s *producerStates) check(tp checkpoint.TopicPartition, h kafka.BatchHeader) (dup int64, code int16) {
	e := s.m[tp][h.ProducerID]
	lastSeq := h.BaseSequence + h.LastOffsetDelta
	switch {
	case e == nil:
		if h.BaseSequence != 0 {
			return -1, kerr.UnknownProducerID.Code
		}
		return -1, 0
	case h.ProducerEpoch < e.epoch:
		return -1, kerr.InvalidProducerEpoch.Code
	case h.ProducerEpoch > e.epoch:
		if h.BaseSequence != 0 {
			return -1, kerr.OutOfOrderSequenceNumber.Code
		}
		return -1, 0
	}
	for _, b := range e.batches {
		if b.firstSeq == h.BaseSequence && b.lastSeq == lastSeq {
			return b.baseOffset, 0
		}
	}
	last := e.batches[len(e.batches)-1].lastSeq
	want := last + 1
	if last == math.MaxInt32 {
		want = 0
	}
	if h.BaseSequence != want {
		return -1, kerr.OutOfOrderSequenceNumber.Code
	}
	return -1, 0
}

// record remembers an appended idempotent batch.
func (s *producerStates) record(tp checkpoint.TopicPartition, h kafka.BatchHeader, baseOffset int64) {
	if s.m == nil {
		s.m = map[checkpoint.TopicPartition]map[int64]*producerEntry{}
	}
	if s.m[tp] == nil {
		s.m[tp] = map[int64]*producerEntry{}
	}
	e := s.m[tp][h.ProducerID]
	if e == nil || h.ProducerEpoch != e.epoch {
		e = &producerEntry{epoch: h.ProducerEpoch}
		s.m[tp][h.ProducerID] = e
	}
	e.batches = append(e.batches, batchMeta{firstSeq: h.BaseSequence, lastSeq: h.BaseSequence + h.LastOffsetDelta, baseOffset: baseOffset,
		maxTimestamp: h.MaxTimestamp})
	if len(e.batches) > producerBatchesKept {
		e.batches = e.batches[len(e.batches)-producerBatchesKept:]
	}
}

// forget drops a partition's producer state (its log was deleted).
func (s *producerStates) forget(tp checkpoint.TopicPartition) {
	s.mu.Lock()
	delete(s.m, tp)
	s.mu.Unlock()
}

// snapshot is a partition's producer state as snapshot entries: each
// producer's epoch and last batch, as Kafka's snapshot keeps it. Callers
// hold s.mu.
func (s *producerStates) snapshot(tp checkpoint.TopicPartition) []segment.ProducerSnapshotEntry {
	ids := make([]int64, 0, len(s.m[tp]))
	for id := range s.m[tp] {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]segment.ProducerSnapshotEntry, 0, len(ids))
	for _, id := range ids {
		e := s.m[tp][id]
		last := e.batches[len(e.batches)-1]
		delta := last.lastSeq - last.firstSeq
		out = append(out, segment.ProducerSnapshotEntry{ProducerID: id, Epoch: e.epoch, LastSequence: last.lastSeq,
			LastOffset: last.baseOffset + int64(delta), OffsetDelta: delta, Timestamp: last.maxTimestamp,
			CoordinatorEpoch: -1, CurrentTxnFirstOffset: -1})
	}
	return out
}

// restore replaces a partition's producer state with a snapshot's.
// Callers hold s.mu.
func (s *producerStates) restore(tp checkpoint.TopicPartition, entries []segment.ProducerSnapshotEntry) {
	if s.m == nil {
		s.m = map[checkpoint.TopicPartition]map[int64]*producerEntry{}
	}
	m := make(map[int64]*producerEntry, len(entries))
	for _, e := range entries {
		m[e.ProducerID] = &producerEntry{epoch: e.Epoch, batches: []batchMeta{{firstSeq: e.LastSequence - e.OffsetDelta,
			lastSeq: e.LastSequence, baseOffset: e.LastOffset - int64(e.OffsetDelta), maxTimestamp: e.Timestamp}}}
	}
	s.m[tp] = m
}

// snapshotProducers writes the partition's producer state as
// <offset>.snapshot; callers hold b.producers.mu. A failed write is
// logged: a restart then replays more of the log.
func (b *Broker) snapshotProducers(tp checkpoint.TopicPartition, l *segment.Log, offset int64) {
	if err := l.WriteProducerSnapshot(offset, b.producers.snapshot(tp)); err != nil {
		b.log.Warn().Err(err).Str("partition", tp.String()).Int64("offset", offset).Msg("writing a producer snapshot failed")
	}
}

// snapshotOnRoll writes a producer snapshot at the base of the segment an
// append just rolled to (Kafka's ProducerStateManager.takeSnapshot on
// roll); held says whether the caller holds b.producers.mu.
func (b *Broker) snapshotOnRoll(tp checkpoint.TopicPartition, l *segment.Log, base int64, held bool) {
	if !held {
		b.producers.mu.Lock()
		defer b.producers.mu.Unlock()
	}
	if len(b.producers.m[tp]) > 0 {
		b.snapshotProducers(tp, l, base)
	}
}

// snapshotAllProducers writes a snapshot at the log end offset of every
// partition with producer state (clean shutdown).
func (b *Broker) snapshotAllProducers() {
	b.producers.mu.Lock()
	defer b.producers.mu.Unlock()
	for tp, m := range b.producers.m {
		if len(m) == 0 {
			continue
		}
		if l, ok := b.dir.Log(tp); ok {
			b.snapshotProducers(tp, l, l.LogEndOffset())
		}
	}
}

// loadProducerState rebuilds a partition's producer state at startup: the
// newest snapshot, then the batches from its offset to the log end.
func (b *Broker) loadProducerState(tp checkpoint.TopicPartition, l *segment.Log) {
	from, entries, ok, err := l.LatestProducerSnapshot()
	if err != nil {
		b.log.Warn().Err(err).Str("partition", tp.String()).Msg("reading producer snapshots failed; replaying the whole log")
		ok = false
	}
	if !ok {
		from, entries = l.LogStartOffset(), nil
	}
	b.producers.mu.Lock()
	b.producers.restore(tp, entries)
	b.producers.mu.Unlock()
	replayed := 0
	for off := max(from, l.LogStartOffset()); off < l.LogEndOffset(); {
		data, res, err := l.ReadBytes(off, 1<<20, math.MaxInt64)
		if err != nil || len(data) == 0 {
			break
		}
		b.recordProducerBatches(tp, data)
		replayed += len(data)
		off = res.NextOffset
	}
	b.producers.mu.Lock()
	n := len(b.producers.m[tp])
	if n == 0 {
		delete(b.producers.m, tp)
	}
	b.producers.mu.Unlock()
	if n > 0 || ok {
		b.log.Info().Str("partition", tp.String()).Bool("snapshot", ok).Int64("snapshot_offset", from).Int("replayed_bytes", replayed).
			Int("producers", n).Msg("loaded producer state")
	}
}
