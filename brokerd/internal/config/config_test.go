package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const sample = `# a Kafka 2.8 server.properties
broker.id=3
listeners=PLAINTEXT://:9093
advertised.listeners=PLAINTEXT://broker3.example:9093
log.dirs=/var/lib/kafka/a
num.partitions=4
zookeeper.connect=zk1:2181,zk2:2181/kafka
zookeeper.session.timeout.ms = 6000
log.retention.hours=24
log.segment.bytes=1048576
delete.topic.enable=false
auto.create.topics.enable=false
offsets.topic.replication.factor=1
message.max.bytes=2000000
num.network.threads=3
log.cleaner.enable=\
  true
`

func TestParseSample(t *testing.T) {
	c, err := Parse("server.properties", sample)
	require.NoError(t, err)
	require.Equal(t, int32(3), c.BrokerID)
	require.Equal(t, []Listener{{Name: "PLAINTEXT", Port: 9093}}, c.Listeners)
	require.Equal(t, "broker3.example", c.AdvertisedListeners[0].Host)
	require.Equal(t, []string{"/var/lib/kafka/a"}, c.LogDirs)
	require.Equal(t, int32(4), c.NumPartitions)
	require.Equal(t, "zk1:2181,zk2:2181/kafka", c.ZookeeperConnect)
	require.Equal(t, 6000, c.ZookeeperSessionTimeout)
	require.Equal(t, int64(24*3600*1000), c.LogRetentionMs)
	require.Equal(t, int64(1048576), c.LogSegmentBytes)
	require.False(t, c.DeleteTopicEnable)
	require.False(t, c.AutoCreateTopicsEnable)
	require.Equal(t, int16(1), c.OffsetsTopicRF)
	require.Equal(t, int32(2000000), c.MessageMaxBytes)
	require.Equal(t, []string{"log.cleaner.enable", "num.network.threads"}, c.ExtraKeys())
	require.Equal(t, "true", c.Extra[1].Value)
	// Kafka's defaults for what the file leaves out.
	require.Equal(t, int32(104857600), c.SocketRequestMaxBytes)
	require.Equal(t, int32(50), c.OffsetsTopicPartitions)
	require.Equal(t, int16(1), c.DefaultReplicationFactor)
}

func TestRetentionPrecedence(t *testing.T) {
	base := "broker.id=0\nzookeeper.connect=zk:2181\n"
	c, err := Parse("p", base+"log.retention.hours=1\nlog.retention.minutes=2\n")
	require.NoError(t, err)
	require.Equal(t, int64(120000), c.LogRetentionMs)
	c, err = Parse("p", base+"log.retention.minutes=2\nlog.retention.ms=5\n")
	require.NoError(t, err)
	require.Equal(t, int64(5), c.LogRetentionMs)
	c, err = Parse("p", base+"log.retention.ms=-1\n")
	require.NoError(t, err)
	require.Equal(t, int64(-1), c.LogRetentionMs)
}

func TestErrorsNameKeyAndFile(t *testing.T) {
	base := "broker.id=0\nzookeeper.connect=zk:2181\n"
	cases := map[string]struct{ text, want string }{
		"advertise any":     {base + "listeners=PLAINTEXT://0.0.0.0:9092\n", "cannot advertise the non-routable meta-address 0.0.0.0"},
		"advertise any v2":  {base + "advertised.listeners=PLAINTEXT://0.0.0.0:9092\n", "advertised.listeners"},
		"no broker id":      {"zookeeper.connect=zk:2181\nbroker.id.generation.enable=false\n", "broker.id is not set"},
		"id above reserved": {"zookeeper.connect=zk:2181\nbroker.id=1001\n", "reserved.broker.max.id=1000"},
		"no zookeeper":      {"broker.id=1\n", "zookeeper.connect is not set"},
		"bad number":        {base + "num.partitions=zero\n", "num.partitions=\"zero\""},
		"bad bool":          {base + "delete.topic.enable=yes\n", "delete.topic.enable"},
		"bad listener":      {base + "listeners=localhost:9092\n", "listeners="},
		"ssl listener":      {base + "listeners=SSL://:9093\n", "only PLAINTEXT is served"},
		"unmapped name":     {base + "listeners=INTERNAL://:9093\n", "listener.security.protocol.map"},
		"segment bytes":     {base + "log.segment.bytes=10\n", "log.segment.bytes"},
		"session slots":     {base + "max.incremental.fetch.session.cache.slots=-1\n", "max.incremental.fetch.session.cache.slots=\"-1\""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("/etc/kafka/server.properties", tc.text)
			require.ErrorIs(t, err, ErrConfig)
			require.Contains(t, err.Error(), tc.want)
			require.Contains(t, err.Error(), "/etc/kafka/server.properties")
		})
	}
}

