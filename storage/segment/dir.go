package segment

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/rs/zerolog"

	"mqstack/storage/checkpoint"
	"mqstack/storage/vfs"
)

// CleanShutdownFile is the marker Kafka writes in a log dir after a clean
// shutdown; without it, logs are re-validated from their recovery points.
const CleanShutdownFile = ".kafka_cleanshutdown"

// DirOptions open a log directory (one entry of log.dirs).
type DirOptions struct {
	FS     vfs.FS
	Path   string
	Logger zerolog.Logger
	Clock  func() int64
	// Config returns a topic's log config; nil means DefaultConfig for all.
	Config func(topic string) Config
}

// LogDir is a log directory: its partition logs and its checkpoint files.
// Lock order: LogDir.mu before Log.mu.
type LogDir struct {
	cpMu sync.Mutex // serialises checkpoint file writes; taken before mu
	mu   sync.Mutex
	opts DirOptions
	log  zerolog.Logger
	logs map[checkpoint.TopicPartition]*Log
	// futures are the logs being moved here from another log dir (move.go);
	// not checkpointed, not found by Log.
	futures map[checkpoint.TopicPartition]*Log
}

// ParsePartitionDir splits "<topic>-<partition>" at the last '-'.
func ParsePartitionDir(name string) (checkpoint.TopicPartition, bool) {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 || i == len(name)-1 {
		return checkpoint.TopicPartition{}, false
	}
	p, err := strconv.ParseInt(name[i+1:], 10, 32)
	if err != nil || p < 0 || name[i+1] == '+' {
		return checkpoint.TopicPartition{}, false
	}
	return checkpoint.TopicPartition{Topic: name[:i], Partition: int32(p)}, true
}

// partitionDir is a partition's directory found in a log dir.
type partitionDir struct {
	tp   checkpoint.TopicPartition
	name string
}

// partitionDirs lists the partition directories ("<topic>-<partition>")
// in a log dir.
func partitionDirs(fsys vfs.FS, path string) ([]partitionDir, error) {
	names, err := fsys.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("%w: list %s: %w (check log.dirs)", ErrIO, path, err)
	}
	var out []partitionDir
	for _, n := range names {
		tp, ok := ParsePartitionDir(n)
		if !ok {
			continue
		}
		st, err := fsys.Stat(filepath.Join(path, n))
		if err != nil || !st.IsDir() {
			continue
		}
		out = append(out, partitionDir{tp: tp, name: n})
	}
	return out, nil
}

// OpenDir opens every partition log in the directory. Without the clean
// shutdown marker each log is re-validated from its checkpointed recovery
// point. The marker is removed once everything is loaded, so a crash from
// now on is seen as unclean.
func OpenDir(opts DirOptions) (*LogDir, error) {
	if opts.FS == nil || opts.Clock == nil {
		return nil, fmt.Errorf("%w: DirOptions.FS and DirOptions.Clock are required", ErrConfig)
	}
	if opts.Config == nil {
		opts.Config = func(string) Config { return DefaultConfig() }
	}
	d := &LogDir{opts: opts, logs: map[checkpoint.TopicPartition]*Log{}, futures: map[checkpoint.TopicPartition]*Log{},
		log: opts.Logger.With().Str("component", "logdir").Str("dir", opts.Path).Logger()}
	if err := vfs.MkdirAllDurable(opts.FS, opts.Path, 0o755); err != nil {
		return nil, fmt.Errorf("%w: create log dir %s: %w (check log.dirs)", ErrIO, opts.Path, err)
	}
	if st, err := opts.FS.Stat(opts.Path); err != nil {
		return nil, fmt.Errorf("%w: log dir %s: %w (check log.dirs)", ErrIO, opts.Path, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%w: log dir %s is not a directory (check log.dirs)", ErrIO, opts.Path)
	}
	marker := filepath.Join(opts.Path, CleanShutdownFile)
	_, err := opts.FS.Stat(marker)
	clean := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: stat %s: %w", ErrIO, marker, err)
	}
	recovery, err := checkpoint.ReadOffsets(opts.FS, filepath.Join(opts.Path, checkpoint.RecoveryPointFile))
	if err != nil {
		return nil, err
	}
	starts, err := checkpoint.ReadOffsets(opts.FS, filepath.Join(opts.Path, checkpoint.LogStartOffsetFile))
	if err != nil {
		return nil, err
	}
	highWatermarks, err := checkpoint.ReadOffsets(opts.FS, filepath.Join(opts.Path, checkpoint.ReplicationFile))
	if err != nil {
		return nil, err
	}
	parts, err := partitionDirs(opts.FS, opts.Path)
	if err != nil {
		return nil, err
	}
	if !clean {
		d.log.Warn().Msg("no clean shutdown marker: re-validating logs from their recovery points")
	}
	for _, pd := range parts {
		tp := pd.tp
		l, err := Open(Options{FS: opts.FS, Dir: filepath.Join(opts.Path, pd.name), Config: opts.Config(tp.Topic),
			Logger: opts.Logger, Clock: opts.Clock, RecoveryPoint: recovery[tp], LogStartOffset: starts[tp], CleanShutdown: clean})
		if err != nil {
			_ = d.closeLogs()
			return nil, fmt.Errorf("log dir %s: partition %s: %w", opts.Path, tp, err)
		}
		l.SetHighWatermark(highWatermarks[tp])
		d.logs[tp] = l
	}
	if clean {
		if err := opts.FS.Remove(marker); err != nil {
			_ = d.closeLogs()
			return nil, fmt.Errorf("%w: remove %s: %w", ErrIO, marker, err)
		}
		if err := opts.FS.SyncDir(opts.Path); err != nil {
			_ = d.closeLogs()
			return nil, fmt.Errorf("%w: fsync %s: %w", ErrIO, opts.Path, err)
		}
	}
	d.log.Info().Int("partitions", len(d.logs)).Bool("clean_shutdown", clean).Msg("log dir loaded")
	return d, nil
}

