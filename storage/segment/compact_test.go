package segment

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"mqstack/proto/kafka"
	"mqstack/storage/vfs"
)

// keyedBatch builds a batch of records with the given keys and values (nil
// value = tombstone).
func keyedBatch(t testing.TB, ts int64, c kafka.Compression, kv ...string) []byte {
	opts := kafka.NewBatchOptions()
	opts.Compression = c
	var recs []kafka.Record
	for i := 0; i+1 < len(kv); i += 2 {
		r := kafka.Record{Offset: int64(len(recs)), Timestamp: ts, Key: []byte(kv[i])}
		if kv[i+1] != "<tombstone>" {
			r.Value = []byte(kv[i+1])
		}
		recs = append(recs, r)
	}
	b, err := kafka.AppendBatch(nil, opts, recs)
	require.NoError(t, err)
	return b
}

// readRecords decodes every record of the log.
func readRecords(t testing.TB, l *Log) []kafka.Record {
	var out []kafka.Record
	next := l.LogStartOffset()
	for next < l.LogEndOffset() {
		b, res, err := l.ReadBytes(next, 1<<20, l.LogEndOffset())
		require.NoError(t, err)
		if res.Length == 0 {
			break
		}
		for len(b) > 0 {
			batch, n, err := kafka.DecodeBatch(b)
			require.NoError(t, err)
			for _, r := range batch.Records {
				if r.Offset >= next {
					out = append(out, r)
				}
			}
			b = b[n:]
		}
		next = res.NextOffset
	}
	return out
}

func TestCompaction(t *testing.T) {
	for _, e := range envs(t) {
		t.Run(e.name, func(t *testing.T) {
			clock := &fakeClock{ms: 100_000}
			cfg := tinyConfig()
			cfg.CleanupPolicy = "compact"
			cfg.DeleteRetentionMs = 5000
			l := openLog(t, e.fs, e.dir, cfg, clock, nil, false, 0)
			defer l.Close()
			latest := map[string]string{}
			for round := 0; round < 6; round++ {
				for k := 0; k < 5; k++ {
					key, val := fmt.Sprintf("key%d", k), fmt.Sprintf("v%d-%d", k, round)
					if round == 5 && k == 2 {
						val = "<tombstone>"
					}
					_, err := l.Append(keyedBatch(t, clock.ms, kafka.Compression(k), key, val, "other", fmt.Sprint(round)), AppendOptions{AssignOffsets: true})
					require.NoError(t, err)
					latest[key], latest["other"] = val, fmt.Sprint(round)
				}
			}
			// key2's tombstone is its last write.
			require.NoError(t, l.Roll())
			leo := l.LogEndOffset()
			l.SetHighWatermark(leo)
			before := l.Size()

			res, err := l.Clean(clock.ms + 1000)
			require.NoError(t, err)
			require.Greater(t, res.RecordsRemoved, 0)
			require.Less(t, l.Size(), before)
			require.Equal(t, leo, l.LogEndOffset(), "compaction never changes offsets")
			recs := readRecords(t, l)
			seen := map[string]int{}
			for _, r := range recs {
				seen[string(r.Key)]++
				want := latest[string(r.Key)]
				if want == "<tombstone>" {
					require.Nil(t, r.Value, "the tombstone is still within delete.retention.ms")
				} else {
					require.Equal(t, want, string(r.Value), "only the last value of %s stays", r.Key)
				}
			}
			for k := range latest {
				require.Equal(t, 1, seen[k], "one record per key for %s: %v", k, seen)
			}

			// After delete.retention.ms the tombstone goes too.
			res, err = l.Clean(clock.ms + 5001)
			require.NoError(t, err)
			require.Equal(t, 1, res.RecordsRemoved)
			for _, r := range readRecords(t, l) {
				require.NotEqual(t, "key2", string(r.Key))
			}

			// Offsets stay increasing and the log reopens clean and unclean.
			require.NoError(t, l.Close())
			for _, clean := range []bool{true, false} {
				l = openLog(t, e.fs, e.dir, cfg, clock, nil, clean, 0)
				require.Equal(t, leo, l.LogEndOffset())
				require.Len(t, readRecords(t, l), len(latest)-1)
				require.NoError(t, l.Close())
			}
			require.NoError(t, openLog(t, e.fs, e.dir, cfg, clock, nil, true, 0).Close(), "reopens after a clean close")
		})
	}
}

func TestCompactionNeverTouchesActiveSegment(t *testing.T) {
	e := envs(t)[0]
	clock := &fakeClock{ms: 1}
	cfg := DefaultConfig()
	cfg.CleanupPolicy = "compact"
	l := openLog(t, e.fs, e.dir, cfg, clock, nil, false, 0)
	defer l.Close()
	for i := 0; i < 10; i++ {
		_, err := l.Append(keyedBatch(t, 1, kafka.CompressionNone, "k", fmt.Sprint(i)), AppendOptions{AssignOffsets: true})
		require.NoError(t, err)
	}
	l.SetHighWatermark(10)
	res, err := l.Clean(1 << 40)
	require.NoError(t, err)
	require.Zero(t, res.RecordsRemoved)
	require.Len(t, readRecords(t, l), 10)
}

