package broker

// DeleteRecords (key 21), versions 0-2.
//
// Moves each partition's log start offset to the offset given (-1 = the
// high watermark) on the leader and deletes the segments wholly below it
// (segment.Log.DeleteRecordsBefore); the answer is the new low watermark.
// An offset above the high watermark is OFFSET_OUT_OF_RANGE.

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
	"mqstack/storage/segment"
)

var deleteRecordsAPI = api{key: 21, min: 0, max: 2, handle: handleDeleteRecords}

func handleDeleteRecords(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.DeleteRecordsRequest)
	resp := kmsg.NewPtrDeleteRecordsResponse()
	for _, rt := range req.Topics {
		st := kmsg.NewDeleteRecordsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewDeleteRecordsResponseTopicPartition()
			sp.Partition, sp.LowWatermark = rp.Partition, -1
			l, _, code := b.leaderLog(rt.Topic, rp.Partition)
			if code != 0 {
				sp.ErrorCode = code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			low, err := l.DeleteRecordsBefore(rp.Offset)
			switch {
			case errors.Is(err, segment.ErrOffsetOutOfRange):
				sp.ErrorCode = kerr.OffsetOutOfRange.Code
			case err != nil:
				b.log.Error().Err(err).Str("topic", rt.Topic).Int32("partition", rp.Partition).Msg("delete records failed")
				sp.ErrorCode = kerr.KafkaStorageError.Code
			default:
				sp.LowWatermark = low
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
