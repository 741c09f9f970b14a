package jute

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Byte layouts checked against the jute definitions in zookeeper.jute:
// big-endian ints, length-prefixed strings, -1 for null buffers.
func TestConnectRequestLayout(t *testing.T) {
	r := ConnectRequest{ProtocolVersion: 0, LastZxidSeen: 0x10, TimeOut: 30000, SessionID: 0, Passwd: make([]byte, 16)}
	b := Marshal(&r)
	want := "00000000" + "0000000000000010" + "00007530" + "0000000000000000" + "00000010" + "00000000000000000000000000000000"
	assert.Equal(t, want, hex.EncodeToString(b))

	r.HasReadOnly, r.ReadOnly = true, true
	b = Marshal(&r)
	assert.Equal(t, want+"01", hex.EncodeToString(b))

	var got ConnectRequest
	require.NoError(t, Unmarshal(b, &got))
	assert.Equal(t, r, got)

	// Without the optional byte, HasReadOnly stays false so the reply omits it too.
	var old ConnectRequest
	require.NoError(t, Unmarshal(b[:len(b)-1], &old))
	assert.False(t, old.HasReadOnly)
}

func TestNullAndEmpty(t *testing.T) {
	var e Encoder
	e.Buffer(nil)
	e.Buffer([]byte{})
	e.Strings(nil)
	e.String("")
	assert.Equal(t, "ffffffff"+"00000000"+"ffffffff"+"00000000", hex.EncodeToString(e.Buf))
	d := NewDecoder(e.Buf)
	assert.Nil(t, d.Buffer())
	assert.Equal(t, []byte{}, d.Buffer())
	assert.Nil(t, d.Strings())
	assert.Equal(t, "", d.String())
	require.NoError(t, d.Err())
	assert.Zero(t, d.Remaining())
}

func TestStickyErrorAndLimits(t *testing.T) {
	// A buffer claiming 2 GiB must fail before allocating.
	d := NewDecoder([]byte{0x7f, 0xff, 0xff, 0xff, 1, 2, 3})
	assert.Nil(t, d.Buffer())
	require.ErrorIs(t, d.Err(), ErrTooLarge)
	// Every later read returns zero and keeps the first error.
	assert.Zero(t, d.Long())
	require.ErrorIs(t, d.Err(), ErrTooLarge)

	d = NewDecoder([]byte{0, 0, 0, 8, 1, 2})
	d.Buffer()
	require.ErrorIs(t, d.Err(), ErrShort)

	d = NewDecoder([]byte{0xff, 0xff, 0xff, 0xfe})
	_ = d.String()
	require.ErrorIs(t, d.Err(), ErrNegative)

	d = NewDecoder([]byte{0, 0, 0, 5, 'a', 'b', 'c', 'd', 'e'})
	d.Max = 4
	_ = d.String()
	require.ErrorIs(t, d.Err(), ErrTooLarge)

	// A vector count larger than the bytes left is rejected up front.
	d = NewDecoder([]byte{0, 0, 1, 0})
	d.Strings()
	require.ErrorIs(t, d.Err(), ErrShort)

	require.ErrorIs(t, Unmarshal([]byte{0, 0, 0, 1, 9}, &ErrorResponse{}), ErrTrailing)
}

func TestRecordRoundTrips(t *testing.T) {
	acl := []ACL{{Perms: PermAll, ID: WorldAnyone}, {Perms: PermRead, ID: ID{Scheme: "digest", ID: "u:abc="}}}
	stat := Stat{Czxid: 1, Mzxid: 2, Ctime: 3, Mtime: 4, Version: 5, Cversion: 6, Aversion: 7, EphemeralOwner: 8, DataLength: 9, NumChildren: 10, Pzxid: 11}
	cases := []struct {
		in, out Record
	}{
		{&ConnectResponse{TimeOut: 4000, SessionID: 77, Passwd: []byte("0123456789abcdef"), HasReadOnly: true}, &ConnectResponse{}},
		{&RequestHeader{Xid: 5, Type: OpCreate2}, &RequestHeader{}},
		{&ReplyHeader{Xid: 5, Zxid: 1 << 40, Err: ErrNoNode}, &ReplyHeader{}},
		{&MultiHeader{Type: OpCheck, Done: false, Err: ErrOK}, &MultiHeader{}},
		{&AuthPacket{Scheme: "digest", Auth: []byte("u:p")}, &AuthPacket{}},
		{&PathWatchRequest{Path: "/a", Watch: true}, &PathWatchRequest{}},
		{&PathVersionRequest{Path: "/a", Version: -1}, &PathVersionRequest{}},
		{&SetDataRequest{Path: "/a", Data: []byte("x"), Version: 3}, &SetDataRequest{}},
		{&CreateRequest{Path: "/a", Data: []byte("x"), ACL: acl, Flags: FlagEphemeralSequential}, &CreateRequest{}},
		{&CreateRequest{Path: "/t", Data: []byte{}, ACL: acl, Flags: FlagPersistentWithTTL, TTL: 5000, HasTTL: true}, &CreateRequest{HasTTL: true}},
		{&SetACLRequest{Path: "/a", ACL: acl, Version: 1}, &SetACLRequest{}},
		{&PathTypeRequest{Path: "/a", Type: AddWatchPersistentRecursive}, &PathTypeRequest{}},
		{&SetWatches{RelativeZxid: 9, DataWatches: []string{"/a"}, ExistWatches: []string{}, ChildWatches: []string{"/b", "/c"}}, &SetWatches{}},
		{&SetWatches{RelativeZxid: 9, DataWatches: []string{}, ExistWatches: []string{}, ChildWatches: []string{}, PersistentWatches: []string{"/p"}, PersistentRecursive: []string{"/r"}, V2: true}, &SetWatches{V2: true}},
		{&WatcherEvent{Type: EventNodeDeleted, State: StateSyncConnected, Path: "/x"}, &WatcherEvent{}},
		{&PathStatResponse{Path: "/a0000000001", Stat: stat}, &PathStatResponse{}},
		{&GetDataResponse{Data: []byte("v"), Stat: stat}, &GetDataResponse{}},
		{&GetChildren2Response{Children: []string{"a", "b"}, Stat: stat}, &GetChildren2Response{}},
		{&GetACLResponse{ACL: acl, Stat: stat}, &GetACLResponse{}},
		{&WhoAmIResponse{ClientInfo: []ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}}}, &WhoAmIResponse{}},
		{&IntResponse{Value: 42}, &IntResponse{}},
		{&DataNode{Data: []byte("d"), ACL: 1, Stat: StatPersisted{Czxid: 1, Pzxid: 2}}, &DataNode{}},
		{&FileHeader{Magic: TxnLogMagic, Version: FileVersion}, &FileHeader{}},
	}
	for _, c := range cases {
		b := Marshal(c.in)
		require.NoError(t, Unmarshal(b, c.out), "%T", c.in)
		assert.Equal(t, c.in, c.out, "%T", c.in)
	}
}

