package snapshot_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/adler32"
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/proto/jute"
	"mqstack/storage/snapshot"
	"mqstack/storage/vfs"
)

type node struct {
	Path string
	Node jute.DataNode
}

// recorder is a Visitor that keeps everything, and a Snapshot source.
type recorder struct {
	Sessions []snapshot.Session
	ACLs     []snapshot.ACLEntry
	Nodes    []node
	failAt   string
}

func (r *recorder) Session(id int64, timeout int32) {
	r.Sessions = append(r.Sessions, snapshot.Session{ID: id, Timeout: timeout})
}
func (r *recorder) ACL(ref int64, acl []jute.ACL) {
	r.ACLs = append(r.ACLs, snapshot.ACLEntry{Ref: ref, ACL: acl})
}
func (r *recorder) Node(path string, n *jute.DataNode) error {
	if path == r.failAt && r.failAt != "" {
		return errBoom
	}
	r.Nodes = append(r.Nodes, node{path, *n})
	return nil
}

var errBoom = errors.New("boom")

func (r *recorder) snapshot() *snapshot.Snapshot {
	return &snapshot.Snapshot{Sessions: r.Sessions, ACLs: r.ACLs, Nodes: func(yield func(string, *jute.DataNode) error) error {
		for i := range r.Nodes {
			if err := yield(r.Nodes[i].Path, &r.Nodes[i].Node); err != nil {
				return err
			}
		}
		return nil
	}}
}

func stat(z int64) jute.StatPersisted {
	return jute.StatPersisted{Czxid: z, Mzxid: z + 1, Ctime: 1700000000000 + z, Mtime: 1700000000001 + z, Version: int32(z % 3),
		Cversion: int32(z % 5), Aversion: 1, EphemeralOwner: z % 2 * 0x1000, Pzxid: z + 2}
}

// sample is a tree like Apache's: root, /zookeeper, /zookeeper/quota, and user nodes.
func sample(tag byte) *recorder {
	world := []jute.ACL{{Perms: 31, ID: jute.ID{Scheme: "world", ID: "anyone"}}}
	digest := []jute.ACL{{Perms: 1, ID: jute.ID{Scheme: "digest", ID: "u:x"}}, {Perms: 30, ID: jute.ID{Scheme: "ip", ID: "127.0.0.1"}}}
	return &recorder{
		Sessions: []snapshot.Session{{ID: 0x100, Timeout: 30000}, {ID: 0x101, Timeout: 4000}},
		ACLs:     []snapshot.ACLEntry{{Ref: 1, ACL: world}, {Ref: 2, ACL: digest}},
		Nodes: []node{
			{"", jute.DataNode{Data: []byte{}, ACL: -1, Stat: jute.StatPersisted{Pzxid: 5}}},
			{"/zookeeper", jute.DataNode{Data: []byte{}, ACL: -1}},
			{"/zookeeper/quota", jute.DataNode{Data: []byte{}, ACL: -1}},
			{"/a", jute.DataNode{Data: []byte{'a', tag}, ACL: 1, Stat: stat(3)}},
			{"/a/b", jute.DataNode{Data: nil, ACL: 2, Stat: stat(4)}},
			{"/c", jute.DataNode{Data: bytes.Repeat([]byte{tag}, 5000), ACL: 1, Stat: stat(5)}},
		},
	}
}

func logger(t testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
}

type fsCase struct {
	name string
	new  func(t *testing.T) (vfs.FS, string)
}

var filesystems = []fsCase{
	{"os", func(t *testing.T) (vfs.FS, string) { return vfs.OS(), filepath.Join(t.TempDir(), "version-2") }},
	{"mem", func(t *testing.T) (vfs.FS, string) { return vfs.NewMem(), "/data/version-2" }},
}

