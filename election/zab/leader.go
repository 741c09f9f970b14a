package zab

import (
	"fmt"
	"sort"

	"mqstack/election/quorum"
	"mqstack/proto/peer"
)

// LeaderState is what the leader starts from: its epochs and the tail of
// its log. The server has applied all of it (Apache replays the whole log
// at start), so all of it is the leader's history, which becomes committed
// in the new epoch once a quorum acknowledges NEWLEADER.
type LeaderState struct {
	AcceptedEpoch int64
	CurrentEpoch  int64
	// BaseZxid is the zxid of the state just before History[0] (the newest
	// snapshot's zxid when the log was compacted; 0 for a log that starts
	// at the beginning). A learner behind BaseZxid gets a SNAP.
	BaseZxid int64
	// History is the tail of the log, oldest first, at most CommitLogSize
	// entries are kept.
	History []Entry
}

type learnerPhase int

const (
	phaseConnected  learnerPhase = iota // FOLLOWERINFO/OBSERVERINFO received
	phaseEpochSent                      // LEADERINFO sent
	phaseEpochAcked                     // ACKEPOCH received, waiting for the epoch quorum
	phaseSyncing                        // sync data and NEWLEADER sent
	phaseSynced                         // NEWLEADER acked
	phaseUpToDate                       // UPTODATE sent
)

type learnerInfo struct {
	id        uint64
	observer  bool
	accepted  int64
	ackEpoch  peer.AckEpoch
	phase     learnerPhase
	lastHeard int
}

type proposal struct {
	entry Entry
	acks  *quorum.AckTracker
}

// Leader is the leader side of ZAB (Apache's Leader + LearnerHandler).
type Leader struct {
	cfg   Config
	out   output
	lost  bool
	tick  int
	epoch int64 // the epoch being established (Apache's epoch)

	acceptedEpoch int64
	currentEpoch  int64
	summaryEpoch  int64 // current epoch at start (Apache's leaderStateSummary)
	lastZxid      int64 // last logged zxid at start (state summary)

	// committed history window: entries with BaseZxid < zxid <= committed
	base      int64
	window    []Entry
	committed int64
	// outstanding proposals, in zxid order
	outstanding []*proposal
	counter     int64

	epochDecided bool
	epochAcked   bool
	established  bool
	connecting   map[uint64]bool // voters that sent their accepted epoch (Apache connectingFollowers)
	electing     map[uint64]bool // voters that acked the epoch (electingFollowers)
	newLeaderAck map[uint64]bool // voters that acked NEWLEADER

	learners map[uint64]*learnerInfo
}

// NewLeader starts the leader's discovery. Learners connect with
// FOLLOWERINFO / OBSERVERINFO; nothing is sent until then.
func NewLeader(cfg Config, st LeaderState) (*Leader, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if !cfg.Verifier.IsVoter(cfg.ID) {
		return nil, fmt.Errorf("%w: server %d is an observer and cannot lead", ErrConfig, cfg.ID)
	}
	for i, e := range st.History {
		if e.Zxid <= st.BaseZxid || (i > 0 && e.Zxid <= st.History[i-1].Zxid) {
			return nil, fmt.Errorf("%w: history zxids must increase above the base %s (entry %d is %s)", ErrConfig, FormatZxid(st.BaseZxid), i, FormatZxid(e.Zxid))
		}
	}
	l := &Leader{
		cfg: cfg, acceptedEpoch: st.AcceptedEpoch, currentEpoch: st.CurrentEpoch,
		base: st.BaseZxid, window: append([]Entry(nil), st.History...),
		connecting: map[uint64]bool{}, electing: map[uint64]bool{}, newLeaderAck: map[uint64]bool{},
		learners: map[uint64]*learnerInfo{},
	}
	l.committed = l.base
	if n := len(l.window); n > 0 {
		l.committed = l.window[n-1].Zxid
	}
	l.lastZxid = l.committed
	l.summaryEpoch = st.CurrentEpoch
	l.trim()
	// getEpochToPropose(self, acceptedEpoch)
	l.epoch = st.AcceptedEpoch + 1
	l.connecting[cfg.ID] = true
	l.maybeDecideEpoch()
	return l, nil
}

