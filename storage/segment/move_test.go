package segment

import (
	"errors"
	"io/fs"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mqstack/proto/kafka"
	"mqstack/storage/checkpoint"
	"mqstack/storage/vfs"
)

// A log moved to another log dir while a writer keeps appending: every
// appended record is in the new log once, in order; the log start offset,
// high watermark, leader epochs and producer snapshots came along; the old
// directory is gone; and a reopen finds the same log in the new dir.
func TestMoveWhileAppending(t *testing.T) {
	root := t.TempDir()
	fsys := vfs.OS()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	clock := &fakeClock{ms: 1}
	d, err := OpenDirs(dirsOptions(fsys, clock, a, b))
	require.NoError(t, err)
	tp := checkpoint.TopicPartition{Topic: "mv", Partition: 0}
	l, err := d.CreateLog(tp)
	require.NoError(t, err)
	ld, _ := d.Dir(tp)
	require.Equal(t, a, ld.Path())
	var next int64
	appendOne := func(l *Log, epoch int32) error {
		_, err := l.Append(producerBatch(t, next, 3, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true, LeaderEpoch: epoch})
		if err == nil {
			next += 3
		}
		return err
	}
	for i := range 60 {
		require.NoError(t, appendOne(l, int32(i/20)))
	}
	_, err = l.DeleteRecordsBefore(next)
	require.Error(t, err) // beyond the high watermark
	l.SetHighWatermark(next)
	start, err := l.DeleteRecordsBefore(31)
	require.NoError(t, err)
	require.EqualValues(t, 31, start)
	require.NoError(t, l.WriteProducerSnapshot(next, []ProducerSnapshotEntry{{ProducerID: 7, Epoch: 1, LastSequence: 4, LastOffset: next - 1}}))

	dst, ok := d.DirByPath(b)
	require.True(t, ok)
	m, err := d.StartMove(tp, dst)
	require.NoError(t, err)
	require.NotNil(t, m)
	again, err := d.StartMove(tp, dst)
	require.NoError(t, err)
	require.Nil(t, again, "a move to the same dir is already running")
	require.Equal(t, []checkpoint.TopicPartition{tp}, dst.Futures())

	// The writer appends through whichever log the dirs return, looking up
	// again when the one it had was closed by the swap.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var mu sync.Mutex // next
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			cur, _ := d.Log(tp)
			mu.Lock()
			err := appendOne(cur, 3)
			mu.Unlock()
			if err != nil && !errors.Is(err, ErrClosed) {
				t.Errorf("append: %v", err)
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	var nl *Log
	for nl == nil {
		caughtUp, err := m.Copy(2000)
		require.NoError(t, err)
		if !caughtUp {
			continue
		}
		nl, err = m.Finish()
		if errors.Is(err, ErrNotCaughtUp) {
			continue
		}
		require.NoError(t, err)
	}
	// Some appends after the swap, into the new log.
	for {
		mu.Lock()
		n := next
		mu.Unlock()
		if nl.LogEndOffset() >= n && nl.LogEndOffset() > l.LogEndOffset()+30 {
			break
		}
	}
	stop.Store(true)
	wg.Wait()

	cur, ok := d.Log(tp)
	require.True(t, ok)
	require.Same(t, nl, cur)
	ld, _ = d.Dir(tp)
	require.Equal(t, b, ld.Path())
	require.Empty(t, dst.Futures())
	_, err = fsys.Stat(filepath.Join(a, tp.String()))
	require.ErrorIs(t, err, fs.ErrNotExist, "the old directory is removed")
	names, err := fsys.ReadDir(a)
	require.NoError(t, err)
	for _, n := range names {
		require.NotContains(t, n, "mv-0", "nothing of the partition is left in the old dir")
	}
	require.Equal(t, next, nl.LogEndOffset())
	require.EqualValues(t, 31, nl.LogStartOffset())
	require.Equal(t, []checkpoint.EpochEntry{{Epoch: 0, StartOffset: 31}, {Epoch: 1, StartOffset: 60}, {Epoch: 2, StartOffset: 120}, {Epoch: 3, StartOffset: 180}}, nl.LeaderEpochs())
	checkAll(t, nl)
	off, entries, ok, err := nl.LatestProducerSnapshot()
	require.NoError(t, err)
	require.True(t, ok)
	require.EqualValues(t, 180, off)
	require.EqualValues(t, 7, entries[0].ProducerID)
	_, err = l.Append(producerBatch(t, 0, 1, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
	require.ErrorIs(t, err, ErrClosed, "the old log takes no appends")
	nl.SetHighWatermark(next - 2)
	require.NoError(t, nl.Roll()) // a new segment file lands in the new directory
	require.NoError(t, d.Close())

	d, err = OpenDirs(dirsOptions(fsys, clock, a, b))
	require.NoError(t, err)
	defer d.Close()
	ld, ok = d.Dir(tp)
	require.True(t, ok)
	require.Equal(t, b, ld.Path())
	re, _ := d.Log(tp)
	require.Equal(t, next, re.LogEndOffset())
	require.EqualValues(t, 31, re.LogStartOffset())
	require.Equal(t, next-2, re.HighWatermark())
	checkAll(t, re)
}

// A crash during a move: a -future directory is removed at the next start;
// a -delete directory is removed when the partition's directory exists,
// and restored when the crash came between the two renames of the swap.
func TestMoveLeftoversAtStartup(t *testing.T) {
	root := t.TempDir()
	fsys := vfs.OS()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	clock := &fakeClock{ms: 1}
	d, err := OpenDirs(dirsOptions(fsys, clock, a, b))
	require.NoError(t, err)
	kept := checkpoint.TopicPartition{Topic: "kept", Partition: 0}
	swapped := checkpoint.TopicPartition{Topic: "swapped", Partition: 1}
	for _, tp := range []checkpoint.TopicPartition{kept, swapped} {
		l, err := d.CreateLog(tp)
		require.NoError(t, err)
		_, err = l.Append(producerBatch(t, 0, 5, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
		require.NoError(t, err)
	}
	ka, _ := d.Dir(kept)
	sa, _ := d.Dir(swapped)
	require.NoError(t, d.Close())
	// kept: a copy was running (future dir in the other log dir).
	other := func(p string) string {
		if p == a {
			return b
		}
		return a
	}
	future := filepath.Join(other(ka.Path()), moveDirName(kept, FutureDirSuffix))
	require.NoError(t, fsys.MkdirAll(future, 0o755))
	require.NoError(t, checkpoint.WriteFile(fsys, filepath.Join(future, "00000000000000000000.log"), []byte("partial")))
	// swapped: the old directory renamed, the future one not yet.
	del := filepath.Join(sa.Path(), moveDirName(swapped, DeleteDirSuffix))
	require.NoError(t, fsys.Rename(filepath.Join(sa.Path(), swapped.String()), del))
	stale := filepath.Join(other(sa.Path()), moveDirName(swapped, FutureDirSuffix))
	require.NoError(t, fsys.MkdirAll(stale, 0o755))
	// and a finished swap whose old directory was not yet removed.
	done := filepath.Join(other(ka.Path()), moveDirName(kept, DeleteDirSuffix))
	require.NoError(t, fsys.MkdirAll(done, 0o755))

	d, err = OpenDirs(dirsOptions(fsys, clock, a, b))
	require.NoError(t, err)
	defer d.Close()
	for _, p := range []string{future, stale, del, done} {
		_, err := fsys.Stat(p)
		require.ErrorIs(t, err, fs.ErrNotExist, p)
	}
	for _, tp := range []checkpoint.TopicPartition{kept, swapped} {
		l, ok := d.Log(tp)
		require.True(t, ok, tp.String())
		require.EqualValues(t, 5, l.LogEndOffset())
		checkAll(t, l)
	}
	ld, _ := d.Dir(swapped)
	require.Equal(t, sa.Path(), ld.Path(), "restored in its old dir")
}

// Deleting a partition aborts its move and removes the future log; a move
// asked for a partition not hosted yet places its log there on creation.
func TestMoveAbortAndPreferredDir(t *testing.T) {
	root := t.TempDir()
	fsys := vfs.OS()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	d, err := OpenDirs(dirsOptions(fsys, &fakeClock{ms: 1}, a, b))
	require.NoError(t, err)
	defer d.Close()
	tp := checkpoint.TopicPartition{Topic: "gone", Partition: 0}
	_, err = d.CreateLog(tp)
	require.NoError(t, err)
	dst, _ := d.DirByPath(b)
	m, err := d.StartMove(tp, dst)
	require.NoError(t, err)
	_, err = m.Copy(100)
	require.NoError(t, err)
	require.NoError(t, d.DeleteLog(tp))
	names, err := fsys.ReadDir(b)
	require.NoError(t, err)
	for _, n := range names {
		require.NotContains(t, n, "gone-0")
	}
	_, err = m.Finish()
	require.ErrorIs(t, err, ErrMoveAborted)

	// Not hosted: remembered. a holds nothing, so b would not be chosen.
	later := checkpoint.TopicPartition{Topic: "later", Partition: 0}
	_, err = d.StartMove(later, dst)
	require.ErrorIs(t, err, ErrNotHosted)
	_, err = d.CreateLog(later)
	require.NoError(t, err)
	ld, _ := d.Dir(later)
	require.Equal(t, b, ld.Path())
}
