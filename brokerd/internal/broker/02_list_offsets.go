package broker

// ListOffsets (key 2), versions 0-6.
//
// Timestamp -2 (earliest) answers the log start offset, -1 (latest) the
// high watermark (the last stable offset too, as there are no
// transactions), any other timestamp the first offset whose record
// timestamp is >= it (the time index, then the batches), or offset -1 and
// timestamp -1 when there is none. v0 answers in OldStyleOffsets.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
)

var listOffsetsAPI = api{key: 2, min: 0, max: 6, handle: handleListOffsets}

func handleListOffsets(b *Broker, _ *conn, h kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.ListOffsetsRequest)
	resp := kmsg.NewPtrListOffsetsResponse()
	for _, rt := range req.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.Timestamp, sp.Offset = -1, -1
			l, epoch, code := b.leaderLog(rt.Topic, rp.Partition)
			if code != 0 {
				sp.ErrorCode = code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			sp.LeaderEpoch = epoch
			switch rp.Timestamp {
			case -2:
				sp.Offset = l.LogStartOffset()
			case -1:
				sp.Offset = l.HighWatermark()
			default:
				off, found, err := l.OffsetForTimestamp(rp.Timestamp)
				if err != nil {
					b.log.Error().Err(err).Str("topic", rt.Topic).Int32("partition", rp.Partition).Msg("offset for timestamp failed")
					sp.ErrorCode = kerr.KafkaStorageError.Code
				} else if found && off < l.HighWatermark() {
					sp.Offset, sp.Timestamp = off, rp.Timestamp
				}
			}
			if h.APIVersion == 0 && sp.ErrorCode == 0 {
				if sp.Offset >= 0 {
					sp.OldStyleOffsets = []int64{sp.Offset}
				} else {
					sp.OldStyleOffsets = []int64{}
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
