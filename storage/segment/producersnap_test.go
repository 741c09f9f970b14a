package segment

import (
	"encoding/hex"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"mqstack/proto/kafka"
)

// The snapshot byte layout (Kafka's ProducerStateManager version 1), the
// CRC and length checks, and the files: written atomically, the newest two
// kept, the newest readable one at or below the log end returned,
// snapshots past a truncation deleted.
func TestProducerSnapshots(t *testing.T) {
	e := ProducerSnapshotEntry{ProducerID: 7, Epoch: 1, LastSequence: 9, LastOffset: 100, OffsetDelta: 4, Timestamp: 1700000000000,
		CoordinatorEpoch: -1, CurrentTxnFirstOffset: -1}
	b := EncodeProducerSnapshot([]ProducerSnapshotEntry{e})
	require.Len(t, b, 10+46)
	require.Equal(t, "0001", hex.EncodeToString(b[:2]))
	require.Equal(t, "00000001"+"0000000000000007"+"0001"+"00000009"+"0000000000000064"+"00000004"+"0000018bcfe56800"+"ffffffff"+"ffffffffffffffff",
		hex.EncodeToString(b[6:]))
	back, err := DecodeProducerSnapshot(b)
	require.NoError(t, err)
	require.Equal(t, []ProducerSnapshotEntry{e}, back)
	bad := append([]byte(nil), b...)
	bad[20] ^= 1
	_, err = DecodeProducerSnapshot(bad)
	require.ErrorIs(t, err, ErrSnapshot)
	_, err = DecodeProducerSnapshot(b[:30])
	require.ErrorIs(t, err, ErrSnapshot)
	empty, err := DecodeProducerSnapshot(EncodeProducerSnapshot(nil))
	require.NoError(t, err)
	require.Empty(t, empty)

	for _, env := range envs(t) {
		t.Run(env.name, func(t *testing.T) {
			clock := &fakeClock{ms: 1000}
			l := openLog(t, env.fs, env.dir, tinyConfig(), clock, nil, false, 0)
			defer l.Close()
			_, _, ok, err := l.LatestProducerSnapshot()
			require.NoError(t, err)
			require.False(t, ok)
			for i := 0; i < 20; i++ {
				_, err := l.Append(producerBatch(t, int64(i), 1, clock.ms, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
				require.NoError(t, err)
			}
			for _, off := range []int64{5, 10, 15} {
				require.NoError(t, l.WriteProducerSnapshot(off, []ProducerSnapshotEntry{{ProducerID: off}}))
			}
			names, err := env.fs.ReadDir(env.dir)
			require.NoError(t, err)
			var snaps []string
			for _, n := range names {
				if _, ok := parseSegmentName(n, SnapshotSuffix); ok {
					snaps = append(snaps, n)
				}
			}
			require.Equal(t, []string{fmt.Sprintf("%020d.snapshot", 10), fmt.Sprintf("%020d.snapshot", 15)}, snaps, "the newest two are kept")
			off, entries, ok, err := l.LatestProducerSnapshot()
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, int64(15), off)
			require.Equal(t, int64(15), entries[0].ProducerID)

			// A truncation below 15 deletes that snapshot; 10 is next.
			_, err = l.Truncate(12)
			require.NoError(t, err)
			off, _, ok, err = l.LatestProducerSnapshot()
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, int64(10), off)

			// A corrupt snapshot is skipped (and removed).
			f, err := env.fs.OpenFile(env.dir+"/"+fmt.Sprintf("%020d.snapshot", 10), os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.Write([]byte{0xff, 0xff})
			require.NoError(t, err)
			require.NoError(t, f.Close())
			_, _, ok, err = l.LatestProducerSnapshot()
			require.NoError(t, err)
			require.False(t, ok)
		})
	}
}

func FuzzProducerSnapshot(f *testing.F) {
	f.Add([]byte{})
	f.Add(EncodeProducerSnapshot([]ProducerSnapshotEntry{{ProducerID: 1, LastSequence: 3}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := DecodeProducerSnapshot(b)
		if err != nil {
			return
		}
		require.Equal(t, b, EncodeProducerSnapshot(entries), "a snapshot that decodes re-encodes to the same bytes")
	})
}
