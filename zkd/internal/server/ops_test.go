package server

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/proto/jute"
	"mqstack/zkd/internal/tree"
)

// TestEveryOpcode drives each opcode over a raw connection and checks the
// reply bodies byte-decoded with the jute records.
func TestEveryOpcode(t *testing.T) {
	s := startServer(t, testConfig(t))
	r, rsp := newSession(t, s, 2000)
	xid := int32(0)
	call := func(op jute.Op, body jute.Record) (jute.ReplyHeader, []byte) {
		xid++
		rh, b := r.call(xid, op, body)
		require.Equal(t, xid, rh.Xid)
		return rh, b
	}

	rh, b := call(jute.OpCreate2, &jute.CreateRequest{Path: "/p", Data: []byte("d"), ACL: jute.OpenACLUnsafe})
	require.Equal(t, jute.ErrOK, rh.Err)
	var c2 jute.PathStatResponse
	require.NoError(t, jute.Unmarshal(b, &c2))
	assert.Equal(t, "/p", c2.Path)
	assert.Equal(t, rh.Zxid, c2.Stat.Czxid)
	assert.Equal(t, int32(1), c2.Stat.DataLength)

	rh, b = call(jute.OpCreateTTL, &jute.CreateRequest{Path: "/p/t", ACL: jute.OpenACLUnsafe,
		Flags: jute.FlagPersistentSequentialWithTTL, TTL: 60000, HasTTL: true})
	require.Equal(t, jute.ErrOK, rh.Err)
	require.NoError(t, jute.Unmarshal(b, &c2))
	assert.Equal(t, "/p/t0000000000", c2.Path)
	assert.Equal(t, int64(0), c2.Stat.EphemeralOwner)
	var owner int64
	s.do(func() { owner = s.tree.Get("/p/t0000000000").Stat.EphemeralOwner })
	assert.Equal(t, tree.TTLOwner(60000), owner, "the TTL stays in the persisted stat")
	rh, _ = call(jute.OpCreateTTL, &jute.CreateRequest{Path: "/p/t2", ACL: jute.OpenACLUnsafe,
		Flags: jute.FlagPersistentWithTTL, TTL: 0, HasTTL: true})
	assert.Equal(t, jute.ErrBadArguments, rh.Err, "ttl must be > 0")
	rh, _ = call(jute.OpCreateTTL, &jute.CreateRequest{Path: "/p/t3", ACL: jute.OpenACLUnsafe,
		Flags: jute.FlagPersistent, TTL: 10, HasTTL: true})
	assert.Equal(t, jute.ErrBadArguments, rh.Err, "TTL with a non-TTL mode")
	rh, _ = call(jute.OpCreate, &jute.CreateRequest{Path: "/p/t4", ACL: jute.OpenACLUnsafe, Flags: 99})
	assert.Equal(t, jute.ErrBadArguments, rh.Err, "unknown create flags")

	rh, b = call(jute.OpCreateContainer, &jute.CreateRequest{Path: "/p/c", ACL: jute.OpenACLUnsafe, Flags: jute.FlagContainer})
	require.Equal(t, jute.ErrOK, rh.Err)
	require.NoError(t, jute.Unmarshal(b, &c2))
	assert.Equal(t, int64(0), c2.Stat.EphemeralOwner)

	rh, b = call(jute.OpGetAllChildrenNumber, &jute.PathRequest{Path: "/p"})
	require.Equal(t, jute.ErrOK, rh.Err)
	var n jute.IntResponse
	require.NoError(t, jute.Unmarshal(b, &n))
	assert.Equal(t, int32(2), n.Value)
	rh, _ = call(jute.OpGetAllChildrenNumber, &jute.PathRequest{Path: "/none"})
	assert.Equal(t, jute.ErrNoNode, rh.Err)

	rh, b = call(jute.OpGetChildren2, &jute.PathWatchRequest{Path: "/p"})
	require.Equal(t, jute.ErrOK, rh.Err)
	var gc2 jute.GetChildren2Response
	require.NoError(t, jute.Unmarshal(b, &gc2))
	assert.Equal(t, []string{"c", "t0000000000"}, gc2.Children)
	assert.Equal(t, int32(2), gc2.Stat.NumChildren)
	assert.Equal(t, int32(2), gc2.Stat.Cversion)

	rh, b = call(jute.OpWhoAmI, nil)
	require.Equal(t, jute.ErrOK, rh.Err)
	var who jute.WhoAmIResponse
	require.NoError(t, jute.Unmarshal(b, &who))
	assert.Equal(t, []jute.ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}}, who.ClientInfo)
	rh, _ = r.call(-4, jute.OpAuth, &jute.AuthPacket{Scheme: "digest", Auth: []byte("u:p")})
	require.Equal(t, jute.ErrOK, rh.Err)
	require.Equal(t, int32(-4), rh.Xid)
	_, b = call(jute.OpWhoAmI, nil)
	require.NoError(t, jute.Unmarshal(b, &who))
	assert.Equal(t, []jute.ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}, {AuthScheme: "digest", User: "u"}}, who.ClientInfo)

	rh, b = call(jute.OpGetACL, &jute.PathRequest{Path: "/zookeeper/config"})
	require.Equal(t, jute.ErrOK, rh.Err)
	var ga jute.GetACLResponse
	require.NoError(t, jute.Unmarshal(b, &ga))
	assert.Equal(t, jute.ReadACLUnsafe, ga.ACL)
	rh, _ = call(jute.OpSetData, &jute.SetDataRequest{Path: "/zookeeper/config", Version: -1})
	assert.Equal(t, jute.ErrNoAuth, rh.Err)

	rh, _ = call(jute.OpCheck, &jute.PathVersionRequest{Path: "/p", Version: 0})
	require.Equal(t, jute.ErrOK, rh.Err)
	rh, _ = call(jute.OpCheck, &jute.PathVersionRequest{Path: "/p", Version: 3})
	assert.Equal(t, jute.ErrBadVersion, rh.Err)

	// multiRead: per-op results, errors inline.
	rh, b = call(jute.OpMultiRead, &tree.MultiRequest{Ops: []tree.MultiOp{
		{Op: jute.OpGetData, Body: &jute.PathWatchRequest{Path: "/p"}},
		{Op: jute.OpGetChildren, Body: &jute.PathWatchRequest{Path: "/p"}},
		{Op: jute.OpGetData, Body: &jute.PathWatchRequest{Path: "/missing"}},
	}})
	require.Equal(t, jute.ErrOK, rh.Err)
	var mr multiResponse
	require.NoError(t, jute.Unmarshal(b, &mr))
	require.Len(t, mr.results, 3)
	assert.Equal(t, "d", string(mr.results[0].data))
	assert.Equal(t, []string{"c", "t0000000000"}, mr.results[1].children)
	assert.Equal(t, jute.OpError, mr.results[2].typ)
	assert.Equal(t, jute.ErrNoNode, mr.results[2].err)

	// multi with create2 and delete results.
	rh, b = call(jute.OpMulti, &tree.MultiRequest{Ops: []tree.MultiOp{
		{Op: jute.OpCreate2, Body: &jute.CreateRequest{Path: "/q", ACL: jute.OpenACLUnsafe}},
		{Op: jute.OpDelete, Body: &jute.PathVersionRequest{Path: "/q", Version: -1}},
		{Op: jute.OpCheck, Body: &jute.PathVersionRequest{Path: "/p", Version: -1}},
	}})
	require.Equal(t, jute.ErrOK, rh.Err)
	require.NoError(t, jute.Unmarshal(b, &mr))
	require.Len(t, mr.results, 3)
	assert.Equal(t, jute.OpCreate2, mr.results[0].typ)
	assert.Equal(t, rh.Zxid, mr.results[0].stat.Czxid)
	assert.Equal(t, jute.OpDelete, mr.results[1].typ)
	assert.Equal(t, jute.OpCheck, mr.results[2].typ)

	// A failed multi: header err 0, per-op codes Ok / NoNode / RuntimeInconsistency.
	rh, b = call(jute.OpMulti, &tree.MultiRequest{Ops: []tree.MultiOp{
		{Op: jute.OpCreate, Body: &jute.CreateRequest{Path: "/r", ACL: jute.OpenACLUnsafe}},
		{Op: jute.OpSetData, Body: &jute.SetDataRequest{Path: "/nope", Version: -1}},
		{Op: jute.OpDelete, Body: &jute.PathVersionRequest{Path: "/p", Version: -1}},
	}})
	require.Equal(t, jute.ErrOK, rh.Err)
	require.NoError(t, jute.Unmarshal(b, &mr))
	var codes []jute.Err
	for _, x := range mr.results {
		assert.Equal(t, jute.OpError, x.typ)
		codes = append(codes, x.err)
	}
	assert.Equal(t, []jute.Err{jute.ErrOK, jute.ErrNoNode, jute.ErrRuntimeInconsistency}, codes)

	rh, b = call(jute.OpSync, &jute.PathRequest{Path: "/p"})
	require.Equal(t, jute.ErrOK, rh.Err)
	var sp jute.PathResponse
	require.NoError(t, jute.Unmarshal(b, &sp))
	assert.Equal(t, "/p", sp.Path)

	rh, b = call(jute.OpSetACL, &jute.SetACLRequest{Path: "/p", ACL: jute.ReadACLUnsafe, Version: 0})
	require.Equal(t, jute.ErrOK, rh.Err)
	var sa jute.StatResponse
	require.NoError(t, jute.Unmarshal(b, &sa))
	assert.Equal(t, int32(1), sa.Stat.Aversion)
	rh, _ = call(jute.OpSetACL, &jute.SetACLRequest{Path: "/p", ACL: jute.ReadACLUnsafe, Version: 0})
	assert.Equal(t, jute.ErrNoAuth, rh.Err, "the new ACL has no ADMIN")

	rh, b = call(jute.OpGetEphemerals, &jute.PathRequest{Path: "/"})
	require.Equal(t, jute.ErrOK, rh.Err)
	var eph jute.StringsResponse
	require.NoError(t, jute.Unmarshal(b, &eph))
	assert.Empty(t, eph.Strings)

	rh, _ = call(jute.OpReconfig, &jute.PathRequest{Path: ""})
	assert.Equal(t, jute.ErrReconfigDisabled, rh.Err)

	// Behaviours checked against Apache 3.8.0 with a raw client:
	// createContainer makes a container whatever the flags.
	rh, _ = call(jute.OpCreateContainer, &jute.CreateRequest{Path: "/cf", ACL: jute.OpenACLUnsafe, Flags: 0})
	require.Equal(t, jute.ErrOK, rh.Err)
	var cf int64
	s.do(func() { cf = s.tree.Get("/cf").Stat.EphemeralOwner })
	assert.Equal(t, tree.ContainerOwner, cf)
	// create with the container flag makes a persistent node.
	rh, _ = call(jute.OpCreate, &jute.CreateRequest{Path: "/pf", ACL: jute.OpenACLUnsafe, Flags: jute.FlagContainer})
	require.Equal(t, jute.ErrOK, rh.Err)
	s.do(func() { cf = s.tree.Get("/pf").Stat.EphemeralOwner })
	assert.Equal(t, int64(0), cf)
	// A bad watcher type is a MarshallingError.
	rh, _ = call(jute.OpCheckWatches, &jute.PathTypeRequest{Path: "/p", Type: 9})
	assert.Equal(t, jute.ErrMarshallingError, rh.Err)
	// A read op inside multi: MarshallingError at the multi level, a zxid consumed.
	rh, b = call(jute.OpMulti, &tree.MultiRequest{Ops: []tree.MultiOp{{Op: jute.OpGetData, Body: &jute.PathWatchRequest{Path: "/p"}}}})
	assert.Equal(t, jute.ErrMarshallingError, rh.Err)
	assert.Empty(t, b)
	rh2, _ := call(jute.OpExists, &jute.PathWatchRequest{Path: "/p"})
	assert.Equal(t, rh.Zxid, rh2.Zxid, "the failed multi was logged as an error txn")
	// A write op inside multiRead: err -5 with the (empty) results so far.
	rh, b = call(jute.OpMultiRead, &tree.MultiRequest{Ops: []tree.MultiOp{{Op: jute.OpCreate, Body: &jute.CreateRequest{Path: "/m", ACL: jute.OpenACLUnsafe}}}})
	assert.Equal(t, jute.ErrMarshallingError, rh.Err)
	assert.Equal(t, []byte{0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff}, b)
	// A client's deleteContainer always fails validation in Apache.
	rh, _ = call(jute.OpDeleteContainer, &jute.PathRequest{Path: "/cf"})
	assert.Equal(t, jute.ErrBadArguments, rh.Err)
	// SASL without a mechanism: err 0 and a null token; the session goes on.
	rh, b = r.call(50, jute.OpSASL, &jute.PathRequest{Path: ""})
	assert.Equal(t, jute.ErrOK, rh.Err)
	assert.Equal(t, []byte{0xff, 0xff, 0xff, 0xff}, b)

	rh, _ = call(jute.OpCloseSession, nil)
	assert.Equal(t, jute.ErrOK, rh.Err)
	_ = rsp
}

