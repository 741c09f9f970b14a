package txnlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/rs/zerolog"

	"mqstack/proto/jute"
	"mqstack/storage/vfs"
)

// Format constants (FileTxnLog.java).
const (
	// Magic is "ZKLG" read as a big-endian int32.
	Magic int32 = 'Z'<<24 | 'K'<<16 | 'L'<<8 | 'G'
	// Version is the only log format version.
	Version int32 = 2
	// HeaderSize is the size of the FileHeader that opens every log file.
	HeaderSize = 16
	// EOR is the byte that ends every entry.
	EOR byte = 'B'
	// Prefix starts every log file name: log.<zxid in lowercase hex>.
	Prefix = "log."
	// DefaultPreAllocSize is Apache's zookeeper.preAllocSize (64 MiB).
	DefaultPreAllocSize int64 = 64 << 20
	// entryOverhead is the checksum (8), the length (4) and the EOR byte (1).
	entryOverhead = 13
	// padMargin: the file is extended when the write position comes within
	// this many bytes of its end (FilePadding.java).
	padMargin = 4096
)

// Sentinel errors.
var (
	ErrCorrupt   = errors.New("txnlog: corrupt log")
	ErrClosed    = errors.New("txnlog: log is closed")
	ErrZxidOrder = errors.New("txnlog: zxid not greater than the last appended")
	ErrFailed    = errors.New("txnlog: log failed after an I/O error")
)

// Options configure a Log.
type Options struct {
	// PreAllocSize is how far ahead of the write position files are padded
	// with zeros, in bytes (Apache's zookeeper.preAllocSize). Zero means
	// DefaultPreAllocSize; a negative value disables padding.
	PreAllocSize int64
	Logger       zerolog.Logger
}

// FileName returns the log file name for a file whose first entry has zxid.
func FileName(zxid int64) string { return Prefix + strconv.FormatUint(uint64(zxid), 16) }

// ParseFileName returns the zxid in a log file name, or ok=false when name
// is not a log file name.
func ParseFileName(name string) (zxid int64, ok bool) {
	return parseName(name, Prefix)
}

func parseName(name, prefix string) (int64, bool) {
	if !strings.HasPrefix(name, prefix) {
		return 0, false
	}
	hex := name[len(prefix):]
	if hex == "" || len(hex) > 16 {
		return 0, false
	}
	v, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		return 0, false
	}
	return int64(v), true
}

// logFile is a log file found in a directory.
type logFile struct {
	name string
	zxid int64
}

// listLogs returns the log files in dir sorted by starting zxid. A missing
// directory holds no logs.
func listLogs(fsys vfs.FS, dir string) ([]logFile, error) {
	names, err := fsys.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("txnlog: list %s: %w", dir, err)
	}
	var out []logFile
	for _, n := range names {
		if z, ok := ParseFileName(n); ok {
			out = append(out, logFile{name: n, zxid: z})
		}
	}
	sort.Slice(out, func(i, j int) bool { return uint64(out[i].zxid) < uint64(out[j].zxid) })
	return out, nil
}

// removeTemps deletes log files whose creation a crash interrupted.
func removeTemps(fsys vfs.FS, dir string, logger zerolog.Logger) error {
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("txnlog: list %s: %w", dir, err)
	}
	for _, n := range names {
		if _, ok := ParseFileName(strings.TrimPrefix(n, TempPrefix)); ok && strings.HasPrefix(n, TempPrefix) {
			logger.Warn().Str("file", n).Msg("removing a log file whose creation was interrupted")
			if err := fsys.Remove(filepath.Join(dir, n)); err != nil {
				return fmt.Errorf("txnlog: remove %s: %w", filepath.Join(dir, n), err)
			}
		}
	}
	return nil
}

