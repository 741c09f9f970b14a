package vfs

import (
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// Op names a kind of filesystem operation, for error injection. Ops combine
// as a bit mask.
type Op uint32

const (
	OpOpen Op = 1 << iota
	OpRead
	OpWrite
	OpSync
	OpTruncate
	OpClose
	OpStat
	OpRemove
	OpRename
	OpMkdir
	OpReadDir
	OpSyncDir

	// OpAll matches every kind of operation.
	OpAll = OpOpen | OpRead | OpWrite | OpSync | OpTruncate | OpClose | OpStat |
		OpRemove | OpRename | OpMkdir | OpReadDir | OpSyncDir
)

var opNames = map[Op]string{
	OpOpen: "open", OpRead: "read", OpWrite: "write", OpSync: "sync", OpTruncate: "truncate",
	OpClose: "close", OpStat: "stat", OpRemove: "remove", OpRename: "rename", OpMkdir: "mkdir",
	OpReadDir: "readdir", OpSyncDir: "syncdir",
}

func (o Op) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return fmt.Sprintf("op(%#x)", uint32(o))
}

// MemFS is an in-memory FS that models crashes and injects faults. Paths are
// slash-separated; relative paths are taken from the root. It is safe for
// concurrent use.
//
// Durability model: File.Sync makes the file's current bytes (and size)
// durable; SyncDir makes a directory's current entries (creations, removals,
// renames into or out of it) durable. CrashClone returns what a machine would
// find after a power loss at this instant. A failed write (injected) writes
// the first half of the buffer, like a short write, then reports the error.
type MemFS struct {
	mu        sync.Mutex
	root      *memNode
	ops       int
	counts    map[Op]int
	failMask  Op
	failAt    int
	matched   int
	failPaths map[string]Op
	now       func() time.Time

	crashAt    int    // take a crash image after this many operations (0: never)
	crashImage *MemFS // the image taken at crashAt
}

type memNode struct {
	dir        bool
	children   map[string]*memNode // current entries (directories)
	synced     map[string]*memNode // durable entries (directories)
	data       []byte              // current content (files)
	syncedData []byte              // durable content (files)
	mode       os.FileMode
	modTime    time.Time
}

func newDir(mode os.FileMode, t time.Time) *memNode {
	return &memNode{dir: true, children: map[string]*memNode{}, synced: map[string]*memNode{}, mode: mode | os.ModeDir, modTime: t}
}

// NewMem returns an empty in-memory filesystem.
func NewMem() *MemFS {
	return &MemFS{root: newDir(0o755, time.Now()), failPaths: map[string]Op{}, now: time.Now}
}

// CrashClone returns a new MemFS holding only what was durable in m: file
// bytes as of each file's last Sync and directory entries as of each
// directory's last SyncDir. Faults are not copied.
func (m *MemFS) CrashClone() *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	return &MemFS{root: crashCopy(m.root), failPaths: map[string]Op{}, now: m.now}
}

func crashCopy(n *memNode) *memNode {
	if !n.dir {
		d := append([]byte(nil), n.syncedData...)
		return &memNode{data: d, syncedData: append([]byte(nil), d...), mode: n.mode, modTime: n.modTime}
	}
	c := newDir(n.mode, n.modTime)
	for name, child := range n.synced {
		cc := crashCopy(child)
		c.children[name] = cc
		c.synced[name] = cc
	}
	return c
}

// FailNth makes the nth operation (1-based, counted from this call) whose kind
// is in ops fail with ErrInjected. It replaces any earlier FailNth.
func (m *MemFS) FailNth(n int, ops Op) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failMask, m.failAt, m.matched = ops, n, 0
}

// FailPath makes every operation of a kind in ops on name fail (for a
// rename, either path). Pass 0 to clear.
func (m *MemFS) FailPath(name string, ops Op) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := clean(name)
	if ops == 0 {
		delete(m.failPaths, p)
		return
	}
	m.failPaths[p] = ops
}

// ClearFaults removes every injected fault.
func (m *MemFS) ClearFaults() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failMask, m.failAt, m.matched = 0, 0, 0
	m.failPaths = map[string]Op{}
}

// CrashAfter arranges for a crash image to be taken right after the nth
// operation from now (counting all kinds) completes; CrashImage returns it.
// This crashes a workload at every point, not only where the test chooses.
func (m *MemFS) CrashAfter(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.crashAt, m.crashImage = m.ops+n, nil
}

