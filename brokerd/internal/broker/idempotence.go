package broker

import (
	"math"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"

	"mqstack/proto/kafka"
	"mqstack/storage/checkpoint"
)

// Idempotent produce: per partition and producer id, the producer epoch
// and the last five batches' sequence ranges and offsets (Kafka's
// ProducerStateManager). A retried batch is answered with its original
// offset and not appended again; a gap is OUT_OF_ORDER_SEQUENCE_NUMBER, an
// older epoch INVALID_PRODUCER_EPOCH, a producer the partition does not
// know sending a sequence above 0 UNKNOWN_PRODUCER_ID (the client then
// resets). The state is kept in memory: after a restart a producer gets
// UNKNOWN_PRODUCER_ID once and resets (Kafka rebuilds it from the log and
// snapshots; a later issue).

const producerBatchesKept = 5

type batchMeta struct {
	firstSeq, lastSeq int32
	baseOffset        int64
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
	e.batches = append(e.batches, batchMeta{firstSeq: h.BaseSequence, lastSeq: h.BaseSequence + h.LastOffsetDelta, baseOffset: baseOffset})
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
