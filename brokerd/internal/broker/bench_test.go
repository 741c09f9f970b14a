package broker

import (
	"context"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
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
