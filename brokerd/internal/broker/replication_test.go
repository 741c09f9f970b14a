package broker

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"mqstack/brokerd/internal/config"
	"mqstack/brokerd/internal/coord"
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
	for _, b := range bs {
		eventually(t, "every broker registered in each view", func() bool { return len(b.view().Brokers) == n })
	}
	return bs
}

// partitionState is the state of topic-p in b's view, once b has seen it.
func partitionState(t *testing.T, b *Broker, topic string, p int32) kafkazk.PartitionState {
	t.Helper()
	var st *kafkazk.PartitionState
	eventually(t, fmt.Sprintf("%s-%d in broker %d's view", topic, p, b.cfg.BrokerID), func() bool {
		if tv := b.view().Topics[topic]; tv != nil {
			st = tv.Partitions[p].State
		}
		return st != nil
	})
	return *st
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

// createAssigned writes /brokers/topics/<t> with a fixed assignment (as
// the old kafka-topics --zookeeper did) and waits for the leaders.
func createAssigned(t *testing.T, bs []*Broker, topic, assignment string) {
	t.Helper()
	zc, chroot := zkConn(t, bs[0].cfg.ZookeeperConnect)
	_, err := zc.Create(chroot+kafkazk.TopicPath(topic), []byte(`{"version":1,"partitions":`+assignment+`}`), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	for _, b := range bs {
		eventually(t, "leaders of "+topic, func() bool { return topicReady(b.view(), topic) })
	}
}

// moveLeader writes a partition state with another leader, as a failover
// would (epoch+1).
func moveLeader(t *testing.T, b *Broker, topic string, p, leader int32) {
	t.Helper()
	zc, chroot := zkConn(t, b.cfg.ZookeeperConnect)
	path := chroot + kafkazk.PartitionStatePath(topic, p)
	data, st, err := zc.Get(path)
	require.NoError(t, err)
	s, err := kafkazk.DecodePartitionState(path, data)
	require.NoError(t, err)
	s.Leader, s.LeaderEpoch = leader, s.LeaderEpoch+1
	_, err = zc.Set(path, kafkazk.EncodePartitionState(s), st.Version)
	require.NoError(t, err)
}

// Preferred leader election: ElectLeaders (key 43) moves leadership back
// to the first assigned replica once it is in the ISR, answers
// ELECTION_NOT_NEEDED when it already leads; /admin/preferred_replica_
// election does the same through the controller and is deleted after;
// auto.leader.rebalance.enable does it on its own.
func TestPreferredLeaderElection(t *testing.T) {
	bs := startReplicatedCluster(t, 3, func(c *config.Config) { c.LeaderImbalanceCheckSeconds = 1 })
	ctx := ctxT(t)
	createAssigned(t, bs, "pref", `{"0":[1,2,3],"1":[2,3,1]}`)
	eventually(t, "full ISR", func() bool { return len(partitionState(t, bs[0], "pref", 0).ISR) == 3 })
	adm := kadm.NewClient(newClient(t, bs[0], kgo.SeedBrokers(bs[0].Addr(), bs[1].Addr(), bs[2].Addr())))

	// Stop auto rebalance from racing the explicit elections: broker 1 is
	// the only one with a 1 s check, and the controller may be any; so
	// check the on-demand paths on partition 1 whose preferred is 2.
	moveLeader(t, bs[0], "pref", 0, 3)
	eventually(t, "leader 3", func() bool { return partitionState(t, bs[0], "pref", 0).Leader == 3 })
	res, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{"pref": {0: {}}})
	require.NoError(t, err)
	for _, r := range res["pref"] {
		if r.Err != nil {
			require.ErrorIs(t, r.Err, kerr.ElectionNotNeeded, "auto rebalance may have been first")
		}
	}
	eventually(t, "preferred leader 1 back", func() bool { return partitionState(t, bs[0], "pref", 0).Leader == 1 })
	res, err = adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{"pref": {0: {}}})
	require.NoError(t, err)
	require.ErrorIs(t, res["pref"][0].Err, kerr.ElectionNotNeeded)

	// The ZooKeeper path.
	moveLeader(t, bs[0], "pref", 1, 3)
	zc, chroot := zkConn(t, bs[0].cfg.ZookeeperConnect)
	_, err = zc.Create(chroot+kafkazk.PreferredReplicaElectionPath, []byte(`{"version":1,"partitions":[{"topic":"pref","partition":1}]}`), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	eventually(t, "preferred leader 2 back and the znode consumed", func() bool {
		ok, _, _ := zc.Exists(chroot + kafkazk.PreferredReplicaElectionPath)
		return partitionState(t, bs[0], "pref", 1).Leader == 2 && !ok
	})

	// The automatic path (leader.imbalance.check.interval.seconds=1).
	moveLeader(t, bs[0], "pref", 1, 1)
	eventually(t, "auto rebalance back to 2", func() bool { return partitionState(t, bs[0], "pref", 1).Leader == 2 })
}

// Reassignment under load (AlterPartitionReassignments, key 45): a
// partition on brokers 1,2 moves to 3,2 while an acks=all producer
// writes; ListPartitionReassignments (46) shows it in progress; at the end
// the assignment is 3,2, broker 1's log is gone, and every acknowledged
// record is read back.
func TestReassignmentUnderLoad(t *testing.T) {
	bs := startReplicatedCluster(t, 3, nil)
	ctx := ctxT(t)
	createAssigned(t, bs, "moving", `{"0":[1,2]}`)
	cl := newClient(t, bs[0], kgo.SeedBrokers(bs[0].Addr(), bs[1].Addr(), bs[2].Addr()),
		kgo.DefaultProduceTopic("moving"), kgo.RequiredAcks(kgo.AllISRAcks()))
	adm := kadm.NewClient(cl)
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				done <- n
				return
			default:
			}
			if cl.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("m%05d", n))}).FirstErr() == nil {
				n++
			}
		}
	}()
	eventually(t, "some records", func() bool {
		l, _ := bs[0].dir.Log(tp("moving", 0))
		return l != nil && l.HighWatermark() > 50
	})
	req := kadm.AlterPartitionAssignmentsReq{}
	req.Assign("moving", 0, []int32{3, 2})
	ares, err := adm.AlterPartitionAssignments(ctx, req)
	require.NoError(t, err)
	for _, r := range ares["moving"] {
		require.NoError(t, r.Err)
	}
	eventually(t, "reassignment done, and nothing listed in progress", func() bool {
		v := bs[2].view()
		part := v.Topics["moving"].Partitions[0]
		lres, err := adm.ListPartitionReassignments(ctx, kadm.TopicsSet{"moving": {0: {}}})
		return err == nil && len(lres["moving"]) == 0 &&
			slices.Equal(part.Replicas, []int32{3, 2}) && len(part.Adding) == 0 && part.State != nil && part.State.Leader != 1
	})
	eventually(t, "broker 1's replica deleted", func() bool { _, ok := bs[0].dir.Log(tp("moving", 0)); return !ok })
	time.Sleep(200 * time.Millisecond) // a few more writes on the new leader
	close(stop)
	n := <-done
	require.Positive(t, n)

	cons := newClient(t, bs[2], kgo.SeedBrokers(bs[1].Addr(), bs[2].Addr()), kgo.ConsumeTopics("moving"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := map[string]bool{}
	for len(seen) < n {
		fs := cons.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "read back %d of %d", len(seen), n)
		fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)] = true })
	}
	for i := range n {
		require.True(t, seen[fmt.Sprintf("m%05d", i)], "acknowledged record m%05d lost", i)
	}
}

