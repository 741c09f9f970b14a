package segment

import (
	"os"
	"testing"

	"mqstack/proto/kafka"
	"mqstack/storage/vfs"
)

func FuzzIndexRead(f *testing.F) {
	var idx []byte
	for i := 0; i < 5; i++ {
		idx = appendOffsetEntry(idx, offsetEntry{RelOffset: int32(i * 3), Position: int32(i * 100)})
	}
	f.Add(idx, int64(7))
	f.Add([]byte{}, int64(0))
	f.Add(idx[:13], int64(2))
	f.Add(append(idx, make([]byte, 64)...), int64(100))
	f.Fuzz(func(t *testing.T, b []byte, target int64) {
		offs := parseOffsetIndex(b)
		for i := 1; i < len(offs); i++ {
			if offs[i].RelOffset <= offs[i-1].RelOffset || offs[i].Position <= offs[i-1].Position {
				t.Fatalf("entries not increasing at %d", i)
			}
		}
		pos := lookupOffset(offs, target)
		if pos < 0 {
			t.Fatalf("negative position")
		}
		_ = checkOffsetIndex(offs, 1000, 1000)
		times := parseTimeIndex(b)
		for i := 1; i < len(times); i++ {
			if times[i].Timestamp <= times[i-1].Timestamp {
				t.Fatalf("timestamps not increasing at %d", i)
			}
		}
		if rel := lookupTime(times, target); rel < 0 {
			t.Fatalf("negative relative offset")
		}
	})
}

// FuzzRecovery writes arbitrary bytes as a segment's .log (and .index),
// opens the log after an "unclean shutdown" and checks that what remains
// is a valid log: every batch reads back with a good CRC and increasing
// offsets, and appends work.
func FuzzRecovery(f *testing.F) {
	var good []byte
	var next int64
	for i := 0; i < 4; i++ {
		b := producerBatch(f, next, 2, 1000, kafka.Compression(i))
		kafka.SetBaseOffset(b, next)
		good = append(good, b...)
		next += 2
	}
	f.Add(good, []byte{})
	f.Add([]byte{}, []byte{})
	f.Add(good[:len(good)-5], []byte{})
	f.Add(good[:30], make([]byte, 16))
	f.Fuzz(func(t *testing.T, logBytes, indexBytes []byte) {
		m := vfs.NewMem()
		if err := m.MkdirAll("/d/t-0", 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string][]byte{"/d/t-0/" + segmentName(0) + ".log": logBytes, "/d/t-0/" + segmentName(0) + ".index": indexBytes} {
			fh, err := m.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fh.Write(data); err != nil {
				t.Fatal(err)
			}
			_ = fh.Close()
		}
		cfg := DefaultConfig()
		cfg.SegmentIndexBytes = 1200 // not 10 MiB of preallocated index per run
		l, err := tryOpen(m, "/d/t-0", cfg, &fakeClock{ms: 1}, nil, false, 0)
		if err != nil {
			t.Fatalf("recovery must cut, not fail: %v", err)
		}
		defer l.Close()
		leo := l.LogEndOffset()
		for off := l.LogStartOffset(); off < leo; {
			b, res, err := l.ReadBytes(off, 1<<20, leo)
			if err != nil {
				t.Fatalf("read %d: %v", off, err)
			}
			if res.Length == 0 {
				break
			}
			for len(b) > 0 {
				_, n, err := kafka.CheckBatch(b)
				if err != nil {
					t.Fatalf("recovered log holds a bad batch: %v", err)
				}
				b = b[n:]
			}
			off = res.NextOffset
		}
		res, err := l.Append(producerBatch(t, leo, 1, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
		if err != nil || res.FirstOffset != leo {
			t.Fatalf("append after recovery: %v %+v", err, res)
		}
	})
}
