package election_test

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"mqstack/election/fle"
	"mqstack/election/quorum"
	"mqstack/election/zab"
	"mqstack/proto/peer"
)

// TestEnsembleRandom wires the real cores together as zkd will: each
// server runs an fle.Election; its decision starts a zab.Leader or
// zab.Learner; a lost role goes back to LOOKING with a new round. Random
// schedules deliver, drop, tick, propose, crash and restart over 3 and 5
// voters plus an observer, and after every step the ZAB invariants must
// hold: serving servers applied prefixes of one committed sequence that
// never changes, every committed txn is durable on a quorum of voters, and
// no two leaders establish the same epoch. At the end the network heals and
// the ensemble must elect a leader and commit a new txn everywhere.
func TestEnsembleRandom(t *testing.T) {
	for _, voters := range []int{3, 5} {
		for seed := int64(1); seed <= 200; seed++ {
			t.Run(fmt.Sprintf("voters=%d/seed=%d", voters, seed), func(t *testing.T) {
				newEnsemble(t, voters, seed).run(1500)
			})
		}
	}
}

type server struct {
	id       uint64
	up       bool
	accepted int64
	current  int64
	log      []zab.Entry
	tree     []zab.Entry
	serving  bool
	inc      int
	election *fle.Election
	leader   *zab.Leader
	learner  *zab.Learner

	learnerConnected bool
}

func (s *server) lastZxid() int64 {
	if n := len(s.log); n > 0 {
		return s.log[n-1].Zxid
	}
	return 0
}

func (s *server) reload() { s.tree = append([]zab.Entry{}, s.log...) }

type packet struct {
	from, to       uint64
	vote           *fle.Message
	zab            *zab.Message
	fromInc, toInc int
}

type ensemble struct {
	t         *testing.T
	rng       *rand.Rand
	v         quorum.Verifier
	servers   []*server
	flight    []packet
	proposals int
	trace     strings.Builder
	leaders   map[int64]uint64
	committed []zab.Entry
}

func newEnsemble(t *testing.T, voters int, seed int64) *ensemble {
	var vs []uint64
	for i := 1; i <= voters; i++ {
		vs = append(vs, uint64(i))
	}
	v, err := quorum.NewVerifier(vs, []uint64{uint64(voters + 1)})
	if err != nil {
		t.Fatal(err)
	}
	e := &ensemble{t: t, rng: rand.New(rand.NewSource(seed)), v: v, leaders: map[int64]uint64{}}
	for i := 1; i <= voters+1; i++ {
		e.servers = append(e.servers, &server{id: uint64(i)})
	}
	t.Cleanup(func() {
		if t.Failed() {
			lines := strings.Split(e.trace.String(), "\n")
			if len(lines) > 120 {
				lines = lines[len(lines)-120:]
			}
			t.Logf("last events:\n%s", strings.Join(lines, "\n"))
		}
	})
	for _, s := range e.servers {
		e.boot(s)
	}
	return e
}

func (e *ensemble) logf(format string, args ...any) { fmt.Fprintf(&e.trace, format+"\n", args...) }

func (e *ensemble) zabConfig(id uint64) zab.Config {
	return zab.Config{ID: id, Verifier: e.v, InitLimit: 10, SyncLimit: 5, CommitLogSize: 4}
}

func (e *ensemble) boot(s *server) {
	el, err := fle.New(fle.Config{ID: s.id, Verifier: e.v})
	if err != nil {
		e.t.Fatal(err)
	}
	s.up, s.election = true, el
	s.reload()
	e.look(s)
}

// look starts a new election round from the server's durable state.
func (e *ensemble) look(s *server) {
	s.election.Start(fle.Vote{Zxid: s.lastZxid(), PeerEpoch: s.current})
	e.drainVote(s)
}

func (e *ensemble) drainVote(s *server) {
	rd := s.election.Ready()
	for i := range rd.Messages {
		m := rd.Messages[i]
		e.flight = append(e.flight, packet{from: m.From, to: m.To, vote: &m})
	}
	if d := rd.Decision; d != nil {
		e.logf("%d decides %s of %d (round %d)", s.id, d.State, d.Vote.Leader, d.ElectionEpoch)
		e.endRole(s)
		var err error
		switch d.State {
		case peer.Leading:
			s.leader, err = zab.NewLeader(e.zabConfig(s.id), zab.LeaderState{AcceptedEpoch: s.accepted, CurrentEpoch: s.current, History: s.log})
		default:
			s.learner, err = zab.NewLearner(e.zabConfig(s.id), d.Vote.Leader, zab.LearnerState{AcceptedEpoch: s.accepted, CurrentEpoch: s.current, LastZxid: s.lastZxid()})
		}
		if err != nil {
			e.t.Fatal(err)
		}
		e.drainZab(s)
		e.connect(s)
		if s.leader != nil {
			for _, o := range e.servers {
				if o.learner != nil && o.learner.Leader() == s.id {
					e.connect(o)
				}
			}
		}
	}
}

