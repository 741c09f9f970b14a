package zab

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"testing"

	"mqstack/election/quorum"
	"mqstack/proto/peer"
)

// simNode is one server of the simulated ensemble: a disk (epochs,
// snapshot, txn log) that survives crashes, and a data tree plus a ZAB role
// that do not.
type simNode struct {
	id       uint64
	up       bool
	accepted int64
	current  int64
	snap     []Entry // txns covered by the snapshot
	log      []Entry // txns after the snapshot
	tree     []Entry // applied state
	leader   *Leader
	learner  *Learner
	serving  bool
	inc      int // incarnation: bumped when a role starts or ends, or on a crash
}

// inflight is a message on a connection between two role incarnations: if
// either end changed since it was sent, the connection is gone and so is
// the message (TCP never delivers an old connection's bytes to a new one).
type inflight struct {
	Message
	fromInc, toInc int
}

func (n *simNode) snapZxid() int64 {
	if len(n.snap) == 0 {
		return 0
	}
	return n.snap[len(n.snap)-1].Zxid
}

func (n *simNode) lastZxid() int64 {
	if len(n.log) > 0 {
		return n.log[len(n.log)-1].Zxid
	}
	return n.snapZxid()
}

// durable is every txn the node could recover after a crash.
func (n *simNode) durable() []Entry { return append(append([]Entry{}, n.snap...), n.log...) }

// reload rebuilds the tree from disk, as the server does at start, after
// TRUNC, and before it takes a new role.
func (n *simNode) reload() { n.tree = n.durable() }

func (n *simNode) role() string {
	switch {
	case !n.up:
		return "down"
	case n.leader != nil:
		return fmt.Sprintf("leader(epoch %d)", n.leader.Epoch())
	case n.learner != nil:
		return fmt.Sprintf("learner of %d", n.learner.Leader())
	}
	return "looking"
}

type cluster struct {
	t         testing.TB
	v         quorum.Verifier
	cfg       Config
	nodes     []*simNode
	flight    []inflight
	out       *strings.Builder // nil: silent
	proposals int

	leaderOfEpoch map[int64]uint64
	committed     []Entry // the longest committed sequence any server served
}

func newCluster(t testing.TB, voters, observers int, cfg Config) *cluster {
	var vs, os []uint64
	for i := 1; i <= voters; i++ {
		vs = append(vs, uint64(i))
	}
	for i := voters + 1; i <= voters+observers; i++ {
		os = append(os, uint64(i))
	}
	v, err := quorum.NewVerifier(vs, os)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Verifier = v
	c := &cluster{t: t, v: v, cfg: cfg, leaderOfEpoch: map[int64]uint64{}}
	for i := 1; i <= voters+observers; i++ {
		c.nodes = append(c.nodes, &simNode{id: uint64(i), up: true})
	}
	return c
}

func (c *cluster) node(id uint64) *simNode {
	if id == 0 || int(id) > len(c.nodes) {
		c.t.Fatalf("no server %d", id)
	}
	return c.nodes[id-1]
}

func (c *cluster) printf(format string, args ...any) {
	if c.out != nil {
		fmt.Fprintf(c.out, format, args...)
	}
}

func (c *cluster) config(id uint64) Config {
	cfg := c.cfg
	cfg.ID = id
	return cfg
}

// lead makes id the leader, dropping any role it had.
func (c *cluster) lead(id uint64) {
	n := c.node(id)
	c.endRole(n)
	n.reload()
	hist := n.log
	base := n.snapZxid()
	l, err := NewLeader(c.config(id), LeaderState{AcceptedEpoch: n.accepted, CurrentEpoch: n.current, BaseZxid: base, History: hist})
	if err != nil {
		c.t.Fatal(err)
	}
	n.leader = l
	c.printf("%d leads (accepted %d, current %d, last %s)\n", id, n.accepted, n.current, FormatZxid(n.lastZxid()))
	c.collect(n)
}

// follow makes id a learner of leader.
func (c *cluster) follow(id, leader uint64) {
	n := c.node(id)
	c.endRole(n)
	n.reload()
	f, err := NewLearner(c.config(id), leader, LearnerState{AcceptedEpoch: n.accepted, CurrentEpoch: n.current, LastZxid: n.lastZxid(), SnapshotZxid: n.snapZxid()})
	if err != nil {
		c.t.Fatal(err)
	}
	n.learner = f
	f.Connected()
	c.collect(n)
}

