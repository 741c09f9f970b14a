package broker

// ListPartitionReassignments (key 46), version 0.
//
// Lists the partitions with a reassignment in progress, read from the
// topic znodes' adding_replicas/removing_replicas (KIP-455): the current
// replicas (old and new together), the ones being added and removed; null
// topics mean all.

import (
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
)

var listPartitionReassignmentsAPI = api{key: 46, min: 0, max: 0, handle: handleListPartitionReassignments}

func handleListPartitionReassignments(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.ListPartitionReassignmentsRequest)
	resp := kmsg.NewPtrListPartitionReassignmentsResponse()
	v := b.view()
	names := make([]string, 0, len(v.Topics))
	for n := range v.Topics {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		var only []int32
		if req.Topics != nil {
			i := slices.IndexFunc(req.Topics, func(t kmsg.ListPartitionReassignmentsRequestTopic) bool { return t.Topic == name })
			if i < 0 {
				continue
			}
			only = req.Topics[i].Partitions
		}
		st := kmsg.NewListPartitionReassignmentsResponseTopic()
		st.Topic = name
		for p, part := range v.Topics[name].Partitions {
			if len(part.Adding)+len(part.Removing) == 0 || (only != nil && !slices.Contains(only, p)) {
				continue
			}
			sp := kmsg.NewListPartitionReassignmentsResponseTopicPartition()
			sp.Partition, sp.Replicas, sp.AddingReplicas, sp.RemovingReplicas = p, part.Replicas, part.Adding, part.Removing
			if sp.AddingReplicas == nil {
				sp.AddingReplicas = []int32{}
			}
			if sp.RemovingReplicas == nil {
				sp.RemovingReplicas = []int32{}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		if len(st.Partitions) > 0 {
			sort.Slice(st.Partitions, func(i, j int) bool { return st.Partitions[i].Partition < st.Partitions[j].Partition })
			resp.Topics = append(resp.Topics, st)
		}
	}
	return resp, nil
}
