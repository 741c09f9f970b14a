package segment

import (
	"testing"

	"github.com/stretchr/testify/require"

	"mqstack/proto/kafka"
)

// A config change applies to an open log: a smaller segment.bytes rolls at
// the next append, retention.bytes set later deletes on the next pass, and
// an invalid config is refused and leaves the old one in force.
func TestSetConfigAppliesToOpenLog(t *testing.T) {
	for _, e := range envs(t) {
		t.Run(e.name, func(t *testing.T) {
			clock := &fakeClock{ms: 1000}
			cfg := DefaultConfig()
			l := openLog(t, e.fs, e.dir, cfg, clock, nil, false, 0)
			defer l.Close()
			for i := 0; i < 10; i++ {
				_, err := l.Append(producerBatch(t, int64(i), 1, clock.ms, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
				require.NoError(t, err)
			}
			require.Len(t, l.SegmentBases(), 1)

			bad := cfg
			bad.CleanupPolicy = "shred"
			_, err := l.SetConfig(bad)
			require.ErrorIs(t, err, ErrConfig)
			require.Equal(t, "delete", l.Config().CleanupPolicy)

			small := cfg
			small.SegmentBytes = 200
			changed, err := l.SetConfig(small)
			require.NoError(t, err)
			require.True(t, changed)
			changed, err = l.SetConfig(small)
			require.NoError(t, err)
			require.False(t, changed, "the same config again is no change")
			for i := 10; i < 20; i++ {
				_, err := l.Append(producerBatch(t, int64(i), 1, clock.ms, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
				require.NoError(t, err)
			}
			require.Greater(t, len(l.SegmentBases()), 3, "segments roll at the new segment.bytes")

			l.SetHighWatermark(l.LogEndOffset())
			n, err := l.DeleteOldSegments(clock.ms)
			require.NoError(t, err)
			require.Zero(t, n, "no retention.bytes yet")
			small.RetentionBytes = 400
			_, err = l.SetConfig(small)
			require.NoError(t, err)
			n, err = l.DeleteOldSegments(clock.ms)
			require.NoError(t, err)
			require.Positive(t, n)
			require.LessOrEqual(t, l.Size(), int64(400+200))
		})
	}
}