// endRole ends n's role and closes its connections: a learner's leader is
// told (Leader.Disconnect), a leader's learners lose their connection and
// give up, as Apache's do when the socket closes.
func (c *cluster) endRole(n *simNode) {
	wasLeader, learnerOf := n.leader != nil, uint64(0)
	if n.learner != nil {
		learnerOf = n.learner.Leader()
	}
	n.leader, n.learner, n.serving = nil, nil, false
	n.inc++
	if learnerOf != 0 {
		if l := c.node(learnerOf); l.leader != nil {
			l.leader.Disconnect(n.id)
			c.collect(l)
		}
	}
	if wasLeader {
		for _, m := range c.nodes {
			if m.learner != nil && m.learner.Leader() == n.id {
				c.printf("%d: connection to leader %d closed\n", m.id, n.id)
				c.endRole(m)
				m.reload()
			}
		}
	}
}

func (c *cluster) crash(id uint64) {
	n := c.node(id)
	c.printf("%d crashed\n", id)
	c.endRole(n)
	n.up = false
	n.tree = nil
}

func (c *cluster) restart(id uint64) {
	n := c.node(id)
	n.up = true
	n.reload()
	c.printf("%d restarted (accepted %d, current %d, last %s)\n", id, n.accepted, n.current, FormatZxid(n.lastZxid()))
}

func (c *cluster) propose(id uint64) (int64, error) {
	n := c.node(id)
	if n.leader == nil {
		return 0, ErrNotLeading
	}
	c.proposals++
	z, err := n.leader.Propose([]byte(fmt.Sprintf("txn-%d", c.proposals)))
	if err == nil {
		c.printf("%d proposes %s\n", id, FormatZxid(z))
	}
	c.collect(n)
	return z, err
}

func (c *cluster) tick(n *simNode) {
	switch {
	case n.leader != nil:
		n.leader.Tick()
	case n.learner != nil:
		n.learner.Tick()
	default:
		return
	}
	c.collect(n)
}

func (c *cluster) deliverOne(i int, drop bool) {
	fm := c.flight[i]
	m := fm.Message
	c.flight = append(c.flight[:i:i], c.flight[i+1:]...)
	dst, src := c.node(m.To), c.node(m.From)
	switch {
	case drop:
		c.printf("%s dropped\n", fmtMsg(m))
		return
	case !dst.up:
		c.printf("%s lost: %d is down\n", fmtMsg(m), m.To)
		return
	case dst.inc != fm.toInc || src.inc != fm.fromInc:
		c.printf("%s lost: connection closed\n", fmtMsg(m))
		return
	}
	c.printf("%s\n", fmtMsg(m))
	switch {
	case dst.leader != nil:
		dst.leader.Step(m)
	case dst.learner != nil:
		dst.learner.Step(m)
	default:
		return
	}
	c.collect(dst)
}

// deliver delivers (or drops) every message in flight now that matches.
func (c *cluster) deliver(from, to uint64, kind string, drop bool) {
	batch := len(c.flight)
	for i, seen := 0, 0; seen < batch; seen++ {
		m := c.flight[i]
		if (from != 0 && m.From != from) || (to != 0 && m.To != to) || (kind != "" && m.Msg.PeerType().String() != kind) {
			i++
			continue
		}
		c.deliverOne(i, drop)
	}
}

func (c *cluster) stabilize() {
	for i := 0; len(c.flight) > 0; i++ {
		if i > 100000 {
			c.t.Fatal("messages still in flight after 100000 deliveries")
		}
		c.deliverOne(0, false)
	}
}

func fmtMsg(m Message) string {
	head := fmt.Sprintf("%d->%d %s", m.From, m.To, m.Msg.PeerType())
	switch x := m.Msg.(type) {
	case peer.LearnerInfo:
		return fmt.Sprintf("%s accepted=%d", head, x.AcceptedEpoch)
	case peer.LeaderInfo:
		return fmt.Sprintf("%s epoch=%d", head, x.NewEpoch)
	case peer.AckEpoch:
		return fmt.Sprintf("%s current=%d last=%s", head, x.CurrentEpoch, FormatZxid(x.LastZxid))
	case peer.Zxid:
		return fmt.Sprintf("%s %s", head, FormatZxid(x.Zxid))
	case peer.Txn:
		return fmt.Sprintf("%s %s %q", head, FormatZxid(x.Zxid), x.Data)
	case peer.Snap:
		entries, _ := decodeSnap(x.Snapshot)
		return fmt.Sprintf("%s %s (%d txns)", head, FormatZxid(x.Zxid), len(entries))
	case peer.Opaque:
		return fmt.Sprintf("%s %s", head, FormatZxid(x.Zxid))
	}
	return head
}

