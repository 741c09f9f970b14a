package integration

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Raw-socket tests of the handshake and of bad input, against both servers.
func TestProtocol(t *testing.T) {
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			srv := StartServer(t, kind, ServerOptions{})
			t.Run("handshake", func(t *testing.T) { t.Parallel(); testHandshake(t, srv) })
			t.Run("reconnect", func(t *testing.T) { t.Parallel(); testReconnect(t, srv) })
			t.Run("bad_input", func(t *testing.T) { t.Parallel(); testBadInput(t, srv) })
			t.Run("limits", func(t *testing.T) { t.Parallel(); testLimits(t, srv) })
		})
	}
}

func testHandshake(t *testing.T, srv *Server) {
	ro, rw := true, false
	for _, tc := range []struct {
		name        string
		timeoutMs   int32
		readOnly    *bool
		wantTimeout int32
	}{
		{"readOnly=false", 4000, &rw, 4000},
		{"readOnly=true", 3000, &ro, 3000},
		{"old client without readOnly byte", 2000, nil, 2000},
		{"timeout below min is raised to 2*tickTime", 10, &rw, 400},
		{"timeout above max is lowered to 20*tickTime", 600000, &rw, 4000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, srv.Addr())
			resp, err := handshake(c, tc.timeoutMs, 0, nil, tc.readOnly)
			require.NoError(t, err)
			assert.Equal(t, int32(0), resp.ProtocolVersion)
			assert.Equal(t, tc.wantTimeout, resp.TimeOut)
			assert.NotZero(t, resp.SessionID)
			assert.Len(t, resp.Passwd, 16, "the session password is 16 bytes")
			assert.NotEqual(t, make([]byte, 16), resp.Passwd, "the session password is not all zero")
			// The readOnly byte is mirrored: present in the response iff the
			// request had it; a read-write server says false.
			if tc.readOnly == nil {
				assert.Nil(t, resp.ReadOnly, "an old client (no readOnly byte) gets no readOnly byte back")
			} else {
				require.NotNil(t, resp.ReadOnly, "the response carries the readOnly byte")
				assert.False(t, *resp.ReadOnly, "a read-write server says readOnly=false")
			}
			// The session works: a ping is answered.
			require.NoError(t, writeFrame(c, enc(nil).i32(-2).i32(opPing)))
			b, err := readFrame(c, 5*time.Second)
			require.NoError(t, err)
			d := &dec{b: b}
			assert.Equal(t, int32(-2), d.i32(), "ping reply xid")
			d.i64()
			assert.Equal(t, int32(0), d.i32(), "ping reply err")
		})
	}
}

