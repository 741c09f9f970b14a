package broker

// Produce (key 0), versions 3-9 (record batch v2 only).
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
// their original offset, gaps and stale epochs with Kafka's errors. With
// one replica acks=1
// and acks=-1 answer after the append (the high watermark moves to the
// log end offset at once); acks=0 gets no response at all. The log is not
// fsynced per request, as in Kafka (durability by replication and flush).

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
	"mqstack/storage/checkpoint"
	"mqstack/storage/segment"
)

var produceAPI = api{key: 0, min: 3, max: 9, handle: handleProduce}

func handleProduce(b *Broker, c *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.ProduceRequest)
	resp := kmsg.NewPtrProduceResponse()
	appended := false
	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.BaseOffset = -1
			if req.TransactionID != nil {
				sp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			l, epoch, code := b.leaderLog(rt.Topic, rp.Partition)
			if code != 0 {
				sp.ErrorCode = code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			if len(rp.Records) > int(b.segmentConfig(rt.Topic).MaxMessageBytes) {
				sp.ErrorCode = kerr.MessageTooLarge.Code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			tp := checkpoint.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}
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
					st.Partitions = append(st.Partitions, sp)
					continue
				}
			}
			res, err := l.Append(rp.Records, segment.AppendOptions{AssignOffsets: true, LeaderEpoch: epoch})
			if idempotent {
				if err == nil {
					b.producers.record(tp, h, res.FirstOffset)
				}
				b.producers.mu.Unlock()
			}
			if err != nil {
				sp.ErrorCode = produceErrorCode(err)
				msg := err.Error()
				sp.ErrorMessage = &msg
				b.metrics.failedProduce.Inc()
				c.log.Debug().Err(err).Str("topic", rt.Topic).Int32("partition", rp.Partition).Msg("produce rejected")
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			l.SetHighWatermark(res.LastOffset + 1)
			b.metrics.messagesIn.Add(float64(res.LastOffset - res.FirstOffset + 1))
			b.metrics.bytesIn.Add(float64(res.Bytes))
			appended = true
			sp.BaseOffset = res.FirstOffset
			sp.LogAppendTime = res.LogAppendTime
			sp.LogStartOffset = l.LogStartOffset()
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
	return resp, nil
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
