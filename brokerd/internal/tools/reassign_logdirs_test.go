package tools

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"mqstack/brokerd/internal/config"
)

// kafka-reassign-partitions with log_dirs: --execute sends
// AlterReplicaLogDirs to the brokers named (retrying while a new replica
// is not created yet, which is then created in the dir asked for),
// --verify reports each replica's move, an unknown dir fails with the
// broker's error, and --zookeeper refuses log_dirs as Kafka does.
func TestReassignLogDirs(t *testing.T) {
	var mu sync.Mutex
	second := map[int32]string{} // broker id -> its second log dir
	c := startCluster(t, 2, func(cfg *config.Config) {
		d := t.TempDir()
		mu.Lock()
		second[cfg.BrokerID] = d
		mu.Unlock()
		cfg.LogDirs = append(cfg.LogDirs, d)
		cfg.AutoLeaderRebalanceEnable = false
	})
	bs := c.bootstrap()
	ok(t, "", "topics", "--bootstrap-server", bs, "--create", "--topic", "ld", "--replica-assignment", "1:2")
	ok(t, "", "topics", "--bootstrap-server", bs, "--create", "--topic", "grow", "--replica-assignment", "1")
	ok(t, "a\nb\nc\n", "console-producer", "--bootstrap-server", bs, "--topic", "ld")
	// ld-0 starts in each broker's first dir (fewest partitions, ties to
	// the first).
	inDir := func(dir, name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	}
	eventually(t, "ld-0 on both brokers", func() bool { return inDir(c.dirs[0], "ld-0") && inDir(c.dirs[1], "ld-0") })

	dir := t.TempDir()
	write := func(name, doc string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(doc), 0o644))
		return p
	}
	// ld-0 on broker 1 to its second dir; grow-0 gains broker 2, placed in
	// broker 2's first dir (which the fewest-partitions rule would not pick:
	// it holds ld-0, the second holds nothing).
	plan := write("plan.json", fmt.Sprintf(`{"version":1,"partitions":[`+
		`{"topic":"ld","partition":0,"replicas":[1,2],"log_dirs":[%q,"any"]},`+
		`{"topic":"grow","partition":0,"replicas":[1,2],"log_dirs":["any",%q]}]}`, second[1], c.dirs[1]))

	r := ok(t, "", "reassign-partitions", "--bootstrap-server", bs, "--execute", "--reassignment-json-file", plan)
	require.True(t, strings.HasPrefix(r.stdout, "Current partition replica assignment\n\n"), r.stdout)
	require.Contains(t, r.stdout, "Successfully started partition reassignments for grow-0,ld-0\n")
	// grow-0-2 may only start once broker 2 hosts the replica.
	started := strings.Join(strings.SplitAfter(r.stdout, "Successfully started partition reassignments for grow-0,ld-0\n")[1:], "")
	require.Contains(t, []string{
		"Successfully started log directory moves for: grow-0-2,ld-0-1\n",
		"Successfully started log directory move for: ld-0-1\nSuccessfully started log directory move for: grow-0-2\n",
	}, started)

	want := "Status of partition reassignment:\n" +
		"Reassignment of partition grow-0 is complete.\n" +
		"Reassignment of partition ld-0 is complete.\n" +
		"Reassignment of replica grow-0-2 completed successfully.\n" +
		"Reassignment of replica ld-0-1 completed successfully.\n"
	var out string
	eventually(t, "the moves to complete", func() bool {
		out = run(t, "", "reassign-partitions", "--bootstrap-server", bs, "--verify", "--reassignment-json-file", plan, "--preserve-throttles").stdout
		return out == want
	})
	require.True(t, inDir(second[1], "ld-0"), "ld-0 moved to broker 1's second dir")
	require.False(t, inDir(c.dirs[0], "ld-0"), "and left its first")
	require.True(t, inDir(c.dirs[1], "grow-0"), "grow-0 created in the dir asked for")
	require.False(t, inDir(second[2], "grow-0"))
	r = ok(t, "", "console-consumer", "--bootstrap-server", bs, "--topic", "ld", "--from-beginning", "--max-messages", "3")
	require.Equal(t, "a\nb\nc\n", r.stdout)

	// A plan not executed: --verify says the replica is not being moved.
	other := write("other.json", fmt.Sprintf(`{"version":1,"partitions":[{"topic":"ld","partition":0,"replicas":[1,2],"log_dirs":["any",%q]}]}`, second[2]))
	r = run(t, "", "reassign-partitions", "--bootstrap-server", bs, "--verify", "--reassignment-json-file", other, "--preserve-throttles")
	require.Equal(t, "Status of partition reassignment:\nReassignment of partition ld-0 is complete.\n"+
		fmt.Sprintf("Partition ld-0 on broker 2 is not being moved from log dir %s to %s.\n", c.dirs[1], second[2]), r.stdout)

	// A dir the broker does not have.
	bad := write("bad.json", `{"version":1,"partitions":[{"topic":"ld","partition":0,"replicas":[1,2],"log_dirs":["/no/such/dir","any"]}]}`)
	r = run(t, "", "reassign-partitions", "--bootstrap-server", bs, "--execute", "--reassignment-json-file", bad)
	require.Equal(t, 1, r.code, r.stdout)
	require.Contains(t, r.stderr, "Failed to alter dir for ld-0-1 to /no/such/dir: LOG_DIR_NOT_FOUND")

	// log_dirs through ZooKeeper: refused, nothing written.
	r = run(t, "", "reassign-partitions", "--zookeeper", c.connect, "--execute", "--reassignment-json-file", bad)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "bootstrap-server needs to be provided when replica reassignments are present.")
	// Sizes must match.
	r = run(t, "", "reassign-partitions", "--bootstrap-server", bs, "--execute", "--reassignment-json-file",
		write("size.json", `{"version":1,"partitions":[{"topic":"ld","partition":0,"replicas":[1,2],"log_dirs":["any"]}]}`))
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "Size of replicas list 1,2 is different from size of log dirs list any for partition ld-0")
}
