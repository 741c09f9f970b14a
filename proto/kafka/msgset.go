package kafka

// Legacy message sets (message format magic 0 and 1), which Produce v0-2
// carries and Fetch v0-3 must return. Each message is
//
//	offset      int64
//	messageSize int32   bytes after this field
//	crc         uint32  CRC-32 (IEEE) of magic..end
//	magic       int8    0 or 1
//	attributes  int8    bits 0-2 codec; bit 3 (magic 1) LogAppendTime
//	timestamp   int64   magic 1 only
//	key         int32 length (-1 null) + bytes
//	value       int32 length (-1 null) + bytes
//
// A compressed message (a "wrapper") has a value that decompresses to an
// inner message set of the same magic. Inner offsets of a magic 1 wrapper
// are relative: the wrapper's offset is the absolute offset of the last
// inner message. The broker stores only record batch v2 (as Kafka 2.8 does
// with message.format.version 2.8), so produced legacy sets are
// up-converted (UpConvert) and fetched batches down-converted
// (DownConvert).

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"
)

// Legacy message format constants.
const (
	MagicV0 = 0
	MagicV1 = 1

	// legacyOffsetSize is offset + messageSize, not counted in messageSize.
	legacyOffsetSize = 12
	// legacyMinV0 and legacyMinV1 are the smallest messageSize values:
	// crc, magic, attributes, (timestamp,) key and value lengths.
	legacyMinV0 = 4 + 1 + 1 + 4 + 4
	legacyMinV1 = legacyMinV0 + 8

	legacyAttrCompression int8 = 0x07
	legacyAttrTimestamp   int8 = 0x08
)

// ErrUnsupportedCompression is returned by DownConvert for a codec that
// the legacy format cannot carry (zstd), as Kafka answers such fetches
// with UNSUPPORTED_COMPRESSION_TYPE.
var ErrUnsupportedCompression = errors.New("kafka: compression codec not supported by the message format")

// Message is one legacy message (magic 0 or 1).
type Message struct {
	Offset     int64
	Magic      int8
	Attributes int8
	Timestamp  int64 // NoTimestamp for magic 0
	Key        []byte
	Value      []byte
}

// Compression returns the codec in attribute bits 0-2.
func (m Message) Compression() Compression { return Compression(m.Attributes & legacyAttrCompression) }

// LogAppendTime reports attribute bit 3 (magic 1 only).
func (m Message) LogAppendTime() bool {
	return m.Magic >= MagicV1 && m.Attributes&legacyAttrTimestamp != 0
}

// ReadMessageSet decodes the messages at the start of b without expanding
// compressed wrappers, checking each message's CRC and framing. A partial
// message at the end is not an error (a fetch response may end in one, as
// Kafka's ByteBufferLogInputStream allows): decoding stops before it and
// size is the number of bytes of the complete messages.
func ReadMessageSet(b []byte) (msgs []Message, size int, err error) {
	for off := 0; len(b)-off >= legacyOffsetSize; {
		n := int32(binary.BigEndian.Uint32(b[off+8:]))
		if n < legacyMinV0 {
			return msgs, off, fmt.Errorf("%w: message at byte %d has size %d, below the minimum %d", ErrCorrupt, off, n, legacyMinV0)
		}
		if int64(n) > int64(len(b)-off-legacyOffsetSize) {
			break // partial trailing message
		}
		end := off + legacyOffsetSize + int(n)
		m, err := decodeMessage(b[off:end])
		if err != nil {
			return msgs, off, fmt.Errorf("message at byte %d: %w", off, err)
		}
		msgs = append(msgs, m)
		off = end
		size = off
	}
	return msgs, size, nil
}