// AppendEntry appends one framed entry (checksum, length, body, EOR) to b.
func AppendEntry(b []byte, e *jute.TxnEntry) []byte {
	enc := jute.Encoder{Buf: b}
	crcOff := enc.Reserve(12)
	jute.EncodeTxnEntry(&enc, e)
	body := enc.Buf[crcOff+12:]
	binary.BigEndian.PutUint64(enc.Buf[crcOff:], uint64(adler32.Checksum(body)))
	binary.BigEndian.PutUint32(enc.Buf[crcOff+8:], uint32(len(body)))
	return append(enc.Buf, EOR)
}

// AppendHeader appends the 16-byte FileHeader of a log file to b.
func AppendHeader(b []byte) []byte {
	enc := jute.Encoder{Buf: b}
	h := jute.FileHeader{Magic: Magic, Version: Version, DBID: 0}
	h.Encode(&enc)
	return enc.Buf
}

// Log appends transactions to log.<zxid> files in one directory. It is safe
// for concurrent use; Sync holds the lock while it writes and fsyncs.
type Log struct {
	mu       sync.Mutex
	fsys     vfs.FS
	dir      string
	prealloc int64
	logger   zerolog.Logger

	f        vfs.File // current file, nil before the first Append after Open/Roll
	name     string   // current file's path
	pos      int64    // bytes of the current file written to the OS
	size     int64    // the current file's size including padding
	newFile  bool     // the current file's directory entry is not yet synced
	pending  []byte   // framed entries (and a new file's header) not yet written
	lastZxid int64
	err      error // sticky: set by a failed write, truncate or fsync
	closed   bool
}

// Open prepares dir (<dataLogDir>/version-2, created if missing) for
// appending. It finds the last logged zxid, truncating a torn tail of the
// newest file and removing newest files that hold no entry (see Replay). The
// first Append starts a new file, as Apache does after a restart.
func Open(fsys vfs.FS, dir string, opts Options) (*Log, error) {
	logger := opts.Logger.With().Str("component", "txnlog").Str("dir", dir).Logger()
	prealloc := opts.PreAllocSize
	if prealloc == 0 {
		prealloc = DefaultPreAllocSize
	}
	if err := vfs.MkdirAllDurable(fsys, dir, 0o755); err != nil {
		return nil, fmt.Errorf("txnlog: create log directory %s: %w (check dataLogDir/dataDir and its permissions)", dir, err)
	}
	files, err := listLogs(fsys, dir)
	if err != nil {
		return nil, err
	}
	if err := removeTemps(fsys, dir, logger); err != nil {
		return nil, err
	}
	l := &Log{fsys: fsys, dir: dir, prealloc: prealloc, logger: logger}
	for i := len(files) - 1; i >= 0; i-- {
		path := filepath.Join(dir, files[i].name)
		res, err := scanFile(fsys, path, i == len(files)-1, logger, func(*jute.TxnEntry, int64) error { return nil })
		if err != nil {
			return nil, err
		}
		if res.entries > 0 {
			l.lastZxid = res.lastZxid
			break
		}
		if i != len(files)-1 {
			// An empty file older than the newest non-empty one is harmless.
			continue
		}
		logger.Warn().Str("file", path).Msg("removing the newest log file: it holds no complete entry")
		if err := fsys.Remove(path); err != nil {
			return nil, fmt.Errorf("txnlog: remove empty log file %s: %w", path, err)
		}
		if err := fsys.SyncDir(dir); err != nil {
			return nil, fmt.Errorf("txnlog: fsync %s: %w", dir, err)
		}
		files = files[:i]
	}
	return l, nil
}

// LastZxid returns the zxid of the last Append, or of the last entry on
// disk when nothing was appended since Open (0 for an empty log).
func (l *Log) LastZxid() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastZxid
}

