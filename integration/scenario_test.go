package integration

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The scenario suite: the same bodies run against zkd and against Apache
// ZooKeeper 3.8 (subtests zkd/<name> and apache/<name>). Each scenario asserts
// the behaviour it expects (checked on Apache) and records a trace of what it
// saw with zxids replaced by their rank, so compare/<name> can assert that
// both servers behaved the same, relation for relation.

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

// connect opens a go-zookeeper session and waits until it has one.
func connect(t testing.TB, addr string, timeout time.Duration) (*zk.Conn, <-chan zk.Event) {
	t.Helper()
	c, ev, err := zk.Connect([]string{addr}, timeout, zk.WithLogger(nopLogger{}), zk.WithLogInfo(false))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	deadline := time.After(15 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.State == zk.StateHasSession {
				return c, ev
			}
		case <-deadline:
			t.Fatalf("no session with %s within 15s (state %v)", addr, c.State())
		}
	}
}

// zxid and owner are trace values normalised when the trace is rendered.
type zxid int64

type trace struct {
	mu      sync.Mutex
	entries [][]any
	self    map[int64]string
}

func newTrace() *trace { return &trace{self: map[int64]string{0: "none"}} }

// session names a session id so ephemeralOwner renders as that name.
func (tr *trace) session(name string, id int64) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.self[id] = name
}

func (tr *trace) add(parts ...any) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.entries = append(tr.entries, parts)
}

func (tr *trace) stat(label string, st *zk.Stat) {
	if st == nil {
		tr.add(label, "stat=nil")
		return
	}
	tr.mu.Lock()
	own, ok := tr.self[st.EphemeralOwner]
	tr.mu.Unlock()
	if !ok {
		own = "other"
	}
	tr.add(label, "czxid=", zxid(st.Czxid), " mzxid=", zxid(st.Mzxid), " pzxid=", zxid(st.Pzxid),
		fmt.Sprintf(" version=%d cversion=%d aversion=%d owner=%s dataLength=%d numChildren=%d",
			st.Version, st.Cversion, st.Aversion, own, st.DataLength, st.NumChildren))
}

func (tr *trace) err(label string, err error) {
	if err == nil {
		tr.add(label, "ok")
		return
	}
	tr.add(label, "err=", err.Error())
}

// render replaces each zxid by its rank among the zxids in the trace.
func (tr *trace) render() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var zs []int64
	seen := map[int64]bool{}
	for _, e := range tr.entries {
		for _, p := range e {
			if z, ok := p.(zxid); ok && !seen[int64(z)] {
				seen[int64(z)] = true
				zs = append(zs, int64(z))
			}
		}
	}
	sort.Slice(zs, func(i, j int) bool { return zs[i] < zs[j] })
	rank := map[int64]int{}
	for i, z := range zs {
		rank[z] = i
	}
	out := make([]string, 0, len(tr.entries))
	for _, e := range tr.entries {
		var b strings.Builder
		for i, p := range e {
			if i == 1 {
				b.WriteString(": ")
			}
			switch v := p.(type) {
			case zxid:
				if v == 0 {
					b.WriteString("0")
				} else {
					fmt.Fprintf(&b, "Z%d", rank[int64(v)])
				}
			default:
				fmt.Fprint(&b, v)
			}
		}
		out = append(out, b.String())
	}
	return out
}

// scenarioEnv is what a scenario body gets.
type scenarioEnv struct {
	kind string
	srv  *Server
	root string // a fresh, empty persistent znode for this scenario
	tr   *trace
}

type scenario struct {
	name string
	run  func(t *testing.T, env *scenarioEnv)
}

var scenarios = []scenario{
	{"create_modes", scenarioCreateModes},
	{"stat_fields", scenarioStatFields},
	{"errors", scenarioErrors},
	{"invalid_paths", scenarioInvalidPaths},
	{"watches", scenarioWatches},
	{"persistent_watches", scenarioPersistentWatches},
	{"multi", scenarioMulti},
	{"acl", scenarioACL},
	{"session_expiry", scenarioSessionExpiry},
	{"session_reconnect", scenarioSessionReconnect},
	{"container_ttl", scenarioContainerTTL},
	{"extras", scenarioExtras},
	{"raw_ops", scenarioRawOps},
	{"edge_cases", scenarioEdgeCases},
	{"set_watches2", scenarioSetWatches2},
	{"children_order", scenarioChildrenOrder},
	{"multi_rollback_acl", scenarioMultiRollbackACL},
	{"watch_acl", scenarioWatchACL},
	{"ttl_touch", scenarioTTLTouch},
}

func TestScenarios(t *testing.T) {
	var mu sync.Mutex
	traces := map[string]map[string][]string{} // scenario -> kind -> trace
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			srv := StartServer(t, kind, ServerOptions{})
			admin, _ := connect(t, srv.Addr(), 4*time.Second)
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					t.Parallel()
					root := "/" + sc.name
					_, err := admin.Create(root, nil, 0, zk.WorldACL(zk.PermAll))
					require.NoError(t, err, "create scenario root %s", root)
					env := &scenarioEnv{kind: kind, srv: srv, root: root, tr: newTrace()}
					sc.run(t, env)
					if !t.Failed() {
						mu.Lock()
						if traces[sc.name] == nil {
							traces[sc.name] = map[string][]string{}
						}
						traces[sc.name][kind] = env.tr.render()
						mu.Unlock()
					}
				})
			}
		})
	}
	t.Run("compare", func(t *testing.T) {
		for _, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) {
				z, a := traces[sc.name][kindZkd], traces[sc.name][kindApache]
				if z == nil || a == nil {
					t.Skipf("needs a passing run on both servers (zkd passed: %v, apache passed: %v)", z != nil, a != nil)
				}
				assert.Equal(t, a, z, "zkd's trace (actual) differs from Apache's (expected)")
			})
		}
	})
}

func scenarioCreateModes(t *testing.T, env *scenarioEnv) {
	c, _ := connect(t, env.srv.Addr(), 4*time.Second)
	tr := env.tr
	tr.session("self", c.SessionID())
	acl := zk.WorldACL(zk.PermAll)
	r := env.root

	p, err := c.Create(r+"/persistent", []byte("p"), 0, acl)
	require.NoError(t, err)
	assert.Equal(t, r+"/persistent", p)

	p, err = c.Create(r+"/eph", []byte("e"), zk.FlagEphemeral, acl)
	require.NoError(t, err)
	assert.Equal(t, r+"/eph", p)
	_, st, err := c.Get(r + "/eph")
	require.NoError(t, err)
	assert.Equal(t, c.SessionID(), st.EphemeralOwner, "ephemeralOwner is the creating session")
	tr.stat("eph", st)

	// Sequence numbers are the parent's cversion, printed %010d.
	var seqs []string
	for i := 0; i < 3; i++ {
		p, err := c.Create(r+"/seq-", nil, zk.FlagSequence, acl)
		require.NoError(t, err)
		seqs = append(seqs, p)
	}
	// The root has persistent + eph before the sequentials: the counter is 2.
	assert.Equal(t, []string{r + "/seq-0000000002", r + "/seq-0000000003", r + "/seq-0000000004"}, seqs)
	require.NoError(t, c.Delete(seqs[2], -1))
	// The counter is the number of child creates ever (Apache stores that as
	// the parent's cversion and reports cversion = 2*creates - numChildren):
	// a delete raises the reported cversion but not the next sequence number.
	_, rst, err := c.Exists(r)
	require.NoError(t, err)
	assert.Equal(t, int32(6), rst.Cversion, "cversion after 5 creates and 1 delete")
	p, err = c.Create(r+"/seq-", nil, zk.FlagSequence|zk.FlagEphemeral, acl)
	require.NoError(t, err)
	assert.Equal(t, r+"/seq-0000000005", p)
	tr.add("seq", strings.Join(append(seqs, p), ","))
	_, st, err = c.Get(p)
	require.NoError(t, err)
	assert.Equal(t, c.SessionID(), st.EphemeralOwner)

	// Sequential names in a fresh parent start at 0 and the counter is per parent.
	_, err = c.Create(r+"/sub", nil, 0, acl)
	require.NoError(t, err)
	p, err = c.Create(r+"/sub/n", nil, zk.FlagSequence, acl)
	require.NoError(t, err)
	assert.Equal(t, r+"/sub/n0000000000", p)

	p, err = c.CreateContainer(r+"/container", []byte("c"), zk.FlagContainer, acl)
	require.NoError(t, err)
	assert.Equal(t, r+"/container", p)
	_, st, err = c.Get(p)
	require.NoError(t, err)
	assert.Equal(t, int64(0), st.EphemeralOwner, "a container has no ephemeral owner")

	p, err = c.CreateTTL(r+"/ttl", []byte("t"), zk.FlagTTL, acl, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, r+"/ttl", p)
	_, st, err = c.Get(p)
	require.NoError(t, err)
	assert.Equal(t, int64(0), st.EphemeralOwner, "a TTL node reports no ephemeral owner (the TTL is kept inside)")
	p, err = c.CreateTTL(r+"/ttlseq-", nil, zk.FlagPersistentSequentialWithTTL, acl, time.Hour)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(p, r+"/ttlseq-00000000"), "sequential TTL name %q", p)
	tr.add("ttlseq", p)

	kids, st, err := c.Children(r)
	require.NoError(t, err)
	sort.Strings(kids)
	tr.add("children", strings.Join(kids, ","))
	tr.stat("root", st)
	assert.Equal(t, int32(len(kids)), st.NumChildren)

	// Ephemerals go when their session closes; other modes stay.
	c.Close()
	c2, _ := connect(t, env.srv.Addr(), 4*time.Second)
	for _, gone := range []string{r + "/eph", r + "/seq-0000000005"} {
		ok, _, err := c2.Exists(gone)
		require.NoError(t, err)
		assert.False(t, ok, "%s outlived its session's close", gone)
	}
	for _, kept := range []string{r + "/persistent", r + "/container", r + "/ttl", r + "/seq-0000000002"} {
		ok, _, err := c2.Exists(kept)
		require.NoError(t, err)
		assert.True(t, ok, "%s vanished", kept)
	}
}

