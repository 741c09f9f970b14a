package kafka

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Compression is a record batch compression codec (attribute bits 0-2).
type Compression int8

// The codecs Kafka defines.
const (
	CompressionNone   Compression = 0
	CompressionGzip   Compression = 1
	CompressionSnappy Compression = 2
	CompressionLZ4    Compression = 3
	CompressionZstd   Compression = 4
)

func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "none"
	case CompressionGzip:
		return "gzip"
	case CompressionSnappy:
		return "snappy"
	case CompressionLZ4:
		return "lz4"
	case CompressionZstd:
		return "zstd"
	}
	return fmt.Sprintf("compression(%d)", int8(c))
}

// ParseCompression maps Kafka's compression.type names to a codec.
func ParseCompression(name string) (Compression, error) {
	switch name {
	case "none", "uncompressed":
		return CompressionNone, nil
	case "gzip":
		return CompressionGzip, nil
	case "snappy":
		return CompressionSnappy, nil
	case "lz4":
		return CompressionLZ4, nil
	case "zstd":
		return CompressionZstd, nil
	}
	return CompressionNone, fmt.Errorf("%w: unknown compression type %q (use none, gzip, snappy, lz4 or zstd)", ErrCompression, name)
}

// xerialMagic starts snappy-java's SnappyOutputStream framing, followed by
// int32 version 1 and int32 minimum compatible version 1.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const (
	xerialHeaderSize = 16
	xerialBlockSize  = 32 << 10 // snappy-java's default block size
)

var (
	zstdOnce    sync.Once
	zstdEncoder *zstd.Encoder
	zstdErr     error
)

func zstdEnc() (*zstd.Encoder, error) {
	zstdOnce.Do(func() {
		zstdEncoder, zstdErr = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	})
	return zstdEncoder, zstdErr
}

// Compress compresses a batch's records section with codec c.
func Compress(c Compression, data []byte) ([]byte, error) {
	switch c {
	case CompressionNone:
		return data, nil
	case CompressionGzip:
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		if _, err := w.Write(data); err != nil {
			return nil, fmt.Errorf("%w: gzip: %w", ErrCompression, err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("%w: gzip: %w", ErrCompression, err)
		}
		return buf.Bytes(), nil
	case CompressionSnappy:
		out := make([]byte, 0, xerialHeaderSize+snappy.MaxEncodedLen(len(data))+4*(len(data)/xerialBlockSize+1))
		out = append(out, xerialMagic...)
		out = binary.BigEndian.AppendUint32(out, 1)
		out = binary.BigEndian.AppendUint32(out, 1)
		for len(data) > 0 {
			n := min(len(data), xerialBlockSize)
			block := snappy.Encode(nil, data[:n])
			out = binary.BigEndian.AppendUint32(out, uint32(len(block)))
			out = append(out, block...)
			data = data[n:]
		}
		return out, nil
	case CompressionLZ4:
		var buf bytes.Buffer
		w := lz4.NewWriter(&buf)
		if err := w.Apply(lz4.BlockSizeOption(lz4.Block64Kb), lz4.ChecksumOption(false), lz4.ConcurrencyOption(1)); err != nil {
			return nil, fmt.Errorf("%w: lz4: %w", ErrCompression, err)
		}
		if _, err := w.Write(data); err != nil {
			return nil, fmt.Errorf("%w: lz4: %w", ErrCompression, err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("%w: lz4: %w", ErrCompression, err)
		}
		return buf.Bytes(), nil
	case CompressionZstd:
		enc, err := zstdEnc()
		if err != nil {
			return nil, fmt.Errorf("%w: zstd: %w", ErrCompression, err)
		}
		return enc.EncodeAll(data, nil), nil
	}
	return nil, fmt.Errorf("%w: unknown codec %d in attributes", ErrCompression, int8(c))
}

// Decompress decompresses a batch's records section; the result may not
// exceed limit bytes.
func Decompress(c Compression, data []byte, limit int) ([]byte, error) {
	switch c {
	case CompressionNone:
		return data, nil
	case CompressionGzip:
		r, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %w", ErrCompression, err)
		}
		return readLimited(r, limit, "gzip")
	case CompressionSnappy:
		return snappyDecode(data, limit)
	case CompressionLZ4:
		return readLimited(lz4.NewReader(bytes.NewReader(data)), limit, "lz4")
	case CompressionZstd:
		d, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(max(limit, 8<<20))+1))
		if err != nil {
			return nil, fmt.Errorf("%w: zstd: %w", ErrCompression, err)
		}
		defer d.Close()
		return readLimited(d, limit, "zstd")
	}
	return nil, fmt.Errorf("%w: unknown codec %d in attributes", ErrCompression, int8(c))
}

func readLimited(r io.Reader, limit int, name string) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCompression, name, err)
	}
	if len(out) > limit {
		return nil, fmt.Errorf("%w: %s data expands past %d bytes", ErrTooLarge, name, limit)
	}
	return out, nil
}

func snappyDecode(data []byte, limit int) ([]byte, error) {
	if !bytes.HasPrefix(data, xerialMagic) {
		return snappyBlock(nil, data, limit)
	}
	if len(data) < xerialHeaderSize {
		return nil, fmt.Errorf("%w: snappy: xerial header truncated (%d bytes)", ErrCompression, len(data))
	}
	var out []byte
	rest := data[xerialHeaderSize:]
	for len(rest) > 0 {
		if len(rest) < 4 {
			return nil, fmt.Errorf("%w: snappy: xerial chunk length truncated", ErrCompression)
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if int64(n) > int64(len(rest)) {
			return nil, fmt.Errorf("%w: snappy: xerial chunk of %d bytes, %d left", ErrCompression, n, len(rest))
		}
		var err error
		out, err = snappyBlock(out, rest[:n], limit)
		if err != nil {
			return nil, err
		}
		rest = rest[n:]
	}
	return out, nil
}

// snappyBlock decodes one raw snappy block and appends it to dst.
func snappyBlock(dst, block []byte, limit int) ([]byte, error) {
	n, err := snappy.DecodedLen(block)
	if err != nil {
		return nil, fmt.Errorf("%w: snappy: %w", ErrCompression, err)
	}
	if n > limit-len(dst) {
		return nil, fmt.Errorf("%w: snappy data expands past %d bytes", ErrTooLarge, limit)
	}
	out, err := snappy.Decode(nil, block)
	if err != nil {
		return nil, fmt.Errorf("%w: snappy: %w", ErrCompression, err)
	}
	return append(dst, out...), nil
}
