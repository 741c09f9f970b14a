package kafka

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Byte offsets of the record batch v2 header fields (see doc.go).
const (
	offBaseOffset           = 0
	offBatchLength          = 8
	offPartitionLeaderEpoch = 12
	offMagic                = 16
	offCRC                  = 17
	offAttributes           = 21
	offLastOffsetDelta      = 23
	offBaseTimestamp        = 27
	offMaxTimestamp         = 35
	offProducerID           = 43
	offProducerEpoch        = 51
	offBaseSequence         = 53
	offRecordsCount         = 57

	// HeaderSize is the size of the record batch v2 header (61 bytes).
	HeaderSize = 61
	// LogOverhead is the size of baseOffset + batchLength, the part of the
	// header not counted in batchLength.
	LogOverhead = 12
	// MagicV2 is the only magic this package reads and writes.
	MagicV2 = 2

	// NoTimestamp is Kafka's RecordBatch.NO_TIMESTAMP.
	NoTimestamp int64 = -1
	// NoProducerID, NoProducerEpoch and NoSequence mark a non-idempotent batch.
	NoProducerID    int64 = -1
	NoProducerEpoch int16 = -1
	NoSequence      int32 = -1
	// NoPartitionLeaderEpoch is written by producers; the leader overwrites it.
	NoPartitionLeaderEpoch int32 = -1
)

// Attribute bits.
const (
	AttrCompressionMask    int16 = 0x07
	AttrTimestampType      int16 = 0x08 // set: LogAppendTime
	AttrTransactional      int16 = 0x10
	AttrControl            int16 = 0x20
	AttrDeleteHorizonMsSet int16 = 0x40
)

