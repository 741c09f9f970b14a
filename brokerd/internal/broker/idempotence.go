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

// producerStates holds each partition's producer state behind the
// partition's own lock, so idempotent appends to different partitions run
// in parallel (as the appends themselves do).
type producerStates struct {
	mu    sync.Mutex // guards parts only; taken after a pp.mu, never before
	parts map[checkpoint.TopicPartition]*partProducers
}

// partProducers is one partition's producer state.
type partProducers struct {
	mu sync.Mutex // held across check, append and record of an idempotent batch
	m  map[int64]*producerEntry
}

// part returns tp's state, created if it has none.
func (s *producerStates) part(tp checkpoint.TopicPartition) *partProducers {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.parts == nil {
		s.parts = map[checkpoint.TopicPartition]*partProducers{}
	}
	pp := s.parts[tp]
	if pp == nil {
		pp = &partProducers{m: map[int64]*producerEntry{}}
		s.parts[tp] = pp
	}
	return pp
}

// get returns tp's state, nil if it has none.
func (s *producerStates) get(tp checkpoint.TopicPartition) *partProducers {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parts[tp]
}

// all returns every partition's state.
func (s *producerStates) all() map[checkpoint.TopicPartition]*partProducers {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[checkpoint.TopicPartition]*partProducers, len(s.parts))
	for tp, pp := range s.parts {
		out[tp] = pp
	}
	return out
}

// check decides what to do with an idempotent batch: dup >= 0 is the base
// offset of the duplicate it repeats; code != 0 an error. Callers hold
// pp.mu.
func (pp *partProducers) check(h kafka.BatchHeader) (dup int64, code int16) {
	e := pp.m[h.ProducerID]
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

// record remembers an appended idempotent batch. Callers hold pp.mu.
func (pp *partProducers) record(h kafka.BatchHeader, baseOffset int64) {
	e := pp.m[h.ProducerID]
	if e == nil || h.ProducerEpoch != e.epoch {
		e = &producerEntry{epoch: h.ProducerEpoch}
		pp.m[h.ProducerID] = e
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
	delete(s.parts, tp)
	s.mu.Unlock()
}

// forgetIfEmpty drops tp's state if it has no producers and returns how
// many it has. Lock order: a partition's pp.mu before s.mu, never the
// reverse.
func (s *producerStates) forgetIfEmpty(tp checkpoint.TopicPartition, pp *partProducers) int {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	n := len(pp.m)
	if n == 0 {
		s.mu.Lock()
		if s.parts[tp] == pp {
			delete(s.parts, tp)
		}
		s.mu.Unlock()
	}
	return n
}

// snapshot is a partition's producer state as snapshot entries: each
// producer's epoch and last batch, as Kafka's snapshot keeps it. Callers
// hold pp.mu.
func (pp *partProducers) snapshot() []segment.ProducerSnapshotEntry {
	ids := make([]int64, 0, len(pp.m))
	for id := range pp.m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]segment.ProducerSnapshotEntry, 0, len(ids))
	for _, id := range ids {
		e := pp.m[id]
		last := e.batches[len(e.batches)-1]
		delta := last.lastSeq - last.firstSeq
		out = append(out, segment.ProducerSnapshotEntry{ProducerID: id, Epoch: e.epoch, LastSequence: last.lastSeq,
			LastOffset: last.baseOffset + int64(delta), OffsetDelta: delta, Timestamp: last.maxTimestamp,
			CoordinatorEpoch: -1, CurrentTxnFirstOffset: -1})
	}
	return out
}

// restore replaces a partition's producer state with a snapshot's.
// Callers hold pp.mu.
func (pp *partProducers) restore(entries []segment.ProducerSnapshotEntry) {
	m := make(map[int64]*producerEntry, len(entries))
	for _, e := range entries {
		m[e.ProducerID] = &producerEntry{epoch: e.Epoch, batches: []batchMeta{{firstSeq: e.LastSequence - e.OffsetDelta,
			lastSeq: e.LastSequence, baseOffset: e.LastOffset - int64(e.OffsetDelta), maxTimestamp: e.Timestamp}}}
	}
	pp.m = m
}

// snapshotProducers writes the partition's producer state as
// <offset>.snapshot; callers hold pp.mu. A failed write is logged: a
// restart then replays more of the log.
func (b *Broker) snapshotProducers(tp checkpoint.TopicPartition, pp *partProducers, l *segment.Log, offset int64) {
	if err := l.WriteProducerSnapshot(offset, pp.snapshot()); err != nil {
		b.log.Warn().Err(err).Str("partition", tp.String()).Int64("offset", offset).Msg("writing a producer snapshot failed")
	}
}

// snapshotOnRoll writes a producer snapshot at the base of the segment an
// append just rolled to (Kafka's ProducerStateManager.takeSnapshot on
// roll); held says whether the caller holds the partition's pp.mu.
func (b *Broker) snapshotOnRoll(tp checkpoint.TopicPartition, l *segment.Log, base int64, held bool) {
	pp := b.producers.get(tp)
	if pp == nil {
		return
	}
	if !held {
		pp.mu.Lock()
		defer pp.mu.Unlock()
	}
	if len(pp.m) > 0 {
		b.snapshotProducers(tp, pp, l, base)
	}
}

// snapshotAllProducers writes a snapshot at the log end offset of every
// partition with producer state (clean shutdown).
func (b *Broker) snapshotAllProducers() {
	for tp, pp := range b.producers.all() {
		pp.mu.Lock()
		if len(pp.m) > 0 {
			if l, ok := b.dir.Log(tp); ok {
				b.snapshotProducers(tp, pp, l, l.LogEndOffset())
			}
		}
		pp.mu.Unlock()
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
	pp := b.producers.part(tp)
	pp.mu.Lock()
	pp.restore(entries)
	pp.mu.Unlock()
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
	n := b.producers.forgetIfEmpty(tp, pp)
	if n > 0 || ok {
		b.log.Info().Str("partition", tp.String()).Bool("snapshot", ok).Int64("snapshot_offset", from).Int("replayed_bytes", replayed).
			Int("producers", n).Msg("loaded producer state")
	}
}
