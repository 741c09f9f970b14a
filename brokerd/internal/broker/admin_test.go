package broker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteRecords, OffsetForLeaderEpoch, DeleteGroups and DescribeCluster
// through franz-go's admin client.
func TestAdminAPIs(t *testing.T) {
	b, _ := startBroker(t, groupConfig)
	ctx := ctxT(t)
	cl := newClient(t, b)
	adm := kadm.NewClient(cl)
	res, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"segment.bytes": kmsg.StringPtr("200")}, "adm")
	require.NoError(t, err)
	require.NoError(t, res.Err)
	prod := newClient(t, b, kgo.DefaultProduceTopic("adm"))
	for range 10 {
		require.NoError(t, prod.ProduceSync(ctx, &kgo.Record{Value: []byte("0123456789")}).FirstErr())
	}

	// DeleteRecords moves the low watermark; earliest follows.
	dr, err := adm.DeleteRecords(ctx, kadm.Offsets{"adm": {0: {Topic: "adm", Partition: 0, At: 6}}})
	require.NoError(t, err)
	require.NoError(t, dr.Error())
	require.Equal(t, int64(6), dr["adm"][0].LowWatermark)
	starts, err := adm.ListStartOffsets(ctx, "adm")
	require.NoError(t, err)
	require.Equal(t, int64(6), starts["adm"][0].Offset)
	dr, err = adm.DeleteRecords(ctx, kadm.Offsets{"adm": {0: {Topic: "adm", Partition: 0, At: 99}}})
	require.NoError(t, err)
	require.ErrorIs(t, dr["adm"][0].Err, kerr.OffsetOutOfRange)

	// OffsetForLeaderEpoch: epoch 0 ends at the log end offset.
	ofe := kmsg.NewPtrOffsetForLeaderEpochRequest()
	ofe.ReplicaID = -1
	rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
	rt.Topic = "adm"
	rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
	rp.CurrentLeaderEpoch, rp.LeaderEpoch = 0, 0
	rt.Partitions = []kmsg.OffsetForLeaderEpochRequestTopicPartition{rp}
	ofe.Topics = []kmsg.OffsetForLeaderEpochRequestTopic{rt}
	ofr, err := ofe.RequestWith(ctx, cl)
	require.NoError(t, err)
	p := ofr.Topics[0].Partitions[0]
	require.Equal(t, int16(0), p.ErrorCode)
	require.Equal(t, int32(0), p.LeaderEpoch)
	require.Equal(t, int64(10), p.EndOffset)

	// DescribeLogDirs.
	dirs, err := adm.DescribeBrokerLogDirs(ctx, 1, kadm.TopicsSet{"adm": {0: {}}})
	require.NoError(t, err)
	require.NoError(t, dirs.Error())
	sized := false
	dirs.Each(func(d kadm.DescribedLogDir) {
		d.Topics.Each(func(p kadm.DescribedLogDirPartition) { sized = p.Size > 0 })
	})
	require.True(t, sized)

	// DescribeCluster.
	dc, err := kmsg.NewPtrDescribeClusterRequest().RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Equal(t, b.ClusterID(), dc.ClusterID)
	require.Equal(t, int32(1), dc.ControllerID)
	require.Len(t, dc.Brokers, 1)

	// DeleteGroups: an active group cannot go; an empty one goes with its offsets.
	cons := newClient(t, b, kgo.ConsumerGroup("dg"), kgo.ConsumeTopics("adm"), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	eventually(t, "consume", func() bool {
		pctx, cancel := contextTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		return len(cons.PollFetches(pctx).Records()) > 0
	})
	require.NoError(t, cons.CommitUncommittedOffsets(ctx))
	// An offset of a topic the member does not subscribe to.
	ot, err := adm.CreateTopic(ctx, 1, 1, nil, "other")
	require.NoError(t, err)
	require.NoError(t, ot.Err)
	cons.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{"other": {0: {Epoch: -1, Offset: 5}}},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			require.NoError(t, err)
			require.Zero(t, resp.Topics[0].Partitions[0].ErrorCode)
		})
	// While the group has a member: the subscribed topic's offset stays
	// (GROUP_SUBSCRIBED_TO_TOPIC), the other topic's goes.
	od, err := adm.DeleteOffsets(ctx, "dg", kadm.TopicsSet{"adm": {0: {}}, "other": {0: {}}})
	require.NoError(t, err)
	require.ErrorIs(t, od["adm"][0], kerr.GroupSubscribedToTopic)
	require.NoError(t, od["other"][0])
	left, err := adm.FetchOffsets(ctx, "dg")
	require.NoError(t, err)
	_, otherLeft := left.Lookup("other", 0)
	require.False(t, otherLeft, "the unsubscribed topic's offset was deleted")
	_, admLeft := left.Lookup("adm", 0)
	require.True(t, admLeft)
	del, err := adm.DeleteGroups(ctx, "dg")
	require.NoError(t, err)
	require.ErrorIs(t, del["dg"].Err, kerr.NonEmptyGroup)
	cons.Close()
	od, err = adm.DeleteOffsets(ctx, "dg", kadm.TopicsSet{"adm": {0: {}}})
	require.NoError(t, err)
	require.NoError(t, od["adm"][0])
	offs0, err := adm.FetchOffsets(ctx, "dg")
	require.NoError(t, err)
	require.Empty(t, offs0.Offsets(), "OffsetDelete removed the commit")
	del, err = adm.DeleteGroups(ctx, "dg", "never")
	require.NoError(t, err)
	require.NoError(t, del["dg"].Err)
	require.ErrorIs(t, del["never"].Err, kerr.GroupIDNotFound)
	offs, err := adm.FetchOffsets(ctx, "dg")
	require.NoError(t, err)
	require.Empty(t, offs.Offsets())
}

