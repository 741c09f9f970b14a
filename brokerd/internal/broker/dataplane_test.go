package broker

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/config"
	"mqstack/proto/kafka"
	"mqstack/storage/segment"
)

// Produce with every codec through franz-go and read everything back.
func TestProduceConsumeEveryCodec(t *testing.T) {
	b, _ := startBroker(t, nil)
	codecs := map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
	}
	for name, codec := range codecs {
		t.Run(name, func(t *testing.T) {
			topic := "codec-" + name
			cl := newClient(t, b, kgo.ProducerBatchCompression(codec), kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic(topic))
			ctx := ctxT(t)
			var recs []*kgo.Record
			for i := range 200 {
				recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(fmt.Sprintf("value-%d-%s", i, name))})
			}
			require.NoError(t, cl.ProduceSync(ctx, recs...).FirstErr())
			require.Equal(t, int64(0), recs[0].Offset)
			require.Equal(t, int64(199), recs[199].Offset)

			cons := newClient(t, b, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			var got []*kgo.Record
			for len(got) < 200 {
				fs := cons.PollFetches(ctx)
				require.NoError(t, ctx.Err())
				fs.EachError(func(_ string, _ int32, err error) { require.NoError(t, err) })
				got = append(got, fs.Records()...)
			}
			require.Len(t, got, 200)
			for i, r := range got {
				require.Equal(t, int64(i), r.Offset)
				require.Equal(t, fmt.Sprintf("value-%d-%s", i, name), string(r.Value))
			}
		})
	}
}

// ListOffsets: earliest, latest and by timestamp.
func TestListOffsets(t *testing.T) {
	b, _ := startBroker(t, nil)
	cl := newClient(t, b, kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("times"))
	ctx := ctxT(t)
	base := time.UnixMilli(1_700_000_000_000)
	for i := range 5 {
		// One record per produce so each is its own batch.
		require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: []byte("x"), Timestamp: base.Add(time.Duration(i) * time.Second)}).FirstErr())
	}
	list := func(ts int64, version int16) kmsg.ListOffsetsResponseTopicPartition {
		req := kmsg.NewPtrListOffsetsRequest()
		req.Version = version
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "times"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = ts
		rp.MaxNumOffsets = 1
		rt.Partitions = []kmsg.ListOffsetsRequestTopicPartition{rp}
		req.Topics = []kmsg.ListOffsetsRequestTopic{rt}
		resp, err := req.RequestWith(ctx, cl)
		require.NoError(t, err)
		return resp.Topics[0].Partitions[0]
	}
	require.Equal(t, int64(0), list(-2, 6).Offset)
	require.Equal(t, int64(5), list(-1, 6).Offset)
	require.Equal(t, int64(2), list(base.Add(2*time.Second).UnixMilli(), 6).Offset)
	require.Equal(t, int64(3), list(base.Add(2500*time.Millisecond).UnixMilli(), 6).Offset)
	require.Equal(t, int64(-1), list(base.Add(time.Hour).UnixMilli(), 6).Offset)
}

