package broker

// OffsetFetch (key 9), versions 0-7.
//
// The group's committed offsets from the coordinator's cache (loaded from
// __consumer_offsets): the partitions asked for, or all of them when the
// topic list is null (v2+). A partition with no commit answers offset -1.
// NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS at the top level (v2+) or
// per partition (v0-v1).

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
	"mqstack/storage/checkpoint"
)

var offsetFetchAPI = api{key: 9, min: 0, max: 7, handle: handleOffsetFetch}

func handleOffsetFetch(b *Broker, _ *conn, h kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.OffsetFetchRequest)
	resp := kmsg.NewPtrOffsetFetchResponse()
	code := b.groups.coordinatorCode(req.Group)
	if code != 0 && h.APIVersion >= 2 {
		resp.ErrorCode = code
		return resp, nil
	}
	m := b.groups
	m.mu.Lock()
	committed := map[checkpoint.TopicPartition]struct {
		off, epoch int64
		meta       string
	}{}
	for tp, v := range m.offsets[req.Group] {
		committed[tp] = struct {
			off, epoch int64
			meta       string
		}{v.Offset, int64(v.LeaderEpoch), v.Metadata}
	}
	m.mu.Unlock()
	topics := req.Topics
	if topics == nil && h.APIVersion >= 2 {
		byTopic := map[string][]int32{}
		for tp := range committed {
			byTopic[tp.Topic] = append(byTopic[tp.Topic], tp.Partition)
		}
		for t, ps := range byTopic {
			sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
			rt := kmsg.NewOffsetFetchRequestTopic()
			rt.Topic, rt.Partitions = t, ps
			topics = append(topics, rt)
		}
		sort.Slice(topics, func(i, j int) bool { return topics[i].Topic < topics[j].Topic })
	}
	for _, rt := range topics {
		st := kmsg.NewOffsetFetchResponseTopic()
		st.Topic = rt.Topic
		for _, p := range rt.Partitions {
			sp := kmsg.NewOffsetFetchResponseTopicPartition()
			sp.Partition, sp.Offset, sp.LeaderEpoch = p, -1, -1
			empty := ""
			sp.Metadata = &empty
			if code != 0 {
				sp.ErrorCode = code
			} else if c, ok := committed[checkpoint.TopicPartition{Topic: rt.Topic, Partition: p}]; ok {
				meta := c.meta
				sp.Offset, sp.LeaderEpoch, sp.Metadata = c.off, int32(c.epoch), &meta
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