// CrashImage returns the image taken by CrashAfter, or nil if the workload
// did not reach that operation.
func (m *MemFS) CrashImage() *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.crashImage
}

// done is called (with m.mu held) when an operation has completed.
func (m *MemFS) done() {
	if m.crashAt > 0 && m.ops == m.crashAt && m.crashImage == nil {
		m.crashImage = &MemFS{root: crashCopy(m.root), failPaths: map[string]Op{}, now: m.now}
	}
}

// Ops returns how many operations have been performed (all kinds), for tests
// that fail each operation in turn.
func (m *MemFS) Ops() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ops
}

// Count returns how many operations of the kinds in ops have been performed.
func (m *MemFS) Count(ops Op) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	total := 0
	for k, v := range m.counts {
		if k&ops != 0 {
			total += v
		}
	}
	return total
}

// fault counts an operation and returns the injected error, if any. Called
// with m.mu held.
func (m *MemFS) fault(op Op, paths ...string) error {
	m.ops++
	if m.counts == nil {
		m.counts = map[Op]int{}
	}
	m.counts[op]++
	if m.failMask&op != 0 && m.failAt > 0 {
		m.matched++
		if m.matched == m.failAt {
			return fmt.Errorf("%w: %s %s (operation %d)", ErrInjected, op, strings.Join(paths, " "), m.ops)
		}
	}
	for _, p := range paths {
		if m.failPaths[clean(p)]&op != 0 {
			return fmt.Errorf("%w: %s %s", ErrInjected, op, p)
		}
	}
	return nil
}

func clean(name string) string {
	p := path.Clean("/" + strings.ReplaceAll(name, "\\", "/"))
	return p
}

func split(name string) []string {
	p := clean(name)
	if p == "/" {
		return nil
	}
	return strings.Split(p[1:], "/")
}

// lookup returns the node at name, or nil.
func (m *MemFS) lookup(name string) *memNode {
	n := m.root
	for _, part := range split(name) {
		if !n.dir {
			return nil
		}
		n = n.children[part]
		if n == nil {
			return nil
		}
	}
	return n
}

// parent returns the directory holding name and name's base.
func (m *MemFS) parent(op, name string) (*memNode, string, error) {
	parts := split(name)
	if len(parts) == 0 {
		return nil, "", &os.PathError{Op: op, Path: name, Err: os.ErrInvalid}
	}
	dir := m.lookup("/" + strings.Join(parts[:len(parts)-1], "/"))
	if dir == nil || !dir.dir {
		return nil, "", &os.PathError{Op: op, Path: name, Err: os.ErrNotExist}
	}
	return dir, parts[len(parts)-1], nil
}

// OpenFile opens or creates a file; flags follow os.OpenFile (O_RDONLY,
// O_WRONLY, O_RDWR, O_CREATE, O_EXCL, O_TRUNC, O_APPEND).
func (m *MemFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.done()
	if err := m.fault(OpOpen, name); err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	dir, base, err := m.parent("open", name)
	if err != nil {
		return nil, err
	}
	n := dir.children[base]
	writable := flag&(os.O_WRONLY|os.O_RDWR) != 0
	switch {
	case n != nil && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrExist}
	case n != nil && n.dir && writable:
		return nil, &os.PathError{Op: "open", Path: name, Err: fmt.Errorf("is a directory")}
	case n == nil && flag&os.O_CREATE == 0:
		return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrNotExist}
	case n == nil:
		n = &memNode{mode: perm, modTime: m.now()}
		dir.children[base] = n
	}
	if flag&os.O_TRUNC != 0 && writable && !n.dir {
		n.data = nil
		n.modTime = m.now()
	}
	return &memFile{fs: m, n: n, name: name, flag: flag}, nil
}

// Remove deletes a file or an empty directory.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.done()
	if err := m.fault(OpRemove, name); err != nil {
		return &os.PathError{Op: "remove", Path: name, Err: err}
	}
	dir, base, err := m.parent("remove", name)
	if err != nil {
		return err
	}
	n := dir.children[base]
	if n == nil {
		return &os.PathError{Op: "remove", Path: name, Err: os.ErrNotExist}
	}
	if n.dir && len(n.children) > 0 {
		return &os.PathError{Op: "remove", Path: name, Err: fmt.Errorf("directory not empty")}
	}
	delete(dir.children, base)
	return nil
}

