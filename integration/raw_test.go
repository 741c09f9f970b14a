package integration

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// This file speaks just enough of the ZooKeeper client protocol, by hand, to
// reach what go-zookeeper v1.0.4 cannot send (addWatch, whoAmI, getEphemerals,
// getAllChildrenNumber, invalid paths) and to send deliberately bad frames.
// integration may not import mqstack/proto/jute (it is a black box), so the
// few records used here are spelled out with encoding/binary.

// Opcodes and codes from the ZooKeeper 3.8 protocol (ZooDefs.OpCode, KeeperException.Code).
const (
	opCreate               = 1
	opExists               = 3
	opGetData              = 4
	opSetData              = 5
	opDelete               = 2
	opGetChildren          = 8
	opPing                 = 11
	opGetEphemerals        = 103
	opGetAllChildrenNumber = 104
	opAddWatch             = 106
	opWhoAmI               = 107
	opCloseSession         = -11
	opCreate2              = 15
	opSetWatches2          = 105
	opCheckWatches         = 17
	opRemoveWatches        = 18
	opMultiRead            = 22

	errOK            = 0
	errUnimplemented = -6
	errBadArguments  = -8
	errNoNode        = -101
	errNoAuth        = -102
	errBadVersion    = -103
	errNodeExists    = -110
	errNoWatcher     = -121

	addWatchPersistent          = 0
	addWatchPersistentRecursive = 1

	evNodeCreated         = 1
	evNodeDeleted         = 2
	evNodeDataChanged     = 3
	evNodeChildrenChanged = 4
)

