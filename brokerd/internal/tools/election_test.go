package tools

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// kafka-leader-election and kafka-reassign-partitions: the ZooKeeper
// paths (znodes in Kafka's JSON), --generate, --verify, and the API paths
// as far as the brokers serve ElectLeaders / AlterPartitionReassignments.
func TestElectionReassignGolden(t *testing.T) {
	c := startCluster(t, 3, nil)
	bs, zk := c.bootstrap(), c.connect
	ok(t, "", "topics", "--zookeeper", zk, "--create", "--topic", "re", "--replica-assignment", "1:2,2:3")
	// Every broker's metadata knows the leaders (the admin client may ask any).
	for _, b := range c.brokers {
		eventually(t, "leaders of re on "+b.Addr(), func() bool {
			out := run(t, "", "topics", "--bootstrap-server", b.Addr(), "--describe", "--topic", "re").stdout
			return strings.Contains(out, "Partition: 0\tLeader: 1\t") && strings.Contains(out, "Partition: 1\tLeader: 2\t")
		})
	}
	conn, chroot := c.zk()

	// Preferred election through ZooKeeper: the znode the controller reads.
	r := ok(t, "", "leader-election", "--zookeeper", zk, "--election-type", "preferred", "--all-topic-partitions")
	js := `{"version":1,"partitions":[{"topic":"re","partition":0},{"topic":"re","partition":1}]}`
	require.Equal(t, "Created preferred replica election path with "+js+"\nSuccessfully started preferred replica election for partitions Set(re-0, re-1)\n", r.stdout)
	b, _, err := conn.Get(chroot + "/admin/preferred_replica_election")
	require.NoError(t, err)
	require.JSONEq(t, js, string(b))

	// Through the API.
	if serves(t, bs, 43) {
		r = ok(t, "", "leader-election", "--bootstrap-server", bs, "--election-type", "PREFERRED", "--topic", "re", "--partition", "0")
		require.Equal(t, "Valid replica already elected for partitions re-0\n", r.stdout)
	} else {
		r = run(t, "", "leader-election", "--bootstrap-server", bs, "--election-type", "preferred", "--topic", "re", "--partition", "0")
		require.Equal(t, 1, r.code)
		require.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
		require.True(t, strings.HasPrefix(r.stderr, "Error: leader election: "), r.stderr)
		t.Log("the broker does not serve ElectLeaders (43): API elections not exercised")
	}
	r = run(t, "", "leader-election", "--bootstrap-server", bs, "--election-type", "preferred")
	require.Equal(t, 1, r.code)
	require.Equal(t, "leader-election: One and only one of the following options is required: all-topic-partitions, topic, path-to-json-file (see --help)\n", r.stderr)

	// --generate: a proposal over the given brokers keeping the RF.
	dir := t.TempDir()
	move := filepath.Join(dir, "move.json")
	require.NoError(t, os.WriteFile(move, []byte(`{"topics":[{"topic":"re"}],"version":1}`), 0o644))
	for _, via := range [][]string{{"--zookeeper", zk}, {"--bootstrap-server", bs}} {
		r = ok(t, "", "reassign-partitions", append(via, "--generate", "--topics-to-move-json-file", move, "--broker-list", "2,3")...)
		lines := strings.Split(r.stdout, "\n")
		require.Len(t, lines, 6, r.stdout)
		require.Equal(t, "Current partition replica assignment", lines[0])
		require.Equal(t, `{"version":1,"partitions":[{"topic":"re","partition":0,"replicas":[1,2],"log_dirs":["any","any"]},{"topic":"re","partition":1,"replicas":[2,3],"log_dirs":["any","any"]}]}`, lines[1])
		require.Equal(t, "", lines[2])
		require.Equal(t, "Proposed partition reassignment configuration", lines[3])
		var doc reassignDoc
		require.NoError(t, json.Unmarshal([]byte(lines[4]), &doc))
		require.Len(t, doc.Partitions, 2)
		for _, p := range doc.Partitions {
			require.ElementsMatch(t, []int32{2, 3}, p.Replicas)
		}
	}

	// --verify of a plan that matches the current assignment: complete,
	// and the (absent) throttles are cleared.
	same := filepath.Join(dir, "same.json")
	require.NoError(t, os.WriteFile(same, []byte(`{"version":1,"partitions":[{"topic":"re","partition":0,"replicas":[1,2]}]}`), 0o644))
	r = ok(t, "", "reassign-partitions", "--zookeeper", zk, "--verify", "--reassignment-json-file", same)
	require.Equal(t, "Status of partition reassignment:\nReassignment of partition re-0 is complete.\nClearing broker-level throttles on brokers 1,2,3\nClearing topic-level throttle on topic re\n", r.stdout)

	// --execute through ZooKeeper writes /admin/reassign_partitions, with
	// the throttles in the /config znodes.
	plan := filepath.Join(dir, "plan.json")
	require.NoError(t, os.WriteFile(plan, []byte(`{"version":1,"partitions":[{"topic":"re","partition":0,"replicas":[3,2]}]}`), 0o644))
	r = ok(t, "", "reassign-partitions", "--zookeeper", zk, "--execute", "--reassignment-json-file", plan, "--throttle", "1000000")
	require.Equal(t, "Current partition replica assignment\n\n"+
		`{"version":1,"partitions":[{"topic":"re","partition":0,"replicas":[1,2],"log_dirs":["any","any"]}]}`+"\n\n"+
		"Save this to use as the --reassignment-json-file option during rollback\n"+
		"Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.\n"+
		"The inter-broker throttle limit was set to 1000000 B/s\n"+
		"Successfully started partition reassignment for re-0\n", r.stdout)
	b, _, err = conn.Get(chroot + "/admin/reassign_partitions")
	require.NoError(t, err)
	require.JSONEq(t, `{"version":1,"partitions":[{"topic":"re","partition":0,"replicas":[3,2]}]}`, string(b))
	b, _, err = conn.Get(chroot + "/config/topics/re")
	require.NoError(t, err)
	require.JSONEq(t, `{"version":1,"config":{"leader.replication.throttled.replicas":"0:1,0:2","follower.replication.throttled.replicas":"0:3"}}`, string(b))
	b, _, err = conn.Get(chroot + "/config/brokers/3")
	require.NoError(t, err)
	require.JSONEq(t, `{"version":1,"config":{"leader.replication.throttled.rate":"1000000","follower.replication.throttled.rate":"1000000"}}`, string(b))
	r = run(t, "", "reassign-partitions", "--zookeeper", zk, "--execute", "--reassignment-json-file", plan)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "There is an existing assignment running")

	r = ok(t, "", "reassign-partitions", "--zookeeper", zk, "--verify", "--reassignment-json-file", plan)
	if strings.Contains(r.stdout, "still in progress") {
		require.Equal(t, "Status of partition reassignment:\nReassignment of partition re-0 is still in progress.\n", r.stdout)
		t.Log("the controller does not act on /admin/reassign_partitions: the move itself not exercised")
	}

	// Through the API.
	if !serves(t, bs, 45) {
		r = run(t, "", "reassign-partitions", "--bootstrap-server", bs, "--execute", "--reassignment-json-file", plan)
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "Error: the brokers did not accept AlterPartitionReassignments")
		require.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
		t.Log("the broker does not serve AlterPartitionReassignments (45): API reassignment not exercised")
	}
}
