// Package kafka holds Kafka's wire formats. It does no I/O.
//
// This file set covers the record batch (magic v2, the format Kafka writes
// on the wire and on disk since 0.11) and its compression codecs, request
// framing and request/response headers v0-v2 (frame.go), and the registry
// of served API versions that ApiVersions is built from (registry.go).
// Message bodies come from franz-go's kmsg.
//
// # Record batch v2
//
// All integers are big-endian. The CRC is CRC-32C (Castagnoli) over the bytes
// from attributes to the end of the batch, so baseOffset, batchLength and
// partitionLeaderEpoch can be rewritten by the broker without recomputing it.
//
//	offset  size  field
//	+-----+-----+--------------------------------------------------------+
//	|   0 |   8 | baseOffset            int64                            |
//	|   8 |   4 | batchLength           int32  bytes after this field    |
//	|  12 |   4 | partitionLeaderEpoch  int32                            |
//	|  16 |   1 | magic                 int8   = 2                       |
//	|  17 |   4 | crc                   uint32 CRC-32C of [21, end)      |
//	+-----+-----+--------------------------------------------------------+
//	|  21 |   2 | attributes            int16                            |
//	|     |     |   bits 0-2 compression 0 none 1 gzip 2 snappy 3 lz4    |
//	|     |     |                        4 zstd                          |
//	|     |     |   bit 3 timestampType  0 CreateTime 1 LogAppendTime    |
//	|     |     |   bit 4 isTransactional                                |
//	|     |     |   bit 5 isControlBatch                                 |
//	|     |     |   bit 6 hasDeleteHorizonMs (set by the log cleaner)    |
//	|  23 |   4 | lastOffsetDelta       int32                            |
//	|  27 |   8 | baseTimestamp         int64                            |
//	|  35 |   8 | maxTimestamp          int64                            |
//	|  43 |   8 | producerId            int64  -1 if none                |
//	|  51 |   2 | producerEpoch         int16  -1 if none                |
//	|  53 |   4 | baseSequence          int32  -1 if none                |
//	|  57 |   4 | recordsCount          int32                            |
//	|  61 | ... | records, compressed as a whole when bits 0-2 != 0      |
//	+-----+-----+--------------------------------------------------------+
//
// A batch is therefore 61 bytes of header (HeaderSize) plus its records, and
// batchLength = total size - 12 (LogOverhead).
//
// # Record
//
// Varints are zigzag LEB128 (Kafka's ByteUtils.writeVarint/writeVarlong);
// a varint takes at most 5 bytes, a varlong at most 10.
//
//	+-------------------------------------------------------------------+
//	| length          varint   bytes after this field                   |
//	| attributes      int8     unused, 0                                |
//	| timestampDelta  varlong  timestamp - baseTimestamp                |
//	| offsetDelta     varint   offset - baseOffset                      |
//	| keyLength       varint   -1 = null key                            |
//	| key             bytes                                             |
//	| valueLength     varint   -1 = null value (a tombstone)            |
//	| value           bytes                                             |
//	| headersCount    varint                                            |
//	|   headerKeyLength varint, headerKey (UTF-8),                      |
//	|   headerValueLength varint (-1 = null), headerValue               |
//	+-------------------------------------------------------------------+
//
// # Compression
//
// The records section (everything after recordsCount) is compressed as one
// stream:
//
//   - gzip: RFC 1952 (github.com/klauspost/compress/gzip).
//   - snappy: written in the xerial framing that Kafka's Java client
//     (snappy-java's SnappyOutputStream) writes: the 8-byte magic
//     "\x82SNAPPY\x00", int32 version 1, int32 compatible version 1, then
//     chunks of int32 length + one snappy block of at most 32 KiB input.
//     Decode accepts the xerial framing and also a single raw snappy block,
//     which some non-Java clients send.
//   - lz4: the LZ4 frame format (Kafka's KafkaLZ4BlockOutputStream), written
//     with 64 KiB independent blocks and no content checksum, as Kafka does.
//   - zstd: a zstd frame (github.com/klauspost/compress/zstd).
//
// Decompression is bounded (MaxDecompressedBytes by default) so a small
// compressed batch cannot expand without limit.
package kafka