func superDigest() string {
	sum := sha1.Sum([]byte(superUser + ":" + superSecret))
	return superUser + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// enc is an append-style jute writer for the handful of records used here.
type enc []byte

func (e enc) i32(v int32) enc { return binary.BigEndian.AppendUint32(e, uint32(v)) }
func (e enc) i64(v int64) enc { return binary.BigEndian.AppendUint64(e, uint64(v)) }
func (e enc) boolean(v bool) enc {
	if v {
		return append(e, 1)
	}
	return append(e, 0)
}
func (e enc) buf(b []byte) enc {
	if b == nil {
		return e.i32(-1)
	}
	return append(e.i32(int32(len(b))), b...)
}
func (e enc) str(s string) enc { return append(e.i32(int32(len(s))), s...) }

// openACL is vector<ACL> with world:anyone ALL.
func (e enc) openACL() enc { return e.i32(1).i32(31).str("world").str("anyone") }

// dec is a sticky-error jute reader.
type dec struct {
	b   []byte
	err error
}

func (d *dec) need(n int) bool {
	if d.err != nil {
		return false
	}
	if n < 0 || len(d.b) < n {
		d.err = fmt.Errorf("short record: need %d bytes, have %d", n, len(d.b))
		return false
	}
	return true
}
func (d *dec) i32() int32 {
	if !d.need(4) {
		return 0
	}
	v := int32(binary.BigEndian.Uint32(d.b))
	d.b = d.b[4:]
	return v
}
func (d *dec) i64() int64 {
	if !d.need(8) {
		return 0
	}
	v := int64(binary.BigEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}
func (d *dec) boolean() bool {
	if !d.need(1) {
		return false
	}
	v := d.b[0] != 0
	d.b = d.b[1:]
	return v
}
func (d *dec) bytes() []byte {
	n := d.i32()
	if n < 0 {
		return nil
	}
	if !d.need(int(n)) {
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}
func (d *dec) str() string { return string(d.bytes()) }

// connectResponse is the server's answer to a ConnectRequest.
type connectResponse struct {
	ProtocolVersion int32
	TimeOut         int32
	SessionID       int64
	Passwd          []byte
	ReadOnly        *bool // nil when the server sent no readOnly byte
}

// reply is one response or notification from the server.
type reply struct {
	Frame int64 // arrival order on the connection (events count too)
	Xid   int32
	Zxid  int64
	Err   int32
	Body  []byte
}

// watchEvent is a decoded notification (xid -1).
type watchEvent struct {
	Frame int64 // arrival order; compare with reply.Frame
	Type  int32
	State int32
	Path  string
}

// rawConn is a hand-driven client connection.
type rawConn struct {
	c       net.Conn
	xid     int32
	mu      sync.Mutex
	replies chan reply
	events  chan watchEvent
	readErr chan error
}

func dialRaw(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func writeFrame(c net.Conn, body []byte) error {
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Write(append(enc(nil).i32(int32(len(body))), body...))
	return err
}

func readFrame(c net.Conn, timeout time.Duration) ([]byte, error) {
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(hdr[:]))
	if n < 0 || n > 4<<20 {
		return nil, fmt.Errorf("frame length %d out of range", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		return nil, err
	}
	return b, nil
}

func connectRequest(timeoutMs int32, sessionID int64, passwd []byte, readOnly *bool) []byte {
	if passwd == nil {
		passwd = make([]byte, 16)
	}
	e := enc(nil).i32(0).i64(0).i32(timeoutMs).i64(sessionID).buf(passwd)
	if readOnly != nil {
		e = e.boolean(*readOnly)
	}
	return e
}

func parseConnectResponse(b []byte) (connectResponse, error) {
	d := &dec{b: b}
	r := connectResponse{ProtocolVersion: d.i32(), TimeOut: d.i32(), SessionID: d.i64()}
	r.Passwd = append([]byte(nil), d.bytes()...)
	if d.err == nil && len(d.b) >= 1 {
		ro := d.boolean()
		r.ReadOnly = &ro
	}
	return r, d.err
}

// handshake sends a ConnectRequest and reads the response.
func handshake(c net.Conn, timeoutMs int32, sessionID int64, passwd []byte, readOnly *bool) (connectResponse, error) {
	if err := writeFrame(c, connectRequest(timeoutMs, sessionID, passwd, readOnly)); err != nil {
		return connectResponse{}, err
	}
	b, err := readFrame(c, 10*time.Second)
	if err != nil {
		return connectResponse{}, err
	}
	return parseConnectResponse(b)
}

// newRawSession dials, opens a session and starts the reader.
func newRawSession(t testing.TB, addr string) (*rawConn, connectResponse) {
	t.Helper()
	return resumeRawSession(t, addr, 0, nil)
}

// resumeRawSession reconnects to session sid (0: a new session).
func resumeRawSession(t testing.TB, addr string, sid int64, passwd []byte) (*rawConn, connectResponse) {
	t.Helper()
	c := dialRaw(t, addr)
	ro := false
	resp, err := handshake(c, 4000, sid, passwd, &ro)
	if err != nil {
		t.Fatalf("raw handshake with %s: %v", addr, err)
	}
	if resp.TimeOut <= 0 || resp.SessionID == 0 {
		t.Fatalf("raw handshake refused: %+v", resp)
	}
	rc := &rawConn{c: c, replies: make(chan reply, 64), events: make(chan watchEvent, 256), readErr: make(chan error, 1)}
	go rc.readLoop()
	// Keep the session alive while a test runs (server timeout is >= 400ms).
	stop := make(chan struct{})
	go func() {
		tk := time.NewTicker(150 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				rc.mu.Lock()
				err := writeFrame(c, enc(nil).i32(-2).i32(opPing))
				rc.mu.Unlock()
				if err != nil {
					return
				}
			}
		}
	}()
	t.Cleanup(func() { close(stop); c.Close() })
	return rc, resp
}

func (rc *rawConn) readLoop() {
	var frame int64
	for {
		_ = rc.c.SetReadDeadline(time.Time{})
		var hdr [4]byte
		if _, err := io.ReadFull(rc.c, hdr[:]); err != nil {
			rc.readErr <- err
			close(rc.replies)
			return
		}
		n := int32(binary.BigEndian.Uint32(hdr[:]))
		if n < 16 || n > 4<<20 {
			rc.readErr <- fmt.Errorf("reply frame length %d out of range", n)
			close(rc.replies)
			return
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(rc.c, b); err != nil {
			rc.readErr <- err
			close(rc.replies)
			return
		}
		frame++
		d := &dec{b: b}
		r := reply{Frame: frame, Xid: d.i32(), Zxid: d.i64(), Err: d.i32()}
		r.Body = d.b
		switch r.Xid {
		case -2: // ping
		case -1:
			ed := &dec{b: r.Body}
			ev := watchEvent{Frame: frame, Type: ed.i32(), State: ed.i32(), Path: ed.str()}
			rc.events <- ev
		default:
			rc.replies <- r
		}
	}
}

// call sends one request and waits for its reply.
func (rc *rawConn) call(op int32, body []byte) (reply, error) {
	rc.mu.Lock()
	rc.xid++
	xid := rc.xid
	rc.mu.Unlock()
	return rc.callXid(xid, op, body)
}

// callXid sends a request with a given xid (the Java client uses -8 for
// setWatches, -4 for auth) and waits for the reply with that xid.
func (rc *rawConn) callXid(xid, op int32, body []byte) (reply, error) {
	rc.mu.Lock()
	err := writeFrame(rc.c, append(enc(nil).i32(xid).i32(op), body...))
	rc.mu.Unlock()
	if err != nil {
		return reply{}, err
	}
	select {
	case r, ok := <-rc.replies:
		if !ok {
			return reply{}, errors.New("connection closed before the reply")
		}
		if r.Xid != xid {
			return r, fmt.Errorf("reply xid %d, want %d", r.Xid, xid)
		}
		return r, nil
	case <-time.After(10 * time.Second):
		return reply{}, fmt.Errorf("no reply to opcode %d within 10s", op)
	}
}

func (rc *rawConn) mustCall(t testing.TB, op int32, body []byte) reply {
	t.Helper()
	r, err := rc.call(op, body)
	if err != nil {
		t.Fatalf("opcode %d: %v", op, err)
	}
	return r
}

// nextEvent waits for a watch notification.
func (rc *rawConn) nextEvent(t testing.TB, timeout time.Duration) watchEvent {
	t.Helper()
	select {
	case ev := <-rc.events:
		ev.Frame = 0 // callers compare events by content
		return ev
	case <-time.After(timeout):
		t.Fatalf("no watch event within %v", timeout)
	}
	return watchEvent{}
}

// noEvent asserts no notification arrives within d.
func (rc *rawConn) noEvent(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case ev := <-rc.events:
		t.Fatalf("unexpected watch event %+v", ev)
	case <-time.After(d):
	}
}

func createBody(path string, data []byte, flags int32) []byte {
	return enc(nil).str(path).buf(data).openACL().i32(flags)
}

// waitClosed reports whether the peer closed c within timeout (EOF or reset)
// after draining anything it sent first.
func waitClosed(c net.Conn, timeout time.Duration) error {
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("connection still open after %v", timeout)
		}
		return nil
	}
}
