package zab

import (
	"testing"

	"github.com/stretchr/testify/require"

	"mqstack/election/quorum"
	"mqstack/proto/peer"
)

// Each test names the sentence of "ZooKeeper Internals" (Apache ZooKeeper
// documentation, Atomic Broadcast) or of the brief it checks. The
// invariants (total order, agreement, a committed txn is never lost, one
// leader per epoch, durability on a quorum) are checked after every step of
// TestRandomSchedules and of the scripts in testdata.

func established(t *testing.T, voters, observers int) *cluster {
	c := newCluster(t, voters, observers, Config{})
	c.lead(1)
	for _, n := range c.nodes[1:] {
		c.follow(n.id, 1)
	}
	c.stabilize()
	require.True(t, c.node(1).leader.Established())
	return c
}

func learnerAt(t *testing.T, v quorum.Verifier, id uint64) *Learner {
	f, err := NewLearner(Config{ID: id, Verifier: v}, 1, LearnerState{AcceptedEpoch: 0})
	require.NoError(t, err)
	require.False(t, f.HasReady(), "FOLLOWERINFO before the connection is up")
	f.Connected()
	f.Ready()
	f.Step(Message{From: 1, To: id, Msg: peer.LeaderInfo{NewEpoch: 1}})
	f.Step(Message{From: 1, To: id, Msg: peer.Zxid{Kind: peer.TypeDiff}})
	f.Step(Message{From: 1, To: id, Msg: peer.Zxid{Kind: peer.TypeNewLeader, Zxid: MakeZxid(1, 0)}})
	f.Step(Message{From: 1, To: id, Msg: peer.Zxid{Kind: peer.TypeUpToDate}})
	f.Ready()
	require.True(t, f.Established())
	return f
}

func voters(t *testing.T, n int, observers ...uint64) quorum.Verifier {
	var ids []uint64
	for i := 1; i <= n; i++ {
		ids = append(ids, uint64(i))
	}
	v, err := quorum.NewVerifier(ids, observers)
	require.NoError(t, err)
	return v
}

// "Acknowledgement means the server has recorded the proposal to persistent
// storage." A follower acknowledges a proposal only after it has written it
// to its log: the ACK is in the same Ready as the entry, and Ready's
// contract sends Messages only after Entries are durable.
func TestAckOnlyAfterLogWrite(t *testing.T) {
	f := learnerAt(t, voters(t, 3), 2)
	z := MakeZxid(1, 1)
	f.Step(Message{From: 1, To: 2, Msg: peer.Txn{Kind: peer.TypeProposal, Zxid: z, Data: []byte("x")}})
	rd := f.Ready()
	require.Equal(t, []Entry{{Zxid: z, Data: []byte("x")}}, rd.Entries)
	require.Equal(t, []Message{{From: 2, To: 1, Msg: peer.Zxid{Kind: peer.TypeAck, Zxid: z}}}, rd.Messages)
	require.Empty(t, rd.Committed, "a proposal is not delivered before its COMMIT")
}

// "Proposals are sent to all ZooKeeper servers and committed when a quorum
// of them acknowledge the proposal." Observers' acks never count.
func TestCommitNeedsQuorumOfVoters(t *testing.T) {
	c := established(t, 5, 1)
	z, err := c.propose(1)
	require.NoError(t, err)
	l := c.node(1).leader
	c.deliver(1, 0, "PROPOSAL", false)
	c.deliver(2, 1, "", false)
	require.Less(t, l.Committed(), z, "leader + 1 of 5 committed")
	// An ack from the observer (6) is ignored.
	l.Step(Message{From: 6, To: 1, Msg: peer.Zxid{Kind: peer.TypeAck, Zxid: z}})
	require.Less(t, l.Committed(), z, "an observer's ack counted")
	c.deliver(3, 1, "", false)
	require.Equal(t, z, l.Committed())
}