func scenarioStatFields(t *testing.T, env *scenarioEnv) {
	c, _ := connect(t, env.srv.Addr(), 4*time.Second)
	tr := env.tr
	tr.session("self", c.SessionID())
	acl := zk.WorldACL(zk.PermAll)
	n := env.root + "/n"

	_, err := c.Create(n, []byte("abc"), 0, acl)
	require.NoError(t, err)
	_, s0, err := c.Get(n)
	require.NoError(t, err)
	tr.stat("created", s0)
	assert.Equal(t, s0.Czxid, s0.Mzxid)
	assert.Equal(t, s0.Czxid, s0.Pzxid)
	assert.Equal(t, int32(3), s0.DataLength)
	assert.Zero(t, s0.Version)
	assert.Zero(t, s0.Cversion)
	assert.Zero(t, s0.NumChildren)
	assert.NotZero(t, s0.Ctime)
	assert.Equal(t, s0.Ctime, s0.Mtime)

	s1, err := c.Set(n, []byte("hello"), 0)
	require.NoError(t, err)
	tr.stat("set", s1)
	assert.Equal(t, s0.Czxid, s1.Czxid)
	assert.Greater(t, s1.Mzxid, s0.Mzxid)
	assert.Equal(t, s0.Pzxid, s1.Pzxid, "set does not touch pzxid")
	assert.Equal(t, int32(1), s1.Version)
	assert.Equal(t, int32(5), s1.DataLength)

	_, err = c.Create(n+"/a", nil, 0, acl)
	require.NoError(t, err)
	_, sa, err := c.Exists(n + "/a")
	require.NoError(t, err)
	_, s2, err := c.Exists(n)
	require.NoError(t, err)
	tr.stat("child created", s2)
	assert.Equal(t, sa.Czxid, s2.Pzxid, "parent pzxid is the child's czxid")
	assert.Equal(t, s1.Mzxid, s2.Mzxid, "a child create does not touch the parent's mzxid")
	assert.Equal(t, int32(1), s2.Cversion)
	assert.Equal(t, int32(1), s2.NumChildren)
	assert.Equal(t, int32(1), s2.Version)

	sa2, err := c.Set(n+"/a", []byte("x"), -1)
	require.NoError(t, err)
	tr.stat("child set", sa2)
	_, s3, err := c.Exists(n)
	require.NoError(t, err)
	tr.stat("parent after child set", s3)
	assert.Equal(t, *s2, *s3, "setting a child leaves the parent's stat alone")

	_, err = c.Create(n+"/b", nil, zk.FlagEphemeral, acl)
	require.NoError(t, err)
	require.NoError(t, c.Delete(n+"/a", -1))
	_, s4, err := c.Exists(n)
	require.NoError(t, err)
	tr.stat("child deleted", s4)
	assert.Greater(t, s4.Pzxid, sa.Czxid, "a child delete bumps pzxid")
	assert.Equal(t, int32(3), s4.Cversion)
	assert.Equal(t, int32(1), s4.NumChildren)

	s5, err := c.SetACL(n, zk.WorldACL(zk.PermAll), -1)
	require.NoError(t, err)
	tr.stat("setACL", s5)
	assert.Equal(t, int32(1), s5.Aversion)
	assert.Equal(t, s4.Mzxid, s5.Mzxid, "setACL does not touch mzxid")
	assert.Equal(t, s4.Pzxid, s5.Pzxid)

	// Stat of the same node through every read path agrees.
	_, g, err := c.Get(n)
	require.NoError(t, err)
	_, ch, err := c.Children(n)
	require.NoError(t, err)
	_, as, err := c.GetACL(n)
	require.NoError(t, err)
	assert.Equal(t, *s5, *g)
	assert.Equal(t, *s5, *ch)
	assert.Equal(t, *s5, *as)

	// Set with the right version works, an empty value has length 0.
	s6, err := c.Set(n, nil, 1)
	require.NoError(t, err)
	tr.stat("set empty", s6)
	assert.Zero(t, s6.DataLength)
	assert.Equal(t, int32(2), s6.Version)
	_, eph, err := c.Exists(n + "/b")
	require.NoError(t, err)
	tr.stat("ephemeral", eph)
	assert.Equal(t, c.SessionID(), eph.EphemeralOwner)
}

func scenarioErrors(t *testing.T, env *scenarioEnv) {
	c, _ := connect(t, env.srv.Addr(), 4*time.Second)
	tr := env.tr
	acl := zk.WorldACL(zk.PermAll)
	r := env.root
	check := func(label string, err, want error) {
		t.Helper()
		tr.err(label, err)
		assert.ErrorIs(t, err, want, label)
	}

	_, _, err := c.Get(r + "/missing")
	check("get missing", err, zk.ErrNoNode)
	_, err = c.Create(r+"/missing/child", nil, 0, acl)
	check("create under missing parent", err, zk.ErrNoNode)
	_, err = c.Set(r+"/missing", nil, -1)
	check("set missing", err, zk.ErrNoNode)
	check("delete missing", c.Delete(r+"/missing", -1), zk.ErrNoNode)
	_, _, err = c.Children(r + "/missing")
	check("children missing", err, zk.ErrNoNode)

	_, err = c.Create(r+"/n", []byte("v"), 0, acl)
	require.NoError(t, err)
	_, err = c.Create(r+"/n", nil, 0, acl)
	check("create existing", err, zk.ErrNodeExists)
	_, err = c.Set(r+"/n", nil, 7)
	check("set bad version", err, zk.ErrBadVersion)
	check("delete bad version", c.Delete(r+"/n", 3), zk.ErrBadVersion)
	_, err = c.SetACL(r+"/n", acl, 5)
	check("setACL bad version", err, zk.ErrBadVersion)

	_, err = c.Create(r+"/n/kid", nil, 0, acl)
	require.NoError(t, err)
	check("delete non-empty", c.Delete(r+"/n", -1), zk.ErrNotEmpty)

	_, err = c.Create(r+"/e", nil, zk.FlagEphemeral, acl)
	require.NoError(t, err)
	_, err = c.Create(r+"/e/kid", nil, 0, acl)
	check("child of ephemeral", err, zk.ErrNoChildrenForEphemerals)

	_, err = c.Create(r+"/noacl", nil, 0, []zk.ACL{})
	check("empty ACL", err, zk.ErrInvalidACL)
	_, err = c.Create(r+"/badacl", nil, 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "digest", ID: "no-colon"}})
	check("malformed digest id", err, zk.ErrInvalidACL)
	_, err = c.Create(r+"/authacl", nil, 0, zk.AuthACL(zk.PermAll))
	check("auth ACL without credentials", err, zk.ErrInvalidACL)
	_, err = c.Create(r+"/badscheme", nil, 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "nosuchscheme", ID: "x"}})
	check("unknown scheme", err, zk.ErrInvalidACL)
	_, err = c.Create(r+"/badip", nil, 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "ip", ID: "not-an-ip"}})
	check("bad ip", err, zk.ErrInvalidACL)

	_, err = c.Create(r+"/locked", nil, 0, zk.DigestACL(zk.PermAll, "alice", "pw"))
	require.NoError(t, err)
	_, _, err = c.Get(r + "/locked")
	check("get without auth", err, zk.ErrNoAuth)
	_, err = c.Set(r+"/locked", nil, -1)
	check("set without auth", err, zk.ErrNoAuth)
	_, err = c.Create(r+"/locked/kid", nil, 0, acl)
	check("create child without auth", err, zk.ErrNoAuth)

	// The state is as the errors say: nothing half-done.
	ok, st, err := c.Exists(r + "/n")
	require.NoError(t, err)
	require.True(t, ok)
	tr.stat("n after errors", st)
	assert.Zero(t, st.Version)
	assert.Equal(t, int32(1), st.NumChildren)
}

