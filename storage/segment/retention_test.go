package segment

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"mqstack/proto/kafka"
)

func TestRetentionBySize(t *testing.T) {
	for _, e := range envs(t) {
		t.Run(e.name, func(t *testing.T) {
			clock := &fakeClock{ms: 1000}
			cfg := tinyConfig()
			l := openLog(t, e.fs, e.dir, cfg, clock, nil, false, 0)
			defer l.Close()
			for i := 0; i < 50; i++ {
				_, err := l.Append(producerBatch(t, int64(i*2), 2, clock.ms, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
				require.NoError(t, err)
			}
			before := l.SegmentBases()
			l.SetHighWatermark(40)
			require.NoError(t, l.Flush())
			size := l.Size()
			cfg.RetentionBytes = size / 2
			l.cfg = cfg
			n, err := l.DeleteOldSegments(clock.ms)
			require.NoError(t, err)
			require.Greater(t, n, 0)
			after := l.SegmentBases()
			// Only segments below the high watermark (40) may go.
			require.LessOrEqual(t, after[0], int64(40))
			require.Equal(t, before[n:], after)
			require.Equal(t, after[0], l.LogStartOffset())
			l.SetHighWatermark(100)
			_, err = l.DeleteOldSegments(clock.ms)
			require.NoError(t, err)
			require.LessOrEqual(t, l.Size(), size/2+cfg.SegmentBytes, "the log is cut to retention.bytes")
			require.GreaterOrEqual(t, l.Size(), size/2)
			_, err = l.Read(0, 100, 100)
			require.ErrorIs(t, err, ErrOffsetOutOfRange)
			checkAll(t, l)
			for _, b := range before[:len(before)-len(l.SegmentBases())] {
				_, err := e.fs.Stat(fmt.Sprintf("%s/%s.log", e.dir, segmentName(b)))
				require.Error(t, err, "deleted segment file %d is gone", b)
			}
		})
	}
}

func TestRetentionByTime(t *testing.T) {
	for _, e := range envs(t) {
		t.Run(e.name, func(t *testing.T) {
			clock := &fakeClock{ms: 10_000}
			cfg := tinyConfig()
			cfg.RetentionMs = 1000
			l := openLog(t, e.fs, e.dir, cfg, clock, nil, false, 0)
			defer l.Close()
			for i := 0; i < 40; i++ {
				_, err := l.Append(producerBatch(t, int64(i*2), 2, 10_000+int64(i)*100, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
				require.NoError(t, err)
			}
			l.SetHighWatermark(80)
			// Records have timestamps 10000..13901; at now=13000 everything
			// whose largest timestamp is before 12000 goes.
			n, err := l.DeleteOldSegments(13_000)
			require.NoError(t, err)
			require.Greater(t, n, 0)
			lso := l.LogStartOffset()
			require.Greater(t, lso, int64(20))
			require.LessOrEqual(t, lso, int64(42), "the segment holding timestamp 12000 (offset 40) stays")
			checkAll(t, l)
			// Far in the future all segments expire: the log rolls a new
			// empty segment at the end and keeps its end offset.
			_, err = l.DeleteOldSegments(1 << 40)
			require.NoError(t, err)
			require.Equal(t, []int64{80}, l.SegmentBases())
			require.Equal(t, int64(80), l.LogStartOffset())
			require.Equal(t, int64(80), l.LogEndOffset())
			res, err := l.Append(producerBatch(t, 80, 1, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
			require.NoError(t, err)
			require.Equal(t, int64(80), res.FirstOffset)
		})
	}
}

func TestDeleteRecords(t *testing.T) {
	for _, e := range envs(t) {
		t.Run(e.name, func(t *testing.T) {
			clock := &fakeClock{ms: 1}
			l := openLog(t, e.fs, e.dir, tinyConfig(), clock, nil, false, 0)
			for i := 0; i < 40; i++ {
				_, err := l.Append(producerBatch(t, int64(i*2), 2, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
				require.NoError(t, err)
			}
			_, err := l.DeleteRecordsBefore(10)
			require.ErrorIs(t, err, ErrOffsetOutOfRange, "not past the high watermark (0)")
			l.SetHighWatermark(60)
			lso, err := l.DeleteRecordsBefore(33)
			require.NoError(t, err)
			require.Equal(t, int64(33), lso)
			require.LessOrEqual(t, l.SegmentBases()[0], int64(33))
			_, err = l.Read(32, 100, 60)
			require.ErrorIs(t, err, ErrOffsetOutOfRange)
			b, _, err := l.ReadBytes(33, 1, 60)
			require.NoError(t, err)
			batch, _, err := kafka.DecodeBatch(b)
			require.NoError(t, err)
			require.Equal(t, int64(32), batch.BaseOffset, "the batch holding the start offset is returned whole")
			lso, err = l.DeleteRecordsBefore(-1)
			require.NoError(t, err)
			require.Equal(t, int64(60), lso)
			require.NoError(t, l.Close())
		})
	}
}
