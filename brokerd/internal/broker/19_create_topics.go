package broker

// CreateTopics (key 19), versions 0-7.
//
// NumPartitions -1 means num.partitions and ReplicationFactor -1 means
// default.replication.factor. Replicas are assigned over the live brokers
// as Kafka's AdminUtils does (round-robin from a random start); more
// replicas than live brokers is INVALID_REPLICATION_FACTOR. A manual
// ReplicaAssignment must name live brokers, the same count per partition.
// The topic is written to ZooKeeper (/config/topics/<t>, then
// /brokers/topics/<t>); the controller elects the leaders and the answer
// waits for them up to TimeoutMillis (REQUEST_TIMED_OUT after that, the
// topic still being created, as in Kafka). Existing topics are
// TOPIC_ALREADY_EXISTS, bad names INVALID_TOPIC_EXCEPTION, unknown or
// invalid configs INVALID_CONFIG. ValidateOnly checks without creating.
// Replication factor > 1 is accepted but followers do not fetch yet (the
// next issue): only leaders hold data. Topic configs (cleanup.policy,
// segment.bytes, segment.ms, retention.ms, retention.bytes,
// max.message.bytes, delete.retention.ms, message.timestamp.type) apply
// to the topic's logs.

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/coord"
	"mqstack/proto/kafka"
)

var createTopicsAPI = api{key: 19, min: 0, max: 7, handle: handleCreateTopics}

func handleCreateTopics(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.CreateTopicsRequest)
	resp := kmsg.NewPtrCreateTopicsResponse()
	v := b.view()
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
		for _, c := range rt.Configs {
			if c.Value != nil {
				configs[c.Name] = *c.Value
			}
		}
		cfgErr := validateTopicConfigs(configs)
		assignErr := checkAssignment(rt.ReplicaAssignment, v)
		switch {
		case seen[rt.Topic] > 1:
			fail(kerr.InvalidRequest.Code, "topic %s appears more than once in the request", rt.Topic)
		case validTopicName(rt.Topic) != nil:
			fail(kerr.InvalidTopicException.Code, "%v", validTopicName(rt.Topic))
		case v.Topics[rt.Topic] != nil:
			fail(kerr.TopicAlreadyExists.Code, "Topic '%s' already exists.", rt.Topic)
		case len(rt.ReplicaAssignment) > 0 && (rt.NumPartitions != -1 || rt.ReplicationFactor != -1):
			fail(kerr.InvalidRequest.Code, "both numPartitions or replicationFactor and replicasAssignment were set; use one")
		case len(rt.ReplicaAssignment) > 0 && assignErr != "":
			fail(kerr.InvalidReplicaAssignment.Code, "%s", assignErr)
		case len(rt.ReplicaAssignment) == 0 && partitions < 1:
			fail(kerr.InvalidPartitions.Code, "Number of partitions must be larger than 0.")
		case len(rt.ReplicaAssignment) == 0 && rf < 1:
			fail(kerr.InvalidReplicationFactor.Code, "Replication factor must be larger than 0.")
		case len(rt.ReplicaAssignment) == 0 && int(rf) > len(v.Brokers):
			fail(kerr.InvalidReplicationFactor.Code, "Replication factor: %d larger than available brokers: %d.", rf, len(v.Brokers))
		case cfgErr != nil:
			fail(kerr.InvalidConfig.Code, "%s", cfgErr.msg)
		default:
			var assignment map[int32][]int32
			if len(rt.ReplicaAssignment) > 0 {
				assignment = map[int32][]int32{}
				for _, a := range rt.ReplicaAssignment {
					assignment[a.Partition] = a.Replicas
				}
				partitions, rf = int32(len(assignment)), int16(len(rt.ReplicaAssignment[0].Replicas))
			}
			st.NumPartitions, st.ReplicationFactor = partitions, rf
			if req.ValidateOnly {
				break
			}
			wait := min(time.Duration(req.TimeoutMillis)*time.Millisecond, 60*time.Second)
			if code, msg := b.createTopic(rt.Topic, partitions, rf, assignment, configs, wait); code != 0 {
				fail(code, "%s", msg)
				if code == kerr.RequestTimedOut.Code {
					st.NumPartitions, st.ReplicationFactor = partitions, rf
				}
			} else if t := b.view().Topics[rt.Topic]; t != nil {
				if id, ok := coord.ParseUUID(t.ID); ok {
					st.TopicID = id
				}
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// checkAssignment validates a manual assignment like Kafka's
// validateReplicaAssignment; "" when valid (or empty).
func checkAssignment(as []kmsg.CreateTopicsRequestTopicReplicaAssignment, v coord.View) string {
	if len(as) == 0 {
		return ""
	}
	seenP := map[int32]bool{}
	for _, a := range as {
		if len(a.Replicas) == 0 || len(a.Replicas) != len(as[0].Replicas) {
			return "all partitions must have the same, non-zero number of replicas"
		}
		if a.Partition < 0 || a.Partition >= int32(len(as)) || seenP[a.Partition] {
			return "partitions must be numbered 0 to n-1, each once"
		}
		seenP[a.Partition] = true
		dup := map[int32]bool{}
		for _, r := range a.Replicas {
			if dup[r] {
				return fmt.Sprintf("partition %d lists broker %d twice", a.Partition, r)
			}
			dup[r] = true
			if _, ok := v.Brokers[r]; !ok {
				return fmt.Sprintf("partition %d is assigned to broker %d, which is not registered", a.Partition, r)
			}
		}
	}
	return ""
}
