package broker

// Produce (key 0), versions 0-9: v3+ carry record batches v2; v0-2 carry
// legacy message sets (magic 0/1), up-converted to one v2 batch first
// (legacy.go), after which everything below applies the same.
//
// Each partition's records (one or more v2 batches) are appended with the
// leader path of storage/segment: CRC-32C and every record checked, offsets
// assigned from the log end offset, the leader epoch stamped, LogAppendTime
// set when the topic uses it. Errors per partition: a batch set larger than
// message.max.bytes (or the topic's max.message.bytes) is
// MESSAGE_TOO_LARGE; a bad CRC is CORRUPT_MESSAGE; other invalid batches
// INVALID_RECORD; an unknown topic or partition UNKNOWN_TOPIC_OR_PARTITION,
// a partition led elsewhere NOT_LEADER_OR_FOLLOWER, one without a leader
// LEADER_NOT_AVAILABLE; the leader epoch stamped is the state znode's;
// a transactional produce TRANSACTIONAL_ID_AUTHORIZATION_FAILED
// (transactions come in a later issue). Idempotent batches (producer id
// and sequence set) go through idempotence.go: duplicates answered with
// their original offset, gaps and stale epochs with Kafka's errors.
// Replication (replication.go): acks=1 answers after the leader's append;
// acks=-1 (all) is refused with NOT_ENOUGH_REPLICAS when the ISR is
// smaller than min.insync.replicas (the topic's, else the broker's),
// otherwise waits until the high watermark passes the batch (the ISR has
// it), answering NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR fell below
// the minimum meanwhile, NOT_LEADER_OR_FOLLOWER if leadership moved and
// REQUEST_TIMED_OUT after the request's timeout; a retried idempotent
// batch waits the same way. acks=0 gets no response at all. The log is not
// fsynced per request, as in Kafka (durability by replication and flush).

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/replica"
	"mqstack/proto/kafka"
	"mqstack/storage/checkpoint"
	"mqstack/storage/segment"
)

var produceAPI = api{key: 0, min: 0, max: 9, handle: handleProduce}