// scenarioInvalidPaths sends paths go-zookeeper refuses to send itself.
func scenarioInvalidPaths(t *testing.T, env *scenarioEnv) {
	rc, _ := newRawSession(t, env.srv.Addr())
	r := env.root
	// Apache validates the path of a create (after finding its parent) and
	// answers BadArguments; a parent that cannot exist is NoNode. Reads do
	// not validate: an invalid path is simply not there.
	for _, tc := range []struct {
		op   int32
		path string
		want int32
	}{
		{opCreate, "", errBadArguments},
		{opCreate, "noslash", errBadArguments},
		{opCreate, r + "/", errBadArguments},
		{opCreate, r + "/x\x00y", errBadArguments},
		{opCreate, r + "/.", errBadArguments},
		{opCreate, r + "/..", errBadArguments},
		{opCreate, r + "//x", errNoNode},
		{opCreate, r + "/./x", errNoNode},
		{opGetData, "noslash", errNoNode},
		{opGetData, r + "/", errNoNode},
	} {
		var body []byte
		if tc.op == opCreate {
			body = createBody(tc.path, nil, 0)
		} else {
			body = enc(nil).str(tc.path).boolean(false)
		}
		res := rc.mustCall(t, tc.op, body)
		env.tr.add(fmt.Sprintf("op %d %q", tc.op, tc.path), res.Err)
		assert.Equal(t, tc.want, res.Err, "op %d path %q", tc.op, tc.path)
	}
	// The session is still fine afterwards.
	res := rc.mustCall(t, opGetData, enc(nil).str(r).boolean(false))
	assert.Equal(t, int32(errOK), res.Err)
}

func waitEvent(t *testing.T, ch <-chan zk.Event, label string) zk.Event {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no watch event within 10s", label)
	}
	return zk.Event{}
}

func scenarioWatches(t *testing.T, env *scenarioEnv) {
	c, _ := connect(t, env.srv.Addr(), 4*time.Second)
	w, _ := connect(t, env.srv.Addr(), 4*time.Second)
	tr := env.tr
	acl := zk.WorldACL(zk.PermAll)
	r := env.root
	ev := func(label string, e zk.Event) {
		tr.add(label, fmt.Sprintf("%v %s %v", e.Type, e.Path, e.Err))
	}

	// exists watch on a missing node fires NodeCreated.
	ok, _, ch, err := w.ExistsW(r + "/x")
	require.NoError(t, err)
	require.False(t, ok)
	_, err = c.Create(r+"/x", []byte("1"), 0, acl)
	require.NoError(t, err)
	e := waitEvent(t, ch, "exists watch")
	ev("exists", e)
	assert.Equal(t, zk.EventNodeCreated, e.Type)
	assert.Equal(t, r+"/x", e.Path)

	// data watch fires NodeDataChanged once.
	_, _, ch, err = w.GetW(r + "/x")
	require.NoError(t, err)
	_, err = c.Set(r+"/x", []byte("2"), -1)
	require.NoError(t, err)
	e = waitEvent(t, ch, "data watch")
	ev("data", e)
	assert.Equal(t, zk.EventNodeDataChanged, e.Type)

	// child watch fires NodeChildrenChanged on create, not on a child's data change.
	_, _, ch, err = w.ChildrenW(r)
	require.NoError(t, err)
	_, err = c.Set(r+"/x", []byte("3"), -1)
	require.NoError(t, err)
	_, err = c.Create(r+"/y", nil, 0, acl)
	require.NoError(t, err)
	e = waitEvent(t, ch, "child watch")
	ev("child", e)
	assert.Equal(t, zk.EventNodeChildrenChanged, e.Type)
	assert.Equal(t, r, e.Path)

	// a data watch and an exists watch on the same node both see NodeDeleted;
	// the child watch on the parent sees NodeChildrenChanged.
	_, _, dch, err := w.GetW(r + "/y")
	require.NoError(t, err)
	_, _, ech, err := w.ExistsW(r + "/y")
	require.NoError(t, err)
	_, _, cch, err := w.ChildrenW(r)
	require.NoError(t, err)
	require.NoError(t, c.Delete(r+"/y", -1))
	e = waitEvent(t, dch, "data watch on delete")
	ev("delete data", e)
	assert.Equal(t, zk.EventNodeDeleted, e.Type)
	e = waitEvent(t, ech, "exists watch on delete")
	ev("delete exists", e)
	assert.Equal(t, zk.EventNodeDeleted, e.Type)
	e = waitEvent(t, cch, "child watch on delete")
	ev("delete child", e)
	assert.Equal(t, zk.EventNodeChildrenChanged, e.Type)

	// Watches are one-shot and only fire for the watched session: a raw
	// client proves the second change sends nothing.
	rc, _ := newRawSession(t, env.srv.Addr())
	res := rc.mustCall(t, opGetData, enc(nil).str(r+"/x").boolean(true))
	require.Equal(t, int32(errOK), res.Err)
	_, err = c.Set(r+"/x", []byte("4"), -1)
	require.NoError(t, err)
	got := rc.nextEvent(t, 10*time.Second)
	assert.Equal(t, watchEvent{Type: evNodeDataChanged, State: 3, Path: r + "/x"}, got)
	_, err = c.Set(r+"/x", []byte("5"), -1)
	require.NoError(t, err)
	rc.noEvent(t, 500*time.Millisecond)

	// A watch set on a missing node by getData is an error and sets no watch:
	// NoNode, and a later create does not notify.
	res = rc.mustCall(t, opGetData, enc(nil).str(r+"/z").boolean(true))
	assert.Equal(t, int32(errNoNode), res.Err)
	_, err = c.Create(r+"/z", nil, 0, acl)
	require.NoError(t, err)
	rc.noEvent(t, 500*time.Millisecond)
}

func scenarioPersistentWatches(t *testing.T, env *scenarioEnv) {
	c, _ := connect(t, env.srv.Addr(), 4*time.Second)
	acl := zk.WorldACL(zk.PermAll)
	r := env.root
	_, err := c.Create(r+"/p", nil, 0, acl)
	require.NoError(t, err)
	_, err = c.Create(r+"/rec", nil, 0, acl)
	require.NoError(t, err)

	rc, _ := newRawSession(t, env.srv.Addr())
	res := rc.mustCall(t, opAddWatch, enc(nil).str(r+"/p").i32(addWatchPersistent))
	require.Equal(t, int32(errOK), res.Err, "addWatch persistent")
	res = rc.mustCall(t, opAddWatch, enc(nil).str(r+"/rec").i32(addWatchPersistentRecursive))
	require.Equal(t, int32(errOK), res.Err, "addWatch persistent recursive")
	res = rc.mustCall(t, opAddWatch, enc(nil).str(r+"/p").i32(7))
	env.tr.add("addWatch bad mode", res.Err)

	record := func(label string, want watchEvent) {
		t.Helper()
		got := rc.nextEvent(t, 10*time.Second)
		env.tr.add(label, fmt.Sprintf("type=%d path=%s", got.Type, strings.TrimPrefix(got.Path, r)))
		assert.Equal(t, want, got, label)
	}
	// Persistent: fires every time, data and children, and is not consumed.
	for i := 0; i < 2; i++ {
		_, err = c.Set(r+"/p", []byte{byte(i)}, -1)
		require.NoError(t, err)
		record(fmt.Sprintf("persistent set %d", i), watchEvent{Type: evNodeDataChanged, State: 3, Path: r + "/p"})
	}
	_, err = c.Create(r+"/p/kid", nil, 0, acl)
	require.NoError(t, err)
	record("persistent child", watchEvent{Type: evNodeChildrenChanged, State: 3, Path: r + "/p"})
	// A grandchild's change is not the persistent (non-recursive) watch's business.
	_, err = c.Set(r+"/p/kid", []byte("x"), -1)
	require.NoError(t, err)
	rc.noEvent(t, 300*time.Millisecond)

	// Recursive: every descendant, created/changed/deleted, no ChildrenChanged.
	_, err = c.Create(r+"/rec/a", nil, 0, acl)
	require.NoError(t, err)
	record("recursive create a", watchEvent{Type: evNodeCreated, State: 3, Path: r + "/rec/a"})
	_, err = c.Create(r+"/rec/a/b", nil, 0, acl)
	require.NoError(t, err)
	record("recursive create a/b", watchEvent{Type: evNodeCreated, State: 3, Path: r + "/rec/a/b"})
	_, err = c.Set(r+"/rec/a/b", []byte("v"), -1)
	require.NoError(t, err)
	record("recursive set a/b", watchEvent{Type: evNodeDataChanged, State: 3, Path: r + "/rec/a/b"})
	require.NoError(t, c.Delete(r+"/rec/a/b", -1))
	record("recursive delete a/b", watchEvent{Type: evNodeDeleted, State: 3, Path: r + "/rec/a/b"})
	_, err = c.Set(r+"/rec", []byte("top"), -1)
	require.NoError(t, err)
	record("recursive set root", watchEvent{Type: evNodeDataChanged, State: 3, Path: r + "/rec"})
	rc.noEvent(t, 300*time.Millisecond)
}