func zxids(es []Entry) string {
	if len(es) == 0 {
		return "[]"
	}
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = FormatZxid(e.Zxid)
	}
	return "[" + strings.Join(s, " ") + "]"
}

func encodeSnap(es []Entry) []byte {
	var b []byte
	for _, e := range es {
		b = binary.BigEndian.AppendUint64(b, uint64(e.Zxid))
		b = binary.BigEndian.AppendUint32(b, uint32(len(e.Data)))
		b = append(b, e.Data...)
	}
	return b
}

func decodeSnap(b []byte) ([]Entry, error) {
	var es []Entry
	for len(b) > 0 {
		if len(b) < 12 {
			return nil, fmt.Errorf("short snapshot")
		}
		z := int64(binary.BigEndian.Uint64(b))
		n := int(binary.BigEndian.Uint32(b[8:]))
		b = b[12:]
		if n > len(b) {
			return nil, fmt.Errorf("short snapshot")
		}
		es = append(es, Entry{Zxid: z, Data: append([]byte{}, b[:n]...)})
		b = b[n:]
	}
	return es, nil
}

// collect handles n's Ready the way the server must: persist, apply, send.
func (c *cluster) collect(n *simNode) {
	var rd Ready
	switch {
	case n.leader != nil:
		rd = n.leader.Ready()
	case n.learner != nil:
		rd = n.learner.Ready()
	default:
		return
	}
	id := n.id
	if rd.AcceptedEpoch != nil {
		if *rd.AcceptedEpoch < n.accepted {
			c.t.Fatalf("server %d: acceptedEpoch goes back from %d to %d", id, n.accepted, *rd.AcceptedEpoch)
		}
		n.accepted = *rd.AcceptedEpoch
		c.printf("%d: persist acceptedEpoch=%d\n", id, n.accepted)
	}
	if rd.CurrentEpoch != nil {
		if *rd.CurrentEpoch < n.current || *rd.CurrentEpoch > n.accepted {
			c.t.Fatalf("server %d: currentEpoch %d (was %d, accepted %d)", id, *rd.CurrentEpoch, n.current, n.accepted)
		}
		n.current = *rd.CurrentEpoch
		c.printf("%d: persist currentEpoch=%d\n", id, n.current)
	}
	if rd.Snapshot != nil {
		es, err := decodeSnap(rd.Snapshot.Data)
		if err != nil {
			c.t.Fatalf("server %d: %v", id, err)
		}
		if len(es) > 0 && es[len(es)-1].Zxid != rd.Snapshot.Zxid {
			c.t.Fatalf("server %d: snapshot at %s holds up to %s", id, FormatZxid(rd.Snapshot.Zxid), FormatZxid(es[len(es)-1].Zxid))
		}
		n.snap, n.log = es, nil
		n.reload()
		c.printf("%d: install snapshot %s %s\n", id, FormatZxid(rd.Snapshot.Zxid), zxids(es))
	}
	if rd.TruncateTo != nil {
		z := *rd.TruncateTo
		if z < n.snapZxid() {
			c.t.Fatalf("server %d: truncate to %s below its snapshot %s", id, FormatZxid(z), FormatZxid(n.snapZxid()))
		}
		k := 0
		for k < len(n.log) && n.log[k].Zxid <= z {
			k++
		}
		dropped := n.log[k:]
		n.log = append([]Entry{}, n.log[:k]...)
		n.reload()
		c.printf("%d: truncate log to %s, dropping %s\n", id, FormatZxid(z), zxids(dropped))
	}
	if len(rd.Entries) > 0 {
		for _, e := range rd.Entries {
			if e.Zxid <= n.lastZxid() {
				c.t.Fatalf("server %d: logs %s after %s", id, FormatZxid(e.Zxid), FormatZxid(n.lastZxid()))
			}
			n.log = append(n.log, e)
		}
		c.printf("%d: log %s\n", id, zxids(rd.Entries))
	}
	if len(rd.Committed) > 0 {
		applied := append([]Entry{}, n.tree...)
		for _, e := range rd.Committed {
			if len(n.tree) > 0 && e.Zxid <= n.tree[len(n.tree)-1].Zxid {
				c.t.Fatalf("server %d: applies %s after %s", id, FormatZxid(e.Zxid), FormatZxid(n.tree[len(n.tree)-1].Zxid))
			}
			n.tree = append(n.tree, e)
		}
		c.printf("%d: apply %s\n", id, zxids(rd.Committed))
		// SNAP bodies: the tree exactly as of the SNAP's zxid.
		for i, m := range rd.Messages {
			if s, ok := m.Msg.(peer.Snap); ok {
				s.Snapshot = encodeSnap(prefix(append(applied, rd.Committed...), s.Zxid))
				rd.Messages[i].Msg = s
			}
		}
	} else {
		for i, m := range rd.Messages {
			if s, ok := m.Msg.(peer.Snap); ok {
				s.Snapshot = encodeSnap(prefix(n.tree, s.Zxid))
				rd.Messages[i].Msg = s
			}
		}
	}
	for _, note := range rd.Notes {
		c.printf("%d: %s\n", id, note)
	}
	for _, m := range rd.Messages {
		c.flight = append(c.flight, inflight{Message: m, fromInc: n.inc, toInc: c.node(m.To).inc})
	}
	for _, lid := range rd.Close {
		if m := c.node(lid); m.learner != nil && m.learner.Leader() == id {
			c.printf("%d: connection to leader %d closed\n", lid, id)
			c.endRole(m)
			m.reload()
		}
	}
	if rd.Established {
		n.serving = true
		if n.leader != nil {
			e := n.leader.Epoch()
			if other, ok := c.leaderOfEpoch[e]; ok && other != id {
				c.t.Fatalf("two leaders established epoch %d: %d and %d", e, other, id)
			}
			c.leaderOfEpoch[e] = id
		}
		c.printf("%d: established\n", id)
	}
	c.check()
	if rd.Lost != nil {
		c.printf("%d: %v\n", id, rd.Lost)
		c.endRole(n)
		n.reload()
	}
}

