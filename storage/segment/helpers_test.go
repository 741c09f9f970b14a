package segment

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"mqstack/proto/kafka"
	"mqstack/storage/vfs"
)

// env is one filesystem to run the conformance suite on.
type env struct {
	name string
	fs   vfs.FS
	dir  string
	mem  *vfs.MemFS
}

func envs(t *testing.T) []env {
	m := vfs.NewMem()
	require.NoError(t, m.MkdirAll("/data", 0o755))
	return []env{
		{name: "mem", fs: m, dir: "/data/orders-0", mem: m},
		{name: "os", fs: vfs.OS(), dir: filepath.Join(t.TempDir(), "orders-0")},
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fakeClock struct{ ms int64 }

func (c *fakeClock) now() int64 { return c.ms }

func tinyConfig() Config {
	c := DefaultConfig()
	c.SegmentBytes = 600
	c.IndexIntervalBytes = 150
	c.SegmentIndexBytes = 10 * timeEntrySize
	return c
}

func openLog(t testing.TB, fsys vfs.FS, dir string, cfg Config, clock *fakeClock, logs *syncBuffer, clean bool, rp int64) *Log {
	t.Helper()
	l, err := tryOpen(fsys, dir, cfg, clock, logs, clean, rp)
	require.NoError(t, err)
	return l
}

func tryOpen(fsys vfs.FS, dir string, cfg Config, clock *fakeClock, logs *syncBuffer, clean bool, rp int64) (*Log, error) {
	if logs == nil {
		logs = &syncBuffer{}
	}
	return Open(Options{FS: fsys, Dir: dir, Config: cfg, Logger: zerolog.New(logs), Clock: clock.now,
		CleanShutdown: clean, RecoveryPoint: rp})
}

// valueFor is the value every test writes at an offset, so any read can be
// checked against the offset it claims.
func valueFor(offset int64) []byte {
	return binary.BigEndian.AppendUint64([]byte("value-"), uint64(offset))
}

// producerBatch builds a batch as a producer sends it: base offset 0,
// records with the values they will have at offsets from..from+n-1.
func producerBatch(t testing.TB, from int64, n int, ts int64, c kafka.Compression) []byte {
	opts := kafka.NewBatchOptions()
	opts.Compression = c
	recs := make([]kafka.Record, n)
	for i := range recs {
		recs[i] = kafka.Record{Offset: int64(i), Timestamp: ts + int64(i), Key: []byte(fmt.Sprintf("k%d", (from+int64(i))%7)), Value: valueFor(from + int64(i))}
	}
	b, err := kafka.AppendBatch(nil, opts, recs)
	require.NoError(t, err)
	return b
}

// checkAll reads the whole log batch by batch and checks every record: it
// decodes, its value matches its offset, and offsets are contiguous from
// the log start to the log end.
func checkAll(t testing.TB, l *Log) {
	t.Helper()
	next := l.LogStartOffset()
	leo := l.LogEndOffset()
	for next < leo {
		b, res, err := l.ReadBytes(next, 1000, leo)
		require.NoError(t, err, "read at %d", next)
		require.NotZero(t, res.Length, "nothing at %d below the end %d", next, leo)
		for len(b) > 0 {
			batch, n, err := kafka.DecodeBatch(b)
			require.NoError(t, err)
			for _, r := range batch.Records {
				if r.Offset < next {
					continue
				}
				require.Equal(t, next, r.Offset)
				require.Equal(t, valueFor(r.Offset), r.Value, "offset %d", r.Offset)
				next++
			}
			b = b[n:]
		}
		require.Equal(t, res.NextOffset, next)
	}
	require.Equal(t, leo, next)
}
