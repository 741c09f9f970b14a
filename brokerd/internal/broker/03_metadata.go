package broker

// Metadata (key 3), versions 0-11.
//
// Answers from the broker's view of ZooKeeper: the live brokers
// (/brokers/ids, their endpoint for this broker's listener name), the
// controller (/controller), and for each topic its partitions with leader,
// leader epoch and ISR (the state znodes) and replicas (/brokers/topics);
// replicas not registered are listed as offline. A partition with no leader
// is LEADER_NOT_AVAILABLE. All topics for v0 with an empty list or a null
// list on v1+. A missing topic is created when auto.create.topics.enable is
// true and the request allows it (always on v0-v3, AllowAutoTopicCreation
// on v4+), with num.partitions and default.replication.factor; the answer
// waits up to 5s for its leaders, then says LEADER_NOT_AVAILABLE so the
// client retries.

import (
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/coord"
	"mqstack/proto/kafka"
)

var metadataAPI = api{key: 3, min: 0, max: 11, handle: handleMetadata}

const autoCreateWait = 5 * time.Second

func handleMetadata(b *Broker, _ *conn, h kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.MetadataRequest)
	resp := kmsg.NewPtrMetadataResponse()
	v := b.view()
	all := req.Topics == nil || (h.APIVersion == 0 && len(req.Topics) == 0)
	var names []string
	if all {
		for n, t := range v.Topics {
			if !t.Deleting {
				names = append(names, n)
			}
		}
		sort.Strings(names)
	} else {
		for _, t := range req.Topics {
			if t.Topic != nil {
				names = append(names, *t.Topic)
			}
		}
	}
	autoCreate := b.cfg.AutoCreateTopicsEnable && (h.APIVersion < 4 || req.AllowAutoTopicCreation)
	var created []string
	for _, name := range names {
		if v.Topics[name] == nil && autoCreate && !all && validTopicName(name) == nil {
			code, msg := b.createTopic(name, b.cfg.NumPartitions, b.cfg.DefaultReplicationFactor, nil, nil, 0)
			if code != 0 && code != kerr.TopicAlreadyExists.Code {
				b.log.Warn().Str("topic", name).Int16("error_code", code).Str("reason", msg).Msg("auto-create failed")
			}
			created = append(created, name)
		}
	}
	if len(created) > 0 {
		v, _ = b.coord.WaitFor(autoCreateWait, func(v coord.View) bool {
			for _, n := range created {
				if !topicReady(v, n) {
					return false
				}
			}
			return true
		})
	}

	for _, id := range liveBrokers(v) {
		bi := v.Brokers[id]
		ep, ok := bi.Endpoint(b.cfg.Listeners[0].Name)
		if !ok {
			continue
		}
		br := kmsg.NewMetadataResponseBroker()
		br.NodeID, br.Host, br.Port, br.Rack = id, ep.Host, int32(ep.Port), bi.Rack
		resp.Brokers = append(resp.Brokers, br)
	}
	cid := b.clusterID
	resp.ClusterID = &cid
	resp.ControllerID = v.ControllerID

	for _, name := range names {
		name := name
		mt := kmsg.NewMetadataResponseTopic()
		mt.Topic = &name
		t := v.Topics[name]
		switch {
		case t == nil && validTopicName(name) != nil:
			mt.ErrorCode = kerr.InvalidTopicException.Code
			resp.Topics = append(resp.Topics, mt)
			continue
		case t == nil || t.Deleting:
			mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
			for _, c := range created {
				if c == name {
					mt.ErrorCode = kerr.LeaderNotAvailable.Code
				}
			}
			resp.Topics = append(resp.Topics, mt)
			continue
		}
		if id, ok := coord.ParseUUID(t.ID); ok {
			mt.TopicID = id
		}
		mt.IsInternal = name == offsetsTopic
		parts := make([]int32, 0, len(t.Partitions))
		for p := range t.Partitions {
			parts = append(parts, p)
		}
		sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
		for _, p := range parts {
			part := t.Partitions[p]
			mp := kmsg.NewMetadataResponseTopicPartition()
			mp.Partition = p
			mp.Replicas = part.Replicas
			mp.Leader, mp.LeaderEpoch = -1, -1
			mp.ISR = []int32{}
			if part.State != nil {
				mp.Leader, mp.LeaderEpoch, mp.ISR = part.State.Leader, part.State.LeaderEpoch, part.State.ISR
			}
			if mp.Leader == coord.NoLeader {
				mp.ErrorCode = kerr.LeaderNotAvailable.Code
			}
			mp.OfflineReplicas = []int32{}
			for _, r := range part.Replicas {
				if _, ok := v.Brokers[r]; !ok {
					mp.OfflineReplicas = append(mp.OfflineReplicas, r)
				}
			}
			mt.Partitions = append(mt.Partitions, mp)
		}
		resp.Topics = append(resp.Topics, mt)
	}
	return resp, nil
}
