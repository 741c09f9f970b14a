package broker

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/config"
	"mqstack/brokerd/internal/group"
	"mqstack/proto/kafka"
)

// groupRecords reads the group metadata records of a group from its
// __consumer_offsets partition, oldest first (nil for a tombstone).
func groupRecords(t *testing.T, b *Broker, id string) []*group.GroupMetadata {
	t.Helper()
	l, _, code := b.leaderLog(offsetsTopic, b.groups.partitionFor(id))
	require.Zero(t, code)
	var out []*group.GroupMetadata
	for off := l.LogStartOffset(); off < l.LogEndOffset(); {
		data, res, err := l.ReadBytes(off, 1<<20, l.LogEndOffset())
		require.NoError(t, err)
		for len(data) > 0 {
			batch, size, err := kafka.DecodeBatch(data)
			require.NoError(t, err)
			data = data[size:]
			for _, r := range batch.Records {
				kind, k, err := group.DecodeKey(r.Key)
				require.NoError(t, err)
				if kind != group.KeyGroupMetadata || k.Group != id {
					continue
				}
				if r.Value == nil {
					out = append(out, nil)
					continue
				}
				md, err := group.DecodeGroupMetadataValue(r.Value)
				require.NoError(t, err)
				out = append(out, &md)
			}
		}
		off = res.NextOffset
	}
	return out
}

func describeGroup(ctx context.Context, t *testing.T, cl *kgo.Client, id string) kmsg.DescribeGroupsResponseGroup {
	t.Helper()
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = []string{id}
	resp, err := req.RequestWith(ctx, cl)
	require.NoError(t, err)
	return resp.Groups[0]
}

// joinAndSync makes a one-member group with raw requests: the member id
// handshake, JoinGroup, then the leader's SyncGroup giving itself
// assignment.
func joinAndSync(ctx context.Context, t *testing.T, cl *kgo.Client, id string, subscription, assignment []byte) (string, int32) {
	t.Helper()
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group, join.ProtocolType, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = id, "consumer", 30000, 30000
	proto := kmsg.NewJoinGroupRequestProtocol()
	proto.Name, proto.Metadata = "range", subscription
	join.Protocols = append(join.Protocols, proto)
	var jr *kmsg.JoinGroupResponse
	eventually(t, "the coordinator answers", func() bool {
		var err error
		jr, err = join.RequestWith(ctx, cl)
		return err == nil && jr.ErrorCode == kerr.MemberIDRequired.Code
	})
	join.MemberID = jr.MemberID
	jr, err := join.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Zero(t, jr.ErrorCode)
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group, sync.MemberID, sync.Generation = id, jr.MemberID, jr.Generation
	sa := kmsg.NewSyncGroupRequestGroupAssignment()
	sa.MemberID, sa.MemberAssignment = jr.MemberID, assignment
	sync.GroupAssignment = append(sync.GroupAssignment, sa)
	sr, err := sync.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Zero(t, sr.ErrorCode)
	return jr.MemberID, jr.Generation
}

