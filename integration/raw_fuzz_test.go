package integration

import (
	"testing"
)

// FuzzParseConnectResponse: the raw client's decoder of server bytes never
// panics and never invents a readOnly byte or password that was not sent.
func FuzzParseConnectResponse(f *testing.F) {
	valid := enc(nil).i32(0).i32(4000).i64(0x1234).buf(make([]byte, 16)).boolean(false)
	f.Add([]byte(valid))
	f.Add([]byte(valid[:len(valid)-1])) // old server: no readOnly byte
	f.Add([]byte{})
	f.Add([]byte(valid[:7]))
	f.Add([]byte(enc(nil).i32(0).i32(4000).i64(1).i32(0x7fffffff)))
	f.Add([]byte(enc(nil).i32(0).i32(4000).i64(1).i32(-5)))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseConnectResponse(b)
		if err != nil {
			return
		}
		if len(r.Passwd) > len(b) {
			t.Fatalf("password of %d bytes from a %d-byte input", len(r.Passwd), len(b))
		}
		if r.ReadOnly != nil && len(b) < 21+len(r.Passwd) {
			t.Fatalf("readOnly byte decoded from a %d-byte input", len(b))
		}
	})
}

// FuzzDecoder: the sticky reader stops at the first short read and reports it.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte(enc(nil).str("/a").i32(3).i64(9).boolean(true)))
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 9, 'x'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := &dec{b: b}
		s := d.str()
		_ = d.i32()
		_ = d.i64()
		_ = d.boolean()
		if d.err == nil && len(b) < 4+len(s)+13 {
			t.Fatalf("decoded %d bytes of fields from %d bytes without an error", 4+len(s)+13, len(b))
		}
	})
}
