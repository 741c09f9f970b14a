package tools

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Golden outputs of kafka-topics: create/list/describe/alter/delete through
// ZooKeeper and through the admin API, on three brokers.
func TestTopicsGolden(t *testing.T) {
	c := startCluster(t, 3, nil)
	zk, bs := c.connect, c.bootstrap()

	r := ok(t, "", "topics", "--zookeeper", zk, "--create", "--replica-assignment", "1:2:3,2:3:1,3:1:2", "--topic", "first", "--config", "retention.ms=3600000")
	require.Equal(t, "Created topic first.\n", r.stdout)
	r = ok(t, "", "topics", "--bootstrap-server", bs, "--create", "--partitions", "2", "--replication-factor", "2", "--topic", "second")
	require.Equal(t, "Created topic second.\n", r.stdout)
	r = ok(t, "", "topics", "--zookeeper", zk, "--list")
	require.Equal(t, "first\nsecond\n", r.stdout)

	id := c.topicID("first")
	// Wait for the controller to elect the leaders.
	// Leaders are the preferred replicas; the ISR is what the controller
	// wrote (the leader alone until followers replicate).
	var want string
	eventually(t, "leaders of first", func() bool {
		want = fmt.Sprintf("Topic: first\tTopicId: %s\tPartitionCount: 3\tReplicationFactor: 3\tConfigs: retention.ms=3600000\n"+
			"\tTopic: first\tPartition: 0\tLeader: 1\tReplicas: 1,2,3\tIsr: %s\n"+
			"\tTopic: first\tPartition: 1\tLeader: 2\tReplicas: 2,3,1\tIsr: %s\n"+
			"\tTopic: first\tPartition: 2\tLeader: 3\tReplicas: 3,1,2\tIsr: %s\n", id, c.isr("first", 0), c.isr("first", 1), c.isr("first", 2))
		return run(t, "", "topics", "--zookeeper", zk, "--describe", "--topic", "first").stdout == want
	})
	// The admin API reports the same (Configs lists the non-default ones).
	for _, b := range c.brokers {
		eventually(t, "metadata of first on "+b.Addr(), func() bool {
			return run(t, "", "topics", "--bootstrap-server", b.Addr(), "--describe", "--topic", "first").stdout == want
		})
	}
	r = ok(t, "", "topics", "--bootstrap-server", bs, "--describe", "--topic", "fir.*", "--under-replicated-partitions")
	under := ""
	for _, l := range strings.SplitAfter(want, "\n")[1:4] {
		if _, isr, _ := strings.Cut(l, "Isr: "); strings.Count(isr, ",") < 2 {
			under += l
		}
	}
	require.Equal(t, under, r.stdout)
	r = ok(t, "", "topics", "--zookeeper", zk, "--describe", "--topics-with-overrides")
	require.Equal(t, strings.SplitAfter(want, "\n")[0], r.stdout)

	r = ok(t, "", "topics", "--zookeeper", zk, "--alter", "--topic", "first", "--partitions", "4")
	require.Equal(t, "WARNING: If partitions are increased for a topic that has a key, the partition logic or ordering of the messages will be affected\nAdding partitions succeeded!\n", r.stdout)
	r = ok(t, "", "topics", "--bootstrap-server", bs, "--alter", "--topic", "second", "--partitions", "3")
	require.Equal(t, "", r.stdout)
	eventually(t, "partition count 4 and 3", func() bool {
		a := run(t, "", "topics", "--bootstrap-server", bs, "--describe", "--topic", "first").stdout
		b := run(t, "", "topics", "--bootstrap-server", bs, "--describe", "--topic", "second").stdout
		return strings.Contains(a, "PartitionCount: 4\t") && strings.Contains(b, "PartitionCount: 3\t")
	})

	r = ok(t, "", "topics", "--zookeeper", zk, "--delete", "--topic", "first")
	require.Equal(t, "Topic first is marked for deletion.\nNote: This will have no impact if delete.topic.enable is not set to true.\n", r.stdout)
	ok(t, "", "topics", "--bootstrap-server", bs, "--delete", "--topic", "second")
	eventually(t, "topics deleted", func() bool {
		return run(t, "", "topics", "--zookeeper", zk, "--list").stdout == ""
	})

	// Errors: one line, exit 1.
	r = run(t, "", "topics", "--zookeeper", zk, "--create", "--topic", "x", "--partitions", "1", "--replication-factor", "4")
	require.Equal(t, 1, r.code)
	require.Equal(t, "Error while executing topic command : Replication factor: 4 larger than available brokers: 3.\n", r.stderr)
	r = run(t, "", "topics", "--bootstrap-server", bs, "--describe", "--topic", "nope")
	require.Equal(t, 1, r.code)
	require.Equal(t, "Error while executing topic command : Topic 'nope' does not exist as expected\n", r.stderr)
	r = run(t, "", "topics", "--bootstrap-server", bs, "--list", "--bogus")
	require.Equal(t, 1, r.code)
	require.Equal(t, "topics: bogus is not a recognized option (see --help)\n", r.stderr)
}

// --describe after a broker stops: its RF 1 partition has no leader
// ("Leader: none", Kafka 2.8) and an RF 3 partition's ISR shrinks, in
// both modes, and --unavailable-partitions / --under-replicated-partitions
// pick exactly those.
func TestTopicsDescribeAfterBrokerStops(t *testing.T) {
	c := startCluster(t, 3, nil)
	zk := c.connect
	ok(t, "", "topics", "--zookeeper", zk, "--create", "--topic", "solo", "--replica-assignment", "3,1")
	ok(t, "", "topics", "--zookeeper", zk, "--create", "--topic", "trio", "--replica-assignment", "1:2:3")
	eventually(t, "trio's ISR complete", func() bool { return len(c.isr("trio", 0)) == 5 && c.isr("solo", 0) == "3" })
	c.stop(3)
	var want string
	eventually(t, "solo-0 without a leader and 3 out of trio's ISR", func() bool {
		isr := c.isr("trio", 0)
		if strings.Contains(isr, "3") {
			return false
		}
		want = "\tTopic: solo\tPartition: 0\tLeader: none\tReplicas: 3\tIsr: " + c.isr("solo", 0) + "\n"
		return strings.Contains(run(t, "", "topics", "--zookeeper", zk, "--describe", "--topic", "solo").stdout, want)
	})
	r := ok(t, "", "topics", "--zookeeper", zk, "--describe", "--unavailable-partitions")
	require.Equal(t, want, r.stdout)
	r = ok(t, "", "topics", "--zookeeper", zk, "--describe", "--under-replicated-partitions", "--topic", "trio")
	require.Equal(t, "\tTopic: trio\tPartition: 0\tLeader: 1\tReplicas: 1,2,3\tIsr: "+c.isr("trio", 0)+"\n", r.stdout)
	// The admin API: what the brokers' metadata reports, printed the same way.
	for _, b := range c.brokers[:2] {
		eventually(t, "metadata on "+b.Addr(), func() bool {
			out := run(t, "", "topics", "--bootstrap-server", b.Addr(), "--describe", "--unavailable-partitions").stdout
			return strings.HasPrefix(out, "\tTopic: solo\tPartition: 0\tLeader: none\tReplicas: 3\tIsr: ") && strings.Count(out, "\n") == 1
		})
	}
}
