package checkpoint

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"mqstack/storage/vfs"
)

// File names Kafka uses in a log directory (and, for LeaderEpochFile, in
// each partition directory).
const (
	RecoveryPointFile    = "recovery-point-offset-checkpoint"
	ReplicationFile      = "replication-offset-checkpoint"
	LogStartOffsetFile   = "log-start-offset-checkpoint"
	LeaderEpochFile      = "leader-epoch-checkpoint"
	MetaPropertiesFile   = "meta.properties"
	currentVersion       = 0
	tmpSuffix            = ".tmp"
	maxCheckpointEntries = 1 << 24
)

// Sentinel errors.
var (
	ErrMalformed = errors.New("checkpoint: malformed file")
	ErrWrite     = errors.New("checkpoint: write failed")
)

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

// EpochEntry is one line of a leader-epoch-checkpoint: the first offset
// written in a leader epoch.
type EpochEntry struct {
	Epoch       int32
	StartOffset int64
}

// Meta is meta.properties in ZooKeeper mode.
type Meta struct {
	Version   int
	BrokerID  int32
	ClusterID string // empty when not yet known
}

// WriteFile replaces path with data atomically: path.tmp is written and
// fsynced, renamed over path, and the directory is fsynced.
func WriteFile(fsys vfs.FS, path string, data []byte) error {
	tmp := path + tmpSuffix
	f, err := fsys.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("%w: create %s: %w (check the log directory exists and is writable)", ErrWrite, tmp, err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("%w: write %s: %w", ErrWrite, tmp, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("%w: fsync %s: %w", ErrWrite, tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%w: close %s: %w", ErrWrite, tmp, err)
	}
	if err := fsys.Rename(tmp, path); err != nil {
		return fmt.Errorf("%w: rename %s to %s: %w", ErrWrite, tmp, path, err)
	}
	if err := fsys.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("%w: fsync directory of %s: %w", ErrWrite, path, err)
	}
	return nil
}

// readFile returns the file's bytes, or nil if it does not exist.
func readFile(fsys vfs.FS, path string) ([]byte, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: open %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: read %s: %w", path, err)
	}
	return b, nil
}

// lines splits a checkpoint into its entry lines after checking the version
// and count lines. Blank trailing content is not allowed except a final
// newline.
func entryLines(name string, data []byte) ([]string, error) {
	if len(data) == 0 {
		return nil, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var all []string
	for sc.Scan() {
		all = append(all, strings.TrimSuffix(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, name, err)
	}
	if len(all) < 2 {
		return nil, fmt.Errorf("%w: %s:%d: expected a version line and a count line", ErrMalformed, name, len(all)+1)
	}
	v, err := strconv.Atoi(strings.TrimSpace(all[0]))
	if err != nil || v != currentVersion {
		return nil, fmt.Errorf("%w: %s:1: version %q, expected %d", ErrMalformed, name, all[0], currentVersion)
	}
	n, err := strconv.Atoi(strings.TrimSpace(all[1]))
	if err != nil || n < 0 || n > maxCheckpointEntries {
		return nil, fmt.Errorf("%w: %s:2: entry count %q is not a count", ErrMalformed, name, all[1])
	}
	entries := all[2:]
	if len(entries) != n {
		return nil, fmt.Errorf("%w: %s:%d: count line says %d entries, found %d", ErrMalformed, name, len(all)+1, n, len(entries))
	}
	return entries, nil
}

// ParseOffsets parses an offset checkpoint's content; name is used in
// errors.
func ParseOffsets(name string, data []byte) (map[TopicPartition]int64, error) {
	lines, err := entryLines(name, data)
	if err != nil {
		return nil, err
	}
	out := make(map[TopicPartition]int64, len(lines))
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) != 3 {
			return nil, fmt.Errorf("%w: %s:%d: expected \"topic partition offset\", got %q", ErrMalformed, name, i+3, l)
		}
		p, err1 := strconv.ParseInt(f[1], 10, 32)
		off, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || p < 0 {
			return nil, fmt.Errorf("%w: %s:%d: bad partition or offset in %q", ErrMalformed, name, i+3, l)
		}
		tp := TopicPartition{Topic: f[0], Partition: int32(p)}
		if _, dup := out[tp]; dup {
			return nil, fmt.Errorf("%w: %s:%d: %s listed twice", ErrMalformed, name, i+3, tp)
		}
		out[tp] = off
	}
	return out, nil
}

// FormatOffsets renders an offset checkpoint, entries sorted by topic and
// partition.
func FormatOffsets(offsets map[TopicPartition]int64) ([]byte, error) {
	tps := make([]TopicPartition, 0, len(offsets))
	for tp := range offsets {
		if tp.Topic == "" || strings.ContainsAny(tp.Topic, " \t\r\n") || tp.Partition < 0 {
			return nil, fmt.Errorf("%w: invalid partition %q", ErrWrite, tp.String())
		}
		tps = append(tps, tp)
	}
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return tps[i].Topic < tps[j].Topic
		}
		return tps[i].Partition < tps[j].Partition
	})
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d\n%d\n", currentVersion, len(tps))
	for _, tp := range tps {
		fmt.Fprintf(&b, "%s %d %d\n", tp.Topic, tp.Partition, offsets[tp])
	}
	return b.Bytes(), nil
}

