package snapshot

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/adler32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/rs/zerolog"

	"mqstack/proto/jute"
	"mqstack/storage/vfs"
)

// Format constants (FileSnap.java).
const (
	// Magic is "ZKSN" read as a big-endian int32.
	Magic int32 = 'Z'<<24 | 'K'<<16 | 'S'<<8 | 'N'
	// Version is written in the header (readers check only the magic, as Apache does).
	Version int32 = 2
	// Prefix starts every snapshot file name: snapshot.<zxid in lowercase hex>.
	Prefix = "snapshot."
	// tmpSuffix names a snapshot being written (Apache's AtomicFileOutputStream uses the same).
	tmpSuffix = ".tmp"
	// endPath ends the node list and the seals.
	endPath = "/"
	// maxTried is how many of the newest snapshots ReadNewest tries (Apache: 100).
	maxTried = 100
	// minRetain is the fewest snapshots Purge keeps (PurgeTxnLog).
	minRetain = 3
)

// Sentinel errors.
var (
	ErrCorrupt    = errors.New("snapshot: corrupt snapshot")
	ErrCompressed = errors.New("snapshot: compressed snapshots are not supported")
	ErrInvalid    = errors.New("snapshot: invalid snapshot contents")
)

// Session is one live session: its id and negotiated timeout in ms.
type Session struct {
	ID      int64
	Timeout int32
}

// ACLEntry is one entry of the ACL cache: nodes refer to an ACL list by Ref.
type ACLEntry struct {
	Ref int64
	ACL []jute.ACL
}

// Snapshot is what Write serializes.
type Snapshot struct {
	Sessions []Session
	ACLs     []ACLEntry
	// Nodes yields every znode in pre-order (root first with path "",
	// parents before children).
	Nodes func(yield func(path string, n *jute.DataNode) error) error
}

// Visitor receives a snapshot's contents from ReadNewest, in file order:
// sessions, then ACL entries, then nodes in pre-order.
type Visitor interface {
	Session(id int64, timeout int32)
	ACL(ref int64, acl []jute.ACL)
	Node(path string, n *jute.DataNode) error // path "" is the root
}

// ZxidDigest is the optional record Apache 3.6+ appends after the first seal.
type ZxidDigest struct {
	Zxid          int64
	DigestVersion int32
	Digest        int64
}

// Info describes a decoded snapshot.
type Info struct {
	DBID     int64
	Sessions int
	ACLs     int
	Nodes    int
	Digest   *ZxidDigest // nil when the file has none
}

// FileName returns the snapshot file name for zxid.
func FileName(zxid int64) string { return Prefix + strconv.FormatUint(uint64(zxid), 16) }

// zxidFromName parses names the way Apache's Util.getZxidFromName does:
// the second dot-separated part, in hex, of a name whose first part is
// prefix ("snapshot" or "log"). ext is what follows ("" for none).
func zxidFromName(name, prefix string) (zxid int64, ext string, ok bool) {
	parts := strings.SplitN(name, ".", 3)
	if len(parts) < 2 || parts[0] != prefix || parts[1] == "" || len(parts[1]) > 16 {
		return 0, "", false
	}
	v, err := strconv.ParseUint(parts[1], 16, 64)
	if err != nil {
		return 0, "", false
	}
	if len(parts) == 3 {
		ext = parts[2]
	}
	return int64(v), ext, true
}