func handleProduce(b *Broker, c *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.ProduceRequest)
	resp := kmsg.NewPtrProduceResponse()
	appended := false
	var waits []ackWait
	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp, w := produceOne(b, c, req, rt.Topic, &rp)
			if w != nil {
				appended = true
				if req.Acks == -1 {
					w.ti, w.pi = len(resp.Topics), len(st.Partitions)
					waits = append(waits, *w)
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if appended {
		b.appended.notify()
	}
	if req.Acks == 0 {
		return nil, nil
	}
	if len(waits) > 0 {
		b.replicas.waitAcks(waits, time.Duration(max(req.TimeoutMillis, 0))*time.Millisecond)
		for _, w := range waits {
			if w.code != 0 {
				resp.Topics[w.ti].Partitions[w.pi].ErrorCode = w.code
				b.metrics.failedProduce.Inc()
			}
		}
	}
	return resp, nil
}

// produceOne appends one partition's records; w is non-nil when they were
// appended (for acks=all to wait on).
func produceOne(b *Broker, c *conn, req *kmsg.ProduceRequest, topic string, rp *kmsg.ProduceRequestTopicPartition) (kmsg.ProduceResponseTopicPartition, *ackWait) {
	sp := kmsg.NewProduceResponseTopicPartition()
	sp.Partition = rp.Partition
	sp.BaseOffset = -1
	if req.TransactionID != nil {
		sp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return sp, nil
	}
	l, epoch, code := b.leaderLog(topic, rp.Partition)
	if code != 0 {
		sp.ErrorCode = code
		return sp, nil
	}
	if len(rp.Records) > b.settings(topic).maxMessageBytes {
		sp.ErrorCode = kerr.MessageTooLarge.Code
		return sp, nil
	}
	if req.Version <= legacyProduce {
		if sp.ErrorCode = upConvertProduce(c, topic, rp); sp.ErrorCode != 0 {
			b.metrics.failedProduce.Inc()
			return sp, nil
		}
	}
	tp := checkpoint.TopicPartition{Topic: topic, Partition: rp.Partition}
	// The replica's lock is held across the append so that leadership
	// cannot move between the checks and the append (Kafka's
	// leaderIsrUpdateLock).
	pr := b.replicas.get(tp)
	minISR := b.minISR(topic)
	if pr == nil {
		sp.ErrorCode = kerr.NotLeaderForPartition.Code
		return sp, nil
	}
	pr.mu.Lock()
	if err := pr.core.CanAppend(req.Acks, minISR); err != nil || pr.core.Epoch() != epoch || pr.log != l {
		pr.mu.Unlock()
		sp.ErrorCode = kerr.NotLeaderForPartition.Code
		if errors.Is(err, replica.ErrNotEnoughReplicas) {
			sp.ErrorCode = kerr.NotEnoughReplicas.Code
			msg := err.Error()
			sp.ErrorMessage = &msg
			b.metrics.failedProduce.Inc()
		}
		return sp, nil
	}
	h, herr := kafka.ParseHeader(rp.Records)
	idempotent := herr == nil && h.ProducerID >= 0 && h.BaseSequence >= 0
	if idempotent {
		b.producers.mu.Lock()
		dup, code := b.producers.check(tp, h)
		if code != 0 || dup >= 0 {
			b.producers.mu.Unlock()
			sp.ErrorCode = code
			if dup >= 0 {
				sp.BaseOffset = dup
				sp.LogStartOffset = l.LogStartOffset()
			}
			pr.mu.Unlock()
			if dup >= 0 && req.Acks == -1 {
				// A retry of a batch still being replicated waits for it too.
				return sp, &ackWait{pr: pr, last: dup + int64(h.LastOffsetDelta), min: minISR}
			}
			return sp, nil
		}
	}
	res, err := l.Append(rp.Records, segment.AppendOptions{AssignOffsets: true, LeaderEpoch: epoch})
	if err == nil && res.Rolled {
		b.snapshotOnRoll(tp, l, res.FirstOffset, idempotent)
	}
	if idempotent {
		if err == nil {
			b.producers.record(tp, h, res.FirstOffset)
		}
		b.producers.mu.Unlock()
	}
	if err != nil {
		pr.mu.Unlock()
		sp.ErrorCode = produceErrorCode(err)
		msg := err.Error()
		sp.ErrorMessage = &msg
		b.metrics.failedProduce.Inc()
		c.log.Debug().Err(err).Str("topic", topic).Int32("partition", rp.Partition).Msg("produce rejected")
		return sp, nil
	}
	moved := pr.core.Appended(l.LogEndOffset())
	if moved {
		pr.syncHW()
	}
	pr.mu.Unlock()
	if moved {
		b.replicas.hwMoved.notify()
	}
	b.metrics.messagesIn.Add(float64(res.LastOffset - res.FirstOffset + 1))
	b.metrics.bytesIn.Add(float64(res.Bytes))
	sp.BaseOffset = res.FirstOffset
	sp.LogAppendTime = res.LogAppendTime
	sp.LogStartOffset = l.LogStartOffset()
	return sp, &ackWait{pr: pr, last: res.LastOffset, min: minISR}
}

func produceErrorCode(err error) int16 {
	switch {
	case errors.Is(err, segment.ErrRecordTooLarge):
		return kerr.MessageTooLarge.Code
	case errors.Is(err, kafka.ErrCRC):
		return kerr.CorruptMessage.Code
	case errors.Is(err, segment.ErrInvalidBatch):
		return kerr.InvalidRecord.Code
	case errors.Is(err, segment.ErrClosed):
		return kerr.NotLeaderForPartition.Code
	default:
		return kerr.KafkaStorageError.Code
	}
}