// Sentinel errors; wrapped with %w and detail.
var (
	ErrShort       = errors.New("kafka: batch truncated")
	ErrMagic       = errors.New("kafka: unsupported record batch magic")
	ErrCRC         = errors.New("kafka: record batch crc mismatch")
	ErrCorrupt     = errors.New("kafka: corrupt record batch")
	ErrCompression = errors.New("kafka: compression codec")
	ErrTooLarge    = errors.New("kafka: record batch too large")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// BatchHeader is the fixed 61-byte header of a record batch v2.
type BatchHeader struct {
	BaseOffset           int64
	BatchLength          int32
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	RecordCount          int32
}

// Size is the batch's total size in bytes (header included).
func (h BatchHeader) Size() int64 { return int64(h.BatchLength) + LogOverhead }

// LastOffset is the offset of the batch's last record.
func (h BatchHeader) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// NextOffset is the offset after the batch's last record.
func (h BatchHeader) NextOffset() int64 { return h.LastOffset() + 1 }

// Compression returns the codec in attribute bits 0-2.
func (h BatchHeader) Compression() Compression {
	return Compression(h.Attributes & AttrCompressionMask)
}

// LogAppendTime reports whether the batch's timestamps are LogAppendTime.
func (h BatchHeader) LogAppendTime() bool { return h.Attributes&AttrTimestampType != 0 }

// Transactional reports attribute bit 4.
func (h BatchHeader) Transactional() bool { return h.Attributes&AttrTransactional != 0 }

// Control reports attribute bit 5 (transaction markers).
func (h BatchHeader) Control() bool { return h.Attributes&AttrControl != 0 }

// ParseHeader reads the 61-byte header at the start of b. It checks the
// magic and that batchLength covers at least the header; it does not check
// the CRC or that the whole batch is present (see CheckBatch).
func ParseHeader(b []byte) (BatchHeader, error) {
	if len(b) < HeaderSize {
		return BatchHeader{}, fmt.Errorf("%w: %d bytes, a batch header needs %d", ErrShort, len(b), HeaderSize)
	}
	be := binary.BigEndian
	h := BatchHeader{
		BaseOffset:           int64(be.Uint64(b[offBaseOffset:])),
		BatchLength:          int32(be.Uint32(b[offBatchLength:])),
		PartitionLeaderEpoch: int32(be.Uint32(b[offPartitionLeaderEpoch:])),
		Magic:                int8(b[offMagic]),
		CRC:                  be.Uint32(b[offCRC:]),
		Attributes:           int16(be.Uint16(b[offAttributes:])),
		LastOffsetDelta:      int32(be.Uint32(b[offLastOffsetDelta:])),
		BaseTimestamp:        int64(be.Uint64(b[offBaseTimestamp:])),
		MaxTimestamp:         int64(be.Uint64(b[offMaxTimestamp:])),
		ProducerID:           int64(be.Uint64(b[offProducerID:])),
		ProducerEpoch:        int16(be.Uint16(b[offProducerEpoch:])),
		BaseSequence:         int32(be.Uint32(b[offBaseSequence:])),
		RecordCount:          int32(be.Uint32(b[offRecordsCount:])),
	}
	if h.Magic != MagicV2 {
		return h, fmt.Errorf("%w: magic %d at base offset %d (only v2 is supported)", ErrMagic, h.Magic, h.BaseOffset)
	}
	if int64(h.BatchLength) < HeaderSize-LogOverhead {
		return h, fmt.Errorf("%w: batchLength %d is smaller than the header (%d)", ErrCorrupt, h.BatchLength, HeaderSize-LogOverhead)
	}
	if h.LastOffsetDelta < 0 {
		return h, fmt.Errorf("%w: negative lastOffsetDelta %d", ErrCorrupt, h.LastOffsetDelta)
	}
	if h.RecordCount < 0 {
		return h, fmt.Errorf("%w: negative record count %d", ErrCorrupt, h.RecordCount)
	}
	return h, nil
}

// ComputeCRC returns the CRC-32C of a whole batch's bytes from attributes
// to the end. b must hold at least HeaderSize bytes.
func ComputeCRC(b []byte) uint32 { return crc32.Checksum(b[offAttributes:], castagnoli) }

// CheckBatch parses the header of the batch at the start of b, checks that
// the whole batch is present and that its CRC matches, and returns the header
// and the batch's size. It does not decompress the records.
func CheckBatch(b []byte) (BatchHeader, int, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h, 0, err
	}
	size := h.Size()
	if size > int64(len(b)) {
		return h, 0, fmt.Errorf("%w: batch at base offset %d is %d bytes, only %d present", ErrShort, h.BaseOffset, size, len(b))
	}
	if got := ComputeCRC(b[:size]); got != h.CRC {
		return h, 0, fmt.Errorf("%w: batch at base offset %d: stored %#08x, computed %#08x", ErrCRC, h.BaseOffset, h.CRC, got)
	}
	return h, int(size), nil
}

// SetBaseOffset rewrites baseOffset in place (not covered by the CRC).
func SetBaseOffset(batch []byte, offset int64) {
	binary.BigEndian.PutUint64(batch[offBaseOffset:], uint64(offset))
}

// SetPartitionLeaderEpoch rewrites partitionLeaderEpoch in place (not
// covered by the CRC).
func SetPartitionLeaderEpoch(batch []byte, epoch int32) {
	binary.BigEndian.PutUint32(batch[offPartitionLeaderEpoch:], uint32(epoch))
}

// SetLogAppendTime marks the batch's timestamps as LogAppendTime with the
// given time as maxTimestamp and recomputes the CRC, as Kafka's
// DefaultRecordBatch.setMaxTimestamp does.
func SetLogAppendTime(batch []byte, timestamp int64) {
	be := binary.BigEndian
	attrs := int16(be.Uint16(batch[offAttributes:])) | AttrTimestampType
	be.PutUint16(batch[offAttributes:], uint16(attrs))
	be.PutUint64(batch[offMaxTimestamp:], uint64(timestamp))
	be.PutUint32(batch[offCRC:], ComputeCRC(batch))
}

// Header is a record header.
type Header struct {
	Key   string
	Value []byte // nil is a null value
}

// Record is one record of a batch. Offset and Timestamp are absolute
// (baseOffset + offsetDelta, baseTimestamp + timestampDelta) when decoded;
// when encoding, the deltas are computed from them.
type Record struct {
	Attributes int8
	Offset     int64
	Timestamp  int64
	Key        []byte // nil is a null key
	Value      []byte // nil is a null value (a tombstone)
	Headers    []Header
}

