package integration

import (
	"context"
	"hash/crc32"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// idempotentBatch encodes a record batch v2 of n records for a producer id
// and base sequence, with franz-go's kmsg types (the integration tests use
// no project package).
func idempotentBatch(pid int64, seq int32, n int) []byte {
	var recs []byte
	for i := 0; i < n; i++ {
		r := kmsg.Record{OffsetDelta: int32(i), Value: []byte(strings.Repeat("r", 100))}
		r.Length = int32(len(r.AppendTo(nil)) - 1) // everything after the 1-byte varint 0
		recs = r.AppendTo(recs)
	}
	now := time.Now().UnixMilli()
	b := kmsg.RecordBatch{PartitionLeaderEpoch: -1, Magic: 2, LastOffsetDelta: int32(n - 1), FirstTimestamp: now, MaxTimestamp: now,
		ProducerID: pid, ProducerEpoch: 0, FirstSequence: seq, NumRecords: int32(n), Records: recs}
	enc := b.AppendTo(nil)
	b.Length = int32(len(enc) - 12)
	enc = b.AppendTo(nil)
	// The CRC-32C covers everything from the attributes on (byte 21).
	b.CRC = int32(crc32.Checksum(enc[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b.AppendTo(nil)
}

func produceRaw(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, batch []byte) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	require.NoError(t, err)
	return resp.Topics[0].Partitions[0]
}

// kill -9 of a real broker loses its shutdown snapshot, not its producer
// state: at restart the roll snapshot is loaded and the log after it
// replayed, so the producer's retry of its last batch gets the original
// offset and is not appended twice.
func TestBrokerProducerStateAfterKill9(t *testing.T) {
	zks := StartServer(t, kindZkd, ServerOptions{})
	logDir := filepath.Join(t.TempDir(), "kafka-logs")
	extra := []string{"log.dirs=" + logDir, "log.segment.bytes=2048"}
	b := startBrokerd(t, 1, zks.Addr()+"/ps", extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	require.NoError(t, err)
	create := kmsg.NewPtrCreateTopicsRequest()
	create.TimeoutMillis = 10000
	ct := kmsg.NewCreateTopicsRequestTopic()
	ct.Topic, ct.NumPartitions, ct.ReplicationFactor = "ps", 1, 1
	create.Topics = append(create.Topics, ct)
	cr, err := create.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Zero(t, cr.Topics[0].ErrorCode)
	ir, err := kmsg.NewPtrInitProducerIDRequest().RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Zero(t, ir.ErrorCode)
	pid := ir.ProducerID

	var last []byte
	var lastOffset int64
	for i := 0; i < 12; i++ {
		last = idempotentBatch(pid, int32(3*i), 3)
		r := produceRaw(ctx, t, cl, "ps", last)
		require.Zero(t, r.ErrorCode)
		lastOffset = r.BaseOffset
	}
	cl.Close()
	snaps, _ := filepath.Glob(filepath.Join(logDir, "ps-0", "*.snapshot"))
	require.NotEmpty(t, snaps, "a producer snapshot at a segment roll")

	require.NoError(t, b.cmd.Process.Kill())
	_, _ = b.cmd.Process.Wait()
	// As with Kafka, the dead broker's registration stays until its
	// ZooKeeper session expires; the restart waits for that.
	zc, _, err := zk.Connect([]string{zks.Addr()}, 4*time.Second, zk.WithLogger(quietLogger{}))
	require.NoError(t, err)
	defer zc.Close()
	require.Eventually(t, func() bool {
		ok, _, err := zc.Exists("/ps/brokers/ids/1")
		return err == nil && !ok
	}, 30*time.Second, 100*time.Millisecond, "the killed broker's session expires")
	b = startBrokerd(t, 1, zks.Addr()+"/ps", extra...)
	cl, err = kgo.NewClient(kgo.SeedBrokers(b.Addr))
	require.NoError(t, err)
	defer cl.Close()
	var r kmsg.ProduceResponseTopicPartition
	require.Eventually(t, func() bool {
		r = produceRaw(ctx, t, cl, "ps", last)
		return r.ErrorCode == 0
	}, 30*time.Second, 100*time.Millisecond, "the retry after the restart")
	require.Equal(t, lastOffset, r.BaseOffset, "the retry gets its original offset")
	next := produceRaw(ctx, t, cl, "ps", idempotentBatch(pid, 36, 3))
	require.Zero(t, next.ErrorCode)
	require.Equal(t, lastOffset+3, next.BaseOffset, "nothing was appended twice; the next sequence follows")
}
