package broker

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/config"
	"mqstack/brokerd/internal/zktest"
	"mqstack/storage/checkpoint"
)

var zkServer *zktest.Server

func TestMain(m *testing.M) { os.Exit(zktest.RunMain(m, &zkServer)) }

// syncBuf is a goroutine-safe log sink printed when a test fails.
type syncBuf = zktest.LogBuffer

func testConfig(t testing.TB, dir string) config.Config {
	c := config.Default()
	c.Path = "test.properties"
	c.BrokerID = 1
	c.Listeners = []config.Listener{{Name: "PLAINTEXT", Host: "127.0.0.1", Port: 0}}
	c.LogDirs = []string{dir}
	c.ZookeeperConnect = zkServer.Connect(t.Name())
	c.ZookeeperSessionTimeout = 6000
	c.OffsetsTopicRF = 1
	c.MetricsPort = 0
	return c
}

// startBroker runs a broker on 127.0.0.1:0 with its log dir in a temp dir.
func startBroker(t *testing.T, mutate func(*config.Config)) (*Broker, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	if mutate != nil {
		mutate(&cfg)
	}
	logs := &syncBuf{}
	b, err := New(cfg, zerolog.New(logs))
	require.NoError(t, err)
	require.NoError(t, b.Start())
	t.Cleanup(func() {
		require.NoError(t, b.Close())
		if t.Failed() {
			t.Logf("broker log:\n%s", logs.String())
		}
	})
	return b, dir
}

func newClient(t *testing.T, b *Broker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts = append([]kgo.Opt{kgo.SeedBrokers(b.Addr()), kgo.RequestTimeoutOverhead(5 * time.Second)}, opts...)
	cl, err := kgo.NewClient(opts...)
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return cl
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func tp(topic string, p int32) checkpoint.TopicPartition {
	return checkpoint.TopicPartition{Topic: topic, Partition: p}
}

func contextTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

// produceRequest is a Produce request for one partition.
func produceRequest(topic string, partition int32, acks int16, timeoutMillis int32, records []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = acks, timeoutMillis
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, records
	rt.Partitions = []kmsg.ProduceRequestTopicPartition{rp}
	req.Topics = []kmsg.ProduceRequestTopic{rt}
	return req
}