// "The leader will issue a COMMIT to all followers as soon as a quorum of
// followers have ACKed a message. Since messages are ACKed in order, COMMITs
// will be sent by the leader as received by the followers in order." A
// quorum for a later proposal does not commit it before an earlier one.
func TestCommitsInZxidOrder(t *testing.T) {
	c := established(t, 3, 0)
	z1, _ := c.propose(1)
	z2, _ := c.propose(1)
	c.flight = nil
	l := c.node(1).leader
	l.Step(Message{From: 2, To: 1, Msg: peer.Zxid{Kind: peer.TypeAck, Zxid: z2}})
	require.Less(t, l.Committed(), z1)
	require.Empty(t, l.Ready().Committed)
	l.Step(Message{From: 3, To: 1, Msg: peer.Zxid{Kind: peer.TypeAck, Zxid: z1}})
	rd := l.Ready()
	require.Equal(t, []int64{z1, z2}, []int64{rd.Committed[0].Zxid, rd.Committed[1].Zxid})
}

// "COMMITs are processed in order. Followers deliver a proposal message
// when that proposal is committed." A COMMIT for anything but the oldest
// pending proposal ends the learner (Apache exits on such a mismatch).
func TestFollowerDeliversOnCommitInOrder(t *testing.T) {
	f := learnerAt(t, voters(t, 3), 2)
	z1, z2 := MakeZxid(1, 1), MakeZxid(1, 2)
	f.Step(Message{From: 1, To: 2, Msg: peer.Txn{Kind: peer.TypeProposal, Zxid: z1}})
	f.Step(Message{From: 1, To: 2, Msg: peer.Txn{Kind: peer.TypeProposal, Zxid: z2}})
	require.Empty(t, f.Ready().Committed)
	f.Step(Message{From: 1, To: 2, Msg: peer.Zxid{Kind: peer.TypeCommit, Zxid: z2}})
	rd := f.Ready()
	require.Empty(t, rd.Committed)
	require.ErrorIs(t, rd.Lost, ErrLost)
	require.ErrorContains(t, rd.Lost, "committing zxid 1:2 but next pending txn is 1:1")
}

// "A follower will ACK the NEW_LEADER proposal after it has synced with the
// leader." The ACK leaves with (after) the synced txns and the new current
// epoch being persisted.
func TestNewLeaderAckAfterSync(t *testing.T) {
	v := voters(t, 3)
	f, err := NewLearner(Config{ID: 2, Verifier: v}, 1, LearnerState{AcceptedEpoch: 1, CurrentEpoch: 1, LastZxid: MakeZxid(1, 1)})
	require.NoError(t, err)
	f.Connected()
	f.Ready()
	f.Step(Message{From: 1, To: 2, Msg: peer.LeaderInfo{NewEpoch: 2}})
	rd := f.Ready()
	require.Equal(t, int64(2), *rd.AcceptedEpoch, "acceptedEpoch persisted before ACKEPOCH is sent")
	require.Equal(t, peer.AckEpoch{CurrentEpoch: 1, LastZxid: MakeZxid(1, 1)}, rd.Messages[0].Msg)
	f.Step(Message{From: 1, To: 2, Msg: peer.Zxid{Kind: peer.TypeDiff, Zxid: MakeZxid(1, 2)}})
	f.Step(Message{From: 1, To: 2, Msg: peer.Txn{Kind: peer.TypeProposal, Zxid: MakeZxid(1, 2)}})
	f.Step(Message{From: 1, To: 2, Msg: peer.Zxid{Kind: peer.TypeCommit, Zxid: MakeZxid(1, 2)}})
	f.Step(Message{From: 1, To: 2, Msg: peer.Zxid{Kind: peer.TypeNewLeader, Zxid: MakeZxid(2, 0)}})
	rd = f.Ready()
	require.Equal(t, int64(2), *rd.CurrentEpoch)
	require.Len(t, rd.Entries, 1)
	require.Equal(t, []Message{{From: 2, To: 1, Msg: peer.Zxid{Kind: peer.TypeAck, Zxid: MakeZxid(2, 0)}}}, rd.Messages)
	require.False(t, f.Established(), "serving before UPTODATE")
}

// "A follower will only ACK a NEW_LEADER proposal with a given zxid from a
// single server." A learner ignores every message not from its leader.
func TestLearnerListensToItsLeaderOnly(t *testing.T) {
	f, err := NewLearner(Config{ID: 2, Verifier: voters(t, 3)}, 1, LearnerState{})
	require.NoError(t, err)
	f.Connected()
	f.Ready()
	f.Step(Message{From: 3, To: 2, Msg: peer.LeaderInfo{NewEpoch: 9}})
	require.False(t, f.HasReady())
}

