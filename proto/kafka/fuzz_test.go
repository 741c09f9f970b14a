package kafka

import (
	"testing"
)

func FuzzBatchDecode(f *testing.F) {
	good := goldenBatch(f)
	f.Add(good)
	f.Add([]byte{})
	f.Add(good[:HeaderSize])
	f.Add(good[:len(good)-3])
	f.Add(append(append([]byte(nil), good...), good...))
	for _, c := range []Compression{CompressionGzip, CompressionSnappy, CompressionLZ4, CompressionZstd} {
		opts := NewBatchOptions()
		opts.Compression = c
		b, err := AppendBatch(nil, opts, goldenRecords())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			batch, n, err := DecodeBatchLimit(b, 1<<20)
			if err != nil {
				return
			}
			if n <= 0 || n > len(b) {
				t.Fatalf("size %d of %d bytes", n, len(b))
			}
			if len(batch.Records) != int(batch.RecordCount) {
				t.Fatalf("%d records decoded, header says %d", len(batch.Records), batch.RecordCount)
			}
			// Re-encoding what was decoded must decode to the same records.
			if len(batch.Records) > 0 && batch.Compression() <= CompressionZstd {
				opts := NewBatchOptions()
				opts.BaseOffset = batch.BaseOffset
				opts.Compression = batch.Compression()
				ok := true
				for i, r := range batch.Records {
					if r.Offset < batch.BaseOffset || (i > 0 && r.Offset <= batch.Records[i-1].Offset) {
						ok = false
					}
				}
				if ok {
					enc, err := AppendBatch(nil, opts, batch.Records)
					if err == nil {
						again, _, err := DecodeBatch(enc)
						if err != nil {
							t.Fatalf("re-encoded batch does not decode: %v", err)
						}
						if len(again.Records) != len(batch.Records) {
							t.Fatalf("re-encode lost records")
						}
					}
				}
			}
			b = b[n:]
		}
	})
}
