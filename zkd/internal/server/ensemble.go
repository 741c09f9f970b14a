package server

// Ensemble mode: a server with server.N lines runs fast leader election
// (zkd/internal/quorum.Elector driving election/fle) and, once decided, a
// ZAB role (election/zab Leader or Learner) driven by this package's owner
// goroutine, which also owns the tree, the sessions and the txn log the
// ZAB Ready contract persists to.
//
// Order rules of the wiring, on top of the server's (server.go):
//  1. a Ready is handled completely, in field order: epoch files, snapshot
//     install, truncation, log append + fsync, apply, send, close;
//  2. the leader prepares client writes against its tree at once (the
//     tree runs ahead of the committed zxid by the outstanding proposals)
//     and holds every reply and watch event produced while a proposal is
//     outstanding until that proposal commits (held, released in FIFO
//     order), so no client sees an uncommitted txn acknowledged and replies
//     keep their per-connection order;
//  3. a learner's ACKEPOCH is stepped into the leader only when nothing is
//     outstanding (client events are parked meanwhile), so that a SNAP
//     carries the tree exactly at the committed zxid;
//  4. learners forward writes, session creation/closing and sync to the
//     leader and answer their clients when the COMMIT is applied; a
//     connection's later writes are forwarded at once behind its earlier
//     ones (pipelined), its reads, sync and closeSession wait until every
//     earlier forwarded request is answered;
//  5. a role that ends closes every client connection at once, brings the
//     tree to the disk's state (a learner applies its logged txns above the
//     last commit from memory, anything else reloads snapshot + whole log)
//     and goes back to LOOKING.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"mqstack/election/fle"
	equorum "mqstack/election/quorum"
	"mqstack/election/zab"
	"mqstack/proto/jute"
	"mqstack/proto/peer"
	"mqstack/storage/checkpoint"
	"mqstack/storage/snapshot"
	"mqstack/storage/txnlog"
	"mqstack/storage/vfs"
	"mqstack/zkd/internal/quorum"
	"mqstack/zkd/internal/tree"
)

// Roles for srvr/stat/mntr.
const (
	roleLooking int32 = iota
	roleLeading
	roleFollowing
	roleObserving
)

// ErrQuorum wraps failures of the ensemble wiring.
var ErrQuorum = errors.New("server: quorum")

type heldOut struct {
	zxid int64
	out  pendingOut
}

type fwdKey struct {
	session int64
	cxid    int32
}

type fwdReq struct {
	c  *conn
	op jute.Op
}

type leaderSync struct {
	zxid int64
	to   uint64
	data []byte
}

type ensemble struct {
	s        *Server
	log      zerolog.Logger
	fsys     vfs.FS
	myID     uint64
	verifier equorum.Verifier
	members  map[uint64]quorum.Member
	zcfg     zab.Config

	electLn  net.Listener
	quorumLn net.Listener
	elector  *quorum.Elector
	qport    *quorum.QuorumPort

	role    atomic.Int32
	serving atomic.Bool

	// Owned by the loop goroutine.
	gen          int
	leader       *zab.Leader
	learner      *zab.Learner
	leaderID     uint64
	leaderLink   *quorum.Link
	learnerLinks map[uint64]*quorum.Link
	cancelDial   context.CancelFunc
	accepted     int64
	current      int64
	snapZxid     int64
	tailBase     int64
	tail         []zab.Entry
	held         []heldOut
	deferred     []zab.Message
	parked       []func()
	fwd          map[fwdKey]fwdReq
	fwdConnect   map[int64]*conn
	syncs        map[fwdKey]*conn
	revalidating map[int64]*conn
	synced       map[uint64]bool // leader: learners sent UPTODATE (mntr)
	nextSync     int32
	leaderSyncs  []leaderSync
	touched      map[int64]int32
	// Learner: sessions revalidated before their createSession was
	// applied here (dropped again if the role ends first, as a reload
	// would).
	provisional map[int64]bool
	mustReload  bool // the role ends on a persistence failure: reload, never fast-forward
	batchEnd    bool // flush runs from commit(): pending may be released early
	// Counters (owner goroutine; tests): the most requests one connection
	// had forwarded at once, and how many role ends fast-forwarded.
	maxFwdPending int
	fastForwards  int
	// Proposal sizes in bytes for srvr/mntr (-1 before the first).
	propLast, propMin, propMax int64
}

// newEnsemble binds the election and quorum ports of this server's
// server.N line (called by Start, after the data directory is recovered).
func (s *Server) newEnsemble(fsys vfs.FS) (*ensemble, error) {
	cfg := s.cfg
	en := &ensemble{s: s, fsys: fsys, myID: uint64(cfg.MyID), members: map[uint64]quorum.Member{},
		log: s.log.With().Str("component", "zkd.ensemble").Logger(), learnerLinks: map[uint64]*quorum.Link{},
		fwd: map[fwdKey]fwdReq{}, fwdConnect: map[int64]*conn{}, syncs: map[fwdKey]*conn{}, touched: map[int64]int32{},
		revalidating: map[int64]*conn{}, synced: map[uint64]bool{}, provisional: map[int64]bool{}, propLast: -1, propMin: -1, propMax: -1}
	var voters, observers []uint64
	var self *quorum.Member
	for _, sv := range cfg.Servers {
		m := quorum.Member{ID: uint64(sv.ID), QuorumAddr: net.JoinHostPort(sv.Host, strconv.Itoa(sv.QuorumPort)),
			ElectionAddr: net.JoinHostPort(sv.Host, strconv.Itoa(sv.ElectionPort)), Observer: sv.Observer}
		en.members[m.ID] = m
		if m.Observer {
			observers = append(observers, m.ID)
		} else {
			voters = append(voters, m.ID)
		}
		if m.ID == en.myID {
			mm := m
			self = &mm
		}
	}
	if self == nil {
		return nil, fmt.Errorf("%w: myid %d has no server.%d line in %s", ErrConfig, cfg.MyID, cfg.MyID, cfg.Path)
	}
	v, err := equorum.NewVerifier(voters, observers)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrConfig, cfg.Path, err)
	}
	en.verifier = v
	en.zcfg = zab.Config{ID: en.myID, Verifier: v, InitLimit: cfg.InitLimit, SyncLimit: cfg.SyncLimit}
	if en.accepted, _, err = quorum.ReadEpoch(fsys, cfg.DataDir, quorum.AcceptedEpochFile); err != nil {
		return nil, err
	}
	if en.current, _, err = quorum.ReadEpoch(fsys, cfg.DataDir, quorum.CurrentEpochFile); err != nil {
		return nil, err
	}
	if en.current > en.accepted {
		return nil, fmt.Errorf("%w: %s (%d) is newer than %s (%d) in %s; the files are damaged, restore them from a backup",
			quorum.ErrEpochFile, quorum.CurrentEpochFile, en.current, quorum.AcceptedEpochFile, en.accepted, cfg.DataDir)
	}
	if en.quorumLn, err = net.Listen("tcp", self.QuorumAddr); err != nil {
		return nil, fmt.Errorf("%w: bind quorum port %s (server.%d in %s): %w; choose a free port", ErrQuorum, self.QuorumAddr, en.myID, cfg.Path, err)
	}
	if en.electLn, err = net.Listen("tcp", self.ElectionAddr); err != nil {
		_ = en.quorumLn.Close()
		return nil, fmt.Errorf("%w: bind election port %s (server.%d in %s): %w; choose a free port", ErrQuorum, self.ElectionAddr, en.myID, cfg.Path, err)
	}
	members := make([]quorum.Member, 0, len(en.members))
	for _, m := range en.members {
		members = append(members, m)
	}
	en.elector, err = quorum.NewElector(quorum.ElectorConfig{ID: en.myID, Members: members, Verifier: v, Listener: en.electLn,
		Logger: s.log, OnDecision: func(d fle.Decision) { s.post(event{kind: evFunc, fn: func() { en.startRole(d) }}) }})
	if err != nil {
		_ = en.quorumLn.Close()
		_ = en.electLn.Close()
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	en.resetTail()
	return en, nil
}