// endRole closes the server's ZAB connections, as a socket close would.
func (e *ensemble) endRole(s *server) {
	wasLeader := s.leader != nil
	var leaderOf uint64
	if s.learner != nil {
		leaderOf = s.learner.Leader()
	}
	s.leader, s.learner, s.serving, s.learnerConnected = nil, nil, false, false
	s.inc++
	s.reload()
	if leaderOf != 0 {
		if l := e.servers[leaderOf-1]; l.leader != nil {
			l.leader.Disconnect(s.id)
			e.drainZab(l)
		}
	}
	if wasLeader {
		for _, o := range e.servers {
			if o.learner != nil && o.learner.Leader() == s.id {
				e.lose(o, "leader connection closed")
			}
		}
	}
}

func (e *ensemble) lose(s *server, why string) {
	e.logf("%d: %s", s.id, why)
	e.endRole(s)
	e.look(s)
}

func (e *ensemble) drainZab(s *server) {
	var rd zab.Ready
	switch {
	case s.leader != nil:
		rd = s.leader.Ready()
	case s.learner != nil:
		rd = s.learner.Ready()
	default:
		return
	}
	if rd.AcceptedEpoch != nil {
		s.accepted = *rd.AcceptedEpoch
	}
	if rd.CurrentEpoch != nil {
		s.current = *rd.CurrentEpoch
	}
	if rd.Snapshot != nil {
		var es []zab.Entry
		for _, z := range strings.Fields(string(rd.Snapshot.Data)) {
			var epoch, counter int64
			fmt.Sscanf(z, "%d:%d", &epoch, &counter)
			es = append(es, zab.Entry{Zxid: zab.MakeZxid(epoch, counter), Data: []byte("txn " + z)})
		}
		// The simulated disk keeps snapshot txns in the log: the test only
		// needs their zxids and bodies.
		s.log = es
		s.reload()
	}
	if rd.TruncateTo != nil {
		k := 0
		for k < len(s.log) && s.log[k].Zxid <= *rd.TruncateTo {
			k++
		}
		s.log = append([]zab.Entry{}, s.log[:k]...)
		s.reload()
	}
	s.log = append(s.log, rd.Entries...)
	before := len(s.tree)
	s.tree = append(s.tree, rd.Committed...)
	for i := range rd.Messages {
		m := rd.Messages[i]
		if sn, ok := m.Msg.(peer.Snap); ok {
			var b strings.Builder
			for _, x := range s.tree[:before] {
				fmt.Fprintf(&b, "%s ", zab.FormatZxid(x.Zxid))
			}
			for _, x := range rd.Committed {
				if x.Zxid <= sn.Zxid {
					fmt.Fprintf(&b, "%s ", zab.FormatZxid(x.Zxid))
				}
			}
			sn.Snapshot = []byte(b.String())
			m.Msg = sn
		}
		e.flight = append(e.flight, packet{from: m.From, to: m.To, zab: &m, fromInc: s.inc, toInc: e.servers[m.To-1].inc})
	}
	for _, id := range rd.Close {
		if o := e.servers[id-1]; o.learner != nil && o.learner.Leader() == s.id {
			e.lose(o, "closed by the leader")
		}
	}
	if rd.Established {
		s.serving = true
		if s.leader != nil {
			s.election.UpdateEpoch(s.leader.Epoch())
		} else {
			s.election.UpdateEpoch(s.learner.Epoch())
		}
		if s.leader != nil {
			ep := s.leader.Epoch()
			if other, ok := e.leaders[ep]; ok && other != s.id {
				e.t.Fatalf("epoch %d established by %d and %d", ep, other, s.id)
			}
			e.leaders[ep] = s.id
			e.logf("%d leads epoch %d", s.id, ep)
		}
	}
	for _, n := range rd.Notes {
		e.logf("%d: %s", s.id, n)
	}
	e.check()
	if rd.Lost != nil {
		e.lose(s, rd.Lost.Error())
	}
}

func (e *ensemble) check() {
	for _, s := range e.servers {
		for i := 1; i < len(s.tree); i++ {
			if s.tree[i].Zxid <= s.tree[i-1].Zxid {
				e.t.Fatalf("server %d: tree out of order", s.id)
			}
		}
		if !s.serving {
			continue
		}
		k := min(len(s.tree), len(e.committed))
		for i := 0; i < k; i++ {
			if s.tree[i].Zxid != e.committed[i].Zxid {
				e.t.Fatalf("server %d applied %s where %s was committed", s.id, zab.FormatZxid(s.tree[i].Zxid), zab.FormatZxid(e.committed[i].Zxid))
			}
		}
		if len(s.tree) > len(e.committed) {
			e.committed = append([]zab.Entry{}, s.tree...)
		}
	}
	for _, c := range e.committed {
		var holders []uint64
		for _, s := range e.servers {
			for _, l := range s.log {
				if l.Zxid == c.Zxid {
					holders = append(holders, s.id)
					break
				}
			}
		}
		if !e.v.ContainsQuorum(holders) {
			e.t.Fatalf("committed %s is durable only on %v", zab.FormatZxid(c.Zxid), holders)
		}
	}
}

