package server

import (
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/proto/jute"
)

func TestBadInputDoesNotDisturbOthers(t *testing.T) {
	cfg := testConfig(t)
	s, err := New(cfg, testLogger(t))
	require.NoError(t, err)
	s.HandshakeTimeout = 300 * time.Millisecond
	require.NoError(t, s.Start())
	t.Cleanup(func() { _ = s.Close() })
	good := connect(t, s)
	_, err = good.Create("/ok", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)

	// A huge length prefix is refused before allocating.
	r := dialRaw(t, s)
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], 0x7fffffff)
	_, _ = r.nc.Write(l[:])
	r.expectClosed()

	// A negative length.
	r = dialRaw(t, s)
	binary.BigEndian.PutUint32(l[:], 0xffffffff)
	_, _ = r.nc.Write(l[:])
	r.expectClosed()

	// Garbage that frames as a short ConnectRequest.
	r = dialRaw(t, s)
	_, _ = r.nc.Write([]byte{0, 0, 0, 3, 1, 2, 3})
	r.expectClosed()

	// Truncated frame then close: no crash.
	r = dialRaw(t, s)
	_, _ = r.nc.Write([]byte{0, 0, 0, 50, 1, 2})
	_ = r.nc.Close()

	// A client that connects and sends nothing is closed after the handshake timeout.
	r = dialRaw(t, s)
	r.expectClosed()

	// Unknown opcode: Unimplemented, then the connection is closed.
	r, _ = newSession(t, s, 2000)
	rh, _ := r.call(5, jute.Op(999), nil)
	assert.Equal(t, jute.ErrUnimplemented, rh.Err)
	assert.Equal(t, int32(5), rh.Xid)
	assert.Equal(t, int64(-1), rh.Zxid)
	r.expectClosed()

	// A request shorter than its header.
	r, _ = newSession(t, s, 2000)
	_, _ = r.nc.Write([]byte{0, 0, 0, 2, 0, 1})
	r.expectClosed()

	// A body that does not decode: MarshallingError, the session goes on.
	r, _ = newSession(t, s, 2000)
	r.send(&jute.RequestHeader{Xid: 1, Type: jute.OpGetData}, &jute.PathRequest{Path: "/ok"}) // no watch byte
	b, err := r.readFrame()
	require.NoError(t, err)
	var rh2 jute.ReplyHeader
	require.NoError(t, jute.Unmarshal(b, &rh2))
	assert.Equal(t, jute.ErrMarshallingError, rh2.Err)
	rh, _ = r.call(2, jute.OpExists, &jute.PathWatchRequest{Path: "/ok"})
	assert.Equal(t, jute.ErrOK, rh.Err)

	// Invalid paths: BadArguments.
	// Apache checks the parent before PathUtils.validatePath, so an invalid
	// path under a missing parent is NoNode.
	for p, want := range map[string]jute.Err{
		"noslash": jute.ErrBadArguments, "/ok/": jute.ErrBadArguments, "/ok/..": jute.ErrBadArguments,
		"/ok/.": jute.ErrBadArguments, "/ok\x01": jute.ErrBadArguments, "/ok//b": jute.ErrNoNode,
		"/ok/./b": jute.ErrNoNode,
	} {
		rh, _ = r.call(3, jute.OpCreate, &jute.CreateRequest{Path: p, ACL: jute.OpenACLUnsafe})
		assert.Equal(t, want, rh.Err, "path %q", p)
	}
	rh, _ = r.call(4, jute.OpSetData, &jute.SetDataRequest{Path: "/a/", Version: -1})
	assert.Equal(t, jute.ErrBadArguments, rh.Err)
	rh, _ = r.call(4, jute.OpExists, &jute.PathWatchRequest{Path: "/a\x00b"})
	assert.Equal(t, jute.ErrBadArguments, rh.Err)

	// Data larger than jute.maxbuffer closes the connection (Apache: "Len error").
	big := dialRaw(t, s)
	big.handshake(jute.ConnectRequest{TimeOut: 2000, Passwd: make([]byte, 16), HasReadOnly: true})
	// The server may close while the frame is still being written (it
	// reads the length first), so the write itself may fail with EPIPE.
	_, _ = big.nc.Write(jute.AppendFrame(nil, &jute.RequestHeader{Xid: 1, Type: jute.OpCreate},
		&jute.CreateRequest{Path: "/big", Data: make([]byte, jute.DefaultMaxBuffer+1), ACL: jute.OpenACLUnsafe}))
	big.expectClosed()

	// The well-behaved client never noticed.
	_, _, err = good.Get("/ok")
	require.NoError(t, err)
	ok, _, err := good.Exists("/big")
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestMaxClientCnxnsPerIP(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxClientCnxns = 2
	s := startServer(t, cfg)
	a, _ := newSession(t, s, 2000)
	b, _ := newSession(t, s, 2000)
	c := dialRaw(t, s)
	c.expectClosed()
	_ = a.nc.Close()
	_ = b.nc.Close()
	require.Eventually(t, func() bool {
		nc, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			return false
		}
		defer nc.Close()
		_, _ = nc.Write(jute.AppendFrame(nil, &jute.ConnectRequest{TimeOut: 2000, Passwd: make([]byte, 16)}))
		_ = nc.SetReadDeadline(time.Now().Add(time.Second))
		var l [4]byte
		_, err = io.ReadFull(nc, l[:])
		return err == nil
	}, 5*time.Second, 50*time.Millisecond)
}