// run starts the ports and the first election round.
func (en *ensemble) run() {
	en.qport = quorum.NewQuorumPort(en.quorumLn, en.myID, en.verifier, en.s.log, en.acceptLearner)
	en.elector.Run()
	en.role.Store(roleLooking)
	en.elector.Lookup(en.ownVote())
	en.log.Info().Uint64("myid", en.myID).Str("quorum", en.quorumLn.Addr().String()).
		Str("election", en.electLn.Addr().String()).Msg("LOOKING: leader election started")
}

func (en *ensemble) close() {
	if en.elector != nil {
		en.elector.Close()
	}
	if en.qport != nil {
		en.qport.Close()
	}
}

// closeLinks runs on the loop at shutdown.
func (en *ensemble) closeLinks() {
	if en.cancelDial != nil {
		en.cancelDial()
	}
	if en.leaderLink != nil {
		en.leaderLink.Close()
	}
	for _, l := range en.learnerLinks {
		l.Close()
	}
}

func (en *ensemble) ownVote() fle.Vote {
	return fle.Vote{Leader: en.myID, Zxid: en.s.tree.LastZxid(), PeerEpoch: en.current}
}

// resetTail takes the log tail the store read at open: the leader's
// history (and the learner's snapshot zxid) start from the disk's state.
func (en *ensemble) resetTail() {
	st := en.s.store
	en.snapZxid, en.tailBase = st.snapZxid, st.tailBase
	en.tail = en.tail[:0]
	for _, lt := range st.tail {
		en.tail = append(en.tail, zab.Entry{Zxid: lt.zxid, Data: lt.data})
	}
	st.tail = nil
}

func (en *ensemble) addTail(e zab.Entry) {
	en.tail = append(en.tail, e)
	// Keep 500 to 1000 entries: trimming at every append copied 500
	// entries per logged txn (15% of a loaded leader's CPU).
	if len(en.tail) <= 1000 {
		return
	}
	if over := len(en.tail) - 500; over > 0 {
		en.tailBase = en.tail[over-1].Zxid
		en.tail = append([]zab.Entry(nil), en.tail[over:]...)
	}
}

func (en *ensemble) mode() string {
	switch en.role.Load() {
	case roleLeading:
		return "leader"
	case roleFollowing:
		return "follower"
	case roleObserving:
		return "observer"
	}
	return "looking"
}

// peerState is mntr's zk_peer_state (Apache's getDetailedPeerState:
// "<state> - <zab phase>").
func (en *ensemble) peerState() string {
	switch {
	case en.leader == nil && en.learner == nil:
		return "looking - election"
	case !en.serving.Load():
		return map[int32]string{roleLeading: "leading", roleFollowing: "following", roleObserving: "observing"}[en.role.Load()] + " - synchronization"
	}
	return map[int32]string{roleLeading: "leading", roleFollowing: "following", roleObserving: "observing"}[en.role.Load()] + " - broadcast"
}

func (en *ensemble) isLearner() bool { return en.learner != nil }

// startRole is the election's decision.
func (en *ensemble) startRole(d fle.Decision) {
	s := en.s
	if en.leader != nil || en.learner != nil {
		en.endRole(fmt.Errorf("a new election decided while a role was active"), false)
	}
	en.gen++
	gen := en.gen
	switch d.State {
	case peer.Leading:
		l, err := zab.NewLeader(en.zcfg, zab.LeaderState{AcceptedEpoch: en.accepted, CurrentEpoch: en.current,
			BaseZxid: en.tailBase, History: append([]zab.Entry(nil), en.tail...)})
		if err != nil {
			en.log.Error().Err(err).Msg("cannot lead; back to LOOKING")
			en.lookAgain()
			return
		}
		en.leader = l
		en.role.Store(roleLeading)
		en.log.Info().Int64("round", d.ElectionEpoch).Msg("LEADING: waiting for followers")
		en.flush()
	default:
		leaderID := d.Vote.Leader
		m, ok := en.members[leaderID]
		if !ok || leaderID == en.myID {
			en.log.Error().Uint64("leader", leaderID).Msg("election chose an unknown leader; back to LOOKING")
			en.lookAgain()
			return
		}
		l, err := zab.NewLearner(en.zcfg, leaderID, zab.LearnerState{AcceptedEpoch: en.accepted, CurrentEpoch: en.current,
			LastZxid: s.tree.LastZxid(), SnapshotZxid: en.snapZxid})
		if err != nil {
			en.log.Error().Err(err).Msg("cannot follow; back to LOOKING")
			en.lookAgain()
			return
		}
		en.learner, en.leaderID = l, leaderID
		if d.State == peer.Observing {
			en.role.Store(roleObserving)
		} else {
			en.role.Store(roleFollowing)
		}
		en.log.Info().Uint64("leader", leaderID).Str("state", d.State.String()).Msg("connecting to the leader")
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(en.zcfg.InitLimit)*s.tick+time.Second)
		en.cancelDial = cancel
		go func() {
			defer cancel()
			link, err := quorum.DialLeader(ctx, m.QuorumAddr, en.myID, leaderID, s.log, quorum.LinkHandler{
				OnMsg: func(l *quorum.Link, msg peer.Msg) {
					s.post(event{kind: evFunc, fn: func() { en.onLeaderMsg(gen, l, msg) }})
				},
				OnClose: func(l *quorum.Link, err error) {
					s.post(event{kind: evFunc, fn: func() {
						if en.gen == gen && en.leaderLink == l {
							en.endRole(fmt.Errorf("connection to leader %d closed: %v", leaderID, err), true)
						}
					}})
				},
			})
			s.post(event{kind: evFunc, fn: func() {
				if en.gen != gen || en.learner == nil {
					if link != nil {
						link.Close()
					}
					return
				}
				if err != nil {
					en.endRole(err, true)
					return
				}
				en.leaderLink = link
				en.learner.Connected()
				en.flush()
			}})
		}()
	}
}

