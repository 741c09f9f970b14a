package fle

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"mqstack/election/quorum"
)

// TestInteraction runs the scripts in testdata/*.txt. Commands:
//
//	add-nodes N [zxids=(..)] [epochs=(..)] [observers=K]
//	                          voters 1..N, then K observers N+1..N+K
//	start ids...              boot a down server / start a new round
//	crash ids...              the server goes down (its state is lost)
//	deliver [from=i] [to=j] [drop]
//	                          deliver (or drop) the messages in flight now
//	stabilize                 deliver until no message is in flight, ticking
//	                          while a server waits out its finalize wait
//	tick [n=1] [ids...]       advance the clock of the up servers
//	status                    every server's state, round and vote
//	votes id                  the votes of id's current round
//
// Every delivered or dropped message and every decision is printed.
// Regenerate the expected output with: go test ./fle -run TestInteraction -rewrite
func TestInteraction(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		env := &fleEnv{}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return env.handle(t, d)
		})
	})
}

type fleNode struct {
	id  uint64
	e   *Election
	up  bool
	own Vote
}

type fleEnv struct {
	v      quorum.Verifier
	nodes  []*fleNode
	flight []Message
	out    strings.Builder
}

func (env *fleEnv) node(t *testing.T, s string) *fleNode {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 || int(id) > len(env.nodes) {
		t.Fatalf("no server %q", s)
	}
	return env.nodes[id-1]
}

func (env *fleEnv) handle(t *testing.T, d *datadriven.TestData) string {
	env.out.Reset()
	switch d.Cmd {
	case "add-nodes":
		n, err := strconv.Atoi(d.CmdArgs[0].Key)
		if err != nil {
			t.Fatal(err)
		}
		obs := 0
		if a, ok := d.Arg("observers"); ok {
			obs, _ = strconv.Atoi(a.Vals[0])
		}
		var voters, observers []uint64
		for i := 1; i <= n; i++ {
			voters = append(voters, uint64(i))
		}
		for i := n + 1; i <= n+obs; i++ {
			observers = append(observers, uint64(i))
		}
		env.v, err = quorum.NewVerifier(voters, observers)
		if err != nil {
			t.Fatal(err)
		}
		ints := func(key string, i int) int64 {
			a, ok := d.Arg(key)
			if !ok || i >= len(a.Vals) {
				return 0
			}
			x, err := strconv.ParseInt(a.Vals[i], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return x
		}
		for i := 0; i < n+obs; i++ {
			id := uint64(i + 1)
			env.nodes = append(env.nodes, &fleNode{id: id, own: Vote{Leader: id, Zxid: ints("zxids", i), PeerEpoch: ints("epochs", i)}})
		}
	case "start":
		for _, a := range d.CmdArgs {
			nd := env.node(t, a.Key)
			if !nd.up {
				e, err := New(Config{ID: nd.id, Verifier: env.v})
				if err != nil {
					t.Fatal(err)
				}
				nd.e, nd.up = e, true
			}
			nd.e.Start(nd.own)
			fmt.Fprintf(&env.out, "%d starts round %d with vote %s\n", nd.id, nd.e.LogicalClock(), nd.e.Proposal())
			env.collect(nd)
		}
	case "crash":
		for _, a := range d.CmdArgs {
			nd := env.node(t, a.Key)
			nd.up, nd.e = false, nil
			fmt.Fprintf(&env.out, "%d crashed\n", nd.id)
		}
	case "deliver":
		var from, to uint64
		if a, ok := d.Arg("from"); ok {
			from = env.node(t, a.Vals[0]).id
		}
		if a, ok := d.Arg("to"); ok {
			to = env.node(t, a.Vals[0]).id
		}
		env.deliver(from, to, d.HasArg("drop"))
	case "stabilize":
		for i := 0; ; i++ {
			if i > 1000 {
				t.Fatal("no progress after 1000 rounds")
			}
			if len(env.flight) > 0 {
				env.deliver(0, 0, false)
				continue
			}
			finalizing := false
			for _, nd := range env.nodes {
				if nd.up && nd.e.finalizing {
					finalizing = true
				}
			}
			if !finalizing {
				break
			}
			env.tick(1, nil)
		}
	case "tick":
		n := 1
		if a, ok := d.Arg("n"); ok {
			n, _ = strconv.Atoi(a.Vals[0])
		}
		var only []*fleNode
		for _, a := range d.CmdArgs {
			if a.Key != "n" {
				only = append(only, env.node(t, a.Key))
			}
		}
		env.tick(n, only)
	case "status":
		for _, nd := range env.nodes {
			if !nd.up {
				fmt.Fprintf(&env.out, "%d down\n", nd.id)
				continue
			}
			fmt.Fprintf(&env.out, "%d %s round=%d vote=%s\n", nd.id, nd.e.State(), nd.e.LogicalClock(), nd.e.Proposal())
		}
	case "votes":
		nd := env.node(t, d.CmdArgs[0].Key)
		for _, v := range nd.e.Votes() {
			fmt.Fprintf(&env.out, "from %d: %s %s round=%d\n", v.From, v.State, v.Vote, v.ElectionEpoch)
		}
	default:
		t.Fatalf("unknown command %s", d.Cmd)
	}
	return env.out.String()
}

func (env *fleEnv) tick(n int, only []*fleNode) {
	if only == nil {
		only = env.nodes
	}
	for i := 0; i < n; i++ {
		for _, nd := range only {
			if nd.up {
				nd.e.Tick()
				env.collect(nd)
			}
		}
	}
}

func (env *fleEnv) collect(nd *fleNode) {
	rd := nd.e.Ready()
	env.flight = append(env.flight, rd.Messages...)
	if rd.Decision != nil {
		fmt.Fprintf(&env.out, "%d decided %s: leader %s round=%d\n", nd.id, rd.Decision.State, rd.Decision.Vote, rd.Decision.ElectionEpoch)
	}
}

func fmtMsg(m Message) string {
	v := Vote{Leader: m.N.Leader, Zxid: m.N.Zxid, PeerEpoch: m.N.PeerEpoch}
	return fmt.Sprintf("%d->%d %s %s round=%d", m.From, m.To, m.N.State, v, m.N.ElectionEpoch)
}

func (env *fleEnv) deliver(from, to uint64, drop bool) {
	batch := env.flight
	env.flight = nil
	var keep []Message
	for _, m := range batch {
		if (from != 0 && m.From != from) || (to != 0 && m.To != to) {
			keep = append(keep, m)
			continue
		}
		dst := env.nodes[m.To-1]
		switch {
		case drop:
			fmt.Fprintf(&env.out, "%s dropped\n", fmtMsg(m))
		case !dst.up:
			fmt.Fprintf(&env.out, "%s lost: %d is down\n", fmtMsg(m), m.To)
		default:
			fmt.Fprintf(&env.out, "%s\n", fmtMsg(m))
			dst.e.Step(m)
			env.collect(dst)
		}
	}
	env.flight = append(keep, env.flight...)
}