// Epoch is the epoch this leader establishes (valid once decided).
func (l *Leader) Epoch() int64 { return l.epoch }

// Established reports whether a quorum acked NEWLEADER.
func (l *Leader) Established() bool { return l.established && !l.lost }

// Lost reports whether the leader stepped down.
func (l *Leader) Lost() bool { return l.lost }

// Committed is the zxid of the last committed txn.
func (l *Leader) Committed() int64 { return l.committed }

// LastProposed is the zxid of the newest txn (committed or not).
func (l *Leader) LastProposed() int64 {
	if n := len(l.outstanding); n > 0 {
		return l.outstanding[n-1].entry.Zxid
	}
	return l.committed
}

// HasReady reports whether Ready would return anything.
func (l *Leader) HasReady() bool { return l.out.has() }

// Ready returns and clears the pending work.
func (l *Leader) Ready() Ready { return l.out.take() }

func (l *Leader) stepDown(format string, args ...any) {
	if l.lost {
		return
	}
	l.lost = true
	l.out.rd.Lost = fmt.Errorf("%w: leader %d: %s", ErrLost, l.cfg.ID, fmt.Sprintf(format, args...))
}

func (l *Leader) trim() {
	if over := len(l.window) - l.cfg.CommitLogSize; over > 0 {
		l.base = l.window[over-1].Zxid
		l.window = append([]Entry(nil), l.window[over:]...)
	}
}

func (l *Leader) maybeDecideEpoch() {
	if l.epochDecided || !l.cfg.Verifier.ContainsQuorum(keys(l.connecting)) {
		return
	}
	l.epochDecided = true
	l.acceptedEpoch = l.epoch
	l.out.rd.AcceptedEpoch = i64(l.epoch)
	l.out.note("leader %d: epoch %d proposed to a quorum %v", l.cfg.ID, l.epoch, keys(l.connecting))
	for _, id := range sortedIDs(l.learners) {
		lr := l.learners[id]
		if lr.phase == phaseConnected {
			l.sendLeaderInfo(lr)
		}
	}
	// The leader acks its own epoch: waitForEpochAck(self, its summary).
	l.electing[l.cfg.ID] = true
	l.maybeEpochAcked()
}

func (l *Leader) sendLeaderInfo(lr *learnerInfo) {
	lr.phase = phaseEpochSent
	l.out.send(l.cfg.ID, lr.id, peer.LeaderInfo{NewEpoch: l.epoch, Version: peer.ProtocolVersion})
}

func (l *Leader) maybeEpochAcked() {
	if l.epochAcked || !l.cfg.Verifier.ContainsQuorum(keys(l.electing)) {
		return
	}
	l.epochAcked = true
	l.currentEpoch = l.epoch
	l.out.rd.CurrentEpoch = i64(l.epoch)
	l.newLeaderAck[l.cfg.ID] = true
	for _, id := range sortedIDs(l.learners) {
		if lr := l.learners[id]; lr.phase == phaseEpochAcked {
			l.syncLearner(lr)
		}
	}
	l.maybeEstablish()
}

// Step handles one message from a learner.
func (l *Leader) Step(m Message) {
	if l.lost || m.From == l.cfg.ID {
		return
	}
	if !l.cfg.Verifier.IsMember(m.From) {
		l.out.note("leader %d: message %s from %d, which is not in the ensemble, ignored", l.cfg.ID, m.Msg.PeerType(), m.From)
		return
	}
	switch msg := m.Msg.(type) {
	case peer.LearnerInfo:
		l.onLearnerInfo(m.From, msg)
		return
	}
	lr := l.learners[m.From]
	if lr == nil {
		l.out.note("leader %d: %s from %d before its FOLLOWERINFO, ignored", l.cfg.ID, m.Msg.PeerType(), m.From)
		return
	}
	lr.lastHeard = l.tick
	switch msg := m.Msg.(type) {
	case peer.AckEpoch:
		if lr.phase != phaseEpochSent {
			l.out.note("leader %d: unexpected ACKEPOCH from %d, ignored", l.cfg.ID, m.From)
			return
		}
		l.onAckEpoch(lr, msg)
	case peer.Zxid:
		if msg.Kind == peer.TypeAck {
			l.onAck(lr, msg.Zxid)
		}
	case peer.Opaque:
		// PING answers, REQUEST, REVALIDATE, SYNC: liveness only here; the
		// server handles their payloads.
	default:
		l.out.note("leader %d: unexpected %s from %d, ignored", l.cfg.ID, m.Msg.PeerType(), m.From)
	}
}