// acceptLearner runs on the quorum port's goroutine for each learner.
func (en *ensemble) acceptLearner(l *quorum.Link) (quorum.LinkHandler, bool) {
	s := en.s
	// A learner may connect a moment before this server has acted on the
	// same decision: while this server is still looking, wait for the
	// leader role (Apache's learners retry for initLimit; here the leader
	// waits as long). A server that follows or observes someone else will
	// not lead this round: refuse at once, so the learner goes back to
	// the election and finds the real leader instead of waiting initLimit.
	wait := time.Now().Add(time.Duration(en.zcfg.InitLimit) * s.tick)
	for en.role.Load() != roleLeading {
		if r := en.role.Load(); r == roleFollowing || r == roleObserving || time.Now().After(wait) {
			return quorum.LinkHandler{}, false
		}
		select {
		case <-s.quit:
			return quorum.LinkHandler{}, false
		case <-time.After(10 * time.Millisecond):
		}
	}
	gen := make(chan int, 1)
	s.post(event{kind: evFunc, fn: func() {
		if en.leader == nil {
			gen <- -1
			l.Close()
			return
		}
		if old := en.learnerLinks[l.Peer()]; old != nil && old != l {
			old.Close()
		}
		delete(en.synced, l.Peer())
		en.learnerLinks[l.Peer()] = l
		gen <- en.gen
	}})
	var g int
	select {
	case g = <-gen:
	case <-s.quit:
		return quorum.LinkHandler{}, false
	}
	if g < 0 {
		return quorum.LinkHandler{}, false
	}
	return quorum.LinkHandler{
		OnMsg: func(l *quorum.Link, m peer.Msg) {
			s.post(event{kind: evFunc, fn: func() { en.onLearnerMsg(g, l, m) }})
		},
		OnClose: func(l *quorum.Link, err error) {
			s.post(event{kind: evFunc, fn: func() {
				if en.gen == g && en.learnerLinks[l.Peer()] == l {
					delete(en.learnerLinks, l.Peer())
					delete(en.synced, l.Peer())
					if en.leader != nil {
						en.leader.Disconnect(l.Peer())
						en.flush()
					}
				}
			}})
		},
	}, true
}

func (en *ensemble) outstanding() bool {
	return en.leader != nil && en.leader.LastProposed() > en.leader.Committed()
}

// onLearnerMsg: a message from learner l to this leader.
func (en *ensemble) onLearnerMsg(gen int, l *quorum.Link, m peer.Msg) {
	if en.gen != gen || en.leader == nil || en.learnerLinks[l.Peer()] != l {
		return
	}
	from := l.Peer()
	zm := zab.Message{From: from, To: en.myID, Msg: m}
	switch msg := m.(type) {
	case peer.Opaque:
		switch msg.Kind {
		case peer.TypeRequest:
			en.leader.Step(zm) // liveness
			data := msg.Data
			if en.parking() {
				en.parked = append(en.parked, func() { en.onForward(from, data) })
			} else {
				en.onForward(from, data)
			}
			// No flush: the proposals of the whole loop batch are logged
			// with one fsync when the batch ends (group commit).
			return
		case peer.TypePing:
			touches, err := decodeTouches(msg.Data)
			if err != nil {
				en.log.Warn().Err(err).Uint64("learner", from).Msg("malformed session touches in PING; ignored")
			}
			now := en.s.nowMs()
			for _, t := range touches {
				en.s.sessions.Touch(t.id, t.timeout, now)
			}
		case peer.TypeRevalidate:
			en.leader.Step(zm)
			ts, err := decodeTouches(msg.Data)
			if err != nil || len(ts) != 1 {
				en.log.Warn().Err(err).Uint64("learner", from).Msg("malformed REVALIDATE; ignored")
				return
			}
			valid := int64(0)
			if ss := en.s.sessions.Get(ts[0].id); ss != nil && !ss.Closing {
				en.s.sessions.Touch(ts[0].id, ts[0].timeout, en.s.nowMs())
				valid = 1
			}
			en.flush() // a pending closeSession COMMIT goes first
			l.Send(peer.Opaque{Kind: peer.TypeRevalidate, Zxid: valid, Data: msg.Data})
			return
		case peer.TypeSync:
			en.leader.Step(zm)
			// The COMMITs already decided must leave before the answer.
			en.flush()
			if en.leader == nil {
				return
			}
			if en.outstanding() {
				en.leaderSyncs = append(en.leaderSyncs, leaderSync{zxid: en.leader.LastProposed(), to: from, data: msg.Data})
			} else {
				l.Send(peer.Opaque{Kind: peer.TypeSync, Zxid: en.leader.Committed(), Data: msg.Data})
			}
			return
		}
	case peer.AckEpoch:
		if en.outstanding() || len(en.deferred) > 0 {
			en.deferred = append(en.deferred, zm)
			return
		}
	}
	if z, ok := m.(peer.Zxid); ok && z.Kind == peer.TypeAck {
		en.leader.Step(zm)
		return // commits of the batch are released together at its end
	}
	en.flush() // a control message gets a Ready of its own
	if en.leader == nil {
		return
	}
	en.leader.Step(zm)
	// Everything else (ACKEPOCH above all: a SNAP must carry the tree
	// before any later proposal) is handled at once.
	en.flush()
}

