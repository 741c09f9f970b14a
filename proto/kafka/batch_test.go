package kafka

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// crc32cBitwise is CRC-32C computed bit by bit from the polynomial, kept
// independent of hash/crc32 so the golden test checks the table choice.
func crc32cBitwise(b []byte) uint32 {
	crc := ^uint32(0)
	for _, c := range b {
		crc ^= uint32(c)
		for i := 0; i < 8; i++ {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0x82F63B78
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	require.NoError(t, err)
	return b
}

// goldenBatch is written byte by byte from the record batch v2 spec: two
// records, the second with a null key and one header.
func goldenBatch(t testing.TB) []byte {
	b := unhex(t, `
		0000000000000000  00000047  ffffffff  02  00000000
		0000  00000001  00000000000003e8  00000000000003ed
		ffffffffffffffff  ffff  ffffffff  00000002
		10 00 00 00 02 6b 02 76 00
		18 00 0a 02 01 04 78 79 02 02 68 02 31`)
	binary.BigEndian.PutUint32(b[17:], crc32cBitwise(b[21:]))
	return b
}

func goldenRecords() []Record {
	return []Record{
		{Offset: 0, Timestamp: 1000, Key: []byte("k"), Value: []byte("v")},
		{Offset: 1, Timestamp: 1005, Value: []byte("xy"), Headers: []Header{{Key: "h", Value: []byte("1")}}},
	}
}

func TestGoldenBatchEncode(t *testing.T) {
	got, err := AppendBatch(nil, NewBatchOptions(), goldenRecords())
	require.NoError(t, err)
	require.Equal(t, hex.EncodeToString(goldenBatch(t)), hex.EncodeToString(got))
}

func TestGoldenBatchDecode(t *testing.T) {
	b := goldenBatch(t)
	batch, n, err := DecodeBatch(b)
	require.NoError(t, err)
	require.Equal(t, len(b), n)
	require.Equal(t, int64(1), batch.LastOffset())
	require.Equal(t, int64(1005), batch.MaxTimestamp)
	require.Equal(t, CompressionNone, batch.Compression())
	require.Equal(t, int64(-1), batch.ProducerID)
	want := goldenRecords()
	require.Len(t, batch.Records, 2)
	for i := range want {
		require.Equal(t, want[i].Offset, batch.Records[i].Offset)
		require.Equal(t, want[i].Timestamp, batch.Records[i].Timestamp)
		require.Equal(t, want[i].Key, batch.Records[i].Key)
		require.Equal(t, want[i].Value, batch.Records[i].Value)
		require.Equal(t, want[i].Headers, batch.Records[i].Headers)
	}
	require.Nil(t, batch.Records[1].Key, "a null key stays null")
}

// TestKmsgDecodesOurBatches reads our encoding with franz-go's independent
// kmsg decoder (the structures a real Kafka client parses fetch responses
// into), for every codec.
func TestKmsgDecodesOurBatches(t *testing.T) {
	for _, c := range []Compression{CompressionNone, CompressionGzip, CompressionSnappy, CompressionLZ4, CompressionZstd} {
		t.Run(c.String(), func(t *testing.T) {
			opts := NewBatchOptions()
			opts.BaseOffset = 100
			opts.Compression = c
			opts.PartitionLeaderEpoch = 7
			var recs []Record
			for i := 0; i < 50; i++ {
				recs = append(recs, Record{Offset: 100 + int64(i), Timestamp: 5000 + int64(i),
					Key: []byte("key-" + strings.Repeat("x", i)), Value: bytes.Repeat([]byte{byte(i)}, 100*i)})
			}
			b, err := AppendBatch(nil, opts, recs)
			require.NoError(t, err)
			var kb kmsg.RecordBatch
			require.NoError(t, kb.ReadFrom(b))
			require.Equal(t, int64(100), kb.FirstOffset)
			require.Equal(t, int32(7), kb.PartitionLeaderEpoch)
			require.Equal(t, int32(49), kb.LastOffsetDelta)
			require.Equal(t, int32(50), kb.NumRecords)
			require.Equal(t, uint32(kb.CRC), crc32cBitwise(b[21:]))
			raw, err := Decompress(c, kb.Records, MaxDecompressedBytes)
			require.NoError(t, err)
			for i := 0; i < 50; i++ {
				var kr kmsg.Record
				// kmsg.Record.ReadFrom takes one record with its length prefix.
				r := reader{b: raw}
				l := r.varint()
				require.NoError(t, r.err)
				require.NoError(t, kr.ReadFrom(raw[:r.off+int(l)]))
				require.Equal(t, l, kr.Length)
				raw = raw[r.off+int(l):]
				require.Equal(t, int32(i), kr.OffsetDelta)
				require.Equal(t, int64(i), kr.TimestampDelta64)
				require.Equal(t, recs[i].Value, kr.Value)
			}
			require.Empty(t, raw)

			batch, _, err := DecodeBatch(b)
			require.NoError(t, err)
			require.Len(t, batch.Records, 50)
			require.Equal(t, recs[49].Value, batch.Records[49].Value)
		})
	}
}

// TestDecodeKmsgBatch decodes a batch whose header and records were
// encoded by kmsg (we only fill in the CRC, as a client's producer does).
func TestDecodeKmsgBatch(t *testing.T) {
	var recs []byte
	for i := 0; i < 3; i++ {
		r := kmsg.Record{TimestampDelta64: int64(i * 10), OffsetDelta: int32(i), Key: []byte{'a' + byte(i)}, Value: []byte("value"),
			Headers: []kmsg.Header{{Key: "trace", Value: []byte{byte(i)}}}}
		r.Length = int32(len(r.AppendTo(nil)) - 1) // the zero length took one byte
		recs = r.AppendTo(recs)
	}
	kb := kmsg.RecordBatch{FirstOffset: 0, PartitionLeaderEpoch: -1, Magic: 2, LastOffsetDelta: 2,
		FirstTimestamp: 1700000000000, MaxTimestamp: 1700000000020, ProducerID: 42, ProducerEpoch: 1, FirstSequence: 9,
		NumRecords: 3, Records: recs}
	b := kb.AppendTo(nil)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	binary.BigEndian.PutUint32(b[17:], crc32cBitwise(b[21:]))
	batch, n, err := DecodeBatch(b)
	require.NoError(t, err)
	require.Equal(t, len(b), n)
	require.Equal(t, int64(42), batch.ProducerID)
	require.Equal(t, int32(9), batch.BaseSequence)
	require.Len(t, batch.Records, 3)
	require.Equal(t, []byte("c"), batch.Records[2].Key)
	require.Equal(t, int64(1700000000020), batch.Records[2].Timestamp)
	require.Equal(t, []Header{{Key: "trace", Value: []byte{2}}}, batch.Records[2].Headers)
}

func TestCheckBatchErrors(t *testing.T) {
	good := goldenBatch(t)
	_, _, err := CheckBatch(good[:40])
	require.ErrorIs(t, err, ErrShort)
	_, _, err = CheckBatch(good[:len(good)-1])
	require.ErrorIs(t, err, ErrShort)

	flip := append([]byte(nil), good...)
	flip[70] ^= 0x01
	_, _, err = CheckBatch(flip)
	require.ErrorIs(t, err, ErrCRC)

	magic := append([]byte(nil), good...)
	magic[16] = 1
	_, _, err = CheckBatch(magic)
	require.ErrorIs(t, err, ErrMagic)

	// baseOffset, length-independent fields outside the CRC can change.
	moved := append([]byte(nil), good...)
	SetBaseOffset(moved, 1234)
	SetPartitionLeaderEpoch(moved, 3)
	h, _, err := CheckBatch(moved)
	require.NoError(t, err)
	require.Equal(t, int64(1235), h.LastOffset())
	require.Equal(t, int32(3), h.PartitionLeaderEpoch)

	SetLogAppendTime(moved, 99999)
	h, _, err = CheckBatch(moved)
	require.NoError(t, err)
	require.True(t, h.LogAppendTime())
	require.Equal(t, int64(99999), h.MaxTimestamp)
}

func TestDecodeRejectsBadRecords(t *testing.T) {
	good := goldenBatch(t)
	// Record count says 3 but only 2 records are there.
	b := append([]byte(nil), good...)
	binary.BigEndian.PutUint32(b[57:], 3)
	binary.BigEndian.PutUint32(b[17:], crc32cBitwise(b[21:]))
	_, _, err := DecodeBatch(b)
	require.ErrorIs(t, err, ErrCorrupt)

	// A record length running past the batch.
	b = append([]byte(nil), good...)
	b[61] = 0x7e
	binary.BigEndian.PutUint32(b[17:], crc32cBitwise(b[21:]))
	_, _, err = DecodeBatch(b)
	require.ErrorIs(t, err, ErrCorrupt)

	// An unknown codec.
	b = append([]byte(nil), good...)
	b[22] = 0x05
	binary.BigEndian.PutUint32(b[17:], crc32cBitwise(b[21:]))
	_, _, err = DecodeBatch(b)
	require.ErrorIs(t, err, ErrCompression)
}

func TestVarintLimits(t *testing.T) {
	r := reader{b: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x01}}
	r.varint()
	require.ErrorIs(t, r.err, ErrCorrupt, "a varint is at most 5 bytes")
	r = reader{b: binary.AppendVarint(nil, -1<<62)}
	require.Equal(t, int64(-1<<62), r.varlong())
	require.NoError(t, r.err)
}

// ValidateRecords accepts what a producer writes, with no allocation for
// an uncompressed batch, and refuses offset deltas that are not 0, 1, 2...
// and counts that disagree with the header.
func TestValidateRecords(t *testing.T) {
	recs := []Record{{Offset: 0, Value: []byte("a")}, {Offset: 1, Key: []byte("k"), Value: []byte("b"),
		Headers: []Header{{Key: "h", Value: []byte("v")}}}, {Offset: 2}}
	for _, c := range []Compression{CompressionNone, CompressionGzip, CompressionZstd} {
		opts := NewBatchOptions()
		opts.Compression = c
		b, err := AppendBatch(nil, opts, recs)
		require.NoError(t, err)
		h, _, err := CheckBatch(b)
		require.NoError(t, err)
		require.NoError(t, ValidateRecords(h, b, 1<<20), "compression %d", c)
		if c == CompressionNone {
			require.Zero(t, testing.AllocsPerRun(100, func() { _ = ValidateRecords(h, b, 1<<20) }))
		}
	}
	// A gap in the offset deltas (0, 2): the count still matches the
	// header's lastOffsetDelta+1 only if forced; both are refused.
	gap, err := AppendBatch(nil, NewBatchOptions(), []Record{{Offset: 0}, {Offset: 2}})
	require.NoError(t, err)
	h, _, err := CheckBatch(gap)
	require.NoError(t, err)
	require.ErrorIs(t, ValidateRecords(h, gap, 1<<20), ErrCorrupt)
	opts := NewBatchOptions()
	opts.LastOffsetDelta = 5 // the cleaner's form: fewer records than offsets
	kept, err := AppendBatch(nil, opts, []Record{{Offset: 0}, {Offset: 1}})
	require.NoError(t, err)
	h, _, err = CheckBatch(kept)
	require.NoError(t, err)
	require.ErrorIs(t, ValidateRecords(h, kept, 1<<20), ErrCorrupt)
}

// ValidateRecords agrees with DecodeBatchLimit plus the producer's rules
// on any input.
func FuzzValidateRecords(f *testing.F) {
	b, _ := AppendBatch(nil, NewBatchOptions(), []Record{{Offset: 0, Value: []byte("x")}, {Offset: 1}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, _, err := CheckBatch(b)
		if err != nil {
			return
		}
		batch, _, derr := DecodeBatchLimit(b, 1<<20)
		want := derr == nil && int64(len(batch.Records)) == int64(h.LastOffsetDelta)+1
		if want {
			for i, r := range batch.Records {
				if r.Offset-h.BaseOffset != int64(i) {
					want = false
				}
			}
		}
		got := ValidateRecords(h, b, 1<<20) == nil
		require.Equal(t, want, got, "decode error %v", derr)
	})
}

// The produce path's record check, ValidateRecords, against decoding the
// same 1 MiB batch of 100-byte records.
func BenchmarkValidateRecords(b *testing.B) {
	var recs []Record
	for i := 0; i < 9000; i++ {
		recs = append(recs, Record{Offset: int64(i), Value: make([]byte, 100)})
	}
	batch, err := AppendBatch(nil, NewBatchOptions(), recs)
	require.NoError(b, err)
	h, _, err := CheckBatch(batch)
	require.NoError(b, err)
	b.Run("validate", func(b *testing.B) {
		b.SetBytes(int64(len(batch)))
		b.ReportAllocs()
		for range b.N {
			if err := ValidateRecords(h, batch, 1<<30); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(batch)))
		b.ReportAllocs()
		for range b.N {
			if _, _, err := DecodeBatchLimit(batch, 1<<30); err != nil {
				b.Fatal(err)
			}
		}
	})
}