func (l *Leader) onLearnerInfo(from uint64, msg peer.LearnerInfo) {
	observer := l.cfg.Verifier.IsObserver(from)
	if msg.Observer != observer {
		l.out.note("leader %d: server %d sent %s but is configured as %s; ignored", l.cfg.ID, from, msg.PeerType(), map[bool]string{true: "an observer", false: "a participant"}[observer])
		return
	}
	if _, again := l.learners[from]; again {
		l.out.note("leader %d: learner %d reconnected", l.cfg.ID, from)
	}
	// Its acks no longer count: the sync may truncate what it logged, and
	// it acks again once it has logged the proposals anew.
	for _, p := range l.outstanding {
		p.acks.Forget(from)
	}
	lr := &learnerInfo{id: from, observer: observer, accepted: msg.AcceptedEpoch, lastHeard: l.tick}
	l.learners[from] = lr
	if !l.epochDecided {
		// getEpochToPropose(sid, lastAcceptedEpoch)
		if msg.AcceptedEpoch >= l.epoch {
			l.epoch = msg.AcceptedEpoch + 1
		}
		if !observer {
			l.connecting[from] = true
		}
		l.maybeDecideEpoch()
		return
	}
	l.sendLeaderInfo(lr)
}

func (l *Leader) onAckEpoch(lr *learnerInfo, msg peer.AckEpoch) {
	lr.ackEpoch = msg
	lr.phase = phaseEpochAcked
	if msg.CurrentEpoch != -1 && !l.epochAcked {
		// waitForEpochAck: until the epoch is acked by a quorum, a follower
		// more recent than the leader's state at start
		// (StateSummary.isMoreRecentThan) is refused. Later joiners are not
		// checked (Apache returns early once electionFinished).
		if msg.CurrentEpoch > l.summaryEpoch ||
			(msg.CurrentEpoch == l.summaryEpoch && msg.LastZxid > l.lastZxid) {
			l.out.note("leader %d: follower %d is ahead of the leader (epoch %d, zxid %s), dropped", l.cfg.ID, lr.id, msg.CurrentEpoch, FormatZxid(msg.LastZxid))
			delete(l.learners, lr.id)
			l.out.rd.Close = append(l.out.rd.Close, lr.id)
			return
		}
		if !lr.observer {
			l.electing[lr.id] = true
		}
	}
	if l.epochAcked {
		l.syncLearner(lr)
		return
	}
	l.maybeEpochAcked()
}

// floor is the newest zxid of the leader's committed history at or below
// z, and whether it is z itself. Outstanding proposals do not count: a
// learner holding one is truncated below it and gets it again (as Apache
// does), because the server replays its whole log into the tree at start
// and must not serve a txn that is not committed.
func (l *Leader) floor(z int64) (int64, bool) {
	f := l.base
	exact := z == l.base
	for _, e := range l.window {
		if e.Zxid > z {
			return f, exact
		}
		f, exact = e.Zxid, e.Zxid == z
	}
	return f, exact
}

