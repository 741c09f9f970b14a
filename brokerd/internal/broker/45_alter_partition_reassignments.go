package broker

// AlterPartitionReassignments (key 45), version 0.
//
// Each partition's target replicas are merged into
// /admin/reassign_partitions (Kafka's znode, at its version), where the
// controller carries the reassignment out (coord.ReassignStep: the new
// replicas are added and catch up, then the old ones leave); null replicas
// cancel a partition's reassignment (its adding replicas are removed).
// Errors per partition: UNKNOWN_TOPIC_OR_PARTITION,
// INVALID_REPLICA_ASSIGNMENT (empty, duplicated or unregistered brokers),
// NO_REASSIGNMENT_IN_PROGRESS for a cancellation with nothing to cancel.

import (
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/coord"
	"mqstack/proto/kafka"
	"mqstack/proto/kafkazk"
)

var alterPartitionReassignmentsAPI = api{key: 45, min: 0, max: 0, handle: handleAlterPartitionReassignments}

func handleAlterPartitionReassignments(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.AlterPartitionAssignmentsRequest)
	resp := kmsg.NewPtrAlterPartitionAssignmentsResponse()
	v := b.view()
	var changes []kafkazk.Reassignment
	type slot struct{ ti, pi int }
	var slots []slot
	for _, rt := range req.Topics {
		st := kmsg.NewAlterPartitionAssignmentsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
			sp.Partition = rp.Partition
			fail := func(code int16, format string, args ...any) {
				sp.ErrorCode = code
				msg := fmt.Sprintf(format, args...)
				sp.ErrorMessage = &msg
			}
			t := b.topicView(rt.Topic)
			var part coord.Partition
			ok := false
			if t != nil {
				part, ok = t.Partitions[rp.Partition]
			}
			switch {
			case !ok:
				fail(kerr.UnknownTopicOrPartition.Code, "partition %s-%d does not exist", rt.Topic, rp.Partition)
			case rp.Replicas == nil && len(part.Adding)+len(part.Removing) == 0:
				fail(kerr.NoReassignmentInProgress.Code, "no reassignment of %s-%d is in progress", rt.Topic, rp.Partition)
			case rp.Replicas != nil && len(rp.Replicas) == 0:
				fail(kerr.InvalidReplicaAssignment.Code, "the replica list of %s-%d is empty", rt.Topic, rp.Partition)
			default:
				bad := ""
				for i, id := range rp.Replicas {
					if _, live := v.Brokers[id]; !live {
						bad = fmt.Sprintf("broker %d is not registered", id)
					}
					if slices.Contains(rp.Replicas[:i], id) {
						bad = fmt.Sprintf("broker %d appears twice", id)
					}
				}
				if bad != "" {
					fail(kerr.InvalidReplicaAssignment.Code, "%s in the target of %s-%d", bad, rt.Topic, rp.Partition)
					break
				}
				changes = append(changes, kafkazk.Reassignment{Topic: rt.Topic, Partition: rp.Partition, Replicas: rp.Replicas})
				slots = append(slots, slot{len(resp.Topics), len(st.Partitions)})
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if len(changes) > 0 {
		if err := b.coord.Reassign(changes); err != nil {
			msg := err.Error()
			for _, s := range slots {
				sp := &resp.Topics[s.ti].Partitions[s.pi]
				sp.ErrorCode, sp.ErrorMessage = kerr.UnknownServerError.Code, &msg
			}
			b.log.Error().Err(err).Msg("writing /admin/reassign_partitions failed")
		}
	}
	return resp, nil
}
