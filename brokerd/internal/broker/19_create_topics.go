package broker

// CreateTopics (key 19), versions 0-7.
//
// NumPartitions -1 means num.partitions and ReplicationFactor -1 means
// default.replication.factor. With one broker a replication factor above 1
// is INVALID_REPLICATION_FACTOR, as Kafka answers when there are fewer
// brokers than replicas; manual ReplicaAssignment must name this broker
// only. Existing topics are TOPIC_ALREADY_EXISTS, bad names
// INVALID_TOPIC_EXCEPTION, unknown or invalid configs INVALID_CONFIG.
// ValidateOnly checks without creating. Topic configs (cleanup.policy,
// segment.bytes, segment.ms, retention.ms, retention.bytes,
// max.message.bytes, delete.retention.ms, message.timestamp.type) apply
// to the topic's logs.

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
)

var createTopicsAPI = api{key: 19, min: 0, max: 7, handle: handleCreateTopics}

func handleCreateTopics(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.CreateTopicsRequest)
	resp := kmsg.NewPtrCreateTopicsResponse()
	seen := map[string]int{}
	for _, rt := range req.Topics {
		seen[rt.Topic]++
	}
	for _, rt := range req.Topics {
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic = rt.Topic
		fail := func(code int16, format string, args ...any) {
			st.ErrorCode = code
			msg := fmt.Sprintf(format, args...)
			st.ErrorMessage = &msg
			st.NumPartitions, st.ReplicationFactor = -1, -1
		}
		partitions, rf := rt.NumPartitions, rt.ReplicationFactor
		if partitions == -1 {
			partitions = b.cfg.NumPartitions
		}
		if rf == -1 {
			rf = b.cfg.DefaultReplicationFactor
		}
		configs := map[string]string{}
		var cfgErr error
		for _, c := range rt.Configs {
			if c.Value == nil {
				continue
			}
			if err := validateTopicConfig(c.Name, *c.Value); err != nil && cfgErr == nil {
				cfgErr = err
			}
			configs[c.Name] = *c.Value
		}
		switch {
		case seen[rt.Topic] > 1:
			fail(kerr.InvalidRequest.Code, "topic %s appears more than once in the request", rt.Topic)
		case validTopicName(rt.Topic) != nil:
			fail(kerr.InvalidTopicException.Code, "%v", validTopicName(rt.Topic))
		case b.topics.get(rt.Topic) != nil:
			fail(kerr.TopicAlreadyExists.Code, "Topic '%s' already exists.", rt.Topic)
		case len(rt.ReplicaAssignment) > 0 && (rt.NumPartitions != -1 || rt.ReplicationFactor != -1):
			fail(kerr.InvalidRequest.Code, "both numPartitions or replicationFactor and replicasAssignment were set; use one")
		case len(rt.ReplicaAssignment) > 0 && !assignmentIsSelf(rt.ReplicaAssignment, b.cfg.BrokerID):
			fail(kerr.InvalidReplicaAssignment.Code, "replica assignment names brokers other than %d; this cluster has one broker", b.cfg.BrokerID)
		case len(rt.ReplicaAssignment) == 0 && partitions < 1:
			fail(kerr.InvalidPartitions.Code, "Number of partitions must be larger than 0.")
		case len(rt.ReplicaAssignment) == 0 && rf < 1:
			fail(kerr.InvalidReplicationFactor.Code, "Replication factor must be larger than 0.")
		case len(rt.ReplicaAssignment) == 0 && rf > 1:
			fail(kerr.InvalidReplicationFactor.Code, "Replication factor: %d larger than available brokers: 1.", rf)
		case cfgErr != nil:
			fail(kerr.InvalidConfig.Code, "%v", cfgErr)
		default:
			if len(rt.ReplicaAssignment) > 0 {
				partitions, rf = int32(len(rt.ReplicaAssignment)), 1
			}
			st.NumPartitions, st.ReplicationFactor = partitions, rf
			if req.ValidateOnly {
				break
			}
			created, err := b.createTopic(rt.Topic, partitions, configs)
			switch {
			case err != nil:
				fail(kerr.KafkaStorageError.Code, "creating the logs of %s failed: %v", rt.Topic, err)
			case !created:
				fail(kerr.TopicAlreadyExists.Code, "Topic '%s' already exists.", rt.Topic)
			default:
				st.TopicID = b.topics.get(rt.Topic).id
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

func assignmentIsSelf(as []kmsg.CreateTopicsRequestTopicReplicaAssignment, id int32) bool {
	for _, a := range as {
		if len(a.Replicas) != 1 || a.Replicas[0] != id {
			return false
		}
	}
	return true
}
