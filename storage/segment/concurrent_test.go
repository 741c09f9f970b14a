package segment

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"mqstack/proto/kafka"
)

// TestConcurrentAppendReadFlush runs appends, reads and flushes at once;
// run with -race. Every read sees whole, valid batches.
func TestConcurrentAppendReadFlush(t *testing.T) {
	e := envs(t)[0]
	l := openLog(t, e.fs, e.dir, tinyConfig(), &fakeClock{ms: 1}, nil, false, 0)
	defer l.Close()
	const appends = 200
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < appends; i++ {
			_, err := l.Append(producerBatch(t, int64(i), 1, 1, kafka.CompressionNone), AppendOptions{AssignOffsets: true})
			if err != nil {
				t.Errorf("append: %v", err)
				return
			}
			l.SetHighWatermark(l.LogEndOffset())
			if i%10 == 0 {
				if err := l.Flush(); err != nil {
					t.Errorf("flush: %v", err)
					return
				}
			}
		}
	}()
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var off int64
			for off < appends {
				b, res, err := l.ReadBytes(off, 500, l.HighWatermark())
				if err != nil {
					t.Errorf("read %d: %v", off, err)
					return
				}
				for len(b) > 0 {
					batch, n, err := kafka.DecodeBatch(b)
					if err != nil {
						t.Errorf("decode: %v", err)
						return
					}
					for _, rec := range batch.Records {
						if string(rec.Value) != string(valueFor(rec.Offset)) {
							t.Errorf("offset %d holds the wrong value", rec.Offset)
						}
					}
					b = b[n:]
				}
				off = res.NextOffset
			}
		}()
	}
	wg.Wait()
	require.Equal(t, int64(appends), l.LogEndOffset())
}