func fourLetter(t *testing.T, s *Server, word string) string {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	defer nc.Close()
	_, err = nc.Write([]byte(word))
	require.NoError(t, err)
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(nc)
	require.NoError(t, err)
	return string(b)
}

func TestFourLetterWords(t *testing.T) {
	s := startServer(t, testConfig(t))
	c := connect(t, s)
	_, err := c.Create("/x", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, _, _, err = c.GetW("/x")
	require.NoError(t, err)

	assert.Equal(t, "imok", fourLetter(t, s, "ruok"))
	assert.Equal(t, "rw", fourLetter(t, s, "isro"))
	srvr := fourLetter(t, s, "srvr")
	assert.True(t, strings.HasPrefix(srvr, "Zookeeper version: "), srvr)
	assert.Contains(t, srvr, "Mode: standalone\n")
	assert.Contains(t, srvr, "Node count: 6\n")
	stat := fourLetter(t, s, "stat")
	assert.Contains(t, stat, "Clients:\n")
	cons := fourLetter(t, s, "cons")
	assert.Contains(t, cons, "sid=0x")
	mntr := fourLetter(t, s, "mntr")
	assert.Contains(t, mntr, "zk_znode_count\t6\n")
	assert.Contains(t, mntr, "zk_ephemerals_count\t1\n")
	assert.Contains(t, mntr, "zk_watch_count\t1\n")
	assert.Contains(t, fourLetter(t, s, "wchs"), "1 connections watching 1 paths\nTotal watches:1\n")
	assert.Contains(t, fourLetter(t, s, "wchc"), "\t/x\n")
	assert.Contains(t, fourLetter(t, s, "wchp"), "/x\n\t0x")
	dump := fourLetter(t, s, "dump")
	assert.Contains(t, dump, "Sessions with Ephemerals (1):")
	assert.Contains(t, dump, "\t/x\n")
	assert.Contains(t, dump, "Connections Sets (")
	assert.Regexp(t, `\tip: /127\.0\.0\.1:\d+ sessionId: 0x1[0-9a-f]+\n`, dump)
	assert.Contains(t, fourLetter(t, s, "conf"), "tickTime=100\n")
	assert.Contains(t, fourLetter(t, s, "envi"), "Environment:\n")
	assert.Contains(t, fourLetter(t, s, "dirs"), "datadir_size: ")
	assert.Equal(t, "Server stats reset.\n", fourLetter(t, s, "srst"))
	assert.Equal(t, "Connection stats reset.\n", fourLetter(t, s, "crst"))

	cfg := testConfig(t)
	cfg.FourLetterWhitelist = nil // Apache's default: srvr only
	s2 := startServer(t, cfg)
	assert.Equal(t, "ruok is not executed because it is not in the whitelist.\n", fourLetter(t, s2, "ruok"))
	assert.Contains(t, fourLetter(t, s2, "srvr"), "Mode: standalone")
}

func TestSlowReaderBackpressure(t *testing.T) {
	s := startServer(t, testConfig(t))
	r, _ := newSession(t, s, 2000)
	rh, _ := r.call(1, jute.OpCreate, &jute.CreateRequest{Path: "/big", Data: make([]byte, 10<<10), ACL: jute.OpenACLUnsafe})
	require.Equal(t, jute.ErrOK, rh.Err)
	get := jute.AppendFrame(nil, &jute.RequestHeader{Xid: 2, Type: jute.OpGetData}, &jute.PathWatchRequest{Path: "/big"})
	go func() {
		buf := make([]byte, 0, len(get)*1000)
		for i := 0; i < 1000; i++ {
			buf = append(buf, get...)
		}
		for i := 0; i < 20; i++ { // 20k reads of 10 KiB, never reading a reply
			if _, err := r.nc.Write(buf); err != nil {
				return
			}
		}
	}()
	time.Sleep(1500 * time.Millisecond)
	var queued int64
	require.True(t, s.do(func() {
		for _, c := range s.conns {
			if q := c.queued.Load(); q > queued {
				queued = q
			}
		}
	}))
	assert.LessOrEqual(t, queued, int64(maxQueuedPerConn+1), "the reader pauses instead of queueing without bound")
	good := connect(t, s)
	_, err := good.Create("/still-serving", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_ = r.nc.Close()
}
