package tree

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/proto/jute"
)

func TestValidatePath(t *testing.T) {
	ok := []string{"/", "/a", "/a/b", "/a.b", "/..a", "/a/...", "/zookeeper", "/a b", "/ü"}
	bad := []string{"", "a", "/a/", "//", "/a//b", "/.", "/..", "/a/.", "/a/..", "/a/./b", "/a/../b",
		"/a\x00", "/a\x01", "/a\u007f", "/a\u0085", "/a\ue000", "/a\ufff5", "/a\U0001F600"}
	for _, p := range ok {
		assert.NoError(t, ValidatePath(p), p)
	}
	for _, p := range bad {
		assert.ErrorIs(t, ValidatePath(p), ErrBadPath, "%q", p)
	}
}

func TestPasswordIsJavaRandom(t *testing.T) {
	// new java.util.Random(0).nextInt() is -1155484576, then -723955400;
	// nextBytes writes each int low byte first. Seed 0 is sessionID == superSecret.
	p := Password(superSecret)
	assert.Equal(t, []byte{96, 180, 32, 187, 56, 81, 217, 212}, p[:8])
	assert.Len(t, p, 16)
	assert.NotEqual(t, Password(1), Password(2))
}

func TestInitialSessionID(t *testing.T) {
	id := InitialSessionID(0x0123456789AB, 5)
	assert.Equal(t, int64(5), id>>56)
	assert.Equal(t, int64(0x23456789AB0000), id&0x00FFFFFFFFFFFFFF)
}

func req(op jute.Op, body jute.Record) *Request {
	return &Request{Session: 0x77, Cxid: 1, Op: op, Body: body}
}

func TestStatRulesAndEvents(t *testing.T) {
	tr := New()
	zxid := int64(0)
	do := func(op jute.Op, body jute.Record) Result {
		zxid++
		_, r := tr.Prepare(req(op, body), zxid, 1000+zxid)
		return r
	}
	tr.Watches.AddChild("/", 1)
	tr.Watches.AddData("/a", 2)
	r := do(jute.OpCreate, &jute.CreateRequest{Path: "/a", Data: []byte("x"), ACL: jute.OpenACLUnsafe})
	require.Equal(t, jute.ErrOK, r.Err)
	evs := tr.TakeEvents()
	assert.Equal(t, []Delivery{
		{Watcher: 2, Event: jute.WatcherEvent{Type: jute.EventNodeCreated, State: 3, Path: "/a"}, ACL: jute.OpenACLUnsafe},
		{Watcher: 1, Event: jute.WatcherEvent{Type: jute.EventNodeChildrenChanged, State: 3, Path: "/"}, ACL: jute.OpenACLUnsafe},
	}, evs)
	assert.Empty(t, tr.TakeEvents(), "one-shot watches are gone")

	r = do(jute.OpCreate, &jute.CreateRequest{Path: "/a/b", ACL: jute.OpenACLUnsafe, Flags: jute.FlagEphemeral})
	require.Equal(t, jute.ErrOK, r.Err)
	a := StatOf(tr.Get("/a"))
	assert.Equal(t, int32(1), a.Cversion)
	assert.Equal(t, int64(2), a.Pzxid)
	assert.Equal(t, int64(1), a.Mzxid)
	assert.Equal(t, []string{"/a/b"}, tr.Ephemerals(0x77))

	r = do(jute.OpDelete, &jute.PathVersionRequest{Path: "/a/b", Version: -1})
	require.Equal(t, jute.ErrOK, r.Err)
	a = StatOf(tr.Get("/a"))
	assert.Equal(t, int32(2), a.Cversion, "clients see 2*creates - children")
	assert.Equal(t, int32(1), tr.Get("/a").Stat.Cversion, "the persisted cversion counts creates")
	assert.Equal(t, int64(3), a.Pzxid)
	assert.Empty(t, tr.Ephemerals(0x77))

	r = do(jute.OpSetData, &jute.SetDataRequest{Path: "/a", Data: []byte("yy"), Version: 0})
	require.Equal(t, jute.ErrOK, r.Err)
	assert.Equal(t, int32(1), r.Stat.Version)
	assert.Equal(t, int64(4), r.Stat.Mzxid)
	assert.Equal(t, int64(1004), r.Stat.Mtime)
	assert.Equal(t, int64(1001), r.Stat.Ctime)

	r = do(jute.OpSetData, &jute.SetDataRequest{Path: "/a", Version: 0})
	assert.Equal(t, jute.ErrBadVersion, r.Err)
	assert.Equal(t, int64(5), tr.LastZxid(), "failed writes consume a zxid")
}