// Replication throttles: with follower.replication.throttled.replicas on
// the topic and follower.replication.throttled.rate on the follower (or
// the leader.* pair on the leader), the follower cannot copy the data
// faster than the rate allows (one second of burst and one fetch of
// replica.fetch.max.bytes beyond it); it still catches up.
func TestReplicationThrottle(t *testing.T) {
	for _, side := range []struct {
		name   string
		broker int32
		list   string
	}{{"follower", 2, "*"}, {"leader", 1, "0:1"}} {
		t.Run(side.name, func(t *testing.T) {
			bs := startReplicatedCluster(t, 2, func(c *config.Config) {
				c.ReplicaFetchMaxBytes = 64 << 10
				c.ReplicaLagTimeMaxMs = 60000 // throttled followers stay in the ISR here
			})
			ctx := ctxT(t)
			createAssigned(t, bs, "thr", `{"0":[1,2]}`)
			adm := kadm.NewClient(newClient(t, bs[0], kgo.SeedBrokers(bs[0].Addr(), bs[1].Addr())))
			const rate = 1 << 20
			r1, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: side.name + ".replication.throttled.replicas", Value: ptr(side.list)}}, "thr")
			require.NoError(t, err)
			require.NoError(t, r1[0].Err)
			r2, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: side.name + ".replication.throttled.rate", Value: ptr(fmt.Sprint(rate))}}, side.broker)
			require.NoError(t, err)
			require.NoError(t, r2[0].Err)
			b := bs[side.broker-1]
			eventually(t, "the throttle seen", func() bool {
				v := b.view()
				return b.throttleRate(v, side.name) == rate && b.throttled(v, tp("thr", 0), side.name)
			})

			prod := newClient(t, bs[0], kgo.DefaultProduceTopic("thr"), kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(),
				kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerBatchMaxBytes(16<<10))
			start := time.Now()
			var recs []*kgo.Record
			for i := range 3 * 1024 {
				recs = append(recs, &kgo.Record{Value: []byte(fmt.Sprintf("%01024d", i))})
			}
			require.NoError(t, prod.ProduceSync(ctx, recs...).FirstErr())
			leader, _ := bs[0].dir.Log(tp("thr", 0))
			follower, _ := bs[1].dir.Log(tp("thr", 0))
			total := leader.Size()
			require.Greater(t, total, int64(3<<20))
			deadline := time.Now().Add(30 * time.Second)
			for follower.LogEndOffset() < leader.LogEndOffset() {
				require.True(t, time.Now().Before(deadline), "the throttled follower never caught up")
				time.Sleep(20 * time.Millisecond)
			}
			took := time.Since(start)
			floor := time.Duration(float64(total-rate-(64<<10)) / rate * float64(time.Second))
			t.Logf("%d bytes replicated in %s under a %d B/s %s throttle (floor %s)", total, took, rate, side.name, floor)
			require.GreaterOrEqual(t, took, floor, "replication went faster than the throttle allows")
		})
	}
}