// Batch is a decoded record batch.
type Batch struct {
	BatchHeader
	Records []Record
}

// MaxDecompressedBytes bounds the size a batch's records may decompress to
// in DecodeBatch.
const MaxDecompressedBytes = 64 << 20

// minRecordSize is the smallest possible encoded record: seven one-byte
// varints and the attributes byte.
const minRecordSize = 7

// DecodeBatch checks and decodes the batch at the start of b and returns it
// with its size in bytes. Record byte slices alias a decompression buffer
// or b; copy them to keep them past b's lifetime.
func DecodeBatch(b []byte) (Batch, int, error) {
	return DecodeBatchLimit(b, MaxDecompressedBytes)
}

// DecodeBatchLimit is DecodeBatch with an explicit bound on the
// decompressed size of the records.
func DecodeBatchLimit(b []byte, maxDecompressed int) (Batch, int, error) {
	h, size, err := CheckBatch(b)
	if err != nil {
		return Batch{BatchHeader: h}, 0, err
	}
	body := b[HeaderSize:size]
	if c := h.Compression(); c != CompressionNone {
		body, err = Decompress(c, body, maxDecompressed)
		if err != nil {
			return Batch{BatchHeader: h}, 0, fmt.Errorf("batch at base offset %d: %w", h.BaseOffset, err)
		}
	}
	recs, err := decodeRecords(h, body)
	if err != nil {
		return Batch{BatchHeader: h}, 0, fmt.Errorf("batch at base offset %d: %w", h.BaseOffset, err)
	}
	return Batch{BatchHeader: h, Records: recs}, size, nil
}

func decodeRecords(h BatchHeader, body []byte) ([]Record, error) {
	if int64(h.RecordCount) > int64(len(body)/minRecordSize) {
		return nil, fmt.Errorf("%w: %d records cannot fit in %d bytes", ErrCorrupt, h.RecordCount, len(body))
	}
	recs := make([]Record, 0, h.RecordCount)
	if err := walkRecords(h, body, func(r Record) { recs = append(recs, r) }, false); err != nil {
		return nil, err
	}
	return recs, nil
}

// ValidateRecords checks every record of a batch whose header CheckBatch
// accepted (b is the whole batch), without keeping them: the records
// decode (after decompression, bounded by maxDecompressed), their count
// matches RecordCount and LastOffsetDelta+1, and their offset deltas are
// 0, 1, 2... as a producer must write them. It allocates nothing for an
// uncompressed batch (the leader's produce path).
func ValidateRecords(h BatchHeader, b []byte, maxDecompressed int) error {
	if int64(h.RecordCount) != int64(h.LastOffsetDelta)+1 {
		return fmt.Errorf("%w: %d records but lastOffsetDelta %d", ErrCorrupt, h.RecordCount, h.LastOffsetDelta)
	}
	body := b[HeaderSize:h.Size()]
	if c := h.Compression(); c != CompressionNone {
		var err error
		if body, err = Decompress(c, body, maxDecompressed); err != nil {
			return fmt.Errorf("batch at base offset %d: %w", h.BaseOffset, err)
		}
	}
	if int64(h.RecordCount) > int64(len(body)/minRecordSize) {
		return fmt.Errorf("%w: %d records cannot fit in %d bytes", ErrCorrupt, h.RecordCount, len(body))
	}
	if err := walkRecords(h, body, nil, true); err != nil {
		return fmt.Errorf("batch at base offset %d: %w", h.BaseOffset, err)
	}
	return nil
}

