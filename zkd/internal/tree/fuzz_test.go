package tree

import (
	"testing"

	"github.com/stretchr/testify/require"

	"mqstack/proto/jute"
)

func baseTree(t *testing.T) *Tree {
	tr := New()
	for i, p := range []string{"/a", "/a/b", "/c"} {
		flags := int32(0)
		if p == "/c" {
			flags = jute.FlagEphemeral
		}
		_, r := tr.Prepare(&Request{Session: 9, Op: jute.OpCreate, Body: &jute.CreateRequest{Path: p, ACL: jute.OpenACLUnsafe, Flags: flags}}, int64(i+1), 1)
		require.Equal(t, jute.ErrOK, r.Err)
	}
	tr.TakeEvents()
	return tr
}

// FuzzPrepareMulti decodes arbitrary multi bodies and prepares them: no
// panic, and the logged txn (round-tripped through the log encoding)
// replayed on a replica gives the same tree and the same result.
func FuzzPrepareMulti(f *testing.F) {
	valid := jute.Marshal(&MultiRequest{Ops: []MultiOp{
		{Op: jute.OpCreate, Body: &jute.CreateRequest{Path: "/a/x", ACL: jute.OpenACLUnsafe, Flags: 2}},
		{Op: jute.OpSetData, Body: &jute.SetDataRequest{Path: "/a", Data: []byte("d"), Version: -1}},
		{Op: jute.OpCheck, Body: &jute.PathVersionRequest{Path: "/a", Version: 1}},
		{Op: jute.OpDelete, Body: &jute.PathVersionRequest{Path: "/a/b", Version: -1}},
		{Op: jute.OpCreateTTL, Body: &jute.CreateRequest{Path: "/t", ACL: jute.OpenACLUnsafe, Flags: 5, TTL: 5, HasTTL: true}},
		{Op: jute.OpCreateContainer, Body: &jute.CreateRequest{Path: "/c2", ACL: jute.OpenACLUnsafe, Flags: 4}},
	}})
	failing := jute.Marshal(&MultiRequest{Ops: []MultiOp{
		{Op: jute.OpCreate, Body: &jute.CreateRequest{Path: "/c/x", ACL: jute.OpenACLUnsafe}},
		{Op: jute.OpDelete, Body: &jute.PathVersionRequest{Path: "/a", Version: -1}},
	}})
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(failing)
	f.Add([]byte{})
	f.Add(jute.Marshal(&MultiRequest{}))
	f.Fuzz(func(t *testing.T, body []byte) {
		var m MultiRequest
		if err := jute.Unmarshal(body, &m); err != nil {
			return
		}
		tr := baseTree(t)
		e, r := tr.Prepare(&Request{Session: 9, Cxid: 1, Op: jute.OpMulti, Body: &m}, 10, 5)
		tr.TakeEvents()
		var enc jute.Encoder
		jute.EncodeTxnEntry(&enc, e)
		back, err := jute.DecodeTxnEntry(enc.Buf)
		require.NoError(t, err)
		replica := baseTree(t)
		rr := replica.Apply(back)
		require.Equal(t, r.Err, rr.Err)
		require.Equal(t, len(r.Multi), len(rr.Multi))
		require.Equal(t, dumpTree(t, tr), dumpTree(t, replica))
		// Structural invariants: every node's parent lists it.
		for p := range tr.nodes {
			if p == "/" {
				continue
			}
			parent, name := Split(p)
			require.True(t, tr.nodes[parent].children.has(name), p)
		}
	})
}

func FuzzValidatePath(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "", "/a/../b", "/\x00", "/a\U0001F600"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if ValidatePath(p) == nil {
			require.True(t, len(p) > 0 && p[0] == '/')
			require.False(t, len(p) > 1 && p[len(p)-1] == '/')
		}
	})
}