// syncLearner is LearnerHandler.syncFollower + startForwarding: DIFF when
// the learner's last zxid is in the leader's history, TRUNC to the newest
// common zxid when the learner holds txns the leader does not, SNAP when
// it is behind the committed window. Then the txns it lacks and NEWLEADER.
func (l *Leader) syncLearner(lr *learnerInfo) {
	peerLast := lr.ackEpoch.LastZxid
	withOutstanding := !lr.observer
	var from int64
	floor, exact := l.floor(peerLast)
	switch {
	case peerLast < l.base || (!exact && floor < lr.ackEpoch.SnapZxid):
		from = l.committed
		l.out.send(l.cfg.ID, lr.id, peer.Snap{Zxid: l.committed})
		if peerLast < l.base {
			l.out.note("leader %d: SNAP at %s to %d (its last zxid %s is behind the committed log, which starts after %s)", l.cfg.ID, FormatZxid(l.committed), lr.id, FormatZxid(peerLast), FormatZxid(l.base))
		} else {
			l.out.note("leader %d: SNAP at %s to %d (it must drop txns after %s, which its snapshot %s holds)", l.cfg.ID, FormatZxid(l.committed), lr.id, FormatZxid(floor), FormatZxid(lr.ackEpoch.SnapZxid))
		}
	default:
		f := floor
		from = f
		if exact {
			l.out.send(l.cfg.ID, lr.id, peer.Zxid{Kind: peer.TypeDiff, Zxid: l.committed})
		} else {
			l.out.send(l.cfg.ID, lr.id, peer.Zxid{Kind: peer.TypeTrunc, Zxid: f})
			l.out.note("leader %d: TRUNC %d to %s (it has %s, which the leader does not)", l.cfg.ID, lr.id, FormatZxid(f), FormatZxid(peerLast))
		}
		for _, e := range l.window {
			if e.Zxid > from {
				l.out.send(l.cfg.ID, lr.id, peer.Txn{Kind: peer.TypeProposal, Zxid: e.Zxid, Data: e.Data})
				l.out.send(l.cfg.ID, lr.id, peer.Zxid{Kind: peer.TypeCommit, Zxid: e.Zxid})
			}
		}
	}
	if withOutstanding {
		for _, p := range l.outstanding {
			if p.entry.Zxid > from {
				l.out.send(l.cfg.ID, lr.id, peer.Txn{Kind: peer.TypeProposal, Zxid: p.entry.Zxid, Data: p.entry.Data})
			}
		}
	}
	lr.phase = phaseSyncing
	l.out.send(l.cfg.ID, lr.id, peer.Zxid{Kind: peer.TypeNewLeader, Zxid: MakeZxid(l.epoch, 0)})
}

func (l *Leader) onAck(lr *learnerInfo, zxid int64) {
	if CounterOf(zxid) == 0 {
		// NEWLEADER ack (the ack after UPTODATE carries the same zxid).
		if lr.phase != phaseSyncing {
			return
		}
		if zxid != MakeZxid(l.epoch, 0) {
			l.out.note("leader %d: NEWLEADER ACK from %d is for epoch %d, not %d; ignored", l.cfg.ID, lr.id, EpochOf(zxid), l.epoch)
			return
		}
		lr.phase = phaseSynced
		if !lr.observer {
			l.newLeaderAck[lr.id] = true
		}
		if l.established {
			lr.phase = phaseUpToDate
			l.out.send(l.cfg.ID, lr.id, peer.Zxid{Kind: peer.TypeUpToDate, Zxid: l.committed})
			return
		}
		l.maybeEstablish()
		return
	}
	if lr.observer || lr.phase < phaseSynced || zxid <= l.committed {
		return
	}
	for _, p := range l.outstanding {
		if p.entry.Zxid == zxid {
			p.acks.Ack(lr.id)
			break
		}
	}
	l.tryCommit()
}

func (l *Leader) maybeEstablish() {
	if l.established || !l.epochAcked || !l.cfg.Verifier.ContainsQuorum(keys(l.newLeaderAck)) {
		return
	}
	l.established = true
	l.out.rd.Established = true
	l.out.note("leader %d: epoch %d established with %v", l.cfg.ID, l.epoch, keys(l.newLeaderAck))
	for _, id := range sortedIDs(l.learners) {
		if lr := l.learners[id]; lr.phase == phaseSynced {
			lr.phase = phaseUpToDate
			l.out.send(l.cfg.ID, id, peer.Zxid{Kind: peer.TypeUpToDate, Zxid: l.committed})
		}
	}
	l.tryCommit()
}

