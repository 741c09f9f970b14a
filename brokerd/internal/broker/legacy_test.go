package broker

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"mqstack/proto/kafka"
)

// logBatches decodes every batch of a partition's log.
func logBatches(t *testing.T, b *Broker, topic string, p int32) []kafka.Batch {
	t.Helper()
	l, _, code := b.leaderLog(topic, p)
	require.Zero(t, code)
	var out []kafka.Batch
	for off := int64(0); off < l.LogEndOffset(); {
		data, res, err := l.ReadBytes(off, 64<<20, l.LogEndOffset())
		require.NoError(t, err)
		for len(data) > 0 {
			batch, n, err := kafka.DecodeBatch(data)
			require.NoError(t, err)
			out = append(out, batch)
			data = data[n:]
		}
		require.Greater(t, res.NextOffset, off)
		off = res.NextOffset
	}
	return out
}

// logCodecs returns the codec of each batch of a partition's log.
func logCodecs(t *testing.T, b *Broker, topic string, p int32) []kafka.Compression {
	var out []kafka.Compression
	for _, batch := range logBatches(t, b, topic, p) {
		out = append(out, batch.Compression())
	}
	return out
}

// sarama at the protocol versions of Kafka 0.8.2, 0.9 and 0.10.0, which
// produce with Produce v0/v1/v2 and fetch with Fetch v0/v1/v2 in legacy
// message sets (magic 0, 0, 1): every codec they allow is stored
// compressed with the same codec, and read back down-converted.
func TestSaramaLegacyMessageSets(t *testing.T) {
	type tc struct {
		version sarama.KafkaVersion
		codecs  []sarama.CompressionCodec
	}
	legacyCodecs := []sarama.CompressionCodec{sarama.CompressionNone, sarama.CompressionGZIP, sarama.CompressionSnappy}
	cases := map[string]tc{
		"0.8.2":  {sarama.V0_8_2_0, legacyCodecs},
		"0.9":    {sarama.V0_9_0_0, legacyCodecs},
		"0.10.0": {sarama.V0_10_0_0, append(legacyCodecs, sarama.CompressionLZ4)}, // sarama allows lz4 from 0.10
	}
	b, _ := startBroker(t, nil)
	adm := kadm.NewClient(newClient(t, b))
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			topic := "legacy-" + name
			_, err := adm.CreateTopic(ctxT(t), 1, 1, nil, topic)
			require.NoError(t, err)
			cfg := sarama.NewConfig()
			cfg.Version = c.version
			cfg.Producer.Return.Successes = true
			cfg.Producer.RequiredAcks = sarama.WaitForAll
			cfg.Producer.Flush.Messages = 5 // several messages per produce, so compressed wrappers hold several
			cfg.Producer.Flush.Frequency = 50 * time.Millisecond
			cfg.Metadata.Retry.Backoff = 50 * time.Millisecond
			base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
			type sent struct {
				key, value string
				ts         time.Time
			}
			var want []sent
			for _, codec := range c.codecs {
				pc := *cfg
				pc.Producer.Compression = codec
				prod, err := sarama.NewAsyncProducer([]string{b.Addr()}, &pc)
				require.NoError(t, err)
				const n = 10
				for i := range n {
					s := sent{key: fmt.Sprintf("k-%s-%d", codec, i), value: fmt.Sprintf("value-%s-%d-%s", codec, i, name), ts: base.Add(time.Duration(len(want)) * time.Second)}
					want = append(want, s)
					prod.Input() <- &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(s.key), Value: sarama.StringEncoder(s.value), Timestamp: s.ts}
				}
				for range n {
					select {
					case m := <-prod.Successes():
						require.GreaterOrEqual(t, m.Offset, int64(0))
					case err := <-prod.Errors():
						t.Fatalf("codec %s: %v", codec, err)
					case <-time.After(20 * time.Second):
						t.Fatalf("codec %s: no produce answer", codec)
					}
				}
				require.NoError(t, prod.Close())
			}

			// The log holds v2 batches with the producer's codecs.
			seen := map[kafka.Compression]bool{}
			for _, codec := range logCodecs(t, b, topic, 0) {
				seen[codec] = true
			}
			for _, codec := range c.codecs {
				require.True(t, seen[kafka.Compression(codec)], "no %s batch in the log: %v", codec, seen)
			}

			// Magic 0 messages (Produce v0-1) have no timestamp; magic 1
			// (Produce v2) keep the producer's.
			var stored []int64
			for _, batch := range logBatches(t, b, topic, 0) {
				for _, r := range batch.Records {
					stored = append(stored, r.Timestamp)
				}
			}
			require.Len(t, stored, len(want))
			for i, ts := range stored {
				if c.version.IsAtLeast(sarama.V0_10_0_0) {
					require.Equal(t, want[i].ts.UnixMilli(), ts)
				} else {
					require.Equal(t, kafka.NoTimestamp, ts)
				}
			}

			// Read back with the same old protocol version.
			consumer, err := sarama.NewConsumer([]string{b.Addr()}, cfg)
			require.NoError(t, err)
			defer consumer.Close()
			pc, err := consumer.ConsumePartition(topic, 0, sarama.OffsetOldest)
			require.NoError(t, err)
			defer pc.Close()
			for i, w := range want {
				select {
				case m := <-pc.Messages():
					require.Equal(t, int64(i), m.Offset)
					require.Equal(t, w.key, string(m.Key))
					require.Equal(t, w.value, string(m.Value))
					if c.version.IsAtLeast(sarama.V0_10_0_0) {
						require.Equal(t, w.ts.UnixMilli(), m.Timestamp.UnixMilli(), "magic 1 keeps the timestamp")
					}
				case err := <-pc.Errors():
					t.Fatalf("consume: %v", err)
				case <-time.After(20 * time.Second):
					t.Fatalf("message %d not consumed", i)
				}
			}

			// A current client reads the up-converted batches too.
			cons := newClient(t, b, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			var got []*kgo.Record
			ctx := ctxT(t)
			for len(got) < len(want) {
				fs := cons.PollFetches(ctx)
				require.NoError(t, ctx.Err())
				fs.EachError(func(_ string, _ int32, err error) { require.NoError(t, err) })
				got = append(got, fs.Records()...)
			}
			for i, r := range got {
				require.Equal(t, want[i].value, string(r.Value))
			}
		})
	}
}