func scenarioMulti(t *testing.T, env *scenarioEnv) {
	c, _ := connect(t, env.srv.Addr(), 4*time.Second)
	tr := env.tr
	acl := zk.WorldACL(zk.PermAll)
	r := env.root

	res, err := c.Multi(
		&zk.CreateRequest{Path: r + "/a", Data: []byte("a"), Acl: acl},
		&zk.CreateRequest{Path: r + "/b", Data: []byte("b"), Acl: acl, Flags: zk.FlagSequence},
		&zk.SetDataRequest{Path: r + "/a", Data: []byte("a2"), Version: 0},
		&zk.CheckVersionRequest{Path: r + "/a", Version: 1},
		&zk.DeleteRequest{Path: r + "/b0000000001", Version: 0},
	)
	require.NoError(t, err)
	require.Len(t, res, 5)
	assert.Equal(t, r+"/a", res[0].String)
	assert.Equal(t, r+"/b0000000001", res[1].String)
	require.NotNil(t, res[2].Stat)
	assert.Equal(t, int32(1), res[2].Stat.Version)
	for i, op := range res {
		assert.NoError(t, op.Error, "op %d", i)
		if op.Stat != nil {
			tr.stat(fmt.Sprintf("multi ok op %d %s", i, op.String), op.Stat)
		} else {
			tr.add(fmt.Sprintf("multi ok op %d", i), op.String)
		}
	}
	// All ops of a multi share one zxid.
	_, st, err := c.Get(r + "/a")
	require.NoError(t, err)
	assert.Equal(t, st.Czxid, st.Mzxid, "create and set in one multi have one zxid")
	_, pst, err := c.Exists(r)
	require.NoError(t, err)
	assert.Equal(t, st.Czxid, pst.Pzxid)
	tr.stat("parent after multi", pst)

	// A failing op aborts all: per-op results say which one failed.
	res, err = c.Multi(
		&zk.CreateRequest{Path: r + "/c", Acl: acl},
		&zk.SetDataRequest{Path: r + "/a", Data: []byte("x"), Version: 1},
		&zk.CheckVersionRequest{Path: r + "/a", Version: 9},
		&zk.DeleteRequest{Path: r + "/a", Version: -1},
	)
	assert.ErrorIs(t, err, zk.ErrBadVersion)
	require.Len(t, res, 4)
	for i, op := range res {
		tr.err(fmt.Sprintf("multi failed op %d", i), op.Error)
	}
	assert.NoError(t, res[0].Error)
	assert.NoError(t, res[1].Error)
	assert.ErrorIs(t, res[2].Error, zk.ErrBadVersion)
	assert.EqualError(t, res[3].Error, "unknown error: -2", "ops after the failing one report RuntimeInconsistency")
	ok, _, err := c.Exists(r + "/c")
	require.NoError(t, err)
	assert.False(t, ok, "an aborted multi created nothing")
	data, st2, err := c.Get(r + "/a")
	require.NoError(t, err)
	assert.Equal(t, "a2", string(data))
	assert.Equal(t, *st, *st2)

	// NoNode in the middle.
	res, err = c.Multi(
		&zk.SetDataRequest{Path: r + "/a", Data: []byte("y"), Version: -1},
		&zk.DeleteRequest{Path: r + "/nope", Version: -1},
	)
	assert.ErrorIs(t, err, zk.ErrNoNode)
	require.Len(t, res, 2)
	tr.err("multi nonode op 0", res[0].Error)
	tr.err("multi nonode op 1", res[1].Error)
	assert.ErrorIs(t, res[1].Error, zk.ErrNoNode)

	// Ops see the effects of earlier ops in the same multi.
	res, err = c.Multi(
		&zk.CreateRequest{Path: r + "/d", Acl: acl},
		&zk.CreateRequest{Path: r + "/d/e", Acl: acl},
		&zk.DeleteRequest{Path: r + "/d/e", Version: 0},
		&zk.DeleteRequest{Path: r + "/d", Version: 0},
	)
	require.NoError(t, err)
	require.Len(t, res, 4)
	ok, _, err = c.Exists(r + "/d")
	require.NoError(t, err)
	assert.False(t, ok)
}

func scenarioACL(t *testing.T, env *scenarioEnv) {
	owner, _ := connect(t, env.srv.Addr(), 4*time.Second)
	other, _ := connect(t, env.srv.Addr(), 4*time.Second)
	tr := env.tr
	r := env.root
	check := func(label string, err error, want error) {
		t.Helper()
		tr.err(label, err)
		if want == nil {
			assert.NoError(t, err, label)
		} else {
			assert.ErrorIs(t, err, want, label)
		}
	}

	// digest
	_, err := owner.Create(r+"/digest", []byte("d"), 0, zk.DigestACL(zk.PermAll, "alice", "pw"))
	require.NoError(t, err)
	_, _, err = other.Get(r + "/digest")
	check("digest: unauthenticated get", err, zk.ErrNoAuth)
	require.NoError(t, other.AddAuth("digest", []byte("bob:pw")))
	_, _, err = other.Get(r + "/digest")
	check("digest: wrong user get", err, zk.ErrNoAuth)
	require.NoError(t, other.AddAuth("digest", []byte("alice:pw")))
	_, _, err = other.Get(r + "/digest")
	check("digest: right user get", err, nil)
	acls, st, err := other.GetACL(r + "/digest")
	require.NoError(t, err)
	assert.Equal(t, zk.DigestACL(zk.PermAll, "alice", "pw"), acls)
	tr.add("digest acl", fmt.Sprint(acls))
	tr.stat("digest stat", st)

	// auth scheme: takes the session's identities
	require.NoError(t, owner.AddAuth("digest", []byte("carol:secret")))
	_, err = owner.Create(r+"/auth", nil, 0, zk.AuthACL(zk.PermRead|zk.PermWrite))
	require.NoError(t, err)
	acls, _, err = owner.GetACL(r + "/auth")
	require.NoError(t, err)
	// Without ADMIN on the node, getACL masks digest hashes as "user:x".
	assert.Equal(t, []zk.ACL{{Perms: zk.PermRead | zk.PermWrite, Scheme: "digest", ID: "carol:x"}}, acls)
	tr.add("auth acl", fmt.Sprint(acls))
	check("auth: owner delete child perm missing", owner.Delete(r+"/auth", -1), nil) // delete is checked on the parent

	// world read-only
	_, err = owner.Create(r+"/ro", []byte("r"), 0, zk.WorldACL(zk.PermRead))
	require.NoError(t, err)
	_, _, err = other.Get(r + "/ro")
	check("world read: get", err, nil)
	_, err = other.Set(r+"/ro", nil, -1)
	check("world read: set", err, zk.ErrNoAuth)
	_, err = other.SetACL(r+"/ro", zk.WorldACL(zk.PermAll), -1)
	check("world read: setACL", err, zk.ErrNoAuth)

	// create-only parent: children can be created but not listed
	_, err = owner.Create(r+"/co", nil, 0, zk.WorldACL(zk.PermCreate))
	require.NoError(t, err)
	_, err = other.Create(r+"/co/kid", nil, 0, zk.WorldACL(zk.PermAll))
	check("create-only: create", err, nil)
	_, _, err = other.Children(r + "/co")
	check("create-only: children", err, zk.ErrNoAuth)
	check("create-only: delete kid", other.Delete(r+"/co/kid", -1), zk.ErrNoAuth)

	// ip
	_, err = owner.Create(r+"/iplocal", nil, 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "ip", ID: "127.0.0.1"}})
	require.NoError(t, err)
	_, _, err = other.Get(r + "/iplocal")
	check("ip 127.0.0.1: get", err, nil)
	_, err = owner.Create(r+"/ipnet", nil, 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "ip", ID: "127.0.0.0/8"}})
	require.NoError(t, err)
	_, _, err = other.Get(r + "/ipnet")
	check("ip 127.0.0.0/8: get", err, nil)
	_, err = owner.Create(r+"/ipother", nil, 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "ip", ID: "10.1.2.3"}})
	require.NoError(t, err)
	_, _, err = other.Get(r + "/ipother")
	check("ip 10.1.2.3: get", err, zk.ErrNoAuth)

	// super digest reads and changes anything
	su, _ := connect(t, env.srv.Addr(), 4*time.Second)
	_, _, err = su.Get(r + "/ipother")
	check("super before auth", err, zk.ErrNoAuth)
	require.NoError(t, su.AddAuth("digest", []byte(superUser+":"+superSecret)))
	_, _, err = su.Get(r + "/ipother")
	check("super: get", err, nil)
	_, err = su.Set(r+"/digest", []byte("by super"), -1)
	check("super: set", err, nil)
	_, err = su.SetACL(r+"/ro", zk.WorldACL(zk.PermAll), -1)
	check("super: setACL", err, nil)
	_, err = other.Set(r+"/ro", []byte("now writable"), -1)
	check("world all after super setACL: set", err, nil)

	// A credential for an unknown scheme fails authentication: the server
	// answers AuthFailed and closes the connection.
	bad, _ := connect(t, env.srv.Addr(), 4*time.Second)
	err = bad.AddAuth("nosuchscheme", []byte("x"))
	tr.err("addauth unknown scheme", err)
	assert.ErrorIs(t, err, zk.ErrAuthFailed)
	rc, _ := newRawSession(t, env.srv.Addr())
	res := rc.mustCall(t, 100, enc(nil).i32(0).str("nosuchscheme").buf([]byte("x")))
	assert.Equal(t, int32(-115), res.Err, "auth with an unknown scheme answers AuthFailed")
	select {
	case <-rc.readErr:
	case <-time.After(5 * time.Second):
		t.Errorf("the connection stayed open after AuthFailed")
	}
}