// parking reports whether client work waits for deferred ACKEPOCHs.
func (en *ensemble) parking() bool { return len(en.deferred) > 0 }

// drainDeferred steps deferred ACKEPOCHs once nothing is outstanding, then
// replays parked client work.
func (en *ensemble) drainDeferred() bool {
	if en.leader == nil || en.outstanding() || len(en.deferred) == 0 {
		return false
	}
	d := en.deferred
	en.deferred = nil
	for _, m := range d {
		if en.learnerLinks[m.From] != nil {
			en.leader.Step(m)
		}
	}
	en.flush() // the SNAP (if any) is taken before parked work changes the tree
	p := en.parked
	en.parked = nil
	for _, fn := range p {
		fn()
	}
	return true
}

// onLeaderMsg: a message from the leader to this learner.
func (en *ensemble) onLeaderMsg(gen int, l *quorum.Link, m peer.Msg) {
	if en.gen != gen || en.learner == nil || en.leaderLink != l {
		return
	}
	if o, ok := m.(peer.Opaque); ok && o.Kind == peer.TypeRevalidate {
		en.flush()
		if en.learner != nil {
			en.onRevalidated(o)
		}
		return
	}
	if o, ok := m.(peer.Opaque); ok && o.Kind == peer.TypeSync {
		// Apply the COMMITs that came before the answer first.
		en.flush()
		if en.learner != nil {
			en.onSyncReply(o)
		}
		return
	}
	batched := false
	switch x := m.(type) {
	case peer.Txn:
		batched = true // logged with the batch's other txns, one fsync (group commit)
	case peer.Zxid:
		batched = x.Kind == peer.TypeCommit
	}
	if !batched {
		// A control message gets a Ready of its own, after the batched
		// txns are durable (NEWLEADER's currentEpoch after the synced txns).
		en.flush()
		if en.learner == nil {
			return
		}
	}
	en.learner.Step(zab.Message{From: en.leaderID, To: en.myID, Msg: m})
	if !batched {
		en.flush()
	}
}

func (en *ensemble) tick() {
	switch {
	case en.leader != nil:
		en.leader.Tick()
	case en.learner != nil && en.leaderLink != nil:
		en.learner.Tick()
	}
	en.flush()
}

// flush drains the active core's Ready until it is empty.
func (en *ensemble) flush() {
	for i := 0; i < 1000; i++ {
		var rd zab.Ready
		switch {
		case en.leader != nil && en.leader.HasReady():
			rd = en.leader.Ready()
		case en.learner != nil && en.learner.HasReady():
			rd = en.learner.Ready()
		default:
			if en.drainDeferred() {
				continue
			}
			return
		}
		if !en.handleReady(rd) {
			return
		}
	}
}

// handleReady follows the zab.Ready contract; false when the role ended.
func (en *ensemble) handleReady(rd zab.Ready) bool {
	s := en.s
	for _, n := range rd.Notes {
		en.log.Info().Msg(n)
	}
	fail := func(err error) bool {
		en.log.Error().Err(err).Msg("cannot persist ZAB state; leaving the role")
		en.mustReload = true // the tree may hold what the disk does not
		en.endRole(err, true)
		return false
	}
	// 0. A leader's PROPOSALs (and COMMITs of txns logged by earlier
	// Readies) leave before its own log write, so the followers' fsyncs
	// overlap the leader's (Apache's Leader.propose sends before
	// SyncRequestProcessor logs). Safe because the leader's own ack is
	// counted at Propose, but no follower ACK can be stepped before this
	// Ready, fsync included, is done: the loop goroutine runs both. Only a
	// prefix of Messages goes early, so every link keeps its order.
	early := 0
	if en.leader != nil && rd.AcceptedEpoch == nil && rd.CurrentEpoch == nil && rd.Snapshot == nil && rd.TruncateTo == nil {
		firstNew := int64(1<<63 - 1)
		if len(rd.Entries) > 0 {
			firstNew = rd.Entries[0].Zxid
		}
		for _, m := range rd.Messages {
			if !proposalOrCommit(m.Msg, firstNew) {
				break
			}
			if l := en.learnerLinks[m.To]; l != nil {
				l.Send(m.Msg)
			}
			early++
		}
	}
	// 0b. Commits of txns logged by earlier Readies are applied, and the
	// replies waiting for them leave, before this Ready's log write (at
	// the end of a loop batch only, where no caller holds a mark into
	// pending): a committed txn is durable on a quorum already, so its
	// reply need not wait for the fsync of the proposals behind it
	// (Apache's CommitProcessor does not wait for the follower's
	// SyncRequestProcessor either).
	var syncAnswers []leaderSync
	applied := 0
	if en.batchEnd && rd.AcceptedEpoch == nil && rd.CurrentEpoch == nil && rd.Snapshot == nil && rd.TruncateTo == nil && len(rd.Entries) > 0 {
		for applied < len(rd.Committed) && rd.Committed[applied].Zxid < rd.Entries[0].Zxid {
			e := rd.Committed[applied]
			if en.leader != nil {
				syncAnswers = append(syncAnswers, en.releaseHeld(e.Zxid)...)
			} else if err := en.applyCommitted(e); err != nil {
				return fail(err)
			}
			applied++
		}
		if applied > 0 {
			s.metrics.update(s)
			for _, p := range s.pending {
				p.c.enqueue(p.m)
			}
			s.pending = s.pending[:0]
		}
	}
	// 1. persist
	if rd.AcceptedEpoch != nil {
		if err := quorum.WriteEpoch(en.fsys, s.cfg.DataDir, quorum.AcceptedEpochFile, *rd.AcceptedEpoch); err != nil {
			return fail(err)
		}
		en.accepted = *rd.AcceptedEpoch
	}
	if rd.CurrentEpoch != nil {
		if err := quorum.WriteEpoch(en.fsys, s.cfg.DataDir, quorum.CurrentEpochFile, *rd.CurrentEpoch); err != nil {
			return fail(err)
		}
		en.current = *rd.CurrentEpoch
	}
	if rd.Snapshot != nil {
		if err := en.installSnapshot(rd.Snapshot); err != nil {
			return fail(err)
		}
	}
	if rd.TruncateTo != nil {
		if err := en.truncate(*rd.TruncateTo); err != nil {
			return fail(err)
		}
	}
	if len(rd.Entries) > 0 {
		for _, e := range rd.Entries {
			te, err := jute.DecodeTxnEntry(e.Data)
			if err != nil {
				return fail(fmt.Errorf("%w: txn %s from the leader does not decode: %w", ErrQuorum, zab.FormatZxid(e.Zxid), err))
			}
			if err := s.store.append(te); err != nil {
				return fail(err)
			}
			en.addTail(e)
			s.txnCount++
		}
		if err := s.store.sync(); err != nil {
			return fail(err)
		}
		if s.txnCount >= s.snapAt {
			s.txnCount = 0
			s.resetSnapTarget()
			s.startSnapshot()
		}
	}
	// 2. apply
	for _, e := range rd.Committed[applied:] {
		if en.leader != nil {
			syncAnswers = append(syncAnswers, en.releaseHeld(e.Zxid)...)
			continue
		}
		if err := en.applyCommitted(e); err != nil {
			return fail(err)
		}
	}
	// 3. send
	for _, m := range rd.Messages[early:] {
		msg := m.Msg
		switch x := msg.(type) {
		case peer.Snap:
			data, err := en.serializeTree(x.Zxid)
			if err != nil {
				return fail(err)
			}
			x.Snapshot = data
			msg = x
		case peer.Opaque:
			if en.learner != nil && x.Kind == peer.TypePing {
				x.Data = en.takeTouches()
				msg = x
			}
		}
		if en.leader != nil {
			if l := en.learnerLinks[m.To]; l != nil {
				l.Send(msg)
				if z, ok := msg.(peer.Zxid); ok && z.Kind == peer.TypeUpToDate {
					en.synced[m.To] = true
				}
			}
		} else if en.leaderLink != nil {
			en.leaderLink.Send(msg)
		}
	}
	// Learners' syncs waiting for these commits: after the COMMITs above.
	for _, ls := range syncAnswers {
		if l := en.learnerLinks[ls.to]; l != nil {
			l.Send(peer.Opaque{Kind: peer.TypeSync, Zxid: ls.zxid, Data: ls.data})
		}
	}
	for _, id := range rd.Close {
		delete(en.synced, id)
		if l := en.learnerLinks[id]; l != nil {
			delete(en.learnerLinks, id)
			l.Close()
		}
	}
	if rd.Established {
		en.serving.Store(true)
		epoch := int64(0)
		if en.leader != nil {
			epoch = en.leader.Epoch()
		} else {
			epoch = en.learner.Epoch()
		}
		en.elector.UpdateEpoch(epoch)
		en.log.Info().Str("mode", en.mode()).Int64("epoch", epoch).Int64("zxid", s.tree.LastZxid()).Msg("serving clients")
	}
	if rd.Lost != nil {
		en.endRole(rd.Lost, true)
		return false
	}
	return true
}