// Rename moves oldpath to newpath, replacing a file at newpath.
func (m *MemFS) Rename(oldpath, newpath string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.done()
	if err := m.fault(OpRename, oldpath, newpath); err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	odir, obase, err := m.parent("rename", oldpath)
	if err != nil {
		return err
	}
	ndir, nbase, err := m.parent("rename", newpath)
	if err != nil {
		return err
	}
	n := odir.children[obase]
	if n == nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: os.ErrNotExist}
	}
	if t := ndir.children[nbase]; t != nil && t.dir {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: fmt.Errorf("target is a directory")}
	}
	delete(odir.children, obase)
	ndir.children[nbase] = n
	return nil
}

// MkdirAll creates a directory and its missing parents. The new entries are
// durable only after SyncDir of each parent (see MkdirAllDurable).
func (m *MemFS) MkdirAll(name string, perm os.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.done()
	if err := m.fault(OpMkdir, name); err != nil {
		return &os.PathError{Op: "mkdir", Path: name, Err: err}
	}
	n := m.root
	for _, part := range split(name) {
		c := n.children[part]
		if c == nil {
			c = newDir(perm, m.now())
			n.children[part] = c
		} else if !c.dir {
			return &os.PathError{Op: "mkdir", Path: name, Err: fmt.Errorf("%s is not a directory", part)}
		}
		n = c
	}
	return nil
}

// ReadDir returns the sorted names in a directory.
func (m *MemFS) ReadDir(name string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.done()
	if err := m.fault(OpReadDir, name); err != nil {
		return nil, &os.PathError{Op: "readdir", Path: name, Err: err}
	}
	n := m.lookup(name)
	if n == nil {
		return nil, &os.PathError{Op: "readdir", Path: name, Err: os.ErrNotExist}
	}
	if !n.dir {
		return nil, &os.PathError{Op: "readdir", Path: name, Err: fmt.Errorf("not a directory")}
	}
	names := make([]string, 0, len(n.children))
	for k := range n.children {
		names = append(names, k)
	}
	sort.Strings(names)
	return names, nil
}

// Stat describes a file or directory.
func (m *MemFS) Stat(name string) (os.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.done()
	if err := m.fault(OpStat, name); err != nil {
		return nil, &os.PathError{Op: "stat", Path: name, Err: err}
	}
	n := m.lookup(name)
	if n == nil {
		return nil, &os.PathError{Op: "stat", Path: name, Err: os.ErrNotExist}
	}
	return info(name, n), nil
}

// SyncDir makes the directory's current entries durable.
func (m *MemFS) SyncDir(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.done()
	if err := m.fault(OpSyncDir, name); err != nil {
		return &os.PathError{Op: "fsync", Path: name, Err: err}
	}
	n := m.lookup(name)
	if n == nil {
		return &os.PathError{Op: "fsync", Path: name, Err: os.ErrNotExist}
	}
	if !n.dir {
		return &os.PathError{Op: "fsync", Path: name, Err: fmt.Errorf("not a directory")}
	}
	n.synced = make(map[string]*memNode, len(n.children))
	for k, v := range n.children {
		n.synced[k] = v
	}
	return nil
}

func info(name string, n *memNode) os.FileInfo {
	return memInfo{name: path.Base(clean(name)), size: int64(len(n.data)), mode: n.mode, modTime: n.modTime, dir: n.dir}
}

type memInfo struct {
	name    string
	size    int64
	mode    os.FileMode
	modTime time.Time
	dir     bool
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() os.FileMode  { return i.mode }
func (i memInfo) ModTime() time.Time { return i.modTime }
func (i memInfo) IsDir() bool        { return i.dir }
func (i memInfo) Sys() any           { return nil }

type memFile struct {
	fs     *MemFS
	n      *memNode
	name   string
	flag   int
	off    int64
	closed bool
}

var errClosed = os.ErrClosed

func (f *memFile) check(op string, write bool) error {
	if f.closed {
		return &os.PathError{Op: op, Path: f.name, Err: errClosed}
	}
	if f.n.dir && op != "read" && op != "stat" && op != "close" && op != "sync" {
		return &os.PathError{Op: op, Path: f.name, Err: fmt.Errorf("is a directory")}
	}
	if write && f.flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return &os.PathError{Op: op, Path: f.name, Err: fmt.Errorf("file not open for writing")}
	}
	if !write && op == "read" && f.flag&os.O_WRONLY != 0 {
		return &os.PathError{Op: op, Path: f.name, Err: fmt.Errorf("file not open for reading")}
	}
	return nil
}

