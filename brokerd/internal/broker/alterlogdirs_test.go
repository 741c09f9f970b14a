package broker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/config"
	"mqstack/storage/checkpoint"
)

// alterLogDirs sends AlterReplicaLogDirs to broker 1 and returns the
// error code per "topic-partition".
func alterLogDirs(t *testing.T, cl *kgo.Client, dir string, topic string, partitions ...int32) map[string]int16 {
	t.Helper()
	req := kmsg.NewPtrAlterReplicaLogDirsRequest()
	d := kmsg.NewAlterReplicaLogDirsRequestDir()
	d.Dir = dir
	rt := kmsg.NewAlterReplicaLogDirsRequestDirTopic()
	rt.Topic, rt.Partitions = topic, partitions
	d.Topics = append(d.Topics, rt)
	req.Dirs = append(req.Dirs, d)
	resp, err := req.RequestWith(ctxT(t), cl.Broker(1))
	require.NoError(t, err)
	out := map[string]int16{}
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			out[tp(rt.Topic, p.Partition).String()] = p.ErrorCode
		}
	}
	return out
}

// describedIn is where DescribeLogDirs puts a partition: "dir" for the
// current log, "dir (future)" for a future one.
func describedIn(t *testing.T, b *Broker, topic string, p int32) []string {
	t.Helper()
	req := kmsg.NewPtrDescribeLogDirsRequest()
	req.Version = 1
	resp, err := req.RequestWith(ctxT(t), newClient(t, b).Broker(1))
	require.NoError(t, err)
	var out []string
	for _, d := range resp.Dirs {
		for _, rt := range d.Topics {
			for _, rp := range rt.Partitions {
				if rt.Topic == topic && rp.Partition == p {
					if rp.IsFuture {
						out = append(out, d.Dir+" (future)")
					} else {
						out = append(out, d.Dir)
					}
				}
			}
		}
	}
	return out
}

