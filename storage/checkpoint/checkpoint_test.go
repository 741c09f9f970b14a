package checkpoint

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"mqstack/storage/vfs"
)

type fsCase struct {
	name string
	fs   func(t *testing.T) (vfs.FS, string)
}

var filesystems = []fsCase{
	{"mem", func(t *testing.T) (vfs.FS, string) {
		m := vfs.NewMem()
		require.NoError(t, m.MkdirAll("/logs", 0o755))
		return m, "/logs"
	}},
	{"os", func(t *testing.T) (vfs.FS, string) { return vfs.OS(), t.TempDir() }},
}

func TestOffsetsRoundTrip(t *testing.T) {
	for _, fc := range filesystems {
		t.Run(fc.name, func(t *testing.T) {
			fsys, dir := fc.fs(t)
			path := filepath.Join(dir, RecoveryPointFile)
			got, err := ReadOffsets(fsys, path)
			require.NoError(t, err, "a missing checkpoint reads as empty")
			require.Empty(t, got)

			want := map[TopicPartition]int64{{"orders", 1}: 1432, {"orders", 0}: 1500, {"a.b_c-d", 12}: 0}
			require.NoError(t, WriteOffsets(fsys, path, want))
			got, err = ReadOffsets(fsys, path)
			require.NoError(t, err)
			require.Equal(t, want, got)

			f, err := fsys.OpenFile(path, 0, 0)
			require.NoError(t, err)
			buf := make([]byte, 100)
			n, _ := f.Read(buf)
			require.NoError(t, f.Close())
			require.Equal(t, "0\n3\na.b_c-d 12 0\norders 0 1500\norders 1 1432\n", string(buf[:n]))
			names, err := fsys.ReadDir(dir)
			require.NoError(t, err)
			require.Equal(t, []string{RecoveryPointFile}, names, "no temp file left behind")
		})
	}
}

func TestLeaderEpochsAndMetaRoundTrip(t *testing.T) {
	for _, fc := range filesystems {
		t.Run(fc.name, func(t *testing.T) {
			fsys, dir := fc.fs(t)
			path := filepath.Join(dir, LeaderEpochFile)
			want := []EpochEntry{{0, 0}, {3, 1200}, {4, 1200}}
			require.NoError(t, WriteLeaderEpochs(fsys, path, want))
			got, err := ReadLeaderEpochs(fsys, path)
			require.NoError(t, err)
			require.Equal(t, want, got)

			_, ok, err := ReadMeta(fsys, dir)
			require.NoError(t, err)
			require.False(t, ok)
			m := Meta{Version: 0, BrokerID: 3, ClusterID: "fRZlqeRkQtuEzhM0wtk0zw"}
			require.NoError(t, WriteMeta(fsys, dir, m, "Sat Nov 21 12:00:00 UTC 2026"))
			gotM, ok, err := ReadMeta(fsys, dir)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, m, gotM)
		})
	}
}

// A meta.properties as Apache Kafka 2.8 writes it in ZooKeeper mode.
func TestParseApacheMeta(t *testing.T) {
	m, err := ParseMeta("meta.properties", []byte("#\n#Tue Mar 01 10:00:00 UTC 2022\ncluster.id=Z3kxp9lBR9ukWUanD0vi2A\nversion=0\nbroker.id=0\n"))
	require.NoError(t, err)
	require.Equal(t, Meta{Version: 0, BrokerID: 0, ClusterID: "Z3kxp9lBR9ukWUanD0vi2A"}, m)
}

func TestMalformedNamesFileAndLine(t *testing.T) {
	cases := []struct {
		data, wantLine string
	}{
		{"1\n0\n", "f:1:"},
		{"0\nx\n", "f:2:"},
		{"0\n2\nt 0 5\n", "f:4:"},
		{"0\n1\nt 0\n", "f:3:"},
		{"0\n2\nt 0 5\nt zero 6\n", "f:4:"},
		{"0\n2\nt 0 5\nt 0 6\n", "f:4:"},
		{"0\n", "f:2:"},
	}
	for _, c := range cases {
		_, err := ParseOffsets("f", []byte(c.data))
		require.ErrorIs(t, err, ErrMalformed, c.data)
		require.Contains(t, err.Error(), c.wantLine, c.data)
	}
	_, err := ParseLeaderEpochs("e", []byte("0\n2\n3 100\n2 200\n"))
	require.ErrorIs(t, err, ErrMalformed)
	require.Contains(t, err.Error(), "e:4:")
	_, err = ParseMeta("m", []byte("version=0\nbroker.id=x\n"))
	require.ErrorIs(t, err, ErrMalformed)
	require.Contains(t, err.Error(), "m:2:")
	_, err = ParseMeta("m", []byte("version=1\nbroker.id=1\n"))
	require.ErrorIs(t, err, ErrMalformed)
	_, err = ParseMeta("m", []byte("broker.id=1\n"))
	require.ErrorIs(t, err, ErrMalformed)
}

// A crash at any point of an overwrite leaves the old or the new content.
func TestCrashDuringWriteIsAtomic(t *testing.T) {
	old := map[TopicPartition]int64{{"t", 0}: 10}
	newer := map[TopicPartition]int64{{"t", 0}: 20, {"t", 1}: 5}
	for n := 1; ; n++ {
		m := vfs.NewMem()
		require.NoError(t, m.MkdirAll("/d", 0o755))
		require.NoError(t, m.SyncDir("/"))
		path := "/d/" + ReplicationFile
		require.NoError(t, WriteOffsets(m, path, old))
		m.CrashAfter(n)
		require.NoError(t, WriteOffsets(m, path, newer))
		img := m.CrashImage()
		if img == nil {
			require.Greater(t, n, 3, "the write takes several operations")
			break
		}
		got, err := ReadOffsets(img, path)
		require.NoError(t, err, "crash after op %d", n)
		if !(len(got) == 1 && got[TopicPartition{"t", 0}] == 10) {
			require.Equal(t, newer, got, "crash after op %d", n)
		}
	}
}

// Each filesystem operation failing once gives an error, never a panic,
// and the old content stays readable.
func TestEachOpFailsOnce(t *testing.T) {
	old := map[TopicPartition]int64{{"t", 0}: 10}
	for n := 1; n < 20; n++ {
		m := vfs.NewMem()
		require.NoError(t, m.MkdirAll("/d", 0o755))
		path := "/d/" + RecoveryPointFile
		require.NoError(t, WriteOffsets(m, path, old))
		before := m.Ops()
		m.FailNth(n, vfs.OpAll)
		err := WriteOffsets(m, path, map[TopicPartition]int64{{"t", 0}: 11})
		if m.Ops()-before < n {
			require.NoError(t, err)
			break
		}
		require.Error(t, err, "op %d", n)
		require.True(t, errors.Is(err, ErrWrite) && errors.Is(err, vfs.ErrInjected), "op %d: %v", n, err)
		m.ClearFaults()
		got, err := ReadOffsets(m, path)
		require.NoError(t, err)
		require.Contains(t, []int64{10, 11}, got[TopicPartition{"t", 0}])
	}
}