// decodeMessage decodes one complete message (offset through value).
func decodeMessage(b []byte) (Message, error) {
	be := binary.BigEndian
	m := Message{Offset: int64(be.Uint64(b)), Timestamp: NoTimestamp}
	body := b[legacyOffsetSize:]
	if stored, got := be.Uint32(body), crc32.ChecksumIEEE(body[4:]); stored != got {
		return m, fmt.Errorf("%w: message at offset %d: stored %#08x, computed %#08x", ErrCRC, m.Offset, stored, got)
	}
	m.Magic, m.Attributes = int8(body[4]), int8(body[5])
	rest := body[6:]
	switch m.Magic {
	case MagicV0:
	case MagicV1:
		if len(body) < legacyMinV1 {
			return m, fmt.Errorf("%w: magic 1 message of %d bytes, the minimum is %d", ErrCorrupt, len(body), legacyMinV1)
		}
		m.Timestamp = int64(be.Uint64(rest))
		rest = rest[8:]
	default:
		return m, fmt.Errorf("%w: magic %d in a legacy message set (0 or 1 expected)", ErrMagic, m.Magic)
	}
	var err error
	if m.Key, rest, err = legacyBytes(rest, "key"); err != nil {
		return m, err
	}
	if m.Value, rest, err = legacyBytes(rest, "value"); err != nil {
		return m, err
	}
	if len(rest) != 0 {
		return m, fmt.Errorf("%w: %d bytes after the value of the message at offset %d", ErrCorrupt, len(rest), m.Offset)
	}
	return m, nil
}

func legacyBytes(b []byte, what string) ([]byte, []byte, error) {
	if len(b) < 4 {
		return nil, b, fmt.Errorf("%w: %s length truncated", ErrCorrupt, what)
	}
	n := int32(binary.BigEndian.Uint32(b))
	b = b[4:]
	switch {
	case n == -1:
		return nil, b, nil
	case n < 0 || int64(n) > int64(len(b)):
		return nil, b, fmt.Errorf("%w: %s length %d with %d bytes left", ErrCorrupt, what, n, len(b))
	}
	return b[:n:n], b[n:], nil
}

// Inner expands a compressed wrapper into its messages, with absolute
// offsets (magic 1 relative offsets resolved against the wrapper's) and,
// for a LogAppendTime wrapper, the wrapper's timestamp. The decompressed
// size is bounded by maxDecompressed. An uncompressed message returns
// itself.
func (m Message) Inner(maxDecompressed int) ([]Message, error) {
	c := m.Compression()
	if c == CompressionNone {
		return []Message{m}, nil
	}
	if c == CompressionZstd {
		return nil, fmt.Errorf("%w: zstd in a magic %d message (offset %d)", ErrUnsupportedCompression, m.Magic, m.Offset)
	}
	if m.Value == nil {
		return nil, fmt.Errorf("%w: compressed message at offset %d has a null value", ErrCorrupt, m.Offset)
	}
	value := m.Value
	if c == CompressionLZ4 && m.Magic == MagicV0 {
		value = fixLZ4HeaderChecksum(value)
	}
	raw, err := Decompress(c, value, maxDecompressed)
	if err != nil {
		return nil, fmt.Errorf("message at offset %d: %w", m.Offset, err)
	}
	inner, size, err := ReadMessageSet(raw)
	if err != nil {
		return nil, fmt.Errorf("inner set of the message at offset %d: %w", m.Offset, err)
	}
	if size != len(raw) || len(inner) == 0 {
		return nil, fmt.Errorf("%w: inner set of the message at offset %d is truncated (%d of %d bytes, %d messages)", ErrCorrupt, m.Offset, size, len(raw), len(inner))
	}
	last := inner[len(inner)-1].Offset
	for i := range inner {
		im := &inner[i]
		if im.Magic != m.Magic {
			return nil, fmt.Errorf("%w: inner message magic %d in a magic %d wrapper at offset %d", ErrCorrupt, im.Magic, m.Magic, m.Offset)
		}
		if im.Compression() != CompressionNone {
			return nil, fmt.Errorf("%w: nested compression in the wrapper at offset %d", ErrCorrupt, m.Offset)
		}
		if m.Magic == MagicV1 {
			im.Offset = m.Offset - last + im.Offset
			if m.LogAppendTime() {
				im.Timestamp = m.Timestamp
				im.Attributes |= legacyAttrTimestamp
			}
		}
	}
	return inner, nil
}

