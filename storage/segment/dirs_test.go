package segment

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"mqstack/proto/kafka"
	"mqstack/storage/checkpoint"
	"mqstack/storage/vfs"
)

func dirsOptions(fsys vfs.FS, clock *fakeClock, paths ...string) []DirOptions {
	out := make([]DirOptions, len(paths))
	for i, p := range paths {
		out[i] = DirOptions{FS: fsys, Path: p, Logger: zerolog.Nop(), Clock: clock.now,
			Config: func(string) Config { return tinyConfig() }}
	}
	return out
}

// Placement by fewest partitions (ties to the first configured), lookups
// and deletion in whichever dir holds the log, per-dir checkpoints and
// markers, and everything found again where it was after a reopen.
func TestDirsPlacementAndReopen(t *testing.T) {
	for _, e := range envs(t) {
		t.Run(e.name, func(t *testing.T) {
			root := filepath.Dir(e.dir)
			a, b, c := filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "c")
			clock := &fakeClock{ms: 1}
			// a holds two partitions from an earlier single-dir run.
			one, err := OpenDir(dirsOptions(e.fs, clock, a)[0])
			require.NoError(t, err)
			for p := range int32(2) {
				_, err := one.CreateLog(checkpoint.TopicPartition{Topic: "early", Partition: p})
				require.NoError(t, err)
			}
			require.NoError(t, one.Close())

			d, err := OpenDirs(dirsOptions(e.fs, clock, a, b, c))
			require.NoError(t, err)
			require.Len(t, d.Dirs(), 3)
			// Counts a=2 b=0 c=0: b, c, b, c, then a/b/c tie at 2 -> a, b, c.
			want := []string{b, c, b, c, a, b, c}
			for i, path := range want {
				tp := checkpoint.TopicPartition{Topic: "late", Partition: int32(i)}
				l, err := d.CreateLog(tp)
				require.NoError(t, err)
				ld, ok := d.Dir(tp)
				require.True(t, ok)
				require.Equal(t, path, ld.Path(), "partition %d", i)
				again, err := d.CreateLog(tp)
				require.NoError(t, err)
				require.Same(t, l, again, "an existing log is returned, not created elsewhere")
				_, err = l.Append(producerBatch(t, 0, i+1, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
				require.NoError(t, err)
				l.SetHighWatermark(l.LogEndOffset())
			}
			require.Len(t, d.Partitions(), 9)
			require.Equal(t, checkpoint.TopicPartition{Topic: "early", Partition: 0}, d.Partitions()[0])

			require.NoError(t, d.DeleteLog(checkpoint.TopicPartition{Topic: "late", Partition: 4}))
			_, err = e.fs.Stat(filepath.Join(a, "late-4"))
			require.Error(t, err, "deleted from the dir that held it")
			_, ok := d.Log(checkpoint.TopicPartition{Topic: "late", Partition: 4})
			require.False(t, ok)
			require.NoError(t, d.DeleteLog(checkpoint.TopicPartition{Topic: "none", Partition: 0}))
			require.NoError(t, d.Close())

			for path, parts := range map[string][]string{a: {"early-0", "early-1"}, b: {"late-0", "late-2", "late-5"}, c: {"late-1", "late-3", "late-6"}} {
				_, err := e.fs.Stat(filepath.Join(path, CleanShutdownFile))
				require.NoError(t, err, "%s has its marker", path)
				rp, err := checkpoint.ReadOffsets(e.fs, filepath.Join(path, checkpoint.RecoveryPointFile))
				require.NoError(t, err)
				var names []string
				for tp := range rp {
					names = append(names, tp.String())
				}
				require.ElementsMatch(t, parts, names, "%s's checkpoint names its own partitions", path)
			}

			d, err = OpenDirs(dirsOptions(e.fs, clock, a, b, c))
			require.NoError(t, err)
			defer func() { require.NoError(t, d.Close()) }()
			l, ok := d.Log(checkpoint.TopicPartition{Topic: "late", Partition: 5})
			require.True(t, ok)
			require.Equal(t, int64(6), l.LogEndOffset())
			require.Equal(t, int64(6), l.HighWatermark())
			ld, _ := d.Dir(checkpoint.TopicPartition{Topic: "late", Partition: 5})
			require.Equal(t, b, ld.Path())
			// Counts a=2 b=3 c=3: the next goes to a.
			_, err = d.CreateLog(checkpoint.TopicPartition{Topic: "later", Partition: 0})
			require.NoError(t, err)
			ld, _ = d.Dir(checkpoint.TopicPartition{Topic: "later", Partition: 0})
			require.Equal(t, a, ld.Path())
		})
	}
}

// A partition in two dirs, or a dir listed twice, is refused before any
// dir is opened: the clean shutdown markers stay.
func TestDirsDuplicatesRefused(t *testing.T) {
	for _, e := range envs(t) {
		t.Run(e.name, func(t *testing.T) {
			root := filepath.Dir(e.dir)
			a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
			clock := &fakeClock{ms: 1}
			for _, path := range []string{a, b} {
				d, err := OpenDir(dirsOptions(e.fs, clock, path)[0])
				require.NoError(t, err)
				_, err = d.CreateLog(checkpoint.TopicPartition{Topic: "t", Partition: 3})
				require.NoError(t, err)
				require.NoError(t, d.Close())
			}
			_, err := OpenDirs(dirsOptions(e.fs, clock, a, b))
			require.ErrorIs(t, err, ErrDuplicateLog)
			require.Contains(t, err.Error(), "for t-3 are found in both "+filepath.Join(a, "t-3")+" and "+filepath.Join(b, "t-3"))
			for _, path := range []string{a, b} {
				_, err := e.fs.Stat(filepath.Join(path, CleanShutdownFile))
				require.NoError(t, err, "%s was not opened", path)
			}

			_, err = OpenDirs(dirsOptions(e.fs, clock, a, filepath.Join(b, "..", "a")))
			require.ErrorIs(t, err, ErrConfig)
			require.Contains(t, err.Error(), "listed twice")
			if e.mem == nil {
				link := filepath.Join(root, "link")
				require.NoError(t, os.Symlink(a, link))
				_, err = OpenDirs(dirsOptions(e.fs, clock, a, link))
				require.ErrorIs(t, err, ErrConfig)
				require.Contains(t, err.Error(), "log dirs "+a+" and "+link+" are the same directory")
			}
		})
	}
}

// A log.dirs entry that is a file fails OpenDirs naming it, before any
// dir is created or opened.
func TestDirsUnusableDir(t *testing.T) {
	m := vfs.NewMem()
	require.NoError(t, m.MkdirAll("/data", 0o755))
	f, err := m.OpenFile("/data/file", os.O_WRONLY|os.O_CREATE, 0o644)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	clock := &fakeClock{ms: 1}
	_, err = OpenDirs(dirsOptions(m, clock, "/data/ok", "/data/file"))
	require.ErrorIs(t, err, ErrIO)
	require.Contains(t, err.Error(), "/data/file")
	require.Contains(t, err.Error(), "log.dirs")
	_, err = m.Stat("/data/ok")
	require.ErrorIs(t, err, fs.ErrNotExist, "nothing was created")
	// Alone, OpenDir names it too.
	_, err = OpenDir(dirsOptions(m, clock, "/data/file")[0])
	require.ErrorIs(t, err, ErrIO)
	require.Contains(t, err.Error(), "log dir /data/file is not a directory (check log.dirs)")
}
