package segment

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"mqstack/proto/kafka"
)

func TestScanFile(t *testing.T) {
	for _, e := range envs(t) {
		t.Run(e.name, func(t *testing.T) {
			l := openLog(t, e.fs, e.dir, DefaultConfig(), &fakeClock{ms: 1}, nil, false, 0)
			for i := 0; i < 5; i++ {
				_, err := l.Append(producerBatch(t, int64(i*3), 3, 100, kafka.CompressionLZ4), AppendOptions{AssignOffsets: true, LeaderEpoch: 2})
				require.NoError(t, err)
			}
			require.NoError(t, l.Close())
			path := filepath.Join(e.dir, segmentName(0)+".log")
			var got []BatchInfo
			require.NoError(t, ScanFile(e.fs, path, func(b BatchInfo) error { got = append(got, b); return nil }))
			require.Len(t, got, 5)
			require.Equal(t, int64(12), got[4].BaseOffset)
			require.Equal(t, int64(14), got[4].LastOffset())
			require.Equal(t, got[3].Position+got[3].Size(), got[4].Position)
			require.Equal(t, kafka.CompressionLZ4, got[4].Compression())

			f, err := e.fs.OpenFile(path, os.O_RDWR, 0)
			require.NoError(t, err)
			require.NoError(t, f.Truncate(got[4].Position+10))
			require.NoError(t, f.Close())
			got = got[:0]
			err = ScanFile(e.fs, path, func(b BatchInfo) error { got = append(got, b); return nil })
			require.ErrorIs(t, err, ErrCorrupt)
			require.Contains(t, err.Error(), path)
			require.Len(t, got, 4)
		})
	}
}