func scenarioSessionExpiry(t *testing.T, env *scenarioEnv) {
	proxy := newProxy(t, env.srv.Addr())
	// 2s: short enough to wait out, long enough that a loaded 2-CPU machine
	// does not make go-zookeeper drop the connection on a late ping.
	c, evs := connect(t, proxy.Addr(), 2*time.Second)
	obs, _ := connect(t, env.srv.Addr(), 4*time.Second)
	r := env.root
	_, err := c.Create(r+"/eph", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, w, err := obs.Exists(r + "/eph")
	require.NoError(t, err)
	require.NotNil(t, w)
	sid := c.SessionID()

	start := time.Now()
	proxy.Block(true)
	_, _, ch, err := obs.ExistsW(r + "/eph")
	require.NoError(t, err)
	e := waitEvent(t, ch, "ephemeral removal on expiry")
	elapsed := time.Since(start)
	env.tr.add("observer", e.Type.String())
	assert.Equal(t, zk.EventNodeDeleted, e.Type)
	assert.GreaterOrEqual(t, elapsed, 1200*time.Millisecond, "the session expired well before its 2s timeout")

	proxy.Block(false)
	deadline := time.After(15 * time.Second)
	for expired := false; !expired; {
		select {
		case e := <-evs:
			if e.State == zk.StateExpired {
				expired = true
			}
		case <-deadline:
			t.Fatalf("client never told its session %#x expired", sid)
		}
	}
	env.tr.add("client", "expired")
}

func scenarioSessionReconnect(t *testing.T, env *scenarioEnv) {
	proxy := newProxy(t, env.srv.Addr())
	c, evs := connect(t, proxy.Addr(), 4*time.Second)
	obs, _ := connect(t, env.srv.Addr(), 4*time.Second)
	r := env.root
	_, err := c.Create(r+"/eph", []byte("x"), zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, _, wch, err := c.GetW(r + "/eph")
	require.NoError(t, err)
	sid := c.SessionID()

	for i := 0; i < 3; i++ {
		proxy.CutAll()
		deadline := time.After(15 * time.Second)
		for back := false; !back; {
			select {
			case e := <-evs:
				require.NotEqual(t, zk.StateExpired, e.State, "session expired on a quick reconnect")
				if e.State == zk.StateHasSession {
					back = true
				}
			case <-deadline:
				t.Fatalf("no reconnect after cut %d", i)
			}
		}
		assert.Equal(t, sid, c.SessionID(), "reconnect kept the session")
	}
	_, st, err := obs.Get(r + "/eph")
	require.NoError(t, err, "the ephemeral survives reconnects")
	assert.Equal(t, sid, st.EphemeralOwner)
	// The watch was re-registered (setWatches) and still fires.
	_, err = obs.Set(r+"/eph", []byte("y"), -1)
	require.NoError(t, err)
	e := waitEvent(t, wch, "watch after reconnect")
	assert.Equal(t, zk.EventNodeDataChanged, e.Type)
	env.tr.add("watch after reconnect", e.Type.String())
	// A change made while disconnected is reported on reconnect by setWatches.
	_, _, wch, err = c.GetW(r + "/eph")
	require.NoError(t, err)
	proxy.Block(true)
	_, err = obs.Set(r+"/eph", []byte("z"), -1)
	require.NoError(t, err)
	proxy.Block(false)
	e = waitEvent(t, wch, "watch for a change missed while disconnected")
	assert.Equal(t, zk.EventNodeDataChanged, e.Type)
	env.tr.add("missed change", e.Type.String())
}

func scenarioContainerTTL(t *testing.T, env *scenarioEnv) {
	c, _ := connect(t, env.srv.Addr(), 4*time.Second)
	acl := zk.WorldACL(zk.PermAll)
	r := env.root
	_, err := c.CreateContainer(r+"/box", nil, zk.FlagContainer, acl)
	require.NoError(t, err)
	_, err = c.Create(r+"/box/item", nil, 0, acl)
	require.NoError(t, err)
	_, err = c.CreateContainer(r+"/empty", nil, zk.FlagContainer, acl)
	require.NoError(t, err)
	_, err = c.CreateTTL(r+"/short", nil, zk.FlagTTL, acl, 300*time.Millisecond)
	require.NoError(t, err)
	_, err = c.CreateTTL(r+"/long", nil, zk.FlagTTL, acl, time.Hour)
	require.NoError(t, err)
	_, err = c.CreateTTL(r+"/shortkids", nil, zk.FlagTTL, acl, 300*time.Millisecond)
	require.NoError(t, err)
	_, err = c.Create(r+"/shortkids/k", nil, 0, acl)
	require.NoError(t, err)
	_, err = c.CreateTTL(r+"/zero", nil, zk.FlagTTL, acl, 0)
	env.tr.err("ttl 0", err)
	assert.ErrorIs(t, err, zk.ErrBadArguments, "a TTL must be > 0")

	require.NoError(t, c.Delete(r+"/box/item", -1))
	gone := func(p string) bool {
		ok, _, err := c.Exists(p)
		require.NoError(t, err)
		return !ok
	}
	require.Eventually(t, func() bool { return gone(r + "/box") }, 15*time.Second, 100*time.Millisecond,
		"a container whose last child was deleted is removed (server checks every znode.container.checkIntervalMs=500)")
	require.Eventually(t, func() bool { return gone(r + "/short") }, 15*time.Second, 100*time.Millisecond,
		"an expired childless TTL node is removed")
	assert.False(t, gone(r+"/empty"), "a container that never had a child stays")
	assert.False(t, gone(r+"/long"), "an unexpired TTL node stays")
	assert.False(t, gone(r+"/shortkids"), "a TTL node with children stays")
	env.tr.add("container and ttl", "ok")
}

func scenarioExtras(t *testing.T, env *scenarioEnv) {
	c, _ := connect(t, env.srv.Addr(), 4*time.Second)
	acl := zk.WorldACL(zk.PermAll)
	r := env.root
	for _, p := range []string{"/a", "/a/b", "/a/b/c", "/d"} {
		_, err := c.Create(r+p, nil, 0, acl)
		require.NoError(t, err)
	}

	rc, _ := newRawSession(t, env.srv.Addr())
	// getAllChildrenNumber counts every descendant.
	res := rc.mustCall(t, opGetAllChildrenNumber, enc(nil).str(r))
	require.Equal(t, int32(errOK), res.Err)
	d := &dec{b: res.Body}
	n := d.i32()
	require.NoError(t, d.err)
	assert.Equal(t, int32(4), n)
	env.tr.add("getAllChildrenNumber", n)
	res = rc.mustCall(t, opGetAllChildrenNumber, enc(nil).str(r+"/nope"))
	env.tr.add("getAllChildrenNumber missing", res.Err)
	assert.Equal(t, int32(errNoNode), res.Err)

	// getEphemerals lists this session's ephemerals under a prefix.
	for _, p := range []string{"/a/e1", "/d/e2", "/e3"} {
		res := rc.mustCall(t, opCreate, createBody(r+p, nil, 1))
		require.Equal(t, int32(errOK), res.Err, "create ephemeral %s", p)
	}
	_, err := c.Create(r+"/a/notmine", nil, zk.FlagEphemeral, acl)
	require.NoError(t, err)
	ephemerals := func(prefix string) []string {
		res := rc.mustCall(t, opGetEphemerals, enc(nil).str(prefix))
		require.Equal(t, int32(errOK), res.Err)
		d := &dec{b: res.Body}
		var out []string
		for i, k := int32(0), d.i32(); i < k && d.err == nil; i++ {
			out = append(out, d.str())
		}
		require.NoError(t, d.err)
		sort.Strings(out)
		return out
	}
	all := ephemerals(r)
	assert.Equal(t, []string{r + "/a/e1", r + "/d/e2", r + "/e3"}, all)
	assert.Equal(t, []string{r + "/a/e1"}, ephemerals(r+"/a"))
	env.tr.add("getEphemerals", strings.Join(all, ","))

	// whoAmI reports ip and the digest user after addauth.
	whoami := func() []string {
		res := rc.mustCall(t, opWhoAmI, nil)
		require.Equal(t, int32(errOK), res.Err)
		d := &dec{b: res.Body}
		var out []string
		for i, k := int32(0), d.i32(); i < k && d.err == nil; i++ {
			out = append(out, d.str()+":"+d.str())
		}
		require.NoError(t, d.err)
		sort.Strings(out)
		return out
	}
	assert.Equal(t, []string{"ip:127.0.0.1"}, whoami())
	res = rc.mustCall(t, 100, enc(nil).i32(0).str("digest").buf([]byte("dave:pw")))
	require.Equal(t, int32(errOK), res.Err, "addauth digest dave")
	assert.Equal(t, []string{"digest:dave", "ip:127.0.0.1"}, whoami())
	env.tr.add("whoAmI", strings.Join(whoami(), ","))

	// sync answers with the path.
	p, err := c.Sync(r + "/a")
	require.NoError(t, err)
	assert.Equal(t, r+"/a", p)
	_, err = c.Sync(r + "/nope")
	env.tr.err("sync missing", err)

	// getChildren2 on a large fan-out returns everything.
	for i := 0; i < 50; i++ {
		_, err := c.Create(fmt.Sprintf("%s/d/k%02d", r, i), []byte("v"), 0, acl)
		require.NoError(t, err)
	}
	kids, st, err := c.Children(r + "/d")
	require.NoError(t, err)
	assert.Len(t, kids, 51)
	assert.Equal(t, int32(51), st.NumChildren)
}

func scenarioRawOps(t *testing.T, env *scenarioEnv) {
	c, _ := connect(t, env.srv.Addr(), 4*time.Second)
	acl := zk.WorldACL(zk.PermAll)
	r := env.root
	tr := env.tr
	_, err := c.Create(r+"/a", []byte("A"), 0, acl)
	require.NoError(t, err)
	_, err = c.Create(r+"/a/k", nil, 0, acl)
	require.NoError(t, err)
	rc, _ := newRawSession(t, env.srv.Addr())

	// multiRead: per-op results, errors inline, no abort.
	body := enc(nil).
		i32(opGetData).boolean(false).i32(-1).str(r + "/a").boolean(false).
		i32(opGetChildren).boolean(false).i32(-1).str(r + "/a").boolean(false).
		i32(opGetData).boolean(false).i32(-1).str(r + "/missing").boolean(false).
		i32(opGetChildren).boolean(false).i32(-1).str(r).boolean(false).
		i32(-1).boolean(true).i32(-1)
	res := rc.mustCall(t, opMultiRead, body)
	require.Equal(t, int32(errOK), res.Err, "multiRead")
	d := &dec{b: res.Body}
	var got []string
	for i := 0; i < 10 && d.err == nil; i++ {
		typ, done, e := d.i32(), d.boolean(), d.i32()
		if done {
			got = append(got, fmt.Sprintf("done type=%d err=%d", typ, e))
			break
		}
		switch typ {
		case opGetData:
			data := d.bytes()
			d.b = d.b[min(len(d.b), 68):] // Stat
			got = append(got, fmt.Sprintf("getData %q", data))
		case opGetChildren:
			n := d.i32()
			var kids []string
			for j := int32(0); j < n && d.err == nil; j++ {
				kids = append(kids, d.str())
			}
			got = append(got, fmt.Sprintf("getChildren %v", kids))
		case -1:
			got = append(got, fmt.Sprintf("error %d", d.i32()))
		default:
			got = append(got, fmt.Sprintf("type %d err %d", typ, e))
		}
	}
	require.NoError(t, d.err)
	tr.add("multiRead", strings.Join(got, "; "))
	assert.Equal(t, []string{`getData "A"`, "getChildren [k]", "error -101", "getChildren [a]", "done type=-1 err=-1"}, got)

	// checkWatches / removeWatches (type 1 children, 2 data, 3 any).
	res = rc.mustCall(t, opCheckWatches, enc(nil).str(r+"/a").i32(2))
	tr.add("checkWatches none", res.Err)
	assert.Equal(t, int32(errNoWatcher), res.Err)
	res = rc.mustCall(t, opGetData, enc(nil).str(r+"/a").boolean(true))
	require.Equal(t, int32(errOK), res.Err)
	res = rc.mustCall(t, opCheckWatches, enc(nil).str(r+"/a").i32(2))
	tr.add("checkWatches data", res.Err)
	assert.Equal(t, int32(errOK), res.Err)
	res = rc.mustCall(t, opCheckWatches, enc(nil).str(r+"/a").i32(1))
	tr.add("checkWatches children", res.Err)
	assert.Equal(t, int32(errNoWatcher), res.Err)
	res = rc.mustCall(t, opRemoveWatches, enc(nil).str(r+"/a").i32(3))
	tr.add("removeWatches any", res.Err)
	assert.Equal(t, int32(errOK), res.Err)
	// The server sends no event for a removal (the Java client makes the
	// DataWatchRemoved event itself), and the watch no longer fires.
	_, err = c.Set(r+"/a", []byte("B"), -1)
	require.NoError(t, err)
	rc.noEvent(t, 300*time.Millisecond)
	res = rc.mustCall(t, opRemoveWatches, enc(nil).str(r+"/a").i32(3))
	tr.add("removeWatches again", res.Err)
	assert.Equal(t, int32(errNoWatcher), res.Err)

	// Ordering: a client that reads the new value has seen the watch event
	// for the change first (the notification precedes the read's reply).
	for i := 0; i < 20; i++ {
		res = rc.mustCall(t, opGetData, enc(nil).str(r+"/a").boolean(true))
		require.Equal(t, int32(errOK), res.Err)
		want := fmt.Sprintf("v%d", i)
		_, err = c.Set(r+"/a", []byte(want), -1)
		require.NoError(t, err)
		res = rc.mustCall(t, opGetData, enc(nil).str(r+"/a").boolean(false))
		require.Equal(t, int32(errOK), res.Err)
		d := &dec{b: res.Body}
		require.Equal(t, want, string(d.bytes()))
		select {
		case ev := <-rc.events:
			assert.Less(t, ev.Frame, res.Frame, "round %d: the watch event came after the reply showing the new data", i)
			assert.Equal(t, int32(evNodeDataChanged), ev.Type)
		default:
			t.Fatalf("round %d: the read saw the new data but no watch event had arrived", i)
		}
	}

	// create2 answers with the new node's Stat.
	res = rc.mustCall(t, opCreate2, createBody(r+"/c2", []byte("xyz"), 0))
	require.Equal(t, int32(errOK), res.Err)
	d = &dec{b: res.Body}
	assert.Equal(t, r+"/c2", d.str())
	czxid, mzxid := d.i64(), d.i64()
	d.i64()
	d.i64()
	version, cversion, aversion, owner, dlen, nkids, pzxid := d.i32(), d.i32(), d.i32(), d.i64(), d.i32(), d.i32(), d.i64()
	require.NoError(t, d.err)
	_, st, err := c.Exists(r + "/c2")
	require.NoError(t, err)
	assert.Equal(t, []int64{st.Czxid, st.Mzxid, st.Pzxid, int64(st.Version), int64(st.Cversion), int64(st.Aversion), st.EphemeralOwner, int64(st.DataLength), int64(st.NumChildren)},
		[]int64{czxid, mzxid, pzxid, int64(version), int64(cversion), int64(aversion), owner, int64(dlen), int64(nkids)}, "create2 stat")
	tr.add("create2 reply zxid equals czxid", res.Zxid == czxid)

	// Null data stays null (length -1 on the wire); empty data stays empty.
	for _, tc := range []struct {
		name string
		data []byte
		want int32
	}{{"null", nil, -1}, {"empty", []byte{}, 0}} {
		res = rc.mustCall(t, opCreate, createBody(r+"/data-"+tc.name, tc.data, 0))
		require.Equal(t, int32(errOK), res.Err)
		res = rc.mustCall(t, opGetData, enc(nil).str(r+"/data-"+tc.name).boolean(false))
		require.Equal(t, int32(errOK), res.Err)
		d := &dec{b: res.Body}
		n := d.i32()
		tr.add("getData length of "+tc.name+" data", n)
		assert.Equal(t, tc.want, n, "%s data read back", tc.name)
	}

	// The /zookeeper system subtree.
	kids, _, err := c.Children("/zookeeper")
	require.NoError(t, err)
	sort.Strings(kids)
	tr.add("/zookeeper children", strings.Join(kids, ","))
	// (edge_cases may add a node here meanwhile.)
	assert.Subset(t, kids, []string{"config", "quota"})
}

// scenarioEdgeCases sends odd but well-formed requests and pins Apache's
// answer to each (error code and, for creates, the path returned).
func scenarioEdgeCases(t *testing.T, env *scenarioEnv) {
	rc, _ := newRawSession(t, env.srv.Addr())
	r := env.root
	acl := func(perms int32, scheme, id string) []byte { return enc(nil).i32(1).i32(perms).str(scheme).str(id) }
	create := func(path string, flags int32, aclBytes []byte) []byte {
		if aclBytes == nil {
			aclBytes = enc(nil).openACL()
		}
		return append(append(enc(nil).str(path).buf([]byte("d")), aclBytes...), enc(nil).i32(flags)...)
	}
	type tc struct {
		name string
		op   int32
		body []byte
		want int32
		path string // expected created path, when want is OK and op is create
	}
	cases := []tc{
		{"create under root-level sequential", opCreate, create(r+"/s", 2, nil), errOK, r + "/s0000000000"},
		{"create with zero perms", opCreate, create(r+"/zero-perms", 0, acl(0, "world", "anyone")), errOK, r + "/zero-perms"},
		{"create with perms beyond ALL", opCreate, create(r+"/big-perms", 0, acl(0x7f, "world", "anyone")), errOK, r + "/big-perms"},
		{"create world with an id other than anyone", opCreate, create(r+"/world-bob", 0, acl(31, "world", "bob")), -114, ""},
		{"create with an unknown flag value", opCreate, create(r+"/flag9", 9, nil), errBadArguments, ""},
		{"create ttl flag through plain create", opCreate, create(r+"/ttl-plain", 5, nil), errBadArguments, ""},
		{"create container flag through plain create", opCreate, create(r+"/cont-plain", 4, nil), errOK, r + "/cont-plain"},
		{"create /zookeeper/x", opCreate, create("/zookeeper/x-"+r[1:], 0, nil), errOK, "/zookeeper/x-" + r[1:]},
		{"delete /zookeeper", opDelete, enc(nil).str("/zookeeper").i32(-1), errBadArguments, ""},
		{"delete /", opDelete, enc(nil).str("/").i32(-1), errBadArguments, ""},
		{"create /", opCreate, create("/", 0, nil), errNodeExists, ""},
		{"setData on /zookeeper/config", opSetData, enc(nil).str("/zookeeper/config").buf([]byte("x")).i32(-1), errNoAuth, ""},
		{"setData with version -2", opSetData, enc(nil).str(r).buf([]byte("x")).i32(-2), errBadVersion, ""},
		{"getChildren on a missing node", opGetChildren, enc(nil).str(r + "/nope").boolean(true), errNoNode, ""},
	}
	for _, c := range cases {
		res := rc.mustCall(t, c.op, c.body)
		got := ""
		if res.Err == errOK && c.op == opCreate {
			d := &dec{b: res.Body}
			got = d.str()
		}
		env.tr.add(c.name, fmt.Sprintf("err=%d path=%s", res.Err, got))
		assert.Equal(t, c.want, res.Err, c.name)
		if c.path != "" {
			assert.Equal(t, c.path, got, c.name)
		}
	}
	// Flag 4 through a plain create (opcode 1, not createContainer) succeeds
	// but Apache logs it as a plain CreateTxn, which has no owner field: the
	// node is persistent, not a container, and outlives its last child.
	res := rc.mustCall(t, opCreate, create(r+"/cont-plain/kid", 0, nil))
	require.Equal(t, int32(errOK), res.Err)
	res = rc.mustCall(t, opDelete, enc(nil).str(r+"/cont-plain/kid").i32(-1))
	require.Equal(t, int32(errOK), res.Err)
	time.Sleep(1500 * time.Millisecond) // three container-check intervals
	res = rc.mustCall(t, opGetData, enc(nil).str(r+"/cont-plain").boolean(false))
	env.tr.add("plain-created container after its child went", res.Err)
	assert.Equal(t, int32(errOK), res.Err, "flag 4 through a plain create behaves as a persistent node")
}

func strVec(e enc, items ...string) enc {
	e = e.i32(int32(len(items)))
	for _, it := range items {
		e = e.str(it)
	}
	return e
}

// scenarioSetWatches2: watches belong to the connection; a client that
// resumes its session re-registers them with setWatches2, including
// persistent and recursive ones, and a data watch older than a change fires
// at once.
func scenarioSetWatches2(t *testing.T, env *scenarioEnv) {
	c, _ := connect(t, env.srv.Addr(), 4*time.Second)
	acl := zk.WorldACL(zk.PermAll)
	r := env.root
	_, err := c.Create(r+"/d", []byte("1"), 0, acl)
	require.NoError(t, err)

	rc, resp := newRawSession(t, env.srv.Addr())
	res := rc.mustCall(t, opAddWatch, enc(nil).str(r).i32(addWatchPersistentRecursive))
	require.Equal(t, int32(errOK), res.Err)
	res = rc.mustCall(t, opGetData, enc(nil).str(r+"/d").boolean(false))
	require.Equal(t, int32(errOK), res.Err)
	lastZxid := res.Zxid
	rc.c.Close()

	// While disconnected: a change to /d.
	_, err = c.Set(r+"/d", []byte("2"), -1)
	require.NoError(t, err)

	// Resumed without setWatches: the old connection's watches are gone.
	rc2, again := resumeRawSession(t, env.srv.Addr(), resp.SessionID, resp.Passwd)
	require.Equal(t, resp.SessionID, again.SessionID)
	_, err = c.Create(r+"/a", nil, 0, acl)
	require.NoError(t, err)
	rc2.noEvent(t, 300*time.Millisecond)

	// setWatches2: a data watch on /d from before the change fires at once;
	// the recursive watch on the root is back.
	body := strVec(strVec(strVec(strVec(strVec(enc(nil).i64(lastZxid), r+"/d"), r+"/missing"), r), nil...), r)
	res, err = rc2.callXid(-8, opSetWatches2, body)
	require.NoError(t, err)
	require.Equal(t, int32(errOK), res.Err, "setWatches2")
	got := rc2.nextEvent(t, 5*time.Second)
	env.tr.add("setWatches2 stale data watch", fmt.Sprintf("type=%d path=%s", got.Type, strings.TrimPrefix(got.Path, r)))
	assert.Equal(t, watchEvent{Type: evNodeDataChanged, State: 3, Path: r + "/d"}, got)
	// The child watch on the root (set at lastZxid) sees /a was created since.
	got = rc2.nextEvent(t, 5*time.Second)
	env.tr.add("setWatches2 stale child watch", fmt.Sprintf("type=%d path=%s", got.Type, strings.TrimPrefix(got.Path, r)))
	assert.Equal(t, watchEvent{Type: evNodeChildrenChanged, State: 3, Path: r}, got)
	rc2.noEvent(t, 300*time.Millisecond)

	_, err = c.Create(r+"/missing", nil, 0, acl)
	require.NoError(t, err)
	// The exist watch and the recursive watch both match the create, but a
	// connection gets one notification per change.
	got = rc2.nextEvent(t, 5*time.Second)
	env.tr.add("after setWatches2 create", fmt.Sprintf("type=%d path=%s", got.Type, strings.TrimPrefix(got.Path, r)))
	assert.Equal(t, watchEvent{Type: evNodeCreated, State: 3, Path: r + "/missing"}, got)
	rc2.noEvent(t, 300*time.Millisecond)
	_, err = c.Create(r+"/a/deep", nil, 0, acl)
	require.NoError(t, err)
	got = rc2.nextEvent(t, 5*time.Second)
	assert.Equal(t, watchEvent{Type: evNodeCreated, State: 3, Path: r + "/a/deep"}, got, "the recursive watch is back")
	rc2.noEvent(t, 300*time.Millisecond)
}

// scenarioChildrenOrder records the order getChildren returns. Apache does
// not sort (the order is its HashSet's) and zkCli's ls prints it as is, so
// compare/children_order holds zkd to the same order; the scenario itself
// only checks the set.
func scenarioChildrenOrder(t *testing.T, env *scenarioEnv) {
	c, _ := connect(t, env.srv.Addr(), 4*time.Second)
	var want []string
	for _, name := range []string{"broker-1", "zeta", "a", "topics", "controller", "ids", "k00", "k17", "k42", "seq-0000000010", "seq-0000000009", "Z", "_x", "0"} {
		_, err := c.Create(env.root+"/"+name, nil, 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err)
		want = append(want, name)
	}
	kids, _, err := c.Children(env.root)
	require.NoError(t, err)
	env.tr.add("children order", strings.Join(kids, ","))
	sort.Strings(kids)
	sort.Strings(want)
	assert.Equal(t, want, kids)
}

// TestChildrenOrderAcrossRestart: the getChildren order (Apache's HashSet
// order) after creates, deletes and growth, and again after a restart that
// rebuilds the tree from the snapshot and log, is the same on both servers.
func TestChildrenOrderAcrossRestart(t *testing.T) {
	orders := map[string][]string{}
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			srv := StartServer(t, kind, ServerOptions{SnapCount: 30})
			c, _ := connect(t, srv.Addr(), 4*time.Second)
			acl := zk.WorldACL(zk.PermAll)
			_, err := c.Create("/o", nil, 0, acl)
			require.NoError(t, err)
			var rec []string
			record := func(label string, c *zk.Conn) {
				kids, _, err := c.Children("/o")
				require.NoError(t, err)
				rec = append(rec, label+": "+strings.Join(kids, ","))
			}
			for i := 0; i < 40; i++ {
				_, err := c.Create(fmt.Sprintf("/o/n-%d-%s", i*7919%1000, strings.Repeat("x", i%5)), nil, 0, acl)
				require.NoError(t, err)
			}
			record("40 created", c)
			for i := 0; i < 40; i += 4 {
				require.NoError(t, c.Delete(fmt.Sprintf("/o/n-%d-%s", i*7919%1000, strings.Repeat("x", i%5)), -1))
			}
			record("10 deleted", c)
			c.Close()
			srv.Stop()
			srv.Restart()
			c2, _ := connect(t, srv.Addr(), 4*time.Second)
			record("after restart", c2)
			for i := 0; i < 5; i++ {
				_, err := c2.Create(fmt.Sprintf("/o/late%d", i), nil, 0, acl)
				require.NoError(t, err)
			}
			record("5 more", c2)
			orders[kind] = rec
		})
	}
	if orders[kindZkd] == nil || orders[kindApache] == nil {
		t.Skip("needs both servers")
	}
	for i := range orders[kindApache] {
		assert.Equal(t, orders[kindApache][i], orders[kindZkd][i])
	}
}