// proposalOrCommit: a PROPOSAL, or a COMMIT of a txn logged before
// firstNew (the first txn this Ready logs).
func proposalOrCommit(m peer.Msg, firstNew int64) bool {
	switch x := m.(type) {
	case peer.Txn:
		return x.Kind == peer.TypeProposal
	case peer.Zxid:
		return x.Kind == peer.TypeCommit && x.Zxid < firstNew
	}
	return false
}

// releaseHeld moves replies held for proposals up to zxid to the outgoing
// queue and returns the learners' syncs that waited for them (answered
// after the Ready's COMMITs).
func (en *ensemble) releaseHeld(zxid int64) []leaderSync {
	s := en.s
	n := 0
	for n < len(en.held) && en.held[n].zxid <= zxid {
		p := en.held[n].out
		s.pending = append(s.pending, p)
		n++
	}
	en.held = append(en.held[:0], en.held[n:]...)
	k := 0
	var out []leaderSync
	for k < len(en.leaderSyncs) && en.leaderSyncs[k].zxid <= zxid {
		ls := en.leaderSyncs[k]
		ls.zxid = zxid
		out = append(out, ls)
		k++
	}
	en.leaderSyncs = append(en.leaderSyncs[:0], en.leaderSyncs[k:]...)
	return out
}

// handleHeld handles a client event; on a leader with outstanding
// proposals its outputs wait for them (rule 2).
func (s *Server) handleHeld(e event) {
	mark := len(s.pending)
	s.handle(e)
	s.holdSince(mark)
}

// holdSince holds, on a leader with outstanding proposals, the outputs
// queued since mark until the newest proposal commits.
func (s *Server) holdSince(mark int) {
	en := s.ens
	if en == nil || !en.outstanding() || mark >= len(s.pending) {
		return
	}
	z := en.leader.LastProposed()
	for _, p := range s.pending[mark:] {
		en.held = append(en.held, heldOut{zxid: z, out: p})
	}
	s.pending = s.pending[:mark]
}

// applyCommitted applies a committed txn on a learner and answers the local
// client that asked for it.
func (en *ensemble) applyCommitted(e zab.Entry) error {
	s := en.s
	te, err := jute.DecodeTxnEntry(e.Data)
	if err != nil {
		return fmt.Errorf("%w: committed txn %s does not decode: %w", ErrQuorum, zab.FormatZxid(e.Zxid), err)
	}
	r := s.tree.Apply(te)
	s.deliver(s.tree.TakeEvents())
	id := te.Header.ClientID
	now := s.nowMs()
	switch x := te.Txn.(type) {
	case *jute.CreateSessionTxn:
		s.sessions.Add(id, x.TimeOut, now)
		delete(en.provisional, id)
		if c := en.fwdConnect[id]; c != nil {
			delete(en.fwdConnect, id)
			c.fwdPending--
			if !c.gone {
				c.session = id
				s.bySess[id] = c
				c.log.Info().Str("session", fmt.Sprintf("0x%x", id)).Int32("timeout", c.timeout).Msg("established session")
				s.finishSessionInit(c, true)
				en.touched[id] = c.timeout
			}
			en.unpark(c)
		}
		return nil
	case *jute.CloseSessionTxn:
		s.sessions.Remove(id)
		key := fwdKey{id, te.Header.Cxid}
		if p, ok := en.fwd[key]; ok && p.op == jute.OpCloseSession {
			delete(en.fwd, key)
			p.c.fwdPending--
			s.reply(p.c, te.Header.Cxid, te.Header.Zxid, 0, nil)
			s.sendClose(p.c)
			return nil
		}
		if c := s.bySess[id]; c != nil {
			s.sendClose(c)
		}
		return nil
	}
	key := fwdKey{id, te.Header.Cxid}
	p, ok := en.fwd[key]
	if !ok {
		return nil
	}
	delete(en.fwd, key)
	p.c.fwdPending--
	if te.Header.Type == jute.OpError {
		r.Type = p.op
	}
	s.replyWrite(p.c, p.op, te.Header.Cxid, te.Header.Zxid, r)
	en.unpark(p.c)
	return nil
}