// Append buffers e. The first Append after Open or Roll creates
// log.<hex of e's zxid>. Nothing is durable until Sync returns nil. Zxids
// must increase.
func (l *Log) Append(e *jute.TxnEntry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if l.err != nil {
		return l.err
	}
	if e == nil {
		return fmt.Errorf("txnlog: append: nil entry")
	}
	if e.Header.Zxid <= l.lastZxid {
		return fmt.Errorf("%w: zxid %#x after %#x", ErrZxidOrder, e.Header.Zxid, l.lastZxid)
	}
	if l.f == nil {
		f, name, hdrLen, err := l.createFile(e.Header.Zxid)
		if err != nil {
			return err
		}
		l.f, l.name, l.pos, l.size, l.newFile = f, name, hdrLen, hdrLen, true
		l.pending = l.pending[:0]
	}
	l.pending = AppendEntry(l.pending, e)
	l.lastZxid = e.Header.Zxid
	return nil
}

// TempPrefix names a log file being created: its header is written and
// fsynced under tmp.log.<zxid> before the rename to log.<zxid>, so a crash
// never leaves a log.<zxid> without a header (Apache 3.8 refuses to start on
// such a file). Open removes leftovers.
const TempPrefix = "tmp."

// createFile makes log.<zxid> with its FileHeader durable on disk.
func (l *Log) createFile(zxid int64) (vfs.File, string, int64, error) {
	name := filepath.Join(l.dir, FileName(zxid))
	tmp := filepath.Join(l.dir, TempPrefix+FileName(zxid))
	hint := "(check that the directory is writable and the disk not full)"
	f, err := l.fsys.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, "", 0, fmt.Errorf("txnlog: create %s: %w %s", tmp, err, hint)
	}
	hdr := AppendHeader(nil)
	if _, err = f.Write(hdr); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = l.fsys.Rename(tmp, name)
	}
	if err != nil {
		f.Close()
		_ = l.fsys.Remove(tmp)
		return nil, "", 0, fmt.Errorf("txnlog: create %s: %w %s", name, err, hint)
	}
	return f, name, int64(len(hdr)), nil
}

// Sync writes the buffered entries and fsyncs the file (and, for a new file,
// its directory). Every Append before a Sync that returned nil is durable.
// After a failed write or fsync the Log refuses further work (ErrFailed):
// reopen it, which truncates whatever was half written.
func (l *Log) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	return l.syncLocked()
}

func (l *Log) fail(op string, err error) error {
	l.err = fmt.Errorf("%w: %s %s: %w (reopen the log to recover)", ErrFailed, op, l.name, err)
	return l.err
}

func (l *Log) syncLocked() error {
	if l.err != nil {
		return l.err
	}
	if l.f == nil || (len(l.pending) == 0 && !l.newFile) {
		return nil
	}
	end := l.pos + int64(len(l.pending))
	if len(l.pending) > 0 {
		if _, err := l.f.Write(l.pending); err != nil {
			return l.fail("write", err)
		}
	}
	if newSize := padSize(end, l.size, l.prealloc); newSize > end && newSize > l.size {
		if err := l.f.Truncate(newSize); err != nil {
			return l.fail("preallocate", err)
		}
		l.size = newSize
	}
	if end > l.size {
		l.size = end
	}
	if err := l.f.Sync(); err != nil {
		return l.fail("fsync", err)
	}
	if l.newFile {
		if err := l.fsys.SyncDir(l.dir); err != nil {
			return l.fail("fsync directory of", err)
		}
		l.newFile = false
	}
	l.pos = end
	l.pending = l.pending[:0]
	return nil
}

// padSize is FilePadding.calculateFileSizeWithPadding: when position comes
// within 4 KiB of the file's end, grow the file by preAllocSize (or, if
// position is past the end, to the next multiple of preAllocSize above
// position).
func padSize(position, fileSize, prealloc int64) int64 {
	if prealloc > 0 && position+padMargin >= fileSize {
		if position > fileSize {
			fileSize = position + prealloc
			fileSize -= fileSize % prealloc
		} else {
			fileSize += prealloc
		}
	}
	return fileSize
}

// Roll syncs and closes the current file; the next Append starts a new one.
func (l *Log) Roll() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	return l.rollLocked()
}

func (l *Log) rollLocked() error {
	if l.f == nil {
		return l.err
	}
	serr := l.syncLocked()
	cerr := l.f.Close()
	l.f = nil
	if serr != nil {
		return serr
	}
	if cerr != nil {
		return l.fail("close", cerr)
	}
	return nil
}

