package coord

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"mqstack/brokerd/internal/zktest"
	"mqstack/proto/kafkazk"
)

// stepped is a Coordinator whose passes the test runs itself (no loop), on
// a real zkd, plus a second ZooKeeper client writing behind its back.
type stepped struct {
	*Coordinator
	zkAddr string
	other  *zk.Conn
}

type nopZkLogger struct{}

func (nopZkLogger) Printf(string, ...any) {}

func startStepped(t *testing.T) *stepped {
	t.Helper()
	srv, err := zktest.Start()
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	zkConnect := srv.Connect(t.Name())
	c, err := connect1(zkConnect)
	require.NoError(t, err)
	t.Cleanup(func() { close(c.stop); c.conn.Close() })
	_, err = c.setup("")
	require.NoError(t, err)
	servers, chroot, err := ParseConnect(zkConnect)
	require.NoError(t, err)
	other, _, err := zk.Connect(servers, 10*time.Second, zk.WithLogger(nopZkLogger{}))
	require.NoError(t, err)
	t.Cleanup(other.Close)
	require.Equal(t, chroot, c.chroot)
	return &stepped{Coordinator: c, zkAddr: srv.Addr, other: other}
}

func connect1(zkConnect string) (*Coordinator, error) {
	return connect(Options{Connect: zkConnect, SessionTimeout: 10 * time.Second, BrokerID: 1, Logger: zerolog.Nop(),
		Info: kafkazk.BrokerInfo{Host: "127.0.0.1", Port: 9092, Endpoints: []string{"PLAINTEXT://127.0.0.1:9092"},
			ListenerSecurityProtocolMap: map[string]string{"PLAINTEXT": "PLAINTEXT"}, Version: 5, JmxPort: -1}})
}

// step runs one pass and returns the view it published.
func (s *stepped) step(t *testing.T) View {
	t.Helper()
	require.NoError(t, s.pass())
	v, _ := s.View()
	return v
}

// received is the number of requests zkd has received on this
// coordinator's session (the cons four-letter word's recved).
func (s *stepped) received(t *testing.T) int64 {
	t.Helper()
	nc, err := net.DialTimeout("tcp", s.zkAddr, 5*time.Second)
	require.NoError(t, err)
	defer nc.Close()
	_, err = nc.Write([]byte("cons"))
	require.NoError(t, err)
	require.NoError(t, nc.SetReadDeadline(time.Now().Add(5*time.Second)))
	sid := fmt.Sprintf("sid=0x%x,", uint64(s.conn.SessionID()))
	sc := bufio.NewScanner(nc)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, sid) {
			continue
		}
		_, rest, _ := strings.Cut(line, "recved=")
		n, _, _ := strings.Cut(rest, ",")
		v, err := strconv.ParseInt(n, 10, 64)
		require.NoError(t, err, line)
		return v
	}
	t.Fatalf("cons lists no connection with %s", sid)
	return 0
}

func (s *stepped) createTopics(t *testing.T, n, partitions int) {
	t.Helper()
	for i := range n {
		a := map[int32][]int32{}
		for p := range partitions {
			a[int32(p)] = []int32{1}
		}
		require.NoError(t, s.CreateTopic(fmt.Sprintf("t%03d", i), NewUUID(), a, map[string]string{}))
	}
}

func allLed(v View, topics, partitions int) bool {
	if len(v.Topics) != topics {
		return false
	}
	for _, t := range v.Topics {
		if len(t.Partitions) != partitions {
			return false
		}
		for _, p := range t.Partitions {
			if p.State == nil || p.State.Leader != 1 {
				return false
			}
		}
	}
	return true
}

// An idle pass over N topics costs O(1) ZooKeeper requests, not O(N); the
// periodic full pass still reads everything.
func TestIdlePassReadsOnlyWhatChanged(t *testing.T) {
	s := startStepped(t)
	const topics, partitions = 100, 5
	s.createTopics(t, topics, partitions)
	// The pass that sees the new topics elects their leaders and re-reads.
	require.True(t, allLed(s.step(t), topics, partitions), "the first pass after the creations elects every leader")
	s.step(t)

	before := s.received(t)
	const passes = 5
	for range passes {
		require.True(t, allLed(s.step(t), topics, partitions))
	}
	idle := s.received(t) - before
	// Per idle pass: the round trip that orders the cache (pass), the
	// controller's listing of /admin/delete_topics, and at most a ping or
	// two of the session over the whole run.
	require.LessOrEqual(t, idle, int64(passes*3+2), "requests for %d idle passes over %d topics", passes, topics)

	before = s.received(t)
	s.mu.Lock()
	s.uncached, s.touched = true, map[string]bool{}
	s.passes++
	s.mu.Unlock()
	require.True(t, allLed(s.step(t), topics, partitions))
	s.mu.Lock()
	s.uncached = false
	s.mu.Unlock()
	s.forgetUntouched()
	full := s.received(t) - before
	require.GreaterOrEqual(t, full, int64(topics*(partitions+2)), "a full pass reads every znode")
	t.Logf("%d topics x %d partitions: %d requests for %d idle passes, %d for one full pass", topics, partitions, idle, passes, full)
}

