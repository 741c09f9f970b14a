package broker

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"mqstack/brokerd/internal/config"
	"mqstack/brokerd/internal/coord"
	"mqstack/proto/kafkazk"
)

func zkConn(t *testing.T, connect string) (*zk.Conn, string) {
	servers, chroot, err := coord.ParseConnect(connect)
	require.NoError(t, err)
	c, _, err := zk.Connect(servers, 6*time.Second, zk.WithLogger(quiet{}))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c, chroot
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// startCluster runs n brokers (ids 1..n) on one chroot.
func startCluster(t *testing.T, n int) ([]*Broker, string) {
	return startClusterWith(t, n, nil)
}

// startClusterWith runs n brokers (ids 1..n) on one chroot, each config
// changed by mutate.
func startClusterWith(t *testing.T, n int, mutate func(*config.Config)) ([]*Broker, string) {
	connect := zkServer.Connect(t.Name())
	var bs []*Broker
	for i := 1; i <= n; i++ {
		b, _ := startBroker(t, func(c *config.Config) {
			c.BrokerID = int32(i)
			c.ZookeeperConnect = connect
			if mutate != nil {
				mutate(c)
			}
		})
		bs = append(bs, b)
	}
	return bs, connect
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Three brokers on one zkd under a chroot: Kafka's znodes, leaders spread
// by the controller, produce and consume across leaders, a topic created
// and deleted through ZooKeeper directly, and controller failover.
func TestThreeBrokersOnZooKeeper(t *testing.T) {
	bs, connect := startCluster(t, 3)
	zc, chroot := zkConn(t, connect)

	// Registrations, cluster id, controller.
	ids, _, err := zc.Children(chroot + kafkazk.BrokerIDsPath)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"1", "2", "3"}, ids)
	data, _, err := zc.Get(chroot + kafkazk.BrokerPath(2))
	require.NoError(t, err)
	bi, err := kafkazk.DecodeBrokerInfo(2, data)
	require.NoError(t, err)
	ep, ok := bi.Endpoint("PLAINTEXT")
	require.True(t, ok)
	require.Equal(t, bs[1].Addr(), fmt.Sprintf("%s:%d", ep.Host, ep.Port))
	data, _, err = zc.Get(chroot + kafkazk.ClusterIDPath)
	require.NoError(t, err)
	cid, err := kafkazk.DecodeClusterID(data)
	require.NoError(t, err)
	for _, b := range bs {
		require.Equal(t, cid, b.ClusterID())
	}
	data, _, err = zc.Get(chroot + kafkazk.ControllerPath)
	require.NoError(t, err)
	controller, err := kafkazk.DecodeController(data)
	require.NoError(t, err)
	data, _, err = zc.Get(chroot + kafkazk.ControllerEpochPath)
	require.NoError(t, err)
	require.Equal(t, "1", string(data))

	// CreateTopics through any broker: 6 partitions spread over 3 brokers
	// (once every broker's view has all three: a broker learns of the
	// others through its next ZooKeeper pass).
	for _, b := range bs {
		eventually(t, "three live brokers in every view", func() bool { return len(b.view().Brokers) == 3 })
	}
	cl := newClient(t, bs[0], kgo.SeedBrokers(bs[0].Addr(), bs[1].Addr()))
	adm := kadm.NewClient(cl)
	ctx := ctxT(t)
	res, err := adm.CreateTopic(ctx, 6, 1, nil, "spread")
	require.NoError(t, err)
	require.NoError(t, res.Err)
	data, _, err = zc.Get(chroot + kafkazk.TopicPath("spread"))
	require.NoError(t, err)
	a, err := kafkazk.DecodeTopicAssignment("spread", data)
	require.NoError(t, err)
	per := map[int32]int{}
	for _, r := range a.Partitions {
		per[r[0]]++
	}
	require.Equal(t, map[int32]int{1: 2, 2: 2, 3: 2}, per, "round-robin assignment")
	data, _, err = zc.Get(chroot + kafkazk.PartitionStatePath("spread", 4))
	require.NoError(t, err)
	st, err := kafkazk.DecodePartitionState("", data)
	require.NoError(t, err)
	require.Equal(t, a.Partitions[4][0], st.Leader)
	require.Equal(t, int32(1), st.ControllerEpoch)

	// Produce to every partition (franz-go routes to each leader), consume all.
	prod := newClient(t, bs[2], kgo.DefaultProduceTopic("spread"), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	var recs []*kgo.Record
	for i := range 60 {
		recs = append(recs, &kgo.Record{Value: []byte(fmt.Sprintf("v%d", i))})
	}
	require.NoError(t, prod.ProduceSync(ctx, recs...).FirstErr())
	cons := newClient(t, bs[1], kgo.ConsumeTopics("spread"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := 0
	for got < 60 {
		fs := cons.PollFetches(ctx)
		require.NoError(t, ctx.Err())
		got += len(fs.Records())
	}
	require.Equal(t, 60, got)
	for i, b := range bs {
		n := 0
		for _, tp := range b.dir.Partitions() {
			if tp.Topic == "spread" {
				n++
			}
		}
		require.Equal(t, 2, n, "broker %d holds the logs of the partitions it leads", i+1)
	}

	// The old kafka-topics --zookeeper path: write /brokers/topics directly.
	_, err = zc.Create(chroot+kafkazk.TopicPath("legacy"), []byte(`{"version":1,"partitions":{"0":[3],"1":[1]}}`), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	eventually(t, "legacy topic leaders", func() bool { return topicReady(bs[0].view(), "legacy") })
	lp := newClient(t, bs[0], kgo.DefaultProduceTopic("legacy"))
	require.NoError(t, lp.ProduceSync(ctx, &kgo.Record{Value: []byte("old"), Partition: 0}).FirstErr())
	_, ok = bs[2].dir.Log(tp("legacy", 0))
	require.True(t, ok)

	// Deletion through /admin/delete_topics: znodes and logs go.
	_, err = zc.Create(chroot+kafkazk.DeleteTopicPath("legacy"), nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	eventually(t, "legacy deleted", func() bool {
		ok, _, _ := zc.Exists(chroot + kafkazk.TopicPath("legacy"))
		_, hasLog := bs[2].dir.Log(tp("legacy", 0))
		return !ok && !hasLog
	})
	ok, _, err = zc.Exists(chroot + kafkazk.DeleteTopicPath("legacy"))
	require.NoError(t, err)
	require.False(t, ok)

	// Controller failover: close the controller; another takes over with
	// epoch 2, and the partitions it led have no leader (RF=1).
	var dead *Broker
	for _, b := range bs {
		if b.cfg.BrokerID == controller {
			dead = b
		}
	}
	require.NoError(t, dead.Close())
	eventually(t, "new controller", func() bool {
		data, _, err := zc.Get(chroot + kafkazk.ControllerPath)
		if err != nil {
			return false
		}
		id, _ := kafkazk.DecodeController(data)
		return id != controller && id > 0
	})
	data, _, err = zc.Get(chroot + kafkazk.ControllerEpochPath)
	require.NoError(t, err)
	require.Equal(t, "2", string(data))
	eventually(t, "partitions of the dead broker leaderless", func() bool {
		for p, r := range a.Partitions {
			data, _, err := zc.Get(chroot + kafkazk.PartitionStatePath("spread", p))
			if err != nil {
				return false
			}
			s, _ := kafkazk.DecodePartitionState("", data)
			if r[0] == controller && s.Leader != coord.NoLeader {
				return false
			}
		}
		return true
	})
}

func TestBrokerIDTakenAndClusterMismatch(t *testing.T) {
	bs, connect := startCluster(t, 1)
	cfg := testConfig(t, t.TempDir())
	cfg.ZookeeperConnect = connect
	cfg.BrokerID = bs[0].cfg.BrokerID
	b, err := New(cfg, zerolog.Nop())
	require.NoError(t, err)
	err = b.Start()
	require.ErrorIs(t, err, coord.ErrBrokerRegistered)
	require.Contains(t, err.Error(), "broker.id=1")

	// A log dir from another cluster (its meta.properties names another id).
	dir := filepath.Join(t.TempDir(), "logs")
	other, _ := startBroker(t, func(c *config.Config) { c.LogDirs = []string{dir}; c.BrokerID = 7 })
	require.NoError(t, other.Close())
	cfg = testConfig(t, dir)
	cfg.ZookeeperConnect = connect
	cfg.BrokerID = 7
	b, err = New(cfg, zerolog.Nop())
	require.NoError(t, err)
	err = b.Start()
	require.ErrorIs(t, err, coord.ErrClusterIDMismatch)
	require.True(t, strings.Contains(err.Error(), "meta.properties"))
}

// A controller whose /controller_epoch version moved is fenced.
func TestStaleControllerIsFenced(t *testing.T) {
	bs, connect := startCluster(t, 1)
	zc, chroot := zkConn(t, connect)
	// Another "controller" bumps the epoch behind broker 1's back.
	_, err := zc.Set(chroot+kafkazk.ControllerEpochPath, []byte("5"), -1)
	require.NoError(t, err)
	// Broker 1 still holds /controller, so its next write (the state of a
	// new topic) fails the epoch check; it resigns, is elected again with
	// epoch 6, and only then writes the state, stamped 6.
	_, err = zc.Create(chroot+kafkazk.TopicPath("fenced"), []byte(`{"version":1,"partitions":{"0":[1]}}`), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	eventually(t, "re-election and state", func() bool { return topicReady(bs[0].view(), "fenced") })
	data, _, err := zc.Get(chroot + kafkazk.ControllerEpochPath)
	require.NoError(t, err)
	require.Equal(t, "6", string(data))
	data, _, err = zc.Get(chroot + kafkazk.PartitionStatePath("fenced", 0))
	require.NoError(t, err)
	st, err := kafkazk.DecodePartitionState("", data)
	require.NoError(t, err)
	require.Equal(t, int32(6), st.ControllerEpoch)
}

// broker.id=-1: ids generated from /brokers/seqid above
// reserved.broker.max.id, kept in meta.properties across a restart.
func TestGeneratedBrokerIDs(t *testing.T) {
	connect := zkServer.Connect(t.Name())
	dir := t.TempDir()
	gen := func(c *config.Config) { c.BrokerID = -1; c.ZookeeperConnect = connect }
	b1, _ := startBroker(t, func(c *config.Config) { gen(c); c.LogDirs = []string{dir} })
	b2, _ := startBroker(t, gen)
	require.Equal(t, int32(1001), b1.BrokerID())
	require.Equal(t, int32(1002), b2.BrokerID())
	zc, chroot := zkConn(t, connect)
	ids, _, err := zc.Children(chroot + kafkazk.BrokerIDsPath)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"1001", "1002"}, ids)

	require.NoError(t, b1.Close())
	cfg := testConfig(t, dir)
	gen(&cfg)
	again, err := New(cfg, zerolog.Nop())
	require.NoError(t, err)
	require.NoError(t, again.Start())
	defer again.Close()
	require.Equal(t, int32(1001), again.BrokerID(), "the id comes back from meta.properties")
}

// A broker advertising 127.0.0.1 to a ZooKeeper on another machine is
// refused at start, before it registers anything, with the key and the fix.
func TestLoopbackListenerWithRemoteZooKeeperRefused(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.ZookeeperConnect = "192.0.2.10:2181/kafka" // TEST-NET-1: another machine
	b, err := New(cfg, zerolog.Nop())
	require.NoError(t, err)
	err = b.Start()
	require.ErrorIs(t, err, config.ErrConfig)
	require.Contains(t, err.Error(), "listeners=PLAINTEXT://127.0.0.1:0 advertises a loopback address")
	require.Contains(t, err.Error(), "set advertised.listeners=PLAINTEXT://")
}

// A broker restarted right after a crash finds its own registration still
// held by the dead run's ZooKeeper session: it waits for ZooKeeper to
// expire it and then registers, instead of refusing to start as if
// another broker had its id (a systemd restart loop otherwise).
func TestRestartWaitsForOwnStaleRegistration(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())

	connect := zkServer.Connect(t.Name())
	cfg := testConfig(t, t.TempDir())
	cfg.ZookeeperConnect = connect
	cfg.BrokerID = 4
	cfg.Listeners = []config.Listener{{Name: "PLAINTEXT", Host: "127.0.0.1", Port: port}}

	// The "dead" run: its session (another client here) holds
	// /brokers/ids/4 with the same endpoint.
	stale, chroot := zkConn(t, connect)
	for _, p := range []string{chroot, chroot + "/brokers", chroot + "/brokers/ids"} {
		if _, err := stale.Create(p, nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			require.ErrorIs(t, err, zk.ErrNodeExists)
		}
	}
	info := kafkazk.BrokerInfo{ID: 4, Endpoints: []string{fmt.Sprintf("PLAINTEXT://127.0.0.1:%d", port)}, Host: "127.0.0.1", Port: port, JmxPort: -1, Version: 5}
	_, err = stale.Create(chroot+"/brokers/ids/4", kafkazk.EncodeBrokerInfo(info), zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)

	b, err := New(cfg, zerolog.Nop())
	require.NoError(t, err)
	started := make(chan error, 1)
	go func() { started <- b.Start() }()
	select {
	case err := <-started:
		t.Fatalf("Start returned while the old registration was held: %v", err)
	case <-time.After(time.Second):
	}
	stale.Close() // the old session ends (as ZooKeeper expiring it would)
	select {
	case err := <-started:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("the broker did not register after the old session ended")
	}
	t.Cleanup(func() { _ = b.Close() })
	owner, _ := zkConn(t, connect)
	_, st, err := owner.Get(chroot + "/brokers/ids/4")
	require.NoError(t, err)
	require.NotZero(t, st.EphemeralOwner)
}