// TestApacheEncodingDetails pins details checked byte for byte against
// Apache 3.8.0 with a raw client.
func TestApacheEncodingDetails(t *testing.T) {
	s := startServer(t, testConfig(t))
	r, _ := newSession(t, s, 2000)
	rh, _ := r.call(1, jute.OpCreate, &jute.CreateRequest{Path: "/null", Data: nil, ACL: jute.OpenACLUnsafe})
	require.Equal(t, jute.ErrOK, rh.Err)
	rh, b := r.call(2, jute.OpGetData, &jute.PathWatchRequest{Path: "/null"})
	require.Equal(t, jute.ErrOK, rh.Err)
	assert.Equal(t, []byte{0xff, 0xff, 0xff, 0xff}, b[:4], "null data stays null (-1)")
	rh, _ = r.call(3, jute.OpCreate, &jute.CreateRequest{Path: "/empty", Data: []byte{}, ACL: jute.OpenACLUnsafe})
	require.Equal(t, jute.ErrOK, rh.Err)
	_, b = r.call(4, jute.OpGetData, &jute.PathWatchRequest{Path: "/empty"})
	assert.Equal(t, []byte{0, 0, 0, 0}, b[:4])

	// whoAmI lists ids in Java hash-set order (Apache printed digest first here).
	ip := jute.ID{Scheme: "ip", ID: "127.0.0.1"}
	dg := jute.ID{Scheme: "digest", ID: "nocolon:" + digestOf("nocolon")}
	assert.Equal(t, []jute.ID{dg, ip}, javaSetOrder([]jute.ID{ip, dg}))
	assert.Equal(t, int32(3556653), tree.JavaStringHash("text"))
}
