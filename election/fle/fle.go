// Package fle is ZooKeeper's fast leader election (Apache's
// FastLeaderElection.lookForLeader and its WorkerReceiver) as a pure state
// machine: no sockets, goroutines or clock. The caller feeds received
// notifications with Step, advances time with Tick, and drains a Ready with
// the notifications to send and, once, the decision of the round.
//
// Votes are ordered by Apache's totalOrderPredicate: the higher peer epoch
// wins, then the higher zxid, then the higher server id. A server that is
// not a voter (an observer) never proposes itself; it learns the leader
// from the voters.
package fle

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"mqstack/election/quorum"
	"mqstack/proto/peer"
)

// ErrConfig reports an unusable election configuration.
var ErrConfig = errors.New("fle: invalid config")

// Vote is a proposed leader with the last zxid and current epoch it
// announced.
type Vote struct {
	Leader    uint64
	Zxid      int64
	PeerEpoch int64
}

// String prints the vote in the (epoch, zxid, sid) form of the
// ZooKeeper literature.
func (v Vote) String() string {
	if v.Leader == 0 {
		return "(none)"
	}
	return fmt.Sprintf("(%d,%d,%d)", v.PeerEpoch, v.Zxid, v.Leader)
}

// noVote is the initial vote of a non-voting server (Apache uses
// Long.MIN_VALUE for its id, zxid and epoch).
var noVote = Vote{Leader: 0, Zxid: math.MinInt64, PeerEpoch: math.MinInt64}

// Config of one server's election.
type Config struct {
	// ID is this server's myid; it must be a voter or an observer of Verifier.
	ID       uint64
	Verifier quorum.Verifier
	// FinalizeTicks is how long a server that sees a quorum for its vote
	// waits for a better vote before deciding (Apache's finalizeWait,
	// 200 ms). Default 2 (with the 100 ms election tick the wiring uses).
	FinalizeTicks int
	// MinNotifyTicks is the first resend interval when no notification
	// arrives (Apache's minNotificationInterval, 200 ms); it doubles up to
	// MaxNotifyTicks (maxNotificationInterval, 60 s). Defaults 2 and 600.
	MinNotifyTicks int
	MaxNotifyTicks int
}

func (c *Config) validate() error {
	if c.ID == 0 {
		return fmt.Errorf("%w: server id 0 (myid must be a positive number)", ErrConfig)
	}
	if !c.Verifier.IsMember(c.ID) {
		return fmt.Errorf("%w: server id %d is not in the ensemble (add a server.%d line)", ErrConfig, c.ID, c.ID)
	}
	if c.FinalizeTicks <= 0 {
		c.FinalizeTicks = 2
	}
	if c.MinNotifyTicks <= 0 {
		c.MinNotifyTicks = 2
	}
	if c.MaxNotifyTicks < c.MinNotifyTicks {
		c.MaxNotifyTicks = 600
		if c.MaxNotifyTicks < c.MinNotifyTicks {
			c.MaxNotifyTicks = c.MinNotifyTicks
		}
	}
	return nil
}

// Message is a notification with its sender and recipient. The transport
// sets From from the connection's Hello, never from the body.
type Message struct {
	From, To uint64
	N        peer.Notification
}

// Decision ends a round: who leads and the role this server takes.
type Decision struct {
	Vote          Vote
	ElectionEpoch int64
	State         peer.ServerState
}

// Ready is what the caller must do after a Step, Tick or Start.
//
// Messages may be sent in any order and may be lost: the protocol resends.
// Decision is set once per round; the caller then starts the ZAB role it
// names (zab.NewLeader / zab.NewLearner) and keeps stepping this Election so
// that late LOOKING servers are told the outcome (Apache's WorkerReceiver
// keeps answering while the server leads or follows).
type Ready struct {
	Messages []Message
	Decision *Decision
}

type received struct {
	vote          Vote
	electionEpoch int64
	state         peer.ServerState
}

// equal is Apache's Vote.equals: votes of LOOKING servers must agree on
// everything; otherwise only the leader and its epoch matter.
func (r received) equal(o received) bool {
	if r.state == peer.Looking || o.state == peer.Looking {
		return r.vote == o.vote && r.electionEpoch == o.electionEpoch
	}
	return r.vote.Leader == o.vote.Leader && r.vote.PeerEpoch == o.vote.PeerEpoch
}

// Election is one server's fast leader election.
type Election struct {
	cfg     Config
	voter   bool
	running bool
	state   peer.ServerState
	clock   int64 // logicalclock: the round
	own     Vote  // this server's initial vote of the round
	prop    Vote  // current proposal
	current received
	recvset map[uint64]received
	outof   map[uint64]received

	finalizing   bool
	finalizeLeft int
	notifyEvery  int
	sinceHeard   int

	msgs     []Message
	decision *Decision
}

// New returns a stopped election; call Start to begin the first round.
func New(cfg Config) (*Election, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Election{cfg: cfg, voter: cfg.Verifier.IsVoter(cfg.ID), state: peer.Looking}, nil
}

