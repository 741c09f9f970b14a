package server

import (
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/proto/jute"
)

// nextEvent reads frames until a watch notification arrives.
func (r *rawClient) nextEvent() jute.WatcherEvent {
	r.t.Helper()
	for {
		b, err := r.readFrame()
		require.NoError(r.t, err)
		d := jute.NewDecoder(b)
		var rh jute.ReplyHeader
		rh.Decode(d)
		if rh.Xid != jute.XidNotification {
			continue
		}
		var ev jute.WatcherEvent
		ev.Decode(d)
		require.NoError(r.t, d.Err())
		return ev
	}
}

func TestPersistentWatchesAndWatchOps(t *testing.T) {
	s := startServer(t, testConfig(t))
	writer := connect(t, s)
	acl := zk.WorldACL(zk.PermAll)
	_, err := writer.Create("/w", nil, 0, acl)
	require.NoError(t, err)

	r, _ := newSession(t, s, 4000)
	rh, body := r.call(1, jute.OpAddWatch, &jute.PathTypeRequest{Path: "/w", Type: jute.AddWatchPersistentRecursive})
	require.Equal(t, jute.ErrOK, rh.Err)
	assert.Equal(t, []byte{0, 0, 0, 0}, body, "addWatch replies with ErrorResponse(0)")
	p, _ := newSession(t, s, 4000)
	rh, _ = p.call(2, jute.OpAddWatch, &jute.PathTypeRequest{Path: "/w", Type: jute.AddWatchPersistent})
	require.Equal(t, jute.ErrOK, rh.Err)
	rh, _ = r.call(3, jute.OpCheckWatches, &jute.PathTypeRequest{Path: "/w", Type: jute.WatcherAny})
	assert.Equal(t, jute.ErrOK, rh.Err)
	rh, _ = r.call(4, jute.OpCheckWatches, &jute.PathTypeRequest{Path: "/other", Type: jute.WatcherData})
	assert.Equal(t, jute.ErrNoWatcher, rh.Err)

	_, err = writer.Create("/w/k", nil, 0, acl)
	require.NoError(t, err)
	_, err = writer.Create("/w/k/deep", nil, 0, acl)
	require.NoError(t, err)
	_, err = writer.Set("/w/k", []byte("z"), -1)
	require.NoError(t, err)
	require.NoError(t, writer.Delete("/w/k/deep", -1))
	_, err = writer.Set("/w", []byte("top"), -1)
	require.NoError(t, err)
	// Recursive: everything below except NodeChildrenChanged.
	for _, w := range []jute.WatcherEvent{
		{Type: jute.EventNodeCreated, Path: "/w/k"},
		{Type: jute.EventNodeCreated, Path: "/w/k/deep"},
		{Type: jute.EventNodeDataChanged, Path: "/w/k"},
		{Type: jute.EventNodeDeleted, Path: "/w/k/deep"},
		{Type: jute.EventNodeDataChanged, Path: "/w"},
	} {
		ev := r.nextEvent()
		assert.Equal(t, w.Type, ev.Type, "path %s", ev.Path)
		assert.Equal(t, w.Path, ev.Path)
		assert.Equal(t, jute.StateSyncConnected, ev.State)
	}
	// Persistent: the path itself only, and it survives firing.
	for _, w := range []jute.WatcherEvent{
		{Type: jute.EventNodeChildrenChanged, Path: "/w"},
		{Type: jute.EventNodeDataChanged, Path: "/w"},
	} {
		ev := p.nextEvent()
		assert.Equal(t, w.Type, ev.Type, "path %s", ev.Path)
		assert.Equal(t, w.Path, ev.Path)
	}

	rh, _ = r.call(5, jute.OpRemoveWatches, &jute.PathTypeRequest{Path: "/w", Type: jute.WatcherAny})
	assert.Equal(t, jute.ErrOK, rh.Err)
	rh, _ = r.call(6, jute.OpRemoveWatches, &jute.PathTypeRequest{Path: "/w", Type: jute.WatcherAny})
	assert.Equal(t, jute.ErrNoWatcher, rh.Err)

	// setWatches after "reconnect": changes after relativeZxid fire at once.
	_, st, err := writer.Exists("/w")
	require.NoError(t, err)
	r2, _ := newSession(t, s, 4000)
	r2.send(&jute.RequestHeader{Xid: jute.XidSetWatches, Type: jute.OpSetWatches}, &jute.SetWatches{
		RelativeZxid: st.Mzxid - 1, DataWatches: []string{"/w", "/gone"}, ExistWatches: []string{"/w"},
		ChildWatches: []string{"/w"},
	})
	// The events come before the setWatches reply (xid -8).
	var got []jute.WatcherEvent
	for {
		b, err := r2.readFrame()
		require.NoError(t, err)
		d := jute.NewDecoder(b)
		var h jute.ReplyHeader
		h.Decode(d)
		if h.Xid == jute.XidSetWatches {
			require.Equal(t, jute.ErrOK, h.Err)
			break
		}
		if h.Xid == jute.XidNotification {
			var ev jute.WatcherEvent
			ev.Decode(d)
			got = append(got, ev)
		}
	}
	assert.Equal(t, []jute.WatcherEvent{
		{Type: jute.EventNodeDataChanged, State: 3, Path: "/w"},
		{Type: jute.EventNodeDeleted, State: 3, Path: "/gone"},
		{Type: jute.EventNodeCreated, State: 3, Path: "/w"},
	}, got, "the child watch on /w is registered silently: its pzxid is older than relativeZxid")
	_ = time.Second
}
