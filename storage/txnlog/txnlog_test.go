package txnlog_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/proto/jute"
	"mqstack/storage/txnlog"
	"mqstack/storage/vfs"
)

// entry returns a transaction of a type that varies with zxid.
func entry(zxid int64) *jute.TxnEntry {
	h := jute.TxnHeader{ClientID: 0x1000 + zxid%3, Cxid: int32(zxid), Zxid: zxid, Time: 1700000000000 + zxid}
	path := fmt.Sprintf("/n%d", zxid)
	switch zxid % 6 {
	case 0:
		h.Type = jute.OpCreate
		return &jute.TxnEntry{Header: h, Txn: &jute.CreateTxn{Path: path, Data: bytes.Repeat([]byte{byte(zxid)}, int(zxid%50)),
			ACL: []jute.ACL{{Perms: 31, ID: jute.ID{Scheme: "world", ID: "anyone"}}}, ParentCVersion: int32(zxid)},
			Digest: &jute.TxnDigest{Version: 2, TreeDigest: zxid * 7}}
	case 1:
		h.Type = jute.OpSetData
		return &jute.TxnEntry{Header: h, Txn: &jute.SetDataTxn{Path: path, Data: []byte("v"), Version: 3}}
	case 2:
		h.Type = jute.OpDelete
		return &jute.TxnEntry{Header: h, Txn: &jute.DeleteTxn{Path: path}}
	case 3:
		h.Type = jute.OpCreateSession
		return &jute.TxnEntry{Header: h, Txn: &jute.CreateSessionTxn{TimeOut: 30000}}
	case 4:
		h.Type = jute.OpCloseSession
		return &jute.TxnEntry{Header: h, Txn: &jute.CloseSessionTxn{Paths2Delete: []string{path}}}
	default:
		h.Type = jute.OpMulti
		sub := jute.Marshal(&jute.DeleteTxn{Path: path})
		return &jute.TxnEntry{Header: h, Txn: &jute.MultiTxn{Txns: []jute.SubTxn{{Type: jute.OpDelete, Data: sub}}}}
	}
}

func logger(t testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
}

// replayAll returns the zxids of every entry after afterZxid, and checks each
// decodes to what entry() produced.
func replayAll(t testing.TB, fsys vfs.FS, dir string, after int64) ([]int64, error) {
	var got []int64
	_, err := txnlog.Replay(fsys, dir, after, logger(t), func(e *jute.TxnEntry) error {
		if !assert.Equal(t, entry(e.Header.Zxid), e, "entry %d", e.Header.Zxid) {
			return fmt.Errorf("mismatch")
		}
		got = append(got, e.Header.Zxid)
		return nil
	})
	return got, err
}

func seq(from, to int64) []int64 {
	var s []int64
	for z := from; z <= to; z++ {
		s = append(s, z)
	}
	return s
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
			l, err := txnlog.Open(fsys, dir, txnlog.Options{PreAllocSize: 64 << 10, Logger: logger(t)})
			require.NoError(t, err)
			assert.Equal(t, int64(0), l.LastZxid())
			for z := int64(1); z <= 120; z++ {
				require.NoError(t, l.Append(entry(z)))
				if z%7 == 0 {
					require.NoError(t, l.Sync())
				}
				if z == 50 {
					require.NoError(t, l.Roll())
				}
			}
			assert.Equal(t, int64(120), l.LastZxid())
			require.NoError(t, l.Close())
			assert.ErrorIs(t, l.Close(), txnlog.ErrClosed)

			names, err := fsys.ReadDir(dir)
			require.NoError(t, err)
			assert.Equal(t, []string{"log.1", "log.33"}, names, "files named by their first zxid in hex")
			for _, n := range names {
				st, err := fsys.Stat(filepath.Join(dir, n))
				require.NoError(t, err)
				assert.Zero(t, st.Size()%(64<<10), "%s is padded to a multiple of PreAllocSize", n)
			}

			got, err := replayAll(t, fsys, dir, 0)
			require.NoError(t, err)
			assert.Equal(t, seq(1, 120), got)
			got, err = replayAll(t, fsys, dir, 60)
			require.NoError(t, err)
			assert.Equal(t, seq(61, 120), got)
			last, err := txnlog.Replay(fsys, dir, 120, logger(t), func(*jute.TxnEntry) error { return errors.New("none expected") })
			require.NoError(t, err)
			assert.Equal(t, int64(120), last)

			// Reopen: LastZxid comes from disk, the next Append starts a new file.
			l, err = txnlog.Open(fsys, dir, txnlog.Options{PreAllocSize: 64 << 10, Logger: logger(t)})
			require.NoError(t, err)
			assert.Equal(t, int64(120), l.LastZxid())
			assert.ErrorIs(t, l.Append(entry(120)), txnlog.ErrZxidOrder)
			require.NoError(t, l.Append(entry(121)))
			require.NoError(t, l.Close())
			names, err = fsys.ReadDir(dir)
			require.NoError(t, err)
			assert.Equal(t, []string{"log.1", "log.33", "log.79"}, names)
			got, err = replayAll(t, fsys, dir, 0)
			require.NoError(t, err)
			assert.Equal(t, seq(1, 121), got)
		})
	}
}

