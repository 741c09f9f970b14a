package segment

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"mqstack/proto/kafka"
)

// requireTailMatchesScan checks every offset of the active segment (and
// one past its end): the position the in-memory tail gives is the one the
// offset index and a header scan give.
func requireTailMatchesScan(t *testing.T, l *Log) {
	t.Helper()
	s := l.active()
	used := 0
	for off := s.base; off <= s.next+1; off++ {
		tpos, th, tfound, ok := s.tailPosition(off)
		spos, sh, sfound, err := s.scanPosition(off)
		require.NoError(t, err)
		if !ok {
			continue
		}
		used++
		require.Equal(t, sfound, tfound, "offset %d", off)
		require.Equal(t, spos, tpos, "offset %d", off)
		if sfound {
			require.Equal(t, sh, th, "offset %d", off)
		}
	}
	require.NotZero(t, used, "reads near the log end use the tail")
}

// TestTailPositions: the positions kept for the last appended batches
// agree with the index and the file after appends (more batches than the
// tail keeps, with offset gaps as a follower's appends of a compacted log
// have), a truncation, and a reopen.
func TestTailPositions(t *testing.T) {
	for _, batches := range []int{30, tailMax + 50} {
		for _, e := range envs(t) {
			e.dir += fmt.Sprint(batches)
			t.Run(fmt.Sprintf("%s/%d", e.name, batches), func(t *testing.T) { tailPositions(t, e, batches) })
		}
	}
}

func tailPositions(t *testing.T, e env, batches int) {
	clock := &fakeClock{ms: 1}
	cfg := DefaultConfig()
	l := openLog(t, e.fs, e.dir, cfg, clock, nil, false, 0)
	var next int64
	for i := 0; i < batches; i++ {
		n := 1 + i%5
		_, err := l.Append(producerBatch(t, next, n, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
		require.NoError(t, err)
		next += int64(n)
		if i%37 == 0 {
			requireTailMatchesScan(t, l)
		}
	}
	requireTailMatchesScan(t, l)
	// Follower appends keep their offsets: leave gaps.
	for i := 0; i < 20; i++ {
		next += int64(i % 3)
		f := producerBatch(t, next, 2, 1, kafka.CompressionNone)
		kafka.SetBaseOffset(f, next)
		_, err := l.Append(f, AppendOptions{})
		require.NoError(t, err)
		next += 2
	}
	requireTailMatchesScan(t, l)
	leo, err := l.Truncate(next - 7)
	require.NoError(t, err)
	requireTailMatchesScan(t, l)
	_, err = l.Append(producerBatch(t, leo, 3, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
	require.NoError(t, err)
	requireTailMatchesScan(t, l)
	require.NoError(t, l.Close())

	l = openLog(t, e.fs, e.dir, cfg, clock, nil, true, 0)
	defer l.Close()
	_, err = l.Append(producerBatch(t, l.LogEndOffset(), 3, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
	require.NoError(t, err)
	requireTailMatchesScan(t, l)
}