// unpark runs a connection's requests that waited behind its forwarded
// ones: every parked request once nothing is forwarded any more, and a
// parked head that may be pipelined (pipelined) while writes still are.
func (en *ensemble) unpark(c *conn) {
	for len(c.parked) > 0 && !c.gone && (c.fwdPending == 0 || pipelinedEvent(c.parked[0])) {
		e := c.parked[0]
		c.parked = c.parked[1:]
		n := len(c.parked)
		c.replaying = true
		en.s.handle(e)
		c.replaying = false
		if len(c.parked) > n {
			break // parked again at the head: it waits for the earlier writes
		}
	}
}

// pipelined ops are forwarded to the leader while the connection's earlier
// writes are still outstanding (Apache's FollowerRequestProcessor forwards
// every write at once; CommitProcessor only orders the replies). The leader
// handles one learner's forwards in link order, so their zxids, and the
// COMMITs that answer them, follow the connection's request order. Reads,
// sync and closeSession still wait for every earlier forwarded request.
func pipelined(op jute.Op) bool {
	return forwardable(op) && op != jute.OpCloseSession && op != jute.OpCreateSession
}

func pipelinedEvent(e event) bool {
	return e.kind == evRequest && e.c.session != 0 && pipelined(e.hdr.Type)
}

// forwardable ops go to the leader.
func forwardable(op jute.Op) bool {
	return tree.IsWrite(op) || op == jute.OpReconfig
}

// learnerRequest is handleRequest on a follower or observer. It reports
// whether the request was taken care of.
func (en *ensemble) learnerRequest(c *conn, h jute.RequestHeader, body []byte, at time.Time) bool {
	s := en.s
	park := func() bool {
		c.inflight.Add(1) // handle() decrements again when the event is replayed
		e := event{kind: evRequest, c: c, hdr: h, body: body, at: at}
		if c.replaying {
			c.parked = append([]event{e}, c.parked...)
		} else {
			c.parked = append(c.parked, e)
		}
		return true
	}
	if c.fwdPending > 0 {
		// A write goes to the leader at once behind other forwarded
		// writes, unless requests that must wait are queued before it
		// (a replayed request is the head of the queue).
		if !pipelined(h.Type) || (len(c.parked) > 0 && !c.replaying) {
			return park()
		}
	}
	// Every request keeps the session alive; the leader learns it from
	// the next PING (Apache's LearnerSessionTracker touch table).
	en.touched[c.session] = c.timeout
	switch {
	case forwardable(h.Type):
		if h.Type != jute.OpCloseSession && !s.sessions.Touch(c.session, c.timeout, s.nowMs()) {
			if c.fwdPending > 0 {
				// Answered in order, once the earlier writes are.
				return park()
			}
			s.reply(c, h.Xid, s.tree.LastZxid(), jute.ErrSessionExpired, nil)
			s.sendClose(c)
			return true
		}
		en.fwd[fwdKey{c.session, h.Xid}] = fwdReq{c: c, op: h.Type}
		c.fwdPending++
		if c.fwdPending > en.maxFwdPending {
			en.maxFwdPending = c.fwdPending
		}
		en.sendToLeader(peer.Opaque{Kind: peer.TypeRequest, Data: encodeForward(&forwarded{
			Session: c.session, Cxid: h.Xid, Op: h.Type, Auth: c.auth, Body: body})})
		return true
	case h.Type == jute.OpSync:
		var r jute.PathRequest
		if err := decode(body, &r, s.maxBuffer); err != nil {
			return false // handleRead answers MarshallingError
		}
		en.nextSync++
		key := fwdKey{c.session, h.Xid}
		en.syncs[key] = c
		c.fwdPending++
		en.sendToLeader(peer.Opaque{Kind: peer.TypeSync, Data: encodeForward(&forwarded{
			Session: c.session, Cxid: h.Xid, Op: jute.OpSync, Body: []byte(r.Path)})})
		return true
	}
	return false
}

func (en *ensemble) sendToLeader(m peer.Msg) {
	if en.leaderLink != nil {
		en.leaderLink.Send(m)
	}
}

// onSyncReply: the leader answered a forwarded sync; every commit before it
// has been applied (same connection, in order).
func (en *ensemble) onSyncReply(o peer.Opaque) {
	s := en.s
	f, err := decodeForward(o.Data)
	if err != nil {
		en.log.Warn().Err(err).Msg("malformed SYNC answer from the leader; ignored")
		return
	}
	key := fwdKey{f.Session, f.Cxid}
	c := en.syncs[key]
	if c == nil {
		return
	}
	delete(en.syncs, key)
	c.fwdPending--
	s.reply(c, f.Cxid, s.tree.LastZxid(), 0, &jute.PathResponse{Path: string(f.Body)})
	en.unpark(c)
}

// revalidate asks the leader whether a reconnecting session is alive
// (Apache's Learner.validateSession); the connection waits for the answer.
func (en *ensemble) revalidate(c *conn, id int64, timeout int32) {
	if old := en.revalidating[id]; old != nil && old != c {
		old.fwdPending--
		en.s.sendClose(old)
	}
	en.revalidating[id] = c
	c.fwdPending++
	en.sendToLeader(peer.Opaque{Kind: peer.TypeRevalidate, Data: encodeTouches([]touch{{id: id, timeout: timeout}})})
}

