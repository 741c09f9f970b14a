package broker

// OffsetForLeaderEpoch (key 23), versions 0-3.
//
// For each partition this broker leads: the largest leader epoch <= the
// one asked for and its end offset, from the log's leader-epoch cache
// (storage/segment), or UNDEFINED_EPOCH (-1) / offset -1 when the epoch is
// older than every known one. A CurrentLeaderEpoch (v2+) above the
// partition's is UNKNOWN_LEADER_EPOCH, below it FENCED_LEADER_EPOCH.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
)

var offsetForLeaderEpochAPI = api{key: 23, min: 0, max: 3, handle: handleOffsetForLeaderEpoch}

func handleOffsetForLeaderEpoch(b *Broker, _ *conn, h kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.OffsetForLeaderEpochRequest)
	resp := kmsg.NewPtrOffsetForLeaderEpochResponse()
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetForLeaderEpochResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			sp.Partition, sp.LeaderEpoch, sp.EndOffset = rp.Partition, -1, -1
			l, epoch, code := b.leaderLog(rt.Topic, rp.Partition)
			switch {
			case code != 0:
				sp.ErrorCode = code
			case h.APIVersion >= 2 && rp.CurrentLeaderEpoch >= 0 && rp.CurrentLeaderEpoch > epoch:
				sp.ErrorCode = kerr.UnknownLeaderEpoch.Code
			case h.APIVersion >= 2 && rp.CurrentLeaderEpoch >= 0 && rp.CurrentLeaderEpoch < epoch:
				sp.ErrorCode = kerr.FencedLeaderEpoch.Code
			default:
				if e, end, ok := l.EndOffsetForEpoch(rp.LeaderEpoch); ok {
					sp.LeaderEpoch, sp.EndOffset = e, end
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
