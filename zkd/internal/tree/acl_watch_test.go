package tree

import (
	"fmt"

	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/proto/jute"
)

var (
	aliceID   = jute.ID{Scheme: "digest", ID: Digest("alice:pw")}
	aliceACL  = []jute.ACL{{Perms: jute.PermAll, ID: aliceID}}
	aliceAuth = Auth{IDs: []jute.ID{{Scheme: "ip", ID: "127.0.0.1"}, aliceID}}
	anonAuth  = Auth{IDs: []jute.ID{{Scheme: "ip", ID: "127.0.0.1"}}}
	superAuth = Auth{IDs: []jute.ID{{Scheme: "super", ID: ""}}}
)

// visibleTo keeps the deliveries a connection with auth receives, as the
// server's deliver does.
func visibleTo(ds []Delivery, watcher int64, auth Auth) []jute.WatcherEvent {
	var out []jute.WatcherEvent
	for _, d := range ds {
		if d.Watcher == watcher && d.Visible(auth) {
			out = append(out, d.Event)
		}
	}
	return out
}

func ev(typ int32, p string) jute.WatcherEvent {
	return jute.WatcherEvent{Type: typ, State: jute.StateSyncConnected, Path: p}
}

// TestWatchEventsFilteredByNodeACL pins Apache 3.8's delivery rule:
// DataTree.createNode/deleteNode/setData pass the changed node's ACL (the
// parent's for NodeChildrenChanged) to WatchManager.triggerWatch, which
// hands it to ServerCnxn.process(event, znodeAcl); that calls
// ZooKeeperServer.checkACL(..., Perms.READ, ...) and drops the event on
// NoAuth. The one-shot watch is removed either way (triggerWatch removes it
// before process runs). Checked in apache/zookeeper DataTree.java,
// watch/WatchManager.java and NIOServerCnxn/ServerCnxn.process, and with
// javap in the Debian 3.8.0-11+deb12u2 jar the integration suite runs.
func TestWatchEventsFilteredByNodeACL(t *testing.T) {
	tr := New()
	zxid := int64(0)
	do := func(op jute.Op, body jute.Record, auth Auth) Result {
		zxid++
		r := req(op, body)
		r.Auth = auth
		_, res := tr.Prepare(r, zxid, zxid)
		require.Equal(t, jute.ErrOK, res.Err, "op %d", op)
		return res
	}
	do(jute.OpCreate, &jute.CreateRequest{Path: "/n", ACL: jute.OpenACLUnsafe}, aliceAuth)
	tr.TakeEvents()

	// One-shot data and child watches of an unauthenticated watcher (1) and
	// of alice (2); the node then becomes alice-only.
	for _, w := range []int64{1, 2} {
		tr.Watches.AddData("/n", w)
		tr.Watches.AddChild("/n", w)
	}
	do(jute.OpSetACL, &jute.SetACLRequest{Path: "/n", ACL: aliceACL, Version: -1}, aliceAuth)
	assert.Empty(t, tr.TakeEvents(), "setACL fires no watch")
	do(jute.OpSetData, &jute.SetDataRequest{Path: "/n", Data: []byte("w"), Version: -1}, aliceAuth)
	do(jute.OpCreate, &jute.CreateRequest{Path: "/n/k", ACL: jute.OpenACLUnsafe}, aliceAuth)
	ds := tr.TakeEvents()
	assert.Empty(t, visibleTo(ds, 1, anonAuth), "no READ on /n: neither NodeDataChanged nor NodeChildrenChanged")
	assert.Equal(t, []jute.WatcherEvent{ev(jute.EventNodeDataChanged, "/n"), ev(jute.EventNodeChildrenChanged, "/n")},
		visibleTo(ds, 2, aliceAuth))
	assert.Equal(t, []jute.WatcherEvent{ev(jute.EventNodeDataChanged, "/n"), ev(jute.EventNodeChildrenChanged, "/n")},
		visibleTo(ds, 1, superAuth), "super passes checkACL")
	assert.False(t, tr.Watches.Contains("/n", 1, jute.WatcherAny), "the filtered one-shot watches are used up")

	// Exists watch on a missing node created unreadable: NodeCreated is
	// checked against the new node's ACL; the parent's child event against
	// the parent's (world) ACL.
	tr.Watches.AddData("/secret", 1)
	tr.Watches.AddChild("/", 1)
	do(jute.OpCreate, &jute.CreateRequest{Path: "/secret", ACL: aliceACL}, aliceAuth)
	assert.Equal(t, []jute.WatcherEvent{ev(jute.EventNodeChildrenChanged, "/")}, visibleTo(tr.TakeEvents(), 1, anonAuth))

	// Persistent-recursive and persistent watches are filtered the same way,
	// by the node that changed.
	do(jute.OpCreate, &jute.CreateRequest{Path: "/rec", ACL: jute.OpenACLUnsafe}, aliceAuth)
	tr.TakeEvents()
	tr.Watches.AddPersistent("/rec", 1, jute.AddWatchPersistentRecursive)
	tr.Watches.AddPersistent("/rec", 1, jute.AddWatchPersistent) // latest mode wins: persistent
	tr.Watches.AddPersistent("/rec", 3, jute.AddWatchPersistentRecursive)
	do(jute.OpCreate, &jute.CreateRequest{Path: "/rec/secret", ACL: aliceACL}, aliceAuth)
	do(jute.OpSetData, &jute.SetDataRequest{Path: "/rec/secret", Data: []byte("x"), Version: -1}, aliceAuth)
	do(jute.OpCreate, &jute.CreateRequest{Path: "/rec/open", ACL: jute.OpenACLUnsafe}, aliceAuth)
	ds = tr.TakeEvents()
	assert.Equal(t, []jute.WatcherEvent{ev(jute.EventNodeCreated, "/rec/open")}, visibleTo(ds, 3, anonAuth),
		"only the readable child's event reaches the recursive watcher")
	assert.Equal(t, []jute.WatcherEvent{ev(jute.EventNodeChildrenChanged, "/rec"), ev(jute.EventNodeChildrenChanged, "/rec")},
		visibleTo(ds, 1, anonAuth), "the persistent watch sees /rec's child changes (/rec is readable)")

	do(jute.OpSetACL, &jute.SetACLRequest{Path: "/rec", ACL: aliceACL, Version: -1}, aliceAuth)
	do(jute.OpDelete, &jute.PathVersionRequest{Path: "/rec/open", Version: -1}, aliceAuth)
	ds = tr.TakeEvents()
	assert.Equal(t, []jute.WatcherEvent{ev(jute.EventNodeDeleted, "/rec/open")}, visibleTo(ds, 3, anonAuth),
		"NodeDeleted is checked against the deleted node's ACL")
	assert.Empty(t, visibleTo(ds, 1, anonAuth), "NodeChildrenChanged is checked against the parent's ACL")
	assert.True(t, tr.Watches.Contains("/rec", 1, jute.WatcherChildren), "a persistent watch stays when filtered")
}

