package broker

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"mqstack/storage/vfs"
)

// A disk that fails writes (a full disk) fails produce requests with
// KAFKA_STORAGE_ERROR and corrupts nothing: once writes work again the log
// holds exactly the records acknowledged.
func TestFailingDiskFailsProduce(t *testing.T) {
	mem := vfs.NewMem()
	cfg := testConfig(t, "/kafka-logs")
	b, err := New(cfg, zerolog.Nop())
	require.NoError(t, err)
	b.fs = mem
	require.NoError(t, b.Start())
	defer b.Close()
	ctx := ctxT(t)
	cl := newClient(t, b, kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("disk"), kgo.RecordRetries(0),
		kgo.DisableIdempotentWrite())
	require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: []byte("one")}).FirstErr())

	segment := "/kafka-logs/disk-0/00000000000000000000.log"
	mem.FailPath(segment, vfs.OpWrite)
	err = cl.ProduceSync(ctx, &kgo.Record{Value: []byte("lost")}).FirstErr()
	require.ErrorIs(t, err, kerr.KafkaStorageError)
	l, ok := b.dir.Log(tp("disk", 0))
	require.True(t, ok)
	require.Equal(t, int64(1), l.LogEndOffset())

	mem.ClearFaults()
	require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: []byte("two")}).FirstErr())
	cons := newClient(t, b, kgo.ConsumeTopics("disk"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []string
	for len(got) < 2 {
		fs := cons.PollFetches(ctx)
		require.NoError(t, ctx.Err())
		for _, r := range fs.Records() {
			got = append(got, string(r.Value))
		}
	}
	require.Equal(t, []string{"one", "two"}, got)
	require.Zero(t, testutil.ToFloat64(b.metrics.sendfileBytes), "an in-memory log is copied, not sent from a file")
}
