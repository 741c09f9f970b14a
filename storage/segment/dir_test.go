package segment

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"mqstack/proto/kafka"
	"mqstack/storage/checkpoint"
	"mqstack/storage/vfs"
)

func TestParsePartitionDir(t *testing.T) {
	tp, ok := ParsePartitionDir("my-topic-12")
	require.True(t, ok)
	require.Equal(t, checkpoint.TopicPartition{Topic: "my-topic", Partition: 12}, tp)
	for _, bad := range []string{"topic", "-1", "topic-", "topic-x", "topic-+1", "topic-1.5"} {
		_, ok := ParsePartitionDir(bad)
		require.False(t, ok, bad)
	}
}

func TestLogDirCleanAndUncleanShutdown(t *testing.T) {
	for _, e := range envs(t) {
		t.Run(e.name, func(t *testing.T) {
			root := filepath.Dir(e.dir) + "/kafka-logs"
			clock := &fakeClock{ms: 1}
			logs := &syncBuffer{}
			opts := DirOptions{FS: e.fs, Path: root, Logger: zerolog.New(logs), Clock: clock.now,
				Config: func(string) Config { return tinyConfig() }}
			d, err := OpenDir(opts)
			require.NoError(t, err)
			tps := []checkpoint.TopicPartition{{Topic: "orders", Partition: 0}, {Topic: "orders", Partition: 1}, {Topic: "a-b", Partition: 0}}
			for i, tp := range tps {
				l, err := d.CreateLog(tp)
				require.NoError(t, err)
				for j := 0; j < 10*(i+1); j++ {
					_, err := l.Append(producerBatch(t, int64(j), 1, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
					require.NoError(t, err)
				}
				l.SetHighWatermark(l.LogEndOffset())
			}
			l, _ := d.Log(tps[2])
			_, err = l.DeleteRecordsBefore(7)
			require.NoError(t, err)
			require.NoError(t, d.Close())

			_, err = e.fs.Stat(filepath.Join(root, CleanShutdownFile))
			require.NoError(t, err, "a clean shutdown leaves the marker")
			rp, err := checkpoint.ReadOffsets(e.fs, filepath.Join(root, checkpoint.RecoveryPointFile))
			require.NoError(t, err)
			require.Equal(t, map[checkpoint.TopicPartition]int64{tps[0]: 10, tps[1]: 20, tps[2]: 30}, rp)
			lso, err := checkpoint.ReadOffsets(e.fs, filepath.Join(root, checkpoint.LogStartOffsetFile))
			require.NoError(t, err)
			require.Equal(t, int64(7), lso[tps[2]])

			d, err = OpenDir(opts)
			require.NoError(t, err)
			require.Equal(t, []checkpoint.TopicPartition{tps[2], tps[0], tps[1]}, d.Partitions())
			_, err = e.fs.Stat(filepath.Join(root, CleanShutdownFile))
			require.Error(t, err, "the marker is removed once the logs are loaded")
			l, ok := d.Log(tps[2])
			require.True(t, ok)
			require.Equal(t, int64(30), l.LogEndOffset())
			require.Equal(t, int64(7), l.LogStartOffset(), "the log start offset comes back from its checkpoint")
			require.Equal(t, int64(30), l.HighWatermark(), "the high watermark comes back from replication-offset-checkpoint")
			require.Contains(t, logs.String(), `"clean_shutdown":true`)

			// Now "crash": no Close, so no marker; the next open re-validates.
			l, _ = d.Log(tps[0])
			_, err = l.Append(producerBatch(t, 10, 1, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
			require.NoError(t, err)
			require.NoError(t, l.Flush())
			for _, tp := range d.Partitions() {
				l, _ := d.Log(tp)
				for _, s := range l.segments {
					_ = s.closeFiles()
				}
			}
			logs2 := &syncBuffer{}
			opts.Logger = zerolog.New(logs2)
			d, err = OpenDir(opts)
			require.NoError(t, err)
			require.Contains(t, logs2.String(), "no clean shutdown marker")
			l, _ = d.Log(tps[0])
			require.Equal(t, int64(11), l.LogEndOffset())
			require.NoError(t, d.DeleteLog(tps[1]))
			_, err = e.fs.Stat(filepath.Join(root, "orders-1"))
			require.Error(t, err)
			require.NoError(t, d.Close())
		})
	}
}

func TestLogDirRejectsMalformedCheckpoint(t *testing.T) {
	m := vfs.NewMem()
	require.NoError(t, m.MkdirAll("/k", 0o755))
	f, err := m.OpenFile("/k/"+checkpoint.RecoveryPointFile, os.O_CREATE|os.O_RDWR, 0o644)
	require.NoError(t, err)
	_, err = f.Write([]byte("0\n1\norders zero 5\n"))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = OpenDir(DirOptions{FS: m, Path: "/k", Clock: (&fakeClock{}).now})
	require.ErrorIs(t, err, checkpoint.ErrMalformed)
	require.Contains(t, err.Error(), "/k/recovery-point-offset-checkpoint:3")
}