func TestRoundTrip(t *testing.T) {
	for _, fc := range filesystems {
		t.Run(fc.name, func(t *testing.T) {
			fsys, dir := fc.new(t)
			in := sample('x')
			path, err := snapshot.Write(fsys, dir, 0x1f, in.snapshot())
			require.NoError(t, err)
			assert.Equal(t, filepath.Join(dir, "snapshot.1f"), path)
			names, err := fsys.ReadDir(dir)
			require.NoError(t, err)
			assert.Equal(t, []string{"snapshot.1f"}, names, "no temp file left")

			out := &recorder{}
			zxid, found, err := snapshot.ReadNewest(fsys, dir, logger(t), out)
			require.NoError(t, err)
			assert.True(t, found)
			assert.Equal(t, int64(0x1f), zxid)
			assert.Equal(t, in, out)
		})
	}
}

func readAll(t testing.TB, fsys vfs.FS, path string) []byte {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	require.NoError(t, err)
	defer f.Close()
	st, err := f.Stat()
	require.NoError(t, err)
	b := make([]byte, st.Size())
	_, err = f.ReadAt(b, 0)
	require.NoError(t, err)
	return b
}

func writeAll(t testing.TB, fsys vfs.FS, path string, b []byte) {
	f, err := fsys.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	require.NoError(t, err)
	_, err = f.Write(b)
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
}

// The byte layout, field by field.
func TestByteLayout(t *testing.T) {
	fsys := vfs.NewMem()
	in := &recorder{
		Sessions: []snapshot.Session{{ID: 7, Timeout: 9}},
		ACLs:     []snapshot.ACLEntry{{Ref: 1, ACL: nil}},
		Nodes:    []node{{"", jute.DataNode{ACL: -1}}},
	}
	_, err := snapshot.Write(fsys, "/d", 1, in.snapshot())
	require.NoError(t, err)
	got := readAll(t, fsys, "/d/snapshot.1")
	var e jute.Encoder
	e.Buf = append(e.Buf, "ZKSN\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"...)
	e.Int(1)
	e.Long(7)
	e.Int(9)
	e.Int(1)  // ACL cache size
	e.Long(1) // ref
	e.Int(0)  // empty vector, never -1 (Apache rejects null)
	e.String("")
	(&jute.DataNode{ACL: -1}).Encode(&e)
	e.String("/")
	e.Long(int64(adler32.Checksum(e.Buf)))
	e.String("/")
	assert.Equal(t, e.Buf, got)
}

// appendDigest adds Apache 3.6+'s ZxidDigest and second seal to a file.
func appendDigest(b []byte, version int32) []byte {
	e := jute.Encoder{Buf: b}
	e.Long(0x1f)
	e.Int(version)
	if version < 2 {
		e.String("abc123")
	} else {
		e.Long(0x7777)
	}
	e.Long(int64(adler32.Checksum(e.Buf)))
	e.String("/")
	return e.Buf
}

func TestDigestAccepted(t *testing.T) {
	fsys := vfs.NewMem()
	_, err := snapshot.Write(fsys, "/d", 0x1f, sample('d').snapshot())
	require.NoError(t, err)
	plain := readAll(t, fsys, "/d/snapshot.1f")
	info, err := snapshot.Decode(plain, nil)
	require.NoError(t, err)
	assert.Nil(t, info.Digest)
	assert.Equal(t, 6, info.Nodes)

	withDigest := appendDigest(append([]byte(nil), plain...), 2)
	info, err = snapshot.Decode(withDigest, nil)
	require.NoError(t, err)
	assert.Equal(t, &snapshot.ZxidDigest{Zxid: 0x1f, DigestVersion: 2, Digest: 0x7777}, info.Digest)

	old := appendDigest(append([]byte(nil), plain...), 1)
	info, err = snapshot.Decode(old, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(0xabc123), info.Digest.Digest)

	// A bad second seal is corruption.
	withDigest[len(withDigest)-7] ^= 1
	_, err = snapshot.Decode(withDigest, nil)
	assert.ErrorIs(t, err, snapshot.ErrCorrupt)

	// ReadNewest takes the digest form.
	writeAll(t, fsys, "/d/snapshot.1f", appendDigest(append([]byte(nil), plain...), 2))
	out := &recorder{}
	_, found, err := snapshot.ReadNewest(fsys, "/d", logger(t), out)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, sample('d'), out)
}

