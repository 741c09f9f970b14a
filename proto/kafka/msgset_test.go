package kafka

import (
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var legacyCodecs = []Compression{CompressionNone, CompressionGzip, CompressionSnappy, CompressionLZ4}

// kmsgV0 and kmsgV1 encode with franz-go's kmsg types, which leave the
// size and CRC to the caller: they are filled in here the way the format
// defines them.
func kmsgV0(offset int64, attrs int8, key, value []byte) []byte {
	m := kmsg.MessageV0{Offset: offset, Magic: 0, Attributes: attrs, Key: key, Value: value}
	return sealKmsg(m.AppendTo(nil))
}

func kmsgV1(offset int64, attrs int8, ts int64, key, value []byte) []byte {
	m := kmsg.MessageV1{Offset: offset, Magic: 1, Attributes: attrs, Timestamp: ts, Key: key, Value: value}
	return sealKmsg(m.AppendTo(nil))
}

func sealKmsg(b []byte) []byte {
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	binary.BigEndian.PutUint32(b[12:], crc32.ChecksumIEEE(b[16:]))
	return b
}

func TestMessageSetDecodesKmsgMessages(t *testing.T) {
	var set []byte
	set = append(set, kmsgV0(5, 0, []byte("k0"), []byte("v0"))...)
	set = append(set, kmsgV1(6, 0, 1234, nil, []byte("v1"))...)
	set = append(set, kmsgV1(7, 0, 1235, []byte("k2"), nil)...)
	msgs, size, err := ReadMessageSet(set)
	require.NoError(t, err)
	require.Equal(t, len(set), size)
	require.Equal(t, []Message{
		{Offset: 5, Magic: 0, Timestamp: NoTimestamp, Key: []byte("k0"), Value: []byte("v0")},
		{Offset: 6, Magic: 1, Timestamp: 1234, Value: []byte("v1")},
		{Offset: 7, Magic: 1, Timestamp: 1235, Key: []byte("k2")},
	}, msgs)
}

func TestAppendMessageMatchesKmsg(t *testing.T) {
	for _, m := range []Message{
		{Offset: 3, Magic: 0, Timestamp: NoTimestamp, Key: []byte("key"), Value: []byte("value")},
		{Offset: 4, Magic: 1, Attributes: 0x08, Timestamp: 99, Value: []byte("v")},
		{Offset: 5, Magic: 1, Timestamp: 100},
	} {
		b := AppendMessage(nil, m)
		var want []byte
		if m.Magic == 0 {
			want = kmsgV0(m.Offset, m.Attributes, m.Key, m.Value)
		} else {
			want = kmsgV1(m.Offset, m.Attributes, m.Timestamp, m.Key, m.Value)
		}
		require.Equal(t, want, b, "magic %d", m.Magic)
		if m.Magic == 1 {
			var k kmsg.MessageV1
			require.NoError(t, k.ReadFrom(b))
			require.Equal(t, int32(crc32.ChecksumIEEE(b[16:])), k.CRC)
			require.Equal(t, m.Timestamp, k.Timestamp)
		}
	}
}

func TestMessageSetCompressedWrappers(t *testing.T) {
	in := []Message{
		{Offset: 10, Timestamp: 1000, Key: []byte("a"), Value: []byte("one")},
		{Offset: 11, Timestamp: 1007, Value: []byte("two")},
		{Offset: 13, Timestamp: 1003, Key: []byte("c")}, // a gap, as after compaction
	}
	for _, magic := range []int8{MagicV0, MagicV1} {
		for _, c := range legacyCodecs {
			set, err := AppendMessageSet(nil, magic, c, NoTimestamp, in)
			require.NoError(t, err)
			outer, _, err := ReadMessageSet(set)
			require.NoError(t, err)
			if c != CompressionNone {
				require.Len(t, outer, 1, "one wrapper")
				require.Equal(t, c, outer[0].Compression())
				require.Equal(t, int64(13), outer[0].Offset, "the wrapper has the last offset")
				if magic == MagicV1 {
					require.Equal(t, int64(1007), outer[0].Timestamp, "the wrapper has the max timestamp")
					// Inner offsets are relative on the wire.
					raw, err := Decompress(c, outer[0].Value, 1<<20)
					require.NoError(t, err)
					rel, _, err := ReadMessageSet(raw)
					require.NoError(t, err)
					require.Equal(t, []int64{0, 1, 3}, []int64{rel[0].Offset, rel[1].Offset, rel[2].Offset})
				}
			}
			got, codec, size, err := DecodeMessageSet(set, 1<<20)
			require.NoError(t, err, "magic %d %s", magic, c)
			require.Equal(t, len(set), size)
			require.Equal(t, c, codec)
			require.Len(t, got, 3)
			for i, m := range got {
				require.Equal(t, in[i].Offset, m.Offset)
				require.Equal(t, magic, m.Magic)
				require.Equal(t, in[i].Key, m.Key)
				require.Equal(t, in[i].Value, m.Value)
				if magic == MagicV1 {
					require.Equal(t, in[i].Timestamp, m.Timestamp)
				} else {
					require.Equal(t, NoTimestamp, m.Timestamp)
				}
			}
		}
	}
}

func TestMessageSetLogAppendTimeWrapper(t *testing.T) {
	set, err := AppendMessageSet(nil, MagicV1, CompressionGzip, 5555, []Message{{Offset: 0, Timestamp: 1, Value: []byte("x")}, {Offset: 1, Timestamp: 2}})
	require.NoError(t, err)
	got, _, _, err := DecodeMessageSet(set, 1<<20)
	require.NoError(t, err)
	for _, m := range got {
		require.True(t, m.LogAppendTime())
		require.Equal(t, int64(5555), m.Timestamp)
	}
}

func TestMessageSetErrors(t *testing.T) {
	good := AppendMessage(nil, Message{Offset: 1, Magic: 1, Timestamp: 5, Value: []byte("hello")})

	// A partial trailing message is left out, as on fetch.
	two := append(append([]byte(nil), good...), good[:len(good)-2]...)
	msgs, size, err := ReadMessageSet(two)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.Equal(t, len(good), size)
	msgs, size, err = ReadMessageSet(good[:11])
	require.NoError(t, err)
	require.Empty(t, msgs)
	require.Zero(t, size)

	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 1
	_, _, err = ReadMessageSet(bad)
	require.ErrorIs(t, err, ErrCRC)

	small := append([]byte(nil), good...)
	binary.BigEndian.PutUint32(small[8:], 3)
	_, _, err = ReadMessageSet(small)
	require.ErrorIs(t, err, ErrCorrupt)

	magic2 := append([]byte(nil), good...)
	magic2[16] = 2
	binary.BigEndian.PutUint32(magic2[12:], crc32.ChecksumIEEE(magic2[16:]))
	_, _, err = ReadMessageSet(magic2)
	require.ErrorIs(t, err, ErrMagic)

	// A key length past the end of the message.
	keyLen := append([]byte(nil), good...)
	binary.BigEndian.PutUint32(keyLen[12+4+2+8:], 1000)
	binary.BigEndian.PutUint32(keyLen[12:], crc32.ChecksumIEEE(keyLen[16:]))
	_, _, err = ReadMessageSet(keyLen)
	require.ErrorIs(t, err, ErrCorrupt)

	// A wrapper whose value is not compressed data.
	wrapper := AppendMessage(nil, Message{Offset: 1, Magic: 1, Attributes: int8(CompressionGzip), Value: []byte("not gzip")})
	_, _, _, err = DecodeMessageSet(wrapper, 1<<20)
	require.ErrorIs(t, err, ErrCompression)

	// A wrapper expanding past the limit.
	big, err := AppendMessageSet(nil, MagicV1, CompressionGzip, NoTimestamp, []Message{{Value: make([]byte, 1<<20)}})
	require.NoError(t, err)
	_, _, _, err = DecodeMessageSet(big, 1<<10)
	require.ErrorIs(t, err, ErrTooLarge)

	_, err = UpConvert(good[:20], 1<<20)
	require.ErrorIs(t, err, ErrCorrupt)
}

func TestUpConvertKeepsWrapperCodec(t *testing.T) {
	msgs := []Message{
		{Offset: 0, Timestamp: 1000, Key: []byte("k"), Value: []byte("v1")},
		{Offset: 1, Timestamp: 1001, Value: []byte("v2")},
	}
	for _, magic := range []int8{MagicV0, MagicV1} {
		for _, c := range legacyCodecs {
			set, err := AppendMessageSet(nil, magic, c, NoTimestamp, msgs)
			require.NoError(t, err)
			// Two wrappers in one set become one batch.
			set, err = AppendMessageSet(set, magic, c, NoTimestamp, msgs)
			require.NoError(t, err)
			b, err := UpConvert(set, 1<<20)
			require.NoError(t, err)
			batch, n, err := DecodeBatch(b)
			require.NoError(t, err)
			require.Equal(t, len(b), n)
			require.Equal(t, c, batch.Compression(), "magic %d", magic)
			require.Equal(t, NoProducerID, batch.ProducerID)
			require.Len(t, batch.Records, 4)
			for i, r := range batch.Records {
				require.Equal(t, int64(i), r.Offset)
				require.Equal(t, msgs[i%2].Key, r.Key)
				require.Equal(t, msgs[i%2].Value, r.Value)
				if magic == MagicV0 {
					require.Equal(t, NoTimestamp, r.Timestamp)
				} else {
					require.Equal(t, msgs[i%2].Timestamp, r.Timestamp)
				}
			}
		}
	}
}

func TestDownConvert(t *testing.T) {
	recs := []Record{
		{Offset: 100, Timestamp: 2000, Key: []byte("a"), Value: []byte("x"), Headers: []Header{{Key: "h", Value: []byte("lost")}}},
		{Offset: 101, Timestamp: 2001, Value: []byte("y")},
		{Offset: 102, Timestamp: 2002, Key: []byte("c"), Value: []byte("z")},
	}
	for _, c := range legacyCodecs {
		opts := NewBatchOptions()
		opts.BaseOffset, opts.Compression = 100, c
		batches, err := AppendBatch(nil, opts, recs)
		require.NoError(t, err)
		ctl := NewBatchOptions()
		ctl.BaseOffset, ctl.Control, ctl.Transactional = 103, true, true
		batches, err = AppendBatch(batches, ctl, []Record{{Offset: 103, Key: []byte{0, 0, 0, 1}, Value: []byte{0, 0, 0, 0, 0, 0}}})
		require.NoError(t, err)
		lat := NewBatchOptions()
		lat.BaseOffset, lat.Compression, lat.LogAppendTime, lat.MaxTimestamp = 104, c, true, 7777
		batches, err = AppendBatch(batches, lat, []Record{{Offset: 104, Timestamp: 5, Value: []byte("late")}})
		require.NoError(t, err)
		partial := append(append([]byte(nil), batches...), batches[:30]...)

		for _, magic := range []int8{MagicV0, MagicV1} {
			out, err := DownConvert(nil, partial, magic, 101, 1<<20)
			require.NoError(t, err)
			outer, size, err := ReadMessageSet(out)
			require.NoError(t, err)
			require.Equal(t, len(out), size)
			if c == CompressionNone {
				require.Len(t, outer, 3)
			} else {
				require.Len(t, outer, 2, "one wrapper per compressed batch")
			}
			got, _, _, err := DecodeMessageSet(out, 1<<20)
			require.NoError(t, err)
			require.Len(t, got, 3, "offset 100 is below the fetch offset and the control batch is dropped")
			require.Equal(t, []int64{101, 102, 104}, []int64{got[0].Offset, got[1].Offset, got[2].Offset})
			require.Equal(t, []byte("y"), got[0].Value)
			require.Nil(t, got[0].Key)
			require.Equal(t, []byte("c"), got[1].Key)
			require.Equal(t, []byte("late"), got[2].Value)
			for _, m := range got {
				require.Equal(t, magic, m.Magic)
			}
			if magic == MagicV1 {
				require.Equal(t, int64(2001), got[0].Timestamp)
				require.False(t, got[0].LogAppendTime())
				require.Equal(t, int64(7777), got[2].Timestamp)
				require.True(t, got[2].LogAppendTime())
			} else {
				require.Equal(t, NoTimestamp, got[2].Timestamp)
			}
		}
	}

	opts := NewBatchOptions()
	opts.Compression = CompressionZstd
	z, err := AppendBatch(nil, opts, recs[:1])
	require.NoError(t, err)
	_, err = DownConvert(nil, z, MagicV1, 0, 1<<20)
	require.ErrorIs(t, err, ErrUnsupportedCompression)
}

func FuzzMessageSetDecode(f *testing.F) {
	msgs := []Message{{Offset: 0, Timestamp: 10, Key: []byte("k"), Value: []byte("v")}, {Offset: 1, Timestamp: 11}}
	f.Add([]byte{})
	for _, magic := range []int8{MagicV0, MagicV1} {
		for _, c := range legacyCodecs {
			set, err := AppendMessageSet(nil, magic, c, NoTimestamp, msgs)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(set)
			f.Add(set[:len(set)-1])
			f.Add(set[:legacyOffsetSize+3])
			f.Add(append(append([]byte(nil), set...), set...))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		outer, size, err := ReadMessageSet(b)
		if size < 0 || size > len(b) {
			t.Fatalf("size %d of %d bytes", size, len(b))
		}
		if err == nil {
			// Re-encoding the shallow messages gives back the same bytes.
			var again []byte
			for _, m := range outer {
				again = AppendMessage(again, m)
			}
			if string(again) != string(b[:size]) {
				t.Fatalf("re-encoding %d messages differs from the input", len(outer))
			}
		}
		deep, _, _, err := DecodeMessageSet(b, 1<<20)
		if err != nil {
			return
		}
		if len(deep) == 0 {
			return
		}
		// What decodes up-converts, and the batch decodes to the same values.
		batch, err := UpConvert(b, 1<<20)
		if err != nil {
			t.Fatalf("decoded set does not up-convert: %v", err)
		}
		got, _, err := DecodeBatch(batch)
		if err != nil {
			t.Fatalf("up-converted batch does not decode: %v", err)
		}
		if len(got.Records) != len(deep) {
			t.Fatalf("%d records from %d messages", len(got.Records), len(deep))
		}
		for i, r := range got.Records {
			if string(r.Value) != string(deep[i].Value) || (r.Value == nil) != (deep[i].Value == nil) {
				t.Fatalf("record %d value differs", i)
			}
		}
	})
}

// Magic 0 LZ4 wrappers from pre-0.10 producers carry a wrong frame
// descriptor checksum (KAFKA-3160), which Kafka ignores for magic 0 only.
func TestLZ4BrokenHeaderChecksum(t *testing.T) {
	frame, err := Compress(CompressionLZ4, AppendMessage(nil, Message{Magic: MagicV0, Timestamp: NoTimestamp, Value: []byte("old lz4")}))
	require.NoError(t, err)
	// The descriptor checksum pierrec/lz4 wrote is what xxh32Short computes.
	require.Equal(t, frame[6], byte(xxh32Short(frame[4:6])>>8))
	require.Equal(t, frame, fixLZ4HeaderChecksum(frame), "a correct frame is left alone")
	broken := append([]byte(nil), frame...)
	broken[6] = byte(xxh32Short(frame[:6]) >> 8) // hashed from the frame magic, as the old Java client did
	require.NotEqual(t, frame[6], broken[6])

	wrap := func(magic int8) []byte {
		inner := AppendMessage(nil, Message{Magic: magic, Value: []byte("old lz4")})
		value := append([]byte(nil), broken...)
		if magic == MagicV1 {
			value, err = Compress(CompressionLZ4, inner)
			require.NoError(t, err)
			value[6] ^= 0xff
		}
		return AppendMessage(nil, Message{Magic: magic, Attributes: int8(CompressionLZ4), Value: value})
	}
	msgs, codec, _, err := DecodeMessageSet(wrap(MagicV0), 1<<20)
	require.NoError(t, err)
	require.Equal(t, CompressionLZ4, codec)
	require.Equal(t, "old lz4", string(msgs[0].Value))
	_, _, _, err = DecodeMessageSet(wrap(MagicV1), 1<<20)
	require.ErrorIs(t, err, ErrCompression, "magic 1 frames must have a correct checksum")
}
