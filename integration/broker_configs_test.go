package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// segmentFiles counts the .log segments of a partition directory.
func segmentFiles(t *testing.T, dir string) int {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	return len(names)
}

// Three real brokers on Apache ZooKeeper 3.8 under a chroot, driven by
// franz-go's kadm: a topic spread over all three, produce and consume
// across the leaders, a topic config changed with IncrementalAlterConfigs
// and applied by the brokers at once (new segment files appear at the
// smaller segment.bytes on disk), the Kafka-format /config znodes and
// notification in ZooKeeper, a cluster-default broker config reported by
// every broker, and a topic created and configured through ZooKeeper
// directly (kafka-topics/kafka-configs --zookeeper style).
func TestBrokerThreeOnApacheZooKeeperConfigs(t *testing.T) {
	zks := StartServer(t, kindApache, ServerOptions{})
	connect := zks.Addr() + "/kafka/three"
	var procs []*brokerdProc
	var seeds []string
	for id := 1; id <= 3; id++ {
		p := startBrokerd(t, id, connect)
		procs = append(procs, p)
		seeds = append(seeds, p.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0))
	require.NoError(t, err)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	eventually := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			require.True(t, time.Now().Before(deadline), "timed out waiting for %s", what)
			time.Sleep(50 * time.Millisecond)
		}
	}
	// Each broker learns of the others through its ZooKeeper passes: wait
	// until every one of them lists all three.
	for id := 1; id <= 3; id++ {
		eventually(fmt.Sprintf("broker %d lists three brokers", id), func() bool {
			resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl.Broker(id))
			return err == nil && len(resp.Brokers) == 3
		})
	}

	// One partition on each broker, assigned explicitly (the broker that
	// creates the topic may not see all three yet).
	create := kmsg.NewPtrCreateTopicsRequest()
	create.TimeoutMillis = 30000
	ct := kmsg.NewCreateTopicsRequestTopic()
	ct.Topic, ct.NumPartitions, ct.ReplicationFactor = "three", -1, -1
	for p := int32(0); p < 3; p++ {
		a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		a.Partition, a.Replicas = p, []int32{p + 1}
		ct.ReplicaAssignment = append(ct.ReplicaAssignment, a)
	}
	create.Topics = append(create.Topics, ct)
	cr, err := create.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Zero(t, cr.Topics[0].ErrorCode, "%v", cr.Topics[0].ErrorMessage)
	// The broker answering the metadata may learn the topic a pass later.
	var md kadm.TopicDetails
	eventually("one partition led by each broker", func() bool {
		md, err = adm.ListTopics(ctx, "three")
		leaders := map[int32]bool{}
		for _, p := range md["three"].Partitions {
			if p.Leader >= 0 {
				leaders[p.Leader] = true
			}
		}
		return err == nil && len(leaders) == 3
	})

	r, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "segment.bytes", Value: kmsg.StringPtr("1024")}}, "three")
	require.NoError(t, err)
	require.NoError(t, r[0].Err)
	r, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "log.retention.ms", Value: kmsg.StringPtr("7200000")}})
	require.NoError(t, err)
	require.NoError(t, r[0].Err)

	zc, _, err := zk.Connect([]string{zks.Addr()}, 4*time.Second, zk.WithLogger(quietLogger{}))
	require.NoError(t, err)
	defer zc.Close()
	data, _, err := zc.Get("/kafka/three/config/topics/three")
	require.NoError(t, err)
	require.JSONEq(t, `{"version":1,"config":{"segment.bytes":"1024"}}`, string(data))
	data, _, err = zc.Get("/kafka/three/config/brokers/<default>")
	require.NoError(t, err)
	require.JSONEq(t, `{"version":1,"config":{"log.retention.ms":"7200000"}}`, string(data))
	changes, _, err := zc.Children("/kafka/three/config/changes")
	require.NoError(t, err)
	sort.Strings(changes)
	var paths []string
	for _, c := range changes {
		data, _, err := zc.Get("/kafka/three/config/changes/" + c)
		require.NoError(t, err)
		var n struct {
			Version    int    `json:"version"`
			EntityPath string `json:"entity_path"`
		}
		require.NoError(t, json.Unmarshal(data, &n))
		require.Equal(t, 2, n.Version)
		paths = append(paths, n.EntityPath)
	}
	require.Contains(t, paths, "topics/three")
	require.Contains(t, paths, "brokers/<default>")

	// Every broker reports the cluster default for its topics.
	for id := int32(1); id <= 3; id++ {
		eventually(fmt.Sprintf("broker %d reports log.retention.ms from /config/brokers/<default>", id), func() bool {
			bc, err := adm.DescribeBrokerConfigs(ctx, id)
			if err != nil {
				return false
			}
			for _, c := range bc[0].Configs {
				if c.Key == "log.retention.ms" {
					return *c.Value == "7200000" && c.Source == kmsg.ConfigSourceDynamicDefaultBrokerConfig
				}
			}
			return false
		})
	}
	// Likewise the topic config: the answering broker waited for it, the
	// others apply it from the notification.
	for id := int32(1); id <= 3; id++ {
		eventually(fmt.Sprintf("broker %d has segment.bytes=1024", id), func() bool {
			req := kmsg.NewPtrDescribeConfigsRequest()
			rr := kmsg.NewDescribeConfigsRequestResource()
			rr.ResourceType, rr.ResourceName, rr.ConfigNames = kmsg.ConfigResourceTypeTopic, "three", []string{"segment.bytes"}
			req.Resources = append(req.Resources, rr)
			resp, err := req.RequestWith(ctx, cl.Broker(int(id)))
			return err == nil && len(resp.Resources) == 1 && len(resp.Resources[0].Configs) == 1 &&
				*resp.Resources[0].Configs[0].Value == "1024"
		})
	}

	// The new segment.bytes is in force on every broker: 40 records of
	// 200 bytes per partition roll several segment files.
	for i := 0; i < 40; i++ {
		for p := int32(0); p < 3; p++ {
			require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Topic: "three", Partition: p, Value: []byte(strings.Repeat("v", 200))}).FirstErr())
		}
	}
	for p := int32(0); p < 3; p++ {
		leader := md["three"].Partitions[p].Leader
		dir := filepath.Join(procs[leader-1].logDir(), fmt.Sprintf("three-%d", p))
		require.Greater(t, segmentFiles(t, dir), 4, "partition %d on broker %d rolls at segment.bytes=1024", p, leader)
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics("three"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cons.Close()
	got := 0
	for got < 120 {
		fs := cons.PollFetches(ctx)
		require.NoError(t, ctx.Err())
		fs.EachRecord(func(*kgo.Record) { got++ })
	}
	require.Equal(t, 120, got)

	// A topic and its config written to ZooKeeper directly.
	_, err = zc.Create("/kafka/three/config/topics/legacy", []byte(`{"version":1,"config":{"segment.bytes":"2048"}}`), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, err = zc.Create("/kafka/three/brokers/topics/legacy", []byte(`{"version":1,"partitions":{"0":[2]}}`), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	topicConfig := func(topic, key string) (string, kmsg.ConfigSource) {
		rc, err := adm.DescribeTopicConfigs(ctx, topic)
		if err != nil || rc[0].Err != nil {
			return "", -1
		}
		for _, c := range rc[0].Configs {
			if c.Key == key {
				return *c.Value, c.Source
			}
		}
		return "", -1
	}
	eventually("legacy topic described", func() bool {
		v, src := topicConfig("legacy", "segment.bytes")
		return v == "2048" && src == kmsg.ConfigSourceDynamicTopicConfig
	})
	_, err = zc.Set("/kafka/three/config/topics/legacy", []byte(`{"version":1,"config":{"segment.bytes":"1024","retention.ms":"60000"}}`), -1)
	require.NoError(t, err)
	_, err = zc.Create("/kafka/three/config/changes/config_change_", []byte(`{"version":2,"entity_path":"topics/legacy"}`), zk.FlagSequence, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	eventually("legacy config change seen", func() bool {
		v, _ := topicConfig("legacy", "retention.ms")
		return v == "60000"
	})
	for i := 0; i < 30; i++ {
		require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Topic: "legacy", Partition: 0, Value: []byte(strings.Repeat("w", 200))}).FirstErr())
	}
	dir := filepath.Join(procs[1].logDir(), "legacy-0")
	require.Greater(t, segmentFiles(t, dir), 3, "legacy-0 rolls at segment.bytes=1024")
}
