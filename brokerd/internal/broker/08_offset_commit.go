package broker

// OffsetCommit (key 8), versions 0-8.
//
// Checks the member and generation with the group state machine (a
// generation of -1 with no member id is a standalone commit, allowed while
// the group has no members), then appends the offsets to the group's
// __consumer_offsets partition in Kafka's record format (key v1, value v3)
// and updates the coordinator's cache; they are reloaded from that
// partition when this broker starts leading it. Metadata longer than 4096
// bytes is OFFSET_METADATA_TOO_LARGE; an unknown topic partition
// UNKNOWN_TOPIC_OR_PARTITION. offsets.retention.minutes is not enforced
// yet.

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/group"
	"mqstack/proto/kafka"
	"mqstack/storage/checkpoint"
)

var offsetCommitAPI = api{key: 8, min: 0, max: 8, handle: handleOffsetCommit}

const maxOffsetMetadata = 4096

func handleOffsetCommit(b *Broker, _ *conn, h kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.OffsetCommitRequest)
	resp := kmsg.NewPtrOffsetCommitResponse()
	code := b.groups.coordinatorCode(req.Group)
	if code == 0 {
		gen, member, inst := req.Generation, req.MemberID, deref(req.InstanceID)
		if h.APIVersion == 0 {
			gen, member = -1, ""
		}
		b.groups.with(req.Group, true, func(g *group.Group) []group.Reply {
			code = g.CommitAllowed(member, inst, gen)
			return nil
		})
	}
	now := time.Now().UnixMilli()
	values := map[checkpoint.TopicPartition]group.OffsetValue{}
	v := b.view()
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetCommitResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.ErrorCode = code
			meta := ""
			if rp.Metadata != nil {
				meta = *rp.Metadata
			}
			t := v.Topics[rt.Topic]
			switch {
			case code != 0:
			case t == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case len(meta) > maxOffsetMetadata:
				sp.ErrorCode = kerr.OffsetMetadataTooLarge.Code
			default:
				if _, ok := t.Partitions[rp.Partition]; !ok {
					sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
					break
				}
				epoch := int32(-1)
				if h.APIVersion >= 6 {
					epoch = rp.LeaderEpoch
				}
				values[checkpoint.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}] = group.OffsetValue{
					Offset: rp.Offset, LeaderEpoch: epoch, Metadata: meta, CommitTimestamp: now}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if wcode := b.groups.commit(req.Group, values); wcode != 0 {
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				p := &resp.Topics[i].Partitions[j]
				if _, ok := values[checkpoint.TopicPartition{Topic: resp.Topics[i].Topic, Partition: p.Partition}]; ok {
					p.ErrorCode = wcode
				}
			}
		}
	}
	return resp, nil
}
