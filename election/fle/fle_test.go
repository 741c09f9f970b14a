package fle

import (
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"mqstack/election/quorum"
	"mqstack/proto/peer"
)

func verifier(t *testing.T, voters, observers []uint64) quorum.Verifier {
	v, err := quorum.NewVerifier(voters, observers)
	require.NoError(t, err)
	return v
}

// "Election Leader rules: EPOCH big direct winner; the same EPOCH, the one
// with a large transaction id wins; if the transaction id is the same and
// the server id is larger, the winner will win" (seeds), which is Apache's
// totalOrderPredicate.
func TestVoteOrder(t *testing.T) {
	e, err := New(Config{ID: 1, Verifier: verifier(t, []uint64{1, 2, 3, 4, 5}, []uint64{6})})
	require.NoError(t, err)
	cases := []struct {
		n, cur Vote
		want   bool
	}{
		{Vote{1, 1, 2}, Vote{5, 100, 1}, true},  // higher epoch wins over a higher zxid
		{Vote{1, 100, 1}, Vote{5, 1, 2}, false}, // lower epoch loses
		{Vote{1, 9, 1}, Vote{5, 8, 1}, true},    // same epoch, higher zxid
		{Vote{5, 8, 1}, Vote{1, 9, 1}, false},   // same epoch, lower zxid
		{Vote{2, 8, 1}, Vote{1, 8, 1}, true},    // tie: higher sid
		{Vote{1, 8, 1}, Vote{2, 8, 1}, false},   // tie: lower sid
		{Vote{1, 8, 1}, Vote{1, 8, 1}, false},   // equal is not better
		{Vote{6, 99, 9}, Vote{1, 0, 0}, false},  // an observer never wins
		{Vote{42, 99, 9}, Vote{1, 0, 0}, false}, // nor a stranger
		{Vote{1, 0, 0}, noVote, true},           // anything beats an observer's no-vote
	}
	for i, c := range cases {
		require.Equal(t, c.want, e.better(c.n, c.cur), "case %d: %s over %s", i, c.n, c.cur)
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := New(Config{ID: 0, Verifier: verifier(t, []uint64{1}, nil)})
	require.ErrorIs(t, err, ErrConfig)
	_, err = New(Config{ID: 7, Verifier: verifier(t, []uint64{1}, nil)})
	require.ErrorContains(t, err, "add a server.7 line")
}

// A single voter is its own quorum: it leads after the finalize wait.
func TestSingleVoter(t *testing.T) {
	e, err := New(Config{ID: 1, Verifier: verifier(t, []uint64{1}, []uint64{2}), FinalizeTicks: 3})
	require.NoError(t, err)
	e.Start(Vote{Zxid: 5, PeerEpoch: 1})
	require.Nil(t, e.Ready().Decision)
	e.Tick()
	e.Tick()
	require.Nil(t, e.Ready().Decision)
	e.Tick()
	rd := e.Ready()
	require.NotNil(t, rd.Decision)
	require.Equal(t, peer.Leading, rd.Decision.State)
	require.Equal(t, Vote{1, 5, 1}, rd.Decision.Vote)
	// A LOOKING voter would be answered; an observer is answered too.
	e.Step(Message{From: 2, To: 1, N: peer.Notification{State: peer.Looking, ElectionEpoch: 1}})
	rd = e.Ready()
	require.Len(t, rd.Messages, 1)
	require.Equal(t, peer.Leading, rd.Messages[0].N.State)
	require.Equal(t, uint64(1), rd.Messages[0].N.Leader)
	// Stopped: silent.
	e.Stop()
	e.Step(Message{From: 2, To: 1, N: peer.Notification{State: peer.Looking, ElectionEpoch: 1}})
	e.Tick()
	require.False(t, e.HasReady())
}

// "a higher electionEpoch resets the received votes": a notification from a
// later round clears recvset before it is counted.
func TestHigherRoundResetsVotes(t *testing.T) {
	v := verifier(t, []uint64{1, 2, 3, 4, 5}, nil)
	e, err := New(Config{ID: 1, Verifier: v})
	require.NoError(t, err)
	e.Start(Vote{Zxid: 3, PeerEpoch: 1})
	e.Step(Message{From: 2, To: 1, N: peer.Notification{State: peer.Looking, Leader: 2, Zxid: 1, PeerEpoch: 1, ElectionEpoch: 1}})
	require.Len(t, e.Votes(), 2)
	e.Step(Message{From: 3, To: 1, N: peer.Notification{State: peer.Looking, Leader: 3, Zxid: 1, PeerEpoch: 1, ElectionEpoch: 4}})
	require.Equal(t, int64(4), e.LogicalClock())
	votes := e.Votes()
	require.Len(t, votes, 2, "%v", votes)
	require.Equal(t, uint64(1), votes[0].From)
	require.Equal(t, int64(4), votes[0].ElectionEpoch)
	require.Equal(t, Vote{1, 3, 1}, e.Proposal(), "own vote beats (1,1,3)")
}

// Notifications from FOLLOWING/LEADING servers let a late joiner follow the
// established leader only when a quorum agrees and the leader itself said
// it is LEADING.
func TestLateJoinerNeedsLeaderConfirmation(t *testing.T) {
	v := verifier(t, []uint64{1, 2, 3, 4, 5}, nil)
	e, err := New(Config{ID: 5, Verifier: v})
	require.NoError(t, err)
	e.Start(Vote{})
	e.Start(Vote{}) // round 2; the ensemble decided in round 7
	for _, from := range []uint64{1, 2, 4} {
		e.Step(Message{From: from, To: 5, N: peer.Notification{State: peer.Following, Leader: 3, PeerEpoch: 2, ElectionEpoch: 7}})
	}
	require.Equal(t, peer.Looking, e.State(), "a quorum of followers but no word from the leader")
	e.Step(Message{From: 3, To: 5, N: peer.Notification{State: peer.Leading, Leader: 3, PeerEpoch: 2, ElectionEpoch: 7}})
	require.Equal(t, peer.Following, e.State())
	require.Equal(t, int64(7), e.LogicalClock())
	require.Equal(t, uint64(3), e.Ready().Decision.Vote.Leader)
}

// Random start orders and delivery interleavings, no loss. When the network
// is fast (ticks only pass with no message in flight) every server decides
// the same leader, exactly one LEADING, and it holds the best vote of all.
// When ticks interleave with deliveries, a server may end its finalize wait
// on votes that are already stale and decide differently from others: FLE
// alone does not prevent that (Apache's neither); ZAB does, since a leader
// needs a quorum of followers in its epoch. Then we only check that every
// decision names a voter and the observer observes.
func TestRandomSchedules(t *testing.T) {
	for seed := int64(0); seed < 300; seed++ {
		rng := rand.New(rand.NewSource(seed))
		fast := seed%2 == 0
		n := 3 + 2*rng.Intn(2)
		var voters []uint64
		for i := 1; i <= n; i++ {
			voters = append(voters, uint64(i))
		}
		v := verifier(t, voters, []uint64{uint64(n + 1)})
		ids := append(append([]uint64{}, voters...), uint64(n+1))
		es := map[uint64]*Election{}
		own := map[uint64]Vote{}
		var flight []Message
		var best Vote
		for _, id := range ids {
			e, err := New(Config{ID: id, Verifier: v})
			require.NoError(t, err)
			es[id] = e
			own[id] = Vote{Leader: id, Zxid: int64(rng.Intn(3)), PeerEpoch: int64(rng.Intn(2))}
			if id <= uint64(n) && (best.Leader == 0 || e.better(own[id], best)) {
				best = own[id]
			}
		}
		rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		for _, id := range ids {
			es[id].Start(own[id])
			flight = append(flight, es[id].Ready().Messages...)
		}
		decided := map[uint64]Decision{}
		for step := 0; len(decided) < len(ids); step++ {
			require.Less(t, step, 100000, "seed %d: no decision", seed)
			if len(flight) == 0 || (!fast && rng.Intn(10) == 0) {
				for _, id := range ids {
					es[id].Tick()
					rd := es[id].Ready()
					flight = append(flight, rd.Messages...)
					if rd.Decision != nil {
						decided[id] = *rd.Decision
					}
				}
				continue
			}
			i := rng.Intn(len(flight))
			m := flight[i]
			flight = append(flight[:i], flight[i+1:]...)
			es[m.To].Step(m)
			rd := es[m.To].Ready()
			flight = append(flight, rd.Messages...)
			if rd.Decision != nil {
				decided[m.To] = *rd.Decision
			}
		}
		leaders := 0
		for id, d := range decided {
			if fast {
				require.Equal(t, best.Leader, d.Vote.Leader, "seed %d: server %d decided %s, best vote %s", seed, id, d.Vote, best)
			}
			require.True(t, v.IsVoter(d.Vote.Leader), "seed %d: leader %d", seed, d.Vote.Leader)
			if id == uint64(n+1) {
				require.Equal(t, peer.Observing, d.State)
			}
			if !fast {
				continue
			}
			require.Equal(t, decided[ids[0]].Vote.Leader, d.Vote.Leader, "seed %d: split decision", seed)
			if d.State == peer.Leading {
				leaders++
			}
		}
		if fast {
			require.Equal(t, 1, leaders, "seed %d", seed)
		}
	}
}

// ZOOKEEPER-1732: once ZAB established epoch 5, the decided vote reports
// it, so that a late joiner sees every member agree on (leader, epoch).
func TestUpdateEpoch(t *testing.T) {
	e, err := New(Config{ID: 2, Verifier: verifier(t, []uint64{1, 2, 3}, nil)})
	require.NoError(t, err)
	e.UpdateEpoch(9) // LOOKING: ignored
	require.Equal(t, Vote{}, e.Proposal())
	e.Start(Vote{PeerEpoch: 1})
	e.Step(Message{From: 3, To: 2, N: peer.Notification{State: peer.Looking, Leader: 3, PeerEpoch: 1, ElectionEpoch: 1}})
	for i := 0; i < 3; i++ {
		e.Tick()
	}
	require.Equal(t, peer.Following, e.State())
	e.Ready()
	e.UpdateEpoch(5)
	e.Step(Message{From: 1, To: 2, N: peer.Notification{State: peer.Looking, Leader: 1, ElectionEpoch: 1}})
	rd := e.Ready()
	require.Len(t, rd.Messages, 1)
	require.Equal(t, int64(5), rd.Messages[0].N.PeerEpoch)
	require.Equal(t, uint64(3), rd.Messages[0].N.Leader)
}
