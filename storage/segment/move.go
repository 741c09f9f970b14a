package segment

// Moving a partition's log to another log dir of the same broker (Kafka's
// AlterReplicaLogDirs and ReplicaAlterLogDirsThread). The move creates a
// "future" log, <topic>-<partition>.<uuid>-future, in the target dir;
// Copy brings it up to the current log batch by batch, as the batches are
// (offsets, leader epochs and timestamps kept), while the current log
// keeps taking appends and serving reads. Finish copies the last batches
// under the current log's lock and swaps the logs:
//
//  1. the future log takes the current log's log start offset, high
//     watermark, leader epoch cache, config and producer snapshot files,
//     and is flushed;
//  2. the target dir's checkpoint files are written with the partition in
//     them;
//  3. the current log is closed (later calls on it get ErrClosed; file
//     sections already handed out stay readable on their own descriptors)
//     and its directory renamed to <topic>-<partition>.<uuid>-delete;
//  4. the future directory is renamed to <topic>-<partition>;
//  5. the maps are updated (lookups find the new log), the source dir's
//     checkpoints rewritten without the partition, and the -delete
//     directory removed.
//
// A crash is handled at the next OpenDirs (cleanMoveLeftovers): a -future
// directory is deleted (the copy is not resumed: ask for the move again);
// a -delete directory is deleted when the partition's own directory exists
// in some log dir (the swap completed), and renamed back to
// <topic>-<partition> when it does not (a crash between steps 3 and 4: the
// old log is complete, as nothing was appended after the last copy).

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"mqstack/storage/checkpoint"
	"mqstack/storage/vfs"
)

// Directory name suffixes of a move in progress.
const (
	FutureDirSuffix = "-future"
	DeleteDirSuffix = "-delete"
)

var (
	// ErrNotHosted is a move asked for a partition no log dir holds; the
	// target dir is remembered for when its log is created.
	ErrNotHosted = errors.New("segment: partition not hosted")
	// ErrMoveAborted is a move cancelled (partition deleted, another target
	// dir asked for, log dirs closed).
	ErrMoveAborted = errors.New("segment: log dir move aborted")
	// ErrNotCaughtUp is Finish finding the current log changed under the
	// copy (truncated); Copy again.
	ErrNotCaughtUp = errors.New("segment: future log not caught up")
)

// moveDirName is "<topic>-<partition>.<32 hex digits><suffix>", as Kafka
// names future and deleted logs.
func moveDirName(tp checkpoint.TopicPartition, suffix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return tp.String() + "." + hex.EncodeToString(b[:]) + suffix
}

// parseMoveDir recognises a future or deleted log directory name.
func parseMoveDir(name string) (tp checkpoint.TopicPartition, suffix string, ok bool) {
	for _, suf := range []string{FutureDirSuffix, DeleteDirSuffix} {
		stem, found := strings.CutSuffix(name, suf)
		if !found {
			continue
		}
		i := strings.LastIndexByte(stem, '.')
		if i < 0 || len(stem)-i-1 != 32 {
			return tp, "", false
		}
		if _, err := hex.DecodeString(stem[i+1:]); err != nil {
			return tp, "", false
		}
		tp, ok = ParsePartitionDir(stem[:i])
		return tp, suf, ok
	}
	return tp, "", false
}

// removeFlatDir removes a partition directory and the files in it.
func removeFlatDir(fsys vfs.FS, dir string) error {
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("%w: list %s: %w", ErrIO, dir, err)
	}
	for _, n := range names {
		if err := fsys.Remove(filepath.Join(dir, n)); err != nil {
			return fmt.Errorf("%w: remove %s: %w", ErrIO, filepath.Join(dir, n), err)
		}
	}
	if err := fsys.Remove(dir); err != nil {
		return fmt.Errorf("%w: remove %s: %w", ErrIO, dir, err)
	}
	return nil
}