// The byte layout: header, then crc/len/body/'B' per entry, then zeros.
func TestByteLayout(t *testing.T) {
	fsys := vfs.NewMem()
	l, err := txnlog.Open(fsys, "/d", txnlog.Options{PreAllocSize: 4096, Logger: logger(t)})
	require.NoError(t, err)
	require.NoError(t, l.Append(entry(0x1a)))
	require.NoError(t, l.Close())
	data := readAll(t, fsys, "/d/log.1a")
	want := []byte("ZKLG\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00")
	assert.Equal(t, want, data[:16])
	var body jute.Encoder
	jute.EncodeTxnEntry(&body, entry(0x1a))
	framed := txnlog.AppendEntry(nil, entry(0x1a))
	assert.Equal(t, framed, data[16:16+len(framed)])
	assert.Equal(t, body.Buf, framed[12:12+len(body.Buf)])
	assert.Equal(t, byte('B'), framed[len(framed)-1])
	assert.Equal(t, 4096, len(data), "padded to the next multiple of PreAllocSize past the write position")
	assert.True(t, allZero(data[16+len(framed):]))
}

func allZero(b []byte) bool { return bytes.Count(b, []byte{0}) == len(b) }

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

// A tiny PreAllocSize forces the file to be extended many times, including
// by entries larger than the pre-allocation.
func TestPreAllocExtension(t *testing.T) {
	for _, fc := range filesystems {
		t.Run(fc.name, func(t *testing.T) {
			fsys, dir := fc.new(t)
			l, err := txnlog.Open(fsys, dir, txnlog.Options{PreAllocSize: 512, Logger: logger(t)})
			require.NoError(t, err)
			var sizes []int64
			for z := int64(1); z <= 60; z++ {
				e := entry(z)
				if z%10 == 0 {
					e = &jute.TxnEntry{Header: jute.TxnHeader{Zxid: z, Type: jute.OpSetData},
						Txn: &jute.SetDataTxn{Path: "/big", Data: bytes.Repeat([]byte("x"), 3000)}}
				}
				require.NoError(t, l.Append(e))
				require.NoError(t, l.Sync())
				st, err := fsys.Stat(filepath.Join(dir, "log.1"))
				require.NoError(t, err)
				sizes = append(sizes, st.Size())
			}
			require.NoError(t, l.Close())
			for i := 1; i < len(sizes); i++ {
				assert.GreaterOrEqual(t, sizes[i], sizes[i-1])
			}
			assert.Greater(t, sizes[len(sizes)-1], int64(20*512), "extended many times")
			var n int
			_, err = txnlog.Replay(fsys, dir, 0, logger(t), func(e *jute.TxnEntry) error { n++; return nil })
			require.NoError(t, err)
			assert.Equal(t, 60, n)
		})
	}
}

// Group commit: many Appends, one Sync, one fsync.
func TestGroupCommit(t *testing.T) {
	fsys := vfs.NewMem()
	l, err := txnlog.Open(fsys, "/d", txnlog.Options{Logger: logger(t)})
	require.NoError(t, err)
	// The first Append creates the file (header written and fsynced under a
	// temporary name, then renamed); group commit is measured after that.
	require.NoError(t, l.Append(entry(1)))
	require.NoError(t, l.Sync())
	syncs, writes := fsys.Count(vfs.OpSync), fsys.Count(vfs.OpWrite)
	for z := int64(2); z <= 500; z++ {
		require.NoError(t, l.Append(entry(z)))
	}
	assert.Equal(t, syncs+writes, fsys.Count(vfs.OpSync|vfs.OpWrite), "Append does no I/O")
	require.NoError(t, l.Sync())
	assert.Equal(t, 1, fsys.Count(vfs.OpSync)-syncs, "one fsync for 499 entries")
	assert.Equal(t, 1, fsys.Count(vfs.OpWrite)-writes, "one write for 499 entries")
	got, err := replayAll(t, fsys.CrashClone(), "/d", 0)
	require.NoError(t, err)
	assert.Equal(t, seq(1, 500), got, "all durable after one Sync")
	require.NoError(t, l.Close())
}