// AlterReplicaLogDirs moves a partition with data to the other log dir
// while a producer keeps producing to it and a consumer reads it: every
// acknowledged record is read back once, in order; DescribeLogDirs shows
// the future log while the copy runs; afterwards the partition lives only
// in the new dir and a restart finds it there with its data. Unknown dirs
// are LOG_DIR_NOT_FOUND, a partition not hosted REPLICA_NOT_AVAILABLE, a
// move to where the log already is a no-op.
func TestAlterReplicaLogDirsMovesUnderLoad(t *testing.T) {
	root := t.TempDir()
	d1, d2 := filepath.Join(root, "data1"), filepath.Join(root, "data2")
	connect := zkServer.Connect(t.Name())
	on := func(c *config.Config) { c.LogDirs = []string{d1, d2}; c.ZookeeperConnect = connect }
	b, _ := startBroker(t, on)
	adm := kadm.NewClient(newClient(t, b))
	r, err := adm.CreateTopic(ctxT(t), 1, 1, map[string]*string{"segment.bytes": kadm.StringPtr("20000")}, "mv")
	require.NoError(t, err)
	require.NoError(t, r.Err)
	eventually(t, "mv-0's log", func() bool { _, ok := b.dir.Log(tp("mv", 0)); return ok })
	ld, _ := b.dir.Dir(tp("mv", 0))
	require.Equal(t, d1, ld.Path(), "fewest partitions, ties to the first dir")

	// Records "v-<i>", produced in order by one idempotent producer.
	prod := newClient(t, b, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0))
	var mu sync.Mutex // acked, seen
	var acked, seen []string
	count := func(s *[]string) int { mu.Lock(); defer mu.Unlock(); return len(*s) }
	// produce is called by one goroutine at a time.
	produce := func(n int) error {
		from := count(&acked)
		recs := make([]*kgo.Record, n)
		for i := range recs {
			recs[i] = &kgo.Record{Topic: "mv", Partition: 0, Value: []byte(fmt.Sprintf("v-%06d", from+i))}
		}
		if err := prod.ProduceSync(ctxT(t), recs...).FirstErr(); err != nil {
			return err
		}
		mu.Lock()
		for _, r := range recs {
			acked = append(acked, string(r.Value))
		}
		mu.Unlock()
		return nil
	}
	for range 20 {
		require.NoError(t, produce(100))
	}

	// The mover stops before its first copy step until the test has seen
	// the future log described.
	paused, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	b.moveHook = func(checkpoint.TopicPartition) {
		once.Do(func() { close(paused); <-release })
	}

	cl := newClient(t, b)
	require.Equal(t, map[string]int16{"mv-0": kerr.LogDirNotFound.Code}, alterLogDirs(t, cl, filepath.Join(root, "data3"), "mv", 0))
	require.Equal(t, map[string]int16{"mv-0": kerr.LogDirNotFound.Code}, alterLogDirs(t, cl, "data2", "mv", 0), "a relative path is not a log dir")
	require.Equal(t, map[string]int16{"mv-0": 0}, alterLogDirs(t, cl, d1, "mv", 0), "already there: a no-op")
	_, moving := b.dir.Moving(tp("mv", 0))
	require.False(t, moving)
	require.Equal(t, map[string]int16{"nope-0": kerr.ReplicaNotAvailable.Code}, alterLogDirs(t, cl, d2, "nope", 0))

	// The producer and a consumer run through the move.
	var stop atomic.Bool
	prodDone := make(chan struct{})
	go func() {
		defer close(prodDone)
		for !stop.Load() {
			if err := produce(10); err != nil {
				t.Errorf("produce during the move: %v", err)
				return
			}
		}
	}()
	consDone := make(chan struct{})
	consCtx, stopConsumer := context.WithCancel(ctxT(t))
	go func() {
		defer close(consDone)
		cons := newClient(t, b, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"mv": {0: kgo.NewOffset().AtStart()}}))
		ctx := consCtx
		for !stop.Load() {
			fs := cons.PollFetches(ctx)
			if ctx.Err() != nil {
				return
			}
			fs.EachError(func(_ string, _ int32, err error) { t.Errorf("consume: %v", err) })
			mu.Lock()
			fs.EachRecord(func(r *kgo.Record) { seen = append(seen, string(r.Value)) })
			mu.Unlock()
		}
	}()

	require.Equal(t, map[string]int16{"mv-0": 0}, alterLogDirs(t, cl, d2, "mv", 0), "the move starts; answered before it completes")
	<-paused
	require.ElementsMatch(t, []string{d1, d2 + " (future)"}, describedIn(t, b, "mv", 0))
	names, err := os.ReadDir(d2)
	require.NoError(t, err)
	future := 0
	for _, n := range names {
		if strings.HasPrefix(n.Name(), "mv-0.") && strings.HasSuffix(n.Name(), "-future") {
			future++
		}
	}
	require.Equal(t, 1, future, "the future log's directory is in the target dir")
	require.Equal(t, map[string]int16{"mv-0": 0}, alterLogDirs(t, cl, d2, "mv", 0), "asking again while it runs")
	n := count(&acked)
	eventually(t, "records produced while the copy waits", func() bool { return count(&acked) >= n+200 })
	close(release)
	eventually(t, "mv-0 in "+d2, func() bool {
		ld, ok := b.dir.Dir(tp("mv", 0))
		_, moving := b.dir.Moving(tp("mv", 0))
		return ok && ld.Path() == d2 && !moving
	})
	// Some more after the swap, read by the consumer too, then stop.
	n = count(&acked)
	eventually(t, "records produced and consumed after the swap", func() bool {
		return count(&acked) >= n+200 && count(&seen) >= n+100
	})
	stop.Store(true)
	<-prodDone
	stopConsumer()
	<-consDone
	require.False(t, t.Failed())

	// The concurrent consumer saw a prefix of the acknowledged records, in
	// order, none twice.
	require.Equal(t, acked[:len(seen)], seen)
	got := consumeAll(t, b, "mv", len(acked))
	require.Equal(t, acked, got[0], "every acknowledged record once, in order")

	require.Empty(t, topicOnDisk(onDisk(t, d1), "mv"))
	require.Equal(t, []string{"mv-0"}, topicOnDisk(onDisk(t, d2), "mv"))
	names, err = os.ReadDir(d1)
	require.NoError(t, err)
	for _, n := range names {
		require.False(t, strings.HasPrefix(n.Name(), "mv-0"), "%s left in the old dir", n.Name())
	}
	require.Equal(t, []string{d2}, describedIn(t, b, "mv", 0))

	// A restart finds it in the new dir with its data.
	require.NoError(t, b.Close())
	b, _ = startBroker(t, on)
	ld, ok := b.dir.Dir(tp("mv", 0))
	require.True(t, ok)
	require.Equal(t, d2, ld.Path())
	got = consumeAll(t, b, "mv", len(acked))
	require.Equal(t, acked, got[0])
	require.Equal(t, []string{d2}, describedIn(t, b, "mv", 0))
}
