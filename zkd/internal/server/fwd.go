package server

import (
	"errors"
	"fmt"

	"mqstack/proto/jute"
)

// ErrForward reports a malformed forwarded request or session-touch list
// from a peer.
var ErrForward = errors.New("server: malformed peer payload")

// forwarded is the body of a REQUEST (and SYNC) a learner sends its leader:
// the client's session, xid, op, auth ids and the raw request body, in jute
// encoding:
//
//	long session | int cxid | int op | int nAuth | (ustring scheme, ustring id)* | buffer body
type forwarded struct {
	Session int64
	Cxid    int32
	Op      jute.Op
	Auth    []jute.ID
	Body    []byte
}

func encodeForward(f *forwarded) []byte {
	e := &jute.Encoder{}
	e.Long(f.Session)
	e.Int(f.Cxid)
	e.Int(int32(f.Op))
	e.Int(int32(len(f.Auth)))
	for _, id := range f.Auth {
		e.String(id.Scheme)
		e.String(id.ID)
	}
	e.Buffer(f.Body)
	return e.Buf
}

func decodeForward(b []byte) (*forwarded, error) {
	d := jute.NewDecoder(b)
	f := &forwarded{Session: d.Long(), Cxid: d.Int(), Op: jute.Op(d.Int())}
	n := d.Int()
	if d.Err() == nil && (n < 0 || int(n) > d.Remaining()/8) {
		return nil, fmt.Errorf("%w: %d auth ids in %d bytes", ErrForward, n, len(b))
	}
	for i := int32(0); i < n && d.Err() == nil; i++ {
		f.Auth = append(f.Auth, jute.ID{Scheme: d.String(), ID: d.String()})
	}
	f.Body = d.Buffer()
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("%w: forwarded request: %w", ErrForward, err)
	}
	if d.Remaining() != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after a forwarded request", ErrForward, d.Remaining())
	}
	return f, nil
}

// touch is one session a learner's clients kept alive since its last PING.
type touch struct {
	id      int64
	timeout int32
}

// encodeTouches is the PING payload: (long session, int timeout)*.
func encodeTouches(ts []touch) []byte {
	e := &jute.Encoder{Buf: make([]byte, 0, 12*len(ts))}
	for _, t := range ts {
		e.Long(t.id)
		e.Int(t.timeout)
	}
	return e.Buf
}

func decodeTouches(b []byte) ([]touch, error) {
	if len(b)%12 != 0 {
		return nil, fmt.Errorf("%w: session touches of %d bytes (a multiple of 12 expected)", ErrForward, len(b))
	}
	d := jute.NewDecoder(b)
	out := make([]touch, 0, len(b)/12)
	for d.Remaining() > 0 && d.Err() == nil {
		out = append(out, touch{id: d.Long(), timeout: d.Int()})
	}
	return out, d.Err()
}