func TestCreateDeleteTopics(t *testing.T) {
	b, dir := startBroker(t, func(c *config.Config) { c.AutoCreateTopicsEnable = false })
	cl := newClient(t, b)
	ctx := ctxT(t)
	create := func(name string, parts int32, rf int16, cfgs map[string]string) kmsg.CreateTopicsResponseTopic {
		req := kmsg.NewPtrCreateTopicsRequest()
		req.TimeoutMillis = 5000
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, parts, rf
		for k, v := range cfgs {
			c := kmsg.NewCreateTopicsRequestTopicConfig()
			c.Name, c.Value = k, kmsg.StringPtr(v)
			rt.Configs = append(rt.Configs, c)
		}
		req.Topics = []kmsg.CreateTopicsRequestTopic{rt}
		resp, err := req.RequestWith(ctx, cl)
		require.NoError(t, err)
		return resp.Topics[0]
	}
	r := create("orders", 3, 1, nil)
	require.Equal(t, int16(0), r.ErrorCode, "%v", r.ErrorMessage)
	require.Equal(t, int32(3), r.NumPartitions)
	for p := range 3 {
		require.DirExists(t, fmt.Sprintf("%s/orders-%d", dir, p))
	}
	require.Equal(t, kerr.TopicAlreadyExists.Code, create("orders", 3, 1, nil).ErrorCode)
	require.Equal(t, kerr.InvalidReplicationFactor.Code, create("rf3", 1, 3, nil).ErrorCode)
	require.Equal(t, kerr.InvalidTopicException.Code, create("bad/name", 1, 1, nil).ErrorCode)
	require.Equal(t, kerr.InvalidConfig.Code, create("cfg", 1, 1, map[string]string{"no.such.key": "1"}).ErrorCode)
	require.Equal(t, kerr.InvalidPartitions.Code, create("zero", 0, 1, nil).ErrorCode)
	r = create("defaults", -1, -1, map[string]string{"retention.ms": "1000"})
	require.Equal(t, int16(0), r.ErrorCode)
	require.Equal(t, int32(1), r.NumPartitions)

	// Metadata shows them; auto-creation is off so an unknown topic stays unknown.
	md := kmsg.NewPtrMetadataRequest()
	md.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("orders")}, {Topic: kmsg.StringPtr("ghost")}}
	md.AllowAutoTopicCreation = true
	mresp, err := md.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Len(t, mresp.Topics[0].Partitions, 3)
	require.Equal(t, int32(1), mresp.Topics[0].Partitions[0].Leader)
	require.Equal(t, kerr.UnknownTopicOrPartition.Code, mresp.Topics[1].ErrorCode)

	del := kmsg.NewPtrDeleteTopicsRequest()
	del.TimeoutMillis = 5000
	del.TopicNames = []string{"orders", "ghost"}
	dresp, err := del.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Equal(t, int16(0), dresp.Topics[0].ErrorCode)
	require.Equal(t, kerr.UnknownTopicOrPartition.Code, dresp.Topics[1].ErrorCode)
	require.NoDirExists(t, dir+"/orders-0")
}

func TestDeleteDisabled(t *testing.T) {
	b, _ := startBroker(t, func(c *config.Config) { c.DeleteTopicEnable = false })
	cl := newClient(t, b, kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("keep"))
	ctx := ctxT(t)
	require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr())
	del := kmsg.NewPtrDeleteTopicsRequest()
	del.TopicNames = []string{"keep"}
	resp, err := del.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Equal(t, kerr.TopicDeletionDisabled.Code, resp.Topics[0].ErrorCode)
}

// message.max.bytes: a batch above it is MESSAGE_TOO_LARGE.
func TestMessageTooLarge(t *testing.T) {
	b, _ := startBroker(t, func(c *config.Config) { c.MessageMaxBytes = 1000 })
	cl := newClient(t, b, kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("big"), kgo.ProducerBatchMaxBytes(1<<20), kgo.RecordRetries(0), kgo.ProducerBatchCompression(kgo.NoCompression()))
	ctx := ctxT(t)
	big := make([]byte, 5000)
	_, _ = rand.Read(big)
	err := cl.ProduceSync(ctx, &kgo.Record{Value: big}).FirstErr()
	require.ErrorIs(t, err, kerr.MessageTooLarge)
	require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: make([]byte, 100)}).FirstErr())
}

// A fetch at the log end waits for MaxWait, and returns early when data arrives.
func TestFetchWaitsForData(t *testing.T) {
	b, _ := startBroker(t, nil)
	cl := newClient(t, b, kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("wait"))
	ctx := ctxT(t)
	require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: []byte("first")}).FirstErr())
	fetch := func(wait int32) (*kmsg.FetchResponse, time.Duration) {
		req := kmsg.NewPtrFetchRequest()
		req.MaxWaitMillis, req.MinBytes, req.MaxBytes = wait, 1, 1<<20
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = "wait"
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.FetchOffset, rp.PartitionMaxBytes = 1, 1<<20
		rt.Partitions = []kmsg.FetchRequestTopicPartition{rp}
		req.Topics = []kmsg.FetchRequestTopic{rt}
		start := time.Now()
		resp, err := req.RequestWith(ctx, cl)
		require.NoError(t, err)
		return resp, time.Since(start)
	}
	resp, took := fetch(300)
	require.GreaterOrEqual(t, took, 250*time.Millisecond)
	require.Empty(t, resp.Topics[0].Partitions[0].RecordBatches)
	require.Equal(t, int64(1), resp.Topics[0].Partitions[0].HighWatermark)

	go func() {
		time.Sleep(200 * time.Millisecond)
		other := newClient(t, b, kgo.DefaultProduceTopic("wait"))
		_ = other.ProduceSync(ctx, &kgo.Record{Value: []byte("second")}).FirstErr()
	}()
	resp, took = fetch(10000)
	require.Less(t, took, 8*time.Second)
	require.NotEmpty(t, resp.Topics[0].Partitions[0].RecordBatches)
}