func testReconnect(t *testing.T, srv *Server) {
	rw := false
	c1 := dialRaw(t, srv.Addr())
	first, err := handshake(c1, 4000, 0, nil, &rw)
	require.NoError(t, err)
	require.NotZero(t, first.SessionID)
	// An ephemeral so we can see the session survive.
	require.NoError(t, writeFrame(c1, append(enc(nil).i32(1).i32(opCreate), createBody(fmt.Sprintf("/raw-eph-%x", first.SessionID), nil, 1)...)))
	b, err := readFrame(c1, 5*time.Second)
	require.NoError(t, err)
	d := &dec{b: b}
	d.i32()
	d.i64()
	require.Equal(t, int32(0), d.i32(), "create ephemeral")
	c1.Close()

	// Right password: same session, a positive timeout, same password.
	c2 := dialRaw(t, srv.Addr())
	again, err := handshake(c2, 4000, first.SessionID, first.Passwd, &rw)
	require.NoError(t, err)
	assert.Equal(t, first.SessionID, again.SessionID)
	assert.Equal(t, int32(4000), again.TimeOut)
	assert.Equal(t, first.Passwd, again.Passwd)

	// Wrong password: timeOut 0 (and no session), then the server closes.
	c3 := dialRaw(t, srv.Addr())
	wrong := bytes.Repeat([]byte{0x5a}, 16)
	bad, err := handshake(c3, 4000, first.SessionID, wrong, &rw)
	require.NoError(t, err)
	assert.Equal(t, int32(0), bad.TimeOut, "a wrong password gets timeOut 0")
	assert.NoError(t, waitClosed(c3, 5*time.Second), "the server closes after refusing a password")

	// Unknown session: the same refusal.
	c4 := dialRaw(t, srv.Addr())
	unknown, err := handshake(c4, 4000, first.SessionID^0x5a5a5a5a, first.Passwd, &rw)
	require.NoError(t, err)
	assert.Equal(t, int32(0), unknown.TimeOut, "an unknown session gets timeOut 0")
	assert.NoError(t, waitClosed(c4, 5*time.Second))

	// The refusals did not end the session. (Apache drops the session's
	// current connection, c2, when any reconnect for its id arrives, even one
	// with a wrong password; that is not asserted here.) Reconnect again.
	c2.Close()
	c2 = dialRaw(t, srv.Addr())
	again, err = handshake(c2, 4000, first.SessionID, first.Passwd, &rw)
	require.NoError(t, err)
	require.Equal(t, first.SessionID, again.SessionID, "the session outlived the refused reconnects")
	require.NoError(t, writeFrame(c2, append(enc(nil).i32(7).i32(opGetData), enc(nil).str(fmt.Sprintf("/raw-eph-%x", first.SessionID)).boolean(false)...)))
	b, err = readFrame(c2, 5*time.Second)
	require.NoError(t, err)
	d = &dec{b: b}
	assert.Equal(t, int32(7), d.i32())
	d.i64()
	assert.Equal(t, int32(0), d.i32(), "the ephemeral is still there")
	// closeSession ends it: the ephemeral goes.
	require.NoError(t, writeFrame(c2, enc(nil).i32(8).i32(opCloseSession)))
	_, _ = readFrame(c2, 5*time.Second)
	obs, _ := connect(t, srv.Addr(), 4*time.Second)
	ok, _, err := obs.Exists(fmt.Sprintf("/raw-eph-%x", first.SessionID))
	require.NoError(t, err)
	assert.False(t, ok, "closeSession removed the session's ephemeral")
}

