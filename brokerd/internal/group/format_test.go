package group

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOffsetRecordRoundTrip(t *testing.T) {
	k := OffsetKey{Group: "g", Topic: "t", Partition: 3}
	kb := EncodeOffsetKey(k)
	// version 1, "g", "t", partition 3 — the layout Kafka writes.
	require.Equal(t, "0001"+"0001"+"67"+"0001"+"74"+"00000003", hex.EncodeToString(kb))
	kind, got, err := DecodeKey(kb)
	require.NoError(t, err)
	require.Equal(t, KeyOffset, kind)
	require.Equal(t, k, got)

	v := OffsetValue{Offset: 42, LeaderEpoch: 7, Metadata: "m", CommitTimestamp: 1700000000000}
	vb := EncodeOffsetValue(v)
	require.Equal(t, "0003"+"000000000000002a"+"00000007"+"0001"+"6d"+"0000018bcfe56800", hex.EncodeToString(vb))
	back, err := DecodeOffsetValue(vb)
	require.NoError(t, err)
	require.Equal(t, v, back)

	// Version 1 value (offset, metadata, commit ts, expire ts).
	v1, _ := hex.DecodeString("0001" + "0000000000000005" + "0000" + "0000000000000001" + "0000000000000002")
	back, err = DecodeOffsetValue(v1)
	require.NoError(t, err)
	require.Equal(t, OffsetValue{Offset: 5, LeaderEpoch: -1, CommitTimestamp: 1}, back)

	kind, got, err = DecodeKey([]byte{0, 2, 0, 2, 'g', 'x'})
	require.NoError(t, err)
	require.Equal(t, KeyGroupMetadata, kind)
	require.Equal(t, "gx", got.Group)

	_, _, err = DecodeKey([]byte{0, 1, 0, 9, 'a'})
	require.ErrorIs(t, err, ErrFormat)
	_, err = DecodeOffsetValue([]byte{0, 9})
	require.ErrorIs(t, err, ErrFormat)
}

// String.hashCode values computed independently (Python over the UTF-16BE
// encoding), including a character outside the BMP (a surrogate pair).
func TestPartitionForMatchesJava(t *testing.T) {
	require.Equal(t, int32(0), JavaHash(""))
	require.Equal(t, int32(97), JavaHash("a"))
	require.Equal(t, int32(1513705513), JavaHash("my-consumer-group"))
	require.Equal(t, int32(347391577), JavaHash("grüße-😀"))
	require.Equal(t, javaHashSlow("my-consumer-group"), JavaHash("my-consumer-group"))
	require.Equal(t, javaHashSlow("grüße-😀"), JavaHash("grüße-😀"))
	for _, g := range []string{"a", "my-consumer-group", "console-consumer-12345", "grüße-😀"} {
		p := PartitionFor(g, 50)
		require.True(t, p >= 0 && p < 50)
	}
	require.Equal(t, int32(97%50), PartitionFor("a", 50))
}

// javaHashSlow computes String.hashCode from the UTF-16 encoding.
func javaHashSlow(s string) int32 {
	var h int32
	for _, u := range utf16Units(s) {
		h = 31*h + int32(u)
	}
	return h
}

func utf16Units(s string) []uint16 {
	var out []uint16
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			out = append(out, uint16(0xD800+(r>>10)), uint16(0xDC00+(r&0x3FF)))
		} else {
			out = append(out, uint16(r))
		}
	}
	return out
}

func FuzzDecodeRecords(f *testing.F) {
	f.Add(EncodeOffsetKey(OffsetKey{Group: "g", Topic: "t", Partition: 1}))
	f.Add(EncodeOffsetValue(OffsetValue{Offset: 1, Metadata: "x"}))
	f.Add([]byte{})
	f.Add([]byte{0, 1, 0, 5, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		if kind, k, err := DecodeKey(b); err == nil && kind == KeyOffset {
			if _, _, err := DecodeKey(EncodeOffsetKey(k)); err != nil {
				t.Fatalf("re-encoded key does not decode: %v", err)
			}
		}
		_, _ = DecodeOffsetValue(b)
	})
}