// A snapshot that fails its checksum is skipped with a log line and the
// previous one is used; the visitor sees only the good one.
func TestChecksumFailureFallsBack(t *testing.T) {
	for _, fc := range filesystems {
		t.Run(fc.name, func(t *testing.T) {
			fsys, dir := fc.new(t)
			_, err := snapshot.Write(fsys, dir, 10, sample('a').snapshot())
			require.NoError(t, err)
			newest, err := snapshot.Write(fsys, dir, 20, sample('b').snapshot())
			require.NoError(t, err)
			data := readAll(t, fsys, newest)
			data[len(data)/2] ^= 0x20 // inside /c's data
			writeAll(t, fsys, newest, data)

			var logs bytes.Buffer
			out := &recorder{}
			zxid, found, err := snapshot.ReadNewest(fsys, dir, zerolog.New(&logs), out)
			require.NoError(t, err)
			assert.True(t, found)
			assert.Equal(t, int64(10), zxid)
			assert.Equal(t, sample('a'), out, "visitor saw only the older snapshot")
			assert.Contains(t, logs.String(), newest)
			assert.Contains(t, logs.String(), "checksum")

			// When every snapshot is bad, ReadNewest fails and names them.
			old := readAll(t, fsys, filepath.Join(dir, "snapshot.a"))
			old[30] ^= 1
			writeAll(t, fsys, filepath.Join(dir, "snapshot.a"), old)
			_, found, err = snapshot.ReadNewest(fsys, dir, logger(t), &recorder{})
			require.ErrorIs(t, err, snapshot.ErrCorrupt)
			assert.False(t, found)
			assert.Contains(t, err.Error(), "snapshot.a")
			assert.Contains(t, err.Error(), "snapshot.14")
		})
	}
}

func TestReadNewestEdgeCases(t *testing.T) {
	fsys := vfs.NewMem()
	_, found, err := snapshot.ReadNewest(fsys, "/missing", logger(t), &recorder{})
	require.NoError(t, err)
	assert.False(t, found)

	require.NoError(t, fsys.MkdirAll("/d", 0o755))
	// An incomplete (unsealed) snapshot is skipped quietly, like Apache's isValidSnapshot.
	_, err = snapshot.Write(fsys, "/d", 5, sample('a').snapshot())
	require.NoError(t, err)
	full := readAll(t, fsys, "/d/snapshot.5")
	writeAll(t, fsys, "/d/snapshot.9", full[:len(full)/2])
	writeAll(t, fsys, "/d/snapshot.a.tmp", full)
	out := &recorder{}
	zxid, found, err := snapshot.ReadNewest(fsys, "/d", logger(t), out)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, int64(5), zxid)

	// Only incomplete ones: none found.
	require.NoError(t, fsys.Remove("/d/snapshot.5"))
	_, found, err = snapshot.ReadNewest(fsys, "/d", logger(t), &recorder{})
	require.NoError(t, err)
	assert.False(t, found)

	// A compressed newest snapshot is refused with the fix in the message.
	writeAll(t, fsys, "/d/snapshot.b.snappy", []byte("whatever"))
	_, _, err = snapshot.ReadNewest(fsys, "/d", logger(t), &recorder{})
	require.ErrorIs(t, err, snapshot.ErrCompressed)
	assert.Contains(t, err.Error(), "snapshot.compression.method")

	// A visitor error stops the load and is returned.
	fsys2 := vfs.NewMem()
	_, err = snapshot.Write(fsys2, "/d", 5, sample('a').snapshot())
	require.NoError(t, err)
	_, _, err = snapshot.ReadNewest(fsys2, "/d", logger(t), &recorder{failAt: "/a"})
	require.ErrorIs(t, err, errBoom)
}