// Crash after every sync point: everything acknowledged by a Sync is there
// after the crash, nothing else (nothing unacknowledged and nothing invalid).
// The crashed copy is then reopened and written again.
func TestCrashAfterEverySync(t *testing.T) {
	fsys := vfs.NewMem()
	l, err := txnlog.Open(fsys, "/data/version-2", txnlog.Options{PreAllocSize: 1024, Logger: logger(t)})
	require.NoError(t, err)
	acked := int64(0)
	z := int64(0)
	for round := 1; round <= 40; round++ {
		for i := 0; i < round%5+1; i++ {
			z++
			require.NoError(t, l.Append(entry(z)))
		}
		// Crash before the Sync: only the acknowledged ones survive.
		checkCrash(t, fsys.CrashClone(), acked, z)
		require.NoError(t, l.Sync())
		acked = z
		checkCrash(t, fsys.CrashClone(), acked, z)
		if round%9 == 0 {
			require.NoError(t, l.Roll())
			checkCrash(t, fsys.CrashClone(), acked, z)
		}
	}
	require.NoError(t, l.Close())
}

func checkCrash(t *testing.T, crashed *vfs.MemFS, acked, next int64) {
	t.Helper()
	got, err := replayAll(t, crashed, "/data/version-2", 0)
	require.NoError(t, err)
	require.Equal(t, seq(1, acked), got)
	// Recovery: reopen, append, crash again, replay.
	l, err := txnlog.Open(crashed, "/data/version-2", txnlog.Options{PreAllocSize: 1024, Logger: logger(t)})
	require.NoError(t, err)
	require.Equal(t, acked, l.LastZxid())
	require.NoError(t, l.Append(entry(acked+1)))
	require.NoError(t, l.Sync())
	got, err = replayAll(t, crashed.CrashClone(), "/data/version-2", 0)
	require.NoError(t, err)
	require.Equal(t, seq(1, acked+1), got)
	require.NoError(t, l.Close())
}

// workload opens a log, appends 30 entries with a Sync every 4 and a Roll
// at 13, and closes it. It returns the highest acknowledged zxid and the
// first error.
func workload(fsys vfs.FS, lg zerolog.Logger) (acked int64, err error) {
	l, err := txnlog.Open(fsys, "/data/version-2", txnlog.Options{PreAllocSize: 256, Logger: lg})
	if err != nil {
		return 0, err
	}
	defer l.Close()
	for z := int64(1); z <= 30; z++ {
		if err := l.Append(entry(z)); err != nil {
			return acked, err
		}
		if z%4 == 0 {
			if err := l.Sync(); err != nil {
				return acked, err
			}
			acked = z
		}
		if z == 13 {
			if err := l.Roll(); err != nil {
				return acked, err
			}
			acked = z
		}
	}
	if err := l.Close(); err != nil {
		return acked, err
	}
	return 30, nil
}

// Each filesystem operation fails once: the failure is reported or harmless,
// never a panic, and the log stays readable with every acknowledged entry.
func TestEachOperationFailsOnce(t *testing.T) {
	clean := vfs.NewMem()
	_, err := workload(clean, logger(t))
	require.NoError(t, err)
	total := clean.Ops()
	require.Greater(t, total, 20)
	for i := 1; i <= total; i++ {
		fsys := vfs.NewMem()
		fsys.FailNth(i, vfs.OpAll)
		acked, err := workload(fsys, logger(t))
		if err == nil {
			acked = 30
		} else {
			assert.ErrorIs(t, err, vfs.ErrInjected, "op %d", i)
		}
		fsys.ClearFaults()
		for _, view := range []*vfs.MemFS{fsys, fsys.CrashClone()} {
			got, rerr := replayAll(t, view, "/data/version-2", 0)
			require.NoError(t, rerr, "op %d failed (workload error: %v)", i, err)
			require.GreaterOrEqual(t, len(got), int(acked), "op %d: acknowledged entries lost (%v)", i, err)
			require.Equal(t, seq(1, int64(len(got))), got, "op %d", i)
			// And it can be written again.
			l, oerr := txnlog.Open(view, "/data/version-2", txnlog.Options{PreAllocSize: 256, Logger: logger(t)})
			require.NoError(t, oerr, "op %d", i)
			next := int64(len(got)) + 1
			require.NoError(t, l.Append(entry(next)))
			require.NoError(t, l.Close())
			got2, rerr := replayAll(t, view, "/data/version-2", 0)
			require.NoError(t, rerr)
			require.Equal(t, seq(1, next), got2, "op %d", i)
		}
	}
}