// cleanMoveLeftovers deals with the directories a move interrupted by a
// crash left in the log dirs (see the top of this file). have holds the
// partitions whose own directory exists in some log dir; restored ones are
// added to it.
func cleanMoveLeftovers(opts []DirOptions, have map[checkpoint.TopicPartition]string) error {
	for _, o := range opts {
		if _, err := o.FS.Stat(o.Path); err != nil {
			continue
		}
		names, err := o.FS.ReadDir(o.Path)
		if err != nil {
			return fmt.Errorf("%w: list %s: %w (check log.dirs)", ErrIO, o.Path, err)
		}
		for _, n := range names {
			tp, suffix, ok := parseMoveDir(n)
			if !ok {
				continue
			}
			path := filepath.Join(o.Path, n)
			if suffix == DeleteDirSuffix {
				if _, exists := have[tp]; !exists {
					to := filepath.Join(o.Path, tp.String())
					if err := o.FS.Rename(path, to); err != nil {
						return fmt.Errorf("%w: restore %s to %s: %w", ErrIO, path, to, err)
					}
					if err := o.FS.SyncDir(o.Path); err != nil {
						return fmt.Errorf("%w: fsync %s: %w", ErrIO, o.Path, err)
					}
					have[tp] = to
					o.Logger.Warn().Str("dir", path).Str("partition", tp.String()).
						Msg("a log dir move was interrupted during the swap; restored the partition's log from its old directory")
					continue
				}
			}
			if err := removeFlatDir(o.FS, path); err != nil {
				return err
			}
			if err := o.FS.SyncDir(o.Path); err != nil {
				return fmt.Errorf("%w: fsync %s: %w", ErrIO, o.Path, err)
			}
			o.Logger.Info().Str("dir", path).Str("partition", tp.String()).
				Msg("removed the leftover of an interrupted log dir move (a future log is not resumed; ask for the move again)")
		}
	}
	return nil
}

// Move is one partition's log being moved to another log dir. Copy and
// Finish are called from one goroutine; Abort from any.
type Move struct {
	d        *Dirs
	tp       checkpoint.TopicPartition
	src      *Log
	srcDir   *LogDir
	dst      *LogDir
	future   *Log
	path     string // the future directory
	next     int64  // the next offset to copy (the future log's end)
	gen      uint64 // src.truncations when the copy (re)started
	started  bool
	finished bool // guarded by d.mu
	aborted  bool // guarded by d.mu
}

// Partition is the partition moved.
func (m *Move) Partition() checkpoint.TopicPartition { return m.tp }

// Target is the log dir the partition moves to.
func (m *Move) Target() *LogDir { return m.dst }

// Source is the log being moved (the current log).
func (m *Move) Source() *Log { return m.src }

// DirByPath returns the log dir whose absolute path is path.
func (d *Dirs) DirByPath(path string) (*LogDir, bool) {
	for _, ld := range d.dirs {
		if abs, err := filepath.Abs(ld.Path()); err == nil && abs == filepath.Clean(path) {
			return ld, true
		}
	}
	return nil, false
}

// StartMove starts moving a partition's log to dst. It returns the move to
// drive (Copy, Finish) when one was started, nil when there is nothing to
// do (the log is already in dst, or a move to dst is already running). A
// move to another dir is aborted first, as Kafka replaces a future replica
// whose dir changed. For a partition no log dir holds, dst is remembered
// for its creation (CreateLog) and ErrNotHosted returned.
func (d *Dirs) StartMove(tp checkpoint.TopicPartition, dst *LogDir) (*Move, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	srcDir, ok := d.Dir(tp)
	if !ok {
		if d.preferred == nil {
			d.preferred = map[checkpoint.TopicPartition]*LogDir{}
		}
		d.preferred[tp] = dst
		return nil, ErrNotHosted
	}
	if m := d.moves[tp]; m != nil {
		if m.dst == dst {
			return nil, nil
		}
		d.abortLocked(m)
	}
	if srcDir == dst {
		return nil, nil
	}
	src, ok := srcDir.Log(tp)
	if !ok {
		return nil, ErrNotHosted
	}
	name := moveDirName(tp, FutureDirSuffix)
	path := filepath.Join(dst.opts.Path, name)
	future, err := Open(Options{FS: dst.opts.FS, Dir: path, Config: src.Config(), Logger: dst.opts.Logger,
		Clock: dst.opts.Clock, CleanShutdown: true})
	if err != nil {
		return nil, fmt.Errorf("create the future log %s: %w", path, err)
	}
	m := &Move{d: d, tp: tp, src: src, srcDir: srcDir, dst: dst, future: future, path: path}
	dst.mu.Lock()
	dst.futures[tp] = future
	dst.mu.Unlock()
	if d.moves == nil {
		d.moves = map[checkpoint.TopicPartition]*Move{}
	}
	d.moves[tp] = m
	dst.log.Info().Str("partition", tp.String()).Str("from", srcDir.Path()).Str("future", path).Msg("moving a partition's log to this log dir")
	return m, nil
}

// Moving returns the move of a partition in progress, if any.
func (d *Dirs) Moving(tp checkpoint.TopicPartition) (*Move, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m, ok := d.moves[tp]
	return m, ok
}

// Abort cancels the move: the future log is closed and deleted.
func (m *Move) Abort() {
	m.d.mu.Lock()
	defer m.d.mu.Unlock()
	m.d.abortLocked(m)
}

