package tools

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"mqstack/brokerd/internal/broker"
	"mqstack/brokerd/internal/config"
	"mqstack/brokerd/internal/coord"
	"mqstack/brokerd/internal/zktest"
	"mqstack/proto/kafkazk"
)

var zkServer *zktest.Server

func TestMain(m *testing.M) { os.Exit(zktest.RunMain(m, &zkServer)) }

// syncBuf is a goroutine-safe log sink printed when a test fails.
type syncBuf = zktest.LogBuffer

// cluster is n in-process brokers (ids 1..n) on one zkd chroot.
type cluster struct {
	t       *testing.T
	connect string // zookeeper.connect with the chroot
	brokers []*broker.Broker
	dirs    []string
	closed  []bool
	cfgs    []config.Config
	logs    []*syncBuf
}

func startCluster(t *testing.T, n int, mutate func(*config.Config)) *cluster {
	t.Helper()
	c := &cluster{t: t, connect: zkServer.Connect(t.Name())}
	for i := 1; i <= n; i++ {
		cfg := config.Default()
		cfg.Path = "test.properties"
		cfg.BrokerID = int32(i)
		cfg.Listeners = []config.Listener{{Name: "PLAINTEXT", Host: "127.0.0.1", Port: 0}}
		dir := t.TempDir()
		cfg.LogDirs = []string{dir}
		cfg.ZookeeperConnect = c.connect
		cfg.ZookeeperSessionTimeout = 6000
		cfg.OffsetsTopicRF = 1
		cfg.OffsetsTopicPartitions = 3
		cfg.GroupInitialRebalanceDelayMs = 0
		cfg.MetricsPort = -1
		if mutate != nil {
			mutate(&cfg)
		}
		logs := &syncBuf{}
		b, err := broker.New(cfg, zerolog.New(logs))
		require.NoError(t, err)
		require.NoError(t, b.Start())
		idx := i - 1
		c.brokers = append(c.brokers, b)
		c.dirs = append(c.dirs, dir)
		c.closed = append(c.closed, false)
		c.cfgs = append(c.cfgs, cfg)
		c.logs = append(c.logs, logs)
		t.Cleanup(func() {
			if !c.closed[idx] {
				_ = c.brokers[idx].Close()
			}
			if t.Failed() {
				t.Logf("broker %d log:\n%s", idx+1, logs.String())
			}
		})
	}
	return c
}

// stop closes broker id (1-based).
func (c *cluster) stop(id int) {
	require.NoError(c.t, c.brokers[id-1].Close())
	c.closed[id-1] = true
}

// restart starts a stopped broker again on its log dir (a new port).
func (c *cluster) restart(id int) {
	b, err := broker.New(c.cfgs[id-1], zerolog.New(c.logs[id-1]))
	require.NoError(c.t, err)
	require.NoError(c.t, b.Start())
	c.brokers[id-1], c.closed[id-1] = b, false
}

func (c *cluster) bootstrap() string {
	var s []string
	for i, b := range c.brokers {
		if !c.closed[i] {
			s = append(s, b.Addr())
		}
	}
	return strings.Join(s, ",")
}

// zk is a raw ZooKeeper session on the cluster's chroot.
func (c *cluster) zk() (*zk.Conn, string) {
	servers, chroot, err := coord.ParseConnect(c.connect)
	require.NoError(c.t, err)
	conn, _, err := zk.Connect(servers, 6*time.Second, zk.WithLogger(noLog{}))
	require.NoError(c.t, err)
	c.t.Cleanup(conn.Close)
	return conn, chroot
}

// topicID reads a topic's id from /brokers/topics/<t>.
func (c *cluster) topicID(topic string) string {
	conn, chroot := c.zk()
	b, _, err := conn.Get(chroot + kafkazk.TopicPath(topic))
	require.NoError(c.t, err)
	a, err := kafkazk.DecodeTopicAssignment(topic, b)
	require.NoError(c.t, err)
	return a.TopicID
}

// result is one tool run.
type result struct {
	code           int
	stdout, stderr string
}

// run runs a tool in-process with stdin.
func run(t *testing.T, stdin string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb syncBuf
	code := Run(ctx, name, args, strings.NewReader(stdin), &out, &errb)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// ok runs a tool and requires exit status 0.
func ok(t *testing.T, stdin string, name string, args ...string) result {
	t.Helper()
	r := run(t, stdin, name, args...)
	require.Equal(t, 0, r.code, "%s %v: stdout:\n%s\nstderr:\n%s", name, args, r.stdout, r.stderr)
	return r
}

// eventually polls cond for up to 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// isr reads a partition's ISR from its state znode, as "1,2".
func (c *cluster) isr(topic string, p int32) string {
	conn, chroot := c.zk()
	b, _, err := conn.Get(chroot + kafkazk.PartitionStatePath(topic, p))
	if err != nil {
		return "?"
	}
	st, err := kafkazk.DecodePartitionState("", b)
	require.NoError(c.t, err)
	return ids(st.ISR)
}
