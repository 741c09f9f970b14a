package zab

import (
	"fmt"

	"mqstack/proto/peer"
)

// LearnerState is what a follower or observer starts from: its epochs and
// its last logged zxid. The server has applied its whole log (Apache
// replays it at start), so LastZxid is also the tree's zxid.
type LearnerState struct {
	AcceptedEpoch int64
	CurrentEpoch  int64
	LastZxid      int64
	// SnapshotZxid is the zxid of the newest snapshot on disk (0 if none).
	SnapshotZxid int64
}

type learnerStage int

const (
	stageDiscovery learnerStage = iota // FOLLOWERINFO sent, waiting for LEADERINFO
	stageSyncStart                     // ACKEPOCH sent, waiting for DIFF/TRUNC/SNAP
	stageSync                          // receiving the sync data
	stageNewLeader                     // NEWLEADER acked, waiting for UPTODATE
	stageBroadcast                     // UPTODATE received: serving
)

// Learner is the follower or observer side of ZAB (Apache's Learner,
// Follower and Observer). The role follows the membership: an observer of
// the Verifier registers with OBSERVERINFO and never acks proposals.
type Learner struct {
	cfg       Config
	leader    uint64
	observer  bool
	out       output
	lost      bool
	stage     learnerStage
	silent    int
	connected bool

	acceptedEpoch int64
	currentEpoch  int64
	newEpoch      int64
	snapZxid      int64 // newest snapshot on disk
	lastZxid      int64 // last logged
	applied       int64 // last applied
	pending       []Entry
}

// NewLearner prepares discovery with leader; call Connected once the
// connection to the leader is up.
func NewLearner(cfg Config, leader uint64, st LearnerState) (*Learner, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if leader == cfg.ID || !cfg.Verifier.IsVoter(leader) {
		return nil, fmt.Errorf("%w: server %d cannot follow %d (not another voting member)", ErrConfig, cfg.ID, leader)
	}
	f := &Learner{cfg: cfg, leader: leader, observer: cfg.Verifier.IsObserver(cfg.ID),
		acceptedEpoch: st.AcceptedEpoch, currentEpoch: st.CurrentEpoch, lastZxid: st.LastZxid, applied: st.LastZxid, snapZxid: st.SnapshotZxid}
	return f, nil
}

// Connected tells the learner that its connection to the leader's quorum
// port is up (the wiring dials, retrying while the leader is not yet
// listening, within initLimit ticks): its Ready then holds the
// FOLLOWERINFO (OBSERVERINFO for an observer). Calls after the first do
// nothing: a connection that breaks ends the role.
func (f *Learner) Connected() {
	if f.lost || f.connected {
		return
	}
	f.connected = true
	f.silent = 0
	f.send(peer.LearnerInfo{Observer: f.observer, ServerID: f.cfg.ID, AcceptedEpoch: f.acceptedEpoch, Version: peer.ProtocolVersion})
}

// Epoch is the epoch the leader announced in LEADERINFO (0 before).
func (f *Learner) Epoch() int64 { return f.newEpoch }

// Leader is the server this learner follows.
func (f *Learner) Leader() uint64 { return f.leader }

// Established reports whether UPTODATE came (the server serves clients).
func (f *Learner) Established() bool { return f.stage == stageBroadcast && !f.lost }

// Lost reports whether the learner gave up.
func (f *Learner) Lost() bool { return f.lost }

// LastZxid is the last logged zxid.
func (f *Learner) LastZxid() int64 { return f.lastZxid }

// HasReady reports whether Ready would return anything.
func (f *Learner) HasReady() bool { return f.out.has() }

// Ready returns and clears the pending work.
func (f *Learner) Ready() Ready { return f.out.take() }

func (f *Learner) giveUp(format string, args ...any) {
	if f.lost {
		return
	}
	f.lost = true
	f.out.rd.Lost = fmt.Errorf("%w: learner %d of leader %d: %s", ErrLost, f.cfg.ID, f.leader, fmt.Sprintf(format, args...))
}

func (f *Learner) send(m peer.Msg) { f.out.send(f.cfg.ID, f.leader, m) }

// Step handles one message from the leader; messages from anyone else
// (an old leader still talking) are ignored.
func (f *Learner) Step(m Message) {
	if f.lost || !f.connected || m.From != f.leader {
		return
	}
	f.silent = 0
	switch msg := m.Msg.(type) {
	case peer.LeaderInfo:
		f.onLeaderInfo(msg)
	case peer.Zxid:
		f.onZxid(msg)
	case peer.Snap:
		if f.stage != stageSyncStart {
			f.giveUp("SNAP outside synchronization")
			return
		}
		f.stage = stageSync
		f.out.rd.Snapshot = &Snapshot{Zxid: msg.Zxid, Data: msg.Snapshot}
		f.out.rd.TruncateTo = nil
		f.out.rd.Entries = nil
		f.pending = nil
		f.lastZxid, f.applied, f.snapZxid = msg.Zxid, msg.Zxid, msg.Zxid
	case peer.Txn:
		f.onTxn(msg)
	case peer.Opaque:
		if msg.Kind == peer.TypePing && f.stage >= stageSyncStart {
			f.send(peer.Opaque{Kind: peer.TypePing, Zxid: f.lastZxid})
		}
	default:
		f.out.note("learner %d: unexpected %s from the leader, ignored", f.cfg.ID, m.Msg.PeerType())
	}
}