// "A new leader will not accept new proposals until the NEW_LEADER proposal
// has been COMMITTED."
func TestNoProposalsBeforeActivation(t *testing.T) {
	l, err := NewLeader(Config{ID: 1, Verifier: voters(t, 3)}, LeaderState{})
	require.NoError(t, err)
	_, err = l.Propose([]byte("x"))
	require.ErrorIs(t, err, ErrNotLeading)
	l.Step(Message{From: 2, To: 1, Msg: peer.LearnerInfo{ServerID: 2}})
	l.Step(Message{From: 2, To: 1, Msg: peer.AckEpoch{LastZxid: 0}})
	_, err = l.Propose([]byte("x"))
	require.ErrorIs(t, err, ErrNotLeading, "proposal accepted before the NEWLEADER quorum")
	l.Step(Message{From: 2, To: 1, Msg: peer.Zxid{Kind: peer.TypeAck, Zxid: MakeZxid(1, 0)}})
	z, err := l.Propose([]byte("x"))
	require.NoError(t, err)
	require.Equal(t, MakeZxid(1, 1), z, "the first zxid of an epoch is (e, 1)")
}

// "When the follower connects to the leader, the leader will tell the
// follower to discard U." (U: proposals the leader has not seen.)
func TestLeaderTellsFollowerToDiscard(t *testing.T) {
	c := newCluster(t, 3, 0, Config{})
	for _, n := range c.nodes {
		n.accepted, n.current = 1, 1
		n.log = parseEntries(t, []string{"1:1", "1:2"})
	}
	c.node(3).log = parseEntries(t, []string{"1:1", "1:2", "1:3"})
	for _, n := range c.nodes {
		n.reload()
	}
	c.lead(1)
	c.follow(2, 1)
	c.follow(3, 1)
	c.stabilize()
	require.Equal(t, "[1:1 1:2]", zxids(c.node(3).durable()))
	require.Equal(t, "[1:1 1:2]", zxids(c.node(3).tree))
}

// "if a follower is missing too many proposals, it will send a full
// snapshot of the state to the follower."
func TestSnapshotWhenTooFarBehind(t *testing.T) {
	c := newCluster(t, 3, 0, Config{CommitLogSize: 2})
	for _, n := range c.nodes[:2] {
		n.log = parseEntries(t, []string{"1:1", "1:2", "1:3", "1:4"})
		n.accepted, n.current = 1, 1
		n.reload()
	}
	c.lead(1)
	c.follow(2, 1)
	c.follow(3, 1)
	c.stabilize()
	n3 := c.node(3)
	require.Equal(t, "[1:1 1:2 1:3 1:4]", zxids(n3.snap), "server 3 got no snapshot")
	require.True(t, n3.serving)
}

// "any uncommitted proposals from a previous epoch seen by a new leader
// will be committed by that leader before it becomes active."
func TestNewLeaderCommitsPreviousEpochProposals(t *testing.T) {
	c := newCluster(t, 3, 0, Config{})
	c.node(1).log = parseEntries(t, []string{"1:1", "1:2"})
	c.node(2).log = parseEntries(t, []string{"1:1"})
	for _, n := range c.nodes {
		n.accepted, n.current = 1, 1
		n.reload()
	}
	c.lead(1)
	c.follow(2, 1)
	c.deliver(0, 0, "", false) // FOLLOWERINFO
	c.deliver(0, 0, "", false) // LEADERINFO
	c.deliver(0, 0, "", false) // ACKEPOCH
	// The sync carries 1:2 before NEWLEADER: it is on a quorum (1, 2) when
	// the leader activates.
	var kinds []string
	for _, m := range c.flight {
		kinds = append(kinds, m.Msg.PeerType().String())
	}
	require.Equal(t, []string{"DIFF", "PROPOSAL", "COMMIT", "NEWLEADER"}, kinds)
	c.stabilize()
	require.True(t, c.node(1).leader.Established())
	require.Equal(t, "[1:1 1:2]", zxids(c.node(2).tree))
}

