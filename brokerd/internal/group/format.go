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
//	group metadata value version int16 (0-3; written as 3),
//	                    protocol_type string, generation int32,
//	                    protocol nullable string, leader nullable string,
//	                    current_state_timestamp int64 (v2+),
//	                    members int32 count, each:
//	                      member_id string, group_instance_id nullable string (v3+),
//	                      client_id string, client_host string,
//	                      rebalance_timeout int32 (v1+), session_timeout int32,
//	                      subscription bytes, assignment bytes (int32 length)
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

// GroupMetadata is a group metadata value: the group as of its last
// generation change (Kafka's GroupMetadataValue).
type GroupMetadata struct {
	ProtocolType   string
	Generation     int32
	Protocol       string // "" = null (an Empty group)
	Leader         string // "" = null
	StateTimestamp int64  // current_state_timestamp, ms; -1 if unknown (v0/v1)
	Members        []MemberRecord
}

// MemberRecord is one member in a group metadata value.
type MemberRecord struct {
	MemberID         string
	InstanceID       string // "" = null
	ClientID         string
	ClientHost       string
	RebalanceTimeout int32 // ms
	SessionTimeout   int32 // ms
	Subscription     []byte
	Assignment       []byte
}

// EncodeGroupMetadataKey returns the version 2 group metadata key.
func EncodeGroupMetadataKey(group string) []byte {
	return appendString(binary.BigEndian.AppendUint16(nil, 2), group)
}

func appendNullableString(b []byte, s string) []byte {
	if s == "" {
		return binary.BigEndian.AppendUint16(b, 0xffff)
	}
	return appendString(b, s)
}

func appendBytes(b, v []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// EncodeGroupMetadataValue returns a version 3 group metadata value, what
// Kafka 2.8 writes.
func EncodeGroupMetadataValue(g GroupMetadata) []byte {
	b := binary.BigEndian.AppendUint16(nil, 3)
	b = appendString(b, g.ProtocolType)
	b = binary.BigEndian.AppendUint32(b, uint32(g.Generation))
	b = appendNullableString(b, g.Protocol)
	b = appendNullableString(b, g.Leader)
	b = binary.BigEndian.AppendUint64(b, uint64(g.StateTimestamp))
	b = binary.BigEndian.AppendUint32(b, uint32(len(g.Members)))
	for _, m := range g.Members {
		b = appendString(b, m.MemberID)
		b = appendNullableString(b, m.InstanceID)
		b = appendString(b, m.ClientID)
		b = appendString(b, m.ClientHost)
		b = binary.BigEndian.AppendUint32(b, uint32(m.RebalanceTimeout))
		b = binary.BigEndian.AppendUint32(b, uint32(m.SessionTimeout))
		b = appendBytes(b, m.Subscription)
		b = appendBytes(b, m.Assignment)
	}
	return b
}

func (r *reader) nullableStr() string {
	if r.need(2) && int16(binary.BigEndian.Uint16(r.b)) == -1 {
		r.b = r.b[2:]
		return ""
	}
	return r.str()
}

func (r *reader) bytes() []byte {
	n := r.i32()
	if n < 0 {
		return nil
	}
	if !r.need(int(n)) {
		return nil
	}
	v := append([]byte(nil), r.b[:n]...)
	r.b = r.b[n:]
	return v
}

// DecodeGroupMetadataValue parses a group metadata value, versions 0-3.
func DecodeGroupMetadataValue(b []byte) (GroupMetadata, error) {
	r := &reader{b: b}
	g := GroupMetadata{StateTimestamp: -1}
	ver := r.i16()
	if r.err != nil {
		return g, r.err
	}
	if ver < 0 || ver > 3 {
		return g, fmt.Errorf("%w: group metadata value version %d", ErrFormat, ver)
	}
	g.ProtocolType, g.Generation, g.Protocol, g.Leader = r.str(), r.i32(), r.nullableStr(), r.nullableStr()
	if ver >= 2 {
		g.StateTimestamp = r.i64()
	}
	n := r.i32()
	if r.err == nil && (n < 0 || int(n) > len(r.b)) {
		return g, fmt.Errorf("%w: %d members in %d bytes", ErrFormat, n, len(r.b))
	}
	for i := int32(0); i < n && r.err == nil; i++ {
		var m MemberRecord
		m.MemberID = r.str()
		if ver >= 3 {
			m.InstanceID = r.nullableStr()
		}
		m.ClientID, m.ClientHost = r.str(), r.str()
		if ver >= 1 {
			m.RebalanceTimeout = r.i32()
		}
		m.SessionTimeout = r.i32()
		if ver == 0 {
			m.RebalanceTimeout = m.SessionTimeout // as Kafka reads v0
		}
		m.Subscription, m.Assignment = r.bytes(), r.bytes()
		g.Members = append(g.Members, m)
	}
	if r.err == nil && len(r.b) > 0 {
		return g, fmt.Errorf("%w: %d bytes after the group metadata value", ErrFormat, len(r.b))
	}
	return g, r.err
}