// testBadInput sends garbage while a well-behaved client keeps working.
func testBadInput(t *testing.T, srv *Server) {
	good, _ := connect(t, srv.Addr(), 4*time.Second)
	root := fmt.Sprintf("/bad-input-%d", time.Now().UnixNano())
	_, err := good.Create(root, nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	n := 0
	stillServing := func(label string) {
		t.Helper()
		n++
		p := fmt.Sprintf("%s/n%03d", root, n)
		_, err := good.Create(p, []byte(label), 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err, "the good client failed after %s", label)
		data, _, err := good.Get(p)
		require.NoError(t, err, "the good client failed after %s", label)
		require.Equal(t, label, string(data))
	}
	be32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	rw := false

	// A silent client: connected, sends nothing; everyone else is served.
	silent := dialRaw(t, srv.Addr())
	// A client stalled in the middle of a frame.
	stalled := dialRaw(t, srv.Addr())
	_, err = stalled.Write(append(be32(44), 0, 0, 0))
	require.NoError(t, err)

	cases := []struct {
		name string
		data func() []byte
		// afterHandshake sends the bytes on an established session.
		afterHandshake bool
	}{
		{"http garbage", func() []byte { return []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n") }, false},
		{"2 GiB length prefix", func() []byte { return be32(0x7fffffff) }, false},
		{"negative length prefix", func() []byte { return be32(0xffffffff) }, false},
		{"2 GiB length prefix on a session", func() []byte { return be32(0x7fffffff) }, true},
		{"connect request cut short", func() []byte { return append(be32(44), 0, 0, 0, 0, 0, 0, 0) }, false},
		{"connect request with a huge password length", func() []byte {
			return append(be32(28), enc(nil).i32(0).i64(0).i32(4000).i64(0).i32(0x7ffffff0)...)
		}, false},
		{"request header cut short", func() []byte { return append(be32(3), 0, 0, 1) }, true},
		{"create with a huge path length", func() []byte {
			body := enc(nil).i32(1).i32(opCreate).i32(0x7ffffff0)
			return append(be32(uint32(len(body))), body...)
		}, true},
		{"random bytes", func() []byte {
			b := make([]byte, 512)
			for i := range b {
				b[i] = byte(i*131 + 7)
			}
			return b
		}, false},
	}
	for _, tc := range cases {
		c := dialRaw(t, srv.Addr())
		if tc.afterHandshake {
			resp, err := handshake(c, 4000, 0, nil, &rw)
			require.NoError(t, err, tc.name)
			require.NotZero(t, resp.TimeOut, tc.name)
		}
		_, err := c.Write(tc.data())
		require.NoError(t, err, tc.name)
		if tc.name == "connect request cut short" || tc.name == "request header cut short" {
			// A truncated frame then the client leaves.
			c.Close()
		} else {
			assert.NoError(t, waitClosed(c, 10*time.Second), "%s: the server should close the connection", tc.name)
		}
		stillServing(tc.name)
	}

	// Unknown opcode on a session: Apache logs "unknown type" and closes
	// the connection; everyone else is served.
	rc, _ := newRawSession(t, srv.Addr())
	res, err := rc.call(999, enc(nil).str("/"))
	if err == nil {
		t.Logf("unknown opcode answered with err %d", res.Err)
		assert.NotEqual(t, int32(errOK), res.Err, "an unknown opcode must not succeed")
	}
	select {
	case <-rc.readErr:
	case <-time.After(10 * time.Second):
		t.Errorf("the connection stayed open after an unknown opcode")
	}
	stillServing("unknown opcode")

	// The silent and stalled clients did not block anyone.
	stillServing("silent client")
	_ = silent
	_ = net.Conn(stalled)
}

// testLimits: jute.maxbuffer (1 MiB) and a client ahead of the server.
func testLimits(t *testing.T, srv *Server) {
	rw := false
	// A client that has seen a zxid the server never issued is refused:
	// the connection is closed without a session.
	c := dialRaw(t, srv.Addr())
	req := enc(nil).i32(0).i64(1 << 40).i32(4000).i64(0).buf(make([]byte, 16)).boolean(false)
	require.NoError(t, writeFrame(c, req))
	b, err := readFrame(c, 10*time.Second)
	if err == nil {
		resp, perr := parseConnectResponse(b)
		require.NoError(t, perr)
		assert.Zero(t, resp.TimeOut, "a client from the future must not get a session")
	}
	assert.NoError(t, waitClosed(c, 10*time.Second), "a client from the future is disconnected")

	rc, _ := newRawSession(t, srv.Addr())
	path := fmt.Sprintf("/limits-%d", time.Now().UnixNano())
	// 512 KiB of data is fine.
	res := rc.mustCall(t, opCreate, createBody(path, bytes.Repeat([]byte{'x'}, 512<<10), 0))
	assert.Equal(t, int32(errOK), res.Err, "a 512 KiB znode")
	res = rc.mustCall(t, opGetData, enc(nil).str(path).boolean(false))
	require.Equal(t, int32(errOK), res.Err)
	d := &dec{b: res.Body}
	assert.Len(t, d.bytes(), 512<<10)

	// A request frame over jute.maxbuffer closes the connection.
	big := dialRaw(t, srv.Addr())
	resp, err := handshake(big, 4000, 0, nil, &rw)
	require.NoError(t, err)
	require.NotZero(t, resp.TimeOut)
	frame := append(enc(nil).i32(1).i32(opCreate), createBody(path+"-big", bytes.Repeat([]byte{'y'}, 2<<20), 0)...)
	go func() { _ = writeFrame(big, frame) }()
	assert.NoError(t, waitClosed(big, 10*time.Second), "a 2 MiB request is refused by closing")
	good, _ := connect(t, srv.Addr(), 4*time.Second)
	ok, _, err := good.Exists(path + "-big")
	require.NoError(t, err)
	assert.False(t, ok, "the oversized create did not happen")
}

// TestMaxClientCnxns: connections past maxClientCnxns from one address are
// closed; the ones already in keep working.
func TestMaxClientCnxns(t *testing.T) {
	rw := false
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := StartServer(t, kind, ServerOptions{ExtraCfg: []string{"maxClientCnxns=3"}})
			// The harness' readiness probes (4lw connections) may still be
			// counted for a moment: retry until three sessions are in.
			var conns []*rawConn
			require.Eventually(t, func() bool {
				for _, rc := range conns {
					rc.c.Close()
				}
				conns = nil
				for i := 0; i < 3; i++ {
					c, err := net.DialTimeout("tcp", srv.Addr(), time.Second)
					if err != nil {
						return false
					}
					t.Cleanup(func() { c.Close() })
					resp, err := handshake(c, 4000, 0, nil, &rw)
					if err != nil || resp.TimeOut == 0 {
						c.Close()
						return false
					}
					rc := &rawConn{c: c, replies: make(chan reply, 64), events: make(chan watchEvent, 256), readErr: make(chan error, 1)}
					go rc.readLoop()
					conns = append(conns, rc)
				}
				return true
			}, 15*time.Second, 300*time.Millisecond, "three connections were never accepted together")
			// The 4th connection is refused: closed at once (so fast on
			// loopback that connect itself may fail) and never answered.
			if extra, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second); err == nil {
				t.Cleanup(func() { extra.Close() })
				_ = writeFrame(extra, connectRequest(4000, 0, nil, &rw))
				b, err := readFrame(extra, 5*time.Second)
				if err == nil {
					t.Errorf("the 4th connection got a handshake answer (%d bytes) past maxClientCnxns=3", len(b))
				}
				assert.NoError(t, waitClosed(extra, 5*time.Second), "the connection past the limit is closed")
			} else {
				t.Logf("the 4th connection was refused at connect: %v", err)
			}
			for i, rc := range conns {
				res, err := rc.call(opGetData, enc(nil).str("/").boolean(false))
				require.NoError(t, err, "connection %d", i)
				assert.Equal(t, int32(errOK), res.Err)
			}
		})
	}
}

