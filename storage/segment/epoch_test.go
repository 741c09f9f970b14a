package segment

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"mqstack/proto/kafka"
	"mqstack/storage/checkpoint"
)

func TestLeaderEpochCache(t *testing.T) {
	for _, e := range envs(t) {
		t.Run(e.name, func(t *testing.T) {
			clock := &fakeClock{ms: 1}
			l := openLog(t, e.fs, e.dir, tinyConfig(), clock, nil, false, 0)
			epochs := []int32{0, 0, 0, 2, 2, 5, 5, 5, 5, 5}
			for i, ep := range epochs {
				_, err := l.Append(producerBatch(t, int64(i*2), 2, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true, LeaderEpoch: ep})
				require.NoError(t, err)
			}
			want := []checkpoint.EpochEntry{{Epoch: 0, StartOffset: 0}, {Epoch: 2, StartOffset: 6}, {Epoch: 5, StartOffset: 10}}
			require.Equal(t, want, l.LeaderEpochs())
			onDisk, err := checkpoint.ReadLeaderEpochs(e.fs, filepath.Join(e.dir, checkpoint.LeaderEpochFile))
			require.NoError(t, err)
			require.Equal(t, want, onDisk, "the checkpoint is written when an epoch starts")

			ep, end, ok := l.EndOffsetForEpoch(3)
			require.True(t, ok)
			require.Equal(t, int32(2), ep)
			require.Equal(t, int64(10), end)
			ep, end, ok = l.EndOffsetForEpoch(9)
			require.True(t, ok)
			require.Equal(t, int32(5), ep)
			require.Equal(t, int64(20), end)

			_, err = l.Truncate(8)
			require.NoError(t, err)
			require.Equal(t, want[:2], l.LeaderEpochs(), "epochs starting at or after the truncation point go")
			l.SetHighWatermark(8)
			_, err = l.DeleteRecordsBefore(3)
			require.NoError(t, err)
			require.Equal(t, []checkpoint.EpochEntry{{Epoch: 0, StartOffset: 3}, {Epoch: 2, StartOffset: 6}}, l.LeaderEpochs())
			_, _, ok = l.EndOffsetForEpoch(-1)
			require.False(t, ok)
			require.NoError(t, l.Close())

			// Without its checkpoint the cache is rebuilt from the batches
			// during unclean recovery.
			require.NoError(t, e.fs.Remove(filepath.Join(e.dir, checkpoint.LeaderEpochFile)))
			l = openLog(t, e.fs, e.dir, tinyConfig(), clock, nil, false, 0)
			require.Equal(t, want[:2], l.LeaderEpochs())
			require.NoError(t, l.Close())
		})
	}
}
