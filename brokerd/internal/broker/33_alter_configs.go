package broker

// AlterConfigs (key 33), versions 0-1.
//
// Replaces the whole dynamic config of each resource, as Kafka 2.8 does:
//   - topics (type 2): every key must be a Kafka topic config
//     (INVALID_CONFIG "Unknown topic config name") with a valid value
//     (INVALID_REQUEST); an unknown topic is UNKNOWN_TOPIC_OR_PARTITION.
//     Written to /config/topics/<t>.
//   - brokers (type 4): name "" is the cluster default
//     (/config/brokers/<default>), this broker's id its own
//     (/config/brokers/<id>), another id INVALID_REQUEST; only the keys
//     Kafka changes at runtime are taken ("Cannot update these configs
//     dynamically", INVALID_REQUEST).
//
// Each write is followed by a sequential /config/changes/config_change_
// notification; every broker re-reads the entity and applies it to its open
// logs. ValidateOnly checks and writes nothing. Other resource types are
// INVALID_REQUEST. See dynconfig.go.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
)

var alterConfigsAPI = api{key: 33, min: 0, max: 1, handle: handleAlterConfigs}

func handleAlterConfigs(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.AlterConfigsRequest)
	resp := kmsg.NewPtrAlterConfigsResponse()
	for _, res := range req.Resources {
		next := map[string]string{}
		for _, c := range res.Configs {
			if c.Value != nil {
				next[c.Name] = *c.Value
			}
		}
		rr := kmsg.NewAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
		if err := b.alterConfig(res.ResourceType, res.ResourceName, req.ValidateOnly,
			func(map[string]string) (map[string]string, *configError) { return next, nil }); err != nil {
			rr.ErrorCode, rr.ErrorMessage = err.code, &err.msg
		}
		resp.Resources = append(resp.Resources, rr)
	}
	return resp, nil
}
