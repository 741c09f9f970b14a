package server

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"

	"mqstack/proto/jute"
	"mqstack/proto/peer"
	"mqstack/zkd/internal/config"
	"mqstack/zkd/internal/quorum"
)

// freePorts reserves n distinct free TCP ports on 127.0.0.1 (listen on
// port 0, note the port, close: the peer ports must be known in advance
// because every server.N line names them).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var lns []net.Listener
	var out []int
	// Below the kernel's ephemeral range (32768 and up): a port released
	// here must not be handed to another bind to port 0 (a client port, a
	// client's connection) before its server binds it.
	for len(out) < n {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(10000+rand.IntN(22000))))
		if err != nil {
			continue // taken: try another
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		_ = ln.Close()
	}
	return out
}

type testEnsemble struct {
	t       *testing.T
	cfgs    []*config.Config
	servers []*Server
}

// startEnsemble starts voters (ids 1..voters) and observers after them, in
// process, on 127.0.0.1 with tickTime 100ms.
func startEnsemble(t *testing.T, voters, observers int, tune ...func(*config.Config)) *testEnsemble {
	t.Helper()
	n := voters + observers
	ports := freePorts(t, 2*n)
	var servers []config.Server
	for i := 0; i < n; i++ {
		servers = append(servers, config.Server{ID: int64(i + 1), Host: "127.0.0.1", QuorumPort: ports[2*i],
			ElectionPort: ports[2*i+1], Observer: i >= voters})
	}
	te := &testEnsemble{t: t}
	for i := 0; i < n; i++ {
		c := testConfig(t)
		c.Servers = servers
		c.MyID = int64(i + 1)
		c.InitLimit = 10
		c.SyncLimit = 5
		c.StandaloneEnabled = true
		c.PeerTypeObserver = i >= voters
		for _, f := range tune {
			f(c)
		}
		te.cfgs = append(te.cfgs, c)
	}
	for i := range te.cfgs {
		te.servers = append(te.servers, te.start(i))
	}
	return te
}

func (te *testEnsemble) start(i int) *Server {
	s, err := New(te.cfgs[i], testLogger(te.t))
	require.NoError(te.t, err)
	require.NoError(te.t, s.Start())
	te.t.Cleanup(func() { _ = s.Close() })
	return s
}

func (te *testEnsemble) modeOf(i int) string {
	s := te.servers[i]
	if s == nil {
		return "down"
	}
	var m string
	if !s.do(func() {
		m = s.mode()
		if !s.ens.serving.Load() {
			m = "not-serving"
		}
	}) {
		return "down"
	}
	return m
}

// waitModes waits until every running server serves and exactly one leads.
func (te *testEnsemble) waitModes(timeout time.Duration) (leader int) {
	te.t.Helper()
	deadline := time.Now().Add(timeout)
	var modes []string
	for time.Now().Before(deadline) {
		modes = modes[:0]
		leader = -1
		ok := true
		for i := range te.servers {
			m := te.modeOf(i)
			modes = append(modes, m)
			switch m {
			case "leader":
				if leader >= 0 {
					ok = false
				}
				leader = i
			case "follower", "observer", "down":
			default:
				ok = false
			}
		}
		if ok && leader >= 0 {
			return leader
		}
		time.Sleep(50 * time.Millisecond)
	}
	te.t.Fatalf("ensemble did not settle within %v: modes %v", timeout, modes)
	return -1
}

func connectTo(t *testing.T, addrs ...string) *zk.Conn {
	t.Helper()
	c, events, err := zk.Connect(addrs, 2*time.Second, zk.WithLogger(nopLogger{}))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				go func() {
					for range events {
					}
				}()
				return c
			}
		case <-deadline:
			t.Fatal("no session within 10s")
		}
	}
}