// After a failed fsync the Log refuses further work instead of pretending.
func TestFailedSyncIsSticky(t *testing.T) {
	fsys := vfs.NewMem()
	l, err := txnlog.Open(fsys, "/d", txnlog.Options{Logger: logger(t)})
	require.NoError(t, err)
	require.NoError(t, l.Append(entry(1)))
	fsys.FailNth(1, vfs.OpSync)
	err = l.Sync()
	require.ErrorIs(t, err, vfs.ErrInjected)
	require.ErrorIs(t, err, txnlog.ErrFailed)
	assert.Contains(t, err.Error(), "/d/log.1")
	assert.ErrorIs(t, l.Append(entry(2)), txnlog.ErrFailed)
	assert.ErrorIs(t, l.Sync(), txnlog.ErrFailed)
	assert.ErrorIs(t, l.Close(), txnlog.ErrFailed)
}

// entryOffsets writes entries 1..n in one file and returns the offset of
// each entry.
func entryOffsets(t *testing.T, fsys vfs.FS, dir string, n int64) []int64 {
	l, err := txnlog.Open(fsys, dir, txnlog.Options{PreAllocSize: 4096, Logger: logger(t)})
	require.NoError(t, err)
	offs := []int64{txnlog.HeaderSize}
	for z := int64(1); z <= n; z++ {
		require.NoError(t, l.Append(entry(z)))
		offs = append(offs, offs[len(offs)-1]+int64(len(txnlog.AppendEntry(nil, entry(z)))))
	}
	require.NoError(t, l.Close())
	return offs
}

// A flipped bit in any entry but the last is corruption before the tail:
// ErrCorrupt naming the file and the entry's offset.
func TestBitFlipBeforeTail(t *testing.T) {
	for k := int64(1); k < 20; k++ {
		for _, where := range []string{"crc", "length", "body", "eor"} {
			fsys := vfs.NewMem()
			offs := entryOffsets(t, fsys, "/d", 20)
			data := readAll(t, fsys, "/d/log.1")
			off := offs[k-1]
			switch where {
			case "crc":
				data[off+3] ^= 0x10
			case "length":
				data[off+10] ^= 0x01
			case "body":
				data[off+12+5] ^= 0x80
			case "eor":
				data[offs[k]-1] ^= 0x04
			}
			writeAll(t, fsys, "/d/log.1", data)
			var seen []int64
			_, err := txnlog.Replay(fsys, "/d", 0, logger(t), func(e *jute.TxnEntry) error {
				seen = append(seen, e.Header.Zxid)
				return nil
			})
			require.ErrorIs(t, err, txnlog.ErrCorrupt, "entry %d %s", k, where)
			assert.Contains(t, err.Error(), "/d/log.1")
			assert.Contains(t, err.Error(), fmt.Sprintf("offset %d ", off), "entry %d %s: %v", k, where, err)
			assert.Equal(t, seq(1, k-1), seen, "entries before the damage are replayed")
			_, err = txnlog.Open(fsys, "/d", txnlog.Options{Logger: logger(t)})
			assert.ErrorIs(t, err, txnlog.ErrCorrupt, "Open refuses too")
			// The file was not modified.
			assert.Equal(t, data, readAll(t, fsys, "/d/log.1"))
		}
	}
}

