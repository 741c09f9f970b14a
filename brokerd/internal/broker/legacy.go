package broker

// Legacy message sets (message format magic 0 and 1) for old clients, as
// Kafka 2.8 with message.format.version 2.8 handles them: the log holds
// only record batch v2.
//
// Produce v0-2 carries a legacy message set. It is up-converted to one v2
// batch (proto/kafka UpConvert: the messages re-batched with the codec of
// the compressed wrappers) and appended by the normal produce path, so
// offsets, LogAppendTime, message.max.bytes, acks and replication behave
// as for Produce v3+. A set that does not decode is CORRUPT_MESSAGE (the
// error legacy clients know), one that expands past the decompression
// bound MESSAGE_TOO_LARGE, a zstd wrapper UNSUPPORTED_COMPRESSION_TYPE.
//
// Fetch v0-3 reads the same batches as v4+ but as a copy, never sendfile,
// and down-converts them (proto/kafka DownConvert) to magic 0 for v0-1 and
// magic 1 for v2-3: control batches and records below the fetch offset
// dropped, headers lost, a compressed batch re-compressed as one wrapper.
// zstd batches cannot be expressed: the partition answers
// UNSUPPORTED_COMPRESSION_TYPE, as Kafka does.

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
	"mqstack/storage/segment"
)

// legacyProduce is the last Produce version carrying legacy message sets;
// legacyFetch the last Fetch version answering with them.
const (
	legacyProduce = 2
	legacyFetch   = 3
)

// upConvertProduce replaces a Produce v0-2 partition's message set with a
// v2 batch; it returns the partition's error code (0 when converted).
func upConvertProduce(c *conn, topic string, rp *kmsg.ProduceRequestTopicPartition) int16 {
	batch, err := kafka.UpConvert(rp.Records, kafka.MaxDecompressedBytes)
	if err != nil {
		c.log.Debug().Err(err).Str("topic", topic).Int32("partition", rp.Partition).Msg("legacy message set rejected")
		switch {
		case errors.Is(err, kafka.ErrTooLarge):
			return kerr.MessageTooLarge.Code
		case errors.Is(err, kafka.ErrUnsupportedCompression):
			return kerr.UnsupportedCompressionType.Code // zstd needs Produce v7
		}
		return kerr.CorruptMessage.Code
	}
	rp.Records = batch
	return 0
}

// fetchMagic is the message format a Fetch version reads.
func fetchMagic(version int16) int8 {
	if version <= 1 {
		return kafka.MagicV0
	}
	return kafka.MagicV1
}

// readDownConverted reads as readFetch does for Fetch v4+ (within: no
// first-batch exception) and down-converts the batches for a Fetch v0-3.
func readDownConverted(l *segment.Log, version int16, offset int64, maxBytes int, limit int64, within bool) ([]byte, segment.ReadResult, error) {
	data, res, err := l.ReadBytes(offset, maxBytes, limit)
	if err != nil || data == nil {
		return nil, res, err
	}
	if within && res.Length > int64(maxBytes) {
		return nil, res, nil
	}
	out, err := kafka.DownConvert(nil, data, fetchMagic(version), offset, kafka.MaxDecompressedBytes)
	if err != nil {
		return nil, res, err
	}
	if out == nil {
		out = []byte{}
	}
	return out, res, nil
}
