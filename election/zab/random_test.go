package zab

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
)

// TestRandomSchedules drives ensembles of 3 and 5 voters (plus an observer)
// through random schedules: deliveries in any order, dropped messages,
// ticks, proposals, crashes, restarts and elections, and checks after every
// step (cluster.check and collect):
//
//   - total order: every log and every tree is strictly increasing;
//   - agreement / a committed txn is never lost: what any serving server
//     applied is a prefix of one sequence that only grows;
//   - every committed txn is durable on a quorum of voters;
//   - no two leaders establish the same epoch;
//   - epochs never go back, currentEpoch <= acceptedEpoch.
//
// Elections are an oracle with FLE's guarantee: a quorum of LOOKING voters
// elects the one among them with the highest (currentEpoch, last zxid, id).
func TestRandomSchedules(t *testing.T) {
	for _, voters := range []int{3, 5} {
		for seed := int64(1); seed <= 150; seed++ {
			t.Run(fmt.Sprintf("voters=%d/seed=%d", voters, seed), func(t *testing.T) {
				runRandom(t, voters, seed, 600)
			})
		}
	}
}

func runRandom(t *testing.T, voters int, seed int64, steps int) {
	rng := rand.New(rand.NewSource(seed))
	c := newCluster(t, voters, 1, Config{InitLimit: 6, SyncLimit: 3, CommitLogSize: 2 + rng.Intn(6)})
	var trace strings.Builder
	c.out = &trace
	t.Cleanup(func() {
		if t.Failed() {
			lines := strings.Split(trace.String(), "\n")
			if len(lines) > 150 {
				lines = lines[len(lines)-150:]
			}
			t.Logf("last steps:\n%s", strings.Join(lines, "\n"))
		}
	})
	committedSeen := 0
	for step := 0; step < steps; step++ {
		switch r := rng.Intn(100); {
		case r < 55:
			if len(c.flight) > 0 {
				// Any connection, in order on the connection (TCP).
				c.deliverOne(firstOnConnection(c, rng.Intn(len(c.flight))), false)
			}
		case r < 58:
			// A connection breaks: what is in flight on it is lost and the
			// learner end gives up (the leader is told by endRole).
			if len(c.flight) > 0 {
				m := c.flight[rng.Intn(len(c.flight))]
				a, b := c.node(m.From), c.node(m.To)
				c.printf("connection %d-%d breaks\n", a.id, b.id)
				for _, n := range []*simNode{a, b} {
					other := a
					if n == a {
						other = b
					}
					if n.learner != nil && n.learner.Leader() == other.id {
						c.endRole(n)
						n.reload()
					}
				}
				var keep []inflight
				for _, f := range c.flight {
					if !(f.From == a.id && f.To == b.id) && !(f.From == b.id && f.To == a.id) {
						keep = append(keep, f)
					}
				}
				c.flight = keep
			}
		case r < 70:
			c.tick(c.nodes[rng.Intn(len(c.nodes))])
		case r < 80:
			for _, n := range c.nodes {
				if n.leader != nil && n.leader.Established() {
					if _, err := c.propose(n.id); err != nil && err != ErrNotLeading {
						t.Fatal(err)
					}
				}
			}
		case r < 83:
			n := c.nodes[rng.Intn(len(c.nodes))]
			if n.up {
				c.crash(n.id)
			} else {
				c.restart(n.id)
			}
		case r < 85:
			// A server gives up its role (a connection broke, its FLE round
			// restarted): it reloads its tree from disk and looks again.
			n := c.nodes[rng.Intn(len(c.nodes))]
			if n.up && (n.leader != nil || n.learner != nil) {
				c.endRole(n)
				n.reload()
			}
		default:
			oracleElect(c, rng)
		}
		c.check()
		if len(c.committed) > committedSeen {
			committedSeen = len(c.committed)
		}
	}
	// Heal: restart everyone, elect, deliver everything, and check that a
	// leader gets established and commits a new txn on top of the history.
	for _, n := range c.nodes {
		if !n.up {
			c.restart(n.id)
		}
		c.endRole(n)
		n.reload()
	}
	c.flight = nil
	before := append([]Entry{}, c.committed...)
	leader := oracleElectAll(c)
	c.stabilize()
	if !c.node(leader).leader.Established() {
		t.Fatalf("leader %d not established after healing", leader)
	}
	z, err := c.propose(leader)
	if err != nil {
		t.Fatal(err)
	}
	c.stabilize()
	for _, n := range c.nodes {
		if !n.serving || len(n.tree) == 0 || n.tree[len(n.tree)-1].Zxid != z {
			t.Fatalf("server %d did not apply %s after healing: tree %s", n.id, FormatZxid(z), zxids(n.tree))
		}
	}
	for i, e := range before {
		if c.committed[i].Zxid != e.Zxid {
			t.Fatalf("committed history rewritten at %d", i)
		}
	}
}

func better(a, b *simNode) bool {
	if a.current != b.current {
		return a.current > b.current
	}
	if a.lastZxid() != b.lastZxid() {
		return a.lastZxid() > b.lastZxid()
	}
	return a.id > b.id
}

func oracleElect(c *cluster, rng *rand.Rand) {
	var looking []*simNode
	for _, n := range c.nodes {
		if n.up && n.leader == nil && n.learner == nil && c.v.IsVoter(n.id) {
			looking = append(looking, n)
		}
	}
	rng.Shuffle(len(looking), func(i, j int) { looking[i], looking[j] = looking[j], looking[i] })
	size := c.v.Size() + rng.Intn(len(c.v.Voters())-c.v.Size()+1)
	if len(looking) < size {
		return
	}
	q := looking[:size]
	best := q[0]
	for _, n := range q[1:] {
		if better(n, best) {
			best = n
		}
	}
	c.printf("oracle: %v elect %d\n", ids(q), best.id)
	c.lead(best.id)
	for _, n := range q {
		if n != best {
			c.follow(n.id, best.id)
		}
	}
	for _, n := range c.nodes {
		if n.up && c.v.IsObserver(n.id) && n.learner == nil && rng.Intn(2) == 0 {
			c.follow(n.id, best.id)
		}
	}
}

func oracleElectAll(c *cluster) uint64 {
	var vs []*simNode
	for _, n := range c.nodes {
		if c.v.IsVoter(n.id) {
			vs = append(vs, n)
		}
	}
	sort.Slice(vs, func(i, j int) bool { return better(vs[i], vs[j]) })
	c.lead(vs[0].id)
	for _, n := range c.nodes {
		if n.id != vs[0].id {
			c.follow(n.id, vs[0].id)
		}
	}
	return vs[0].id
}

func ids(ns []*simNode) []uint64 {
	out := make([]uint64, len(ns))
	for i, n := range ns {
		out[i] = n.id
	}
	return out
}

// firstOnConnection is the oldest message in flight from the same sender
// to the same receiver as flight[i].
func firstOnConnection(c *cluster, i int) int {
	m := c.flight[i]
	for j, f := range c.flight {
		if f.From == m.From && f.To == m.To && f.fromInc == m.fromInc && f.toInc == m.toInc {
			return j
		}
	}
	return i
}
