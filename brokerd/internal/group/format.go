package group

// The records of __consumer_offsets, in Kafka's formats
// (kafka.coordinator.group.GroupMetadataManager), so tools that read the
// topic (kafka-console-consumer with the offsets formatter, Burrow)
// understand them. All integers big-endian, strings int16-length-prefixed.
//
//	offset commit key   version int16 (0 or 1), group string, topic string, partition int32
//	offset commit value version int16 = 3, offset int64, leader_epoch int32,
//	                    metadata string, commit_timestamp int64
//	                    (v1: offset, metadata, commit_timestamp, expire_timestamp;
//	                     v0: offset, metadata, timestamp)
//	group metadata key  version int16 = 2, group string
//
// A record with a null value is a tombstone: the offset (or group) was
// deleted.

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrFormat is wrapped by every decode error.
var ErrFormat = errors.New("group: bad __consumer_offsets record")

// OffsetKey identifies a committed offset.
type OffsetKey struct {
	Group     string
	Topic     string
	Partition int32
}

// OffsetValue is a committed offset.
type OffsetValue struct {
	Offset          int64
	LeaderEpoch     int32 // -1 if unknown
	Metadata        string
	CommitTimestamp int64
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// EncodeOffsetKey returns a version 1 offset commit key.
func EncodeOffsetKey(k OffsetKey) []byte {
	b := binary.BigEndian.AppendUint16(nil, 1)
	b = appendString(b, k.Group)
	b = appendString(b, k.Topic)
	return binary.BigEndian.AppendUint32(b, uint32(k.Partition))
}

// EncodeOffsetValue returns a version 3 offset commit value.
func EncodeOffsetValue(v OffsetValue) []byte {
	b := binary.BigEndian.AppendUint16(nil, 3)
	b = binary.BigEndian.AppendUint64(b, uint64(v.Offset))
	b = binary.BigEndian.AppendUint32(b, uint32(v.LeaderEpoch))
	b = appendString(b, v.Metadata)
	return binary.BigEndian.AppendUint64(b, uint64(v.CommitTimestamp))
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) need(n int) bool {
	if r.err != nil {
		return false
	}
	if len(r.b) < n {
		r.err = fmt.Errorf("%w: %d bytes left, need %d", ErrFormat, len(r.b), n)
		return false
	}
	return true
}

func (r *reader) i16() int16 {
	if !r.need(2) {
		return 0
	}
	v := int16(binary.BigEndian.Uint16(r.b))
	r.b = r.b[2:]
	return v
}

func (r *reader) i32() int32 {
	if !r.need(4) {
		return 0
	}
	v := int32(binary.BigEndian.Uint32(r.b))
	r.b = r.b[4:]
	return v
}

func (r *reader) i64() int64 {
	if !r.need(8) {
		return 0
	}
	v := int64(binary.BigEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *reader) str() string {
	n := r.i16()
	if n < 0 {
		if r.err == nil {
			r.err = fmt.Errorf("%w: negative string length %d", ErrFormat, n)
		}
		return ""
	}
	if !r.need(int(n)) {
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// KeyKind says what a key is.
type KeyKind int

// Key kinds.
const (
	KeyOffset KeyKind = iota
	KeyGroupMetadata
)

// DecodeKey parses a key: an offset key (versions 0 and 1) or a group
// metadata key (version 2; only the group is returned).
func DecodeKey(b []byte) (KeyKind, OffsetKey, error) {
	r := &reader{b: b}
	var k OffsetKey
	switch v := r.i16(); {
	case r.err != nil:
		return 0, k, r.err
	case v == 0 || v == 1:
		k.Group, k.Topic, k.Partition = r.str(), r.str(), r.i32()
		return KeyOffset, k, r.err
	case v == 2:
		k.Group = r.str()
		return KeyGroupMetadata, k, r.err
	default:
		return 0, k, fmt.Errorf("%w: key version %d", ErrFormat, v)
	}
}

// DecodeOffsetValue parses an offset commit value, versions 0-3.
func DecodeOffsetValue(b []byte) (OffsetValue, error) {
	r := &reader{b: b}
	v := OffsetValue{LeaderEpoch: -1}
	switch ver := r.i16(); {
	case r.err != nil:
		return v, r.err
	case ver == 0:
		v.Offset, v.Metadata, v.CommitTimestamp = r.i64(), r.str(), r.i64()
	case ver == 1:
		v.Offset, v.Metadata, v.CommitTimestamp = r.i64(), r.str(), r.i64()
		r.i64() // expire timestamp
	case ver == 2:
		v.Offset, v.Metadata, v.CommitTimestamp = r.i64(), r.str(), r.i64()
	case ver == 3:
		v.Offset, v.LeaderEpoch, v.Metadata, v.CommitTimestamp = r.i64(), r.i32(), r.str(), r.i64()
	default:
		return v, fmt.Errorf("%w: offset value version %d", ErrFormat, ver)
	}
	return v, r.err
}

// JavaHash is Java's String.hashCode over UTF-16 code units.
func JavaHash(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + int32(0xD800+(r>>10))
			h = 31*h + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + int32(r)
	}
	return h
}

// PartitionFor is Kafka's GroupMetadataManager.partitionFor:
// Utils.abs(group.hashCode) % partitions (abs(MIN_VALUE) = 0).
func PartitionFor(group string, partitions int32) int32 {
	h := JavaHash(group)
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % partitions
}
