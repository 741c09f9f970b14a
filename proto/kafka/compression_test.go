package kafka

import (
	"bytes"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/stretchr/testify/require"
)

func TestCodecsRoundTrip(t *testing.T) {
	data := bytes.Repeat([]byte("kafka record batch "), 10000) // > one xerial and lz4 block
	for _, c := range []Compression{CompressionNone, CompressionGzip, CompressionSnappy, CompressionLZ4, CompressionZstd} {
		t.Run(c.String(), func(t *testing.T) {
			z, err := Compress(c, data)
			require.NoError(t, err)
			if c != CompressionNone {
				require.Less(t, len(z), len(data)/4)
			}
			out, err := Decompress(c, z, len(data))
			require.NoError(t, err)
			require.Equal(t, data, out)
			if c != CompressionNone {
				_, err = Decompress(c, z, len(data)-1)
				require.ErrorIs(t, err, ErrTooLarge)
			}
			empty, err := Compress(c, nil)
			require.NoError(t, err)
			out, err = Decompress(c, empty, 10)
			require.NoError(t, err)
			require.Empty(t, out)
		})
	}
}

func TestSnappyFraming(t *testing.T) {
	data := bytes.Repeat([]byte{1, 2, 3}, 40000)
	z, err := Compress(CompressionSnappy, data)
	require.NoError(t, err)
	// snappy-java's SnappyOutputStream header: magic, version 1, compatible 1.
	require.Equal(t, []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}, z[:16])
	// A raw snappy block, as sent by some non-Java clients, is accepted too.
	raw := snappy.Encode(nil, data)
	out, err := Decompress(CompressionSnappy, raw, len(data))
	require.NoError(t, err)
	require.Equal(t, data, out)
	_, err = Decompress(CompressionSnappy, z[:20], len(data))
	require.ErrorIs(t, err, ErrCompression)
}

func TestLZ4FrameHeader(t *testing.T) {
	z, err := Compress(CompressionLZ4, []byte("hello hello hello"))
	require.NoError(t, err)
	// LZ4 frame magic 0x184D2204 little-endian, FLG version 01 with block
	// independence, BD block max size 64 KiB (4 << 4).
	require.Equal(t, []byte{0x04, 0x22, 0x4d, 0x18}, z[:4])
	require.Equal(t, byte(0x40), z[4]&0xc0, "version 01")
	require.NotZero(t, z[4]&0x20, "independent blocks")
	require.Zero(t, z[4]&0x04, "no content checksum, as Kafka writes")
	require.Equal(t, byte(0x40), z[5])
}

func TestParseCompression(t *testing.T) {
	for _, name := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		c, err := ParseCompression(name)
		require.NoError(t, err)
		require.Equal(t, name, c.String())
	}
	_, err := ParseCompression("brotli")
	require.ErrorIs(t, err, ErrCompression)
	require.Contains(t, err.Error(), "brotli")
}
