package group

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Unix(1_700_000_000, 0)

func cfg() Config {
	return Config{MinSessionTimeout: time.Second, MaxSessionTimeout: time.Hour}
}

func join(id, newID string) JoinRequest {
	return JoinRequest{MemberID: id, NewMemberID: newID, ClientID: "c", ProtocolType: "consumer",
		Protocols:      []Protocol{{Name: "range", Metadata: []byte("m-" + newID)}, {Name: "roundrobin"}},
		SessionTimeout: 10 * time.Second, RebalanceTimeout: 30 * time.Second, RequireKnownMemberID: true}
}

func byWaiter(rs []Reply) map[Waiter]Reply {
	m := map[Waiter]Reply{}
	for _, r := range rs {
		m[r.Waiter] = r
	}
	return m
}

// Two members: the member id handshake, one rebalance, the leader's
// assignment reaches the follower, heartbeats, then the follower leaves.
func TestTwoMembersRebalance(t *testing.T) {
	g := New("g", cfg())
	imm, _ := g.Join(join("", "a"), nil, t0)
	require.Equal(t, ErrMemberIDRequired, imm.Err)
	require.Equal(t, "a", imm.MemberID)
	imm, rs := g.Join(join("a", "a"), "wa", t0)
	require.Nil(t, imm)
	// a alone: the rebalance completes at once (no initial delay).
	r := byWaiter(rs)["wa"]
	require.NotNil(t, r.Join)
	require.Equal(t, int32(1), r.Join.Generation)
	require.Equal(t, "a", r.Join.Leader)
	require.Equal(t, CompletingRebalance, g.State)
	_, rs = g.Sync("a", "", 1, map[string][]byte{"a": []byte("all")}, "sa", t0)
	require.Equal(t, []byte("all"), byWaiter(rs)["sa"].Sync.Assignment)
	require.Equal(t, Stable, g.State)

	// b joins: a must rejoin (heartbeat says REBALANCE_IN_PROGRESS).
	imm, _ = g.Join(join("", "b"), nil, t0)
	require.Equal(t, ErrMemberIDRequired, imm.Err)
	imm, rs = g.Join(join("b", "b"), "wb", t0)
	require.Nil(t, imm)
	require.Empty(t, rs)
	require.Equal(t, PreparingRebalance, g.State)
	require.Equal(t, ErrRebalanceInProgress, g.Heartbeat("a", "", 1, t0))
	_, rs = g.Join(join("a", "a"), "wa2", t0.Add(time.Second))
	m := byWaiter(rs)
	require.Equal(t, int32(2), m["wa2"].Join.Generation)
	require.Len(t, m["wa2"].Join.Members, 2, "the leader gets every member's metadata")
	require.Equal(t, []byte("m-b"), m["wa2"].Join.Members[1].Metadata)
	require.Empty(t, m["wb"].Join.Members)
	require.Equal(t, "range", m["wb"].Join.Protocol)

	// Follower syncs first and waits; the leader's sync answers both.
	imm2, rs := g.Sync("b", "", 2, nil, "sb", t0)
	require.Nil(t, imm2)
	require.Empty(t, rs)
	_, rs = g.Sync("a", "", 2, map[string][]byte{"a": []byte("p0"), "b": []byte("p1")}, "sa2", t0)
	m = byWaiter(rs)
	require.Equal(t, []byte("p1"), m["sb"].Sync.Assignment)
	require.Equal(t, []byte("p0"), m["sa2"].Sync.Assignment)
	require.Equal(t, ErrNone, g.Heartbeat("b", "", 2, t0))
	require.Equal(t, ErrIllegalGeneration, g.Heartbeat("b", "", 1, t0))
	require.Equal(t, ErrUnknownMemberID, g.Heartbeat("zz", "", 2, t0))
	require.Equal(t, ErrNone, g.CommitAllowed("a", "", 2))
	require.Equal(t, ErrIllegalGeneration, g.CommitAllowed("", "", -1))

	// b leaves: a rebalance with a alone.
	code, _ := g.Leave("b", "", t0)
	require.Equal(t, ErrNone, code)
	require.Equal(t, PreparingRebalance, g.State)
	_, rs = g.Join(join("a", "a"), "wa3", t0)
	require.Equal(t, int32(3), byWaiter(rs)["wa3"].Join.Generation)
}