// A torn last entry (half written, the rest zeros or garbage) is truncated.
func TestTornTailTruncated(t *testing.T) {
	for _, fc := range filesystems {
		t.Run(fc.name, func(t *testing.T) {
			for _, tail := range []string{"half", "garbage", "crc-only", "flipped-last"} {
				fsys, dir := fc.new(t)
				dir = filepath.Join(dir, tail)
				offs := entryOffsets(t, fsys, dir, 10)
				file := filepath.Join(dir, "log.1")
				data := readAll(t, fsys, file)
				end := offs[10]
				want := seq(1, 10)
				cut := end
				switch tail {
				case "half":
					e := txnlog.AppendEntry(nil, entry(11))
					copy(data[end:], e[:len(e)/2])
				case "garbage":
					copy(data[end:], []byte("\xde\xad\xbe\xef garbage from a torn sector \x01\x02"))
				case "crc-only":
					copy(data[end:], []byte{0, 0, 0, 0, 1, 2, 3, 4})
				case "flipped-last":
					data[end-3] ^= 0xff
					want = seq(1, 9)
					cut = offs[9]
				}
				writeAll(t, fsys, file, data)
				var out bytes.Buffer
				lg := zerolog.New(&out)
				var got []int64
				last, err := txnlog.Replay(fsys, dir, 0, lg, func(e *jute.TxnEntry) error { got = append(got, e.Header.Zxid); return nil })
				require.NoError(t, err, tail)
				assert.Equal(t, want, got, tail)
				assert.Equal(t, want[len(want)-1], last)
				assert.Contains(t, out.String(), "truncating torn tail", tail)
				assert.Contains(t, out.String(), file, tail)
				assert.Contains(t, out.String(), fmt.Sprintf(`"offset":%d`, cut), tail)
				st, err := fsys.Stat(file)
				require.NoError(t, err)
				assert.Equal(t, cut, st.Size(), tail)
				// Appending after recovery works and the log reads clean.
				l, err := txnlog.Open(fsys, dir, txnlog.Options{Logger: logger(t)})
				require.NoError(t, err)
				next := want[len(want)-1] + 1
				require.NoError(t, l.Append(entry(next)))
				require.NoError(t, l.Close())
				out.Reset()
				got = nil
				_, err = txnlog.Replay(fsys, dir, 0, lg, func(e *jute.TxnEntry) error { got = append(got, e.Header.Zxid); return nil })
				require.NoError(t, err)
				assert.Equal(t, append(want, next), got)
				assert.NotContains(t, out.String(), "torn")
			}
		})
	}
}

// A torn tail in a file that is not the newest is skipped (Apache does the
// same after a crash and restart), not truncated.
func TestTornTailOfOlderFileSkipped(t *testing.T) {
	fsys := vfs.NewMem()
	offs := entryOffsets(t, fsys, "/d", 5)
	data := readAll(t, fsys, "/d/log.1")
	e := txnlog.AppendEntry(nil, entry(6))
	copy(data[offs[5]:], e[:len(e)-4])
	writeAll(t, fsys, "/d/log.1", data)
	l, err := txnlog.Open(fsys, "/d", txnlog.Options{Logger: logger(t)})
	require.NoError(t, err)
	require.NoError(t, l.Close())
	// Write log.6 by hand so log.1 keeps its torn tail (Open truncated it; put it back).
	writeAll(t, fsys, "/d/log.1", data)
	l2 := txnlog.AppendHeader(nil)
	for z := int64(6); z <= 8; z++ {
		l2 = txnlog.AppendEntry(l2, entry(z))
	}
	writeAll(t, fsys, "/d/log.6", l2)
	var out bytes.Buffer
	got := []int64{}
	_, err = txnlog.Replay(fsys, "/d", 0, zerolog.New(&out), func(e *jute.TxnEntry) error { got = append(got, e.Header.Zxid); return nil })
	require.NoError(t, err)
	assert.Equal(t, seq(1, 8), got)
	assert.Contains(t, out.String(), "not the newest")
	assert.Equal(t, data, readAll(t, fsys, "/d/log.1"), "older file untouched")
}

