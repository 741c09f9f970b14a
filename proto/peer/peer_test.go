package peer

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func samples() []Msg {
	return []Msg{
		Hello{ServerID: 3, Version: ProtocolVersion},
		Notification{State: Leading, Leader: 3, Zxid: 1<<32 | 8, ElectionEpoch: 2, PeerEpoch: 1, ConfigVersion: 0},
		LearnerInfo{ServerID: 2, AcceptedEpoch: 4, Version: ProtocolVersion},
		LearnerInfo{Observer: true, ServerID: 6, AcceptedEpoch: 4, Version: ProtocolVersion},
		LeaderInfo{NewEpoch: 5, Version: ProtocolVersion},
		AckEpoch{CurrentEpoch: -1, LastZxid: 4<<32 | 17, SnapZxid: 4<<32 | 2},
		Zxid{Kind: TypeAck, Zxid: 5<<32 | 1},
		Zxid{Kind: TypeCommit, Zxid: 5<<32 | 1},
		Zxid{Kind: TypeDiff, Zxid: 5 << 32},
		Zxid{Kind: TypeTrunc, Zxid: 4<<32 | 3},
		Zxid{Kind: TypeNewLeader, Zxid: 5 << 32},
		Zxid{Kind: TypeUpToDate, Zxid: -1},
		Txn{Kind: TypeProposal, Zxid: 5<<32 | 2, Data: []byte("txn body")},
		Txn{Kind: TypeInform, Zxid: 5<<32 | 2, Data: []byte{}},
		Snap{Zxid: 5<<32 | 9, Snapshot: bytes.Repeat([]byte{7}, 1000)},
		Opaque{Kind: TypePing, Zxid: 5<<32 | 9},
		Opaque{Kind: TypeRequest, Data: []byte{1, 2, 3}},
		Opaque{Kind: TypeRevalidate, Data: []byte{4}},
		Opaque{Kind: TypeSync, Data: []byte{5}},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, m := range samples() {
		b, err := Encode(m)
		require.NoError(t, err, "%T %s", m, m.PeerType())
		require.Equal(t, byte(m.PeerType()), b[0])
		got, err := Decode(b)
		require.NoError(t, err, "%s", m.PeerType())
		if tx, ok := m.(Txn); ok && len(tx.Data) == 0 {
			require.Empty(t, got.(Txn).Data)
			continue
		}
		require.Equal(t, m, got)
	}
}

func TestEncodeRejects(t *testing.T) {
	_, err := Encode(Zxid{Kind: TypeProposal, Zxid: 1})
	require.True(t, errors.Is(err, ErrUnknownType), "%v", err)
	_, err = Encode(Txn{Kind: TypeAck})
	require.True(t, errors.Is(err, ErrUnknownType))
	_, err = Encode(&Hello{})
	require.True(t, errors.Is(err, ErrMalformed))
	_, err = Encode(Snap{Snapshot: make([]byte, MaxSize)})
	require.True(t, errors.Is(err, ErrTooLarge))
}

func TestDecodeRejects(t *testing.T) {
	_, err := Decode(nil)
	require.True(t, errors.Is(err, ErrMalformed))
	_, err = Decode([]byte{200, 0x90})
	require.True(t, errors.Is(err, ErrUnknownType))
	_, err = Decode([]byte{byte(TypeAck)})
	require.True(t, errors.Is(err, ErrMalformed))

	good, err := Encode(Zxid{Kind: TypeCommit, Zxid: 7})
	require.NoError(t, err)
	// The type byte and the body kind disagree.
	bad := append([]byte{byte(TypeAck)}, good[1:]...)
	_, err = Decode(bad)
	require.ErrorContains(t, err, "type byte ACK, body kind COMMIT")
	// Trailing garbage.
	_, err = Decode(append(good, 0xc0))
	require.ErrorContains(t, err, "trailing")
	// Truncated.
	p, err := Encode(Txn{Kind: TypeProposal, Zxid: 1, Data: []byte("hello world")})
	require.NoError(t, err)
	for i := 1; i < len(p); i++ {
		_, err = Decode(p[:i])
		require.Error(t, err, "prefix of %d bytes decoded", i)
	}
	// Too large for the election port.
	big, err := Encode(Snap{Snapshot: make([]byte, MaxElectionSize)})
	require.NoError(t, err)
	_, err = DecodeLimit(big, MaxElectionSize)
	require.True(t, errors.Is(err, ErrTooLarge))
	// FOLLOWERINFO claiming to be an observer.
	oi, err := Encode(LearnerInfo{Observer: true, ServerID: 1})
	require.NoError(t, err)
	oi[0] = byte(TypeFollowerInfo)
	_, err = Decode(oi)
	require.ErrorContains(t, err, "observer=true")
}

func TestNames(t *testing.T) {
	require.Equal(t, "LEADERINFO", TypeLeaderInfo.String())
	require.Equal(t, "Type(99)", Type(99).String())
	require.Equal(t, "OBSERVING", Observing.String())
	require.Equal(t, "ServerState(9)", ServerState(9).String())
}

func FuzzDecode(f *testing.F) {
	for _, m := range samples() {
		b, err := Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{byte(TypeSnap)})
	f.Add([]byte{byte(TypeProposal), 0x93, 0x02, 0x01, 0xdb, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Encode(m)
		if err != nil {
			t.Fatalf("decoded %#v does not encode: %v", m, err)
		}
		m2, err := Decode(again)
		if err != nil {
			t.Fatalf("re-encoded %#v does not decode: %v", m, err)
		}
		if m.PeerType() != m2.PeerType() {
			t.Fatalf("type changed: %s -> %s", m.PeerType(), m2.PeerType())
		}
		again2, err := Encode(m2)
		if err != nil || !bytes.Equal(again, again2) {
			t.Fatalf("unstable encoding: %x vs %x (%v)", again, again2, err)
		}
	})
}