// TestPipelineOrder: a session's replies come back in request order, reads
// see the session's own earlier writes even while pipelined, and the reply
// zxids never go backwards.
func TestPipelineOrder(t *testing.T) {
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := StartServer(t, kind, ServerOptions{})
			c := dialRaw(t, srv.Addr())
			rw := false
			resp, err := handshake(c, 4000, 0, nil, &rw)
			require.NoError(t, err)
			require.NotZero(t, resp.TimeOut)
			root := "/pipeline"
			var frames []byte
			type expect struct {
				xid  int32
				err  int32
				data string // for getData
			}
			var want []expect
			xid := int32(0)
			add := func(op int32, body []byte, wantErr int32, data string) {
				xid++
				msg := append(enc(nil).i32(xid).i32(op), body...)
				frames = append(frames, append(enc(nil).i32(int32(len(msg))), msg...)...)
				want = append(want, expect{xid, wantErr, data})
			}
			add(opCreate, createBody(root, []byte("v0"), 0), errOK, "")
			for i := 1; i <= 150; i++ {
				v := fmt.Sprintf("v%d", i)
				add(opSetData, enc(nil).str(root).buf([]byte(v)).i32(-1), errOK, "")
				add(opGetData, enc(nil).str(root).boolean(false), errOK, v)
				add(opGetData, enc(nil).str(fmt.Sprintf("%s/k%d", root, i)).boolean(false), errNoNode, "")
				add(opCreate, createBody(fmt.Sprintf("%s/k%d", root, i), nil, 0), errOK, "")
				add(opGetData, enc(nil).str(fmt.Sprintf("%s/k%d", root, i)).boolean(false), errOK, "")
			}
			go func() {
				_ = c.SetWriteDeadline(time.Now().Add(20 * time.Second))
				_, _ = c.Write(frames)
			}()
			var lastZxid int64
			for i, w := range want {
				b, err := readFrame(c, 20*time.Second)
				require.NoError(t, err, "reply %d of %d", i, len(want))
				d := &dec{b: b}
				gotXid, zxid, e := d.i32(), d.i64(), d.i32()
				require.Equal(t, w.xid, gotXid, "reply %d out of order", i)
				require.Equal(t, w.err, e, "reply to xid %d", w.xid)
				require.GreaterOrEqual(t, zxid, lastZxid, "reply zxid went backwards at xid %d", w.xid)
				lastZxid = zxid
				if w.data != "" {
					assert.Equal(t, w.data, string(d.bytes()), "getData at xid %d does not see the write just before it", w.xid)
				}
			}
		})
	}
}