// A group's generation, members and assignments are written to
// __consumer_offsets as Kafka's group metadata records when a generation
// completes, and reloaded by the coordinator after a restart: the member
// heartbeats and re-syncs at its generation with no rebalance, and an
// Empty group stays Empty (with its protocol type) across a restart.
func TestGroupMetadataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	groupConfig(&cfg)
	ctx := ctxT(t)
	start := func() (*Broker, *kgo.Client) {
		b, err := New(cfg, zerolog.Nop())
		require.NoError(t, err)
		require.NoError(t, b.Start())
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
		require.NoError(t, err)
		return b, cl
	}
	b, cl := start()
	member, generation := joinAndSync(ctx, t, cl, "gm", []byte("subscription"), []byte("assigned-p0"))
	require.Equal(t, int32(1), generation)

	recs := groupRecords(t, b, "gm")
	require.Len(t, recs, 1, "one record for the completed generation")
	require.Equal(t, int32(1), recs[0].Generation)
	require.Equal(t, "consumer", recs[0].ProtocolType)
	require.Equal(t, "range", recs[0].Protocol)
	require.Equal(t, member, recs[0].Leader)
	require.Len(t, recs[0].Members, 1)
	require.Equal(t, []byte("assigned-p0"), recs[0].Members[0].Assignment)
	require.Equal(t, []byte("subscription"), recs[0].Members[0].Subscription)
	require.Equal(t, int32(30000), recs[0].Members[0].SessionTimeout)

	cl.Close()
	require.NoError(t, b.Close())
	b, cl = start()
	var dg kmsg.DescribeGroupsResponseGroup
	eventually(t, "the group reloaded", func() bool {
		dg = describeGroup(ctx, t, cl, "gm")
		return dg.ErrorCode == 0 && dg.State == "Stable"
	})
	require.Equal(t, "range", dg.Protocol)
	require.Len(t, dg.Members, 1)
	require.Equal(t, member, dg.Members[0].MemberID)
	require.Equal(t, []byte("assigned-p0"), dg.Members[0].MemberAssignment)
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID, hb.Generation = "gm", member, 1
	hr, err := hb.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Zero(t, hr.ErrorCode, "the member's generation is still current")
	resync := kmsg.NewPtrSyncGroupRequest()
	resync.Group, resync.MemberID, resync.Generation = "gm", member, 1
	sr, err := resync.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Zero(t, sr.ErrorCode)
	require.Equal(t, []byte("assigned-p0"), sr.MemberAssignment)

	// The member leaves: Empty at generation 2, recorded, and so after a
	// second restart.
	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.Group = "gm"
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.MemberID = member
	leave.Members = append(leave.Members, lm)
	leave.MemberID = member
	lr, err := leave.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Zero(t, lr.ErrorCode)
	recs = groupRecords(t, b, "gm")
	require.Len(t, recs, 2)
	require.Equal(t, int32(2), recs[1].Generation)
	require.Empty(t, recs[1].Members)
	require.Greater(t, recs[1].StateTimestamp, time.Now().Add(-time.Minute).UnixMilli())
	cl.Close()
	require.NoError(t, b.Close())
	b, cl = start()
	defer func() { cl.Close(); require.NoError(t, b.Close()) }()
	eventually(t, "the empty group reloaded", func() bool {
		dg = describeGroup(ctx, t, cl, "gm")
		return dg.ErrorCode == 0 && dg.State == "Empty"
	})
	require.Equal(t, "consumer", dg.ProtocolType)
	hr, err = hb.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Equal(t, kerr.UnknownMemberID.Code, hr.ErrorCode)

	// DeleteGroups writes the group's tombstone.
	del := kmsg.NewPtrDeleteGroupsRequest()
	del.Groups = []string{"gm"}
	delr, err := del.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Zero(t, delr.Groups[0].ErrorCode)
	recs = groupRecords(t, b, "gm")
	require.Nil(t, recs[len(recs)-1], "a group metadata tombstone")
}

// With __consumer_offsets replicated, the group's state moves with its
// coordinator: the broker that takes over the partition loads the group
// metadata record it replicated, and the member carries on at its
// generation without a rebalance.
func TestGroupStateMovesWithCoordinator(t *testing.T) {
	bs := startReplicatedCluster(t, 2, func(c *config.Config) {
		groupConfig(c)
		c.OffsetsTopicRF = 2
		c.ControlledShutdownEnable = false
	})
	ctx := ctxT(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(bs[0].Addr(), bs[1].Addr()))
	require.NoError(t, err)
	defer cl.Close()
	member, generation := joinAndSync(ctx, t, cl, "mv", []byte("sub"), []byte("a"))

	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.CoordinatorKey = "mv"
	fr, err := fc.RequestWith(ctx, cl)
	require.NoError(t, err)
	coordinator, other := byID(bs, fr.NodeID), byID(bs, 3-fr.NodeID)
	p := coordinator.groups.partitionFor("mv")
	leaderLog, _, code := coordinator.leaderLog(offsetsTopic, p)
	require.Zero(t, code)
	eventually(t, "the follower has the group record", func() bool {
		l, ok := other.dir.Log(tp(offsetsTopic, p))
		return ok && l.LogEndOffset() == leaderLog.LogEndOffset()
	})
	require.NoError(t, coordinator.Close())

	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID, hb.Generation = "mv", member, generation
	eventually(t, "the new coordinator knows the member", func() bool {
		hr, err := hb.RequestWith(ctx, cl)
		return err == nil && hr.ErrorCode == 0
	})
	dg := describeGroup(ctx, t, cl, "mv")
	require.Equal(t, "Stable", dg.State)
	require.Len(t, dg.Members, 1)
	require.Equal(t, []byte("a"), dg.Members[0].MemberAssignment)
}
