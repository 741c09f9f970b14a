package broker

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"mqstack/brokerd/internal/config"
	"mqstack/brokerd/internal/coord"
	"mqstack/storage/checkpoint"
	"mqstack/storage/segment"
	"mqstack/storage/vfs"
)

// onDisk lists the partition directories ("<topic>-<n>") in a log dir.
func onDisk(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range ents {
		if _, ok := segment.ParsePartitionDir(e.Name()); ok && e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// topicOnDisk keeps the entries of one topic.
func topicOnDisk(names []string, topic string) []string {
	var out []string
	for _, n := range names {
		if tp, _ := segment.ParsePartitionDir(n); tp.Topic == topic {
			out = append(out, n)
		}
	}
	return out
}

// produceEach writes n records to every partition of a topic, valued
// "<topic>-<p>-<i>".
func produceEach(t *testing.T, b *Broker, topic string, partitions int32, n int) {
	t.Helper()
	cl := newClient(t, b, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	for p := range partitions {
		for i := range n {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: []byte(fmt.Sprintf("%s-%d-%d", topic, p, i))})
		}
	}
	require.NoError(t, cl.ProduceSync(ctxT(t), recs...).FirstErr())
}

// consumeAll reads a topic from the start until want records came, and
// returns the values by partition.
func consumeAll(t *testing.T, b *Broker, topic string, want int) map[int32][]string {
	t.Helper()
	ctx := ctxT(t)
	cons := newClient(t, b, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := map[int32][]string{}
	n := 0
	for n < want {
		fs := cons.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "consumed %d of %d", n, want)
		fs.EachError(func(_ string, _ int32, err error) { require.NoError(t, err) })
		fs.EachRecord(func(r *kgo.Record) { got[r.Partition] = append(got[r.Partition], string(r.Value)); n++ })
	}
	require.Equal(t, want, n)
	return got
}

func requireValues(t *testing.T, got map[int32][]string, topic string, partitions int32, n int) {
	t.Helper()
	for p := range partitions {
		require.Len(t, got[p], n, "partition %d", p)
		for i, v := range got[p] {
			require.Equal(t, fmt.Sprintf("%s-%d-%d", topic, p, i), v)
		}
	}
}

func createTopic(t *testing.T, b *Broker, topic string, partitions int32) {
	t.Helper()
	adm := kadm.NewClient(newClient(t, b))
	r, err := adm.CreateTopic(ctxT(t), partitions, 1, nil, topic)
	require.NoError(t, err)
	require.NoError(t, r.Err)
	eventually(t, topic+"'s logs", func() bool {
		for p := range partitions {
			if _, ok := b.dir.Log(tp(topic, p)); !ok {
				return false
			}
		}
		return true
	})
}

// Two log dirs (JBOD): a broker that ran on one directory gains a second,
// new partitions go to the directory with the fewest partitions, each
// directory keeps its own meta.properties, checkpoints and clean shutdown
// marker, a restart finds every partition where it was with its data,
// DescribeLogDirs answers per directory and a deleted topic's logs go from
// whichever directory held them.
func TestLogDirsJBOD(t *testing.T) {
	root := t.TempDir()
	d1, d2 := filepath.Join(root, "data1", "kafka-logs"), filepath.Join(root, "data2", "kafka-logs")
	connect := zkServer.Connect(t.Name())
	on := func(dirs ...string) func(*config.Config) {
		return func(c *config.Config) { c.LogDirs = dirs; c.ZookeeperConnect = connect }
	}

	// A first run on d1 alone holds topic "old" (3 partitions).
	b, _ := startBroker(t, on(d1))
	createTopic(t, b, "old", 3)
	produceEach(t, b, "old", 3, 5)
	require.NoError(t, b.Close())
	require.Equal(t, []string{"old-0", "old-1", "old-2"}, onDisk(t, d1))

	// Now log.dirs=d1,d2; d2 does not exist yet.
	b, _ = startBroker(t, on(d1, d2))
	require.ElementsMatch(t, []checkpoint.TopicPartition{tp("old", 0), tp("old", 1), tp("old", 2)}, b.dir.Partitions())
	m1, ok, err := checkpoint.ReadMeta(b.fs, d1)
	require.NoError(t, err)
	require.True(t, ok)
	m2, ok, err := checkpoint.ReadMeta(b.fs, d2)
	require.NoError(t, err)
	require.True(t, ok, "the new directory is created with its own meta.properties")
	require.Equal(t, m1, m2)
	require.Equal(t, checkpoint.Meta{BrokerID: 1, ClusterID: b.ClusterID()}, m2)

	// Fewest partitions first (3 vs 0): d2 takes three of "new"'s four
	// partitions, the fourth goes to d1 (3 vs 3, the first configured).
	// Round robin would split 2/2, "always the first" 4/0.
	createTopic(t, b, "new", 4)
	require.Len(t, topicOnDisk(onDisk(t, d2), "new"), 3)
	require.Len(t, topicOnDisk(onDisk(t, d1), "new"), 1)
	placed := map[string]string{}
	for _, d := range []string{d1, d2} {
		for _, n := range onDisk(t, d) {
			_, dup := placed[n]
			require.False(t, dup, "%s is in both log dirs", n)
			placed[n] = d
		}
	}
	for p := range int32(4) {
		ld, ok := b.dir.Dir(tp("new", p))
		require.True(t, ok)
		require.Equal(t, placed[tp("new", p).String()], ld.Path())
	}
	produceEach(t, b, "new", 4, 7)
	requireValues(t, consumeAll(t, b, "new", 28), "new", 4, 7)

	// DescribeLogDirs: one entry per directory, each with its own partitions.
	describe := func(b *Broker) {
		t.Helper()
		all, err := kadm.NewClient(newClient(t, b)).DescribeAllLogDirs(ctxT(t), nil)
		require.NoError(t, err)
		dirs := all[1]
		require.NoError(t, dirs.Error())
		require.Len(t, dirs, 2)
		for _, d := range []string{d1, d2} {
			desc, ok := dirs[d]
			require.True(t, ok, "%s described (got %v)", d, dirs)
			var listed []string
			desc.Topics.Each(func(p kadm.DescribedLogDirPartition) {
				listed = append(listed, tp(p.Topic, p.Partition).String())
				require.Positive(t, p.Size, "%s in %s has data", tp(p.Topic, p.Partition), d)
			})
			sort.Strings(listed)
			require.Equal(t, onDisk(t, d), listed, "%s", d)
		}
	}
	describe(b)

	// A clean stop leaves each directory its marker and its checkpoints,
	// naming its own partitions only.
	require.NoError(t, b.Close())
	for _, d := range []string{d1, d2} {
		_, err := os.Stat(filepath.Join(d, segment.CleanShutdownFile))
		require.NoError(t, err, "%s has its clean shutdown marker", d)
		for _, f := range []string{checkpoint.RecoveryPointFile, checkpoint.LogStartOffsetFile, checkpoint.ReplicationFile} {
			offs, err := checkpoint.ReadOffsets(b.fs, filepath.Join(d, f))
			require.NoError(t, err)
			var names []string
			for tp := range offs {
				names = append(names, tp.String())
			}
			sort.Strings(names)
			require.Equal(t, onDisk(t, d), names, "%s/%s", d, f)
		}
		hw, err := checkpoint.ReadOffsets(b.fs, filepath.Join(d, checkpoint.ReplicationFile))
		require.NoError(t, err)
		for tp, off := range hw {
			want := int64(5)
			if tp.Topic == "new" {
				want = 7
			}
			require.Equal(t, want, off, "high watermark of %s in %s", tp, d)
		}
	}

	// Restart: every partition is found in its directory, data intact.
	b, _ = startBroker(t, on(d1, d2))
	for name, d := range placed {
		p, _ := segment.ParsePartitionDir(name)
		ld, ok := b.dir.Dir(p)
		require.True(t, ok, name)
		require.Equal(t, d, ld.Path(), name)
	}
	requireValues(t, consumeAll(t, b, "new", 28), "new", 4, 7)
	requireValues(t, consumeAll(t, b, "old", 15), "old", 3, 5)
	describe(b)

	// Deleting "new" removes its logs from both directories.
	adm := kadm.NewClient(newClient(t, b))
	dr, err := adm.DeleteTopics(ctxT(t), "new")
	require.NoError(t, err)
	require.NoError(t, dr.Error())
	eventually(t, "new's logs deleted", func() bool {
		return len(topicOnDisk(onDisk(t, d1), "new"))+len(topicOnDisk(onDisk(t, d2), "new")) == 0
	})
	for p := range int32(4) {
		_, ok := b.dir.Log(tp("new", p))
		require.False(t, ok)
	}
	require.Equal(t, []string{"old-0", "old-1", "old-2"}, onDisk(t, d1))
	require.Empty(t, onDisk(t, d2))
	requireValues(t, consumeAll(t, b, "old", 15), "old", 3, 5)
}

// The same partition in two log dirs refuses startup, naming both paths,
// and leaves both directories as they were.
func TestLogDirsDuplicatePartitionRefused(t *testing.T) {
	root := t.TempDir()
	d1, d2 := filepath.Join(root, "a"), filepath.Join(root, "b")
	connect := zkServer.Connect(t.Name())
	b, _ := startBroker(t, func(c *config.Config) { c.LogDirs = []string{d1, d2}; c.ZookeeperConnect = connect })
	createTopic(t, b, "dup", 2)
	produceEach(t, b, "dup", 2, 3)
	require.NoError(t, b.Close())
	require.Equal(t, []string{"dup-0"}, onDisk(t, d1))
	require.Equal(t, []string{"dup-1"}, onDisk(t, d2))

	// A copy of dup-0 in d2 (as a half-done manual move would leave).
	require.NoError(t, os.Mkdir(filepath.Join(d2, "dup-0"), 0o755))
	ents, err := os.ReadDir(filepath.Join(d1, "dup-0"))
	require.NoError(t, err)
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(d1, "dup-0", e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(d2, "dup-0", e.Name()), data, 0o644))
	}

	cfg := testConfig(t, d1)
	cfg.LogDirs, cfg.ZookeeperConnect = []string{d1, d2}, connect
	again, err := New(cfg, zerolog.Nop())
	require.NoError(t, err)
	err = again.Start()
	require.ErrorIs(t, err, segment.ErrDuplicateLog)
	require.Contains(t, err.Error(), "duplicate log directories for dup-0 are found in both "+filepath.Join(d1, "dup-0")+" and "+filepath.Join(d2, "dup-0"))
	require.Contains(t, err.Error(), "log.dirs")
	for _, d := range []string{d1, d2} {
		_, err := os.Stat(filepath.Join(d, segment.CleanShutdownFile))
		require.NoError(t, err, "nothing was opened in %s", d)
	}

	// Removing the stray copy lets it start, with dup-0 from d1.
	require.NoError(t, os.RemoveAll(filepath.Join(d2, "dup-0")))
	b, _ = startBroker(t, func(c *config.Config) { c.LogDirs = []string{d1, d2}; c.ZookeeperConnect = connect })
	ld, ok := b.dir.Dir(tp("dup", 0))
	require.True(t, ok)
	require.Equal(t, d1, ld.Path())
	requireValues(t, consumeAll(t, b, "dup", 6), "dup", 2, 3)
}

