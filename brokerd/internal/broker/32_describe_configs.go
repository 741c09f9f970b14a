package broker

// DescribeConfigs (key 32), versions 0-3.
//
// Topic resources (type 2): every Kafka 2.8 topic config with the value in
// force and where it comes from, highest first: /config/topics/<t>
// (DYNAMIC_TOPIC_CONFIG), the broker synonym set dynamically for this
// broker (DYNAMIC_BROKER_CONFIG) or for all (DYNAMIC_DEFAULT_BROKER_CONFIG),
// server.properties (STATIC_BROKER_CONFIG), Kafka's default
// (DEFAULT_CONFIG). IncludeSynonyms (v1+) lists every level that has a
// value. Broker resources (type 4): this broker's id describes the
// server.properties keys brokerd acts on (read-only) and every key that may
// change at runtime with its source; "" describes the cluster-level dynamic
// configs only (/config/brokers/<default>), as Kafka does; another broker's
// id is INVALID_REQUEST. ConfigNames filters. Other resource types are
// INVALID_REQUEST. ConfigType (v3) is filled in.

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
	"mqstack/proto/kafkazk"
)

var describeConfigsAPI = api{key: 32, min: 0, max: 3, handle: handleDescribeConfigs}

func handleDescribeConfigs(b *Broker, _ *conn, h kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.DescribeConfigsRequest)
	resp := kmsg.NewPtrDescribeConfigsResponse()
	v := b.view()
	for _, res := range req.Resources {
		rr := kmsg.NewDescribeConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
		want := func(name string) bool {
			if res.ConfigNames == nil {
				return true
			}
			for _, n := range res.ConfigNames {
				if n == name {
					return true
				}
			}
			return false
		}
		add := func(name string, kind configKind, readOnly bool, syn []configValue) {
			if !want(name) {
				return
			}
			c := kmsg.NewDescribeConfigsResponseResourceConfig()
			val := syn[0].value
			c.Name, c.Value, c.ReadOnly, c.Source = name, &val, readOnly, syn[0].source
			c.IsDefault = c.Source == kmsg.ConfigSourceDefaultConfig
			if h.APIVersion == 0 && c.Source == kmsg.ConfigSourceDefaultConfig {
				c.Source = -1
			}
			c.ConfigType = configTypes[kind]
			if req.IncludeSynonyms {
				for _, s := range syn {
					sy := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
					sv := s.value
					sy.Name, sy.Value, sy.Source = s.name, &sv, s.source
					c.ConfigSynonyms = append(c.ConfigSynonyms, sy)
				}
			}
			rr.Configs = append(rr.Configs, c)
		}
		switch res.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			t := b.topicView(res.ResourceName)
			if t == nil {
				rr.ErrorCode = kerr.UnknownTopicOrPartition.Code
				msg := fmt.Sprintf("Topic %s does not exist", res.ResourceName)
				rr.ErrorMessage = &msg
				break
			}
			for _, k := range sortedKeys(topicConfigDefs) {
				add(k, topicConfigDefs[k].kind, false, b.topicSynonyms(v, t.Config, k))
			}
		case kmsg.ConfigResourceTypeBroker:
			switch res.ResourceName {
			case "":
				defaults := v.BrokerConfigs[kafkazk.DefaultBrokerEntity]
				for _, k := range sortedKeys(defaults) {
					add(k, dynamicBrokerConfigs[k].kind, false, []configValue{{k, defaults[k], kmsg.ConfigSourceDynamicDefaultBrokerConfig}})
				}
			case strconv.Itoa(int(b.cfg.BrokerID)):
				for _, kv := range b.staticBrokerConfigs() {
					add(kv[0], kindString, true, []configValue{{kv[0], kv[1], kmsg.ConfigSourceStaticBrokerConfig}})
				}
				for _, k := range sortedKeys(dynamicBrokerConfigs) {
					d := dynamicBrokerConfigs[k]
					add(k, d.kind, false, b.brokerSynonyms(v, k, d.def))
				}
				sort.Slice(rr.Configs, func(i, j int) bool { return rr.Configs[i].Name < rr.Configs[j].Name })
			default:
				rr.ErrorCode = kerr.InvalidRequest.Code
				msg := fmt.Sprintf("Unexpected broker id, expected %d or empty string, but received %s", b.cfg.BrokerID, res.ResourceName)
				rr.ErrorMessage = &msg
			}
		default:
			rr.ErrorCode = kerr.InvalidRequest.Code
		}
		resp.Resources = append(resp.Resources, rr)
	}
	return resp, nil
}

var configTypes = map[configKind]kmsg.ConfigType{kindString: kmsg.ConfigTypeString, kindInt: kmsg.ConfigTypeInt,
	kindLong: kmsg.ConfigTypeLong, kindBool: kmsg.ConfigTypeBoolean, kindDouble: kmsg.ConfigTypeDouble, kindList: kmsg.ConfigTypeList}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// staticBrokerConfigs are the server.properties keys brokerd acts on that
// cannot change at runtime.
func (b *Broker) staticBrokerConfigs() [][2]string {
	c := b.cfg
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	return [][2]string{
		{"broker.id", i(int64(c.BrokerID))},
		{"zookeeper.connect", c.ZookeeperConnect},
		{"num.partitions", i(int64(c.NumPartitions))},
		{"default.replication.factor", i(int64(c.DefaultReplicationFactor))},
		{"auto.create.topics.enable", strconv.FormatBool(c.AutoCreateTopicsEnable)},
		{"delete.topic.enable", strconv.FormatBool(c.DeleteTopicEnable)},
		{"log.retention.check.interval.ms", i(c.LogRetentionCheckMs)},
		{"socket.request.max.bytes", i(int64(c.SocketRequestMaxBytes))},
		{"offsets.topic.num.partitions", i(int64(c.OffsetsTopicPartitions))},
		{"offsets.topic.replication.factor", i(int64(c.OffsetsTopicRF))},
	}
}
