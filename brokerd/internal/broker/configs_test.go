package broker

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafkazk"
)

func describeTopic(t *testing.T, adm *kadm.Client, topic string) map[string]kadm.Config {
	t.Helper()
	rc, err := adm.DescribeTopicConfigs(ctxT(t), topic)
	require.NoError(t, err)
	require.NoError(t, rc[0].Err)
	out := map[string]kadm.Config{}
	for _, c := range rc[0].Configs {
		out[c.Key] = c
	}
	return out
}

// configChanges returns the entity paths of the /config/changes
// notifications, oldest first.
func configChanges(t *testing.T, zc *zk.Conn, chroot string) []string {
	t.Helper()
	names, _, err := zc.Children(chroot + kafkazk.ConfigChangesPath)
	require.NoError(t, err)
	sort.Strings(names)
	var out []string
	for _, n := range names {
		require.True(t, strings.HasPrefix(n, kafkazk.ConfigChangePrefix) && len(n) == len(kafkazk.ConfigChangePrefix)+10, n)
		data, _, err := zc.Get(chroot + kafkazk.ConfigChangesPath + "/" + n)
		require.NoError(t, err)
		var c map[string]any
		require.NoError(t, json.Unmarshal(data, &c))
		require.Equal(t, float64(2), c["version"])
		out = append(out, c["entity_path"].(string))
	}
	return out
}

func znodeConfig(t *testing.T, zc *zk.Conn, p string) map[string]string {
	t.Helper()
	data, _, err := zc.Get(p)
	require.NoError(t, err)
	var c struct {
		Version int               `json:"version"`
		Config  map[string]string `json:"config"`
	}
	require.NoError(t, json.Unmarshal(data, &c))
	require.Equal(t, 1, c.Version)
	return c.Config
}

