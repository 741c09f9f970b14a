package kafka

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func frameOf(b []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

func TestReadFrame(t *testing.T) {
	body, err := ReadFrame(bytes.NewReader(frameOf([]byte("hello"))), nil, 100)
	require.NoError(t, err)
	require.Equal(t, "hello", string(body))

	// The size is refused before any allocation: a 2 GiB claim with no data.
	_, err = ReadFrame(bytes.NewReader([]byte{0x7f, 0xff, 0xff, 0xff}), nil, 100)
	require.ErrorIs(t, err, ErrFrameTooLarge)
	require.Contains(t, err.Error(), "socket.request.max.bytes")

	_, err = ReadFrame(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xfe}), nil, 100)
	require.ErrorIs(t, err, ErrFrameSize)

	_, err = ReadFrame(bytes.NewReader([]byte{0, 0, 0, 9, 1, 2}), nil, 100)
	require.ErrorIs(t, err, ErrTruncatedFrame)

	_, err = ReadFrame(bytes.NewReader(nil), nil, 100)
	require.ErrorIs(t, err, io.EOF)
}

func TestParseRequestHeaderVersions(t *testing.T) {
	id := "client-1"
	// Metadata v8 is not flexible: header v1.
	b := AppendRequestHeader(nil, RequestHeader{APIKey: 3, APIVersion: 8, CorrelationID: 7, ClientID: &id})
	b = append(b, 0xAA)
	h, body, err := ParseRequestHeader(b)
	require.NoError(t, err)
	require.Equal(t, int16(3), h.APIKey)
	require.Equal(t, int16(8), h.APIVersion)
	require.Equal(t, int32(7), h.CorrelationID)
	require.Equal(t, id, *h.ClientID)
	require.False(t, h.Flexible)
	require.Equal(t, []byte{0xAA}, body)

	// Metadata v9 is flexible: header v2 with tagged fields (one tag here).
	b = AppendRequestHeader(nil, RequestHeader{APIKey: 3, APIVersion: 9, CorrelationID: 8})
	b = append(b[:len(b)-0], 1, 5, 2, 'x', 'y', 0xBB) // 1 tag: tag 5, size 2, "xy"
	h, body, err = ParseRequestHeader(b)
	require.NoError(t, err)
	require.True(t, h.Flexible)
	require.Nil(t, h.ClientID)
	require.Equal(t, []byte{0xBB}, body)

	// A tag size that lies.
	b = AppendRequestHeader(nil, RequestHeader{APIKey: 3, APIVersion: 9, CorrelationID: 8})
	b = append(b, 1, 5, 50, 'x')
	_, _, err = ParseRequestHeader(b)
	require.ErrorIs(t, err, ErrHeader)

	// A client id length that lies.
	b = []byte{0, 3, 0, 1, 0, 0, 0, 1, 0, 40, 'a'}
	_, _, err = ParseRequestHeader(b)
	require.ErrorIs(t, err, ErrHeader)

	// Unknown key: the partial header comes back with the error.
	b = []byte{0x7f, 0x00, 0, 0, 0, 0, 0, 9, 0xff, 0xff}
	h, _, err = ParseRequestHeader(b)
	require.ErrorIs(t, err, ErrUnknownAPIKey)
	require.Equal(t, int32(9), h.CorrelationID)

	_, _, err = ParseRequestHeader([]byte{0, 1})
	require.ErrorIs(t, err, ErrHeader)
}

func TestHeaderRoundTripWithKmsg(t *testing.T) {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.Acks = -1
	req.TimeoutMillis = 1234
	id := "kgo"
	b := AppendRequestHeader(nil, RequestHeader{APIKey: req.Key(), APIVersion: 9, CorrelationID: 3, ClientID: &id, Flexible: true})
	b = req.AppendTo(b)
	h, body, err := ParseRequestHeader(b)
	require.NoError(t, err)
	got := kmsg.NewPtrProduceRequest()
	got.SetVersion(h.APIVersion)
	require.NoError(t, got.ReadFrom(body))
	require.Equal(t, int32(1234), got.TimeoutMillis)
	require.Equal(t, int16(-1), got.Acks)
}

func TestAppendResponse(t *testing.T) {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(3)
	resp.ErrorCode = 35
	out := AppendResponse(nil, 42, ResponseHeaderFlexible(18, true), resp)
	require.Equal(t, uint32(len(out)-4), binary.BigEndian.Uint32(out))
	require.Equal(t, uint32(42), binary.BigEndian.Uint32(out[4:]))
	back := kmsg.NewPtrApiVersionsResponse()
	back.SetVersion(3)
	require.NoError(t, back.ReadFrom(out[8:])) // header v0 for ApiVersions
	require.Equal(t, int16(35), back.ErrorCode)

	md := kmsg.NewPtrMetadataResponse()
	md.SetVersion(9)
	out = AppendResponse(nil, 1, ResponseHeaderFlexible(3, true), md)
	require.Equal(t, byte(0), out[8]) // empty tagged fields of header v1
}

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	require.NoError(t, r.Add(VersionRange{Key: 18, Min: 0, Max: 3}))
	require.NoError(t, r.Add(VersionRange{Key: 0, Min: 3, Max: 9}))
	require.Error(t, r.Add(VersionRange{Key: 0, Min: 3, Max: 9}))
	require.Error(t, r.Add(VersionRange{Key: 1, Min: 5, Max: 4}))
	require.Error(t, r.Add(VersionRange{Key: 1, Min: 0, Max: 999}))
	require.Error(t, r.Add(VersionRange{Key: 999, Min: 0, Max: 0}))
	require.True(t, r.Supports(0, 3))
	require.False(t, r.Supports(0, 2))
	require.False(t, r.Supports(1, 4))
	keys := r.APIKeys()
	require.Len(t, keys, 2)
	require.Equal(t, int16(0), keys[0].ApiKey)
	require.Equal(t, int16(9), keys[0].MaxVersion)
}

func FuzzParseRequestHeader(f *testing.F) {
	id := "c"
	f.Add(AppendRequestHeader(nil, RequestHeader{APIKey: 18, APIVersion: 3, CorrelationID: 1, ClientID: &id, Flexible: true}))
	f.Add(AppendRequestHeader(nil, RequestHeader{APIKey: 0, APIVersion: 7, CorrelationID: 1}))
	f.Add([]byte{})
	f.Add([]byte{0, 3, 0, 9, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, body, err := ParseRequestHeader(b)
		if err != nil {
			if !errors.Is(err, ErrHeader) && !errors.Is(err, ErrUnknownAPIKey) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if len(body) > len(b) {
			t.Fatal("body longer than input")
		}
		if h.APIVersion < 0 {
			t.Fatal("negative version accepted")
		}
	})
}

func FuzzReadFrame(f *testing.F) {
	f.Add(frameOf([]byte("abc")))
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 5, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		body, err := ReadFrame(bytes.NewReader(b), nil, 1024)
		if err == nil && len(body) > 1024 {
			t.Fatal("frame above the limit")
		}
	})
}