// onRevalidated is the leader's answer to revalidate (Zxid 1 = alive).
func (en *ensemble) onRevalidated(o peer.Opaque) {
	s := en.s
	ts, err := decodeTouches(o.Data)
	if err != nil || len(ts) != 1 {
		en.log.Warn().Err(err).Msg("malformed REVALIDATE answer from the leader; ignored")
		return
	}
	id := ts[0].id
	c := en.revalidating[id]
	if c == nil {
		return
	}
	delete(en.revalidating, id)
	c.fwdPending--
	if c.gone {
		return
	}
	if o.Zxid != 1 {
		c.log.Info().Str("session", fmt.Sprintf("0x%x", id)).Msg("client tried to reconnect to an expired session")
		s.finishSessionInit(c, false)
		return
	}
	now := s.nowMs()
	if s.sessions.Get(id) == nil {
		// Alive at the leader; its createSession is not applied here yet.
		s.sessions.Add(id, c.timeout, now)
		en.provisional[id] = true
	}
	s.sessions.Touch(id, c.timeout, now)
	if old := s.bySess[id]; old != nil && old != c {
		s.sendClose(old)
	}
	s.bySess[id] = c
	en.touched[id] = c.timeout
	c.log.Info().Str("session", fmt.Sprintf("0x%x", id)).Int32("timeout", c.timeout).Msg("reestablished session")
	s.finishSessionInit(c, true)
	en.unpark(c)
}

// learnerConnect is handleConnect's new-session branch on a learner: the
// session is created by a txn through the leader.
func (en *ensemble) learnerConnect(c *conn, timeout int32) {
	s := en.s
	id := s.sessions.NextID()
	c.timeout = timeout
	en.fwdConnect[id] = c
	c.fwdPending++
	en.sendToLeader(peer.Opaque{Kind: peer.TypeRequest, Data: encodeForward(&forwarded{
		Session: id, Op: jute.OpCreateSession, Body: jute.Marshal(&jute.CreateSessionTxn{TimeOut: timeout})})})
}

// onForward runs a learner's forwarded write on the leader.
func (en *ensemble) onForward(from uint64, data []byte) {
	s := en.s
	f, err := decodeForward(data)
	if err != nil {
		en.log.Warn().Err(err).Uint64("learner", from).Msg("malformed forwarded request; ignored")
		return
	}
	mark := len(s.pending)
	defer s.holdSince(mark)
	fake := &conn{s: s, fake: true, session: f.Session, auth: f.Auth, log: en.log, latMin: -1}
	h := jute.RequestHeader{Xid: f.Cxid, Type: f.Op}
	now := s.nowMs()
	switch f.Op {
	case jute.OpCreateSession:
		var cs jute.CreateSessionTxn
		if err := jute.Unmarshal(f.Body, &cs); err != nil {
			en.log.Warn().Err(err).Msg("malformed forwarded createSession; ignored")
			return
		}
		s.sessions.Add(f.Session, cs.TimeOut, now)
		e, _ := s.tree.Prepare(&tree.Request{Session: f.Session, Op: jute.OpCreateSession,
			Body: &jute.CreateSessionTxn{TimeOut: cs.TimeOut}}, s.nextZxid(), now)
		s.appendTxn(e)
		return
	case jute.OpCloseSession:
		if s.sessions.Get(f.Session) == nil {
			s.errorTxn(fake, h, jute.ErrSessionExpired)
			return
		}
		s.closeSession(f.Session, f.Cxid)
		return
	}
	ss := s.sessions.Get(f.Session)
	if ss == nil || ss.Closing {
		s.errorTxn(fake, h, jute.ErrSessionExpired)
		return
	}
	s.sessions.Touch(f.Session, ss.Timeout, now)
	switch f.Op {
	case jute.OpReconfig:
		s.errorTxn(fake, h, jute.ErrReconfigDisabled)
	case jute.OpDeleteContainer:
		s.errorTxn(fake, h, jute.ErrBadArguments)
	default:
		s.handleWrite(fake, h, f.Body, tree.Auth{IDs: f.Auth})
	}
}

// propose hands a prepared txn to the leader core (appendTxn on a leader).
func (en *ensemble) propose(e *jute.TxnEntry) error {
	if en.leader == nil {
		return fmt.Errorf("%w: a txn was prepared on a server that does not lead", ErrQuorum)
	}
	enc := &jute.Encoder{}
	jute.EncodeTxnEntry(enc, e)
	zxid, err := en.leader.Propose(enc.Buf)
	if err != nil {
		return err
	}
	n := int64(len(enc.Buf))
	en.propLast = n
	if en.propMin < 0 || n < en.propMin {
		en.propMin = n
	}
	if n > en.propMax {
		en.propMax = n
	}
	if zxid != e.Header.Zxid {
		return fmt.Errorf("%w: leader assigned zxid %s to a txn prepared as %s", ErrQuorum, zab.FormatZxid(zxid), zab.FormatZxid(e.Header.Zxid))
	}
	return nil
}

// nextZxid is the zxid the next prepared txn gets.
func (s *Server) nextZxid() int64 {
	last := s.tree.LastZxid()
	if en := s.ens; en != nil && en.leader != nil {
		if ep := en.leader.Epoch(); zab.EpochOf(last) < ep {
			return zab.MakeZxid(ep, 1)
		}
	}
	return last + 1
}

// endRole leaves the current role: close client connections and peer
// links, reload the tree from disk, and (look=true) start a new election.
func (en *ensemble) endRole(reason error, look bool) {
	s := en.s
	en.log.Warn().Err(reason).Str("mode", en.mode()).Msg("leaving the role; closing client connections and going back to LOOKING")
	wasLearner := en.learner != nil
	en.gen++
	if en.cancelDial != nil {
		en.cancelDial()
		en.cancelDial = nil
	}
	if en.leaderLink != nil {
		en.leaderLink.Close()
		en.leaderLink = nil
	}
	for id, l := range en.learnerLinks {
		l.Close()
		delete(en.learnerLinks, id)
	}
	en.leader, en.learner = nil, nil
	en.serving.Store(false)
	en.role.Store(roleLooking)
	en.held, en.deferred, en.parked, en.leaderSyncs = nil, nil, nil, nil
	en.fwd, en.fwdConnect, en.syncs = map[fwdKey]fwdReq{}, map[int64]*conn{}, map[fwdKey]*conn{}
	en.revalidating = map[int64]*conn{}
	en.synced = map[uint64]bool{}
	en.touched = map[int64]int32{}
	s.closeAllClients()
	// The closes leave now, not after the reload and the election: a
	// client waits a while (go-zookeeper: 1 s) before it reconnects, and
	// that wait should overlap ours. Nothing in pending waits for a commit
	// any more (held replies were dropped above), so releasing it here is
	// what commit() would do at the end of the batch.
	for _, p := range s.pending {
		p.c.enqueue(p.m)
	}
	s.pending = s.pending[:0]
	mustReload := en.mustReload
	en.mustReload = false
	if wasLearner && !mustReload && en.fastForward() {
		provisional := en.provisional
		en.provisional = map[int64]bool{}
		for id := range provisional {
			s.sessions.Remove(id)
		}
	} else {
		en.provisional = map[int64]bool{}
		if err := en.reload(); err != nil {
			s.fatal = err
			return
		}
	}
	if look {
		en.lookAgain()
	}
}

