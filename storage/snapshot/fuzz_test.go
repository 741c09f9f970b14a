package snapshot_test

import (
	"hash/adler32"
	"testing"

	"mqstack/proto/jute"

	"github.com/stretchr/testify/require"

	"mqstack/storage/snapshot"
	"mqstack/storage/vfs"
)

// FuzzSnapshotRead decodes arbitrary bytes as a snapshot. It must not
// panic; what decodes cleanly is written again with Write and must decode
// to the same contents.
func FuzzSnapshotRead(f *testing.F) {
	fsys := vfs.NewMem()
	_, err := snapshot.Write(fsys, "/d", 1, sample('f').snapshot())
	require.NoError(f, err)
	valid := readAll(f, fsys, "/d/snapshot.1")
	f.Add([]byte{})
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(valid[:16])
	f.Add(appendDigest(append([]byte(nil), valid...), 2))
	f.Add(appendDigest(append([]byte(nil), valid...), 1))
	// Inputs without their seal get one appended, so the fuzzer reaches
	// the structure behind the checksum.
	f.Add(valid[:len(valid)-13])
	f.Fuzz(func(t *testing.T, data []byte) {
		first := &recorder{}
		if _, err := snapshot.Decode(data, first); err != nil {
			first = &recorder{}
			if _, err := snapshot.Decode(seal(data), first); err != nil {
				return
			}
		}
		fsys := vfs.NewMem()
		path, err := snapshot.Write(fsys, "/d", 1, first.snapshot())
		if err != nil {
			t.Fatalf("re-writing a decoded snapshot: %v", err)
		}
		second := &recorder{}
		if _, err := snapshot.Decode(readAll(t, fsys, path), second); err != nil {
			t.Fatalf("re-written snapshot does not decode: %v", err)
		}
		require.Equal(t, len(first.Nodes), len(second.Nodes))
		require.Equal(t, first.Sessions, second.Sessions)
		for i := range first.Nodes {
			require.Equal(t, first.Nodes[i], second.Nodes[i])
		}
	})
}

// seal appends a checksum seal (Adler32 of data, then "/") to data.
func seal(data []byte) []byte {
	e := jute.Encoder{Buf: append([]byte(nil), data...)}
	e.Long(int64(adler32.Checksum(data)))
	e.String("/")
	return e.Buf
}