// A log dir whose meta.properties belongs to another cluster or another
// broker is refused, naming that file and the key to fix.
func TestLogDirsForeignMetaRefused(t *testing.T) {
	root := t.TempDir()
	mine, theirs, fresh := filepath.Join(root, "mine"), filepath.Join(root, "theirs"), filepath.Join(root, "fresh")
	connect := zkServer.Connect(t.Name())
	b, _ := startBroker(t, func(c *config.Config) { c.LogDirs = []string{mine}; c.ZookeeperConnect = connect })
	require.NoError(t, b.Close())
	// theirs: broker 1 of another cluster (another chroot).
	other, _ := startBroker(t, func(c *config.Config) { c.LogDirs = []string{theirs} })
	require.NoError(t, other.Close())
	require.NotEqual(t, b.ClusterID(), other.ClusterID())

	start := func(mutate func(*config.Config), dirs ...string) error {
		cfg := testConfig(t, dirs[0])
		cfg.LogDirs, cfg.ZookeeperConnect = dirs, connect
		if mutate != nil {
			mutate(&cfg)
		}
		nb, err := New(cfg, zerolog.Nop())
		require.NoError(t, err)
		err = nb.Start()
		if err == nil {
			require.NoError(t, nb.Close())
		}
		return err
	}
	// The directories disagree with each other: refused before ZooKeeper.
	err := start(nil, mine, theirs)
	require.ErrorIs(t, err, ErrLogDir)
	require.Contains(t, err.Error(), filepath.Join(theirs, "meta.properties")+" has cluster.id="+other.ClusterID())
	require.Contains(t, err.Error(), filepath.Join(mine, "meta.properties")+" has cluster.id="+b.ClusterID())
	require.Contains(t, err.Error(), "log.dirs")
	// They agree with each other but not with ZooKeeper.
	err = start(nil, fresh, theirs)
	require.ErrorIs(t, err, coord.ErrClusterIDMismatch)
	require.Contains(t, err.Error(), "cluster.id in "+filepath.Join(theirs, "meta.properties"))
	require.Contains(t, err.Error(), "log.dirs")
	_, ok, err := checkpoint.ReadMeta(b.fs, fresh)
	require.NoError(t, err)
	require.False(t, ok, "a refused start writes no meta.properties")
	// Another broker's directory.
	require.NoError(t, checkpoint.WriteMeta(b.fs, theirs, checkpoint.Meta{BrokerID: 7, ClusterID: b.ClusterID()}, "test"))
	err = start(nil, mine, theirs)
	require.ErrorIs(t, err, ErrLogDir)
	require.Contains(t, err.Error(), filepath.Join(theirs, "meta.properties")+" has broker.id=7 but test.properties sets broker.id=1")
	// With broker.id=-1 the id comes from the first directory; the second
	// must agree.
	err = start(func(c *config.Config) { c.BrokerID = -1 }, mine, theirs)
	require.ErrorIs(t, err, ErrLogDir)
	require.Contains(t, err.Error(), filepath.Join(theirs, "meta.properties")+" has broker.id=7 but "+filepath.Join(mine, "meta.properties")+" has broker.id=1")
	// Made consistent, both start.
	require.NoError(t, checkpoint.WriteMeta(b.fs, theirs, checkpoint.Meta{BrokerID: 1, ClusterID: b.ClusterID()}, "test"))
	require.NoError(t, start(nil, mine, theirs, fresh))
}