// TestWatchACLReadWhenChangeApplied: the ACL is the one the node had when
// the change was applied, even when a later op of the same multi deletes
// the node (DataTree reads getACL(node) inside createNode/deleteNode).
func TestWatchACLReadWhenChangeApplied(t *testing.T) {
	tr := New()
	tr.Watches.AddData("/m", 1)
	tr.Watches.AddChild("/", 1)
	r := req(jute.OpMulti, &MultiRequest{Ops: []MultiOp{
		{Op: jute.OpCreate, Body: &jute.CreateRequest{Path: "/m", ACL: jute.OpenACLUnsafe}},
		{Op: jute.OpDelete, Body: &jute.PathVersionRequest{Path: "/m", Version: -1}},
	}})
	_, res := tr.Prepare(r, 1, 1)
	require.Equal(t, jute.ErrOK, res.Err)
	ds := tr.TakeEvents()
	assert.Equal(t, []jute.WatcherEvent{ev(jute.EventNodeCreated, "/m"), ev(jute.EventNodeChildrenChanged, "/")},
		visibleTo(ds, 1, anonAuth))
	for _, d := range ds {
		assert.Equal(t, jute.OpenACLUnsafe, d.ACL, "%+v", d.Event)
	}

	// setWatches answers are not filtered (DataTree.setWatches calls the
	// one-argument process, which passes no ACL).
	_, res = tr.Prepare(&Request{Session: 1, Op: jute.OpCreate, Auth: aliceAuth,
		Body: &jute.CreateRequest{Path: "/s", ACL: aliceACL}}, 2, 2)
	require.Equal(t, jute.ErrOK, res.Err)
	tr.TakeEvents()
	out, err := tr.SetWatches(1, &jute.SetWatches{RelativeZxid: 0, DataWatches: []string{"/s"},
		ExistWatches: []string{}, ChildWatches: []string{}})
	require.NoError(t, err)
	assert.Equal(t, []jute.WatcherEvent{ev(jute.EventNodeDataChanged, "/s")}, visibleTo(out, 1, anonAuth))
}

