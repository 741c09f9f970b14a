package vfs_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/storage/vfs"
)

// The same behaviour from both implementations.
func TestConformance(t *testing.T) {
	for _, c := range []struct {
		name string
		fs   vfs.FS
		root func(t *testing.T) string
	}{
		{"os", vfs.OS(), func(t *testing.T) string { return t.TempDir() }},
		{"mem", vfs.NewMem(), func(t *testing.T) string { return "/root" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			fsys, root := c.fs, c.root(t)
			dir := filepath.Join(root, "a", "b")
			require.NoError(t, fsys.MkdirAll(dir, 0o755))
			require.NoError(t, fsys.MkdirAll(dir, 0o755), "idempotent")
			st, err := fsys.Stat(dir)
			require.NoError(t, err)
			assert.True(t, st.IsDir())

			name := filepath.Join(dir, "f")
			_, err = fsys.OpenFile(name, os.O_RDONLY, 0)
			assert.ErrorIs(t, err, os.ErrNotExist)
			f, err := fsys.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
			require.NoError(t, err)
			assert.Equal(t, name, f.Name())
			_, err = fsys.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
			assert.ErrorIs(t, err, os.ErrExist)

			n, err := f.Write([]byte("hello world"))
			require.NoError(t, err)
			assert.Equal(t, 11, n)
			pos, err := f.Seek(0, io.SeekStart)
			require.NoError(t, err)
			assert.Equal(t, int64(0), pos)
			buf := make([]byte, 5)
			_, err = io.ReadFull(f, buf)
			require.NoError(t, err)
			assert.Equal(t, "hello", string(buf))
			_, err = f.ReadAt(buf, 6)
			require.NoError(t, err)
			assert.Equal(t, "world", string(buf))
			n, err = f.ReadAt(buf, 9)
			assert.Equal(t, 2, n)
			assert.ErrorIs(t, err, io.EOF)

			// Writing past the end leaves a zero-filled gap; Truncate extends with zeros too.
			_, err = f.Seek(20, io.SeekStart)
			require.NoError(t, err)
			_, err = f.Write([]byte("!"))
			require.NoError(t, err)
			require.NoError(t, f.Truncate(30))
			st, err = f.Stat()
			require.NoError(t, err)
			assert.Equal(t, int64(30), st.Size())
			all := make([]byte, 30)
			_, err = f.ReadAt(all, 0)
			require.NoError(t, err)
			assert.Equal(t, "hello world\x00\x00\x00\x00\x00\x00\x00\x00\x00!\x00\x00\x00\x00\x00\x00\x00\x00\x00", string(all))
			require.NoError(t, f.Truncate(5))
			require.NoError(t, f.Sync())
			require.NoError(t, f.Close())
			st, err = fsys.Stat(name)
			require.NoError(t, err)
			assert.Equal(t, int64(5), st.Size())

			// O_TRUNC and O_APPEND.
			f, err = fsys.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
			require.NoError(t, err)
			_, err = f.Write([]byte("++"))
			require.NoError(t, err)
			require.NoError(t, f.Close())
			st, _ = fsys.Stat(name)
			assert.Equal(t, int64(7), st.Size())
			f, err = fsys.OpenFile(name, os.O_WRONLY|os.O_TRUNC, 0)
			require.NoError(t, err)
			require.NoError(t, f.Close())
			st, _ = fsys.Stat(name)
			assert.Equal(t, int64(0), st.Size())

			for _, n := range []string{"z", "c", "m"} {
				f, err := fsys.OpenFile(filepath.Join(dir, n), os.O_CREATE|os.O_WRONLY, 0o644)
				require.NoError(t, err)
				require.NoError(t, f.Close())
			}
			names, err := fsys.ReadDir(dir)
			require.NoError(t, err)
			assert.Equal(t, []string{"c", "f", "m", "z"}, names)

			require.NoError(t, fsys.Rename(filepath.Join(dir, "z"), filepath.Join(dir, "y")))
			require.NoError(t, fsys.Remove(filepath.Join(dir, "c")))
			assert.ErrorIs(t, fsys.Remove(filepath.Join(dir, "c")), os.ErrNotExist)
			require.NoError(t, fsys.SyncDir(dir))
			names, err = fsys.ReadDir(dir)
			require.NoError(t, err)
			assert.Equal(t, []string{"f", "m", "y"}, names)
			_, err = fsys.ReadDir(filepath.Join(root, "nope"))
			assert.ErrorIs(t, err, os.ErrNotExist)
			_, err = fsys.Stat(filepath.Join(root, "nope"))
			assert.ErrorIs(t, err, os.ErrNotExist)

			// MkdirAllDurable creates nested directories.
			deep := filepath.Join(root, "x", "y", "z")
			require.NoError(t, vfs.MkdirAllDurable(fsys, deep, 0o755))
			require.NoError(t, vfs.MkdirAllDurable(fsys, deep, 0o755))
			st, err = fsys.Stat(deep)
			require.NoError(t, err)
			assert.True(t, st.IsDir())
		})
	}
}