// max.incremental.fetch.session.cache.slots is read (Kafka's default
// 1000), not left among the unused keys.
func TestFetchSessionSlots(t *testing.T) {
	base := "broker.id=0\nzookeeper.connect=zk:2181\n"
	c, err := Parse("p", base)
	require.NoError(t, err)
	require.Equal(t, 1000, c.MaxIncrementalFetchSessionCacheSlots)
	c, err = Parse("p", base+"max.incremental.fetch.session.cache.slots=0\n")
	require.NoError(t, err)
	require.Zero(t, c.MaxIncrementalFetchSessionCacheSlots)
	require.Empty(t, c.ExtraKeys())
}

// listeners with 0.0.0.0 and no advertised.listeners would advertise
// 0.0.0.0: refused the way Kafka does.
func TestBindAllNeedsAdvertised(t *testing.T) {
	c, err := Parse("p", "broker.id=0\nzookeeper.connect=zk:2181\nlisteners=PLAINTEXT://0.0.0.0:9092\nadvertised.listeners=PLAINTEXT://10.0.0.5:9092\n")
	require.NoError(t, err)
	require.Equal(t, "10.0.0.5", c.AdvertisedListeners[0].Host)
}

func TestLoad(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.properties"))
	require.ErrorIs(t, err, ErrConfig)
	require.Contains(t, err.Error(), "missing.properties")
	p := filepath.Join(t.TempDir(), "server.properties")
	require.NoError(t, os.WriteFile(p, []byte(sample), 0o644))
	c, err := Load(p)
	require.NoError(t, err)
	require.Equal(t, p, c.Path)
}

func FuzzParseProperties(f *testing.F) {
	f.Add(sample)
	f.Add("")
	f.Add("broker.id=1\\")
	f.Fuzz(func(t *testing.T, text string) {
		_ = ParseProperties(text)
		_, _ = Parse("f", text)
	})
}

// Advertising a loopback address while ZooKeeper is on another machine is
// refused with the key and the fix; loopback everywhere (one machine) and
// real names are fine; names that do not resolve are not judged.
func TestCheckReachable(t *testing.T) {
	hosts := map[string][]string{"localhost": {"127.0.0.1", "::1"}, "zk1": {"10.0.0.5"}, "myhost": {"127.0.1.1"},
		"broker1": {"10.0.0.7"}}
	lookup := func(h string) ([]string, error) {
		if a, ok := hosts[h]; ok {
			return a, nil
		}
		return nil, os.ErrNotExist
	}
	parse := func(text string) Config {
		c, err := Parse("server.properties", text)
		require.NoError(t, err)
		return c
	}
	for _, ok := range []string{
		"zookeeper.connect=localhost:2181\nlisteners=PLAINTEXT://127.0.0.1:9092\n",
		"zookeeper.connect=127.0.0.1:2181,localhost:2182/kafka\nlisteners=PLAINTEXT://localhost:9092\n",
		"zookeeper.connect=zk1:2181\nlisteners=PLAINTEXT://:9092\nadvertised.listeners=PLAINTEXT://broker1:9092\n",
		"zookeeper.connect=zk1:2181\nlisteners=PLAINTEXT://10.0.0.7:9092\n",
		"zookeeper.connect=unknown:2181\nlisteners=PLAINTEXT://127.0.0.1:9092\n",
		"zookeeper.connect=zk1:2181\nlisteners=PLAINTEXT://nowhere:9092\n",
	} {
		require.NoError(t, parse(ok).CheckReachable(lookup, "myhost"), ok)
	}
	err := parse("zookeeper.connect=zk1:2181,zk2:2181/kafka\nlisteners=PLAINTEXT://:9092\nadvertised.listeners=PLAINTEXT://localhost:9092\n").CheckReachable(lookup, "myhost")
	require.ErrorIs(t, err, ErrConfig)
	require.Contains(t, err.Error(), "server.properties: advertised.listeners=PLAINTEXT://localhost:9092 advertises a loopback address (localhost resolves to the loopback address 127.0.0.1)")
	require.Contains(t, err.Error(), "zookeeper.connect=zk1:2181,zk2:2181/kafka names zk1 (10.0.0.5), another machine")
	require.Contains(t, err.Error(), "set advertised.listeners=PLAINTEXT://<a name or IP of this machine reachable from zk1>:9092")
	err = parse("zookeeper.connect=10.0.0.5:2181\nlisteners=PLAINTEXT://127.0.0.2:9093\n").CheckReachable(lookup, "myhost")
	require.ErrorIs(t, err, ErrConfig)
	require.Contains(t, err.Error(), "listeners=PLAINTEXT://127.0.0.2:9093 advertises a loopback address")
	// An empty host advertises the machine's name, which Debian maps to 127.0.1.1.
	err = parse("zookeeper.connect=zk1:2181\nlisteners=PLAINTEXT://:9092\n").CheckReachable(lookup, "myhost")
	require.ErrorIs(t, err, ErrConfig)
	require.Contains(t, err.Error(), "an empty host advertises this machine's name, myhost, which resolves to the loopback address 127.0.1.1")
}
