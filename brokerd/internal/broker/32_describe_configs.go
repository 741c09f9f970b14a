package broker

// DescribeConfigs (key 32), versions 0-3.
//
// Topic resources (type 2): the topic configs brokerd acts on, with the
// value set in /config/topics/<t> (source DYNAMIC_TOPIC_CONFIG) or the
// broker's default (DEFAULT_CONFIG). Broker resources (type 4, this broker's
// id or ""): the server.properties keys brokerd acts on (STATIC_BROKER_CONFIG),
// read-only. ConfigNames filters. Other resource types are INVALID_REQUEST.

import (
	"sort"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
)

var describeConfigsAPI = api{key: 32, min: 0, max: 3, handle: handleDescribeConfigs}

func handleDescribeConfigs(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.DescribeConfigsRequest)
	resp := kmsg.NewPtrDescribeConfigsResponse()
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
		add := func(name, value string, source kmsg.ConfigSource, readOnly bool) {
			if !want(name) {
				return
			}
			c := kmsg.NewDescribeConfigsResponseResourceConfig()
			v := value
			c.Name, c.Value, c.ReadOnly = name, &v, readOnly
			c.Source = source
			c.IsDefault = source == kmsg.ConfigSourceDefaultConfig
			rr.Configs = append(rr.Configs, c)
		}
		switch res.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			t := b.topicView(res.ResourceName)
			if t == nil {
				rr.ErrorCode = kerr.UnknownTopicOrPartition.Code
				break
			}
			defaults := b.segmentConfigDefaults()
			keys := make([]string, 0, len(defaults))
			for k := range defaults {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if v, ok := t.Config[k]; ok {
					add(k, v, kmsg.ConfigSourceDynamicTopicConfig, false)
				} else {
					add(k, defaults[k], kmsg.ConfigSourceDefaultConfig, false)
				}
			}
		case kmsg.ConfigResourceTypeBroker:
			if res.ResourceName != "" && res.ResourceName != strconv.Itoa(int(b.cfg.BrokerID)) {
				rr.ErrorCode = kerr.InvalidRequest.Code
				break
			}
			for _, kv := range b.brokerConfigs() {
				add(kv[0], kv[1], kmsg.ConfigSourceStaticBrokerConfig, true)
			}
		default:
			rr.ErrorCode = kerr.InvalidRequest.Code
		}
		resp.Resources = append(resp.Resources, rr)
	}
	return resp, nil
}

// segmentConfigDefaults are the topic configs and their broker defaults.
func (b *Broker) segmentConfigDefaults() map[string]string {
	sc := b.segmentConfig("")
	ts := "CreateTime"
	if sc.LogAppendTime {
		ts = "LogAppendTime"
	}
	return map[string]string{
		"cleanup.policy": sc.CleanupPolicy, "segment.bytes": strconv.FormatInt(sc.SegmentBytes, 10),
		"segment.ms": strconv.FormatInt(sc.SegmentMs, 10), "retention.ms": strconv.FormatInt(sc.RetentionMs, 10),
		"retention.bytes": strconv.FormatInt(sc.RetentionBytes, 10), "max.message.bytes": strconv.Itoa(sc.MaxMessageBytes),
		"delete.retention.ms": strconv.FormatInt(sc.DeleteRetentionMs, 10), "message.timestamp.type": ts,
	}
}

func (b *Broker) brokerConfigs() [][2]string {
	c := b.cfg
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	out := [][2]string{
		{"broker.id", i(int64(c.BrokerID))},
		{"zookeeper.connect", c.ZookeeperConnect},
		{"num.partitions", i(int64(c.NumPartitions))},
		{"default.replication.factor", i(int64(c.DefaultReplicationFactor))},
		{"auto.create.topics.enable", strconv.FormatBool(c.AutoCreateTopicsEnable)},
		{"delete.topic.enable", strconv.FormatBool(c.DeleteTopicEnable)},
		{"log.retention.ms", i(c.LogRetentionMs)},
		{"log.retention.bytes", i(c.LogRetentionBytes)},
		{"log.segment.bytes", i(c.LogSegmentBytes)},
		{"message.max.bytes", i(int64(c.MessageMaxBytes))},
		{"socket.request.max.bytes", i(int64(c.SocketRequestMaxBytes))},
		{"offsets.topic.num.partitions", i(int64(c.OffsetsTopicPartitions))},
		{"offsets.topic.replication.factor", i(int64(c.OffsetsTopicRF))},
		{"min.insync.replicas", i(int64(c.MinInsyncReplicas))},
	}
	sort.Slice(out, func(a, b int) bool { return out[a][0] < out[b][0] })
	return out
}