func create(t *testing.T, m *vfs.MemFS, name, content string, sync bool) vfs.File {
	f, err := m.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	require.NoError(t, err)
	_, err = f.Write([]byte(content))
	require.NoError(t, err)
	if sync {
		require.NoError(t, f.Sync())
	}
	return f
}

func content(t *testing.T, m *vfs.MemFS, name string) (string, bool) {
	f, err := m.OpenFile(name, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return "", false
	}
	require.NoError(t, err)
	defer f.Close()
	b, err := io.ReadAll(f)
	require.NoError(t, err)
	return string(b), true
}

func TestCrashCloneKeepsOnlySyncedState(t *testing.T) {
	m := vfs.NewMem()
	require.NoError(t, vfs.MkdirAllDurable(m, "/d/sub", 0o755))

	// A synced file whose directory entry is not synced is lost.
	f := create(t, m, "/d/sub/a", "aaa", true)
	_, ok := content(t, m.CrashClone(), "/d/sub/a")
	assert.False(t, ok, "directory entry not synced")
	require.NoError(t, m.SyncDir("/d/sub"))
	got, ok := content(t, m.CrashClone(), "/d/sub/a")
	assert.True(t, ok)
	assert.Equal(t, "aaa", got)

	// Unsynced bytes are lost; synced ones survive.
	_, err := f.Write([]byte("bbb"))
	require.NoError(t, err)
	got, _ = content(t, m.CrashClone(), "/d/sub/a")
	assert.Equal(t, "aaa", got)
	require.NoError(t, f.Sync())
	got, _ = content(t, m.CrashClone(), "/d/sub/a")
	assert.Equal(t, "aaabbb", got)
	require.NoError(t, f.Truncate(2))
	got, _ = content(t, m.CrashClone(), "/d/sub/a")
	assert.Equal(t, "aaabbb", got, "truncate not synced")
	require.NoError(t, f.Sync())
	got, _ = content(t, m.CrashClone(), "/d/sub/a")
	assert.Equal(t, "aa", got)
	require.NoError(t, f.Close())

	// Rename and remove are durable only after SyncDir.
	require.NoError(t, m.Rename("/d/sub/a", "/d/sub/b"))
	c := m.CrashClone()
	_, okA := content(t, c, "/d/sub/a")
	_, okB := content(t, c, "/d/sub/b")
	assert.True(t, okA)
	assert.False(t, okB)
	require.NoError(t, m.SyncDir("/d/sub"))
	c = m.CrashClone()
	_, okA = content(t, c, "/d/sub/a")
	got, okB = content(t, c, "/d/sub/b")
	assert.False(t, okA)
	assert.True(t, okB)
	assert.Equal(t, "aa", got)
	require.NoError(t, m.Remove("/d/sub/b"))
	_, ok = content(t, m.CrashClone(), "/d/sub/b")
	assert.True(t, ok, "remove not synced")

	// A directory made by plain MkdirAll without syncing its parent is lost.
	require.NoError(t, m.MkdirAll("/e", 0o755))
	_, err = m.CrashClone().Stat("/e")
	assert.ErrorIs(t, err, os.ErrNotExist)

	// The clone is independent.
	c = m.CrashClone()
	create(t, c, "/d/sub/new", "x", true).Close()
	_, ok = content(t, m, "/d/sub/new")
	assert.False(t, ok)
}