func TestReplayFileSelection(t *testing.T) {
	fsys := vfs.NewMem()
	l, err := txnlog.Open(fsys, "/d", txnlog.Options{Logger: logger(t)})
	require.NoError(t, err)
	for z := int64(1); z <= 30; z++ {
		require.NoError(t, l.Append(entry(z)))
		if z%10 == 0 {
			require.NoError(t, l.Roll())
		}
	}
	require.NoError(t, l.Close())
	// log.1, log.b, log.15: corrupt log.1 entirely; replay after 10 must not read it.
	writeAll(t, fsys, "/d/log.1", []byte("ZKLG\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x00\x00\x00\x05xxxxxB"+strings.Repeat("\x00", 10)+string(txnlog.AppendEntry(nil, entry(1)))))
	got, err := replayAll(t, fsys, "/d", 10)
	require.NoError(t, err)
	assert.Equal(t, seq(11, 30), got)
	got, err = replayAll(t, fsys, "/d", 9)
	require.ErrorIs(t, err, txnlog.ErrCorrupt, "log.1 is needed for zxid 10")
	assert.Empty(t, got)
}

func TestNotALog(t *testing.T) {
	fsys := vfs.NewMem()
	require.NoError(t, fsys.MkdirAll("/d", 0o755))
	writeAll(t, fsys, "/d/log.1", []byte("ZKSN\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"))
	_, err := txnlog.Replay(fsys, "/d", 0, logger(t), func(*jute.TxnEntry) error { return nil })
	require.ErrorIs(t, err, txnlog.ErrCorrupt)
	assert.Contains(t, err.Error(), "/d/log.1")
	assert.Contains(t, err.Error(), "magic")
}

func TestReplayMissingDir(t *testing.T) {
	last, err := txnlog.Replay(vfs.NewMem(), "/nope", 7, logger(t), func(*jute.TxnEntry) error { return errors.New("no") })
	require.NoError(t, err)
	assert.Equal(t, int64(7), last)
}

func TestFileNames(t *testing.T) {
	assert.Equal(t, "log.100000001", txnlog.FileName(0x100000001))
	z, ok := txnlog.ParseFileName("log.1a2b")
	assert.True(t, ok)
	assert.Equal(t, int64(0x1a2b), z)
	for _, bad := range []string{"log.", "log.xyz", "snapshot.1", "log.1.tmp", "log.12345678901234567"} {
		_, ok := txnlog.ParseFileName(bad)
		assert.False(t, ok, bad)
	}
}

// Truncate keeps entries up to the zxid, across files, and the log can be
// written again after it.
func TestTruncate(t *testing.T) {
	for _, cut := range []int64{0, 5, 10, 11, 17, 30, 99} {
		fsys := vfs.NewMem()
		l, err := txnlog.Open(fsys, "/d", txnlog.Options{PreAllocSize: 1024, Logger: logger(t)})
		require.NoError(t, err)
		for z := int64(1); z <= 30; z++ {
			require.NoError(t, l.Append(entry(z)))
			if z%10 == 0 {
				require.NoError(t, l.Roll())
			}
		}
		require.NoError(t, l.Close())
		require.NoError(t, txnlog.Truncate(fsys, "/d", cut, logger(t)))
		keep := min(cut, 30)
		for _, view := range []vfs.FS{fsys, fsys.CrashClone()} {
			got, err := replayAll(t, view, "/d", 0)
			require.NoError(t, err)
			assert.Equal(t, seq(1, keep), got, "cut %d", cut)
		}
		l, err = txnlog.Open(fsys, "/d", txnlog.Options{PreAllocSize: 1024, Logger: logger(t)})
		require.NoError(t, err)
		assert.Equal(t, keep, l.LastZxid())
		require.NoError(t, l.Append(entry(keep+1)))
		require.NoError(t, l.Close())
		got, err := replayAll(t, fsys, "/d", 0)
		require.NoError(t, err)
		assert.Equal(t, seq(1, keep+1), got)
	}
}

// Each operation of a Replay that repairs a torn tail fails once: Replay
// reports the error (or the fault was harmless), never panics, and a clean
// Replay afterwards returns every valid entry.
func TestReplayFaults(t *testing.T) {
	build := func() *vfs.MemFS {
		fsys := vfs.NewMem()
		offs := entryOffsets(t, fsys, "/d", 12)
		data := readAll(t, fsys, "/d/log.1")
		copy(data[offs[12]:], []byte("\x00\x00\x00\x00\x12\x34\x56\x78\x00\x00\x01\x00torn"))
		writeAll(t, fsys, "/d/log.1", data)
		return fsys
	}
	clean := build()
	start := clean.Ops()
	_, err := replayAll(t, clean, "/d", 0)
	require.NoError(t, err)
	total := clean.Ops() - start
	require.Greater(t, total, 3)
	for i := 1; i <= total; i++ {
		fsys := build()
		fsys.FailNth(i, vfs.OpAll)
		_, err := replayAll(t, fsys, "/d", 0)
		if err != nil {
			assert.ErrorIs(t, err, vfs.ErrInjected, "op %d", i)
		}
		fsys.ClearFaults()
		for _, view := range []*vfs.MemFS{fsys, fsys.CrashClone()} {
			got, err := replayAll(t, view, "/d", 0)
			require.NoError(t, err, "op %d", i)
			assert.Equal(t, seq(1, 12), got, "op %d", i)
		}
	}
}

