package server

import (
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateGetSetDeleteStats(t *testing.T) {
	s := startServer(t, testConfig(t))
	c := connect(t, s)

	p, err := c.Create("/a", []byte("hello"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	assert.Equal(t, "/a", p)
	data, st, err := c.Get("/a")
	require.NoError(t, err)
	assert.Equal(t, "hello", string(data))
	createZxid := st.Czxid
	assert.Equal(t, st.Czxid, st.Mzxid)
	assert.Equal(t, st.Czxid, st.Pzxid)
	assert.Equal(t, int32(0), st.Version)
	assert.Equal(t, int32(0), st.Cversion)
	assert.Equal(t, int32(0), st.Aversion)
	assert.Equal(t, int64(0), st.EphemeralOwner)
	assert.Equal(t, int32(5), st.DataLength)
	assert.Equal(t, int32(0), st.NumChildren)
	assert.Equal(t, st.Ctime, st.Mtime)

	_, err = c.Create("/a/b", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, bst, err := c.Exists("/a/b")
	require.NoError(t, err)
	_, st, err = c.Get("/a")
	require.NoError(t, err)
	assert.Equal(t, int32(1), st.Cversion, "child create bumps cversion")
	assert.Equal(t, bst.Czxid, st.Pzxid, "pzxid is the zxid of the last child change")
	assert.Equal(t, createZxid, st.Mzxid, "child create leaves mzxid")
	assert.Equal(t, int32(1), st.NumChildren)

	require.NoError(t, c.Delete("/a/b", -1))
	_, st, err = c.Get("/a")
	require.NoError(t, err)
	assert.Equal(t, int32(2), st.Cversion, "a child delete raises the reported cversion (2*creates - children)")
	assert.Greater(t, st.Pzxid, bst.Czxid, "child delete moves pzxid")
	assert.Equal(t, int32(0), st.NumChildren)

	seq, err := c.Create("/a/s-", nil, zk.FlagSequence, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	assert.Equal(t, "/a/s-0000000001", seq, "sequence comes from the parent's cversion")
	seq, err = c.Create("/a/s-", nil, zk.FlagSequence, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	assert.Equal(t, "/a/s-0000000002", seq)

	st, err = c.Set("/a", []byte("x"), 0)
	require.NoError(t, err)
	assert.Equal(t, int32(1), st.Version)
	assert.Greater(t, st.Mzxid, st.Czxid)
	assert.Equal(t, int32(1), st.DataLength)
	_, err = c.Set("/a", []byte("y"), 0)
	assert.ErrorIs(t, err, zk.ErrBadVersion)

	_, err = c.Create("/a", nil, 0, zk.WorldACL(zk.PermAll))
	assert.ErrorIs(t, err, zk.ErrNodeExists)
	_, err = c.Create("/missing/x", nil, 0, zk.WorldACL(zk.PermAll))
	assert.ErrorIs(t, err, zk.ErrNoNode)
	assert.ErrorIs(t, c.Delete("/a", -1), zk.ErrNotEmpty)
	assert.ErrorIs(t, c.Delete("/nope", -1), zk.ErrNoNode)
	assert.ErrorIs(t, c.Delete("/a/s-0000000001", 7), zk.ErrBadVersion)
	assert.ErrorIs(t, c.Delete("/zookeeper", -1), zk.ErrBadArguments)
	_, _, err = c.Get("/nope")
	assert.ErrorIs(t, err, zk.ErrNoNode)

	kids, st, err := c.Children("/a")
	require.NoError(t, err)
	assert.Equal(t, []string{"s-0000000001", "s-0000000002"}, kids)
	assert.Equal(t, int32(2), st.NumChildren)
	kids, _, err = c.Children("/")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"a", "zookeeper"}, kids)
	kids, _, err = c.Children("/zookeeper")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"quota", "config"}, kids)

	// Ephemerals cannot have children.
	_, err = c.Create("/e", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, est, err := c.Exists("/e")
	require.NoError(t, err)
	assert.Equal(t, c.SessionID(), est.EphemeralOwner)
	_, err = c.Create("/e/x", nil, 0, zk.WorldACL(zk.PermAll))
	assert.ErrorIs(t, err, zk.ErrNoChildrenForEphemerals)

	p, err = c.Sync("/a")
	require.NoError(t, err)
	assert.Equal(t, "/a", p)

	// A failed write consumes a zxid, as in Apache.
	_, err = c.Create("/z1", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, err = c.Create("/z1", nil, 0, zk.WorldACL(zk.PermAll))
	require.ErrorIs(t, err, zk.ErrNodeExists)
	_, err = c.Create("/z2", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, z1, _ := c.Exists("/z1")
	_, z2, _ := c.Exists("/z2")
	assert.Equal(t, z1.Czxid+2, z2.Czxid)
}

func TestCreateModesContainerTTL(t *testing.T) {
	cfg := testConfig(t)
	s, err := New(cfg, testLogger(t))
	require.NoError(t, err)
	s.ContainerCheckInterval = 100 * time.Millisecond
	require.NoError(t, s.Start())
	t.Cleanup(func() { _ = s.Close() })
	c := connect(t, s)

	_, err = c.CreateContainer("/c", nil, zk.FlagTTL, zk.WorldACL(zk.PermAll))
	require.Error(t, err, "a container needs the container flag")
	_, err = c.CreateContainer("/c", nil, 4, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, st, err := c.Exists("/c")
	require.NoError(t, err)
	assert.Equal(t, int64(0), st.EphemeralOwner, "containers report no ephemeral owner")
	// An empty container that never had a child stays.
	time.Sleep(400 * time.Millisecond)
	ok, _, err := c.Exists("/c")
	require.NoError(t, err)
	assert.True(t, ok)
	_, err = c.Create("/c/x", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	require.NoError(t, c.Delete("/c/x", -1))
	require.Eventually(t, func() bool {
		ok, _, err := c.Exists("/c")
		return err == nil && !ok
	}, 5*time.Second, 50*time.Millisecond, "an emptied container is removed")

	_, err = c.CreateTTL("/ttl", nil, zk.FlagTTL, zk.WorldACL(zk.PermAll), 300*time.Millisecond)
	require.NoError(t, err)
	_, st, err = c.Exists("/ttl")
	require.NoError(t, err)
	assert.Equal(t, int64(0), st.EphemeralOwner, "TTL nodes report no ephemeral owner")
	require.Eventually(t, func() bool {
		ok, _, err := c.Exists("/ttl")
		return err == nil && !ok
	}, 5*time.Second, 50*time.Millisecond, "an expired TTL node is removed")
}

func TestMultiAtomicity(t *testing.T) {
	s := startServer(t, testConfig(t))
	c := connect(t, s)
	acl := zk.WorldACL(zk.PermAll)
	res, err := c.Multi(
		&zk.CreateRequest{Path: "/m", Data: []byte("1"), Acl: acl},
		&zk.CreateRequest{Path: "/m/a", Acl: acl},
		&zk.SetDataRequest{Path: "/m", Data: []byte("2"), Version: 0},
		&zk.CheckVersionRequest{Path: "/m", Version: 1},
	)
	require.NoError(t, err)
	require.Len(t, res, 4)
	assert.Equal(t, "/m", res[0].String)
	assert.Equal(t, int32(1), res[2].Stat.Version)
	data, st, err := c.Get("/m")
	require.NoError(t, err)
	assert.Equal(t, "2", string(data))
	assert.Equal(t, st.Czxid, st.Mzxid, "all ops of a multi share one zxid")

	res, err = c.Multi(
		&zk.CreateRequest{Path: "/n", Acl: acl},
		&zk.CreateRequest{Path: "/m", Acl: acl},
		&zk.DeleteRequest{Path: "/m/a", Version: -1},
	)
	require.Error(t, err)
	require.Len(t, res, 3)
	assert.NoError(t, res[0].Error, "ops before the failure report Ok")
	assert.ErrorIs(t, res[1].Error, zk.ErrNodeExists)
	require.Error(t, res[2].Error)
	assert.Contains(t, res[2].Error.Error(), "-2", "ops after the failure report RuntimeInconsistency (-2)")
	ok, _, err := c.Exists("/n")
	require.NoError(t, err)
	assert.False(t, ok, "the failed multi rolled back /n")
	ok, _, err = c.Exists("/m/a")
	require.NoError(t, err)
	assert.True(t, ok)
	_, st2, err := c.Get("/m")
	require.NoError(t, err)
	assert.Equal(t, st.Cversion, st2.Cversion)
}

func TestWatchesAndOrdering(t *testing.T) {
	s := startServer(t, testConfig(t))
	c1 := connect(t, s)
	c2 := connect(t, s)
	acl := zk.WorldACL(zk.PermAll)

	ok, _, exW, err := c1.ExistsW("/w")
	require.NoError(t, err)
	require.False(t, ok)
	_, err = c2.Create("/w", []byte("a"), 0, acl)
	require.NoError(t, err)
	ev := <-exW
	assert.Equal(t, zk.EventNodeCreated, ev.Type)
	assert.Equal(t, "/w", ev.Path)

	_, _, dW, err := c1.GetW("/w")
	require.NoError(t, err)
	_, _, cW, err := c1.ChildrenW("/w")
	require.NoError(t, err)
	_, err = c2.Set("/w", []byte("b"), -1)
	require.NoError(t, err)
	// Ordering: the event is delivered before the reply of a read that shows the change.
	data, _, err := c1.Get("/w")
	require.NoError(t, err)
	require.Equal(t, "b", string(data))
	select {
	case ev := <-dW:
		assert.Equal(t, zk.EventNodeDataChanged, ev.Type)
	default:
		t.Fatal("data watch event not delivered before the read reply")
	}
	_, err = c2.Create("/w/k", nil, 0, acl)
	require.NoError(t, err)
	ev = <-cW
	assert.Equal(t, zk.EventNodeChildrenChanged, ev.Type)
	assert.Equal(t, "/w", ev.Path)

	// Delete fires the data watch once (child watch on the same conn is suppressed).
	_, _, dW, err = c1.GetW("/w/k")
	require.NoError(t, err)
	require.NoError(t, c2.Delete("/w/k", -1))
	ev = <-dW
	assert.Equal(t, zk.EventNodeDeleted, ev.Type)
}

func TestACLSchemes(t *testing.T) {
	cfg := testConfig(t)
	cfg.SuperDigest = "super:" + digestOf("super:secret")
	s := startServer(t, cfg)
	owner := connect(t, s)
	other := connect(t, s)

	require.NoError(t, owner.AddAuth("digest", []byte("alice:pw")))
	_, err := owner.Create("/sec", []byte("x"), 0, zk.AuthACL(zk.PermAll))
	require.NoError(t, err)
	acl, _, err := owner.GetACL("/sec")
	require.NoError(t, err)
	require.Len(t, acl, 1)
	assert.Equal(t, "digest", acl[0].Scheme)
	assert.Equal(t, "alice:"+digestOf("alice:pw"), acl[0].ID)

	_, _, err = other.Get("/sec")
	assert.ErrorIs(t, err, zk.ErrNoAuth)
	_, err = other.Set("/sec", nil, -1)
	assert.ErrorIs(t, err, zk.ErrNoAuth)
	_, _, err = other.GetACL("/sec")
	assert.ErrorIs(t, err, zk.ErrNoAuth)
	ok, _, err := other.Exists("/sec")
	require.NoError(t, err, "exists does not check ACLs in Apache 3.8")
	assert.True(t, ok)
	_, err = other.Create("/sec/child", nil, 0, zk.WorldACL(zk.PermAll))
	assert.ErrorIs(t, err, zk.ErrNoAuth)

	// auth scheme without an authenticated id is InvalidACL; empty ACL too.
	_, err = other.Create("/x", nil, 0, zk.AuthACL(zk.PermAll))
	assert.ErrorIs(t, err, zk.ErrInvalidACL)
	_, err = other.Create("/x", nil, 0, []zk.ACL{})
	assert.ErrorIs(t, err, zk.ErrInvalidACL)
	_, err = other.Create("/x", nil, 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "digest", ID: "nocolon"}})
	assert.ErrorIs(t, err, zk.ErrInvalidACL)

	// READ without ADMIN redacts digest passwords in getACL.
	_, err = owner.Create("/ro", nil, 0, []zk.ACL{
		{Perms: zk.PermRead, Scheme: "world", ID: "anyone"},
		{Perms: zk.PermAll, Scheme: "digest", ID: "alice:" + digestOf("alice:pw")}})
	require.NoError(t, err)
	acl, _, err = other.GetACL("/ro")
	require.NoError(t, err)
	assert.Equal(t, "alice:x", acl[1].ID)

	// ip ACL with CIDR.
	_, err = owner.Create("/ip", nil, 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "ip", ID: "127.0.0.0/8"}})
	require.NoError(t, err)
	_, _, err = other.Get("/ip")
	require.NoError(t, err)
	_, err = owner.Create("/ip10", nil, 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "ip", ID: "10.0.0.0/8"}})
	require.NoError(t, err)
	_, _, err = other.Get("/ip10")
	assert.ErrorIs(t, err, zk.ErrNoAuth)

	// setACL needs ADMIN and bumps aversion.
	st, err := owner.SetACL("/ip", zk.WorldACL(zk.PermRead), -1)
	require.NoError(t, err)
	assert.Equal(t, int32(1), st.Aversion)
	_, err = other.SetACL("/ip10", zk.WorldACL(zk.PermAll), -1)
	assert.ErrorIs(t, err, zk.ErrNoAuth)

	// The super user passes every check.
	su := connect(t, s)
	require.NoError(t, su.AddAuth("digest", []byte("super:secret")))
	data, _, err := su.Get("/sec")
	require.NoError(t, err)
	assert.Equal(t, "x", string(data))
}

func TestAuthFailedClosesSession(t *testing.T) {
	s := startServer(t, testConfig(t))
	r, _ := newSession(t, s, 4000)
	rh, _ := r.call(-4, 100, &authPacket{scheme: "nosuch", auth: []byte("x")})
	assert.Equal(t, int32(-115), int32(rh.Err))
	r.expectClosed()
}