// fastForward brings a learner's tree and sessions to what reload would
// read from disk, without reading it: the tree holds the committed txns,
// and the logged txns above them are all in the tail (Apache 3.8's
// ZKDatabase.fastForwardDataBase on a learner's shutdown). Sessions get a
// fresh timeout, as after a reload. It reports false when the tail does
// not reach back to the tree (the caller then reloads).
func (en *ensemble) fastForward() bool {
	s := en.s
	last := s.tree.LastZxid()
	if last < en.tailBase {
		return false
	}
	if n := len(en.tail); n > 0 && en.tail[n-1].Zxid < last || n == 0 && en.tailBase != last {
		return false // the tree is ahead of the log: not a learner's state
	}
	now := s.nowMs()
	for _, e := range en.tail {
		if e.Zxid <= last {
			continue
		}
		te, err := jute.DecodeTxnEntry(e.Data)
		if err != nil {
			en.log.Warn().Err(err).Str("zxid", zab.FormatZxid(e.Zxid)).Msg("logged txn does not decode; reloading the data directory instead")
			return false
		}
		s.tree.Apply(te)
		s.tree.TakeEvents()
		switch x := te.Txn.(type) {
		case *jute.CreateSessionTxn:
			s.sessions.Add(te.Header.ClientID, x.TimeOut, now)
			delete(en.provisional, te.Header.ClientID)
		case *jute.CloseSessionTxn:
			s.sessions.Remove(te.Header.ClientID)
		}
	}
	for _, ss := range s.sessions.All() {
		s.sessions.Touch(ss.ID, ss.Timeout, now)
	}
	en.fastForwards++
	en.log.Info().Str("zxid", zab.FormatZxid(s.tree.LastZxid())).Int("sessions", s.sessions.Count()).
		Msg("applied the logged txns above the last commit (no reload)")
	return true
}

func (en *ensemble) lookAgain() {
	en.role.Store(roleLooking)
	en.elector.Lookup(en.ownVote())
}

// closeAllClients closes every client connection (clients reconnect to
// another server).
func (s *Server) closeAllClients() {
	for _, c := range s.conns {
		s.sendClose(c)
	}
}

// reload replaces the tree and sessions by what the disk holds.
func (en *ensemble) reload() error {
	s := en.s
	for s.snapping.Load() {
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.store.close(); err != nil {
		en.log.Warn().Err(err).Msg("closing the txn log before reload")
	}
	st, t, sessions, err := openStore(en.fsys, s.cfg, s.log, s.nowMs())
	if err != nil {
		return fmt.Errorf("%w: reload data directory: %w", ErrQuorum, err)
	}
	s.store, s.tree, s.sessions = st, t, sessions
	en.resetTail()
	return nil
}

// installSnapshot replaces the data directory's state by a leader's SNAP.
func (en *ensemble) installSnapshot(sn *zab.Snapshot) error {
	s := en.s
	if _, err := snapshot.Decode(sn.Data, nil); err != nil {
		return fmt.Errorf("%w: SNAP from the leader at %s: %w", ErrQuorum, zab.FormatZxid(sn.Zxid), err)
	}
	for s.snapping.Load() {
		time.Sleep(5 * time.Millisecond)
	}
	_ = s.store.close()
	path := filepath.Join(s.store.snapDir, snapshot.FileName(sn.Zxid))
	if err := checkpoint.WriteFile(en.fsys, path, sn.Data); err != nil {
		return fmt.Errorf("%w: write SNAP: %w", ErrQuorum, err)
	}
	// Every logged txn is replaced by the snapshot.
	if err := txnlog.Truncate(en.fsys, s.store.logDir, 0, s.log); err != nil {
		return fmt.Errorf("%w: drop the txn log after SNAP: %w", ErrQuorum, err)
	}
	en.log.Info().Str("zxid", zab.FormatZxid(sn.Zxid)).Int("bytes", len(sn.Data)).Msg("installed SNAP from the leader")
	return en.reload()
}

// truncate drops logged txns above zxid (TRUNC) and reloads the tree.
func (en *ensemble) truncate(zxid int64) error {
	s := en.s
	for s.snapping.Load() {
		time.Sleep(5 * time.Millisecond)
	}
	_ = s.store.close()
	if err := txnlog.Truncate(en.fsys, s.store.logDir, zxid, s.log); err != nil {
		return fmt.Errorf("%w: TRUNC to %s: %w", ErrQuorum, zab.FormatZxid(zxid), err)
	}
	en.log.Info().Str("zxid", zab.FormatZxid(zxid)).Msg("truncated the txn log (TRUNC from the leader)")
	return en.reload()
}

// serializeTree is the leader's SNAP body: a snapshot file of the tree as
// of zxid (the tree holds nothing beyond it: rule 3).
func (en *ensemble) serializeTree(zxid int64) ([]byte, error) {
	s := en.s
	if s.tree.LastZxid() != zxid {
		return nil, fmt.Errorf("%w: SNAP at %s but the tree is at %s", ErrQuorum, zab.FormatZxid(zxid), zab.FormatZxid(s.tree.LastZxid()))
	}
	mem := vfs.NewMem()
	st := &store{fsys: mem, snapDir: "/snap", logger: en.log}
	if err := st.writeSnapshot(s.tree, s.sessions.All()); err != nil {
		return nil, err
	}
	f, err := mem.OpenFile(filepath.Join("/snap", snapshot.FileName(zxid)), os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, fi.Size())
	if _, err := f.ReadAt(buf, 0); err != nil {
		return nil, err
	}
	return buf, nil
}

func (en *ensemble) takeTouches() []byte {
	if len(en.touched) == 0 {
		return nil
	}
	out := make([]touch, 0, len(en.touched))
	for id, to := range en.touched {
		out = append(out, touch{id: id, timeout: to})
	}
	en.touched = map[int64]int32{}
	return encodeTouches(out)
}