// abortLocked cancels a move; callers hold d.mu.
func (d *Dirs) abortLocked(m *Move) {
	if m.aborted || m.finished {
		return
	}
	m.aborted = true
	if d.moves[m.tp] == m {
		delete(d.moves, m.tp)
	}
	m.dst.mu.Lock()
	if m.dst.futures[m.tp] == m.future {
		delete(m.dst.futures, m.tp)
	}
	m.dst.mu.Unlock()
	_ = m.future.Close()
	if err := removeFlatDir(m.dst.opts.FS, m.path); err != nil {
		m.dst.log.Warn().Err(err).Str("dir", m.path).Msg("removing an aborted future log failed; it is removed at the next start")
	} else {
		_ = m.dst.opts.FS.SyncDir(m.dst.opts.Path)
	}
	m.dst.log.Info().Str("partition", m.tp.String()).Msg("log dir move aborted")
}

// moveState is what a copy needs to know of the current log.
func (l *Log) moveState() (start, end int64, truncations uint64, closed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logStartOffset, l.logEndOffset(), l.truncations, l.closed
}

// Copy copies up to about maxBytes of batches from the current log to the
// future log. caughtUp reports that the copy reached the current log's end
// (Finish copies whatever was appended since under the log's lock).
// ErrMoveAborted (or ErrClosed) means the move is over.
func (m *Move) Copy(maxBytes int) (caughtUp bool, err error) {
	start, end, gen, closed := m.src.moveState()
	if closed {
		return false, ErrMoveAborted
	}
	if !m.started || gen != m.gen || m.next > end {
		if err := m.restart(start, gen); err != nil {
			return false, err
		}
	}
	if m.next >= end {
		return true, nil
	}
	// Records below a log start offset moved by retention or DeleteRecords
	// are skipped (the future log takes the start offset at the swap).
	data, res, err := m.src.ReadBytes(max(m.next, start), maxBytes, math.MaxInt64)
	if errors.Is(err, ErrOffsetOutOfRange) {
		return false, nil // the start moved again: read from it next time
	}
	if err != nil || len(data) == 0 {
		return false, err
	}
	if _, err := m.future.Append(data, AppendOptions{}); err != nil {
		return false, fmt.Errorf("copy to the future log %s: %w", m.path, err)
	}
	m.next = res.NextOffset
	return m.next >= res.LogEndOffset, nil
}

// restart empties the future log to begin at the batch holding the
// current log's start offset.
func (m *Move) restart(start int64, gen uint64) error {
	base := start
	if _, res, err := m.src.ReadBytes(start, 1, math.MaxInt64); err == nil && res.Length > 0 {
		base = res.FirstOffset
	}
	if err := m.future.TruncateFullyAndStartAt(base); err != nil {
		return fmt.Errorf("reset the future log %s: %w", m.path, err)
	}
	m.next, m.gen, m.started = base, gen, true
	return nil
}

// Finish copies the last batches under the current log's lock and swaps
// the future log in (the steps at the top of this file). It returns the
// partition's new log. The caller holds whatever keeps appends that do
// not go through the log's own lock out (the broker: the partition's
// lock), so that its reference can be switched with the swap.
func (m *Move) Finish() (*Log, error) {
	d := m.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if m.aborted {
		return nil, ErrMoveAborted
	}
	src, future := m.src, m.future
	src.mu.Lock()
	err := m.swapLocked()
	src.mu.Unlock()
	if errors.Is(err, ErrNotCaughtUp) {
		return nil, err
	}
	if err != nil {
		d.abortLocked(m)
		return nil, err
	}
	m.finished = true
	delete(d.moves, m.tp)
	m.dst.mu.Lock()
	delete(m.dst.futures, m.tp)
	m.dst.logs[m.tp] = future
	m.dst.mu.Unlock()
	m.srcDir.mu.Lock()
	if m.srcDir.logs[m.tp] == src {
		delete(m.srcDir.logs, m.tp)
	}
	m.srcDir.mu.Unlock()
	if err := m.srcDir.Checkpoint(); err != nil {
		m.srcDir.log.Warn().Err(err).Msg("rewriting the checkpoints after a log moved away failed")
	}
	m.dst.log.Info().Str("partition", m.tp.String()).Str("from", m.srcDir.Path()).Int64("log_end_offset", future.LogEndOffset()).
		Msg("log dir move completed")
	return future, nil
}