// Write writes <dir>/snapshot.<hex zxid> atomically: it writes
// snapshot.<hex>.tmp, fsyncs it, renames it and fsyncs dir. dir is created
// if missing. It writes no ZxidDigest (Apache reads such files). ACL lists
// that are nil are written as empty vectors (Apache rejects null ones).
func Write(fsys vfs.FS, dir string, zxid int64, s *Snapshot) (string, error) {
	if s == nil || s.Nodes == nil {
		return "", fmt.Errorf("%w: no node iterator", ErrInvalid)
	}
	if err := vfs.MkdirAllDurable(fsys, dir, 0o755); err != nil {
		return "", fmt.Errorf("snapshot: create snapshot directory %s: %w (check dataDir and its permissions)", dir, err)
	}
	final := filepath.Join(dir, FileName(zxid))
	tmp := final + tmpSuffix
	f, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return "", fmt.Errorf("snapshot: create %s: %w (check that %s is writable and the disk not full)", tmp, err, dir)
	}
	fail := func(op string, err error) (string, error) {
		f.Close()
		fsys.Remove(tmp)
		return "", fmt.Errorf("snapshot: %s %s: %w", op, tmp, err)
	}
	w := &checkedWriter{w: bufio.NewWriterSize(f, 256<<10), sum: adler32.New()}
	if err := encode(w, s); err != nil {
		return fail("write", err)
	}
	if err := w.w.Flush(); err != nil {
		return fail("write", err)
	}
	if err := f.Sync(); err != nil {
		return fail("fsync", err)
	}
	if err := f.Close(); err != nil {
		fsys.Remove(tmp)
		return "", fmt.Errorf("snapshot: close %s: %w", tmp, err)
	}
	if err := fsys.Rename(tmp, final); err != nil {
		fsys.Remove(tmp)
		return "", fmt.Errorf("snapshot: rename %s to %s: %w", tmp, final, err)
	}
	if err := fsys.SyncDir(dir); err != nil {
		return "", fmt.Errorf("snapshot: fsync directory %s after writing %s: %w", dir, final, err)
	}
	return final, nil
}

// checkedWriter is Java's CheckedOutputStream: it writes through and keeps
// a running Adler32 of everything written.
type checkedWriter struct {
	w   *bufio.Writer
	sum hash.Hash32
	enc jute.Encoder
}

func (c *checkedWriter) flushEnc() error {
	c.sum.Write(c.enc.Buf)
	_, err := c.w.Write(c.enc.Buf)
	c.enc.Buf = c.enc.Buf[:0]
	return err
}