func TestMultiRollbackLeavesTreeUntouched(t *testing.T) {
	tr := New()
	_, r := tr.Prepare(req(jute.OpCreate, &jute.CreateRequest{Path: "/x", ACL: jute.OpenACLUnsafe}), 1, 1)
	require.Equal(t, jute.ErrOK, r.Err)
	tr.TakeEvents()
	before := dumpTree(t, tr)
	tr.Watches.AddData("/x", 9)
	e, r := tr.Prepare(req(jute.OpMulti, &MultiRequest{Ops: []MultiOp{
		{Op: jute.OpCreate, Body: &jute.CreateRequest{Path: "/x/1", ACL: jute.OpenACLUnsafe}},
		{Op: jute.OpSetData, Body: &jute.SetDataRequest{Path: "/x", Data: []byte("new"), Version: -1}},
		{Op: jute.OpDelete, Body: &jute.PathVersionRequest{Path: "/x", Version: -1}}, // NotEmpty
		{Op: jute.OpCreate, Body: &jute.CreateRequest{Path: "/y", ACL: jute.OpenACLUnsafe}},
	}}), 2, 2)
	assert.Equal(t, jute.ErrNotEmpty, r.Err)
	var codes []jute.Err
	for _, m := range r.Multi {
		codes = append(codes, m.Err)
	}
	assert.Equal(t, []jute.Err{0, 0, jute.ErrNotEmpty, jute.ErrRuntimeInconsistency}, codes)
	assert.Empty(t, tr.TakeEvents(), "a failed multi fires no watch")
	assert.Equal(t, before, dumpTree(t, tr), "a failed multi changes no znode")
	assert.Equal(t, int64(2), tr.LastZxid())

	// Replaying the logged txn on a copy gives the same result.
	replica := New()
	replica.Apply(&jute.TxnEntry{Header: jute.TxnHeader{ClientID: 0x77, Zxid: 1, Time: 1, Type: jute.OpCreate},
		Txn: &jute.CreateTxn{Path: "/x", ACL: jute.OpenACLUnsafe, ParentCVersion: 1}})
	rr := replica.Apply(e)
	assert.Equal(t, r.Err, rr.Err)
	assert.Equal(t, dumpTree(t, tr), dumpTree(t, replica))
}

func TestSessionsBuckets(t *testing.T) {
	s := NewSessions(100, 0, 1)
	a, b := s.NextID(), s.NextID()
	s.Add(a, 300, 0) // expires at bucket 400
	s.Add(b, 1000, 0)
	assert.Empty(t, s.Expired(399))
	assert.Equal(t, []int64{a}, s.Expired(400))
	assert.False(t, s.Touch(a, 300, 400), "a closing session cannot be touched")
	assert.True(t, s.Touch(b, 1000, 500)) // now expires at 1600
	assert.Empty(t, s.Expired(1500))
	assert.Equal(t, []int64{b}, s.Expired(1600))
	s.Remove(a)
	assert.Nil(t, s.Get(a))
}

