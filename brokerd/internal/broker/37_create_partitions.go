package broker

// CreatePartitions (key 37), versions 0-3.
//
// Raises a topic's partition count: the new partitions get replicas as
// Kafka assigns them (round-robin over the live brokers, the replication
// factor of partition 0) or the given Assignment; /brokers/topics/<t> is
// rewritten at the version read and the controller elects the new
// leaders; the answer waits for them up to TimeoutMillis. A count not above
// the current one is INVALID_PARTITIONS; an unknown topic
// UNKNOWN_TOPIC_OR_PARTITION; a bad assignment INVALID_REPLICA_ASSIGNMENT.

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/coord"
	"mqstack/proto/kafka"
)

var createPartitionsAPI = api{key: 37, min: 0, max: 3, handle: handleCreatePartitions}

func handleCreatePartitions(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.CreatePartitionsRequest)
	resp := kmsg.NewPtrCreatePartitionsResponse()
	for _, rt := range req.Topics {
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = rt.Topic
		fail := func(code int16, format string, args ...any) {
			st.ErrorCode = code
			msg := fmt.Sprintf(format, args...)
			st.ErrorMessage = &msg
		}
		v := b.view()
		t := b.topicView(rt.Topic)
		if t == nil {
			fail(kerr.UnknownTopicOrPartition.Code, "topic %s does not exist", rt.Topic)
			resp.Topics = append(resp.Topics, st)
			continue
		}
		cur := int32(len(t.Partitions))
		rf := int16(len(t.Partitions[0].Replicas))
		add := rt.Count - cur
		switch {
		case add <= 0:
			fail(kerr.InvalidPartitions.Code, "Topic currently has %d partitions, which is higher than or equal to the requested %d.", cur, rt.Count)
		case len(rt.Assignment) > 0 && int32(len(rt.Assignment)) != add:
			fail(kerr.InvalidReplicaAssignment.Code, "%d new partitions but %d assignments", add, len(rt.Assignment))
		case len(rt.Assignment) == 0 && int(rf) > len(v.Brokers):
			fail(kerr.InvalidReplicationFactor.Code, "Replication factor: %d larger than available brokers: %d.", rf, len(v.Brokers))
		default:
			assignment := map[int32][]int32{}
			for p, part := range t.Partitions {
				assignment[p] = part.Replicas
			}
			if len(rt.Assignment) > 0 {
				for i, a := range rt.Assignment {
					for _, id := range a.Replicas {
						if _, ok := v.Brokers[id]; !ok {
							fail(kerr.InvalidReplicaAssignment.Code, "broker %d is not registered", id)
						}
					}
					assignment[cur+int32(i)] = a.Replicas
				}
			} else {
				all, err := coord.AssignReplicas(liveBrokers(v), rt.Count, rf)
				if err != nil {
					fail(kerr.InvalidReplicationFactor.Code, "%v", err)
				}
				for p := cur; p < rt.Count; p++ {
					assignment[p] = all[p]
				}
			}
			if st.ErrorCode != 0 || req.ValidateOnly {
				break
			}
			if err := b.coord.UpdateAssignment(rt.Topic, assignment); err != nil {
				fail(kerr.UnknownServerError.Code, "%v", err)
				break
			}
			wait := min(time.Duration(req.TimeoutMillis)*time.Millisecond, 60*time.Second)
			name, count := rt.Topic, rt.Count
			if _, ok := b.coord.WaitFor(wait, func(v coord.View) bool {
				return topicReady(v, name) && int32(len(v.Topics[name].Partitions)) == count
			}); !ok {
				fail(kerr.RequestTimedOut.Code, "the new partitions of %s have no leader yet", name)
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