// CreatePartitions and topic deletion across replicas: the new partition
// of an RF 3 topic gets a log (and the data) on all three brokers, and
// deleting the topic removes every replica's logs.
func TestCreatePartitionsAndDeleteAcrossReplicas(t *testing.T) {
	bs := startReplicatedCluster(t, 3, nil)
	ctx := ctxT(t)
	cl := newClient(t, bs[0], kgo.SeedBrokers(bs[0].Addr(), bs[1].Addr(), bs[2].Addr()),
		kgo.DefaultProduceTopic("grow3"), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	adm := kadm.NewClient(cl)
	res, err := adm.CreateTopic(ctx, 1, 3, nil, "grow3")
	require.NoError(t, err)
	require.NoError(t, res.Err)
	for _, b := range bs {
		eventually(t, "grow3 in every broker's metadata", func() bool { return topicReady(b.view(), "grow3") })
	}
	cp, err := adm.CreatePartitions(ctx, 1, "grow3")
	require.NoError(t, err)
	require.NoError(t, cp["grow3"].Err)
	for _, b := range bs {
		eventually(t, "partition 1 on every broker", func() bool { return topicReady(b.view(), "grow3") && len(b.view().Topics["grow3"].Partitions) == 2 })
	}
	require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: []byte("p1"), Partition: 1}, &kgo.Record{Value: []byte("p0"), Partition: 0}).FirstErr())
	for _, b := range bs {
		for p := int32(0); p < 2; p++ {
			eventually(t, fmt.Sprintf("broker %d holds grow3-%d with its record", b.cfg.BrokerID, p), func() bool {
				l, ok := b.dir.Log(tp("grow3", p))
				return ok && l.LogEndOffset() == 1 && l.HighWatermark() == 1
			})
		}
	}
	dres, err := adm.DeleteTopics(ctx, "grow3")
	require.NoError(t, err)
	require.NoError(t, dres["grow3"].Err)
	for _, b := range bs {
		eventually(t, fmt.Sprintf("broker %d deleted every grow3 log", b.cfg.BrokerID), func() bool {
			for _, p := range b.dir.Partitions() {
				if p.Topic == "grow3" {
					return false
				}
			}
			return true
		})
	}
}