// Topic configs changed with kadm (IncrementalAlterConfigs and the legacy
// AlterConfigs) land in /config/topics/<t> with a /config/changes
// notification, and both brokers apply them to the open logs at once:
// segments roll at the new segment.bytes, max.message.bytes and
// min.insync.replicas are enforced, DescribeConfigs reports the source.
func TestAlterTopicConfigsLive(t *testing.T) {
	bs, connect := startCluster(t, 2)
	ctx := ctxT(t)
	zc, chroot := zkConn(t, connect)
	adm := kadm.NewClient(newClient(t, bs[0]))
	res, err := adm.CreateTopic(ctx, 2, 1, nil, "live")
	require.NoError(t, err)
	require.NoError(t, res.Err)
	before := len(configChanges(t, zc, chroot))

	// validate_only changes nothing.
	vr, err := adm.ValidateAlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "segment.bytes", Value: kmsg.StringPtr("1000")}}, "live")
	require.NoError(t, err)
	require.NoError(t, vr[0].Err)
	require.Empty(t, znodeConfig(t, zc, chroot+kafkazk.TopicConfigPath("live")))
	require.Len(t, configChanges(t, zc, chroot), before)

	// Refusals, with Kafka's codes.
	bad, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "no.such.key", Value: kmsg.StringPtr("1")}}, "live")
	require.NoError(t, err)
	require.ErrorIs(t, bad[0].Err, kerr.InvalidConfig)
	require.Contains(t, bad[0].ErrMessage, "Unknown topic config name: no.such.key")
	bad, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "segment.bytes", Value: kmsg.StringPtr("ten")}}, "live")
	require.NoError(t, err)
	require.ErrorIs(t, bad[0].Err, kerr.InvalidRequest)
	bad, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "segment.ms", Op: kadm.AppendConfig, Value: kmsg.StringPtr("1")}}, "live")
	require.NoError(t, err)
	require.ErrorIs(t, bad[0].Err, kerr.InvalidRequest)
	bad, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: kmsg.StringPtr("1")}}, "nosuchtopic")
	require.NoError(t, err)
	require.ErrorIs(t, bad[0].Err, kerr.UnknownTopicOrPartition)

	// Incremental SET: written, notified, applied on both brokers.
	ok, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Name: "segment.bytes", Value: kmsg.StringPtr("1000")},
		{Name: "max.message.bytes", Value: kmsg.StringPtr("600")},
		{Name: "cleanup.policy", Op: kadm.AppendConfig, Value: kmsg.StringPtr("compact")},
	}, "live")
	require.NoError(t, err)
	require.NoError(t, ok[0].Err)
	require.Equal(t, map[string]string{"segment.bytes": "1000", "max.message.bytes": "600", "cleanup.policy": "delete,compact"},
		znodeConfig(t, zc, chroot+kafkazk.TopicConfigPath("live")))
	changes := configChanges(t, zc, chroot)
	require.Equal(t, "topics/live", changes[len(changes)-1])
	for _, b := range bs {
		eventually(t, "segment.bytes applied", func() bool {
			for _, p := range b.dir.Partitions() {
				if l, _ := b.dir.Log(p); p.Topic == "live" && (l.Config().SegmentBytes != 1000 || l.Config().CleanupPolicy != "delete,compact") {
					return false
				}
			}
			return true
		})
	}
	cfgs := describeTopic(t, adm, "live")
	require.Equal(t, "1000", *cfgs["segment.bytes"].Value)
	require.Equal(t, kmsg.ConfigSourceDynamicTopicConfig, cfgs["segment.bytes"].Source)
	require.Equal(t, kmsg.ConfigSourceDefaultConfig, cfgs["retention.ms"].Source)
	require.Equal(t, "604800000", *cfgs["retention.ms"].Value)

	prod := newClient(t, bs[1], kgo.DefaultProduceTopic("live"), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0), kgo.RecordRetries(0), kgo.ProducerBatchCompression(kgo.NoCompression()))
	for i := 0; i < 20; i++ {
		for p := int32(0); p < 2; p++ {
			require.NoError(t, prod.ProduceSync(ctx, &kgo.Record{Partition: p, Value: []byte(strings.Repeat("x", 200))}).FirstErr())
		}
	}
	for _, b := range bs {
		for _, p := range b.dir.Partitions() {
			if p.Topic == "live" {
				l, _ := b.dir.Log(p)
				require.Greater(t, len(l.SegmentBases()), 3, "%s rolls at the new segment.bytes", p)
			}
		}
	}
	err = prod.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: []byte(strings.Repeat("y", 700))}).FirstErr()
	require.ErrorIs(t, err, kerr.MessageTooLarge)

	// min.insync.replicas=2 on a one-replica topic: acks=all is refused.
	ok, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "min.insync.replicas", Value: kmsg.StringPtr("2")}}, "live")
	require.NoError(t, err)
	require.NoError(t, ok[0].Err)
	eventually(t, "min.insync.replicas applied", func() bool {
		return bs[0].settings("live").minInsyncReplicas == 2 && bs[1].settings("live").minInsyncReplicas == 2
	})
	err = prod.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: []byte("z")}).FirstErr()
	require.ErrorIs(t, err, kerr.NotEnoughReplicas)

	// The legacy AlterConfigs replaces the whole set: back to defaults.
	ok, err = adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: kmsg.StringPtr("3600000")}}, "live")
	require.NoError(t, err)
	require.NoError(t, ok[0].Err)
	require.Equal(t, map[string]string{"retention.ms": "3600000"}, znodeConfig(t, zc, chroot+kafkazk.TopicConfigPath("live")))
	for _, b := range bs {
		eventually(t, "defaults back", func() bool {
			for _, p := range b.dir.Partitions() {
				if l, _ := b.dir.Log(p); p.Topic == "live" && (l.Config().SegmentBytes != 1<<30 || l.Config().RetentionMs != 3600000 || l.Config().CleanupPolicy != "delete") {
					return false
				}
			}
			return true
		})
	}
	require.NoError(t, prod.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: []byte(strings.Repeat("y", 700))}).FirstErr())
	// Incremental DELETE.
	ok, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "retention.ms", Op: kadm.DeleteConfig}}, "live")
	require.NoError(t, err)
	require.NoError(t, ok[0].Err)
	require.Empty(t, znodeConfig(t, zc, chroot+kafkazk.TopicConfigPath("live")))
}

