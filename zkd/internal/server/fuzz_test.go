package server

import (
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"mqstack/proto/jute"
	"mqstack/storage/txnlog"
	"mqstack/storage/vfs"
	"mqstack/zkd/internal/tree"
)

// newCore builds a server without sockets: tree, sessions and a txn log on
// an in-memory FS, plus one established connection, for driving the
// request path directly as the owner goroutine does.
func newCore(t testing.TB) (*Server, *conn) {
	cfg := testConfig(t.(*testing.T))
	s, err := New(cfg, zerolog.Nop())
	require.NoError(t, err)
	fs := vfs.NewMem()
	l, err := txnlog.Open(fs, "/log/version-2", txnlog.Options{PreAllocSize: 4096})
	require.NoError(t, err)
	s.store = &store{fsys: fs, snapDir: "/snap", logDir: "/log/version-2", log: l, logger: zerolog.Nop()}
	s.tree = tree.New()
	s.sessions = tree.NewSessions(100, 0, 0)
	c := &conn{id: 1, s: s, log: zerolog.Nop(), wake: make(chan struct{}, 1), done: make(chan struct{}),
		stop: make(chan struct{}), lastCxid: -1, latMin: -1, remote: "127.0.0.1:1", ip: "127.0.0.1"}
	c.auth = []jute.ID{{Scheme: "ip", ID: "127.0.0.1"}}
	c.session = s.sessions.NextID()
	c.timeout = 2000
	s.sessions.Add(c.session, 2000, time.Now().UnixMilli())
	s.conns[c.id] = c
	s.bySess[c.session] = c
	return s, c
}

func requestFrame(xid int32, op jute.Op, body jute.Record) []byte {
	h := jute.RequestHeader{Xid: xid, Type: op}
	if body == nil {
		return jute.Marshal(&h)
	}
	return append(jute.Marshal(&h), jute.Marshal(body)...)
}

// FuzzServeFrame feeds arbitrary request frames (header and body, as the
// reader hands them over) through the request path: no panic, every reply
// is a well-formed frame, the tree stays consistent and the log replays.
func FuzzServeFrame(f *testing.F) {
	valid := [][]byte{
		requestFrame(1, jute.OpCreate, &jute.CreateRequest{Path: "/a", Data: []byte("x"), ACL: jute.OpenACLUnsafe}),
		requestFrame(2, jute.OpGetData, &jute.PathWatchRequest{Path: "/", Watch: true}),
		requestFrame(3, jute.OpMulti, &tree.MultiRequest{Ops: []tree.MultiOp{
			{Op: jute.OpCreate, Body: &jute.CreateRequest{Path: "/m", ACL: jute.OpenACLUnsafe}},
			{Op: jute.OpDelete, Body: &jute.PathVersionRequest{Path: "/m", Version: -1}}}}),
		requestFrame(4, jute.OpSetWatches2, &jute.SetWatches{V2: true, DataWatches: []string{"/a"}}),
		requestFrame(5, jute.OpMultiRead, &tree.MultiRequest{Ops: []tree.MultiOp{
			{Op: jute.OpGetChildren, Body: &jute.PathWatchRequest{Path: "/"}}}}),
		requestFrame(-4, jute.OpAuth, &jute.AuthPacket{Scheme: "digest", Auth: []byte("a:b")}),
		requestFrame(6, jute.OpCreateTTL, &jute.CreateRequest{Path: "/t", ACL: jute.OpenACLUnsafe, Flags: 5, TTL: 10, HasTTL: true}),
		requestFrame(7, jute.OpAddWatch, &jute.PathTypeRequest{Path: "/", Type: 1}),
		requestFrame(-2, jute.OpPing, nil),
	}
	for _, v := range valid {
		f.Add(v)
		f.Add(v[:len(v)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, frame []byte) {
		s, c := newCore(t)
		h, body, err := parseRequest(frame)
		if err != nil {
			return
		}
		// Something to work on first.
		s.handleRequest(c, jute.RequestHeader{Xid: 100, Type: jute.OpCreate},
			jute.Marshal(&jute.CreateRequest{Path: "/a", Data: []byte("x"), ACL: jute.OpenACLUnsafe}), time.Now())
		s.handleRequest(c, h, body, time.Now())
		if !c.gone {
			s.handleRequest(c, h, body, time.Now())
		}
		pending := append([]pendingOut(nil), s.pending...)
		s.commit()
		require.NoError(t, s.fatal)
		for _, p := range pending {
			if p.m.buf == nil {
				continue
			}
			require.GreaterOrEqual(t, len(p.m.buf), 4+16)
			var rh jute.ReplyHeader
			d := jute.NewDecoder(p.m.buf[4:])
			rh.Decode(d)
			require.NoError(t, d.Err())
		}
		// The log replays to the same tree.
		replica := tree.New()
		_, err = txnlog.Replay(s.store.fsys, s.store.logDir, 0, zerolog.Nop(), func(e *jute.TxnEntry) error {
			replica.Apply(e)
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, walk(t, s.tree), walk(t, replica))
	})
}

func walk(t *testing.T, tr *tree.Tree) []string {
	var out []string
	require.NoError(t, tr.WalkNodes(func(path string, n *jute.DataNode) error {
		out = append(out, path+"|"+string(n.Data))
		return nil
	}))
	return out
}

// FuzzHandshake feeds arbitrary first frames (the ConnectRequest) through
// decoding and session setup: no panic, and the reply (if any) is a
// well-formed ConnectResponse whose timeout is 0 or within the bounds.
func FuzzHandshake(f *testing.F) {
	valid := jute.Marshal(&jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16), HasReadOnly: true})
	f.Add(valid)
	f.Add(valid[:len(valid)-1])
	f.Add(valid[:10])
	f.Add([]byte{})
	f.Add(jute.Marshal(&jute.ConnectRequest{TimeOut: 1, SessionID: 42, Passwd: []byte("x"), LastZxidSeen: 7}))
	f.Fuzz(func(t *testing.T, frame []byte) {
		s, _ := newCore(t)
		var req jute.ConnectRequest
		d := jute.NewDecoder(frame)
		d.Max = s.maxBuffer
		req.Decode(d)
		if d.Err() != nil {
			return
		}
		c := &conn{id: 2, s: s, log: zerolog.Nop(), wake: make(chan struct{}, 1), done: make(chan struct{}),
			stop: make(chan struct{}), drained: make(chan struct{}, 1), lastCxid: -1, latMin: -1}
		s.handleConnect(c, &req)
		pending := append([]pendingOut(nil), s.pending...)
		s.commit()
		require.NoError(t, s.fatal)
		for _, p := range pending {
			if p.m.buf == nil {
				continue
			}
			var rsp jute.ConnectResponse
			require.NoError(t, jute.Unmarshal(p.m.buf[4:], &rsp))
			if rsp.TimeOut != 0 {
				require.GreaterOrEqual(t, rsp.TimeOut, s.minTimeout)
				require.LessOrEqual(t, rsp.TimeOut, s.maxTimeout)
			}
			require.Len(t, rsp.Passwd, 16)
		}
	})
}
