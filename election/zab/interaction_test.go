package zab

import (
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestInteraction runs the scripts in testdata/*.txt against a simulated
// ensemble (cluster_test.go) that persists, applies and sends every Ready
// as the server must, and checks ZAB's invariants after every step.
//
//	add-nodes N [observers=K] [commit-log=M] [init-limit=I] [sync-limit=S]
//	disk id [accepted=a] [current=c] [log=(e:n,...)] [snap=(e:n,...)]
//	                     set a server's disk (txn bodies are "pre-e:n")
//	elect L [ids...]     L leads; the others (default: every up server) follow
//	join id L            id (re)connects to leader L as a learner
//	propose L [n=1]      the leader proposes n txns
//	deliver [from=i] [to=j] [type=T] [drop]
//	stabilize            deliver until nothing is in flight (no ticks)
//	tick [n=1] [ids...]  advance tickTime on the servers (default all)
//	crash ids... / restart ids...
//	status
//
// Regenerate with: go test ./zab -run TestInteraction -rewrite
func TestInteraction(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var c *cluster
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			var out strings.Builder
			if c != nil {
				c.t, c.out = t, &out
			}
			id := func(s string) uint64 {
				n, err := strconv.ParseUint(s, 10, 64)
				if err != nil {
					t.Fatalf("bad server id %q", s)
				}
				return n
			}
			intArg := func(key string, def int) int {
				if a, ok := d.Arg(key); ok {
					n, err := strconv.Atoi(a.Vals[0])
					if err != nil {
						t.Fatal(err)
					}
					return n
				}
				return def
			}
			var ids []uint64
			for _, a := range d.CmdArgs {
				if len(a.Vals) == 0 && a.Key != "drop" {
					ids = append(ids, id(a.Key))
				}
			}
			switch d.Cmd {
			case "add-nodes":
				c = newCluster(t, int(ids[0]), intArg("observers", 0), Config{
					CommitLogSize: intArg("commit-log", 0), InitLimit: intArg("init-limit", 0), SyncLimit: intArg("sync-limit", 0),
				})
				c.out = &out
			case "disk":
				n := c.node(ids[0])
				n.accepted = int64(intArg("accepted", int(n.accepted)))
				n.current = int64(intArg("current", int(n.current)))
				if a, ok := d.Arg("log"); ok {
					n.log = parseEntries(t, a.Vals)
				}
				if a, ok := d.Arg("snap"); ok {
					n.snap = parseEntries(t, a.Vals)
				}
				n.reload()
			case "elect":
				leader := ids[0]
				c.lead(leader)
				followers := ids[1:]
				if len(followers) == 0 {
					for _, n := range c.nodes {
						if n.up && n.id != leader {
							followers = append(followers, n.id)
						}
					}
				}
				for _, f := range followers {
					c.follow(f, leader)
				}
			case "join":
				c.follow(ids[0], ids[1])
			case "propose":
				for i := 0; i < intArg("n", 1); i++ {
					if _, err := c.propose(ids[0]); err != nil {
						out.WriteString(err.Error() + "\n")
					}
				}
			case "deliver":
				var from, to uint64
				if a, ok := d.Arg("from"); ok {
					from = id(a.Vals[0])
				}
				if a, ok := d.Arg("to"); ok {
					to = id(a.Vals[0])
				}
				kind := ""
				if a, ok := d.Arg("type"); ok {
					kind = a.Vals[0]
				}
				c.deliver(from, to, kind, d.HasArg("drop"))
			case "stabilize":
				c.stabilize()
			case "tick":
				only := ids
				if len(only) == 0 {
					for _, n := range c.nodes {
						only = append(only, n.id)
					}
				}
				for i := 0; i < intArg("n", 1); i++ {
					for _, nid := range only {
						c.tick(c.node(nid))
					}
				}
			case "crash":
				for _, nid := range ids {
					c.crash(nid)
				}
			case "restart":
				for _, nid := range ids {
					c.restart(nid)
				}
			case "status":
				c.status()
			default:
				t.Fatalf("unknown command %s", d.Cmd)
			}
			return out.String()
		})
	})
}

func parseEntries(t *testing.T, vals []string) []Entry {
	var es []Entry
	for _, v := range vals {
		e, n, ok := strings.Cut(strings.TrimSpace(v), ":")
		if !ok {
			t.Fatalf("zxid %q is not epoch:counter", v)
		}
		ep, err1 := strconv.ParseInt(e, 10, 64)
		ct, err2 := strconv.ParseInt(n, 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("zxid %q is not epoch:counter", v)
		}
		es = append(es, Entry{Zxid: MakeZxid(ep, ct), Data: []byte("pre-" + v)})
	}
	return es
}
