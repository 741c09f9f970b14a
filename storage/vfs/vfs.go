// Package vfs is the filesystem seam of the storage packages: an interface
// small enough to implement twice, once over the operating system (OS) and
// once in memory (MemFS). MemFS models what survives a power loss: only bytes
// made durable by File.Sync and only directory entries made durable by
// FS.SyncDir survive (*MemFS).CrashClone. It can also inject errors: fail the
// Nth operation, or every operation on a path.
package vfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// File is an open file.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.Seeker
	io.Closer
	Sync() error
	Truncate(size int64) error
	Stat() (os.FileInfo, error)
	Name() string
}

// FS is the set of filesystem operations the storage packages use.
type FS interface {
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	Remove(name string) error
	Rename(oldpath, newpath string) error
	MkdirAll(path string, perm os.FileMode) error
	ReadDir(name string) ([]string, error) // sorted base names
	Stat(name string) (os.FileInfo, error)
	SyncDir(name string) error // fsync a directory (after create/rename)
}

// ErrInjected is returned by MemFS operations chosen to fail.
var ErrInjected = errors.New("vfs: injected fault")

// OS returns the real filesystem.
func OS() FS { return osFS{} }

type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (osFS) Remove(name string) error                     { return os.Remove(name) }
func (osFS) Rename(oldpath, newpath string) error         { return os.Rename(oldpath, newpath) }
func (osFS) MkdirAll(path string, perm os.FileMode) error { return os.MkdirAll(path, perm) }
func (osFS) Stat(name string) (os.FileInfo, error)        { return os.Stat(name) }

func (osFS) ReadDir(name string) ([]string, error) {
	entries, err := os.ReadDir(name)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	sort.Strings(names)
	return names, nil
}

func (osFS) SyncDir(name string) error {
	d, err := os.Open(name)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return fmt.Errorf("vfs: fsync directory %s: %w", name, serr)
	}
	return cerr
}

// MkdirAllDurable creates path and its missing parents and fsyncs the
// directories whose entries changed, so the new directories survive a crash.
func MkdirAllDurable(fsys FS, path string, perm os.FileMode) error {
	path = filepath.Clean(path)
	// Find the deepest ancestor that exists already.
	existing := path
	for {
		if _, err := fsys.Stat(existing); err == nil {
			break
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			break
		}
		existing = parent
	}
	if existing == path {
		return nil
	}
	if err := fsys.MkdirAll(path, perm); err != nil {
		return err
	}
	// Sync every directory from the existing ancestor down to path's parent:
	// each gained an entry.
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		if err := fsys.SyncDir(dir); err != nil {
			return err
		}
		if dir == existing || filepath.Dir(dir) == dir {
			break
		}
	}
	return fsys.SyncDir(path)
}