// "Leadership activation will ensure that only one leader uses a given
// epoch": a second would-be leader that reaches a follower which already
// accepted epoch e proposes e+1.
func TestOneLeaderPerEpoch(t *testing.T) {
	c := newCluster(t, 3, 0, Config{})
	c.lead(1)
	c.follow(2, 1)
	c.stabilize()
	require.Equal(t, int64(1), c.node(1).leader.Epoch())
	// Server 3 believes it leads and 2 (after losing 1) follows it.
	c.lead(3)
	c.follow(2, 3)
	c.stabilize()
	require.Equal(t, int64(2), c.node(3).leader.Epoch())
}

// "if a failure happens during or after the leader election and quorum is
// lost, we will recover by abandoning leader activation and running
// another election."
func TestAbandonActivationWithoutQuorum(t *testing.T) {
	l, err := NewLeader(Config{ID: 1, Verifier: voters(t, 3), InitLimit: 2}, LeaderState{})
	require.NoError(t, err)
	l.Tick()
	l.Tick()
	require.Nil(t, l.Ready().Lost)
	l.Tick()
	rd := l.Ready()
	require.ErrorIs(t, rd.Lost, ErrLost)
	require.ErrorContains(t, rd.Lost, "initLimit")
	require.True(t, l.Lost())
}

// The leader steps down when it loses a quorum of synced followers for
// syncLimit ticks; PINGs answered keep it leading.
func TestLeaderStepsDownWithoutQuorum(t *testing.T) {
	c := newCluster(t, 3, 0, Config{SyncLimit: 2})
	c.lead(1)
	c.follow(2, 1)
	c.follow(3, 1)
	c.stabilize()
	for i := 0; i < 10; i++ {
		for _, n := range c.nodes {
			c.tick(n)
		}
		c.stabilize()
	}
	require.True(t, c.node(1).leader.Established(), "pings answered, yet the leader stepped down")
	c.crash(3)
	c.crash(2)
	for i := 0; i < 3; i++ {
		c.tick(c.node(1))
	}
	require.Nil(t, c.node(1).leader, "leader kept leading a minority")
}

func TestConfigAndZxidHelpers(t *testing.T) {
	v := voters(t, 3, 4)
	_, err := NewLeader(Config{ID: 4, Verifier: v}, LeaderState{})
	require.ErrorContains(t, err, "observer and cannot lead")
	_, err = NewLeader(Config{ID: 9, Verifier: v}, LeaderState{})
	require.ErrorContains(t, err, "add a server.9 line")
	_, err = NewLeader(Config{ID: 1, Verifier: v}, LeaderState{BaseZxid: 5, History: []Entry{{Zxid: 4}}})
	require.ErrorIs(t, err, ErrConfig)
	_, err = NewLearner(Config{ID: 2, Verifier: v}, 4, LearnerState{})
	require.ErrorContains(t, err, "cannot follow 4")
	z := MakeZxid(7, 42)
	require.Equal(t, int64(7), EpochOf(z))
	require.Equal(t, int64(42), CounterOf(z))
	require.Equal(t, "7:42", FormatZxid(z))
	require.True(t, follows(MakeZxid(7, 43), z))
	require.True(t, follows(MakeZxid(9, 1), z))
	require.False(t, follows(MakeZxid(7, 44), z))
	require.False(t, follows(MakeZxid(9, 2), z))
}

// Apache forces a new election when the counter of the epoch would roll
// over ("zxid lower 32 bits have rolled over"); so does the Leader.
func TestZxidCounterOverflowStepsDown(t *testing.T) {
	c := established(t, 3, 0)
	l := c.node(1).leader
	l.counter = 0xffffffff - 1
	z, err := l.Propose([]byte("last"))
	require.NoError(t, err)
	require.Equal(t, int64(0xffffffff), CounterOf(z))
	_, err = l.Propose([]byte("one too many"))
	require.ErrorIs(t, err, ErrZxidOverflow)
	require.ErrorIs(t, l.Ready().Lost, ErrLost)
	_, err = l.Propose([]byte("after"))
	require.ErrorIs(t, err, ErrNotLeading)
}
