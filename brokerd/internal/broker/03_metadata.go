package broker

// Metadata (key 3), versions 0-11.
//
// Lists this broker as the only broker and the controller, and the topics
// asked for (all topics for v0 with an empty list, or a null list on v1+).
// A missing topic is created when auto.create.topics.enable is true and
// the request allows it (always on v0-v3, AllowAutoTopicCreation on v4+),
// with num.partitions partitions; otherwise it is UNKNOWN_TOPIC_OR_PARTITION.
// Every partition is led by this broker at leader epoch 0 (RF=1).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
)

var metadataAPI = api{key: 3, min: 0, max: 11, handle: handleMetadata}

func handleMetadata(b *Broker, _ *conn, h kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.MetadataRequest)
	resp := kmsg.NewPtrMetadataResponse()
	br := kmsg.NewMetadataResponseBroker()
	br.NodeID, br.Host, br.Port = b.cfg.BrokerID, b.host, b.port
	resp.Brokers = []kmsg.MetadataResponseBroker{br}
	cid := b.clusterID
	resp.ClusterID = &cid
	resp.ControllerID = b.cfg.BrokerID

	var names []string
	all := req.Topics == nil || (h.APIVersion == 0 && len(req.Topics) == 0)
	if all {
		names = b.topics.names()
	} else {
		for _, t := range req.Topics {
			if t.Topic != nil {
				names = append(names, *t.Topic)
			}
		}
	}
	autoCreate := b.cfg.AutoCreateTopicsEnable && (h.APIVersion < 4 || req.AllowAutoTopicCreation)
	for _, name := range names {
		name := name
		mt := kmsg.NewMetadataResponseTopic()
		mt.Topic = &name
		t := b.topics.get(name)
		if t == nil && autoCreate && !all {
			if err := validTopicName(name); err != nil {
				mt.ErrorCode = kerr.InvalidTopicException.Code
				resp.Topics = append(resp.Topics, mt)
				continue
			}
			if _, err := b.createTopic(name, b.cfg.NumPartitions, nil); err != nil {
				b.log.Error().Err(err).Str("topic", name).Msg("auto-create failed")
				mt.ErrorCode = kerr.KafkaStorageError.Code
				resp.Topics = append(resp.Topics, mt)
				continue
			}
			t = b.topics.get(name)
		}
		if t == nil {
			mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
			resp.Topics = append(resp.Topics, mt)
			continue
		}
		mt.TopicID = t.id
		mt.IsInternal = t.internal
		for p := int32(0); p < t.partitions; p++ {
			mp := kmsg.NewMetadataResponseTopicPartition()
			mp.Partition = p
			mp.Leader = b.cfg.BrokerID
			mp.LeaderEpoch = 0
			mp.Replicas = []int32{b.cfg.BrokerID}
			mp.ISR = []int32{b.cfg.BrokerID}
			mt.Partitions = append(mt.Partitions, mp)
		}
		resp.Topics = append(resp.Topics, mt)
	}
	return resp, nil
}
