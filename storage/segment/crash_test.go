package segment

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"mqstack/proto/kafka"
	"mqstack/storage/vfs"
)

// crashWorkload appends batches, flushing every third append and rolling
// now and then, and records the log end offset each completed Flush made
// durable, with the operation count at which it completed.
type flushPoint struct {
	ops int
	leo int64
}

func crashWorkload(t *testing.T, m *vfs.MemFS, dir string) []flushPoint {
	clock := &fakeClock{ms: 1000}
	l, err := tryOpen(m, dir, tinyConfig(), clock, nil, false, 0)
	if err != nil {
		return nil
	}
	defer l.Close()
	var points []flushPoint
	var next int64
	for i := 0; i < 30; i++ {
		n := 1 + i%3
		if _, err := l.Append(producerBatch(t, next, n, clock.ms, kafka.Compression(i%5)), AppendOptions{AssignOffsets: true}); err != nil {
			t.Fatalf("append: %v", err)
		}
		next += int64(n)
		if i%3 == 2 {
			require.NoError(t, l.Flush())
			points = append(points, flushPoint{ops: m.Ops(), leo: next})
		}
		if i%11 == 10 {
			require.NoError(t, l.Roll())
		}
	}
	return points
}

// TestCrashAtEveryOperation crashes the workload after every filesystem
// operation, reopens the crash image (no clean shutdown marker) and checks
// that every flushed batch is there and nothing invalid appears.
func TestCrashAtEveryOperation(t *testing.T) {
	ref := vfs.NewMem()
	points := crashWorkload(t, ref, "/d/t-0")
	total := ref.Ops()
	require.Greater(t, total, 100)
	checked := 0
	for n := 1; n <= total; n++ {
		m := vfs.NewMem()
		m.CrashAfter(n)
		got := crashWorkload(t, m, "/d/t-0")
		require.Equal(t, points, got, "the workload is deterministic")
		img := m.CrashImage()
		require.NotNil(t, img, "op %d", n)
		var durable int64
		for _, p := range points {
			if p.ops <= n {
				durable = p.leo
			}
		}
		logs := &syncBuffer{}
		l, err := tryOpen(img, "/d/t-0", tinyConfig(), &fakeClock{ms: 1}, logs, false, 0)
		require.NoError(t, err, "crash after op %d", n)
		require.GreaterOrEqual(t, l.LogEndOffset(), durable, "crash after op %d lost flushed data", n)
		l.SetHighWatermark(l.LogEndOffset())
		checkAll(t, l)
		// The recovered log takes appends at its end.
		leo := l.LogEndOffset()
		res, err := l.Append(producerBatch(t, leo, 1, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
		require.NoError(t, err)
		require.Equal(t, leo, res.FirstOffset)
		require.NoError(t, l.Close())
		checked++
	}
	t.Logf("checked %d crash points, %d flushes", checked, len(points))
}

// TestBitFlipTruncatesAtFirstBadByte flips one byte inside a middle
// segment: recovery cuts that segment at the damaged batch, deletes the
// segments after it and logs file, offset and bytes.
func TestBitFlipTruncatesAtFirstBadByte(t *testing.T) {
	for _, e := range envs(t) {
		t.Run(e.name, func(t *testing.T) {
			clock := &fakeClock{ms: 1}
			l := openLog(t, e.fs, e.dir, tinyConfig(), clock, nil, false, 0)
			var next int64
			for i := 0; i < 60; i++ {
				_, err := l.Append(producerBatch(t, next, 2, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
				require.NoError(t, err)
				next += 2
			}
			bases := l.SegmentBases()
			require.NoError(t, l.Close())
			victim := bases[len(bases)/2]
			path := filepath.Join(e.dir, segmentName(victim)+".log")
			f, err := e.fs.OpenFile(path, os.O_RDWR, 0)
			require.NoError(t, err)
			var hdr [kafka.HeaderSize]byte
			_, err = f.ReadAt(hdr[:], 0)
			require.NoError(t, err)
			h, err := kafka.ParseHeader(hdr[:])
			require.NoError(t, err)
			// Flip a byte in the second batch's records.
			flipAt := h.Size() + kafka.HeaderSize + 3
			b := []byte{0}
			_, err = f.ReadAt(b, flipAt)
			require.NoError(t, err)
			b[0] ^= 0x10
			_, err = f.Seek(flipAt, 0)
			require.NoError(t, err)
			_, err = f.Write(b)
			require.NoError(t, err)
			require.NoError(t, f.Close())

			// With a clean shutdown and the damage below the recovery point,
			// the index still matches and the damage is found on read; the
			// operator path is the unclean open, which validates everything.
			logs := &syncBuffer{}
			l = openLog(t, e.fs, e.dir, tinyConfig(), clock, logs, false, 0)
			require.Equal(t, h.NextOffset(), l.LogEndOffset(), "cut right after the last good batch")
			require.Equal(t, bases[:len(bases)/2+1], l.SegmentBases(), "later segments are deleted")
			l.SetHighWatermark(l.LogEndOffset())
			checkAll(t, l)
			out := logs.String()
			require.Contains(t, out, "truncating log at the first invalid batch")
			require.Contains(t, out, path)
			require.Contains(t, out, `"position":`+strconv.FormatInt(h.Size(), 10))
			require.Contains(t, out, `"component":"segment"`)
			require.Contains(t, out, "crc mismatch")
			require.NoError(t, l.Close())
		})
	}
}

// TestCorruptionBelowRecoveryPointRefusesToStart: a damaged segment that a
// clean shutdown vouched for is not silently cut; the error names the file.
func TestCorruptionBelowRecoveryPointRefusesToStart(t *testing.T) {
	m := vfs.NewMem()
	clock := &fakeClock{ms: 1}
	l := openLog(t, m, "/d/t-0", tinyConfig(), clock, nil, false, 0)
	for i := 0; i < 30; i++ {
		_, err := l.Append(producerBatch(t, int64(i*2), 2, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
		require.NoError(t, err)
	}
	require.NoError(t, l.Close())
	path := "/d/t-0/" + segmentName(0) + ".log"
	f, err := m.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(100)) // the index now points past the end
	require.NoError(t, f.Close())
	_, err = tryOpen(m, "/d/t-0", tinyConfig(), clock, nil, true, 60)
	require.ErrorIs(t, err, ErrCorrupt)
	require.Contains(t, err.Error(), path)
}

// TestEachOperationFailsOnce injects a failure into each filesystem
// operation of a workload in turn: every failure is an error (never a
// panic), and after it the log reopens to a valid prefix holding what was
// flushed.
func TestEachOperationFailsOnce(t *testing.T) {
	run := func(m *vfs.MemFS, failAt int, kind vfs.Op) (flushed int64, failed bool) {
		clock := &fakeClock{ms: 1000}
		if failAt > 0 {
			m.FailNth(failAt, kind)
		}
		check := func(err error) bool {
			require.True(t, errors.Is(err, vfs.ErrInjected), "%v", err)
			return true
		}
		l, err := tryOpen(m, "/d/t-0", tinyConfig(), clock, nil, false, 0)
		if err != nil {
			return 0, check(err)
		}
		var next int64
		for i := 0; i < 20; i++ {
			if _, err := l.Append(producerBatch(t, next, 2, clock.ms, kafka.CompressionNone), AppendOptions{AssignOffsets: true}); err != nil {
				_ = l.Close()
				return flushed, check(err)
			}
			next += 2
			if i%4 == 3 {
				if err := l.Flush(); err != nil {
					_ = l.Close()
					return flushed, check(err)
				}
				flushed = next
			}
		}
		l.SetHighWatermark(next)
		if _, err := l.DeleteRecordsBefore(24); err != nil {
			_ = l.Close()
			return flushed, check(err)
		}
		if err := l.Close(); err != nil {
			return flushed, check(err)
		}
		return next, false
	}
	kinds := []vfs.Op{vfs.OpOpen, vfs.OpWrite, vfs.OpSync, vfs.OpTruncate, vfs.OpClose, vfs.OpStat,
		vfs.OpRemove, vfs.OpMkdir, vfs.OpReadDir, vfs.OpSyncDir, vfs.OpRead, vfs.OpRename}
	ref := vfs.NewMem()
	_, failed := run(ref, 0, 0)
	require.False(t, failed)
	tried := 0
	for _, kind := range kinds {
		for n := 1; n <= ref.Count(kind); n++ {
			m := vfs.NewMem()
			flushed, failed := run(m, n, kind)
			// A failed stat while creating the directory only means "create
			// it"; every other failure must surface.
			if kind != vfs.OpStat {
				require.True(t, failed, "failing %s number %d must surface", kind, n)
			}
			m.ClearFaults()
			l, err := tryOpen(m, "/d/t-0", tinyConfig(), &fakeClock{ms: 1}, nil, false, 0)
			require.NoError(t, err, "reopen after failing %s number %d", kind, n)
			require.GreaterOrEqual(t, l.LogEndOffset(), flushed)
			l.SetHighWatermark(l.LogEndOffset())
			checkAll(t, l)
			require.NoError(t, l.Close())
			tried++
		}
	}
	require.Greater(t, tried, 50)
}