// ReadOffsets reads an offset checkpoint; a missing file is empty.
func ReadOffsets(fsys vfs.FS, path string) (map[TopicPartition]int64, error) {
	data, err := readFile(fsys, path)
	if err != nil {
		return nil, err
	}
	return ParseOffsets(path, data)
}

// WriteOffsets writes an offset checkpoint atomically.
func WriteOffsets(fsys vfs.FS, path string, offsets map[TopicPartition]int64) error {
	data, err := FormatOffsets(offsets)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return WriteFile(fsys, path, data)
}

// ParseLeaderEpochs parses a leader-epoch-checkpoint's content. Epochs
// and start offsets must be increasing.
func ParseLeaderEpochs(name string, data []byte) ([]EpochEntry, error) {
	lines, err := entryLines(name, data)
	if err != nil {
		return nil, err
	}
	out := make([]EpochEntry, 0, len(lines))
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) != 2 {
			return nil, fmt.Errorf("%w: %s:%d: expected \"epoch startOffset\", got %q", ErrMalformed, name, i+3, l)
		}
		e, err1 := strconv.ParseInt(f[0], 10, 32)
		off, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil || e < 0 || off < 0 {
			return nil, fmt.Errorf("%w: %s:%d: bad epoch or offset in %q", ErrMalformed, name, i+3, l)
		}
		if n := len(out); n > 0 && (int32(e) <= out[n-1].Epoch || off < out[n-1].StartOffset) {
			return nil, fmt.Errorf("%w: %s:%d: epoch %d at %d does not follow epoch %d at %d", ErrMalformed, name, i+3, e, off, out[n-1].Epoch, out[n-1].StartOffset)
		}
		out = append(out, EpochEntry{Epoch: int32(e), StartOffset: off})
	}
	return out, nil
}

// FormatLeaderEpochs renders a leader-epoch-checkpoint.
func FormatLeaderEpochs(entries []EpochEntry) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d\n%d\n", currentVersion, len(entries))
	for _, e := range entries {
		fmt.Fprintf(&b, "%d %d\n", e.Epoch, e.StartOffset)
	}
	return b.Bytes()
}

// ReadLeaderEpochs reads a leader-epoch-checkpoint; a missing file is empty.
func ReadLeaderEpochs(fsys vfs.FS, path string) ([]EpochEntry, error) {
	data, err := readFile(fsys, path)
	if err != nil {
		return nil, err
	}
	return ParseLeaderEpochs(path, data)
}

// WriteLeaderEpochs writes a leader-epoch-checkpoint atomically.
func WriteLeaderEpochs(fsys vfs.FS, path string, entries []EpochEntry) error {
	return WriteFile(fsys, path, FormatLeaderEpochs(entries))
}

// ParseMeta parses meta.properties. A missing broker.id is an error;
// cluster.id may be absent (a broker that has not met its cluster yet).
func ParseMeta(name string, data []byte) (Meta, error) {
	props := map[string]string{}
	keyLine := map[string]int{}
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(strings.TrimSuffix(l, "\r"))
		if l == "" || l[0] == '#' || l[0] == '!' {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return Meta{}, fmt.Errorf("%w: %s:%d: expected key=value, got %q", ErrMalformed, name, i+1, l)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		props[k] = v
		keyLine[k] = i + 1
	}
	var m Meta
	v, ok := props["version"]
	if !ok {
		return m, fmt.Errorf("%w: %s: no version key (expected version=0)", ErrMalformed, name)
	}
	ver, err := strconv.Atoi(v)
	if err != nil || ver != 0 {
		return m, fmt.Errorf("%w: %s:%d: version=%s, only version=0 (ZooKeeper mode) is supported", ErrMalformed, name, keyLine["version"], v)
	}
	id, ok := props["broker.id"]
	if !ok {
		return m, fmt.Errorf("%w: %s: no broker.id key", ErrMalformed, name)
	}
	bid, err := strconv.ParseInt(id, 10, 32)
	if err != nil || bid < 0 {
		return m, fmt.Errorf("%w: %s:%d: broker.id=%s is not a non-negative integer", ErrMalformed, name, keyLine["broker.id"], id)
	}
	m.Version, m.BrokerID, m.ClusterID = ver, int32(bid), props["cluster.id"]
	return m, nil
}

// FormatMeta renders meta.properties; stamp is the comment line Java's
// Properties.store writes (a date), without the '#'.
func FormatMeta(m Meta, stamp string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "#\n#%s\n", stamp)
	if m.ClusterID != "" {
		fmt.Fprintf(&b, "cluster.id=%s\n", m.ClusterID)
	}
	fmt.Fprintf(&b, "version=%d\nbroker.id=%d\n", m.Version, m.BrokerID)
	return b.Bytes()
}

// ReadMeta reads <logDir>/meta.properties. A missing file returns
// ok=false and no error.
func ReadMeta(fsys vfs.FS, logDir string) (m Meta, ok bool, err error) {
	path := filepath.Join(logDir, MetaPropertiesFile)
	data, err := readFile(fsys, path)
	if err != nil || data == nil {
		return Meta{}, false, err
	}
	m, err = ParseMeta(path, data)
	return m, err == nil, err
}

// WriteMeta writes <logDir>/meta.properties atomically.
func WriteMeta(fsys vfs.FS, logDir string, m Meta, stamp string) error {
	return WriteFile(fsys, filepath.Join(logDir, MetaPropertiesFile), FormatMeta(m, stamp))
}
