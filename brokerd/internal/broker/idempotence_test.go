package broker

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafkazk"
)

func TestIdempotentProduce(t *testing.T) {
	b, _ := startBroker(t, nil)
	ctx := ctxT(t)
	cl := newClient(t, b, kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("idem"))
	require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: []byte("first")}).FirstErr()) // kgo is idempotent by default

	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionTimeoutMillis = 60000
	ir, err := init.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Equal(t, int16(0), ir.ErrorCode)
	require.Equal(t, int64(1), ir.ProducerID, "kgo's producer got id 0 from the first block")
	pid := ir.ProducerID

	txn := kmsg.NewPtrInitProducerIDRequest()
	txn.TransactionalID = kmsg.StringPtr("tx")
	// Sent to the broker directly: kgo would look for a transaction
	// coordinator first, which FindCoordinator refuses (below).
	raw, err := cl.Broker(1).Request(ctx, txn)
	require.NoError(t, err)
	require.Equal(t, kerr.TransactionalIDAuthorizationFailed.Code, raw.(*kmsg.InitProducerIDResponse).ErrorCode)
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.CoordinatorKey, fc.CoordinatorType = "tx", 1
	fr, err := cl.Broker(1).Request(ctx, fc)
	require.NoError(t, err)
	require.Equal(t, kerr.TransactionalIDAuthorizationFailed.Code, fr.(*kmsg.FindCoordinatorResponse).ErrorCode)
	// A transactional franz-go producer fails cleanly instead of hanging.
	txcl := newClient(t, b, kgo.TransactionalID("tx"), kgo.DefaultProduceTopic("idem"))
	require.Error(t, txcl.BeginTransaction())
	terr := txcl.ProduceSync(ctx, &kgo.Record{Value: []byte("tx")}).FirstErr()
	require.Error(t, terr)

	produce := func(epoch int16, seq int32, n int) kmsg.ProduceResponseTopicPartition {
		return idempotentProduce(ctx, t, cl, "idem", pid, epoch, seq, n)
	}
	r := produce(0, 0, 3)
	require.Equal(t, int16(0), r.ErrorCode)
	require.Equal(t, int64(1), r.BaseOffset)
	// The same batch again (a retry): its original offset, nothing appended.
	r = produce(0, 0, 3)
	require.Equal(t, int16(0), r.ErrorCode)
	require.Equal(t, int64(1), r.BaseOffset)
	l, ok := b.dir.Log(tp("idem", 0))
	require.True(t, ok)
	require.Equal(t, int64(4), l.LogEndOffset())
	// A gap.
	require.Equal(t, kerr.OutOfOrderSequenceNumber.Code, produce(0, 7, 1).ErrorCode)
	// The next sequence.
	r = produce(0, 3, 2)
	require.Equal(t, int16(0), r.ErrorCode)
	require.Equal(t, int64(4), r.BaseOffset)
	// A new epoch restarts at 0; the old epoch is then fenced.
	require.Equal(t, int16(0), produce(1, 0, 1).ErrorCode)
	require.Equal(t, kerr.InvalidProducerEpoch.Code, produce(0, 5, 1).ErrorCode)
	// An unknown producer with a sequence above 0.
	pid = 999
	require.Equal(t, kerr.UnknownProducerID.Code, produce(0, 4, 1).ErrorCode)

	// The block is recorded in ZooKeeper in Kafka's JSON.
	zc, chroot := zkConn(t, b.cfg.ZookeeperConnect)
	data, _, err := zc.Get(chroot + kafkazk.LatestProducerIDBlockPath)
	require.NoError(t, err)
	require.JSONEq(t, `{"version":1,"broker":1,"block_start":"0","block_end":"999"}`, string(data))
}
