package broker

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
)

// idempotentProduce sends one idempotent batch of n records (acks=all).
func idempotentProduce(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, pid int64, epoch int16, seq int32, n int) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	opts := kafka.NewBatchOptions()
	opts.ProducerID, opts.ProducerEpoch, opts.BaseSequence = pid, epoch, seq
	var recs []kafka.Record
	for i := range n {
		recs = append(recs, kafka.Record{Offset: int64(i), Value: []byte(strings.Repeat("v", 100))})
	}
	batch, err := kafka.AppendBatch(nil, opts, recs)
	require.NoError(t, err)
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = batch
	rt.Partitions = []kmsg.ProduceRequestTopicPartition{rp}
	req.Topics = []kmsg.ProduceRequestTopic{rt}
	resp, err := req.RequestWith(ctx, cl)
	require.NoError(t, err)
	return resp.Topics[0].Partitions[0]
}

func snapshotFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.snapshot"))
	require.NoError(t, err)
	return names
}

// Idempotent dedupe survives a broker restart: producer snapshots are
// written on segment roll and at a clean shutdown in Kafka's format, and at
// startup the newest is loaded and the log after it replayed; with no
// snapshot at all the whole log is replayed. In each case a retry of the
// last batch gets its original offset and nothing is appended twice, and
// the next sequence is accepted.
func TestProducerStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.LogSegmentBytes = 1024
	ctx := ctxT(t)
	var b *Broker
	var cl *kgo.Client
	start := func() {
		var err error
		b, err = New(cfg, zerolog.Nop())
		require.NoError(t, err)
		require.NoError(t, b.Start())
		cl, err = kgo.NewClient(kgo.SeedBrokers(b.Addr()))
		require.NoError(t, err)
	}
	stop := func() {
		cl.Close()
		require.NoError(t, b.Close())
	}
	start()
	adm := kmsg.NewPtrCreateTopicsRequest()
	ct := kmsg.NewCreateTopicsRequestTopic()
	ct.Topic, ct.NumPartitions, ct.ReplicationFactor = "ps", 1, 1
	adm.Topics = append(adm.Topics, ct)
	adm.TimeoutMillis = 10000
	cr, err := adm.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Zero(t, cr.Topics[0].ErrorCode)
	init := kmsg.NewPtrInitProducerIDRequest()
	ir, err := init.RequestWith(ctx, cl)
	require.NoError(t, err)
	pid := ir.ProducerID

	// Batches of 3 x ~170 bytes roll the 1 KiB segments: snapshots on roll.
	seq := int32(0)
	var last kmsg.ProduceResponseTopicPartition
	for i := 0; i < 6; i++ {
		last = idempotentProduce(ctx, t, cl, "ps", pid, 0, seq, 3)
		require.Zero(t, last.ErrorCode)
		seq += 3
	}
	partDir := filepath.Join(dir, "ps-0")
	require.NotEmpty(t, snapshotFiles(t, partDir), "a snapshot at a segment roll")
	l, _ := b.dir.Log(tp("ps", 0))
	leo := l.LogEndOffset()

	check := func(what string) {
		t.Helper()
		l, ok := b.dir.Log(tp("ps", 0))
		require.True(t, ok)
		r := idempotentProduce(ctx, t, cl, "ps", pid, 0, seq-3, 3)
		require.Zero(t, r.ErrorCode, what)
		require.Equal(t, last.BaseOffset, r.BaseOffset, "%s: the retry gets its original offset", what)
		require.Equal(t, leo, l.LogEndOffset(), "%s: nothing appended twice", what)
		require.Equal(t, kerr.OutOfOrderSequenceNumber.Code, idempotentProduce(ctx, t, cl, "ps", pid, 0, seq+5, 1).ErrorCode, what)
		last = idempotentProduce(ctx, t, cl, "ps", pid, 0, seq, 3)
		require.Zero(t, last.ErrorCode, what)
		require.Equal(t, leo, last.BaseOffset, what)
		seq += 3
		leo = l.LogEndOffset()
	}

	// Clean shutdown: a snapshot at the log end.
	stop()
	snaps := snapshotFiles(t, partDir)
	require.Contains(t, snaps[len(snaps)-1], filepath.Join(partDir, "000000000000000000"), "20-digit names")
	require.True(t, strings.HasSuffix(snaps[len(snaps)-1], "00000000000000000018.snapshot"), "%v", snaps)
	start()
	check("after a clean shutdown")

	// No snapshot at all (say, an older broker's log dir): the whole log
	// is replayed.
	stop()
	for _, f := range snapshotFiles(t, partDir) {
		require.NoError(t, os.Remove(f))
	}
	start()
	check("after replaying the log")

	// Only the roll snapshot (the shutdown one lost, as after a crash):
	// loaded, then the batches after it replayed.
	stop()
	snaps = snapshotFiles(t, partDir)
	require.Len(t, snaps, 2, "a roll snapshot and the shutdown one")
	require.NoError(t, os.Remove(snaps[len(snaps)-1]))
	start()
	defer stop()
	check("after a roll snapshot and a replay")
}
