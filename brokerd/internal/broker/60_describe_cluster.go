package broker

// DescribeCluster (key 60), version 0 (Kafka 2.8).
//
// The cluster id, the controller and the live brokers, from ZooKeeper.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
)

var describeClusterAPI = api{key: 60, min: 0, max: 0, handle: handleDescribeCluster}

func handleDescribeCluster(b *Broker, _ *conn, _ kafka.RequestHeader, _ kmsg.Request) (kmsg.Response, error) {
	resp := kmsg.NewPtrDescribeClusterResponse()
	v := b.view()
	resp.ClusterID, resp.ControllerID = b.clusterID, v.ControllerID
	for _, id := range liveBrokers(v) {
		ep, ok := v.Brokers[id].Endpoint(b.cfg.Listeners[0].Name)
		if !ok {
			continue
		}
		br := kmsg.NewDescribeClusterResponseBroker()
		br.NodeID, br.Host, br.Port, br.Rack = id, ep.Host, int32(ep.Port), v.Brokers[id].Rack
		resp.Brokers = append(resp.Brokers, br)
	}
	return resp, nil
}