// TestMultiRollbackKeepsACL: a multi whose delete of a node is rolled back
// leaves the node with its ACL. Apache never applies a failed multi's ops
// (PrepRequestProcessor works on pending ChangeRecords); zkd applies and
// undoes, and the delete's release of the last usage of an ACL
// (ReferenceCountedACLCache.removeUsage drops the entry at count 0) must be
// undone with the entry, under the same reference.
func TestMultiRollbackKeepsACL(t *testing.T) {
	bob := []jute.ACL{{Perms: jute.PermAll, ID: jute.ID{Scheme: "digest", ID: Digest("bob:pw")}}}
	for _, owner := range []int64{0, 0x77} {
		tr := New()
		_, r := tr.Prepare(&Request{Session: 0x77, Op: jute.OpCreate, Auth: aliceAuth,
			Body: &jute.CreateRequest{Path: "/n", ACL: bob, Flags: map[int64]int32{0: jute.FlagPersistent, 0x77: jute.FlagEphemeral}[owner]}}, 1, 1)
		require.Equal(t, jute.ErrOK, r.Err)
		ref := tr.Get("/n").ACL
		before := dumpTree(t, tr)
		var entries []string
		tr.ACLEntries(func(ref int64, acl []jute.ACL) { entries = append(entries, fmt.Sprint(ref, acl)) })

		_, r = tr.Prepare(&Request{Session: 0x77, Op: jute.OpMulti, Auth: Auth{IDs: []jute.ID{{Scheme: "super"}}},
			Body: &MultiRequest{Ops: []MultiOp{
				{Op: jute.OpDelete, Body: &jute.PathVersionRequest{Path: "/n", Version: 0}},
				// The same list again: must not take over the released entry.
				{Op: jute.OpCreate, Body: &jute.CreateRequest{Path: "/o", ACL: bob}},
				{Op: jute.OpCheck, Body: &jute.PathVersionRequest{Path: "/missing", Version: 1}},
			}}}, 2, 2)
		require.Equal(t, jute.ErrNoNode, r.Err)

		n := tr.Get("/n")
		require.NotNil(t, n)
		assert.Equal(t, bob, tr.ACL(n), "owner %x: the rolled-back delete lost the node's ACL", owner)
		assert.Equal(t, ref, n.ACL, "the same ACL reference")
		assert.Error(t, Check(tr.ACL(n), jute.PermRead, anonAuth))
		assert.Equal(t, before, dumpTree(t, tr))
		var after []string
		tr.ACLEntries(func(ref int64, acl []jute.ACL) { after = append(after, fmt.Sprint(ref, acl)) })
		assert.Equal(t, entries, after, "the ACL cache is as before")
		if owner != 0 {
			assert.Equal(t, []string{"/n"}, tr.Ephemerals(owner))
		}

		// The restored entry is still counted: deleting the node for real
		// then frees it, and a new node with that list gets a fresh entry.
		_, r = tr.Prepare(&Request{Session: 0x77, Op: jute.OpDelete, Auth: superAuth,
			Body: &jute.PathVersionRequest{Path: "/n", Version: -1}}, 3, 3)
		require.Equal(t, jute.ErrOK, r.Err)
		_, r = tr.Prepare(&Request{Session: 0x77, Op: jute.OpCreate, Auth: superAuth,
			Body: &jute.CreateRequest{Path: "/p", ACL: bob}}, 4, 4)
		require.Equal(t, jute.ErrOK, r.Err)
		assert.Equal(t, bob, tr.ACL(tr.Get("/p")))
	}
}
