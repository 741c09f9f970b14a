package segment

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"mqstack/proto/kafka"
)

func TestAppendReadRollReopen(t *testing.T) {
	for _, e := range envs(t) {
		t.Run(e.name, func(t *testing.T) {
			clock := &fakeClock{ms: 1_000_000}
			l := openLog(t, e.fs, e.dir, tinyConfig(), clock, nil, false, 0)
			codecs := []kafka.Compression{kafka.CompressionNone, kafka.CompressionGzip, kafka.CompressionSnappy, kafka.CompressionLZ4, kafka.CompressionZstd}
			var next int64
			for i := 0; i < 120; i++ {
				n := 1 + i%4
				res, err := l.Append(producerBatch(t, next, n, clock.ms, codecs[i%len(codecs)]), AppendOptions{AssignOffsets: true, LeaderEpoch: 5})
				require.NoError(t, err)
				require.Equal(t, next, res.FirstOffset)
				require.Equal(t, next+int64(n)-1, res.LastOffset)
				next += int64(n)
				clock.ms++
			}
			require.Equal(t, next, l.LogEndOffset())
			bases := l.SegmentBases()
			require.Greater(t, len(bases), 10, "tiny segment.bytes forces many rolls")
			names, err := e.fs.ReadDir(e.dir)
			require.NoError(t, err)
			for _, b := range bases {
				for _, suffix := range []string{".log", ".index", ".timeindex"} {
					require.Contains(t, names, segmentName(b)+suffix)
				}
			}
			require.Len(t, segmentName(bases[1]), 20)
			l.SetHighWatermark(next)
			checkAll(t, l)

			// Every offset reads back from the batch holding it.
			for off := int64(0); off < next; off++ {
				b, res, err := l.ReadBytes(off, 1, next)
				require.NoError(t, err)
				batch, _, err := kafka.DecodeBatch(b)
				require.NoError(t, err)
				require.LessOrEqual(t, batch.BaseOffset, off)
				require.GreaterOrEqual(t, batch.LastOffset(), off)
				require.Equal(t, int32(5), batch.PartitionLeaderEpoch)
				require.Equal(t, res.FirstOffset, batch.BaseOffset)
			}
			require.NoError(t, l.Close())

			for _, clean := range []bool{true, false} {
				l = openLog(t, e.fs, e.dir, tinyConfig(), clock, nil, clean, 0)
				require.Equal(t, next, l.LogEndOffset())
				require.Equal(t, bases, l.SegmentBases())
				l.SetHighWatermark(next)
				checkAll(t, l)
				res, err := l.Append(producerBatch(t, next, 2, clock.ms, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
				require.NoError(t, err)
				require.Equal(t, next, res.FirstOffset)
				next += 2
				require.NoError(t, l.Close())
			}
		})
	}
}

func TestReadLimits(t *testing.T) {
	for _, e := range envs(t) {
		t.Run(e.name, func(t *testing.T) {
			clock := &fakeClock{ms: 1}
			cfg := DefaultConfig()
			l := openLog(t, e.fs, e.dir, cfg, clock, nil, false, 0)
			defer l.Close()
			var sizes []int
			for i := 0; i < 5; i++ {
				b := producerBatch(t, int64(i*3), 3, 10, kafka.CompressionNone)
				sizes = append(sizes, len(b))
				_, err := l.Append(b, AppendOptions{AssignOffsets: true})
				require.NoError(t, err)
			}
			res, err := l.Read(0, 1, 15)
			require.NoError(t, err)
			require.Equal(t, int64(sizes[0]), res.Length, "the first batch is whole even over maxBytes")
			require.Equal(t, int64(3), res.NextOffset)
			require.Equal(t, filepath.Join(e.dir, "00000000000000000000.log"), res.Path)

			res, err = l.Read(4, sizes[1]+sizes[2], 15)
			require.NoError(t, err)
			require.Equal(t, int64(sizes[0]), res.Position)
			require.Equal(t, int64(3), res.FirstOffset)
			require.Equal(t, int64(9), res.NextOffset)

			res, err = l.Read(0, 1<<20, 6)
			require.NoError(t, err, "the high watermark bounds what consumers see")
			require.Equal(t, int64(6), res.NextOffset)

			res, err = l.Read(0, -5, 15)
			require.NoError(t, err, "a negative maxBytes reads one batch")
			require.Equal(t, int64(3), res.NextOffset)

			res, err = l.Read(15, 1<<20, 15)
			require.NoError(t, err)
			require.Zero(t, res.Length, "reading at the log end is empty")

			_, err = l.Read(16, 1<<20, 15)
			require.ErrorIs(t, err, ErrOffsetOutOfRange)
			_, err = l.Read(-1, 1<<20, 15)
			require.ErrorIs(t, err, ErrOffsetOutOfRange)
		})
	}
}

func TestAppendValidation(t *testing.T) {
	for _, e := range envs(t) {
		t.Run(e.name, func(t *testing.T) {
			clock := &fakeClock{ms: 1}
			cfg := DefaultConfig()
			cfg.MaxMessageBytes = 200
			l := openLog(t, e.fs, e.dir, cfg, clock, nil, false, 0)
			defer l.Close()
			b := producerBatch(t, 0, 1, 10, kafka.CompressionNone)
			bad := append([]byte(nil), b...)
			bad[len(bad)-1] ^= 0xff
			_, err := l.Append(bad, AppendOptions{AssignOffsets: true})
			require.ErrorIs(t, err, ErrInvalidBatch)
			require.ErrorIs(t, err, kafka.ErrCRC)
			_, err = l.Append(producerBatch(t, 0, 20, 10, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
			require.ErrorIs(t, err, ErrRecordTooLarge)
			_, err = l.Append(nil, AppendOptions{AssignOffsets: true})
			require.ErrorIs(t, err, ErrInvalidBatch)
			require.Equal(t, int64(0), l.LogEndOffset(), "nothing was appended")

			// Follower path: offsets are kept, and must not go backwards.
			f := producerBatch(t, 0, 2, 10, kafka.CompressionNone)
			kafka.SetBaseOffset(f, 10)
			res, err := l.Append(f, AppendOptions{})
			require.NoError(t, err)
			require.Equal(t, int64(10), res.FirstOffset)
			require.Equal(t, int64(12), l.LogEndOffset())
			require.Equal(t, []int64{10}, l.SegmentBases(), "the empty segment is re-based to the first offset")
			kafka.SetBaseOffset(f, 11)
			_, err = l.Append(f, AppendOptions{})
			require.ErrorIs(t, err, ErrOffsetsOutOfOrder)
			big := producerBatch(t, 0, 20, 10, kafka.CompressionNone)
			kafka.SetBaseOffset(big, 12)
			_, err = l.Append(big, AppendOptions{})
			require.NoError(t, err, "a follower takes what its leader accepted, over max.message.bytes too")
			require.Equal(t, int64(32), l.LogEndOffset())
		})
	}
}

func TestLogAppendTimeAndTimeLookup(t *testing.T) {
	e := envs(t)[0]
	clock := &fakeClock{ms: 5000}
	cfg := tinyConfig()
	cfg.LogAppendTime = true
	l := openLog(t, e.fs, e.dir, cfg, clock, nil, false, 0)
	defer l.Close()
	for i := 0; i < 30; i++ {
		res, err := l.Append(producerBatch(t, int64(i*2), 2, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
		require.NoError(t, err)
		require.Equal(t, clock.ms, res.LogAppendTime)
		clock.ms += 10
	}
	b, _, err := l.ReadBytes(0, 1, 60)
	require.NoError(t, err)
	h, _, err := kafka.CheckBatch(b)
	require.NoError(t, err, "the CRC was recomputed")
	require.True(t, h.LogAppendTime())
	require.Equal(t, int64(5000), h.MaxTimestamp)

	off, found, err := l.OffsetForTimestamp(5000 + 10*17)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, int64(34), off)
	off, found, err = l.OffsetForTimestamp(5001)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, int64(2), off)
	_, found, err = l.OffsetForTimestamp(99999)
	require.NoError(t, err)
	require.False(t, found)
}

func TestRollBySegmentMs(t *testing.T) {
	e := envs(t)[0]
	clock := &fakeClock{ms: 1000}
	cfg := DefaultConfig()
	cfg.SegmentMs = 100
	l := openLog(t, e.fs, e.dir, cfg, clock, nil, false, 0)
	defer l.Close()
	_, err := l.Append(producerBatch(t, 0, 1, 1000, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
	require.NoError(t, err)
	clock.ms = 1099
	_, err = l.Append(producerBatch(t, 1, 1, 1099, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
	require.NoError(t, err)
	require.Equal(t, []int64{0}, l.SegmentBases())
	clock.ms = 1100
	_, err = l.Append(producerBatch(t, 2, 1, 1100, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
	require.NoError(t, err)
	require.Equal(t, []int64{0, 2}, l.SegmentBases(), "segment.ms counts from the first batch's timestamp")
}

func TestRollByIndexFull(t *testing.T) {
	e := envs(t)[0]
	clock := &fakeClock{ms: 1000}
	cfg := DefaultConfig()
	cfg.IndexIntervalBytes = 0
	cfg.SegmentIndexBytes = 3 * timeEntrySize
	l := openLog(t, e.fs, e.dir, cfg, clock, nil, false, 0)
	defer l.Close()
	for i := 0; i < 7; i++ {
		_, err := l.Append(producerBatch(t, int64(i), 1, 1000+int64(i), kafka.CompressionNone), AppendOptions{AssignOffsets: true})
		require.NoError(t, err)
	}
	require.Equal(t, []int64{0, 3, 6}, l.SegmentBases())
	st, err := e.fs.Stat(filepath.Join(e.dir, segmentName(0)+".index"))
	require.NoError(t, err)
	require.Equal(t, int64(3*8), st.Size(), "an inactive segment's index is trimmed to its entries")
	st, err = e.fs.Stat(filepath.Join(e.dir, segmentName(6)+".index"))
	require.NoError(t, err)
	require.Equal(t, int64(3*8), st.Size(), "the active index is preallocated to segment.index.bytes (entries)")
}

func TestTruncate(t *testing.T) {
	for _, e := range envs(t) {
		t.Run(e.name, func(t *testing.T) {
			clock := &fakeClock{ms: 1}
			l := openLog(t, e.fs, e.dir, tinyConfig(), clock, nil, false, 0)
			for i := 0; i < 40; i++ {
				_, err := l.Append(producerBatch(t, int64(i*2), 2, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
				require.NoError(t, err)
			}
			l.SetHighWatermark(80)
			leo, err := l.Truncate(31) // mid-batch: the batch 30-31 goes
			require.NoError(t, err)
			require.Equal(t, int64(30), leo)
			require.Equal(t, int64(30), l.HighWatermark())
			checkAll(t, l)
			res, err := l.Append(producerBatch(t, 30, 2, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
			require.NoError(t, err)
			require.Equal(t, int64(30), res.FirstOffset)
			require.NoError(t, l.Close())
			l = openLog(t, e.fs, e.dir, tinyConfig(), clock, nil, false, 0)
			require.Equal(t, int64(32), l.LogEndOffset())
			l.SetHighWatermark(32)
			checkAll(t, l)
			require.NoError(t, l.TruncateFullyAndStartAt(100))
			require.Equal(t, int64(100), l.LogEndOffset())
			require.Equal(t, int64(100), l.LogStartOffset())
			require.Equal(t, []int64{100}, l.SegmentBases())
			require.NoError(t, l.Close())
		})
	}
}

func TestConfigValidateNamesKey(t *testing.T) {
	c := DefaultConfig()
	c.CleanupPolicy = "compress"
	err := c.Validate()
	require.ErrorIs(t, err, ErrConfig)
	require.True(t, strings.Contains(err.Error(), "cleanup.policy"))
	c = DefaultConfig()
	c.SegmentBytes = 1
	require.ErrorContains(t, c.Validate(), "segment.bytes")
}

// A segment whose offset index has no entry (Kafka writes none for a
// segment's first index.interval.bytes) loads without a rebuild; a missing
// time index is rebuilt so the largest timestamp stays right.
func TestLoadKafkaStyleSparseIndexes(t *testing.T) {
	e := envs(t)[0]
	clock := &fakeClock{ms: 1}
	l := openLog(t, e.fs, e.dir, tinyConfig(), clock, nil, false, 0)
	for i := 0; i < 20; i++ {
		_, err := l.Append(producerBatch(t, int64(i), 1, 1000+int64(i), kafka.CompressionNone), AppendOptions{AssignOffsets: true})
		require.NoError(t, err)
	}
	bases := l.SegmentBases()
	require.NoError(t, l.Close())
	idx := filepath.Join(e.dir, segmentName(bases[0])+".index")
	tidx := filepath.Join(e.dir, segmentName(bases[1])+".timeindex")
	for _, p := range []string{idx, tidx} {
		f, err := e.fs.OpenFile(p, os.O_RDWR, 0)
		require.NoError(t, err)
		require.NoError(t, f.Truncate(0))
		require.NoError(t, f.Close())
	}
	logs := &syncBuffer{}
	l = openLog(t, e.fs, e.dir, tinyConfig(), clock, logs, true, 20)
	defer l.Close()
	require.NotContains(t, logs.String(), segmentName(bases[0])+".index", "an empty offset index is valid")
	require.Contains(t, logs.String(), segmentName(bases[1])+".index", "an empty time index is rebuilt")
	require.Equal(t, int64(20), l.LogEndOffset())
	l.SetHighWatermark(20)
	checkAll(t, l)
	off, found, err := l.OffsetForTimestamp(1000 + bases[1])
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, bases[1], off)
}