// Dynamic broker configs: the cluster default (/config/brokers/<default>)
// and one broker's own (/config/brokers/<id>) change the topic defaults of
// the brokers they concern, with their DescribeConfigs sources; static
// keys are refused with Kafka's message; a topic created and configured
// through ZooKeeper directly (kafka-configs --zookeeper style) is applied
// from its notification.
func TestAlterBrokerConfigs(t *testing.T) {
	bs, connect := startCluster(t, 2)
	ctx := ctxT(t)
	zc, chroot := zkConn(t, connect)
	cl := newClient(t, bs[0])
	adm := kadm.NewClient(cl)
	res, err := adm.CreateTopic(ctx, 2, 1, nil, "bt")
	require.NoError(t, err)
	require.NoError(t, res.Err)

	r, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "zookeeper.connect", Value: kmsg.StringPtr("elsewhere:2181")}}, 1)
	require.NoError(t, err)
	require.ErrorIs(t, r[0].Err, kerr.InvalidRequest)
	require.Contains(t, r[0].ErrMessage, "Cannot update these configs dynamically: Set(zookeeper.connect)")
	r, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "log.segment.bytes", Value: kmsg.StringPtr("5")}})
	require.NoError(t, err)
	require.ErrorIs(t, r[0].Err, kerr.InvalidRequest)

	// Cluster default.
	r, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "log.retention.ms", Value: kmsg.StringPtr("1234567")}})
	require.NoError(t, err)
	require.NoError(t, r[0].Err)
	require.Equal(t, map[string]string{"log.retention.ms": "1234567"}, znodeConfig(t, zc, chroot+"/config/brokers/<default>"))
	changes := configChanges(t, zc, chroot)
	require.Equal(t, "brokers/<default>", changes[len(changes)-1])
	for _, b := range bs {
		eventually(t, "default retention applied", func() bool {
			for _, p := range b.dir.Partitions() {
				if l, _ := b.dir.Log(p); p.Topic == "bt" && l.Config().RetentionMs != 1234567 {
					return false
				}
			}
			return true
		})
	}
	// This broker alone.
	r, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "message.max.bytes", Value: kmsg.StringPtr("2000")}}, 1)
	require.NoError(t, err)
	require.NoError(t, r[0].Err)
	require.Equal(t, map[string]string{"message.max.bytes": "2000"}, znodeConfig(t, zc, chroot+"/config/brokers/1"))
	eventually(t, "broker 1 max.message.bytes", func() bool { return bs[0].settings("bt").maxMessageBytes == 2000 })
	require.Equal(t, 1048588, bs[1].settings("bt").maxMessageBytes)

	bc, err := adm.DescribeBrokerConfigs(ctx, 1)
	require.NoError(t, err)
	got := map[string]kadm.Config{}
	for _, c := range bc[0].Configs {
		got[c.Key] = c
	}
	require.Equal(t, kmsg.ConfigSourceDynamicBrokerConfig, got["message.max.bytes"].Source)
	require.False(t, got["message.max.bytes"].Sensitive)
	require.Equal(t, kmsg.ConfigSourceDynamicDefaultBrokerConfig, got["log.retention.ms"].Source)
	require.Equal(t, "1234567", *got["log.retention.ms"].Value)
	require.Equal(t, kmsg.ConfigSourceStaticBrokerConfig, got["zookeeper.connect"].Source)
	dc, err := adm.DescribeBrokerConfigs(ctx)
	require.NoError(t, err)
	require.Len(t, dc[0].Configs, 1, "the cluster-level describe lists the dynamic defaults only")
	require.Equal(t, "log.retention.ms", dc[0].Configs[0].Key)
	tc := describeTopic(t, adm, "bt")
	require.Equal(t, kmsg.ConfigSourceDynamicDefaultBrokerConfig, tc["retention.ms"].Source)
	require.Equal(t, "1234567", *tc["retention.ms"].Value)

	// A per-broker resource sent to another broker is refused as in Kafka.
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	rr := kmsg.NewIncrementalAlterConfigsRequestResource()
	rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeBroker, "1"
	c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	c.Name, c.Value = "num.io.threads", kmsg.StringPtr("4")
	rr.Configs = append(rr.Configs, c)
	req.Resources = append(req.Resources, rr)
	raw, err := req.RequestWith(ctx, cl.Broker(2))
	require.NoError(t, err)
	require.Equal(t, kerr.InvalidRequest.Code, raw.Resources[0].ErrorCode)
	require.Contains(t, *raw.Resources[0].ErrorMessage, "Unexpected broker id, expected 2")

	// A topic made and configured through ZooKeeper directly, as the old
	// kafka-topics/kafka-configs --zookeeper do.
	_, err = zc.Create(chroot+kafkazk.TopicConfigPath("zkt"), []byte(`{"version":1,"config":{}}`), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, err = zc.Create(chroot+kafkazk.TopicPath("zkt"), []byte(`{"version":1,"partitions":{"0":[1]}}`), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	eventually(t, "zkt led", func() bool { _, ok := bs[0].dir.Log(tp("zkt", 0)); return ok })
	_, err = zc.Set(chroot+kafkazk.TopicConfigPath("zkt"), []byte(`{"version":1,"config":{"segment.bytes":"4096","cleanup.policy":"compact,delete"}}`), -1)
	require.NoError(t, err)
	_, err = zc.Create(chroot+kafkazk.ConfigChangesPath+"/"+kafkazk.ConfigChangePrefix, []byte(`{"version":2,"entity_path":"topics/zkt"}`), zk.FlagSequence, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	eventually(t, "zkt config applied", func() bool {
		l, _ := bs[0].dir.Log(tp("zkt", 0))
		return l.Config().SegmentBytes == 4096 && l.Config().CleanupPolicy == "compact,delete"
	})
	r, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "cleanup.policy", Op: kadm.SubtractConfig, Value: kmsg.StringPtr("compact")}}, "zkt")
	require.NoError(t, err)
	require.NoError(t, r[0].Err)
	eventually(t, "zkt back to delete", func() bool {
		l, _ := bs[0].dir.Log(tp("zkt", 0))
		return l.Config().CleanupPolicy == "delete"
	})
}
