package server

import (
	"bytes"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/proto/jute"
	"mqstack/zkd/internal/tree"
)

func TestHandshakeNegotiationAndReconnect(t *testing.T) {
	s := startServer(t, testConfig(t)) // tick 100ms: timeouts in [200, 2000]
	r := dialRaw(t, s)
	rsp := r.handshake(jute.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16), HasReadOnly: true})
	assert.Equal(t, int32(2000), rsp.TimeOut, "clamped to maxSessionTimeout = 20 ticks")
	assert.True(t, rsp.HasReadOnly, "readOnly byte mirrored")
	assert.Len(t, rsp.Passwd, 16)
	assert.Equal(t, tree.Password(rsp.SessionID), rsp.Passwd)
	assert.Equal(t, int64(1), rsp.SessionID>>56, "a standalone server puts server id 1 in the top byte, as Apache does")

	r2 := dialRaw(t, s)
	rsp2 := r2.handshake(jute.ConnectRequest{TimeOut: 10, Passwd: make([]byte, 16)})
	assert.Equal(t, int32(200), rsp2.TimeOut, "clamped to minSessionTimeout = 2 ticks")
	assert.False(t, rsp2.HasReadOnly, "old client without the readOnly byte gets none back")
	assert.Equal(t, rsp.SessionID+1, rsp2.SessionID)

	// Create an ephemeral, drop the socket, reconnect with the password.
	rh, _ := r.call(1, jute.OpCreate, &jute.CreateRequest{Path: "/eph", ACL: jute.OpenACLUnsafe, Flags: jute.FlagEphemeral})
	require.Equal(t, jute.ErrOK, rh.Err)
	_ = r.nc.Close()
	r3 := dialRaw(t, s)
	rsp3 := r3.handshake(jute.ConnectRequest{TimeOut: 2000, SessionID: rsp.SessionID, Passwd: rsp.Passwd, HasReadOnly: true, LastZxidSeen: rh.Zxid})
	assert.Equal(t, rsp.SessionID, rsp3.SessionID)
	assert.Equal(t, int32(2000), rsp3.TimeOut)
	rh, body := r3.call(2, jute.OpGetEphemerals, &jute.PathRequest{Path: "/"})
	require.Equal(t, jute.ErrOK, rh.Err)
	var eph jute.StringsResponse
	require.NoError(t, jute.Unmarshal(body, &eph))
	assert.Equal(t, []string{"/eph"}, eph.Strings)

	// Wrong password: timeout 0, session 0, and the connection is closed.
	r4 := dialRaw(t, s)
	bad := bytes.Repeat([]byte{7}, 16)
	rsp4 := r4.handshake(jute.ConnectRequest{TimeOut: 2000, SessionID: rsp.SessionID, Passwd: bad, HasReadOnly: true})
	assert.Equal(t, int32(0), rsp4.TimeOut)
	assert.Equal(t, int64(0), rsp4.SessionID)
	r4.expectClosed()

	// A client that has seen a later zxid is refused (closed without a reply).
	r5 := dialRaw(t, s)
	r5.send(&jute.ConnectRequest{TimeOut: 2000, LastZxidSeen: 1 << 40, Passwd: make([]byte, 16)})
	r5.expectClosed()
}

func TestSessionExpiryRemovesEphemerals(t *testing.T) {
	s := startServer(t, testConfig(t))
	watcher := connect(t, s)
	r, rsp := newSession(t, s, 300)
	rh, _ := r.call(1, jute.OpCreate, &jute.CreateRequest{Path: "/lock", ACL: jute.OpenACLUnsafe, Flags: jute.FlagEphemeral})
	require.Equal(t, jute.ErrOK, rh.Err)
	ok, _, ch, err := watcher.ExistsW("/lock")
	require.NoError(t, err)
	require.True(t, ok)
	// No pings: the session expires, the connection is closed, the ephemeral goes.
	select {
	case ev := <-ch:
		assert.Equal(t, zk.EventNodeDeleted, ev.Type)
	case <-time.After(5 * time.Second):
		t.Fatal("ephemeral not removed after session expiry")
	}
	r.expectClosed()
	// Reconnecting to the expired session: timeout 0 and closed.
	r2 := dialRaw(t, s)
	rsp2 := r2.handshake(jute.ConnectRequest{TimeOut: 300, SessionID: rsp.SessionID, Passwd: rsp.Passwd, HasReadOnly: true})
	assert.Equal(t, int32(0), rsp2.TimeOut)
	r2.expectClosed()
}

func TestPingsKeepSessionAlive(t *testing.T) {
	s := startServer(t, testConfig(t))
	r, rsp := newSession(t, s, 1000)
	require.Equal(t, int32(1000), rsp.TimeOut)
	rh, _ := r.call(1, jute.OpCreate, &jute.CreateRequest{Path: "/alive", ACL: jute.OpenACLUnsafe, Flags: jute.FlagEphemeral})
	require.Equal(t, jute.ErrOK, rh.Err)
	// 2.5 timeouts of pings every 100ms (robust to a loaded machine).
	for i := 0; i < 25; i++ {
		time.Sleep(100 * time.Millisecond)
		rh, _ := r.call(jute.XidPing, jute.OpPing, nil)
		require.Equal(t, jute.XidPing, rh.Xid)
		require.Equal(t, jute.ErrOK, rh.Err)
	}
	rh, _ = r.call(2, jute.OpExists, &jute.PathWatchRequest{Path: "/alive"})
	assert.Equal(t, jute.ErrOK, rh.Err)
}

func TestCloseSessionFromClient(t *testing.T) {
	s := startServer(t, testConfig(t))
	other := connect(t, s)
	r, _ := newSession(t, s, 2000)
	rh, _ := r.call(1, jute.OpCreate, &jute.CreateRequest{Path: "/bye", ACL: jute.OpenACLUnsafe, Flags: jute.FlagEphemeral})
	require.Equal(t, jute.ErrOK, rh.Err)
	rh, _ = r.call(2, jute.OpCloseSession, nil)
	assert.Equal(t, jute.ErrOK, rh.Err)
	assert.Equal(t, int32(2), rh.Xid)
	r.expectClosed()
	ok, _, err := other.Exists("/bye")
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestGoClientSurvivesReconnect(t *testing.T) {
	s := startServer(t, testConfig(t))
	c := connect(t, s)
	_, err := c.Create("/keep", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	sid := c.SessionID()
	// Kill every server-side connection of that session; the client reconnects.
	s.do(func() {
		if cc := s.bySess[sid]; cc != nil {
			cc.closeNow()
		}
	})
	require.Eventually(t, func() bool {
		ok, _, err := c.Exists("/keep")
		return err == nil && ok
	}, 5*time.Second, 50*time.Millisecond)
	assert.Equal(t, sid, c.SessionID())
}