func (f *Learner) onLeaderInfo(msg peer.LeaderInfo) {
	if f.stage != stageDiscovery {
		f.giveUp("LEADERINFO after discovery")
		return
	}
	f.newEpoch = msg.NewEpoch
	current := f.currentEpoch
	switch {
	case msg.NewEpoch > f.acceptedEpoch:
		f.acceptedEpoch = msg.NewEpoch
		f.out.rd.AcceptedEpoch = i64(msg.NewEpoch)
	case msg.NewEpoch == f.acceptedEpoch:
		// Already acked an epoch equal to the leader's: Apache sends -1.
		current = -1
	default:
		f.giveUp("leader's epoch %d is less than our accepted epoch %d", msg.NewEpoch, f.acceptedEpoch)
		return
	}
	f.stage = stageSyncStart
	f.send(peer.AckEpoch{CurrentEpoch: current, LastZxid: f.lastZxid, SnapZxid: f.snapZxid})
}

func (f *Learner) onZxid(msg peer.Zxid) {
	switch msg.Kind {
	case peer.TypeDiff, peer.TypeTrunc:
		if f.stage != stageSyncStart {
			f.giveUp("%s outside synchronization", msg.Kind)
			return
		}
		f.stage = stageSync
		if msg.Kind == peer.TypeTrunc {
			if msg.Zxid > f.lastZxid || msg.Zxid < f.snapZxid {
				f.giveUp("TRUNC to %s is outside our log (%s..%s]", FormatZxid(msg.Zxid), FormatZxid(f.snapZxid), FormatZxid(f.lastZxid))
				return
			}
			f.out.rd.TruncateTo = i64(msg.Zxid)
			f.lastZxid = msg.Zxid
			if f.applied > msg.Zxid {
				f.applied = msg.Zxid
			}
		}
	case peer.TypeCommit:
		if f.stage < stageSync {
			f.giveUp("COMMIT before synchronization")
			return
		}
		if len(f.pending) == 0 || f.pending[0].Zxid != msg.Zxid {
			next := "none"
			if len(f.pending) > 0 {
				next = FormatZxid(f.pending[0].Zxid)
			}
			f.giveUp("committing zxid %s but next pending txn is %s", FormatZxid(msg.Zxid), next)
			return
		}
		e := f.pending[0]
		f.pending = f.pending[1:]
		f.applied = e.Zxid
		f.out.rd.Committed = append(f.out.rd.Committed, e)
	case peer.TypeNewLeader:
		if f.stage != stageSync {
			f.giveUp("NEWLEADER outside synchronization")
			return
		}
		if EpochOf(msg.Zxid) != f.newEpoch {
			f.giveUp("NEWLEADER for epoch %d, LEADERINFO said %d", EpochOf(msg.Zxid), f.newEpoch)
			return
		}
		// Persist the current epoch (and the log, same Ready) before the ACK.
		f.currentEpoch = f.newEpoch
		f.out.rd.CurrentEpoch = i64(f.newEpoch)
		f.stage = stageNewLeader
		f.send(peer.Zxid{Kind: peer.TypeAck, Zxid: msg.Zxid})
		if !f.observer {
			// Proposals that arrived without their COMMIT during the sync were
			// outstanding at the leader: ack them now that NEWLEADER is acked.
			for _, e := range f.pending {
				f.send(peer.Zxid{Kind: peer.TypeAck, Zxid: e.Zxid})
			}
		}
	case peer.TypeUpToDate:
		if f.stage != stageNewLeader {
			f.giveUp("UPTODATE before NEWLEADER")
			return
		}
		f.stage = stageBroadcast
		f.out.rd.Established = true
	default:
		f.out.note("learner %d: unexpected %s from the leader, ignored", f.cfg.ID, msg.Kind)
	}
}

func (f *Learner) onTxn(msg peer.Txn) {
	if f.stage < stageSync {
		f.giveUp("%s before synchronization", msg.Kind)
		return
	}
	// Txns of an epoch are numbered 1, 2, 3...: a gap means the stream
	// lost a message (Apache relies on TCP for this; we check).
	if !follows(msg.Zxid, f.lastZxid) {
		f.giveUp("%s %s does not follow our last zxid %s", msg.Kind, FormatZxid(msg.Zxid), FormatZxid(f.lastZxid))
		return
	}
	e := Entry{Zxid: msg.Zxid, Data: msg.Data}
	f.lastZxid = e.Zxid
	f.out.rd.Entries = append(f.out.rd.Entries, e)
	switch msg.Kind {
	case peer.TypeInform:
		if !f.observer {
			f.giveUp("INFORM to a follower")
			return
		}
		f.applied = e.Zxid
		f.out.rd.Committed = append(f.out.rd.Committed, e)
	case peer.TypeProposal:
		if f.observer && f.stage == stageBroadcast {
			f.giveUp("PROPOSAL to an observer")
			return
		}
		f.pending = append(f.pending, e)
		// A follower acknowledges a proposal only once it is logged: the ACK
		// is in Messages, sent after Entries are durable.
		if !f.observer && f.stage >= stageNewLeader {
			f.send(peer.Zxid{Kind: peer.TypeAck, Zxid: e.Zxid})
		}
	}
}

// Tick advances one tickTime. A learner that hears nothing from its leader
// for initLimit ticks (before UPTODATE) or syncLimit ticks (after) gives up.
func (f *Learner) Tick() {
	if f.lost {
		return
	}
	f.silent++
	limit, name := f.cfg.SyncLimit, "syncLimit"
	if f.stage < stageBroadcast {
		limit, name = f.cfg.InitLimit, "initLimit"
	}
	if f.silent > limit {
		f.giveUp("no message from the leader for %d ticks (%s)", f.silent, name)
	}
}

// follows reports whether z can come right after last in a log: the next
// counter of the same epoch, or the first txn of a later epoch.
func follows(z, last int64) bool {
	if EpochOf(z) == EpochOf(last) {
		return CounterOf(z) == CounterOf(last)+1
	}
	return EpochOf(z) > EpochOf(last) && CounterOf(z) == 1
}