// DecodeMessageSet reads a message set and expands its compressed
// wrappers (see ReadMessageSet and Inner). codec is the codec of the last
// compressed wrapper (none if there is none), the codec Kafka keeps when
// it re-batches a produced set.
func DecodeMessageSet(b []byte, maxDecompressed int) (msgs []Message, codec Compression, size int, err error) {
	outer, size, err := ReadMessageSet(b)
	if err != nil {
		return nil, codec, size, err
	}
	budget := maxDecompressed // shared by all wrappers of the set
	for _, m := range outer {
		if m.Compression() == CompressionNone {
			msgs = append(msgs, m)
			continue
		}
		if budget <= 0 {
			return nil, codec, size, fmt.Errorf("%w: compressed messages expand past %d bytes", ErrTooLarge, maxDecompressed)
		}
		inner, err := m.Inner(budget)
		if err != nil {
			return nil, codec, size, err
		}
		for _, im := range inner {
			budget -= messageSize(im)
		}
		codec = m.Compression()
		msgs = append(msgs, inner...)
	}
	return msgs, codec, size, nil
}

// messageSize is the encoded size of m, offset and size fields included.
func messageSize(m Message) int {
	n := legacyOffsetSize + legacyMinV0 + len(m.Key) + len(m.Value)
	if m.Magic >= MagicV1 {
		n += 8
	}
	return n
}

// AppendMessage encodes m (magic 0 or 1, as m.Magic says) with its CRC.
func AppendMessage(dst []byte, m Message) []byte {
	be := binary.BigEndian
	size := messageSize(m) - legacyOffsetSize
	dst = be.AppendUint64(dst, uint64(m.Offset))
	dst = be.AppendUint32(dst, uint32(size))
	crcAt := len(dst)
	dst = be.AppendUint32(dst, 0)
	dst = append(dst, byte(m.Magic), byte(m.Attributes))
	if m.Magic >= MagicV1 {
		dst = be.AppendUint64(dst, uint64(m.Timestamp))
	}
	dst = appendLegacyBytes(dst, m.Key)
	dst = appendLegacyBytes(dst, m.Value)
	be.PutUint32(dst[crcAt:], crc32.ChecksumIEEE(dst[crcAt+4:]))
	return dst
}

func appendLegacyBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.BigEndian.AppendUint32(dst, 0xffffffff)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

// AppendMessageSet encodes msgs (absolute, increasing offsets) in format
// magic. With codec none each message is written as is; otherwise they
// become one wrapper compressed with codec, its offset the last message's,
// its inner offsets relative to the first for magic 1 (absolute for magic
// 0) and, for magic 1, its timestamp the largest (logAppendTime >= 0 makes
// it a LogAppendTime wrapper with that time).
func AppendMessageSet(dst []byte, magic int8, codec Compression, logAppendTime int64, msgs []Message) ([]byte, error) {
	if magic != MagicV0 && magic != MagicV1 {
		return dst, fmt.Errorf("%w: magic %d is not a legacy format", ErrMagic, magic)
	}
	if codec == CompressionZstd {
		return dst, fmt.Errorf("%w: zstd needs magic 2", ErrUnsupportedCompression)
	}
	fix := func(m Message) Message {
		m.Magic = magic
		m.Attributes &^= legacyAttrCompression
		if magic == MagicV0 {
			m.Timestamp, m.Attributes = NoTimestamp, 0
		} else if logAppendTime >= 0 {
			m.Timestamp = logAppendTime
			m.Attributes |= legacyAttrTimestamp
		}
		return m
	}
	if codec == CompressionNone {
		for _, m := range msgs {
			dst = AppendMessage(dst, fix(m))
		}
		return dst, nil
	}
	if len(msgs) == 0 {
		return dst, nil
	}
	var inner []byte
	maxTs := NoTimestamp
	for _, m := range msgs {
		m = fix(m)
		maxTs = max(maxTs, m.Timestamp)
		if magic == MagicV1 {
			m.Offset -= msgs[0].Offset
			m.Attributes &^= legacyAttrTimestamp // the wrapper carries the type
		}
		inner = AppendMessage(inner, m)
	}
	value, err := Compress(codec, inner)
	if err != nil {
		return dst, err
	}
	w := fix(Message{Offset: msgs[len(msgs)-1].Offset, Timestamp: maxTs, Value: value})
	w.Attributes |= int8(codec)
	return AppendMessage(dst, w), nil
}

