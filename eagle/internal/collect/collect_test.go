package collect

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/eagle/internal/config"
	"mqstack/eagle/internal/model"
)

// A broker once registered stays listed as down after its registration
// vanishes, also across a restart (Remember), until it is forgotten.
func TestKnownBrokers(t *testing.T) {
	c := New(config.Cluster{Alias: "c1", ZkServers: []string{"127.0.0.1:1"}}, 4, zerolog.Nop())
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	c.Remember([]Seen{{ID: 3, Host: "old-host", Port: 9094, Last: t0.Add(-time.Hour)}})
	s := &model.Snapshot{Time: t0, Brokers: []model.Broker{{ID: 1, Host: "h1", Port: 9092, Registered: true}}}
	c.mergeKnown(s)
	require.Len(t, s.Brokers, 2)
	assert.EqualValues(t, 3, s.Brokers[1].ID)
	assert.False(t, s.Brokers[1].Registered)
	assert.Equal(t, "old-host", s.Brokers[1].Host)
	assert.Contains(t, s.Brokers[1].Error, "not registered in ZooKeeper (last seen 2026-12-07T09:00:00Z)")

	// Broker 1 vanishes next pass; broker 3 is forgotten.
	c.Forget(3)
	s = &model.Snapshot{Time: t0.Add(time.Minute)}
	c.mergeKnown(s)
	require.Len(t, s.Brokers, 1)
	assert.EqualValues(t, 1, s.Brokers[0].ID)
	assert.Equal(t, "h1", s.Brokers[0].Host)
	assert.Equal(t, []Seen{{ID: 1, Host: "h1", Port: 9092, Last: t0}}, c.Known())

	// A pass that could not read ZooKeeper changes nothing.
	s = &model.Snapshot{Time: t0.Add(2 * time.Minute), ZKError: "connection refused"}
	c.mergeKnown(s)
	assert.Empty(t, s.Brokers)
}

func TestParseMetrics(t *testing.T) {
	m, err := ParseMetrics(stringsReader(`# TYPE kafka_server_brokertopicmetrics_bytesin_total counter
kafka_server_brokertopicmetrics_bytesin_total 1234
# TYPE kafka_server_brokertopicmetrics_messagesin_total counter
kafka_server_brokertopicmetrics_messagesin_total 17
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 5.24288e+07
`))
	require.NoError(t, err)
	assert.True(t, m.ok)
	assert.Equal(t, 1234.0, m.bytesIn)
	assert.Equal(t, 17.0, m.msgIn)
	assert.Equal(t, 52428800.0, m.rss)
	_, err = ParseMetrics(stringsReader("this is { not prometheus\n"))
	assert.Error(t, err)
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

// A "ZooKeeper" that accepts connections and never answers does not stall
// the pass: it ends with the ZooKeeper error, the server shown down.
func TestSilentZooKeeperDoesNotStallThePass(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // never read, never answered
		}
	}()
	c := New(config.Cluster{Alias: "c1", ZkServers: []string{ln.Addr().String()}, ZkList: ln.Addr().String()}, 4, zerolog.Nop())
	defer c.Close()
	c.zkTimeout, c.timeout = time.Second, time.Second
	start := time.Now()
	s := c.Collect(context.Background())
	assert.Less(t, time.Since(start), 20*time.Second)
	assert.NotEmpty(t, s.ZKError)
	require.Len(t, s.ZK, 1)
	assert.False(t, s.ZK[0].Up)
	assert.NotEmpty(t, s.KafkaError)
}