func TestACLCheck(t *testing.T) {
	digest := jute.ID{Scheme: "digest", ID: Digest("u:p")}
	acl := []jute.ACL{{Perms: jute.PermRead, ID: jute.WorldAnyone}, {Perms: jute.PermAll, ID: digest},
		{Perms: jute.PermWrite, ID: jute.ID{Scheme: "ip", ID: "10.1.0.0/16"}}}
	anon := Auth{IDs: []jute.ID{{Scheme: "ip", ID: "127.0.0.1"}}}
	assert.NoError(t, Check(acl, jute.PermRead, anon))
	assert.ErrorIs(t, Check(acl, jute.PermWrite, anon), jute.ErrNoAuth)
	assert.NoError(t, Check(acl, jute.PermWrite, Auth{IDs: []jute.ID{{Scheme: "ip", ID: "10.1.2.3"}}}))
	assert.ErrorIs(t, Check(acl, jute.PermWrite, Auth{IDs: []jute.ID{{Scheme: "ip", ID: "10.2.2.3"}}}), jute.ErrNoAuth)
	assert.NoError(t, Check(acl, jute.PermAdmin, Auth{IDs: []jute.ID{digest}}))
	assert.NoError(t, Check(acl, jute.PermAdmin, Auth{IDs: []jute.ID{{Scheme: "super"}}}))
	assert.NoError(t, Check(nil, jute.PermAdmin, anon), "an empty ACL allows everything")

	_, err := FixupACL(jute.CreatorAllACL, anon)
	assert.ErrorIs(t, err, jute.ErrInvalidACL)
	fixed, err := FixupACL(jute.CreatorAllACL, Auth{IDs: []jute.ID{anon.IDs[0], digest}})
	require.NoError(t, err)
	assert.Equal(t, []jute.ACL{{Perms: jute.PermAll, ID: digest}}, fixed)
	_, err = FixupACL([]jute.ACL{{Perms: 1, ID: jute.ID{Scheme: "ip", ID: "300.1.1.1"}}}, anon)
	assert.ErrorIs(t, err, jute.ErrInvalidACL)
	_, err = FixupACL([]jute.ACL{{Perms: 1, ID: jute.ID{Scheme: "world", ID: "someone"}}}, anon)
	assert.ErrorIs(t, err, jute.ErrInvalidACL)
	for id, valid := range map[string]bool{"u:h": true, ":h": true, "u:": false, "u": false, "a:b:c": false} {
		_, err = FixupACL([]jute.ACL{{Perms: 1, ID: jute.ID{Scheme: "digest", ID: id}}}, anon)
		assert.Equal(t, valid, err == nil, "digest id %q (Java split rules)", id)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	tr := New()
	zxid := int64(0)
	for _, p := range []string{"/a", "/a/b", "/c"} {
		zxid++
		_, r := tr.Prepare(&Request{Session: 5, Op: jute.OpCreate, Body: &jute.CreateRequest{Path: p, Data: []byte(p),
			ACL: []jute.ACL{{Perms: jute.PermRead | jute.PermCreate, ID: jute.WorldAnyone}}, Flags: map[bool]int32{true: 1}[p == "/c"]}}, zxid, zxid)
		require.Equal(t, jute.ErrOK, r.Err)
	}
	l := NewLoader()
	tr.ACLEntries(func(ref int64, acl []jute.ACL) { l.ACL(ref, acl) })
	require.NoError(t, tr.WalkNodes(l.Node))
	back, err := l.Tree()
	require.NoError(t, err)
	assert.Equal(t, dumpTree(t, tr), dumpTree(t, back))
	assert.Equal(t, []string{"/c"}, back.Ephemerals(5))
	assert.Equal(t, tr.NodeCount(), back.NodeCount())
}

func dumpTree(t *testing.T, tr *Tree) string {
	var b bytes.Buffer
	require.NoError(t, tr.WalkNodes(func(path string, n *jute.DataNode) error {
		fmt.Fprintf(&b, "%s %q %v %+v\n", path, n.Data, tr.acls.get(n.ACL), n.Stat)
		return nil
	}))
	return b.String()
}

// TestWatchModeLatestWins pins Apache 3.8.0's WatcherModeManager behaviour
// (checked with a raw client): a one-shot watch registered after addWatch on
// the same path replaces the persistent mode in that table.
func TestWatchModeLatestWins(t *testing.T) {
	tr := New()
	zxid := int64(0)
	create := func(p string) {
		zxid++
		_, r := tr.Prepare(req(jute.OpCreate, &jute.CreateRequest{Path: p, ACL: jute.OpenACLUnsafe}), zxid, zxid)
		require.Equal(t, jute.ErrOK, r.Err)
	}
	tr.Watches.AddPersistent("/r", 1, jute.AddWatchPersistentRecursive)
	tr.Watches.AddData("/r", 1) // exists watch: the data table's mode becomes one-shot
	create("/r")
	assert.Equal(t, []Delivery{{Watcher: 1, Event: jute.WatcherEvent{Type: jute.EventNodeCreated, State: 3, Path: "/r"}, ACL: jute.OpenACLUnsafe}}, tr.TakeEvents())
	create("/r/a") // data table: nothing left; child table: recursive skips NodeChildrenChanged
	assert.Empty(t, tr.TakeEvents())
	assert.False(t, tr.Watches.Contains("/r", 1, jute.WatcherData))
	assert.True(t, tr.Watches.Contains("/r", 1, jute.WatcherChildren))
	assert.True(t, tr.Watches.Contains("/r", 2, jute.WatcherChildren), "Apache's containsWatcher matches any watcher at the path")

	_, err := tr.SetWatches(3, &jute.SetWatches{RelativeZxid: 100, DataWatches: []string{"/r"}, ExistWatches: nil})
	assert.ErrorIs(t, err, ErrNullWatchList)
	assert.True(t, tr.Watches.Contains("/r", 3, jute.WatcherData), "lists before the null one are applied")
}

// TestChildrenInJavaHashSetOrder: Apache 3.8.0 listed these children, created
// in this order, as the expected string (captured by the integration suite).
func TestChildrenInJavaHashSetOrder(t *testing.T) {
	var s childSet
	for _, n := range []string{"broker-1", "zeta", "a", "topics", "controller", "ids", "k00", "k17", "k42",
		"seq-0000000010", "seq-0000000009", "Z", "_x", "0"} {
		require.True(t, s.add(n))
	}
	assert.Equal(t, []string{"zeta", "a", "controller", "topics", "seq-0000000009", "k42", "k00", "broker-1", "k17",
		"0", "ids", "_x", "Z", "seq-0000000010"}, s.list())
	assert.False(t, s.add("a"))
	assert.True(t, s.remove("k42"))
	assert.False(t, s.has("k42"))
	assert.Equal(t, 13, s.size)
	assert.Equal(t, int32(3556653), javaStringHash("text"))
	assert.Equal(t, javaStringHash("ü"), int32(252))
}

// TestEphemeralsInApacheOrder: getEphemerals (a clone of the session's Java
// HashSet) and the closeSession txn list paths in the order Apache 3.8.0
// gave for this history (captured with a raw-client probe).
func TestEphemeralsInApacheOrder(t *testing.T) {
	tr := New()
	zxid := int64(0)
	for i := 0; i < 20; i++ {
		zxid++
		_, r := tr.Prepare(&Request{Session: 7, Op: jute.OpCreate, Body: &jute.CreateRequest{
			Path: fmt.Sprintf("/eph-%d-node", i*7), ACL: jute.OpenACLUnsafe, Flags: jute.FlagEphemeral}}, zxid, zxid)
		require.Equal(t, jute.ErrOK, r.Err)
	}
	zxid++
	_, r := tr.Prepare(&Request{Session: 7, Op: jute.OpDelete, Body: &jute.PathVersionRequest{Path: "/eph-14-node", Version: -1}}, zxid, zxid)
	require.Equal(t, jute.ErrOK, r.Err)
	want := "/eph-133-node,/eph-112-node,/eph-77-node,/eph-98-node,/eph-105-node,/eph-42-node,/eph-126-node,/eph-0-node," +
		"/eph-21-node,/eph-91-node,/eph-63-node,/eph-7-node,/eph-56-node,/eph-84-node,/eph-119-node,/eph-35-node," +
		"/eph-28-node,/eph-49-node,/eph-70-node"
	assert.Equal(t, want, strings.Join(tr.Ephemerals(7), ","))
	tr.TakeEvents()
	zxid++
	e, _ := tr.Prepare(&Request{Session: 7, Op: jute.OpCloseSession}, zxid, zxid)
	assert.Equal(t, want, strings.Join(e.Txn.(*jute.CloseSessionTxn).Paths2Delete, ","))
	assert.Empty(t, tr.EphemeralsBySession())
}