func TestEnsembleThreeServersReplicate(t *testing.T) {
	te := startEnsemble(t, 3, 0)
	leader := te.waitModes(15 * time.Second)
	roles := map[string]int{}
	for i := range te.servers {
		roles[te.modeOf(i)]++
	}
	require.Equal(t, map[string]int{"leader": 1, "follower": 2}, roles)

	follower := (leader + 1) % 3
	cf := connectTo(t, te.servers[follower].Addr().String())
	cl := connectTo(t, te.servers[leader].Addr().String())
	_, err := cf.Create("/from-follower", []byte("f"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, err = cl.Create("/from-leader", []byte("l"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, err = cf.Create("/from-follower", nil, 0, zk.WorldACL(zk.PermAll))
	require.ErrorIs(t, err, zk.ErrNodeExists)
	_, err = cf.Set("/from-leader", []byte("v2"), 0)
	require.NoError(t, err)
	_, err = cf.Set("/from-leader", []byte("v3"), 0)
	require.ErrorIs(t, err, zk.ErrBadVersion)
	ops := []interface{}{&zk.CreateRequest{Path: "/m1", Data: []byte("1"), Acl: zk.WorldACL(zk.PermAll)},
		&zk.CreateRequest{Path: "/m2", Acl: zk.WorldACL(zk.PermAll)}}
	_, err = cf.Multi(ops...)
	require.NoError(t, err)

	for i := range te.servers {
		c := connectTo(t, te.servers[i].Addr().String())
		_, err := c.Sync("/")
		require.NoError(t, err)
		d, _, err := c.Get("/from-leader")
		require.NoError(t, err, "server %d", i)
		require.Equal(t, []byte("v2"), d, "server %d", i)
		d, _, err = c.Get("/from-follower")
		require.NoError(t, err)
		require.Equal(t, []byte("f"), d)
		ok, _, err := c.Exists("/m2")
		require.NoError(t, err)
		require.True(t, ok, "server %d", i)
	}
	// Every server persisted the established epoch (atomically written
	// dataDir files, as Apache's QuorumPeer writes them).
	for i, c := range te.cfgs {
		for _, name := range []string{"acceptedEpoch", "currentEpoch"} {
			data, err := os.ReadFile(filepath.Join(c.DataDir, name))
			require.NoError(t, err, "server %d %s", i+1, name)
			require.Regexp(t, `^[1-9][0-9]*\n$`, string(data), "server %d %s", i+1, name)
		}
	}
	var buf bytes.Buffer
	s := te.servers[leader]
	require.True(t, s.do(func() { s.fourLetter(&buf, nil, "srvr") }))
	require.Contains(t, buf.String(), "Mode: leader")
	buf.Reset()
	require.True(t, s.do(func() { s.fourLetter(&buf, nil, "mntr") }))
	require.Contains(t, buf.String(), "zk_synced_followers\t2")
	require.Contains(t, buf.String(), "zk_peer_state\tleading - broadcast")
	require.Regexp(t, `zk_max_proposal_size\t[1-9]`, buf.String())
	// Prometheus: the same numbers (metrics publish after each batch).
	require.Eventually(t, func() bool {
		got := map[string]float64{}
		mfs, err := s.metrics.reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			if g := mf.GetMetric(); len(g) == 1 && g[0].GetGauge() != nil {
				got[mf.GetName()] = g[0].GetGauge().GetValue()
			}
		}
		return got["quorum_size"] == 3 && got["synced_followers"] == 2 && got["learners"] == 2
	}, 5*time.Second, 50*time.Millisecond)
	buf.Reset()
	require.True(t, s.do(func() { s.fourLetter(&buf, nil, "conf") }))
	require.Contains(t, buf.String(), "membership: \nserver.1=127.0.0.1:")
	buf.Reset()
	require.True(t, s.do(func() { s.fourLetter(&buf, nil, "srvr") }))
	require.Regexp(t, `Proposal sizes last/min/max: [1-9][0-9]*/[1-9][0-9]*/[1-9][0-9]*\n`, buf.String())
	buf.Reset()
	fs := te.servers[follower]
	require.True(t, fs.do(func() { fs.fourLetter(&buf, nil, "srvr") }))
	require.Contains(t, buf.String(), "Mode: follower")
}

func TestEnsembleEphemeralsFollowSessionAndExpire(t *testing.T) {
	te := startEnsemble(t, 3, 0)
	leader := te.waitModes(15 * time.Second)
	a, b := (leader+1)%3, (leader+2)%3
	addrA, addrB := te.servers[a].Addr().String(), te.servers[b].Addr().String()
	var dials atomic.Int32
	var allow atomic.Bool
	allow.Store(true)
	dialer := func(network, _ string, timeout time.Duration) (net.Conn, error) {
		if !allow.Load() {
			return nil, fmt.Errorf("test: dialing disabled")
		}
		// First dial goes to A, later ones to B: the session moves.
		address := addrB
		if dials.Add(1) == 1 {
			address = addrA
		}
		return net.DialTimeout(network, address, timeout)
	}
	c, events, err := zk.Connect([]string{addrA}, 2*time.Second, zk.WithLogger(nopLogger{}), zk.WithDialer(dialer))
	require.NoError(t, err)
	defer c.Close()
	evs := make(chan zk.Event, 100)
	go func() {
		for ev := range events {
			evs <- ev
		}
	}()
	waitState(t, evs, zk.StateHasSession)
	_, err = c.Create("/eph", []byte("x"), zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	sid := c.SessionID()
	require.True(t, te.servers[a].do(func() {
		if cc := te.servers[a].bySess[sid]; cc != nil {
			_ = cc.nc.Close()
		}
	}))
	waitState(t, evs, zk.StateHasSession)
	require.Greater(t, dials.Load(), int32(1))
	require.Equal(t, sid, c.SessionID())
	ok, st, err := c.Exists("/eph")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, sid, st.EphemeralOwner)

	// Cut the client off for good: the leader expires the session and the
	// ephemeral disappears on every server.
	allow.Store(false)
	require.True(t, te.servers[b].do(func() {
		if cc := te.servers[b].bySess[sid]; cc != nil {
			_ = cc.nc.Close()
		}
	}))
	for i := range te.servers {
		cc := connectTo(t, te.servers[i].Addr().String())
		deadline := time.Now().Add(15 * time.Second)
		for {
			_, err := cc.Sync("/")
			require.NoError(t, err)
			ok, _, err := cc.Exists("/eph")
			require.NoError(t, err)
			if !ok {
				break
			}
			require.True(t, time.Now().Before(deadline), "server %d still has the ephemeral", i)
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func waitState(t *testing.T, events <-chan zk.Event, want zk.State) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.State == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %v within 10s", want)
		}
	}
}

// Watches fire on the server the watcher is connected to when a write made
// through another server is applied there; a client of a follower reads its
// own writes (the reply to a forwarded write comes after it is applied).
func TestEnsembleWatchesAndOrderOnFollowers(t *testing.T) {
	te := startEnsemble(t, 3, 0)
	leader := te.waitModes(15 * time.Second)
	a, b := (leader+1)%3, (leader+2)%3
	ca := connectTo(t, te.servers[a].Addr().String())
	cb := connectTo(t, te.servers[b].Addr().String())
	_, _, ch, err := ca.ExistsW("/watched")
	require.NoError(t, err)
	_, err = cb.Create("/watched", []byte("1"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	select {
	case ev := <-ch:
		require.Equal(t, zk.EventNodeCreated, ev.Type)
		require.Equal(t, "/watched", ev.Path)
	case <-time.After(5 * time.Second):
		t.Fatal("no watch event on the follower")
	}
	for i := 0; i < 20; i++ {
		v := []byte(fmt.Sprintf("v%d", i))
		_, err := cb.Set("/watched", v, -1)
		require.NoError(t, err)
		d, _, err := cb.Get("/watched")
		require.NoError(t, err)
		require.Equal(t, v, d, "a client reads its own write")
	}
}

// Requests a client pipelines to a follower are answered in order: the
// connect (a createSession through the leader), then a create (forwarded)
// and a getData sent right behind it, which must see the create.
func TestEnsembleFollowerKeepsPipelinedOrder(t *testing.T) {
	te := startEnsemble(t, 3, 0)
	leader := te.waitModes(15 * time.Second)
	r := dialRaw(t, te.servers[(leader+1)%3])
	hCreate := jute.RequestHeader{Xid: 1, Type: jute.OpCreate}
	create := jute.CreateRequest{Path: "/piped", Data: []byte("p"), ACL: []jute.ACL{{Perms: jute.PermAll, ID: jute.ID{Scheme: "world", ID: "anyone"}}}}
	hGet := jute.RequestHeader{Xid: 2, Type: jute.OpGetData}
	get := jute.PathWatchRequest{Path: "/piped"}
	buf := jute.AppendFrame(nil, &jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16), HasReadOnly: true})
	buf = jute.AppendFrame(buf, &hCreate, &create)
	buf = jute.AppendFrame(buf, &hGet, &get)
	_, err := r.nc.Write(buf)
	require.NoError(t, err)
	b, err := r.readFrame()
	require.NoError(t, err)
	var rsp jute.ConnectResponse
	require.NoError(t, jute.Unmarshal(b, &rsp))
	require.NotZero(t, rsp.SessionID)
	for _, want := range []int32{1, 2} {
		b, err := r.readFrame()
		require.NoError(t, err)
		d := jute.NewDecoder(b)
		var rh jute.ReplyHeader
		rh.Decode(d)
		require.NoError(t, d.Err())
		require.Equal(t, want, rh.Xid)
		require.Equal(t, jute.Err(0), rh.Err, "xid %d", want)
		if want == 2 {
			var gd jute.GetDataResponse
			gd.Decode(d)
			require.NoError(t, d.Err())
			require.Equal(t, []byte("p"), gd.Data)
		}
	}
}

// A session the leader expired cannot be resumed through another server;
// a live one can (REVALIDATE through the leader).
func TestEnsembleRevalidateOnReconnect(t *testing.T) {
	te := startEnsemble(t, 3, 0)
	leader := te.waitModes(15 * time.Second)
	a, b := te.servers[(leader+1)%3], te.servers[(leader+2)%3]
	r, rsp := newSession(t, a, 400)
	r2 := dialRaw(t, b)
	again := r2.handshake(jute.ConnectRequest{SessionID: rsp.SessionID, Passwd: rsp.Passwd, TimeOut: 400, HasReadOnly: true})
	require.Equal(t, rsp.SessionID, again.SessionID, "a live session moves to another server")
	_ = r.nc.Close()
	_ = r2.nc.Close()
	time.Sleep(1500 * time.Millisecond) // > timeout: the leader expires it
	r3 := dialRaw(t, a)
	gone := r3.handshake(jute.ConnectRequest{SessionID: rsp.SessionID, Passwd: rsp.Passwd, TimeOut: 400, HasReadOnly: true})
	require.Zero(t, gone.SessionID, "an expired session must not be resumed")
	r3.expectClosed()
}

// A follower forwards a connection's writes to the leader without waiting
// for the earlier ones to commit (Apache's FollowerRequestProcessor), and
// still answers them, and a read queued behind them, in request order.
func TestEnsembleFollowerForwardsWritesPipelined(t *testing.T) {
	te := startEnsemble(t, 3, 0)
	leader := te.waitModes(15 * time.Second)
	fs := te.servers[(leader+1)%3]
	r, _ := newSession(t, fs, 4000)
	acl := []jute.ACL{{Perms: jute.PermAll, ID: jute.ID{Scheme: "world", ID: "anyone"}}}
	const sets = 50
	var buf []byte
	buf = jute.AppendFrame(buf, &jute.RequestHeader{Xid: 1, Type: jute.OpCreate}, &jute.CreateRequest{Path: "/pipe", Data: []byte("0"), ACL: acl})
	for i := 0; i < sets; i++ {
		buf = jute.AppendFrame(buf, &jute.RequestHeader{Xid: int32(2 + i), Type: jute.OpSetData},
			&jute.SetDataRequest{Path: "/pipe", Data: []byte(fmt.Sprint(i + 1)), Version: -1})
	}
	// Version 0 is long gone: BadVersion, answered in its place.
	buf = jute.AppendFrame(buf, &jute.RequestHeader{Xid: 2 + sets, Type: jute.OpSetData}, &jute.SetDataRequest{Path: "/pipe", Data: []byte("x"), Version: 0})
	buf = jute.AppendFrame(buf, &jute.RequestHeader{Xid: 3 + sets, Type: jute.OpGetData}, &jute.PathWatchRequest{Path: "/pipe"})
	_, err := r.nc.Write(buf)
	require.NoError(t, err)
	lastZxid := int64(0)
	for xid := int32(1); xid <= 3+sets; xid++ {
		b, err := r.readFrame()
		require.NoError(t, err)
		d := jute.NewDecoder(b)
		var rh jute.ReplyHeader
		rh.Decode(d)
		require.NoError(t, d.Err())
		require.Equal(t, xid, rh.Xid, "replies in request order")
		switch {
		case xid == 2+sets:
			require.Equal(t, jute.ErrBadVersion, rh.Err)
		case xid == 3+sets:
			require.Equal(t, jute.Err(0), rh.Err)
			var gd jute.GetDataResponse
			gd.Decode(d)
			require.NoError(t, d.Err())
			require.Equal(t, []byte(fmt.Sprint(sets)), gd.Data, "the read sees every write before it")
			require.Equal(t, int32(sets), gd.Stat.Version)
		default:
			require.Equal(t, jute.Err(0), rh.Err, "xid %d", xid)
			require.Greater(t, rh.Zxid, lastZxid, "xid %d", xid)
			lastZxid = rh.Zxid
		}
	}
	var most int
	require.True(t, fs.do(func() { most = fs.ens.maxFwdPending }))
	require.Greater(t, most, 1, "the follower forwarded one write at a time")
}

// When the leader dies, a follower goes back to LOOKING without reading its
// data directory again: it applies its logged txns above the last commit,
// and the new ensemble serves everything that was acknowledged.
func TestEnsembleFollowerFastForwardsOnLeaderLoss(t *testing.T) {
	te := startEnsemble(t, 3, 0)
	leader := te.waitModes(15 * time.Second)
	f1, f2 := (leader+1)%3, (leader+2)%3
	c := connectTo(t, te.servers[f1].Addr().String())
	for i := 0; i < 20; i++ {
		_, err := c.Create(fmt.Sprintf("/ff%d", i), []byte("v"), 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err)
	}
	require.NoError(t, te.servers[leader].Close())
	te.servers[leader] = nil
	newLeader := te.waitModes(20 * time.Second)
	require.Contains(t, []int{f1, f2}, newLeader)
	for _, i := range []int{f1, f2} {
		s := te.servers[i]
		var n int
		require.True(t, s.do(func() { n = s.ens.fastForwards }))
		require.Equal(t, 1, n, "server %d reloaded its data directory instead of fast-forwarding", i+1)
	}
	c2 := connectTo(t, te.servers[f2].Addr().String())
	_, err := c2.Sync("/")
	require.NoError(t, err)
	for i := 0; i < 20; i++ {
		d, _, err := c2.Get(fmt.Sprintf("/ff%d", i))
		require.NoError(t, err)
		require.Equal(t, []byte("v"), d)
	}
	_, err = c2.Create("/after", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
}

// A learner that dials a server which follows someone else (it decided on
// a leader that went on to follow another) must be refused at once so it
// returns to the election, not kept waiting initLimit for a leader role
// this server will not take this round (a 10 s startup stall seen with
// Apache's default initLimit).
func TestEnsembleFollowerRefusesLearnerAtOnce(t *testing.T) {
	te := startEnsemble(t, 3, 0, func(c *config.Config) { c.InitLimit = 100 }) // 10 s
	leader := te.waitModes(30 * time.Second)
	follower, other := (leader+1)%3, (leader+2)%3
	s := te.servers[follower]
	var addr string
	require.True(t, s.do(func() { addr = s.ens.quorumLn.Addr().String() }))

	closed := make(chan error, 1)
	start := time.Now()
	link, err := quorum.DialLeader(context.Background(), addr, uint64(other+1), uint64(follower+1), testLogger(t),
		quorum.LinkHandler{OnMsg: func(*quorum.Link, peer.Msg) {}, OnClose: func(_ *quorum.Link, err error) { closed <- err }})
	require.NoError(t, err)
	defer link.Close()
	select {
	case <-closed:
		// Well inside initLimit (10 s): the old behaviour closed only then.
		require.Less(t, time.Since(start), 5*time.Second)
	case <-time.After(8 * time.Second):
		t.Fatal("a follower kept a learner's connection open instead of refusing it")
	}
	require.Equal(t, "follower", te.modeOf(follower))
}