// walkRecords reads every record of a batch body, checking its framing;
// visit (when not nil) gets each record decoded, with its header keys
// copied. sequential requires offset deltas 0, 1, 2...
func walkRecords(h BatchHeader, body []byte, visit func(Record), sequential bool) error {
	r := reader{b: body}
	var rec Record
	for i := int32(0); i < h.RecordCount; i++ {
		length := r.varint()
		if r.err != nil {
			break
		}
		if length < 0 || int(length) > len(r.b)-r.off {
			return fmt.Errorf("%w: record %d length %d exceeds the %d bytes left", ErrCorrupt, i, length, len(r.b)-r.off)
		}
		end := r.off + int(length)
		rr := reader{b: r.b[:end], off: r.off}
		rec = Record{}
		rec.Attributes = int8(rr.byte1())
		rec.Timestamp = h.BaseTimestamp + rr.varlong()
		delta := rr.varint()
		rec.Offset = h.BaseOffset + int64(delta)
		rec.Key = rr.bytes()
		rec.Value = rr.bytes()
		n := rr.varint()
		if rr.err == nil && (n < 0 || int(n) > (end-rr.off)/2) {
			return fmt.Errorf("%w: record %d header count %d", ErrCorrupt, i, n)
		}
		if n > 0 && visit != nil {
			rec.Headers = make([]Header, 0, n)
		}
		for j := int32(0); j < n && rr.err == nil; j++ {
			k := rr.bytes()
			if k == nil && rr.err == nil {
				return fmt.Errorf("%w: record %d header %d has a null key", ErrCorrupt, i, j)
			}
			v := rr.bytes()
			if visit != nil {
				rec.Headers = append(rec.Headers, Header{Key: string(k), Value: v})
			}
		}
		if rr.err != nil {
			return fmt.Errorf("record %d: %w", i, rr.err)
		}
		if rr.off != end {
			return fmt.Errorf("%w: record %d has %d bytes after its headers", ErrCorrupt, i, end-rr.off)
		}
		if sequential && delta != i {
			return fmt.Errorf("%w: record %d has offset delta %d", ErrCorrupt, i, delta)
		}
		r.off = end
		if visit != nil {
			visit(rec)
		}
	}
	if r.err != nil {
		return r.err
	}
	if r.off != len(r.b) {
		return fmt.Errorf("%w: %d bytes after the last of %d records", ErrCorrupt, len(r.b)-r.off, h.RecordCount)
	}
	return nil
}

// BatchOptions are the header fields chosen by the writer of a batch.
type BatchOptions struct {
	BaseOffset           int64
	PartitionLeaderEpoch int32
	Compression          Compression
	LogAppendTime        bool
	Transactional        bool
	Control              bool
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	// LastOffsetDelta, when > the last record's offset delta, overrides it
	// (the log cleaner keeps a batch's original last offset).
	LastOffsetDelta int32
	// MaxTimestamp, when LogAppendTime is set, is the append time.
	MaxTimestamp int64
}

// NewBatchOptions returns options for a plain, non-idempotent batch.
func NewBatchOptions() BatchOptions {
	return BatchOptions{PartitionLeaderEpoch: NoPartitionLeaderEpoch, ProducerID: NoProducerID,
		ProducerEpoch: NoProducerEpoch, BaseSequence: NoSequence}
}