func TestMetricsEndpoint(t *testing.T) {
	b, _ := startBroker(t, nil)
	cl := newClient(t, b, kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("m"))
	require.NoError(t, cl.ProduceSync(ctxT(t), &kgo.Record{Value: []byte("a")}, &kgo.Record{Value: []byte("b")}).FirstErr())
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", b.MetricsPort()))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(body), "kafka_server_brokertopicmetrics_messagesin_total 2")
	require.Contains(t, string(body), `kafka_network_requestmetrics_requests_total{request="Produce"}`)
	// The process metrics eagle's brokers page reads (memory, CPU, uptime)
	// and the app-info version.
	require.Regexp(t, `(?m)^process_resident_memory_bytes [1-9]`, string(body))
	require.Regexp(t, `(?m)^process_start_time_seconds [1-9]`, string(body))
	require.Contains(t, string(body), "process_cpu_seconds_total")
	require.Contains(t, string(body), `kafka_server_app_info{commit_id="unknown",version="dev"} 1`)
}

func TestSplitVersion(t *testing.T) {
	v, c := splitVersion("0.1.0 (commit 8bad8ca)")
	require.Equal(t, "0.1.0", v)
	require.Equal(t, "8bad8ca", c)
	v, c = splitVersion("dev")
	require.Equal(t, "dev", v)
	require.Equal(t, "unknown", c)
}

// A compacted topic is compacted by the retention loop, and stays compacted
// after a restart (its log is reopened with the topic's config from
// ZooKeeper).
func TestCompactedTopicAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.LogRetentionCheckMs = 100
	b, err := New(cfg, zerolog.Nop())
	require.NoError(t, err)
	require.NoError(t, b.Start())
	ctx := ctxT(t)
	adm := kadm.NewClient(newClient(t, b))
	res, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"cleanup.policy": kmsg.StringPtr("compact"), "segment.bytes": kmsg.StringPtr("1024")}, "compacted")
	require.NoError(t, err)
	require.NoError(t, res.Err)
	require.NoError(t, b.Close())

	b, err = New(cfg, zerolog.Nop())
	require.NoError(t, err)
	require.NoError(t, b.Start())
	defer b.Close()
	prod := newClient(t, b, kgo.DefaultProduceTopic("compacted"))
	for i := range 200 {
		require.NoError(t, prod.ProduceSync(ctx, &kgo.Record{Key: []byte(fmt.Sprintf("k%d", i%5)), Value: []byte(fmt.Sprintf("v%03d", i))}).FirstErr())
	}
	l, ok := b.dir.Log(tp("compacted", 0))
	require.True(t, ok)
	// Compaction may already have run while the records were produced (the
	// retention loop ticks every 100 ms), so it is seen in the records the
	// log holds, not in a size taken after producing: 200 written, and at
	// most the last of each of the 5 keys per cleanable segment remain.
	eventually(t, "compaction", func() bool { return recordsInLog(t, l) < 100 })
	// The latest value of each key is still there.
	cons := newClient(t, b, kgo.ConsumeTopics("compacted"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	last := map[string]string{}
	for {
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		fs := cons.PollFetches(pctx)
		cancel()
		if len(fs.Records()) == 0 {
			break
		}
		for _, r := range fs.Records() {
			last[string(r.Key)] = string(r.Value)
		}
	}
	require.Equal(t, "v199", last["k4"])
	require.Equal(t, "v195", last["k0"])
}

// recordsInLog counts the records a log holds from its start offset to its
// end.
func recordsInLog(t *testing.T, l *segment.Log) int {
	n := 0
	for off := l.LogStartOffset(); off < l.LogEndOffset(); {
		data, res, err := l.ReadBytes(off, 1<<20, math.MaxInt64)
		require.NoError(t, err)
		if len(data) == 0 {
			break
		}
		for len(data) > 0 {
			batch, size, err := kafka.DecodeBatch(data)
			require.NoError(t, err)
			n += len(batch.Records)
			data = data[size:]
		}
		off = res.NextOffset
	}
	return n
}
