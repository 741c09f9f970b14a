package broker

import (
	"context"
	"encoding/binary"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"mqstack/brokerd/internal/coord"
)

// BenchmarkProduce100B: one franz-go producer, 100-byte records, acks=1,
// against one in-process broker (the reference run). Reports
// records/s.
func BenchmarkProduce100B(b *testing.B) {
	cfg := testConfig(b, b.TempDir())
	br, err := New(cfg, zerolog.Nop())
	require.NoError(b, err)
	require.NoError(b, br.Start())
	defer br.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.DefaultProduceTopic("bench"), kgo.AllowAutoTopicCreation(),
		kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(), kgo.ProducerLinger(0),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.MaxBufferedRecords(1<<20))
	require.NoError(b, err)
	defer cl.Close()
	produce100B(b, cl)
}

// produce100B warms cl up, then times b.N 100-byte records produced and
// flushed; reports records/s.
func produce100B(b *testing.B, cl *kgo.Client) {
	ctx := context.Background()
	require.NoError(b, cl.ProduceSync(ctx, &kgo.Record{Value: []byte("warm")}).FirstErr())
	value := make([]byte, 100)
	b.ResetTimer()
	for range b.N {
		cl.Produce(ctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				b.Error(err)
			}
		})
	}
	require.NoError(b, cl.Flush(ctx))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkConsume100B: one franz-go consumer reading 100-byte records.
func BenchmarkConsume100B(b *testing.B) {
	cfg := testConfig(b, b.TempDir())
	br, err := New(cfg, zerolog.Nop())
	require.NoError(b, err)
	require.NoError(b, br.Start())
	defer br.Close()
	ctx := context.Background()
	prod, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.DefaultProduceTopic("bench"), kgo.AllowAutoTopicCreation(),
		kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(), kgo.MaxBufferedRecords(1<<20))
	require.NoError(b, err)
	value := make([]byte, 100)
	for range b.N {
		prod.Produce(ctx, &kgo.Record{Value: value}, nil)
	}
	require.NoError(b, prod.Flush(ctx))
	prod.Close()
	cons, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.ConsumeTopics("bench"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(64<<20))
	require.NoError(b, err)
	defer cons.Close()
	b.ResetTimer()
	n := 0
	for n < b.N {
		n += len(cons.PollFetches(ctx).Records())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// benchCluster runs three in-process brokers with RF 3 topic "bench3"
// (min.insync.replicas=2) and returns a client seeded with all three.
func benchCluster(b *testing.B, opts ...kgo.Opt) (*kgo.Client, []*Broker) {
	connect := zkServer.Connect(b.Name())
	var bs []*Broker
	var seeds []string
	for i := int32(1); i <= 3; i++ {
		cfg := testConfig(b, b.TempDir())
		cfg.BrokerID, cfg.ZookeeperConnect, cfg.MinInsyncReplicas = i, connect, 2
		br, err := New(cfg, zerolog.Nop())
		require.NoError(b, err)
		require.NoError(b, br.Start())
		b.Cleanup(func() { _ = br.Close() })
		bs = append(bs, br)
		seeds = append(seeds, br.Addr())
	}
	for _, br := range bs {
		br.coord.WaitFor(10*time.Second, func(v coord.View) bool { return len(v.Brokers) == 3 })
	}
	adm, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	require.NoError(b, err)
	defer adm.Close()
	res, err := kadm.NewClient(adm).CreateTopic(context.Background(), 1, 3, nil, "bench3")
	require.NoError(b, err)
	require.NoError(b, res.Err)
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds...), kgo.DefaultProduceTopic("bench3")}, opts...)...)
	require.NoError(b, err)
	b.Cleanup(cl.Close)
	return cl, bs
}

// BenchmarkProduce100BRF3AcksAll: the reference run — three
// brokers, replication factor 3, acks=all (idempotent), one franz-go
// producer, 100-byte records. Reports records/s.
func BenchmarkProduce100BRF3AcksAll(b *testing.B) {
	cl, _ := benchCluster(b, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.MaxBufferedRecords(1<<20), kgo.ProducerBatchMaxBytes(1<<20))
	produce100B(b, cl)
}

// BenchmarkEndToEndLatencyRF3: three brokers, RF 3, acks=all; one
// producer sends 100-byte records at BENCH_RATE records/s (default 20000)
// stamped with their send time, one consumer reads them (only committed
// records are served, so this includes replication); reports the p50 and
// p99 produce-to-consume latency in ms, and the largest.
//
// Client settings as a latency-sensitive Kafka user would set them: no
// linger, fetch max wait 100 ms (a fetch is answered as soon as the high
// watermark moves; the wait only bounds an idle fetch). Before the clock
// starts, one record is produced and consumed, so that both clients have
// their metadata, producer id and connections and every broker has seen
// the new topic: the figures are the steady state, not the clients'
// start-up after CreateTopics (which measured up to 0.8 s here).
func BenchmarkEndToEndLatencyRF3(b *testing.B) {
	rate := 20000
	if v, err := strconv.Atoi(os.Getenv("BENCH_RATE")); err == nil && v > 0 {
		rate = v
	}
	cl, bs := benchCluster(b, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0), kgo.MaxBufferedRecords(1<<20))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cons, err := kgo.NewClient(kgo.SeedBrokers(bs[0].Addr(), bs[1].Addr(), bs[2].Addr()), kgo.ConsumeTopics("bench3"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	require.NoError(b, err)
	defer cons.Close()
	warm, warmCancel := context.WithTimeout(ctx, 30*time.Second)
	defer warmCancel()
	require.NoError(b, cl.ProduceSync(warm, &kgo.Record{Value: []byte("warm")}).FirstErr())
	for n := 0; n == 0; {
		fs := cons.PollFetches(warm)
		require.NoError(b, warm.Err(), "the warm-up record was not consumed")
		n = fs.NumRecords()
	}
	lat := make([]time.Duration, 0, b.N)
	got := make(chan struct{})
	go func() {
		defer close(got)
		for len(lat) < b.N {
			fs := cons.PollFetches(ctx)
			if ctx.Err() != nil {
				return
			}
			now := time.Now()
			fs.EachRecord(func(r *kgo.Record) {
				sent := int64(binary.BigEndian.Uint64(r.Value))
				lat = append(lat, now.Sub(time.Unix(0, sent)))
			})
		}
	}()
	value := make([]byte, 100)
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	b.ResetTimer()
	for i := range b.N {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		v := append([]byte(nil), value...)
		binary.BigEndian.PutUint64(v, uint64(time.Now().UnixNano()))
		cl.Produce(ctx, &kgo.Record{Value: v}, nil)
	}
	select {
	case <-got:
	case <-time.After(60 * time.Second):
		b.Fatalf("consumer saw %d of %d records", len(lat), b.N)
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(rate), "target-records/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
