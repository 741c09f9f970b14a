package broker

// OffsetDelete (key 47), version 0.
//
// Deletes a group's committed offsets for the partitions given, writing
// tombstones to __consumer_offsets, as Kafka 2.8's GroupCoordinator: an
// Empty group loses every offset asked for; a consumer group with members
// keeps those of the topics its members subscribe to (read from their
// consumer protocol metadata), answered GROUP_SUBSCRIBED_TO_TOPIC, and
// loses the others; a group with members whose subscriptions cannot be
// read (another protocol type) is NON_EMPTY_GROUP. An unknown group is
// GROUP_ID_NOT_FOUND.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/group"
	"mqstack/proto/kafka"
	"mqstack/storage/checkpoint"
)

var offsetDeleteAPI = api{key: 47, min: 0, max: 0, handle: handleOffsetDelete}

func handleOffsetDelete(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.OffsetDeleteRequest)
	resp := kmsg.NewPtrOffsetDeleteResponse()
	if code := b.groups.coordinatorCode(req.Group); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	m := b.groups
	m.mu.Lock()
	g := m.groups[req.Group]
	if g == nil {
		m.mu.Unlock()
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		return resp, nil
	}
	busy := len(g.Members) > 0 && g.State != group.Dead
	subscribed, known := g.SubscribedTopics()
	if busy && !known {
		m.mu.Unlock()
		resp.ErrorCode = kerr.NonEmptyGroup.Code
		return resp, nil
	}
	doomed := map[checkpoint.TopicPartition]group.OffsetValue{}
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetDeleteResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetDeleteResponseTopicPartition()
			sp.Partition = rp.Partition
			tp := checkpoint.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}
			if busy && subscribed[rt.Topic] {
				sp.ErrorCode = kerr.GroupSubscribedToTopic.Code
			} else if v, ok := m.offsets[req.Group][tp]; ok {
				doomed[tp] = v
				delete(m.offsets[req.Group], tp)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	m.mu.Unlock()
	if code := m.tombstone(req.Group, doomed, false); code != 0 {
		resp.ErrorCode = code
	}
	return resp, nil
}
