package kafka

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Framing and headers (Kafka's protocol guide, "Common Request and Response
// Structure"):
//
//	request  = size int32 | header | body
//	response = size int32 | header | body
//
//	request header v0: api_key int16, api_version int16, correlation_id int32
//	request header v1: v0 + client_id nullable string (int16 length, -1 = null)
//	request header v2: v1 + tagged fields (flexible versions, KIP-482)
//	response header v0: correlation_id int32
//	response header v1: v0 + tagged fields
//
// A request uses header v2 when its API version is flexible and v1
// otherwise (v0 is only ControlledShutdown v0, which is not served). A
// response uses header v1 when the version is flexible, except ApiVersions,
// whose response header is always v0 so an old client can read the
// fallback reply.

// Sentinel errors of the framing and header decoders.
var (
	ErrFrameTooLarge  = errors.New("kafka: request frame too large")
	ErrFrameSize      = errors.New("kafka: invalid frame size")
	ErrHeader         = errors.New("kafka: malformed request header")
	ErrUnknownAPIKey  = errors.New("kafka: unknown api key")
	ErrTruncatedFrame = errors.New("kafka: truncated frame")
)

// ReadFrame reads one size-prefixed frame from r into buf (grown as needed)
// and returns the frame body. The size is checked against maxSize
// (socket.request.max.bytes) before anything is allocated for it.
func ReadFrame(r io.Reader, buf []byte, maxSize int32) ([]byte, error) {
	return ReadFrameInto(r, maxSize, func(n int) []byte {
		if cap(buf) < n {
			return make([]byte, n)
		}
		return buf[:n]
	})
}

// ReadFrameInto is ReadFrame with the caller choosing the buffer: get(n)
// returns a slice of length n for a frame of n bytes (a pooled one, say).
// On an error the slice returned is what get gave, or nil if the length
// was never read or was refused.
func ReadFrameInto(r io.Reader, maxSize int32, get func(n int) []byte) ([]byte, error) {
	var sz [4]byte
	if _, err := io.ReadFull(r, sz[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(sz[:]))
	if n < 0 {
		return nil, fmt.Errorf("%w: %d", ErrFrameSize, n)
	}
	if n > maxSize {
		return nil, fmt.Errorf("%w: %d bytes, socket.request.max.bytes is %d", ErrFrameTooLarge, n, maxSize)
	}
	buf := get(int(n))
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return buf, fmt.Errorf("%w: %w", ErrTruncatedFrame, err)
	}
	return buf, nil
}

// RequestHeader is a decoded request header.
type RequestHeader struct {
	APIKey        int16
	APIVersion    int16
	CorrelationID int32
	ClientID      *string
	// Flexible is true when the header was v2 (the API version is a
	// flexible one); the response then uses header v1 (ApiVersions aside).
	Flexible bool
}

// ParseRequestHeader decodes the header at the start of a frame and returns
// it with the body that follows. Whether the header carries tagged fields
// (v2) is decided by kmsg's knowledge of the key and version. An unknown
// key returns the partial header (key, version, correlation id) with
// ErrUnknownAPIKey; the caller closes the connection, as Kafka does.
func ParseRequestHeader(frame []byte) (RequestHeader, []byte, error) {
	var h RequestHeader
	if len(frame) < 8 {
		return h, nil, fmt.Errorf("%w: %d bytes, a header needs at least 8", ErrHeader, len(frame))
	}
	h.APIKey = int16(binary.BigEndian.Uint16(frame[0:]))
	h.APIVersion = int16(binary.BigEndian.Uint16(frame[2:]))
	h.CorrelationID = int32(binary.BigEndian.Uint32(frame[4:]))
	req := kmsg.RequestForKey(h.APIKey)
	if req == nil {
		return h, nil, fmt.Errorf("%w: %d", ErrUnknownAPIKey, h.APIKey)
	}
	if h.APIVersion < 0 {
		return h, nil, fmt.Errorf("%w: negative api version %d", ErrHeader, h.APIVersion)
	}
	req.SetVersion(h.APIVersion)
	// Versions above what kmsg knows are treated as flexible when the
	// key's highest known version is: a client sending a newer version of
	// ApiVersions uses header v2 (KIP-511).
	if h.APIVersion > req.MaxVersion() {
		req.SetVersion(req.MaxVersion())
	}
	h.Flexible = req.IsFlexible()
	rest := frame[8:]
	if len(rest) < 2 {
		return h, nil, fmt.Errorf("%w: client id length missing", ErrHeader)
	}
	l := int16(binary.BigEndian.Uint16(rest))
	rest = rest[2:]
	switch {
	case l == -1:
	case l < -1:
		return h, nil, fmt.Errorf("%w: client id length %d", ErrHeader, l)
	case int(l) > len(rest):
		return h, nil, fmt.Errorf("%w: client id length %d, %d bytes left", ErrHeader, l, len(rest))
	default:
		s := string(rest[:l])
		h.ClientID = &s
		rest = rest[l:]
	}
	if h.Flexible {
		var err error
		if rest, err = SkipTags(rest); err != nil {
			return h, nil, err
		}
	}
	return h, rest, nil
}

// SkipTags skips a tagged-field section (uvarint count, then per field a
// uvarint tag, a uvarint size and the bytes).
func SkipTags(b []byte) ([]byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, fmt.Errorf("%w: bad tagged field count", ErrHeader)
	}
	b = b[k:]
	for i := uint64(0); i < n; i++ {
		_, k := binary.Uvarint(b)
		if k <= 0 {
			return nil, fmt.Errorf("%w: bad tag", ErrHeader)
		}
		b = b[k:]
		sz, k := binary.Uvarint(b)
		if k <= 0 || sz > uint64(len(b)-k) {
			return nil, fmt.Errorf("%w: bad tagged field size", ErrHeader)
		}
		b = b[k+int(sz):]
	}
	return b, nil
}

// AppendRequestHeader appends a request header (v1, or v2 when flexible);
// used by tests and tools that speak to a broker without kgo.
func AppendRequestHeader(dst []byte, h RequestHeader) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(h.APIKey))
	dst = binary.BigEndian.AppendUint16(dst, uint16(h.APIVersion))
	dst = binary.BigEndian.AppendUint32(dst, uint32(h.CorrelationID))
	if h.ClientID == nil {
		dst = binary.BigEndian.AppendUint16(dst, 0xffff)
	} else {
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(*h.ClientID)))
		dst = append(dst, *h.ClientID...)
	}
	if h.Flexible {
		dst = append(dst, 0)
	}
	return dst
}

// ResponseHeaderFlexible says whether a response to key at a flexible
// version uses response header v1: every key but ApiVersions (18).
func ResponseHeaderFlexible(key int16, flexible bool) bool {
	return flexible && key != 18
}

// AppendResponse appends a whole response frame: the size, the header
// (v0, or v1 with an empty tagged-field section) and the body encoded by
// resp at its set version.
func AppendResponse(dst []byte, correlationID int32, headerV1 bool, resp kmsg.Response) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	if headerV1 {
		dst = append(dst, 0)
	}
	dst = resp.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}
