// Package jute encodes and decodes ZooKeeper's jute wire format: big-endian
// int32/int64, a one-byte bool, length-prefixed strings and buffers (length -1
// means null) and length-prefixed vectors.
//
// Writers are append-style (Encoder wraps a growing []byte). The Decoder keeps
// the first error it meets ("sticky") and returns zero values afterwards, so a
// record's Decode reads every field without checking and the caller checks
// Err() once per message. Lengths are checked against the bytes that remain
// and against MaxBuffer before anything is allocated.
package jute

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// DefaultMaxBuffer is Apache ZooKeeper's default jute.maxbuffer (1 MiB minus one byte
// is the largest znode; packets are limited to jute.maxbuffer plus a small header).
const DefaultMaxBuffer = 0xfffff

// Sentinel errors; wrap with %w.
var (
	ErrShort    = errors.New("jute: short buffer")
	ErrTooLarge = errors.New("jute: length exceeds limit")
	ErrNegative = errors.New("jute: negative length")
	ErrTrailing = errors.New("jute: trailing bytes")
)

// Record is implemented by every jute record.
type Record interface {
	Encode(e *Encoder)
	Decode(d *Decoder)
}

// Encoder appends jute values to Buf.
type Encoder struct{ Buf []byte }

func (e *Encoder) Int(v int32)  { e.Buf = binary.BigEndian.AppendUint32(e.Buf, uint32(v)) }
func (e *Encoder) Long(v int64) { e.Buf = binary.BigEndian.AppendUint64(e.Buf, uint64(v)) }
func (e *Encoder) Byte(v byte)  { e.Buf = append(e.Buf, v) }
func (e *Encoder) Bool(v bool) {
	if v {
		e.Buf = append(e.Buf, 1)
	} else {
		e.Buf = append(e.Buf, 0)
	}
}

// String writes a length-prefixed UTF-8 string.
func (e *Encoder) String(s string) {
	e.Int(int32(len(s)))
	e.Buf = append(e.Buf, s...)
}

// Buffer writes a length-prefixed byte slice; nil is written as length -1.
func (e *Encoder) Buffer(b []byte) {
	if b == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(b)))
	e.Buf = append(e.Buf, b...)
}

// Strings writes a vector of strings; nil is written as -1.
func (e *Encoder) Strings(v []string) {
	if v == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(v)))
	for _, s := range v {
		e.String(s)
	}
}

// Record writes a nested record.
func (e *Encoder) Record(r Record) { r.Encode(e) }

// Reserve appends n zero bytes and returns their offset, for lengths patched later.
func (e *Encoder) Reserve(n int) int {
	off := len(e.Buf)
	e.Buf = append(e.Buf, make([]byte, n)...)
	return off
}

// PatchInt overwrites the int32 at off.
func (e *Encoder) PatchInt(off int, v int32) {
	binary.BigEndian.PutUint32(e.Buf[off:], uint32(v))
}

// Marshal encodes r into a new slice.
func Marshal(r Record) []byte {
	var e Encoder
	r.Encode(&e)
	return e.Buf
}

// AppendFrame appends r as a length-prefixed frame (the client protocol's
// framing: a 4-byte big-endian length, then the body).
func AppendFrame(b []byte, recs ...Record) []byte {
	e := Encoder{Buf: b}
	off := e.Reserve(4)
	for _, r := range recs {
		r.Encode(&e)
	}
	e.PatchInt(off, int32(len(e.Buf)-off-4))
	return e.Buf
}

// Decoder reads jute values from a byte slice with a sticky error.
type Decoder struct {
	b   []byte
	off int
	err error
	// Max bounds any single length prefix (buffer, string or vector count).
	// Zero means DefaultMaxBuffer.
	Max int
}

// NewDecoder returns a decoder over b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Err is the first error met, wrapped with the offset.
func (d *Decoder) Err() error { return d.err }

// Offset is the number of bytes consumed.
func (d *Decoder) Offset() int { return d.off }

// Remaining is the number of unread bytes.
func (d *Decoder) Remaining() int { return len(d.b) - d.off }

// Rest returns the unread bytes without consuming them.
func (d *Decoder) Rest() []byte { return d.b[d.off:] }

func (d *Decoder) fail(err error) {
	if d.err == nil {
		d.err = fmt.Errorf("%w at offset %d", err, d.off)
	}
}

// Fail records err (e.g. a semantic check by a record) if none is recorded yet.
func (d *Decoder) Fail(err error) { d.fail(err) }

func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b)-d.off < n {
		d.fail(ErrShort)
		return nil
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s
}

func (d *Decoder) Int() int32 {
	s := d.take(4)
	if s == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(s))
}

func (d *Decoder) Long() int64 {
	s := d.take(8)
	if s == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(s))
}

func (d *Decoder) Byte() byte {
	s := d.take(1)
	if s == nil {
		return 0
	}
	return s[0]
}

func (d *Decoder) Bool() bool { return d.Byte() != 0 }

func (d *Decoder) max() int {
	if d.Max > 0 {
		return d.Max
	}
	return DefaultMaxBuffer
}

// length reads a length prefix; -1 returns (0, false) meaning null.
func (d *Decoder) length(elemMin int) (int, bool) {
	n := d.Int()
	if d.err != nil {
		return 0, false
	}
	if n == -1 {
		return 0, false
	}
	if n < 0 {
		d.fail(ErrNegative)
		return 0, false
	}
	if int(n) > d.max() {
		d.fail(fmt.Errorf("%w: %d > %d", ErrTooLarge, n, d.max()))
		return 0, false
	}
	if int(n)*elemMin > d.Remaining() {
		d.fail(ErrShort)
		return 0, false
	}
	return int(n), true
}

// String reads a length-prefixed string; null reads as "".
func (d *Decoder) String() string {
	n, ok := d.length(1)
	if !ok {
		return ""
	}
	return string(d.take(n))
}

// Buffer reads a length-prefixed buffer; null reads as nil, empty as []byte{}.
func (d *Decoder) Buffer() []byte {
	n, ok := d.length(1)
	if !ok {
		return nil
	}
	s := d.take(n)
	if s == nil {
		return nil
	}
	out := make([]byte, n)
	copy(out, s)
	return out
}

// Strings reads a vector of strings; null reads as nil.
func (d *Decoder) Strings() []string {
	n, ok := d.length(4)
	if !ok {
		return nil
	}
	out := make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, d.String())
	}
	return out
}

// VectorLen reads a vector count whose elements take at least elemMin bytes
// each; ok is false for a null vector or an error.
func (d *Decoder) VectorLen(elemMin int) (int, bool) { return d.length(elemMin) }

// Record reads a nested record.
func (d *Decoder) Record(r Record) { r.Decode(d) }

// Unmarshal decodes b fully into r; trailing bytes are an error.
func Unmarshal(b []byte, r Record) error {
	d := NewDecoder(b)
	r.Decode(d)
	if d.err != nil {
		return d.err
	}
	if d.Remaining() != 0 {
		return fmt.Errorf("%w: %d", ErrTrailing, d.Remaining())
	}
	return nil
}