// swapLocked is Finish's part under src.mu: steps 1-4.
func (m *Move) swapLocked() error {
	src, future := m.src, m.future
	if src.closed {
		return ErrMoveAborted
	}
	if !m.started || src.truncations != m.gen || m.next > src.logEndOffset() {
		return ErrNotCaughtUp
	}
	for m.next < src.logEndOffset() {
		res, err := src.readLocked(max(m.next, src.logStartOffset), 1<<20, math.MaxInt64)
		if err != nil {
			return err
		}
		if res.Length == 0 {
			return ErrNotCaughtUp
		}
		data, err := src.copyLocked(res)
		if err != nil {
			return err
		}
		if _, err := future.Append(data, AppendOptions{}); err != nil {
			return fmt.Errorf("copy to the future log %s: %w", m.path, err)
		}
		m.next = res.NextOffset
	}
	// 1. The current log's state.
	snaps, err := src.producerSnapshots()
	if err != nil {
		return err
	}
	future.mu.Lock()
	err = m.takeStateLocked(snaps)
	future.mu.Unlock()
	if err != nil {
		return err
	}
	// 2. The target dir's checkpoints with the partition.
	dst := m.dst
	dst.cpMu.Lock()
	dst.mu.Lock()
	rp, lso, hw := dst.offsetsLocked()
	dst.mu.Unlock()
	rp[m.tp], lso[m.tp], hw[m.tp] = future.RecoveryPoint(), future.LogStartOffset(), future.HighWatermark()
	err = dst.writeCheckpoints(rp, lso, hw)
	dst.cpMu.Unlock()
	if err != nil {
		return err
	}
	// 3. The current log closed and set aside.
	if err := src.closeLocked(); err != nil {
		src.log.Warn().Err(err).Msg("closing the log moved away failed; the future log holds all of it")
	}
	fsys := m.srcDir.opts.FS
	del := filepath.Join(m.srcDir.opts.Path, moveDirName(m.tp, DeleteDirSuffix))
	if err := fsys.Rename(src.dir, del); err != nil {
		return fmt.Errorf("%w: rename %s to %s: %w (the partition is served again after a restart)", ErrIO, src.dir, del, err)
	}
	if err := fsys.SyncDir(m.srcDir.opts.Path); err != nil {
		return fmt.Errorf("%w: fsync %s: %w", ErrIO, m.srcDir.opts.Path, err)
	}
	// 4. The future log in place.
	to := filepath.Join(dst.opts.Path, m.tp.String())
	if err := dst.opts.FS.Rename(m.path, to); err != nil {
		return fmt.Errorf("%w: rename %s to %s: %w (the old log is restored at the next start)", ErrIO, m.path, to, err)
	}
	if err := dst.opts.FS.SyncDir(dst.opts.Path); err != nil {
		return fmt.Errorf("%w: fsync %s: %w", ErrIO, dst.opts.Path, err)
	}
	future.mu.Lock()
	future.setDirLocked(to)
	future.mu.Unlock()
	// 5 (in part). The old files go; the partition is whole without them.
	if err := removeFlatDir(fsys, del); err != nil {
		src.log.Warn().Err(err).Str("dir", del).Msg("removing the old directory of a moved log failed; it is removed at the next start")
	} else {
		_ = fsys.SyncDir(m.srcDir.opts.Path)
	}
	return nil
}

// takeStateLocked gives the future log the current log's start offset,
// high watermark, leader epochs, config and producer snapshots, and makes
// it durable. Callers hold src.mu and future.mu.
func (m *Move) takeStateLocked(snaps []int64) error {
	src, f := m.src, m.future
	if f.closed {
		return ErrMoveAborted
	}
	f.cfg = src.cfg
	f.logStartOffset = max(src.logStartOffset, f.segments[0].base)
	f.highWatermark = min(max(src.highWatermark, f.logStartOffset), f.logEndOffset())
	f.epochs = append([]checkpoint.EpochEntry(nil), src.epochs...)
	f.epochsDirty = true
	if err := f.saveEpochs(); err != nil {
		return err
	}
	for _, off := range snaps {
		name := segmentName(off) + SnapshotSuffix
		data, err := readFile(src.fs, src.join(name))
		if err != nil {
			return fmt.Errorf("%w: read producer snapshot %s: %w", ErrIO, src.join(name), err)
		}
		if err := checkpoint.WriteFile(f.fs, f.join(name), data); err != nil {
			return fmt.Errorf("%w: copy producer snapshot: %w", ErrIO, err)
		}
	}
	return f.flushLocked()
}

// setDirLocked points an open log at its directory's new name (after a
// rename; the open files are unaffected).
func (l *Log) setDirLocked(dir string) {
	l.dir = dir
	for _, s := range l.segments {
		s.dir = dir
	}
	l.log = l.log.With().Str("dir", dir).Logger()
}