// scenarioMultiRollbackACL: a multi that deletes a node and then fails
// leaves the node exactly as it was, ACL included (found by the
// differential test).
func scenarioMultiRollbackACL(t *testing.T, env *scenarioEnv) {
	c, _ := connect(t, env.srv.Addr(), 4*time.Second)
	require.NoError(t, c.AddAuth("digest", []byte("alice:pw")))
	su, _ := connect(t, env.srv.Addr(), 4*time.Second)
	require.NoError(t, su.AddAuth("digest", []byte(superUser+":"+superSecret)))
	r := env.root
	for _, flags := range []int32{0, zk.FlagEphemeral} {
		p := fmt.Sprintf("%s/n%d", r, flags)
		_, err := c.Create(p, []byte("v"), flags, zk.WorldACL(zk.PermAll))
		require.NoError(t, err)
		_, err = c.SetACL(p, zk.DigestACL(zk.PermAll, "bob", "pw"), -1)
		require.NoError(t, err)
		_, _, err = c.Get(p)
		require.ErrorIs(t, err, zk.ErrNoAuth)
		_, before, err := c.Exists(p)
		require.NoError(t, err)
		_, err = c.Multi(
			&zk.DeleteRequest{Path: p, Version: 0},
			&zk.CheckVersionRequest{Path: r + "/missing", Version: 1},
		)
		require.ErrorIs(t, err, zk.ErrNoNode)
		_, _, err = c.Get(p)
		env.tr.err(fmt.Sprintf("get after rolled-back delete (flags %d)", flags), err)
		assert.ErrorIs(t, err, zk.ErrNoAuth, "flags %d: the rolled-back delete lost the node's ACL", flags)
		// getACL needs READ or ADMIN: ask as the super user.
		acl, after, err := su.GetACL(p)
		require.NoError(t, err)
		assert.Equal(t, zk.DigestACL(zk.PermAll, "bob", "pw"), acl, "flags %d", flags)
		assert.Equal(t, *before, *after, "flags %d: Stat changed by a rolled-back multi", flags)
	}
}