// AppendBatch encodes records as one batch v2 and appends it to dst.
// Records' Offset must be >= opts.BaseOffset and increasing; the base
// timestamp is the first record's timestamp. An empty records slice is an
// error (Kafka never writes an empty batch from a producer).
func AppendBatch(dst []byte, opts BatchOptions, records []Record) ([]byte, error) {
	if len(records) == 0 {
		return dst, fmt.Errorf("%w: a batch needs at least one record", ErrCorrupt)
	}
	baseTs := records[0].Timestamp
	maxTs := NoTimestamp
	var body []byte
	prev := opts.BaseOffset - 1
	for i, rec := range records {
		if rec.Offset <= prev {
			return dst, fmt.Errorf("%w: record %d offset %d is not above %d", ErrCorrupt, i, rec.Offset, prev)
		}
		if rec.Offset-opts.BaseOffset > 1<<31-1 {
			return dst, fmt.Errorf("%w: record %d offset delta overflows int32", ErrTooLarge, i)
		}
		prev = rec.Offset
		if rec.Timestamp > maxTs {
			maxTs = rec.Timestamp
		}
		body = appendRecord(body, rec, baseTs, opts.BaseOffset)
	}
	lastDelta := int32(prev - opts.BaseOffset)
	if opts.LastOffsetDelta > lastDelta {
		lastDelta = opts.LastOffsetDelta
	}
	attrs := int16(opts.Compression) & AttrCompressionMask
	if opts.LogAppendTime {
		attrs |= AttrTimestampType
		maxTs = opts.MaxTimestamp
	}
	if opts.Transactional {
		attrs |= AttrTransactional
	}
	if opts.Control {
		attrs |= AttrControl
	}
	if opts.Compression != CompressionNone {
		var err error
		body, err = Compress(opts.Compression, body)
		if err != nil {
			return dst, err
		}
	}
	if HeaderSize-LogOverhead+int64(len(body)) > 1<<31-1 {
		return dst, fmt.Errorf("%w: %d bytes of records", ErrTooLarge, len(body))
	}
	start := len(dst)
	be := binary.BigEndian
	dst = be.AppendUint64(dst, uint64(opts.BaseOffset))
	dst = be.AppendUint32(dst, uint32(HeaderSize-LogOverhead+len(body)))
	dst = be.AppendUint32(dst, uint32(opts.PartitionLeaderEpoch))
	dst = append(dst, MagicV2)
	dst = be.AppendUint32(dst, 0) // crc, patched below
	dst = be.AppendUint16(dst, uint16(attrs))
	dst = be.AppendUint32(dst, uint32(lastDelta))
	dst = be.AppendUint64(dst, uint64(baseTs))
	dst = be.AppendUint64(dst, uint64(maxTs))
	dst = be.AppendUint64(dst, uint64(opts.ProducerID))
	dst = be.AppendUint16(dst, uint16(opts.ProducerEpoch))
	dst = be.AppendUint32(dst, uint32(opts.BaseSequence))
	dst = be.AppendUint32(dst, uint32(len(records)))
	dst = append(dst, body...)
	be.PutUint32(dst[start+offCRC:], ComputeCRC(dst[start:]))
	return dst, nil
}

func appendRecord(dst []byte, rec Record, baseTs, baseOffset int64) []byte {
	var r []byte
	r = append(r, byte(rec.Attributes))
	r = binary.AppendVarint(r, rec.Timestamp-baseTs)
	r = binary.AppendVarint(r, rec.Offset-baseOffset)
	r = appendBytes(r, rec.Key)
	r = appendBytes(r, rec.Value)
	r = binary.AppendVarint(r, int64(len(rec.Headers)))
	for _, h := range rec.Headers {
		r = binary.AppendVarint(r, int64(len(h.Key)))
		r = append(r, h.Key...)
		r = appendBytes(r, h.Value)
	}
	dst = binary.AppendVarint(dst, int64(len(r)))
	return append(dst, r...)
}

func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

// reader decodes Kafka varints with a sticky error.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
	}
}

func (r *reader) byte1() byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.fail("truncated at byte %d", r.off)
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

// uvarint reads at most maxBytes LEB128 bytes.
func (r *reader) uvarint(maxBytes int) uint64 {
	var v uint64
	for i := 0; i < maxBytes; i++ {
		c := r.byte1()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v
		}
	}
	r.fail("varint longer than %d bytes at byte %d", maxBytes, r.off)
	return 0
}

func (r *reader) varint() int32 {
	u := uint32(r.uvarint(5))
	return int32(u>>1) ^ -int32(u&1)
}

func (r *reader) varlong() int64 {
	u := r.uvarint(10)
	return int64(u>>1) ^ -int64(u&1)
}

// bytes reads a varint length and that many bytes; -1 is nil.
func (r *reader) bytes() []byte {
	n := r.varint()
	if r.err != nil {
		return nil
	}
	if n < -1 {
		r.fail("negative length %d at byte %d", n, r.off)
		return nil
	}
	if n == -1 {
		return nil
	}
	if int(n) > len(r.b)-r.off {
		r.fail("length %d exceeds the %d bytes left", n, len(r.b)-r.off)
		return nil
	}
	v := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return v
}