func prefix(es []Entry, z int64) []Entry {
	var out []Entry
	for _, e := range es {
		if e.Zxid <= z {
			out = append(out, e)
		}
	}
	return out
}

// check verifies ZAB's invariants over the whole ensemble.
func (c *cluster) check() {
	c.t.Helper()
	for _, n := range c.nodes {
		// Total order on each server: its log and its tree increase.
		for i := 1; i < len(n.log); i++ {
			if n.log[i].Zxid <= n.log[i-1].Zxid {
				c.t.Fatalf("server %d: log out of order %s", n.id, zxids(n.log))
			}
		}
		if !n.serving {
			continue
		}
		// Agreement: what serving servers applied are prefixes of one
		// committed sequence, which is never lost or rewritten.
		tree := n.tree
		k := min(len(tree), len(c.committed))
		for i := 0; i < k; i++ {
			if tree[i].Zxid != c.committed[i].Zxid || string(tree[i].Data) != string(c.committed[i].Data) {
				c.t.Fatalf("server %d applied %s, but %s was committed before (server tree %s, committed %s)",
					n.id, FormatZxid(tree[i].Zxid), FormatZxid(c.committed[i].Zxid), zxids(tree), zxids(c.committed))
			}
		}
		if len(tree) > len(c.committed) {
			c.committed = append([]Entry{}, tree...)
		}
	}
	// Every committed txn is durable on a quorum of voters.
	for _, e := range c.committed {
		var holders []uint64
		for _, n := range c.nodes {
			if !c.v.IsVoter(n.id) {
				continue
			}
			for _, d := range n.durable() {
				if d.Zxid == e.Zxid {
					holders = append(holders, n.id)
					break
				}
			}
		}
		if !c.v.ContainsQuorum(holders) {
			c.t.Fatalf("committed %s is durable only on %v", FormatZxid(e.Zxid), holders)
		}
	}
}

func (c *cluster) status() {
	ids := make([]int, 0, len(c.nodes))
	for _, n := range c.nodes {
		ids = append(ids, int(n.id))
	}
	sort.Ints(ids)
	for _, id := range ids {
		n := c.node(uint64(id))
		serving := ""
		if n.serving {
			serving = " serving"
		}
		c.printf("%d %s%s accepted=%d current=%d log=%s tree=%s\n", n.id, n.role(), serving, n.accepted, n.current, zxids(n.durable()), zxids(n.tree))
	}
}