// Propose assigns the next zxid of the epoch to data, logs it (Ready
// Entries) and sends PROPOSAL to the followers. The leader's own ack is
// counted at once: its PROPOSALs leave only after its log write (Ready
// order), so no follower ack can precede it.
func (l *Leader) Propose(data []byte) (int64, error) {
	if !l.established || l.lost {
		return 0, ErrNotLeading
	}
	if l.counter >= 0xffffffff {
		l.stepDown("zxid counter of epoch %d exhausted; forcing a new election", l.epoch)
		return 0, ErrZxidOverflow
	}
	l.counter++
	e := Entry{Zxid: MakeZxid(l.epoch, l.counter), Data: data}
	p := &proposal{entry: e, acks: quorum.NewAckTracker(l.cfg.Verifier)}
	p.acks.Ack(l.cfg.ID)
	l.outstanding = append(l.outstanding, p)
	l.out.rd.Entries = append(l.out.rd.Entries, e)
	for _, id := range sortedIDs(l.learners) {
		if lr := l.learners[id]; !lr.observer && lr.phase >= phaseSyncing {
			l.out.send(l.cfg.ID, id, peer.Txn{Kind: peer.TypeProposal, Zxid: e.Zxid, Data: e.Data})
		}
	}
	l.tryCommit()
	return e.Zxid, nil
}

// tryCommit commits outstanding proposals in zxid order while the oldest
// has a quorum of acks: COMMIT to followers, INFORM (with the txn) to
// observers.
func (l *Leader) tryCommit() {
	for len(l.outstanding) > 0 && l.established {
		p := l.outstanding[0]
		if !p.acks.Committed() {
			return
		}
		l.outstanding = l.outstanding[1:]
		l.committed = p.entry.Zxid
		l.window = append(l.window, p.entry)
		l.trim()
		l.out.rd.Committed = append(l.out.rd.Committed, p.entry)
		for _, id := range sortedIDs(l.learners) {
			lr := l.learners[id]
			if lr.phase < phaseSyncing {
				continue
			}
			if lr.observer {
				l.out.send(l.cfg.ID, id, peer.Txn{Kind: peer.TypeInform, Zxid: p.entry.Zxid, Data: p.entry.Data})
			} else {
				l.out.send(l.cfg.ID, id, peer.Zxid{Kind: peer.TypeCommit, Zxid: p.entry.Zxid})
			}
		}
	}
}

// Disconnect tells the leader that the connection to learner id closed
// (the wiring calls it when the socket fails): the learner is forgotten
// and its acks of outstanding proposals no longer count.
func (l *Leader) Disconnect(id uint64) {
	if _, ok := l.learners[id]; !ok || l.lost {
		return
	}
	delete(l.learners, id)
	for _, p := range l.outstanding {
		p.acks.Forget(id)
	}
	l.out.note("leader %d: learner %d disconnected", l.cfg.ID, id)
}

// Tick advances one tickTime: PING to every learner, drop learners silent
// for too long, step down without a synced quorum (syncLimit) or when the
// epoch is not established within initLimit.
func (l *Leader) Tick() {
	if l.lost {
		return
	}
	l.tick++
	for _, id := range sortedIDs(l.learners) {
		lr := l.learners[id]
		limit := l.cfg.SyncLimit
		if lr.phase < phaseSynced {
			limit = l.cfg.InitLimit
		}
		if l.tick-lr.lastHeard > limit {
			l.out.note("leader %d: no word from learner %d for %d ticks, dropped", l.cfg.ID, id, l.tick-lr.lastHeard)
			delete(l.learners, id)
			l.out.rd.Close = append(l.out.rd.Close, id)
			continue
		}
		if lr.phase >= phaseEpochSent {
			l.out.send(l.cfg.ID, id, peer.Opaque{Kind: peer.TypePing, Zxid: l.LastProposed()})
		}
	}
	if !l.established {
		if l.tick > l.cfg.InitLimit {
			l.stepDown("epoch %d not established within initLimit (%d ticks): only synced with %v", l.epoch, l.cfg.InitLimit, keys(l.newLeaderAck))
		}
		return
	}
	synced := []uint64{l.cfg.ID}
	for id, lr := range l.learners {
		if !lr.observer && lr.phase >= phaseSynced {
			synced = append(synced, id)
		}
	}
	if !l.cfg.Verifier.ContainsQuorum(synced) {
		sort.Slice(synced, func(i, j int) bool { return synced[i] < synced[j] })
		l.stepDown("not sufficient followers synced, only synced with sids: %v", synced)
	}
}

func keys(m map[uint64]bool) []uint64 {
	out := make([]uint64, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func sortedIDs[V any](m map[uint64]V) []uint64 {
	out := make([]uint64, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