// A log.dirs entry that is not a directory, or cannot be created, fails
// startup naming the path and the key.
func TestLogDirsUnusableDirRefused(t *testing.T) {
	root := t.TempDir()
	good, file := filepath.Join(root, "good"), filepath.Join(root, "plain-file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	for bad, why := range map[string]string{file: file + " is not a directory; fix log.dirs", filepath.Join(file, "sub"): "not a directory"} {
		cfg := testConfig(t, good)
		cfg.LogDirs = []string{good, bad}
		b, err := New(cfg, zerolog.Nop())
		require.NoError(t, err)
		err = b.Start()
		require.ErrorIs(t, err, ErrLogDir, bad)
		require.Contains(t, err.Error(), bad)
		require.Contains(t, err.Error(), why)
		require.Contains(t, err.Error(), "log.dirs")
	}
	// The same directory twice.
	cfg := testConfig(t, good)
	cfg.LogDirs = []string{good, good + "/"}
	b, err := New(cfg, zerolog.Nop())
	require.NoError(t, err)
	err = b.Start()
	require.ErrorIs(t, err, ErrLogDir)
	require.True(t, strings.Contains(err.Error(), "listed twice"), err.Error())
}

// A failed append's log line names the partition's own log dir.
func TestLogDirsStorageErrorNamesPartitionDir(t *testing.T) {
	mem := vfs.NewMem()
	cfg := testConfig(t, "/d1")
	cfg.LogDirs = []string{"/d1", "/d2"}
	logs := &syncBuf{}
	b, err := New(cfg, zerolog.New(logs))
	require.NoError(t, err)
	b.fs = mem
	require.NoError(t, b.Start())
	defer b.Close()
	createTopic(t, b, "disk", 2)
	ld, ok := b.dir.Dir(tp("disk", 1))
	require.True(t, ok)
	require.Equal(t, "/d2", ld.Path(), "disk-0 went to /d1, disk-1 to /d2")

	mem.FailPath("/d2/disk-1/00000000000000000000.log", vfs.OpWrite)
	cl := newClient(t, b, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RecordRetries(0), kgo.DisableIdempotentWrite())
	err = cl.ProduceSync(ctxT(t), &kgo.Record{Topic: "disk", Partition: 1, Value: []byte("lost")}).FirstErr()
	require.ErrorIs(t, err, kerr.KafkaStorageError)
	require.Contains(t, logs.String(), "check the disk and the permissions under /d2 (log.dirs=/d1,/d2 in test.properties)")
	// The other dir still takes writes.
	require.NoError(t, cl.ProduceSync(ctxT(t), &kgo.Record{Topic: "disk", Partition: 0, Value: []byte("kept")}).FirstErr())
}