// Close syncs buffered entries and closes the file. A second Close returns
// ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.closed = true
	return l.rollLocked()
}

// Replay calls fn for every entry with Header.Zxid > afterZxid, in order,
// across all log files in dir, choosing files the way Apache does: the
// newest file starting at or before afterZxid+1 and all later ones. A torn
// tail of the LAST file (an invalid entry with no valid entry after it) is
// truncated and logged with the file and offset; a torn tail of an earlier
// file is logged and skipped, as Apache does. An invalid entry followed by a
// valid one returns an error naming the file and byte offset
// (errors.Is(err, ErrCorrupt)). Returns the zxid of the last entry passed to
// fn, or afterZxid when there was none. A missing dir holds no entries.
func Replay(fsys vfs.FS, dir string, afterZxid int64, logger zerolog.Logger, fn func(*jute.TxnEntry) error) (int64, error) {
	logger = logger.With().Str("component", "txnlog").Str("dir", dir).Logger()
	files, err := listLogs(fsys, dir)
	if err != nil {
		return afterZxid, err
	}
	start := 0
	for i, f := range files {
		if uint64(f.zxid) <= uint64(afterZxid)+1 {
			start = i
		}
	}
	last := afterZxid
	for i := start; i < len(files); i++ {
		path := filepath.Join(dir, files[i].name)
		_, err := scanFile(fsys, path, i == len(files)-1, logger, func(e *jute.TxnEntry, off int64) error {
			if e.Header.Zxid <= afterZxid {
				return nil
			}
			if err := fn(e); err != nil {
				return fmt.Errorf("txnlog: replay %s: entry zxid %#x at offset %d: %w", path, e.Header.Zxid, off, err)
			}
			last = e.Header.Zxid
			return nil
		})
		if err != nil {
			return last, err
		}
	}
	return last, nil
}

// Truncate removes every entry with a zxid above zxid from the log in dir,
// as Apache's FileTxnLog.truncate does for a follower told to TRUNC by its
// leader: files that start after zxid are deleted and the file holding the
// first later entry is cut at that entry's offset. It must not run while a
// Log is open on dir; Open it again afterwards. Truncating at or after the
// last entry changes nothing.
func Truncate(fsys vfs.FS, dir string, zxid int64, logger zerolog.Logger) error {
	logger = logger.With().Str("component", "txnlog").Str("dir", dir).Logger()
	files, err := listLogs(fsys, dir)
	if err != nil {
		return err
	}
	removed := false
	for i := len(files) - 1; i >= 0; i-- {
		f := files[i]
		path := filepath.Join(dir, f.name)
		if uint64(f.zxid) > uint64(zxid) {
			logger.Info().Str("file", path).Str("zxid", fmt.Sprintf("%#x", zxid)).Msg("truncating log: removing file that starts after the zxid")
			if err := fsys.Remove(path); err != nil {
				return fmt.Errorf("txnlog: truncate at zxid %#x: remove %s: %w", zxid, path, err)
			}
			removed = true
			continue
		}
		cut := int64(-1)
		_, err := scanFile(fsys, path, i == len(files)-1, logger, func(e *jute.TxnEntry, off int64) error {
			if cut < 0 && uint64(e.Header.Zxid) > uint64(zxid) {
				cut = off
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("txnlog: truncate at zxid %#x: %w", zxid, err)
		}
		if cut >= 0 {
			logger.Info().Str("file", path).Int64("offset", cut).Str("zxid", fmt.Sprintf("%#x", zxid)).Msg("truncating log file after the zxid")
			if err := truncateFile(fsys, path, cut); err != nil {
				return err
			}
		}
		break
	}
	if removed {
		if err := fsys.SyncDir(dir); err != nil {
			return fmt.Errorf("txnlog: truncate: fsync %s: %w", dir, err)
		}
	}
	return nil
}