// A member that stops heartbeating is removed after its session timeout;
// the last one leaving makes the group Empty.
func TestSessionExpiry(t *testing.T) {
	g := New("g", cfg())
	g.Join(join("", "a"), nil, t0)
	g.Join(join("a", "a"), "wa", t0)
	g.Sync("a", "", 1, map[string][]byte{"a": nil}, "sa", t0)
	require.Empty(t, g.Tick(t0.Add(9*time.Second)))
	require.Equal(t, Stable, g.State)
	g.Tick(t0.Add(11 * time.Second))
	require.Equal(t, Empty, g.State)
	require.Empty(t, g.Members)
	require.Equal(t, int32(2), g.Generation)
	require.Equal(t, ErrNone, g.CommitAllowed("", "", -1))
}

// A member that does not rejoin within the rebalance timeout is dropped.
func TestRebalanceTimeoutDropsSlowMember(t *testing.T) {
	g := New("g", cfg())
	g.Join(join("", "a"), nil, t0)
	g.Join(join("a", "a"), "wa", t0)
	g.Sync("a", "", 1, nil, "sa", t0)
	g.Join(join("", "b"), nil, t0)
	_, rs := g.Join(join("b", "b"), "wb", t0)
	require.Empty(t, rs)
	rs = g.Tick(t0.Add(31 * time.Second))
	r := byWaiter(rs)["wb"]
	require.NotNil(t, r.Join)
	require.Equal(t, "b", r.Join.Leader)
	require.Equal(t, []string{"b"}, g.MemberIDs())
}

func TestJoinErrors(t *testing.T) {
	g := New("g", cfg())
	imm, _ := g.Join(join("nobody", "x"), "w", t0)
	require.Equal(t, ErrUnknownMemberID, imm.Err)
	bad := join("", "x")
	bad.SessionTimeout = time.Millisecond
	imm, _ = g.Join(bad, "w", t0)
	require.Equal(t, ErrInvalidSessionTimeout, imm.Err)
	g.Join(join("", "a"), nil, t0)
	g.Join(join("a", "a"), "wa", t0)
	other := join("", "o")
	other.Protocols = []Protocol{{Name: "sticky"}}
	imm, _ = g.Join(other, "w", t0)
	require.Equal(t, ErrInconsistentGroupProtocol, imm.Err)
	rs := g.Kill()
	require.Len(t, rs, 0) // a's join was already answered
	require.Equal(t, Dead, g.State)
	require.Equal(t, ErrCoordinatorNotAvailable, g.Heartbeat("a", "", 1, t0))
}

// Static membership: no member id handshake; a restarted static member
// (same instance id, no member id) takes over without a rebalance when it
// is not the leader; the old member id is fenced.
func TestStaticMembership(t *testing.T) {
	g := New("g", cfg())
	static := func(id, newID, inst string) JoinRequest {
		r := join(id, newID)
		r.InstanceID = inst
		r.Protocols = []Protocol{{Name: "range", Metadata: []byte("m-" + inst)}}
		return r
	}
	imm, rs := g.Join(static("", "a1", "ia"), "wa", t0)
	require.Nil(t, imm, "no MEMBER_ID_REQUIRED for a static member")
	require.Equal(t, "a1", byWaiter(rs)["wa"].Join.MemberID)
	g.Sync("a1", "ia", 1, map[string][]byte{"a1": []byte("A")}, "sa", t0)
	_, rs = g.Join(static("", "b1", "ib"), "wb", t0)
	require.Empty(t, rs)
	_, rs = g.Join(static("a1", "x", "ia"), "wa2", t0)
	require.Equal(t, int32(2), byWaiter(rs)["wa2"].Join.Generation)
	g.Sync("b1", "ib", 2, nil, "sb", t0)
	_, rs = g.Sync("a1", "ia", 2, map[string][]byte{"a1": []byte("A"), "b1": []byte("B")}, "sa2", t0)
	require.Equal(t, []byte("B"), byWaiter(rs)["sb"].Sync.Assignment)
	require.Equal(t, Stable, g.State)

	// b restarts: new member id, same generation, no rebalance.
	imm, _ = g.Join(static("", "b2", "ib"), "wb2", t0)
	require.NotNil(t, imm)
	require.Equal(t, "b2", imm.MemberID)
	require.Equal(t, int32(2), imm.Generation)
	require.Equal(t, Stable, g.State)
	res, _ := g.Sync("b2", "ib", 2, nil, "sb2", t0)
	require.Equal(t, []byte("B"), res.Assignment, "the assignment follows the instance")
	// The old member id is fenced.
	require.Equal(t, ErrFencedInstanceID, g.Heartbeat("b1", "ib", 2, t0))
	require.Equal(t, ErrFencedInstanceID, g.CommitAllowed("b1", "ib", 2))
	imm, _ = g.Join(static("b1", "z", "ib"), "w", t0)
	require.Equal(t, ErrFencedInstanceID, imm.Err)
	// Leaving by instance id alone.
	code, _ := g.Leave("", "ib", t0)
	require.Equal(t, ErrNone, code)
	require.Equal(t, []string{"a1"}, g.MemberIDs())
}