// scenarioWatchACL: a notification is only delivered to a session allowed to
// READ the node when it fires (Apache 3.8 checks the ACL at delivery); the
// watch is used up either way. Found by the differential test.
func scenarioWatchACL(t *testing.T, env *scenarioEnv) {
	c, _ := connect(t, env.srv.Addr(), 4*time.Second)
	require.NoError(t, c.AddAuth("digest", []byte("alice:pw")))
	rc, _ := newRawSession(t, env.srv.Addr()) // unauthenticated watcher
	r := env.root
	n := r + "/n"
	_, err := c.Create(n, []byte("v"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	res := rc.mustCall(t, opGetData, enc(nil).str(n).boolean(true))
	require.Equal(t, int32(errOK), res.Err)
	res = rc.mustCall(t, opGetChildren, enc(nil).str(n).boolean(true))
	require.Equal(t, int32(errOK), res.Err)

	_, err = c.SetACL(n, zk.DigestACL(zk.PermAll, "alice", "pw"), -1)
	require.NoError(t, err)
	_, err = c.Set(n, []byte("w"), -1)
	require.NoError(t, err)
	_, err = c.Create(n+"/k", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	rc.noEvent(t, 500*time.Millisecond)
	env.tr.add("events without READ", "none")

	// The watches were used up: with the ACL open again, no late event.
	_, err = c.SetACL(n, zk.WorldACL(zk.PermAll), -1)
	require.NoError(t, err)
	_, err = c.Set(n, []byte("x"), -1)
	require.NoError(t, err)
	rc.noEvent(t, 300*time.Millisecond)

	// A watch set now is delivered as usual.
	res = rc.mustCall(t, opGetData, enc(nil).str(n).boolean(true))
	require.Equal(t, int32(errOK), res.Err)
	_, err = c.Set(n, []byte("y"), -1)
	require.NoError(t, err)
	got := rc.nextEvent(t, 5*time.Second)
	assert.Equal(t, watchEvent{Type: evNodeDataChanged, State: 3, Path: n}, got)

	// An exists watch on a missing node that is then created with an ACL
	// the watcher cannot read is not delivered either.
	res = rc.mustCall(t, opExists, enc(nil).str(r+"/secret").boolean(true))
	require.Equal(t, int32(errNoNode), res.Err)
	_, err = c.Create(r+"/secret", nil, 0, zk.DigestACL(zk.PermAll, "alice", "pw"))
	require.NoError(t, err)
	rc.noEvent(t, 500*time.Millisecond)
	env.tr.add("exists watch on a created unreadable node", "none")

	// Persistent and recursive watches are filtered the same way, by the
	// ACL of the node that changed.
	_, err = c.Create(r+"/rec", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	res = rc.mustCall(t, opAddWatch, enc(nil).str(r+"/rec").i32(addWatchPersistentRecursive))
	require.Equal(t, int32(errOK), res.Err)
	_, err = c.Create(r+"/rec/secret", nil, 0, zk.DigestACL(zk.PermAll, "alice", "pw"))
	require.NoError(t, err)
	_, err = c.Set(r+"/rec/secret", []byte("x"), -1)
	require.NoError(t, err)
	_, err = c.Create(r+"/rec/open", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	got = rc.nextEvent(t, 5*time.Second)
	assert.Equal(t, watchEvent{Type: evNodeCreated, State: 3, Path: r + "/rec/open"}, got, "only the readable child's event reaches the recursive watcher")
	rc.noEvent(t, 300*time.Millisecond)

	res = rc.mustCall(t, opAddWatch, enc(nil).str(r+"/p").i32(addWatchPersistent))
	require.Equal(t, int32(errOK), res.Err)
	_, err = c.Create(r+"/p", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	got = rc.nextEvent(t, 5*time.Second)
	assert.Equal(t, watchEvent{Type: evNodeCreated, State: 3, Path: r + "/p"}, got)
	_, err = c.SetACL(r+"/p", zk.DigestACL(zk.PermAll, "alice", "pw"), -1)
	require.NoError(t, err)
	_, err = c.Set(r+"/p", []byte("x"), -1)
	require.NoError(t, err)
	_, err = c.Create(r+"/p/k", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	rc.noEvent(t, 500*time.Millisecond)
	env.tr.add("persistent watch on a node made unreadable", "none")
}

// scenarioTTLTouch: a TTL counts from the node's last modification, and a
// TTL node is only removed when it has no children.
func scenarioTTLTouch(t *testing.T, env *scenarioEnv) {
	c, _ := connect(t, env.srv.Addr(), 4*time.Second)
	acl := zk.WorldACL(zk.PermAll)
	r := env.root
	start := time.Now()
	_, err := c.CreateTTL(r+"/t", nil, zk.FlagTTL, acl, 3*time.Second)
	require.NoError(t, err)
	time.Sleep(2 * time.Second)
	_, err = c.Set(r+"/t", []byte("touch"), -1)
	require.NoError(t, err)
	touched := time.Since(start)
	time.Sleep(time.Until(start.Add(3500 * time.Millisecond)))
	if time.Since(start) < touched+3*time.Second-200*time.Millisecond {
		ok, _, err := c.Exists(r + "/t")
		require.NoError(t, err)
		assert.True(t, ok, "a TTL node was removed less than its TTL after its last change")
	}
	require.Eventually(t, func() bool {
		ok, _, err := c.Exists(r + "/t")
		return err == nil && !ok
	}, 15*time.Second, 100*time.Millisecond, "the TTL node never expired after its last change")
	env.tr.add("ttl touched then expired", "ok")
}