func (f *memFile) Name() string { return f.name }

func (f *memFile) Read(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	defer f.fs.done()
	n, err := f.readAt(p, f.off)
	f.off += int64(n)
	return n, err
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	defer f.fs.done()
	return f.readAt(p, off)
}

func (f *memFile) readAt(p []byte, off int64) (int, error) {
	if err := f.check("read", false); err != nil {
		return 0, err
	}
	if err := f.fs.fault(OpRead, f.name); err != nil {
		return 0, &os.PathError{Op: "read", Path: f.name, Err: err}
	}
	if off < 0 {
		return 0, &os.PathError{Op: "read", Path: f.name, Err: os.ErrInvalid}
	}
	if off >= int64(len(f.n.data)) {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := copy(p, f.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	defer f.fs.done()
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	if f.flag&os.O_APPEND != 0 {
		f.off = int64(len(f.n.data))
	}
	ferr := f.fs.fault(OpWrite, f.name)
	if ferr != nil {
		p = p[:len(p)/2]
	}
	end := f.off + int64(len(p))
	if end > int64(len(f.n.data)) {
		if end > int64(cap(f.n.data)) {
			grown := make([]byte, end, end+end/2)
			copy(grown, f.n.data)
			f.n.data = grown
		} else {
			f.n.data = f.n.data[:end]
		}
	}
	copy(f.n.data[f.off:], p)
	f.off = end
	f.n.modTime = f.fs.now()
	if ferr != nil {
		return len(p), &os.PathError{Op: "write", Path: f.name, Err: ferr}
	}
	return len(p), nil
}

func (f *memFile) Seek(offset int64, whence int) (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return 0, &os.PathError{Op: "seek", Path: f.name, Err: errClosed}
	}
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = f.off + offset
	case io.SeekEnd:
		abs = int64(len(f.n.data)) + offset
	default:
		return 0, &os.PathError{Op: "seek", Path: f.name, Err: os.ErrInvalid}
	}
	if abs < 0 {
		return 0, &os.PathError{Op: "seek", Path: f.name, Err: os.ErrInvalid}
	}
	f.off = abs
	return abs, nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	defer f.fs.done()
	if f.closed {
		return &os.PathError{Op: "close", Path: f.name, Err: errClosed}
	}
	f.closed = true
	if err := f.fs.fault(OpClose, f.name); err != nil {
		return &os.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}

func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	defer f.fs.done()
	if err := f.check("sync", false); err != nil {
		return err
	}
	if err := f.fs.fault(OpSync, f.name); err != nil {
		return &os.PathError{Op: "sync", Path: f.name, Err: err}
	}
	if f.n.dir {
		f.n.synced = make(map[string]*memNode, len(f.n.children))
		for k, v := range f.n.children {
			f.n.synced[k] = v
		}
		return nil
	}
	f.n.syncedData = append(f.n.syncedData[:0:0], f.n.data...)
	return nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	defer f.fs.done()
	if err := f.check("truncate", true); err != nil {
		return err
	}
	if err := f.fs.fault(OpTruncate, f.name); err != nil {
		return &os.PathError{Op: "truncate", Path: f.name, Err: err}
	}
	if size < 0 {
		return &os.PathError{Op: "truncate", Path: f.name, Err: os.ErrInvalid}
	}
	if size <= int64(len(f.n.data)) {
		f.n.data = f.n.data[:size:size]
	} else {
		grown := make([]byte, size)
		copy(grown, f.n.data)
		f.n.data = grown
	}
	f.n.modTime = f.fs.now()
	return nil
}

func (f *memFile) Stat() (os.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	defer f.fs.done()
	if f.closed {
		return nil, &os.PathError{Op: "stat", Path: f.name, Err: errClosed}
	}
	if err := f.fs.fault(OpStat, f.name); err != nil {
		return nil, &os.PathError{Op: "stat", Path: f.name, Err: err}
	}
	return info(f.name, f.n), nil
}