// TestCompactionCrashAtEveryOperation crashes a compaction pass after each
// filesystem operation: every image opens, completes or discards the swap,
// and holds the latest value of every key at unchanged offsets.
func TestCompactionCrashAtEveryOperation(t *testing.T) {
	cfg := tinyConfig()
	cfg.CleanupPolicy = "compact"
	build := func(m *vfs.MemFS) *Log {
		clock := &fakeClock{ms: 1}
		l := openLog(t, m, "/d/c-0", cfg, clock, nil, false, 0)
		for i := 0; i < 30; i++ {
			_, err := l.Append(keyedBatch(t, 1, kafka.CompressionNone, fmt.Sprintf("k%d", i%4), fmt.Sprint(i)), AppendOptions{AssignOffsets: true})
			require.NoError(t, err)
		}
		require.NoError(t, l.Roll())
		l.SetHighWatermark(30)
		require.NoError(t, l.Flush())
		return l
	}
	ref := vfs.NewMem()
	l := build(ref)
	start := ref.Ops()
	_, err := l.Clean(2)
	require.NoError(t, err)
	total := ref.Ops() - start
	require.NoError(t, l.Close())
	for n := 1; n <= total; n++ {
		m := vfs.NewMem()
		l := build(m)
		m.CrashAfter(n)
		_, err := l.Clean(2)
		require.NoError(t, err)
		img := m.CrashImage()
		require.NotNil(t, img)
		_ = l.Close()
		l2, err := tryOpen(img, "/d/c-0", cfg, &fakeClock{ms: 1}, nil, false, 0)
		require.NoError(t, err, "crash after op %d of the clean", n)
		require.Equal(t, int64(30), l2.LogEndOffset())
		last := map[string]string{}
		var prev int64 = -1
		for _, r := range readRecords(t, l2) {
			require.Greater(t, r.Offset, prev)
			prev = r.Offset
			last[string(r.Key)] = string(r.Value)
		}
		for k, want := range []string{"28", "29", "26", "27"} {
			require.Equal(t, want, last[fmt.Sprintf("k%d", k)], "crash after op %d", n)
		}
		names, err := img.ReadDir("/d/c-0")
		require.NoError(t, err)
		for _, name := range names {
			require.NotContains(t, name, ".cleaned")
			require.NotContains(t, name, ".swap")
		}
		require.NoError(t, l2.Close())
	}
}

// TestCompactionEachOperationFailsOnce fails each filesystem operation of a
// compaction pass in turn: the pass reports the error, and the log reopens
// with the latest value of every key at unchanged offsets.
func TestCompactionEachOperationFailsOnce(t *testing.T) {
	cfg := tinyConfig()
	cfg.CleanupPolicy = "compact"
	build := func(m *vfs.MemFS) *Log {
		l := openLog(t, m, "/d/c-0", cfg, &fakeClock{ms: 1}, nil, false, 0)
		for i := 0; i < 30; i++ {
			_, err := l.Append(keyedBatch(t, 1, kafka.CompressionGzip, fmt.Sprintf("k%d", i%4), fmt.Sprint(i)), AppendOptions{AssignOffsets: true})
			require.NoError(t, err)
		}
		require.NoError(t, l.Roll())
		l.SetHighWatermark(30)
		require.NoError(t, l.Flush())
		return l
	}
	ref := vfs.NewMem()
	l := build(ref)
	start := ref.Ops()
	_, err := l.Clean(2)
	require.NoError(t, err)
	total := ref.Ops() - start
	require.NoError(t, l.Close())
	for n := 1; n <= total; n++ {
		m := vfs.NewMem()
		l := build(m)
		m.FailNth(n, vfs.OpAll)
		_, err := l.Clean(2)
		require.Error(t, err, "failing op %d of the clean must surface", n)
		_ = l.Close()
		m.ClearFaults()
		l2, err := tryOpen(m, "/d/c-0", cfg, &fakeClock{ms: 1}, nil, false, 0)
		require.NoError(t, err, "reopen after failing op %d", n)
		require.Equal(t, int64(30), l2.LogEndOffset())
		last := map[string]string{}
		for _, r := range readRecords(t, l2) {
			last[string(r.Key)] = string(r.Value)
		}
		require.Equal(t, map[string]string{"k0": "28", "k1": "29", "k2": "26", "k3": "27"}, last, "failing op %d", n)
		require.NoError(t, l2.Close())
	}
}
