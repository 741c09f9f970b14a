package segment

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"mqstack/storage/checkpoint"
)

// ErrDuplicateLog is the same partition found in two log dirs at startup.
var ErrDuplicateLog = errors.New("segment: duplicate log directories")

// Dirs is a broker's log directories (every log.dirs entry, JBOD). Each
// partition's log lives in exactly one of them and is found there at
// startup; each directory keeps its own checkpoint files and clean
// shutdown marker. A new partition goes to the directory holding the
// fewest partitions (Kafka's LogManager.nextLogDirs), ties in the
// configured order.
//
// Lock order: Dirs.mu before LogDir.cpMu and LogDir.mu. Log lookups take no
// Dirs lock.
type Dirs struct {
	mu   sync.Mutex // serialises CreateLog's placement with DeleteLog and moves
	dirs []*LogDir
	// moves in progress (move.go) and the dirs asked for partitions not yet
	// hosted (created there, as Kafka's preferred log dirs); guarded by mu.
	moves     map[checkpoint.TopicPartition]*Move
	preferred map[checkpoint.TopicPartition]*LogDir
}

// OpenDirs opens every log directory, in the configured order. Before any
// of them is opened (or created), all are scanned: a path given twice, or
// the same partition in two directories (Kafka: "Duplicate log
// directories for <tp> are found"), is refused, and nothing on disk
// changes. On any error the directories opened so far are closed.
// (A path listed twice is also caught through a symlink, for directories
// that exist, by os.SameFile.)
func OpenDirs(opts []DirOptions) (*Dirs, error) {
	if len(opts) == 0 {
		return nil, fmt.Errorf("%w: no log dirs (check log.dirs)", ErrConfig)
	}
	paths := map[string]string{} // cleaned absolute path -> as configured
	type existing struct {
		path string
		fi   os.FileInfo
	}
	var seen []existing // to catch one directory reached through a symlink
	found := map[checkpoint.TopicPartition]string{}
	for _, o := range opts {
		if o.FS == nil {
			return nil, fmt.Errorf("%w: DirOptions.FS is required", ErrConfig)
		}
		abs, err := filepath.Abs(o.Path)
		if err != nil {
			return nil, fmt.Errorf("%w: log dir %s: %w (check log.dirs)", ErrConfig, o.Path, err)
		}
		if prev, ok := paths[abs]; ok {
			return nil, fmt.Errorf("%w: log dir %s is listed twice (as %s and %s); remove one from log.dirs", ErrConfig, abs, prev, o.Path)
		}
		paths[abs] = o.Path
		fi, err := o.FS.Stat(o.Path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // created by OpenDir
		}
		if err == nil {
			for _, e := range seen {
				if os.SameFile(e.fi, fi) {
					return nil, fmt.Errorf("%w: log dirs %s and %s are the same directory; remove one from log.dirs", ErrConfig, e.path, o.Path)
				}
			}
			seen = append(seen, existing{o.Path, fi})
		}
		parts, err := partitionDirs(o.FS, o.Path)
		if err != nil {
			return nil, err
		}
		for _, pd := range parts {
			here := filepath.Join(o.Path, pd.name)
			if there, ok := found[pd.tp]; ok {
				return nil, fmt.Errorf("%w for %s are found in both %s and %s: a partition's log lives in one log dir; "+
					"keep the right copy and delete the other directory (not the whole log dir)", ErrDuplicateLog, pd.tp, there, here)
			}
			found[pd.tp] = here
		}
	}
	if err := cleanMoveLeftovers(opts, found); err != nil {
		return nil, err
	}
	d := &Dirs{}
	for _, o := range opts {
		ld, err := OpenDir(o)
		if err != nil {
			_ = d.Close()
			return nil, err
		}
		d.dirs = append(d.dirs, ld)
	}
	return d, nil
}

// Dirs lists the log directories in the configured order.
func (d *Dirs) Dirs() []*LogDir { return d.dirs }

// Dir returns the log directory holding a partition.
func (d *Dirs) Dir(tp checkpoint.TopicPartition) (*LogDir, bool) {
	for _, ld := range d.dirs {
		if _, ok := ld.Log(tp); ok {
			return ld, true
		}
	}
	return nil, false
}

// Log returns a partition's log, from whichever directory holds it.
func (d *Dirs) Log(tp checkpoint.TopicPartition) (*Log, bool) {
	for _, ld := range d.dirs {
		if l, ok := ld.Log(tp); ok {
			return l, true
		}
	}
	return nil, false
}

// Partitions lists the partitions held in all directories, sorted.
func (d *Dirs) Partitions() []checkpoint.TopicPartition {
	if len(d.dirs) == 1 {
		return d.dirs[0].Partitions()
	}
	var out []checkpoint.TopicPartition
	for _, ld := range d.dirs {
		out = append(out, ld.Partitions()...)
	}
	SortPartitions(out)
	return out
}

// CreateLog returns the partition's log, creating it if no directory
// holds it: in the directory an AlterReplicaLogDirs asked for (StartMove),
// else in the one with the fewest partitions.
func (d *Dirs) CreateLog(tp checkpoint.TopicPartition) (*Log, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if l, ok := d.Log(tp); ok {
		return l, nil
	}
	if ld, ok := d.preferred[tp]; ok {
		delete(d.preferred, tp)
		return ld.CreateLog(tp)
	}
	return d.next().CreateLog(tp)
}

// next is the directory a new partition goes to: the fewest partitions,
// the first configured among equals. Callers hold mu.
func (d *Dirs) next() *LogDir {
	best, n := d.dirs[0], d.dirs[0].Len()
	for _, ld := range d.dirs[1:] {
		if m := ld.Len(); m < n {
			best, n = ld, m
		}
	}
	return best
}

// DeleteLog closes a partition's log and removes its directory from the
// log dir holding it.
func (d *Dirs) DeleteLog(tp checkpoint.TopicPartition) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if m := d.moves[tp]; m != nil {
		d.abortLocked(m)
	}
	ld, ok := d.Dir(tp)
	if !ok {
		return nil
	}
	return ld.DeleteLog(tp)
}

// Checkpoint writes every directory's checkpoint files; all are tried,
// the errors joined.
func (d *Dirs) Checkpoint() error {
	var errs []error
	for _, ld := range d.dirs {
		if err := ld.Checkpoint(); err != nil {
			errs = append(errs, err) // names the file
		}
	}
	return errors.Join(errs...)
}

// Close closes every directory (each writes its checkpoints and, if that
// worked, its own clean shutdown marker); all are tried, the errors joined.
func (d *Dirs) Close() error {
	d.mu.Lock()
	for _, m := range d.moves {
		d.abortLocked(m)
	}
	d.mu.Unlock()
	var errs []error
	for _, ld := range d.dirs {
		if err := ld.Close(); err != nil {
			errs = append(errs, fmt.Errorf("log dir %s: %w", ld.Path(), err))
		}
	}
	return errors.Join(errs...)
}

// SortPartitions sorts by topic, then partition.
func SortPartitions(tps []checkpoint.TopicPartition) {
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return tps[i].Topic < tps[j].Topic
		}
		return tps[i].Partition < tps[j].Partition
	})
}
