package broker

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"mqstack/brokerd/internal/config"
	"mqstack/proto/kafkazk"
)

// startReplicatedCluster runs n brokers with short replication timeouts.
func startReplicatedCluster(t *testing.T, n int, mutate func(*config.Config)) []*Broker {
	bs, _ := startClusterWith(t, n, func(c *config.Config) {
		c.ReplicaLagTimeMaxMs = 1500
		c.ReplicaFetchBackoffMs = 100
		c.ReplicaFetchWaitMaxMs = 200
		if mutate != nil {
			mutate(c)
		}
	})
	return bs
}

func partitionState(t *testing.T, b *Broker, topic string, p int32) kafkazk.PartitionState {
	t.Helper()
	part, ok := b.view().Topics[topic].Partitions[p]
	require.True(t, ok)
	require.NotNil(t, part.State)
	return *part.State
}

func byID(bs []*Broker, id int32) *Broker {
	for _, b := range bs {
		if b.cfg.BrokerID == id {
			return b
		}
	}
	return nil
}

// RF 3 with acks=all: every replica holds every record, the ISR is the
// whole assignment, the high watermark is the same everywhere; a stopped
// leader's partition moves to an in-sync follower (controlled shutdown)
// and nothing acknowledged is lost.
func TestReplicationAcksAllAndFailover(t *testing.T) {
	bs := startReplicatedCluster(t, 3, nil)
	ctx := ctxT(t)
	cl := newClient(t, bs[0], kgo.SeedBrokers(bs[0].Addr(), bs[1].Addr(), bs[2].Addr()))
	adm := kadm.NewClient(cl)
	res, err := adm.CreateTopic(ctx, 1, 3, map[string]*string{"min.insync.replicas": ptr("2")}, "rep")
	require.NoError(t, err)
	require.NoError(t, res.Err)
	st := partitionState(t, bs[0], "rep", 0)
	require.Len(t, st.ISR, 3)

	prod := newClient(t, bs[0], kgo.SeedBrokers(bs[0].Addr(), bs[1].Addr(), bs[2].Addr()),
		kgo.DefaultProduceTopic("rep"), kgo.RequiredAcks(kgo.AllISRAcks()))
	var recs []*kgo.Record
	for i := range 200 {
		recs = append(recs, &kgo.Record{Value: []byte(fmt.Sprintf("v%03d", i))})
	}
	require.NoError(t, prod.ProduceSync(ctx, recs...).FirstErr())
	eventually(t, "every replica at offset 200 with HW 200", func() bool {
		for _, b := range bs {
			l, ok := b.dir.Log(tp("rep", 0))
			if !ok || l.LogEndOffset() != 200 || l.HighWatermark() != 200 {
				return false
			}
		}
		return true
	})

	// Stop the leader: leadership moves to another ISR member with epoch+1.
	leader := byID(bs, st.Leader)
	require.NoError(t, leader.Close())
	var other *Broker
	for _, b := range bs {
		if b != leader {
			other = b
		}
	}
	eventually(t, "a new leader from the ISR", func() bool {
		s := partitionState(t, other, "rep", 0)
		return s.Leader != st.Leader && s.Leader > 0 && s.LeaderEpoch > st.LeaderEpoch
	})
	recs = recs[:0]
	for i := 200; i < 300; i++ {
		recs = append(recs, &kgo.Record{Value: []byte(fmt.Sprintf("v%03d", i))})
	}
	require.NoError(t, prod.ProduceSync(ctx, recs...).FirstErr())

	cons := newClient(t, other, kgo.SeedBrokers(other.Addr()), kgo.ConsumeTopics("rep"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []string
	for len(got) < 300 {
		fs := cons.PollFetches(ctx)
		require.NoError(t, ctx.Err())
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	for i, v := range got {
		require.Equal(t, fmt.Sprintf("v%03d", i), v)
	}
}

func ptr(s string) *string { return &s }

// min.insync.replicas: with two of three brokers gone the ISR shrinks to
// the leader (after replica.lag.time.max.ms, or at once when the
// controller sees the sessions end), acks=all gets NOT_ENOUGH_REPLICAS,
// acks=1 still works; consumers never see past the high watermark.
func TestNotEnoughReplicas(t *testing.T) {
	bs := startReplicatedCluster(t, 3, func(c *config.Config) { c.MinInsyncReplicas = 2; c.ControlledShutdownEnable = false })
	ctx := ctxT(t)
	cl := newClient(t, bs[0], kgo.SeedBrokers(bs[0].Addr()))
	adm := kadm.NewClient(cl)
	res, err := adm.CreateTopic(ctx, 1, 3, nil, "mir")
	require.NoError(t, err)
	require.NoError(t, res.Err)
	leader := byID(bs, partitionState(t, bs[0], "mir", 0).Leader)
	for _, b := range bs {
		if b != leader {
			require.NoError(t, b.Close())
		}
	}
	eventually(t, "ISR shrunk to the leader", func() bool {
		s := partitionState(t, leader, "mir", 0)
		return len(s.ISR) == 1 && s.ISR[0] == leader.cfg.BrokerID
	})
	all := newClient(t, leader, kgo.SeedBrokers(leader.Addr()), kgo.DefaultProduceTopic("mir"), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordRetries(0), kgo.DisableIdempotentWrite())
	err = all.ProduceSync(ctx, &kgo.Record{Value: []byte("x")}).FirstErr()
	require.ErrorIs(t, err, kerr.NotEnoughReplicas)
	one := newClient(t, leader, kgo.SeedBrokers(leader.Addr()), kgo.DefaultProduceTopic("mir"), kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	require.NoError(t, one.ProduceSync(ctx, &kgo.Record{Value: []byte("y")}).FirstErr())
	l, _ := leader.dir.Log(tp("mir", 0))
	require.EqualValues(t, 1, l.HighWatermark(), "with the ISR at the leader alone, acks=1 commits at once")

	// /metrics reports it under-replicated.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", leader.MetricsPort()))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(body), "kafka_server_replicamanager_underreplicatedpartitions 1")
	require.Contains(t, string(body), "kafka_server_replicamanager_leadercount 1")
}