// UpConvert re-batches a produced legacy message set as one record batch
// v2, as Kafka 2.8 does on produce: base offset 0 with offsets 0..n-1
// (the log assigns the real ones), the timestamps of magic 1 messages
// (NoTimestamp for magic 0), no producer id, and the codec of the
// compressed wrappers (none when there are none). A set without a
// complete message is an error.
func UpConvert(set []byte, maxDecompressed int) ([]byte, error) {
	msgs, codec, _, err := DecodeMessageSet(set, maxDecompressed)
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("%w: a message set of %d bytes holds no complete message", ErrCorrupt, len(set))
	}
	recs := make([]Record, len(msgs))
	for i, m := range msgs {
		recs[i] = Record{Offset: int64(i), Timestamp: m.Timestamp, Key: m.Key, Value: m.Value}
	}
	opts := NewBatchOptions()
	opts.Compression = codec
	return AppendBatch(nil, opts, recs)
}

// DownConvert converts the record batches v2 in batches (as read from a
// log for a fetch) to messages of format magic and appends them to dst,
// as Kafka does for Fetch v0-3: control batches and records below
// fetchOffset are dropped, headers are lost, an uncompressed batch becomes
// one message per record and a compressed one a single wrapper with the
// same codec. A partial batch at the end is ignored. zstd batches cannot
// be converted (ErrUnsupportedCompression).
func DownConvert(dst, batches []byte, magic int8, fetchOffset int64, maxDecompressed int) ([]byte, error) {
	for len(batches) > 0 {
		batch, n, err := DecodeBatchLimit(batches, maxDecompressed)
		if errors.Is(err, ErrShort) {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
		batches = batches[n:]
		if batch.Control() {
			continue
		}
		c := batch.Compression()
		if c == CompressionZstd {
			return dst, fmt.Errorf("%w: zstd batch at offset %d cannot be served as magic %d", ErrUnsupportedCompression, batch.BaseOffset, magic)
		}
		msgs := make([]Message, 0, len(batch.Records))
		for _, r := range batch.Records {
			if r.Offset < fetchOffset {
				continue
			}
			ts := r.Timestamp
			if batch.LogAppendTime() {
				ts = batch.MaxTimestamp
			}
			msgs = append(msgs, Message{Offset: r.Offset, Timestamp: ts, Key: r.Key, Value: r.Value})
		}
		appendTime := NoTimestamp
		if batch.LogAppendTime() {
			appendTime = batch.MaxTimestamp
		}
		if dst, err = AppendMessageSet(dst, magic, c, appendTime, msgs); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// fixLZ4HeaderChecksum returns an LZ4 frame with its frame descriptor
// checksum (HC) recomputed. Producers of magic 0 messages (Kafka's Java
// client before 0.10, kafka-python for api_version < 0.10) hashed the
// frame magic too (KAFKA-3160), and Kafka ignores the HC of magic 0 LZ4
// data; the LZ4 reader checks it, so it is set right first. A frame too
// short to hold a descriptor is returned unchanged for the reader to
// reject.
func fixLZ4HeaderChecksum(frame []byte) []byte {
	const magic = 0x184D2204
	if len(frame) < 7 || binary.LittleEndian.Uint32(frame) != magic {
		return frame
	}
	end := 6 // FLG and BD
	if frame[4]&0x08 != 0 {
		end += 8 // content size
	}
	if frame[4]&0x01 != 0 {
		end += 4 // dictionary id
	}
	if len(frame) <= end {
		return frame
	}
	hc := byte(xxh32Short(frame[4:end]) >> 8)
	if frame[end] == hc {
		return frame
	}
	out := append([]byte(nil), frame...)
	out[end] = hc
	return out
}

// xxh32Short is XXH32 with seed 0 of an input shorter than 16 bytes (an
// LZ4 frame descriptor is at most 14), the only case the checksum needs.
func xxh32Short(b []byte) uint32 {
	const (
		p1 uint32 = 2654435761
		p2 uint32 = 2246822519
		p3 uint32 = 3266489917
		p4 uint32 = 668265263
		p5 uint32 = 374761393
	)
	h := p5 + uint32(len(b))
	for ; len(b) >= 4; b = b[4:] {
		h += binary.LittleEndian.Uint32(b) * p3
		h = bits.RotateLeft32(h, 17) * p4
	}
	for _, c := range b {
		h += uint32(c) * p5
		h = bits.RotateLeft32(h, 11) * p1
	}
	h ^= h >> 15
	h *= p2
	h ^= h >> 13
	h *= p3
	h ^= h >> 16
	return h
}
