package segment

import (
	"path/filepath"
	"testing"

	"mqstack/proto/kafka"
	"mqstack/storage/vfs"
)

func benchFS(b *testing.B, name string) (vfs.FS, string) {
	if name == "mem" {
		return vfs.NewMem(), "/d/bench-0"
	}
	return vfs.OS(), filepath.Join(b.TempDir(), "bench-0")
}

// BenchmarkAppend appends 1 KiB-record batches of 10 records (leader path:
// validation, offset assignment, index upkeep).
func BenchmarkAppend(b *testing.B) {
	for _, fsName := range []string{"mem", "os"} {
		b.Run(fsName, func(b *testing.B) {
			fsys, dir := benchFS(b, fsName)
			cfg := DefaultConfig()
			cfg.SegmentBytes = 64 << 20
			cfg.SegmentIndexBytes = 1 << 20
			l := openLog(b, fsys, dir, cfg, &fakeClock{ms: 1}, nil, false, 0)
			defer l.Close()
			opts := kafka.NewBatchOptions()
			recs := make([]kafka.Record, 10)
			for i := range recs {
				recs[i] = kafka.Record{Offset: int64(i), Timestamp: 1, Value: make([]byte, 1024)}
			}
			batch, err := kafka.AppendBatch(nil, opts, recs)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(batch)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := l.Append(batch, AppendOptions{AssignOffsets: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRead reads 64 KiB ranges through the offset index.
func BenchmarkRead(b *testing.B) {
	fsys, dir := benchFS(b, "os")
	cfg := DefaultConfig()
	l := openLog(b, fsys, dir, cfg, &fakeClock{ms: 1}, nil, false, 0)
	defer l.Close()
	for i := 0; i < 2000; i++ {
		if _, err := l.Append(producerBatch(b, int64(i*5), 5, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true}); err != nil {
			b.Fatal(err)
		}
	}
	leo := l.LogEndOffset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := l.ReadBytes(int64(i*37)%leo, 64<<10, leo); err != nil {
			b.Fatal(err)
		}
	}
}