func TestWriteRejectsBadTrees(t *testing.T) {
	fsys := vfs.NewMem()
	for _, nodes := range [][]node{
		{},
		{{"/a", jute.DataNode{}}},
		{{"", jute.DataNode{}}, {"/", jute.DataNode{}}},
		{{"", jute.DataNode{}}, {"", jute.DataNode{}}},
	} {
		r := &recorder{Nodes: nodes}
		_, err := snapshot.Write(fsys, "/d", 1, r.snapshot())
		require.ErrorIs(t, err, snapshot.ErrInvalid, "%v", nodes)
		names, err := fsys.ReadDir("/d")
		require.NoError(t, err)
		assert.Empty(t, names, "temp file removed")
	}
	_, err := snapshot.Write(fsys, "/d", 1, &snapshot.Snapshot{})
	require.ErrorIs(t, err, snapshot.ErrInvalid)
}

// Decode validates the tree order: a node whose parent was not seen is corrupt.
func TestDecodeRejectsOrphans(t *testing.T) {
	r := &recorder{Nodes: []node{{"", jute.DataNode{}}, {"/a/b", jute.DataNode{}}}}
	fsys := vfs.NewMem()
	_, err := snapshot.Write(fsys, "/d", 1, r.snapshot())
	require.NoError(t, err, "Write checks only the root and the end marker")
	_, err = snapshot.Decode(readAll(t, fsys, "/d/snapshot.1"), nil)
	require.ErrorIs(t, err, snapshot.ErrCorrupt)
	assert.Contains(t, err.Error(), "/a/b")
}

// Crash at every point of a Write: the crashed copy holds the old snapshot
// or the new one, never a damaged file that ReadNewest returns.
func TestWriteCrashAndFaults(t *testing.T) {
	clean := vfs.NewMem()
	_, err := snapshot.Write(clean, "/d", 1, sample('a').snapshot())
	require.NoError(t, err)
	start := clean.Ops()
	_, err = snapshot.Write(clean, "/d", 2, sample('b').snapshot())
	require.NoError(t, err)
	total := clean.Ops() - start
	for i := 1; i <= total; i++ {
		fsys := vfs.NewMem()
		_, err := snapshot.Write(fsys, "/d", 1, sample('a').snapshot())
		require.NoError(t, err)
		fsys.FailNth(i, vfs.OpAll)
		_, werr := snapshot.Write(fsys, "/d", 2, sample('b').snapshot())
		fsys.ClearFaults()
		for _, view := range []*vfs.MemFS{fsys, fsys.CrashClone()} {
			out := &recorder{}
			zxid, found, err := snapshot.ReadNewest(view, "/d", logger(t), out)
			require.NoError(t, err, "op %d (write error %v)", i, werr)
			require.True(t, found)
			switch zxid {
			case 1:
				assert.Equal(t, sample('a'), out)
			case 2:
				assert.Equal(t, sample('b'), out)
			default:
				t.Fatalf("op %d: zxid %d", i, zxid)
			}
		}
		if werr == nil {
			// Without an error the new snapshot is durable.
			zxid, _, err := snapshot.ReadNewest(fsys.CrashClone(), "/d", logger(t), &recorder{})
			require.NoError(t, err)
			assert.Equal(t, int64(2), zxid, "op %d: Write returned nil but the snapshot is not durable", i)
		} else {
			assert.ErrorIs(t, werr, vfs.ErrInjected)
		}
	}
}