// State is this server's state: LOOKING during a round, else the decided role.
func (e *Election) State() peer.ServerState { return e.state }

// LogicalClock is the current round.
func (e *Election) LogicalClock() int64 { return e.clock }

// Proposal is the vote this server currently sends (the decided vote once
// the round ended).
func (e *Election) Proposal() Vote {
	if e.state != peer.Looking {
		return e.current.vote
	}
	return e.prop
}

// Running reports whether the election answers messages.
func (e *Election) Running() bool { return e.running }

// Start begins a new round (logicalclock+1) with this server's own vote:
// itself, its last logged zxid and its current epoch. The server calls it
// at boot and whenever it goes back to LOOKING (it lost its leader, or as
// leader it lost its quorum). An observer's own vote is ignored: it never
// proposes itself.
func (e *Election) Start(own Vote) {
	if !e.voter {
		own = noVote
	} else {
		own.Leader = e.cfg.ID
	}
	e.running = true
	e.state = peer.Looking
	e.clock++
	e.own = own
	e.prop = own
	e.recvset = map[uint64]received{}
	e.outof = map[uint64]received{}
	e.finalizing = false
	e.notifyEvery = e.cfg.MinNotifyTicks
	e.sinceHeard = 0
	e.decision = nil
	e.sendNotifications()
}

// Stop ends the round without a decision; Step and Tick do nothing until
// the next Start. The server calls it when it shuts down.
func (e *Election) Stop() {
	e.running = false
	e.finalizing = false
	e.recvset, e.outof = nil, nil
}

// UpdateEpoch sets the epoch of the decided vote to the epoch ZAB
// established (Apache's QuorumPeer.updateElectionVote, ZOOKEEPER-1732): the
// server calls it when its ZAB role is established, so that every member of
// the ensemble reports the same (leader, epoch) to servers that start later
// and they can join. It does nothing while LOOKING.
func (e *Election) UpdateEpoch(epoch int64) {
	if e.state != peer.Looking {
		e.current.vote.PeerEpoch = epoch
	}
}

// HasReady reports whether Ready would return anything.
func (e *Election) HasReady() bool { return len(e.msgs) > 0 || e.decision != nil }

// Ready returns and clears the pending output.
func (e *Election) Ready() Ready {
	rd := Ready{Messages: e.msgs, Decision: e.decision}
	e.msgs, e.decision = nil, nil
	return rd
}

// better is Apache's totalOrderPredicate: does n beat cur? A vote for a
// server that is not a voter never wins.
func (e *Election) better(n, cur Vote) bool {
	if !e.cfg.Verifier.IsVoter(n.Leader) {
		return false
	}
	if n.PeerEpoch != cur.PeerEpoch {
		return n.PeerEpoch > cur.PeerEpoch
	}
	if n.Zxid != cur.Zxid {
		return n.Zxid > cur.Zxid
	}
	return n.Leader > cur.Leader
}

func (e *Election) send(to uint64, v Vote, round int64, state peer.ServerState) {
	e.msgs = append(e.msgs, Message{From: e.cfg.ID, To: to, N: peer.Notification{
		State: state, Leader: v.Leader, Zxid: v.Zxid, ElectionEpoch: round, PeerEpoch: v.PeerEpoch,
	}})
}

// sendNotifications tells every voter our proposal. Our own notification is
// delivered at once (Apache loops it back through its own queue).
func (e *Election) sendNotifications() {
	for _, id := range e.cfg.Verifier.Voters() {
		if id == e.cfg.ID {
			continue
		}
		e.send(id, e.prop, e.clock, peer.Looking)
	}
	if e.voter {
		e.recvset[e.cfg.ID] = received{vote: e.prop, electionEpoch: e.clock, state: peer.Looking}
		e.checkLookingQuorum()
	}
}

func (e *Election) learningState() peer.ServerState {
	if e.voter {
		return peer.Following
	}
	return peer.Observing
}

func (e *Election) decide(v Vote, round int64) {
	st := e.learningState()
	if v.Leader == e.cfg.ID {
		st = peer.Leading
	}
	e.state = st
	e.current = received{vote: v, electionEpoch: round, state: st}
	e.finalizing = false
	e.recvset = map[uint64]received{}
	e.outof = map[uint64]received{}
	e.decision = &Decision{Vote: v, ElectionEpoch: round, State: st}
}