// Crash right after every filesystem operation of a workload (not only at
// sync points): the image holds a prefix of the appended entries that
// includes every entry acknowledged before the crash, and it recovers.
func TestCrashAfterEveryOperation(t *testing.T) {
	type ack struct {
		ops  int
		zxid int64
	}
	run := func(fsys *vfs.MemFS) []ack {
		var acks []ack
		l, err := txnlog.Open(fsys, "/data/version-2", txnlog.Options{PreAllocSize: 512, Logger: logger(t)})
		require.NoError(t, err)
		for z := int64(1); z <= 25; z++ {
			require.NoError(t, l.Append(entry(z)))
			if z%3 == 0 {
				require.NoError(t, l.Sync())
				acks = append(acks, ack{fsys.Ops(), z})
			}
			if z == 10 {
				require.NoError(t, l.Roll())
				acks = append(acks, ack{fsys.Ops(), z})
			}
		}
		require.NoError(t, l.Close())
		return append(acks, ack{fsys.Ops(), 25})
	}
	total := vfs.NewMem()
	run(total)
	for i := 1; i <= total.Ops(); i++ {
		fsys := vfs.NewMem()
		fsys.CrashAfter(i)
		acks := run(fsys)
		img := fsys.CrashImage()
		require.NotNil(t, img, "op %d", i)
		acked := int64(0)
		for _, a := range acks {
			if a.ops <= i {
				acked = a.zxid
			}
		}
		got, err := replayAll(t, img, "/data/version-2", 0)
		require.NoError(t, err, "crash after op %d", i)
		require.GreaterOrEqual(t, len(got), int(acked), "crash after op %d lost acknowledged entries", i)
		require.Equal(t, seq(1, int64(len(got))), got, "crash after op %d", i)
		l, err := txnlog.Open(img, "/data/version-2", txnlog.Options{PreAllocSize: 512, Logger: logger(t)})
		require.NoError(t, err, "op %d", i)
		next := int64(len(got)) + 1
		require.NoError(t, l.Append(entry(next)))
		require.NoError(t, l.Close())
		got, err = replayAll(t, img.CrashClone(), "/data/version-2", 0)
		require.NoError(t, err)
		require.Equal(t, seq(1, next), got, "op %d", i)
	}
}

// A crash at any point while a new log file is being created never leaves a
// log.<zxid> without its 16-byte header: Apache ZooKeeper 3.8 refuses to
// start on such a file (EOFException reading the header).
func TestNewFileNeverHeaderless(t *testing.T) {
	for n := 1; ; n++ {
		fsys := vfs.NewMem()
		l, err := txnlog.Open(fsys, "/d", txnlog.Options{Logger: logger(t)})
		require.NoError(t, err)
		fsys.CrashAfter(n)
		if err := l.Append(entry(1)); err == nil {
			_ = l.Sync()
		}
		img := fsys.CrashImage()
		_ = l.Close()
		if img == nil {
			require.Greater(t, n, 3, "the workload did some operations")
			return
		}
		names, err := img.ReadDir("/d")
		require.NoError(t, err)
		for _, name := range names {
			if _, ok := txnlog.ParseFileName(name); !ok {
				continue
			}
			info, err := img.Stat("/d/" + name)
			require.NoError(t, err)
			assert.GreaterOrEqual(t, info.Size(), int64(16), "crash after op %d: %s has no header", n, name)
		}
		// Reopening removes an interrupted temporary file.
		l2, err := txnlog.Open(img, "/d", txnlog.Options{Logger: logger(t)})
		require.NoError(t, err)
		names, _ = img.ReadDir("/d")
		for _, name := range names {
			assert.NotContains(t, name, txnlog.TempPrefix, "crash after op %d", n)
		}
		require.NoError(t, l2.Close())
	}
}