// Path is the directory's path as configured.
func (d *LogDir) Path() string { return d.opts.Path }

// Len is the number of partition logs held.
func (d *LogDir) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.logs)
}

// Log returns a partition's log.
func (d *LogDir) Log(tp checkpoint.TopicPartition) (*Log, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.logs[tp]
	return l, ok
}

// Futures lists the partitions being moved into this dir, sorted.
func (d *LogDir) Futures() []checkpoint.TopicPartition {
	d.mu.Lock()
	defer d.mu.Unlock()
	return sortedKeys(d.futures)
}

// Future returns the future log of a partition being moved here.
func (d *LogDir) Future(tp checkpoint.TopicPartition) (*Log, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.futures[tp]
	return l, ok
}

// Partitions lists the partitions held, sorted.
func (d *LogDir) Partitions() []checkpoint.TopicPartition {
	d.mu.Lock()
	defer d.mu.Unlock()
	return sortedKeys(d.logs)
}

// sortedKeys lists the partitions of a log map, sorted.
func sortedKeys(m map[checkpoint.TopicPartition]*Log) []checkpoint.TopicPartition {
	out := make([]checkpoint.TopicPartition, 0, len(m))
	for tp := range m {
		out = append(out, tp)
	}
	SortPartitions(out)
	return out
}

// CreateLog returns the partition's log, creating it if needed.
func (d *LogDir) CreateLog(tp checkpoint.TopicPartition) (*Log, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if l, ok := d.logs[tp]; ok {
		return l, nil
	}
	if tp.Topic == "" || strings.ContainsAny(tp.Topic, "/\\ ") || tp.Partition < 0 {
		return nil, fmt.Errorf("%w: invalid partition %q", ErrConfig, tp.String())
	}
	l, err := Open(Options{FS: d.opts.FS, Dir: filepath.Join(d.opts.Path, tp.String()), Config: d.opts.Config(tp.Topic),
		Logger: d.opts.Logger, Clock: d.opts.Clock, CleanShutdown: true})
	if err != nil {
		return nil, err
	}
	d.logs[tp] = l
	return l, nil
}

// DeleteLog closes a partition's log and removes its directory.
func (d *LogDir) DeleteLog(tp checkpoint.TopicPartition) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.logs[tp]
	if !ok {
		return nil
	}
	delete(d.logs, tp)
	_ = l.Close()
	if err := removeFlatDir(d.opts.FS, filepath.Join(d.opts.Path, tp.String())); err != nil {
		return err
	}
	return d.opts.FS.SyncDir(d.opts.Path)
}

// Checkpoint writes recovery-point-offset-checkpoint,
// log-start-offset-checkpoint and replication-offset-checkpoint (high
// watermarks) for every log.
//
// The offsets are read under the directory lock, the files written after
// it is released (the fsyncs can take long on a busy disk, and Log lookups
// must not wait for them); cpMu keeps writers in order.
func (d *LogDir) Checkpoint() error {
	d.cpMu.Lock()
	defer d.cpMu.Unlock()
	d.mu.Lock()
	rp, lso, hw := d.offsetsLocked()
	d.mu.Unlock()
	return d.writeCheckpoints(rp, lso, hw)
}

// checkpointLocked writes the checkpoints; callers hold cpMu and mu.
func (d *LogDir) checkpointLocked() error {
	return d.writeCheckpoints(d.offsetsLocked())
}

func (d *LogDir) offsetsLocked() (rp, lso, hw map[checkpoint.TopicPartition]int64) {
	rp = map[checkpoint.TopicPartition]int64{}
	lso = map[checkpoint.TopicPartition]int64{}
	hw = map[checkpoint.TopicPartition]int64{}
	for tp, l := range d.logs {
		rp[tp] = l.RecoveryPoint()
		lso[tp] = l.LogStartOffset()
		hw[tp] = l.HighWatermark()
	}
	return rp, lso, hw
}

func (d *LogDir) writeCheckpoints(rp, lso, hw map[checkpoint.TopicPartition]int64) error {
	if err := checkpoint.WriteOffsets(d.opts.FS, filepath.Join(d.opts.Path, checkpoint.RecoveryPointFile), rp); err != nil {
		return err
	}
	if err := checkpoint.WriteOffsets(d.opts.FS, filepath.Join(d.opts.Path, checkpoint.ReplicationFile), hw); err != nil {
		return err
	}
	return checkpoint.WriteOffsets(d.opts.FS, filepath.Join(d.opts.Path, checkpoint.LogStartOffsetFile), lso)
}

func (d *LogDir) closeLogs() error {
	var first error
	for _, l := range d.logs {
		if err := l.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Close flushes and closes every log, writes the checkpoints and, only if
// all of that worked, the clean shutdown marker.
func (d *LogDir) Close() error {
	d.cpMu.Lock()
	defer d.cpMu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.closeLogs(); err != nil {
		return err
	}
	if err := d.checkpointLocked(); err != nil {
		return err
	}
	marker := filepath.Join(d.opts.Path, CleanShutdownFile)
	f, err := d.opts.FS.OpenFile(marker, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("%w: create %s: %w", ErrIO, marker, err)
	}
	serr := f.Sync()
	cerr := f.Close()
	if serr != nil || cerr != nil {
		return fmt.Errorf("%w: write %s: %v %v", ErrIO, marker, serr, cerr)
	}
	if err := d.opts.FS.SyncDir(d.opts.Path); err != nil {
		return fmt.Errorf("%w: fsync %s: %w", ErrIO, d.opts.Path, err)
	}
	return nil
}
