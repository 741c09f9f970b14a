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

// The group metadata value in Kafka's byte layout: a v3 value written and
// read back, and hand-built v0 and v2 values (what older brokers wrote).
func TestGroupMetadataRecord(t *testing.T) {
	require.Equal(t, "0002"+"0002"+"6778", hex.EncodeToString(EncodeGroupMetadataKey("gx")))
	g := GroupMetadata{ProtocolType: "consumer", Generation: 3, Protocol: "range", Leader: "m1", StateTimestamp: 1700000000000,
		Members: []MemberRecord{{MemberID: "m1", InstanceID: "i1", ClientID: "c", ClientHost: "/h", RebalanceTimeout: 60000,
			SessionTimeout: 10000, Subscription: []byte{1, 2}, Assignment: []byte{3}}}}
	b := EncodeGroupMetadataValue(g)
	want := "0003" + "0008" + hex.EncodeToString([]byte("consumer")) + "00000003" + "0005" + hex.EncodeToString([]byte("range")) +
		"0002" + "6d31" + "0000018bcfe56800" + "00000001" +
		"0002" + "6d31" + "0002" + "6931" + "0001" + "63" + "0002" + "2f68" + "0000ea60" + "00002710" + "00000002" + "0102" + "00000001" + "03"
	require.Equal(t, want, hex.EncodeToString(b))
	back, err := DecodeGroupMetadataValue(b)
	require.NoError(t, err)
	require.Equal(t, g, back)

	// An Empty group: null protocol and leader, no members.
	empty := GroupMetadata{ProtocolType: "consumer", Generation: 4, StateTimestamp: 5}
	b = EncodeGroupMetadataValue(empty)
	require.Equal(t, "0003"+"0008"+hex.EncodeToString([]byte("consumer"))+"00000004"+"ffff"+"ffff"+"0000000000000005"+"00000000", hex.EncodeToString(b))
	back, err = DecodeGroupMetadataValue(b)
	require.NoError(t, err)
	require.Equal(t, empty, back)

	v0, _ := hex.DecodeString("0000" + "0001" + "63" + "00000002" + "0001" + "72" + "0001" + "61" + "00000001" +
		"0001" + "61" + "0001" + "63" + "0001" + "68" + "00001388" + "00000000" + "00000000")
	back, err = DecodeGroupMetadataValue(v0)
	require.NoError(t, err)
	require.Equal(t, GroupMetadata{ProtocolType: "c", Generation: 2, Protocol: "r", Leader: "a", StateTimestamp: -1,
		Members: []MemberRecord{{MemberID: "a", ClientID: "c", ClientHost: "h", RebalanceTimeout: 5000, SessionTimeout: 5000}}}, back)
	v2, _ := hex.DecodeString("0002" + "0001" + "63" + "00000001" + "ffff" + "ffff" + "0000000000000009" + "00000000")
	back, err = DecodeGroupMetadataValue(v2)
	require.NoError(t, err)
	require.Equal(t, GroupMetadata{ProtocolType: "c", Generation: 1, StateTimestamp: 9}, back)

	for _, bad := range []string{"0004", "0003", "0003" + "0001" + "63" + "00000001" + "ffff" + "ffff" + "0000000000000009" + "7fffffff", v2hex() + "00"} {
		raw, _ := hex.DecodeString(bad)
		_, err := DecodeGroupMetadataValue(raw)
		require.ErrorIs(t, err, ErrFormat, bad)
	}
}

func v2hex() string {
	return "0002" + "0001" + "63" + "00000001" + "ffff" + "ffff" + "0000000000000009" + "00000000"
}

func FuzzGroupMetadataValue(f *testing.F) {
	f.Add([]byte{})
	f.Add(EncodeGroupMetadataValue(GroupMetadata{ProtocolType: "consumer", Generation: 1, Members: []MemberRecord{{MemberID: "m"}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := DecodeGroupMetadataValue(b)
		if err != nil {
			return
		}
		// What decodes re-encodes (as v3) and decodes to the same group.
		back, err := DecodeGroupMetadataValue(EncodeGroupMetadataValue(g))
		require.NoError(t, err)
		require.Equal(t, len(g.Members), len(back.Members))
		require.Equal(t, g.Generation, back.Generation)
	})
}