func TestPurge(t *testing.T) {
	fsys := vfs.NewMem()
	for _, z := range []int64{0x10, 0x20, 0x30, 0x40, 0x50} {
		_, err := snapshot.Write(fsys, "/snap", z, sample('p').snapshot())
		require.NoError(t, err)
	}
	// An unsealed newest snapshot does not count among the kept ones.
	writeAll(t, fsys, "/snap/snapshot.60", []byte("ZKSN\x00\x00\x00\x02 torn"))
	require.NoError(t, fsys.MkdirAll("/logs", 0o755))
	for _, n := range []string{"log.1", "log.15", "log.25", "log.2f", "log.45", "log.55", "other.txt"} {
		writeAll(t, fsys, "/logs/"+n, []byte("x"))
	}
	require.NoError(t, snapshot.Purge(fsys, "/snap", "/logs", 1)) // clamped to 3
	snaps, err := fsys.ReadDir("/snap")
	require.NoError(t, err)
	assert.Equal(t, []string{"snapshot.30", "snapshot.40", "snapshot.50", "snapshot.60"}, snaps)
	logs, err := fsys.ReadDir("/logs")
	require.NoError(t, err)
	// Oldest kept snapshot is 0x30; log.2f may hold txns after 0x30 and stays.
	assert.Equal(t, []string{"log.2f", "log.45", "log.55", "other.txt"}, logs)

	// Durable: the crash clone agrees.
	crashed := fsys.CrashClone()
	snaps, err = crashed.ReadDir("/snap")
	require.NoError(t, err)
	assert.Len(t, snaps, 4)

	// Log starting exactly at the snapshot's zxid: older logs go.
	fsys = vfs.NewMem()
	for _, z := range []int64{1, 2, 3} {
		_, err := snapshot.Write(fsys, "/v", z<<4, sample('p').snapshot())
		require.NoError(t, err)
	}
	for _, n := range []string{"log.1", "log.10", "log.11"} {
		writeAll(t, fsys, "/v/"+n, []byte("x"))
	}
	require.NoError(t, snapshot.Purge(fsys, "/v", "/v", 3))
	names, err := fsys.ReadDir("/v")
	require.NoError(t, err)
	assert.Equal(t, []string{"log.10", "log.11", "snapshot.10", "snapshot.20", "snapshot.30"}, names)

	// Nothing to keep: nothing deleted.
	require.NoError(t, snapshot.Purge(vfs.NewMem(), "/none", "/none", 3))
}

func TestSealHelpers(t *testing.T) {
	// Sanity check of the seal bytes the Apache tail check looks for.
	fsys := vfs.NewMem()
	_, err := snapshot.Write(fsys, "/d", 1, sample('s').snapshot())
	require.NoError(t, err)
	b := readAll(t, fsys, "/d/snapshot.1")
	assert.Equal(t, uint32(1), binary.BigEndian.Uint32(b[len(b)-5:]))
	assert.Equal(t, byte('/'), b[len(b)-1])
}

// Crash right after every filesystem operation of a Write: the image holds
// the old snapshot or the new one, and the new one once Write returned.
func TestWriteCrashAfterEveryOperation(t *testing.T) {
	probe := vfs.NewMem()
	_, err := snapshot.Write(probe, "/d", 1, sample('a').snapshot())
	require.NoError(t, err)
	start := probe.Ops()
	_, err = snapshot.Write(probe, "/d", 2, sample('b').snapshot())
	require.NoError(t, err)
	total := probe.Ops() - start
	for i := 1; i <= total; i++ {
		fsys := vfs.NewMem()
		_, err := snapshot.Write(fsys, "/d", 1, sample('a').snapshot())
		require.NoError(t, err)
		fsys.CrashAfter(i)
		_, err = snapshot.Write(fsys, "/d", 2, sample('b').snapshot())
		require.NoError(t, err)
		img := fsys.CrashImage()
		require.NotNil(t, img)
		out := &recorder{}
		zxid, found, err := snapshot.ReadNewest(img, "/d", logger(t), out)
		require.NoError(t, err, "crash after op %d", i)
		require.True(t, found)
		if i == total {
			assert.Equal(t, int64(2), zxid, "Write returned: the new snapshot is durable")
		}
		if zxid == 1 {
			assert.Equal(t, sample('a'), out)
		} else {
			assert.Equal(t, sample('b'), out)
		}
	}
}