// Step handles one received notification.
func (e *Election) Step(m Message) {
	if !e.running || m.From == e.cfg.ID {
		return
	}
	n := m.N
	nv := Vote{Leader: n.Leader, Zxid: n.Zxid, PeerEpoch: n.PeerEpoch}
	if n.State > peer.Observing {
		return // Apache's WorkerReceiver drops unknown states
	}
	// WorkerReceiver: a LOOKING non-voter (observer) is answered right away
	// with our current vote and state, and its vote is otherwise ignored.
	// Apache answers whatever the observer's state; answering a decided
	// observer would ping-pong with it while we are LOOKING (it answers
	// every LOOKING voter), so we do not.
	if !e.cfg.Verifier.IsVoter(m.From) {
		if n.State == peer.Looking {
			e.send(m.From, e.Proposal(), e.clock, e.state)
		}
		return
	}
	if e.state != peer.Looking {
		// Not looking: tell a LOOKING voter whom we follow or that we lead.
		if n.State == peer.Looking {
			e.send(m.From, e.current.vote, e.current.electionEpoch, e.state)
		}
		return
	}
	// Looking: a LOOKING voter behind our round gets our vote back. A
	// non-voter does not answer (it would ping-pong with the voter, which
	// answers every non-voter message).
	if e.voter && n.State == peer.Looking && n.ElectionEpoch < e.clock {
		e.send(m.From, e.prop, e.clock, peer.Looking)
	}
	e.sinceHeard = 0
	if !e.cfg.Verifier.IsVoter(n.Leader) {
		return // a vote for a non-member is ignored
	}
	if e.finalizing {
		// Apache's finalize loop drains the queue: a better vote reopens the
		// round, anything else is dropped and the wait starts over.
		if !e.better(nv, e.prop) {
			e.finalizeLeft = e.cfg.FinalizeTicks
			return
		}
		e.finalizing = false
	}
	switch n.State {
	case peer.Looking:
		switch {
		case n.ElectionEpoch > e.clock:
			e.clock = n.ElectionEpoch
			e.recvset = map[uint64]received{}
			if e.better(nv, e.own) {
				e.prop = nv
			} else {
				e.prop = e.own
			}
			e.sendNotifications()
		case n.ElectionEpoch < e.clock:
			return
		case e.better(nv, e.prop):
			e.prop = nv
			e.sendNotifications()
		}
		e.recvset[m.From] = received{vote: nv, electionEpoch: n.ElectionEpoch, state: peer.Looking}
		e.checkLookingQuorum()
	case peer.Observing:
		return
	case peer.Following, peer.Leading:
		r := received{vote: nv, electionEpoch: n.ElectionEpoch, state: n.State}
		if n.ElectionEpoch == e.clock {
			e.recvset[m.From] = r
			if e.agree(e.recvset, r) && e.checkLeader(e.recvset, n.Leader, n.ElectionEpoch) {
				e.decide(nv, n.ElectionEpoch)
				return
			}
		}
		// Before joining an established ensemble, a quorum must follow the
		// same leader, and that leader must say it leads.
		e.outof[m.From] = r
		if e.agree(e.outof, r) && e.checkLeader(e.outof, n.Leader, n.ElectionEpoch) {
			e.clock = n.ElectionEpoch
			e.decide(nv, n.ElectionEpoch)
		}
	}
}

func (e *Election) checkLookingQuorum() {
	if e.finalizing || e.state != peer.Looking {
		return
	}
	me := received{vote: e.prop, electionEpoch: e.clock, state: peer.Looking}
	if e.agree(e.recvset, me) {
		e.finalizing = true
		e.finalizeLeft = e.cfg.FinalizeTicks
	}
}

// agree is getVoteTracker(...).hasAllQuorums(): do the voters whose vote
// equals v form a quorum?
func (e *Election) agree(votes map[uint64]received, v received) bool {
	var ids []uint64
	for id, r := range votes {
		if v.equal(r) {
			ids = append(ids, id)
		}
	}
	return e.cfg.Verifier.ContainsQuorum(ids)
}

// checkLeader is Apache's checkLeader: a leader other than us must have
// told us it is LEADING; if it is us, the round must be ours.
func (e *Election) checkLeader(votes map[uint64]received, leader uint64, round int64) bool {
	if leader != e.cfg.ID {
		r, ok := votes[leader]
		return ok && r.state == peer.Leading
	}
	return e.clock == round
}

// Tick advances time by one election tick: it ends a finalize wait and
// resends notifications (with exponential backoff) when nothing arrived.
func (e *Election) Tick() {
	if !e.running || e.state != peer.Looking {
		return
	}
	if e.finalizing {
		e.finalizeLeft--
		if e.finalizeLeft <= 0 {
			e.decide(e.prop, e.clock)
		}
		return
	}
	e.sinceHeard++
	if e.sinceHeard >= e.notifyEvery {
		e.sinceHeard = 0
		e.sendNotifications()
		e.notifyEvery *= 2
		if e.notifyEvery > e.cfg.MaxNotifyTicks {
			e.notifyEvery = e.cfg.MaxNotifyTicks
		}
	}
}

// Votes returns the votes of the current round (Apache's recvset) by
// sender, for status output and tests.
func (e *Election) Votes() []VoteFrom {
	out := make([]VoteFrom, 0, len(e.recvset))
	for id, r := range e.recvset {
		out = append(out, VoteFrom{From: id, Vote: r.vote, ElectionEpoch: r.electionEpoch, State: r.state})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].From < out[j].From })
	return out
}

// VoteFrom is one received vote.
type VoteFrom struct {
	From          uint64
	Vote          Vote
	ElectionEpoch int64
	State         peer.ServerState
}