// The cache never hides a change: a znode changed by another client is
// seen once its watch fires, this process's own writes (a leader's ISR
// change, the controller's elections, topic creation and deletion) are
// seen by the very next read even before their watch events are handled,
// and a deleted topic leaves no cache entries behind.
func TestWatchCacheSeesEveryChange(t *testing.T) {
	s := startStepped(t)
	s.createTopics(t, 3, 2)
	require.True(t, allLed(s.step(t), 3, 2))
	s.step(t)

	// Hold every fired watch back, as a slow watch goroutine would.
	hold := make(chan struct{})
	s.mu.Lock()
	s.holdWatches = hold
	s.mu.Unlock()

	// Another client changes a topic's config. Once any later request on
	// the session is answered, ZooKeeper has delivered the watch event, and
	// the next pass sees the change although watch() has not handled it.
	cp := s.p(kafkazk.TopicConfigPath("t000"))
	_, err := s.other.Set(cp, kafkazk.EncodeTopicConfig(map[string]string{"retention.ms": "1234"}), -1)
	require.NoError(t, err)
	_, _, err = s.conn.Get(s.p(kafkazk.ClusterIDPath))
	require.NoError(t, err)
	require.Equal(t, "1234", s.step(t).Topics["t000"].Config["retention.ms"], "another client's write is in the next pass")

	// This process's own writes are in the next pass.
	v, _ := s.View()
	part := v.Topics["t001"].Partitions[1]
	next := *part.State
	next.LeaderEpoch += 7
	_, err = s.WriteState("t001", 1, next, part.StateVersion)
	require.NoError(t, err)
	v = s.step(t)
	require.Equal(t, next.LeaderEpoch, v.Topics["t001"].Partitions[1].State.LeaderEpoch, "a leader's ISR write is in the next view")

	require.NoError(t, s.CreateTopic("fresh", NewUUID(), map[int32][]int32{0: {1}, 1: {1}}, map[string]string{"cleanup.policy": "compact"}))
	v = s.step(t)
	require.NotNil(t, v.Topics["fresh"], "a created topic is in the next view")
	require.Equal(t, "compact", v.Topics["fresh"].Config["cleanup.policy"])
	for p, part := range v.Topics["fresh"].Partitions {
		require.NotNil(t, part.State, "the controller's election of fresh-%d is in the same pass's view", p)
		require.Equal(t, int32(1), part.State.Leader)
	}

	require.NoError(t, s.DeleteTopic("t002"))
	v = s.step(t)
	require.Nil(t, v.Topics["t002"], "a deleted topic is gone from the next view")
	require.Len(t, v.Topics, 3)

	// Released, the held events are handled: the deleted topic's entries
	// are dropped.
	close(hold)
	require.Eventually(t, func() bool {
		s.step(t)
		s.mu.Lock()
		defer s.mu.Unlock()
		for key := range s.cache {
			if strings.Contains(key, "/t002") {
				return false
			}
		}
		return true
	}, 20*time.Second, 20*time.Millisecond, "the deleted topic's cache entries are dropped")

	// A topic deleted behind the broker's back (the old kafka-topics
	// --zookeeper path, by another client) disappears too.
	_, err = s.other.Create(s.p(kafkazk.DeleteTopicPath("t001")), nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, ok := s.step(t).Topics["t001"]
		return !ok
	}, 20*time.Second, 20*time.Millisecond, "a deletion requested by another client is carried out and seen")
}

// wrote marks a written znode, its children list and its parent's children
// list stale while their watches stay armed.
func TestWroteMarksPathAndParentStale(t *testing.T) {
	s := startStepped(t)
	s.createTopics(t, 1, 1)
	s.step(t)
	tp := s.p(kafkazk.TopicPath("t000"))
	parent := s.p(kafkazk.BrokerTopicsPath) + "/"
	valid := func(key string) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		e := s.cache[key]
		return e != nil && e.armed && e.valid
	}
	require.True(t, valid(tp))
	require.True(t, valid(parent))
	s.wrote(tp)
	require.False(t, valid(tp))
	require.False(t, valid(parent))
	s.mu.Lock()
	require.True(t, s.cache[tp].armed, "the watch is still set")
	s.mu.Unlock()
	s.step(t)
	require.True(t, valid(tp), "the next read caches it again")
	require.True(t, valid(parent))
}