// Kafka writes a group metadata record when a generation completes (the
// leader's SyncGroup, or a rebalance that leaves the group Empty), not
// while it is in progress. A group restored from the record is Stable with
// the same generation, members and assignments: members heartbeat and
// sync on without a rebalance, and a member that never returns is removed
// after its session timeout.
func TestGroupRecordAndRestore(t *testing.T) {
	g := New("g", cfg())
	_, ok := g.TakeRecord()
	require.False(t, ok)
	g.Join(join("", "a"), nil, t0)
	g.Join(join("a", "a"), "wa", t0)
	_, ok = g.TakeRecord()
	require.False(t, ok, "nothing to store before the leader's SyncGroup")
	g.Sync("a", "", 1, map[string][]byte{"a": []byte("all")}, "sa", t0)
	rec, ok := g.TakeRecord()
	require.True(t, ok)
	require.Equal(t, int32(1), rec.Generation)
	g.Join(join("", "b"), nil, t0)
	g.Join(join("b", "b"), "wb", t0)
	g.Join(join("a", "a"), "wa", t0)
	_, ok = g.TakeRecord()
	require.False(t, ok, "nothing to store while the rebalance is in progress")
	g.Sync("b", "", 2, nil, "sb", t0)
	_, ok = g.TakeRecord()
	require.False(t, ok, "nor while the leader has not synced")
	g.Sync("a", "", 2, map[string][]byte{"a": []byte("p0"), "b": []byte("p1")}, "sa", t0.Add(time.Second))
	rec, ok = g.TakeRecord()
	require.True(t, ok)
	require.Equal(t, GroupMetadata{ProtocolType: "consumer", Generation: 2, Protocol: "range", Leader: "a", StateTimestamp: t0.Add(time.Second).UnixMilli(),
		Members: []MemberRecord{
			{MemberID: "a", ClientID: "c", RebalanceTimeout: 30000, SessionTimeout: 10000, Subscription: []byte("m-a"), Assignment: []byte("p0")},
			{MemberID: "b", ClientID: "c", RebalanceTimeout: 30000, SessionTimeout: 10000, Subscription: []byte("m-b"), Assignment: []byte("p1")},
		}}, rec)
	_, ok = g.TakeRecord()
	require.False(t, ok, "taken once")

	// Through the byte format, as a reload reads it.
	back, err := DecodeGroupMetadataValue(EncodeGroupMetadataValue(rec))
	require.NoError(t, err)
	t1 := t0.Add(time.Hour)
	r := Restore("g", cfg(), back, t1)
	require.Equal(t, Stable, r.State)
	require.Equal(t, int32(2), r.Generation)
	require.Equal(t, []string{"a", "b"}, r.MemberIDs())
	require.Equal(t, ErrNone, r.Heartbeat("a", "", 2, t1))
	res, _ := r.Sync("b", "", 2, nil, "x", t1)
	require.Equal(t, []byte("p1"), res.Assignment, "a member re-syncing gets its assignment back")
	_, ok = r.TakeRecord()
	require.False(t, ok)

	// b never comes back: removed after its session, a rejoins alone.
	r.Tick(t1.Add(5 * time.Second))
	r.Heartbeat("a", "", 2, t1.Add(5*time.Second))
	r.Tick(t1.Add(11 * time.Second))
	require.Equal(t, PreparingRebalance, r.State)
	_, rs := r.Join(join("a", "a"), "wa", t1.Add(11*time.Second))
	require.Equal(t, int32(3), byWaiter(rs)["wa"].Join.Generation)
	r.Sync("a", "", 3, map[string][]byte{"a": []byte("p0p1")}, "sa", t1.Add(11*time.Second))
	rec, ok = r.TakeRecord()
	require.True(t, ok)
	require.Len(t, rec.Members, 1)

	// The last member leaves: Empty, generation 4, recorded without members.
	r.Leave("a", "", t1.Add(12*time.Second))
	require.Equal(t, Empty, r.State)
	rec, ok = r.TakeRecord()
	require.True(t, ok)
	require.Equal(t, GroupMetadata{ProtocolType: "consumer", Generation: 4, StateTimestamp: t1.Add(12 * time.Second).UnixMilli()}, rec)
	e := Restore("g", cfg(), rec, t1)
	require.Equal(t, Empty, e.State)
	require.Equal(t, int32(4), e.Generation)
}