func encode(w *checkedWriter, s *Snapshot) error {
	e := &w.enc
	h := jute.FileHeader{Magic: Magic, Version: Version, DBID: 0}
	h.Encode(e)
	e.Int(int32(len(s.Sessions)))
	for _, sess := range s.Sessions {
		e.Long(sess.ID)
		e.Int(sess.Timeout)
		if len(e.Buf) > 64<<10 {
			if err := w.flushEnc(); err != nil {
				return err
			}
		}
	}
	e.Int(int32(len(s.ACLs)))
	for _, a := range s.ACLs {
		e.Long(a.Ref)
		acl := a.ACL
		if acl == nil {
			acl = []jute.ACL{}
		}
		jute.EncodeACLs(e, acl)
		if len(e.Buf) > 64<<10 {
			if err := w.flushEnc(); err != nil {
				return err
			}
		}
	}
	first := true
	err := s.Nodes(func(path string, n *jute.DataNode) error {
		if first && path != "" {
			return fmt.Errorf("%w: the first node must be the root (path \"\"), got %q", ErrInvalid, path)
		}
		if !first && (path == "" || path == endPath || !strings.HasPrefix(path, "/")) {
			return fmt.Errorf("%w: node path %q (want \"/name...\"; the root comes first as \"\")", ErrInvalid, path)
		}
		if n == nil {
			return fmt.Errorf("%w: nil node at %q", ErrInvalid, path)
		}
		first = false
		e.String(path)
		n.Encode(e)
		if len(e.Buf) > 64<<10 {
			return w.flushEnc()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if first {
		return fmt.Errorf("%w: no root node", ErrInvalid)
	}
	e.String(endPath)
	if err := w.flushEnc(); err != nil {
		return err
	}
	// Seal: the running checksum, then "/" (SnapStream.sealStream).
	e.Long(int64(w.sum.Sum32()))
	e.String(endPath)
	return w.flushEnc()
}

// Decode parses the bytes of a whole snapshot file, checking its structure
// and checksums, and calls v (which may be nil) for its contents. A
// checksum or format problem is ErrCorrupt; v's error is returned as is.
// Nodes are passed to v as they are decoded, so check a file with a nil
// visitor first when v must not see a bad file (ReadNewest does).
func Decode(data []byte, v Visitor) (Info, error) {
	var info Info
	d := jute.NewDecoder(data)
	d.Max = len(data) + 1
	corrupt := func(what string, args ...any) (Info, error) {
		return info, fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(what, args...))
	}
	var h jute.FileHeader
	h.Decode(d)
	if d.Err() != nil {
		return corrupt("file header: %v", d.Err())
	}
	if h.Magic != Magic {
		return corrupt("bad magic %#08x (want %#08x \"ZKSN\"): not a ZooKeeper snapshot", uint32(h.Magic), uint32(Magic))
	}
	info.DBID = h.DBID
	count := d.Int()
	if d.Err() != nil || count < 0 || int64(count)*12 > int64(d.Remaining()) {
		return corrupt("session count %d at offset %d", count, d.Offset()-4)
	}
	info.Sessions = int(count)
	for i := int32(0); i < count; i++ {
		id, timeout := d.Long(), d.Int()
		if v != nil {
			v.Session(id, timeout)
		}
	}
	count = d.Int()
	if d.Err() != nil || count < 0 || int64(count)*12 > int64(d.Remaining()) {
		return corrupt("ACL cache size %d at offset %d", count, d.Offset()-4)
	}
	info.ACLs = int(count)
	for i := int32(0); i < count && d.Err() == nil; i++ {
		ref := d.Long()
		off := d.Offset()
		n, ok := d.VectorLen(12)
		if !ok {
			if d.Err() != nil {
				return corrupt("ACL list of ref %d at offset %d: %v", ref, off, d.Err())
			}
			return corrupt("null ACL list of ref %d at offset %d", ref, off)
		}
		acl := make([]jute.ACL, n)
		for j := range acl {
			acl[j].Decode(d)
		}
		if d.Err() != nil {
			return corrupt("ACL list of ref %d: %v", ref, d.Err())
		}
		if v != nil {
			v.ACL(ref, acl)
		}
	}
	seen := map[string]bool{}
	for {
		off := d.Offset()
		path := d.String()
		if d.Err() != nil {
			return corrupt("node path at offset %d: %v", off, d.Err())
		}
		if path == endPath {
			break
		}
		var n jute.DataNode
		n.Decode(d)
		if d.Err() != nil {
			return corrupt("node %q at offset %d: %v", path, off, d.Err())
		}
		if len(seen) == 0 {
			if path != "" {
				return corrupt("first node is %q at offset %d, want the root \"\"", path, off)
			}
		} else {
			i := strings.LastIndexByte(path, '/')
			if i < 0 || strings.HasSuffix(path, "/") || !seen[path[:i]] {
				return corrupt("node %q at offset %d has no parent before it", path, off)
			}
			if seen[path] {
				return corrupt("node %q at offset %d appears twice", path, off)
			}
		}
		seen[path] = true
		info.Nodes++
		if v != nil {
			if err := v.Node(path, &n); err != nil {
				return info, err
			}
		}
	}
	if err := checkSeal(d, data); err != nil {
		return info, err
	}
	if d.Remaining() == 0 {
		return info, nil
	}
	// Apache 3.6+: ZxidDigest, then a second seal over everything before it.
	off := d.Offset()
	zd := &ZxidDigest{Zxid: d.Long(), DigestVersion: d.Int()}
	if zd.DigestVersion < 2 {
		s := d.String()
		if d.Err() == nil && s != "" {
			x, err := strconv.ParseInt(s, 16, 64)
			if err != nil {
				return corrupt("digest %q at offset %d is not hex", s, off)
			}
			zd.Digest = x
		}
	} else {
		zd.Digest = d.Long()
	}
	if d.Err() != nil {
		return corrupt("zxid digest at offset %d: %v", off, d.Err())
	}
	if err := checkSeal(d, data); err != nil {
		return info, err
	}
	info.Digest = zd
	// Bytes after the second seal (later Apache versions) are ignored.
	return info, nil
}

// checkSeal reads a seal (checksum, "/") and compares the checksum with the
// Adler32 of every byte before it.
func checkSeal(d *jute.Decoder, data []byte) error {
	off := d.Offset()
	want := adler32.Checksum(data[:off])
	got := d.Long()
	slash := d.String()
	if d.Err() != nil {
		return fmt.Errorf("%w: checksum seal at offset %d: %v", ErrCorrupt, off, d.Err())
	}
	if uint64(got) != uint64(want) {
		return fmt.Errorf("%w: checksum at offset %d is %#x, computed %#x", ErrCorrupt, off, uint64(got), want)
	}
	if slash != endPath {
		return fmt.Errorf("%w: seal at offset %d ends with %q, want \"/\"", ErrCorrupt, off, slash)
	}
	return nil
}

// sealedTail is Apache's SnapStream.isValidCheckedStream: a complete file
// ends with the string "/" (int 1, then '/').
func sealedTail(data []byte) bool {
	if len(data) < 10 {
		return false
	}
	t := data[len(data)-5:]
	return binary.BigEndian.Uint32(t) == 1 && t[4] == '/'
}

// hasSealedTail reads only the last bytes of a file for sealedTail.
func hasSealedTail(fsys vfs.FS, path string) (bool, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	if st.Size() < 10 {
		return false, nil
	}
	tail := make([]byte, 10)
	if _, err := f.ReadAt(tail, st.Size()-10); err != nil && err != io.EOF {
		return false, err
	}
	return sealedTail(tail), nil
}

type snapFile struct {
	name string
	zxid int64
	ext  string
}

// listSnapshots returns the snapshot files in dir, newest first, leaving
// out files being written (.tmp).
func listSnapshots(fsys vfs.FS, dir string) ([]snapFile, error) {
	names, err := fsys.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("snapshot: list %s: %w", dir, err)
	}
	var out []snapFile
	for _, n := range names {
		z, ext, ok := zxidFromName(n, "snapshot")
		if !ok || ext == "tmp" || strings.HasSuffix(ext, tmpSuffix) {
			continue
		}
		out = append(out, snapFile{name: n, zxid: z, ext: ext})
	}
	sort.SliceStable(out, func(i, j int) bool { return uint64(out[i].zxid) > uint64(out[j].zxid) })
	return out, nil
}

func readFile(fsys vfs.FS, path string) ([]byte, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	data := make([]byte, st.Size())
	n, err := f.ReadAt(data, 0)
	if err != nil && !(err == io.EOF && int64(n) == st.Size()) {
		return nil, err
	}
	return data[:n], nil
}

// ReadNewest loads the newest valid snapshot in dir into v and returns its
// zxid. Each candidate is checked completely (structure and checksums)
// before v sees any of it; a file that fails is logged and the next older
// one is tried (up to 100, as Apache does). found is false when dir holds
// no complete snapshot. It is an error (ErrCorrupt) when complete-looking
// snapshots exist but none is valid, and (ErrCompressed) when the newest
// snapshot is compressed.
func ReadNewest(fsys vfs.FS, dir string, logger zerolog.Logger, v Visitor) (zxid int64, found bool, err error) {
	logger = logger.With().Str("component", "snapshot").Str("dir", dir).Logger()
	files, err := listSnapshots(fsys, dir)
	if err != nil {
		return 0, false, err
	}
	var failed []string
	for i, sf := range files {
		if i == maxTried {
			break
		}
		path := filepath.Join(dir, sf.name)
		if sf.ext != "" {
			if sf.ext == "gz" || sf.ext == "snappy" {
				return 0, false, fmt.Errorf("%w: %s (written by Apache ZooKeeper with snapshot.compression.method=%s); "+
					"restart Apache with snapshot.compression.method=none until it writes a newer uncompressed snapshot, then move the data directory",
					ErrCompressed, path, sf.ext)
			}
			logger.Info().Str("file", path).Msg("ignoring file with an unknown snapshot name suffix")
			continue
		}
		data, err := readFile(fsys, path)
		if err != nil {
			return 0, false, fmt.Errorf("snapshot: read %s: %w", path, err)
		}
		if !sealedTail(data) {
			logger.Info().Str("file", path).Int("size", len(data)).Msg("skipping incomplete snapshot (it does not end with the \"/\" seal)")
			continue
		}
		if _, err := Decode(data, nil); err != nil {
			logger.Warn().Str("file", path).Err(err).Msg("snapshot is invalid; trying an older one")
			failed = append(failed, fmt.Sprintf("%s (%v)", path, err))
			continue
		}
		info, err := Decode(data, v)
		if err != nil {
			return 0, false, fmt.Errorf("snapshot: load %s: %w", path, err)
		}
		logger.Info().Str("file", path).Int("nodes", info.Nodes).Int("sessions", info.Sessions).
			Str("zxid", fmt.Sprintf("%#x", sf.zxid)).Msg("loaded snapshot")
		return sf.zxid, true, nil
	}
	if len(failed) > 0 {
		return 0, false, fmt.Errorf("%w: no valid snapshot in %s; tried %s. Restore the data directory from a healthy server",
			ErrCorrupt, dir, strings.Join(failed, "; "))
	}
	return 0, false, nil
}

// Purge keeps the newest retain snapshots (at least 3) in snapDir and
// deletes older snapshots, and the log files in logDir that only hold
// transactions older than the oldest kept snapshot, by Apache's
// PurgeTxnLog rules: with X the oldest kept snapshot's zxid, delete
// snapshot.Y and log.Y for Y < X, except the newest log file starting at or
// before X (it may hold transactions after X). Snapshots count when they
// end with the seal, as in Apache; compressed ones count by name.
func Purge(fsys vfs.FS, snapDir, logDir string, retain int) error {
	if retain < minRetain {
		retain = minRetain
	}
	files, err := listSnapshots(fsys, snapDir)
	if err != nil {
		return err
	}
	var kept []snapFile
	for _, sf := range files {
		if len(kept) == retain {
			break
		}
		if sf.ext == "" {
			ok, err := hasSealedTail(fsys, filepath.Join(snapDir, sf.name))
			if err != nil {
				return fmt.Errorf("snapshot: purge: read %s: %w", filepath.Join(snapDir, sf.name), err)
			}
			if !ok {
				continue
			}
		}
		kept = append(kept, sf)
	}
	if len(kept) == 0 {
		return nil
	}
	least := kept[len(kept)-1].zxid
	var errs []error
	remove := func(dir string, names []string) {
		removed := false
		for _, n := range names {
			if err := fsys.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("snapshot: purge: remove %s: %w", filepath.Join(dir, n), err))
				continue
			}
			removed = true
		}
		if removed {
			if err := fsys.SyncDir(dir); err != nil {
				errs = append(errs, fmt.Errorf("snapshot: purge: fsync %s: %w", dir, err))
			}
		}
	}
	// Log files.
	logNames, err := fsys.ReadDir(logDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("snapshot: purge: list %s: %w", logDir, err)
	}
	var logStart int64 // newest log file starting at or before least (FileTxnLog.getLogFiles)
	for _, n := range logNames {
		if z, _, ok := zxidFromName(n, "log"); ok && uint64(z) <= uint64(least) && uint64(z) > uint64(logStart) {
			logStart = z
		}
	}
	var delLogs []string
	for _, n := range logNames {
		if z, _, ok := zxidFromName(n, "log"); ok && uint64(z) < uint64(logStart) && uint64(z) < uint64(least) {
			delLogs = append(delLogs, n)
		}
	}
	snapNames, err := fsys.ReadDir(snapDir)
	if err != nil {
		return fmt.Errorf("snapshot: purge: list %s: %w", snapDir, err)
	}
	var delSnaps []string
	for _, n := range snapNames {
		if z, _, ok := zxidFromName(n, "snapshot"); ok && uint64(z) < uint64(least) {
			delSnaps = append(delSnaps, n)
		}
	}
	remove(logDir, delLogs)
	remove(snapDir, delSnaps)
	return errors.Join(errs...)
}