// ApiVersions advertises Produce 0-9 and Fetch 0-12, as Kafka 2.8 does.
// librdkafka decides whether gzip, snappy and lz4 are usable by asking
// whether Produce v0 is served.
func TestAPIVersionsLegacyRanges(t *testing.T) {
	b, _ := startBroker(t, nil)
	vs, err := kadm.NewClient(newClient(t, b)).ApiVersions(ctxT(t))
	require.NoError(t, err)
	for _, bv := range vs {
		require.NoError(t, bv.Err)
		min, max, ok := bv.KeyVersions(0)
		require.True(t, ok)
		require.Equal(t, []int16{0, 9}, []int16{min, max})
		min, max, ok = bv.KeyVersions(1)
		require.True(t, ok)
		require.Equal(t, []int16{0, 12}, []int16{min, max})
	}
}

// Raw legacy requests: a bad message set is CORRUPT_MESSAGE and leaves
// the broker serving; a zstd batch fetched with Fetch v2 is
// UNSUPPORTED_COMPRESSION_TYPE while other partitions still answer.
func TestLegacyRequestErrors(t *testing.T) {
	b, _ := startBroker(t, nil)
	ctx := ctxT(t)
	modern := newClient(t, b, kgo.ProducerBatchCompression(kgo.ZstdCompression()), kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("zstd"))
	// Compressible, or kgo sends it uncompressed.
	require.NoError(t, modern.ProduceSync(ctx, &kgo.Record{Value: bytes.Repeat([]byte("z"), 1000)}).FirstErr())
	require.Equal(t, []kafka.Compression{kafka.CompressionZstd}, logCodecs(t, b, "zstd", 0))
	old := newClient(t, b, kgo.MaxVersions(kversion.V0_10_0()))

	produce := func(set []byte) kmsg.ProduceResponseTopicPartition {
		resp, err := produceRequest("zstd", 0, 1, 5000, set).RequestWith(ctx, old)
		require.NoError(t, err)
		require.Equal(t, int16(2), resp.Version)
		return resp.Topics[0].Partitions[0]
	}
	good, err := kafka.AppendMessageSet(nil, kafka.MagicV1, kafka.CompressionGzip, kafka.NoTimestamp, []kafka.Message{{Timestamp: 1, Value: []byte("legacy")}})
	require.NoError(t, err)
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 0xff
	require.Equal(t, kerr.CorruptMessage.Code, produce(bad).ErrorCode)
	require.Equal(t, kerr.CorruptMessage.Code, produce(good[:len(good)-1]).ErrorCode, "no complete message")
	v2, err := kafka.AppendBatch(nil, kafka.NewBatchOptions(), []kafka.Record{{Value: []byte("v2")}})
	require.NoError(t, err)
	require.Equal(t, kerr.CorruptMessage.Code, produce(v2).ErrorCode, "a v2 batch in Produce v2")
	zstdWrapper := kafka.AppendMessage(nil, kafka.Message{Magic: kafka.MagicV1, Attributes: int8(kafka.CompressionZstd), Value: []byte("zstd")})
	require.Equal(t, kerr.UnsupportedCompressionType.Code, produce(zstdWrapper).ErrorCode, "zstd needs Produce v7")
	ok := produce(good)
	require.Zero(t, ok.ErrorCode)
	require.Equal(t, int64(1), ok.BaseOffset)

	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = 10, 1, 1<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = "zstd"
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = 1 << 20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, old)
	require.NoError(t, err)
	require.Equal(t, int16(2), resp.Version)
	require.Equal(t, kerr.UnsupportedCompressionType.Code, resp.Topics[0].Partitions[0].ErrorCode)

	// From offset 1 (the gzip message set produced above) the fetch works.
	req.Topics[0].Partitions[0].FetchOffset = 1
	resp, err = req.RequestWith(ctx, old)
	require.NoError(t, err)
	sp := resp.Topics[0].Partitions[0]
	require.Zero(t, sp.ErrorCode)
	msgs, codec, _, err := kafka.DecodeMessageSet(sp.RecordBatches, 1<<20)
	require.NoError(t, err)
	require.Equal(t, kafka.CompressionGzip, codec)
	require.Len(t, msgs, 1)
	require.Equal(t, int64(1), msgs[0].Offset)
	require.Equal(t, "legacy", string(msgs[0].Value))
	require.Equal(t, int8(kafka.MagicV1), msgs[0].Magic)
}