// Offset commits are acks=all writes: with __consumer_offsets at RF 3, a
// commit is answered only once the ISR has it (the coordinator's high
// watermark covers it), and with the ISR below min.insync.replicas it is
// refused with COORDINATOR_NOT_AVAILABLE instead of being acknowledged.
func TestOffsetCommitWaitsForReplication(t *testing.T) {
	bs := startReplicatedCluster(t, 3, func(c *config.Config) {
		c.OffsetsTopicRF, c.OffsetsTopicPartitions, c.MinInsyncReplicas = 3, 1, 2
		c.ControlledShutdownEnable = false
	})
	ctx := ctxT(t)
	cl := newClient(t, bs[0], kgo.SeedBrokers(bs[0].Addr(), bs[1].Addr(), bs[2].Addr()))
	adm := kadm.NewClient(cl)
	res, err := adm.CreateTopic(ctx, 1, 3, nil, "committed")
	require.NoError(t, err)
	require.NoError(t, res.Err)
	offs := kadm.Offsets{}
	offs.Add(kadm.Offset{Topic: "committed", Partition: 0, At: 7, LeaderEpoch: -1})
	var cr kadm.OffsetResponses
	eventually(t, "a first commit (the offsets topic is created on demand)", func() bool {
		cr, err = adm.CommitOffsets(ctx, "g1", offs)
		return err == nil && cr.Error() == nil
	})
	coord := byID(bs, partitionState(t, bs[0], offsetsTopic, 0).Leader)
	for i := range 5 {
		offs = kadm.Offsets{}
		offs.Add(kadm.Offset{Topic: "committed", Partition: 0, At: int64(10 + i), LeaderEpoch: -1})
		cr, err = adm.CommitOffsets(ctx, "g1", offs)
		require.NoError(t, err)
		require.NoError(t, cr.Error())
		l, _ := coord.dir.Log(tp(offsetsTopic, 0))
		require.Equal(t, l.LogEndOffset(), l.HighWatermark(), "the commit was answered before the ISR had it")
	}

	// Both followers gone: the ISR falls to the coordinator alone.
	for _, b := range bs {
		if b != coord {
			require.NoError(t, b.Close())
		}
	}
	eventually(t, "offsets partition ISR shrunk", func() bool { return len(partitionState(t, coord, offsetsTopic, 0).ISR) == 1 })
	only := kadm.NewClient(newClient(t, coord, kgo.SeedBrokers(coord.Addr()), kgo.RetryTimeout(2*time.Second)))
	offs = kadm.Offsets{}
	offs.Add(kadm.Offset{Topic: "committed", Partition: 0, At: 99, LeaderEpoch: -1})
	ol, _ := coord.dir.Log(tp(offsetsTopic, 0))
	before := ol.LogEndOffset()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cr, err = only.CommitOffsets(cctx, "g1", offs)
	if err == nil {
		err = cr.Error()
	}
	require.Error(t, err, "a commit the ISR cannot hold must not be acknowledged")
	require.Equal(t, before, ol.LogEndOffset(), "and it is not appended either (NOT_ENOUGH_REPLICAS before the append)")
}

// unclean.leader.election.enable: with the last ISR member gone and only
// an out-of-sync replica alive, a topic with the setting elects it (its
// data is lost, which is what the setting accepts); a topic without it
// stays at Leader -1.
func TestUncleanLeaderElection(t *testing.T) {
	bs := startReplicatedCluster(t, 2, func(c *config.Config) { c.ControlledShutdownEnable = false })
	ctx := ctxT(t)
	createAssigned(t, bs, "clean", `{"0":[1,2]}`)
	createAssigned(t, bs, "unclean", `{"0":[1,2]}`)
	adm := kadm.NewClient(newClient(t, bs[0], kgo.SeedBrokers(bs[0].Addr())))
	r, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "unclean.leader.election.enable", Value: ptr("true")}}, "unclean")
	require.NoError(t, err)
	require.NoError(t, r[0].Err)
	eventually(t, "leader 1 for both", func() bool {
		return partitionState(t, bs[0], "clean", 0).Leader == 1 && partitionState(t, bs[0], "unclean", 0).Leader == 1
	})
	require.NoError(t, bs[1].Close())
	eventually(t, "ISR shrunk to 1", func() bool {
		return len(partitionState(t, bs[0], "clean", 0).ISR) == 1 && len(partitionState(t, bs[0], "unclean", 0).ISR) == 1
	})
	require.NoError(t, bs[0].Close())
	// Broker 2 comes back (on an empty disk): only it is alive, and it is
	// not in either ISR.
	b2, _ := startBroker(t, func(c *config.Config) {
		c.BrokerID, c.ZookeeperConnect, c.ReplicaLagTimeMaxMs = 2, bs[0].cfg.ZookeeperConnect, 1500
	})
	eventually(t, "unclean elected, clean leaderless", func() bool {
		u, c := partitionState(t, b2, "unclean", 0), partitionState(t, b2, "clean", 0)
		return u.Leader == 2 && slices.Equal(u.ISR, []int32{2}) && c.Leader == coord.NoLeader
	})
}