func TestStatIs68Bytes(t *testing.T) {
	// 8 longs... czxid mzxid ctime mtime (4x8) + version cversion aversion (3x4)
	// + ephemeralOwner (8) + dataLength numChildren (2x4) + pzxid (8) = 68.
	assert.Len(t, Marshal(&Stat{}), 68)
	assert.Len(t, Marshal(&StatPersisted{}), 60)
}

func TestTxnEntryRoundTrip(t *testing.T) {
	sub := Marshal(&CreateTxn{Path: "/m", Data: []byte("1"), ACL: OpenACLUnsafe, ParentCVersion: 1})
	entries := []*TxnEntry{
		{Header: TxnHeader{ClientID: 1, Cxid: 2, Zxid: 3, Time: 4, Type: OpCreate}, Txn: &CreateTxn{Path: "/a", Data: []byte("x"), ACL: OpenACLUnsafe, Ephemeral: true, ParentCVersion: 7}},
		{Header: TxnHeader{Zxid: 4, Type: OpCreateTTL}, Txn: &CreateTTLTxn{Path: "/t", ACL: OpenACLUnsafe, TTL: 100}},
		{Header: TxnHeader{Zxid: 5, Type: OpSetData}, Txn: &SetDataTxn{Path: "/a", Data: []byte("y"), Version: 1}, Digest: &TxnDigest{Version: 2, TreeDigest: 99}},
		{Header: TxnHeader{Zxid: 6, Type: OpMulti}, Txn: &MultiTxn{Txns: []SubTxn{{Type: OpCreate, Data: sub}, {Type: OpError, Data: Marshal(&ErrorTxn{Err: ErrNoNode})}}}},
		{Header: TxnHeader{Zxid: 7, Type: OpCloseSession}, Txn: &CloseSessionTxn{Paths2Delete: []string{"/e"}}},
		{Header: TxnHeader{Zxid: 8, Type: OpCreateSession}, Txn: &CreateSessionTxn{TimeOut: 30000}},
	}
	for _, want := range entries {
		var e Encoder
		EncodeTxnEntry(&e, want)
		got, err := DecodeTxnEntry(e.Buf)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}

	// A pre-3.6 closeSession has no body.
	hdr := Marshal(&TxnHeader{Zxid: 9, Type: OpCloseSession})
	got, err := DecodeTxnEntry(hdr)
	require.NoError(t, err)
	assert.Equal(t, &CloseSessionTxn{}, got.Txn)

	_, err = DecodeTxnEntry(Marshal(&TxnHeader{Type: Op(77)}))
	assert.True(t, errors.Is(err, ErrUnknownTxn))
}

func TestAppendFrame(t *testing.T) {
	b := AppendFrame(nil, &ReplyHeader{Xid: -2, Zxid: 1}, &IntResponse{Value: 3})
	assert.Equal(t, "00000014", hex.EncodeToString(b[:4]))
	assert.Len(t, b, 4+16+4)
}

func TestNames(t *testing.T) {
	assert.Equal(t, "create2", OpCreate2.String())
	assert.Equal(t, "NoNode", ErrNoNode.String())
	assert.Equal(t, "zk: NodeExists", ErrNodeExists.Error())
	assert.Equal(t, "unknown", Op(999).String())
}