func (e *ensemble) deliver(i int, drop bool) {
	p := e.flight[i]
	// FIFO per connection: deliver the oldest packet of the same kind
	// between the same pair.
	for j, q := range e.flight {
		if q.from == p.from && q.to == p.to && (q.vote == nil) == (p.vote == nil) {
			i, p = j, q
			break
		}
	}
	e.flight = append(e.flight[:i:i], e.flight[i+1:]...)
	dst, src := e.servers[p.to-1], e.servers[p.from-1]
	if !dst.up {
		return
	}
	if p.vote != nil {
		if !drop {
			dst.election.Step(*p.vote)
			e.drainVote(dst)
		}
		return
	}
	if dst.inc != p.toInc || src.inc != p.fromInc {
		return // that connection is gone
	}
	if drop {
		// A ZAB connection breaks: the learner end gives up.
		for _, s := range []*server{src, dst} {
			if s.learner != nil && (s.learner.Leader() == src.id || s.learner.Leader() == dst.id) {
				e.lose(s, "connection broke")
			}
		}
		return
	}
	switch {
	case dst.leader != nil:
		dst.leader.Step(*p.zab)
	case dst.learner != nil:
		dst.learner.Step(*p.zab)
	}
	e.drainZab(dst)
}

// connect dials the leader for a learner that is not connected yet (the
// wiring retries until the leader listens).
func (e *ensemble) connect(s *server) {
	if s.learner == nil || s.learnerConnected {
		return
	}
	if l := e.servers[s.learner.Leader()-1]; l.up && l.leader != nil {
		s.learnerConnected = true
		s.learner.Connected()
		e.drainZab(s)
	}
}

func (e *ensemble) tickZab(s *server) {
	e.connect(s)
	switch {
	case s.leader != nil:
		s.leader.Tick()
	case s.learner != nil:
		s.learner.Tick()
	default:
		return
	}
	e.drainZab(s)
}

func (e *ensemble) run(steps int) {
	for step := 0; step < steps; step++ {
		s := e.servers[e.rng.Intn(len(e.servers))]
		switch r := e.rng.Intn(100); {
		case r < 60:
			if len(e.flight) > 0 {
				e.deliver(e.rng.Intn(len(e.flight)), false)
			}
		case r < 62:
			if len(e.flight) > 0 {
				e.deliver(e.rng.Intn(len(e.flight)), true)
			}
		case r < 75:
			if s.up {
				s.election.Tick()
				e.drainVote(s)
			}
		case r < 82:
			if s.up {
				e.tickZab(s)
			}
		case r < 92:
			if s.leader != nil && s.leader.Established() {
				e.proposals++
				if _, err := s.leader.Propose([]byte(fmt.Sprintf("p%d", e.proposals))); err == nil {
					e.drainZab(s)
				}
			}
		default:
			if s.up && e.rng.Intn(3) == 0 {
				e.logf("%d crashes", s.id)
				e.endRole(s)
				s.up, s.election, s.tree = false, nil, nil
			} else if !s.up {
				e.logf("%d restarts", s.id)
				e.boot(s)
			}
		}
	}
	// Heal: everyone up, no more loss; time passes until a leader serves
	// with every voter and a new txn reaches all of them.
	for _, s := range e.servers {
		if !s.up {
			e.boot(s)
		}
	}
	for round := 0; round < 5000; round++ {
		e.flush()
		if l := e.servingLeader(); l != nil {
			e.proposals++
			z, err := l.leader.Propose([]byte("final"))
			if err != nil {
				e.t.Fatal(err)
			}
			e.drainZab(l)
			e.flush()
			for _, s := range e.servers {
				if n := len(s.tree); n == 0 || s.tree[n-1].Zxid != z {
					e.t.Fatalf("server %d did not apply %s after healing", s.id, zab.FormatZxid(z))
				}
			}
			return
		}
		for _, s := range e.servers {
			s.election.Tick()
			e.drainVote(s)
			if round%5 == 0 {
				e.tickZab(s)
			}
		}
	}
	e.t.Fatal("no leader serving the whole ensemble after healing")
}

// flush delivers everything in flight, including what the deliveries send.
func (e *ensemble) flush() {
	for n := 0; len(e.flight) > 0; n++ {
		if n > 200000 {
			e.t.Fatalf("messages keep flowing without ticks: %d in flight", len(e.flight))
		}
		e.deliver(0, false)
	}
}

func (e *ensemble) servingLeader() *server {
	for _, s := range e.servers {
		if s.leader == nil || !s.leader.Established() {
			continue
		}
		for _, o := range e.servers {
			if !o.serving || (o != s && (o.learner == nil || o.learner.Leader() != s.id)) {
				return nil
			}
		}
		return s
	}
	return nil
}