func TestFaultInjection(t *testing.T) {
	m := vfs.NewMem()
	require.NoError(t, m.MkdirAll("/d", 0o755))
	f := create(t, m, "/d/f", "", false)
	m.FailNth(2, vfs.OpWrite)
	_, err := f.Write([]byte("first"))
	require.NoError(t, err)
	n, err := f.Write([]byte("second"))
	require.ErrorIs(t, err, vfs.ErrInjected)
	assert.Equal(t, 3, n, "a failed write is a short write")
	_, err = f.Write([]byte("third"))
	require.NoError(t, err, "only the nth fails")
	got, _ := content(t, m, "/d/f")
	assert.Equal(t, "firstsecthird", got)

	m.FailNth(1, vfs.OpSync)
	assert.ErrorIs(t, f.Sync(), vfs.ErrInjected)
	got, _ = content(t, m.CrashClone(), "/d/f")
	assert.Equal(t, "", got, "a failed sync makes nothing durable")
	require.NoError(t, f.Sync())

	m.FailPath("/d/f", vfs.OpOpen|vfs.OpRemove)
	_, err = m.OpenFile("/d/f", os.O_RDONLY, 0)
	assert.ErrorIs(t, err, vfs.ErrInjected)
	assert.ErrorIs(t, m.Remove("/d/f"), vfs.ErrInjected)
	require.NoError(t, m.Rename("/d/f", "/d/g"), "rename not in the mask")
	m.FailPath("/d/g", vfs.OpRename)
	assert.ErrorIs(t, m.Rename("/d/g", "/d/h"), vfs.ErrInjected)
	m.ClearFaults()
	require.NoError(t, m.Rename("/d/g", "/d/h"))

	before := m.Count(vfs.OpStat)
	_, _ = m.Stat("/d/h")
	assert.Equal(t, before+1, m.Count(vfs.OpStat))
	assert.Greater(t, m.Ops(), 10)

	// Every kind of operation can fail.
	for _, op := range []struct {
		op  vfs.Op
		run func() error
	}{
		{vfs.OpMkdir, func() error { return m.MkdirAll("/x", 0o755) }},
		{vfs.OpReadDir, func() error { _, err := m.ReadDir("/d"); return err }},
		{vfs.OpSyncDir, func() error { return m.SyncDir("/d") }},
		{vfs.OpTruncate, func() error { return f.Truncate(1) }},
		{vfs.OpRead, func() error { _, err := f.ReadAt(make([]byte, 1), 0); return err }},
		{vfs.OpStat, func() error { _, err := f.Stat(); return err }},
		{vfs.OpClose, func() error { return f.Close() }},
	} {
		m.FailNth(1, op.op)
		assert.ErrorIs(t, op.run(), vfs.ErrInjected, op.op.String())
	}
	m.ClearFaults()
}

func TestClosedFile(t *testing.T) {
	m := vfs.NewMem()
	f := create(t, m, "/f", "x", true)
	require.NoError(t, f.Close())
	assert.ErrorIs(t, f.Close(), os.ErrClosed)
	_, err := f.Write([]byte("y"))
	assert.ErrorIs(t, err, os.ErrClosed)
	_, err = f.Read(make([]byte, 1))
	assert.ErrorIs(t, err, os.ErrClosed)
	r, err := m.OpenFile("/f", os.O_RDONLY, 0)
	require.NoError(t, err)
	_, err = r.Write([]byte("no"))
	assert.Error(t, err, "read-only handle")
	require.NoError(t, r.Close())
}

func TestCrashAfter(t *testing.T) {
	m := vfs.NewMem()
	m.CrashAfter(3) // open, write, sync
	f := create(t, m, "/f", "abc", true)
	require.NoError(t, m.SyncDir("/"))
	img := m.CrashImage()
	require.NotNil(t, img)
	got, ok := content(t, img, "/f")
	assert.False(t, ok, "the directory entry was synced after the crash point")
	assert.Empty(t, got)
	m.CrashAfter(1)
	require.NoError(t, f.Sync())
	got, ok = content(t, m.CrashImage(), "/f")
	assert.True(t, ok)
	assert.Equal(t, "abc", got)
	m.CrashAfter(100)
	assert.Nil(t, m.CrashImage(), "not reached")
}