func TestCreatePartitionsAndDescribeConfigs(t *testing.T) {
	bs, _ := startCluster(t, 2)
	ctx := ctxT(t)
	cl := newClient(t, bs[0])
	adm := kadm.NewClient(cl)
	res, err := adm.CreateTopic(ctx, 2, 1, map[string]*string{"retention.ms": kmsg.StringPtr("60000")}, "grow")
	require.NoError(t, err)
	require.NoError(t, res.Err)
	cp, err := adm.CreatePartitions(ctx, 3, "grow")
	require.NoError(t, err)
	require.NoError(t, cp["grow"].Err)
	// The broker that answered has the new partitions; the other learns
	// them from its next ZooKeeper pass (as Kafka's metadata propagation).
	eventually(t, "5 partitions in the metadata", func() bool {
		td, err := adm.ListTopics(ctx, "grow")
		return err == nil && len(td["grow"].Partitions) == 5
	})
	prod := newClient(t, bs[1], kgo.DefaultProduceTopic("grow"))
	require.NoError(t, prod.ProduceSync(ctx, &kgo.Record{Value: []byte("p4"), Partition: 4}).FirstErr())
	cp, err = adm.UpdatePartitions(ctx, 3, "grow")
	require.NoError(t, err)
	require.ErrorIs(t, cp["grow"].Err, kerr.InvalidPartitions)

	rc, err := adm.DescribeTopicConfigs(ctx, "grow")
	require.NoError(t, err)
	cfgs := map[string]kadm.Config{}
	for _, c := range rc[0].Configs {
		cfgs[c.Key] = c
	}
	require.Equal(t, "60000", *cfgs["retention.ms"].Value)
	require.Equal(t, kmsg.ConfigSourceDynamicTopicConfig, cfgs["retention.ms"].Source)
	require.Equal(t, "delete", *cfgs["cleanup.policy"].Value)
	require.Equal(t, kmsg.ConfigSourceDefaultConfig, cfgs["cleanup.policy"].Source)
	bc, err := adm.DescribeBrokerConfigs(ctx, 1)
	require.NoError(t, err)
	require.NoError(t, bc[0].Err)
	found := false
	for _, c := range bc[0].Configs {
		if c.Key == "broker.id" {
			found = *c.Value == "1"
		}
	}
	require.True(t, found)
}
