package integration

import (
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDifferentialRandomOps drives both servers with the same seeded random
// sequence of operations on a small namespace (creates of every
// deterministic mode and several ACLs, deletes and sets with right/wrong/any
// versions, reads, setACL, multi, watches from a second, unauthenticated
// session, session turnover, and two server restarts per seed) and requires
// identical traces: error codes, returned paths, Stats with zxids replaced by
// their rank, and the notifications that fired after each step.
// Containers and TTL nodes are left out: their removal runs on a timer.
func TestDifferentialRandomOps(t *testing.T) {
	seeds := []int64{1, 2, 3, 4}
	// DIFF_SEEDS=N runs seeds 1..N instead (a longer hunt for differences).
	if n, err := strconv.Atoi(os.Getenv("DIFF_SEEDS")); err == nil && n > 0 {
		seeds = seeds[:0]
		for i := 1; i <= n; i++ {
			seeds = append(seeds, int64(i))
		}
	}
	const opsPerSeed = 400
	traces := map[string]map[int64][]string{}
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			srv := StartServer(t, kind, ServerOptions{})
			traces[kind] = map[int64][]string{}
			for _, seed := range seeds {
				traces[kind][seed] = randomOps(t, srv, seed, opsPerSeed)
				errs, fired := 0, 0
				for _, l := range traces[kind][seed] {
					if strings.Contains(l, "err=") {
						errs++
					}
					if strings.Contains(l, "fired") {
						fired++
					}
				}
				t.Logf("seed %d: %d trace lines, %d errors, %d watch events", seed, len(traces[kind][seed]), errs, fired)
			}
		})
	}
	if traces[kindZkd] == nil || traces[kindApache] == nil {
		t.Skip("needs both servers")
	}
	for _, seed := range seeds {
		a, z := traces[kindApache][seed], traces[kindZkd][seed]
		diff := -1
		for i := 0; i < len(a) && i < len(z); i++ {
			if a[i] != z[i] {
				diff = i
				break
			}
		}
		if diff < 0 {
			assert.Equal(t, len(a), len(z), "seed %d: trace lengths", seed)
			continue
		}
		lo := max(0, diff-12)
		if os.Getenv("DIFF_DUMP") != "" {
			t.Logf("seed %d: Apache trace up to the difference and on:\n%s", seed, joinLines(a[:min(len(a), diff+40)]))
		}
		t.Errorf("seed %d: traces differ at line %d\nApache: %s\nzkd:    %s\nApache before:\n%szkd around:\n%s",
			seed, diff, a[diff], z[diff], joinLines(a[lo:diff]), joinLines(z[lo:min(len(z), diff+3)]))
	}
}

func joinLines(ls []string) string {
	out := ""
	for _, l := range ls {
		out += "  " + l + "\n"
	}
	return out
}

// waitSession waits until c has a session again (after a server restart).
func waitSession(t *testing.T, c *zk.Conn) {
	t.Helper()
	require.Eventually(t, func() bool { return c.State() == zk.StateHasSession }, 30*time.Second, 20*time.Millisecond,
		"the client did not get its session back after the restart")
}

func randomOps(t *testing.T, srv *Server, seed int64, n int) []string {
	addr := srv.Addr()
	c, _ := connect(t, addr, 4*time.Second)
	defer func() { c.Close() }()
	sessions := 0
	// w only reads and watches; c makes the changes.
	w, _ := connect(t, addr, 4*time.Second)
	defer w.Close()
	type watch struct {
		label string
		ch    <-chan zk.Event
	}
	var watches []watch
	rng := rand.New(rand.NewSource(seed))
	tr := newTrace()
	tr.session("self", c.SessionID())
	root := fmt.Sprintf("/diff%d", seed)
	_, err := c.Create(root, nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	names := []string{"a", "b", "c", "s", "a/x", "a/y", "b/z", "a/x/deep"}
	// Parents are picked more often than children so that children can exist.
	weights := []int{4, 4, 3, 3, 2, 2, 2, 1}
	total := 0
	for _, w := range weights {
		total += w
	}
	path := func() string {
		k := rng.Intn(total)
		for i, w := range weights {
			if k < w {
				return root + "/" + names[i]
			}
			k -= w
		}
		return root
	}
	version := func(p string) int32 {
		switch rng.Intn(3) {
		case 0:
			return -1
		case 1:
			if _, st, err := c.Exists(p); err == nil && st != nil {
				return st.Version
			}
			return 0
		default:
			return int32(rng.Intn(3))
		}
	}
	flagsOf := []int32{0, 0, zk.FlagEphemeral, zk.FlagSequence, zk.FlagSequence | zk.FlagEphemeral}
	// c is alice; w is nobody. Some ACLs shut w out, one shuts out both.
	// (DIFF_READER_AUTH=1 makes w alice too, to look past ACL-filtered
	// notifications.)
	require.NoError(t, c.AddAuth("digest", []byte("alice:pw")))
	if os.Getenv("DIFF_READER_AUTH") == "1" {
		require.NoError(t, w.AddAuth("digest", []byte("alice:pw")))
	}
	acls := [][]zk.ACL{
		zk.WorldACL(zk.PermAll),
		zk.WorldACL(zk.PermRead | zk.PermWrite | zk.PermCreate | zk.PermAdmin),
		zk.WorldACL(zk.PermAll &^ zk.PermCreate),
		zk.DigestACL(zk.PermAll, "alice", "pw"),
		zk.DigestACL(zk.PermAll, "bob", "pw"),
		{{Perms: zk.PermRead | zk.PermAdmin, Scheme: "ip", ID: "127.0.0.1"}, {Perms: zk.PermAll, Scheme: "digest", ID: zk.DigestACL(0, "alice", "pw")[0].ID}},
	}
	if os.Getenv("DIFF_READER_AUTH") == "1" {
		acls[4] = acls[3] // nobody is locked out
	}
	for i := 0; i < n; i++ {
		p := path()
		label := fmt.Sprintf("%03d ", i)
		if i == n/3 || i == 2*n/3 {
			// The whole state (tree, ACLs, counters, sessions and their
			// ephemerals) goes through the server's snapshot and log.
			srv.Stop()
			srv.Restart()
			waitSession(t, c)
			waitSession(t, w)
			tr.add(label+"server restarted", "ok")
		}
		switch op := rng.Intn(18); op {
		case 15:
			// c's session ends; a new one (authenticated again) takes over:
			// its ephemerals go and w's watches on them fire.
			c.Close()
			sessions++
			c, _ = connect(t, addr, 4*time.Second)
			require.NoError(t, c.AddAuth("digest", []byte("alice:pw")))
			tr.session(fmt.Sprintf("self%d", sessions), c.SessionID())
			tr.add(label+"new session", sessions)
		case 16:
			acl, st, err := w.GetACL(p)
			tr.add(label+"getACL by w "+p[len(root):], errOr(err, fmt.Sprint(acl)))
			if err == nil {
				tr.stat(label+"  stat", st)
			}
		case 17:
			a := rng.Intn(len(acls))
			f := flagsOf[rng.Intn(len(flagsOf))]
			got, err := c.Create(p, nil, f, acls[a])
			tr.add(label+fmt.Sprintf("create %s flags=%d acl=%d", p[len(root):], f, a), errOr(err, got[min(len(got), len(root)):]))
		case 12:
			_, _, ch, err := w.GetW(p)
			tr.add(label+"watch data "+p[len(root):], errOr(err, "ok"))
			if err == nil {
				watches = append(watches, watch{"data " + p[len(root):], ch})
			}
		case 13:
			_, _, ch, err := w.ChildrenW(p)
			tr.add(label+"watch children "+p[len(root):], errOr(err, "ok"))
			if err == nil {
				watches = append(watches, watch{"children " + p[len(root):], ch})
			}
		case 14:
			ok, _, ch, err := w.ExistsW(p)
			tr.add(label+"watch exists "+p[len(root):], errOr(err, fmt.Sprint(ok)))
			if err == nil {
				watches = append(watches, watch{"exists " + p[len(root):], ch})
			}
		case 0, 1, 8, 9:
			f := flagsOf[rng.Intn(len(flagsOf))]
			got, err := c.Create(p, []byte(fmt.Sprint(i)), f, zk.WorldACL(zk.PermAll))
			tr.add(label+fmt.Sprintf("create %s flags=%d", p[len(root):], f), errOr(err, got[min(len(got), len(root)):]))
		case 2:
			v := version(p)
			err := c.Delete(p, v)
			tr.add(label+fmt.Sprintf("delete %s v=%d", p[len(root):], v), errOr(err, "ok"))
		case 3:
			v := version(p)
			st, err := c.Set(p, []byte(fmt.Sprint(i)), v)
			tr.add(label+fmt.Sprintf("set %s v=%d", p[len(root):], v), errOr(err, "ok"))
			if err == nil {
				tr.stat(label+"  stat", st)
			}
		case 4:
			data, st, err := c.Get(p)
			tr.add(label+"get "+p[len(root):], errOr(err, string(data)))
			if err == nil {
				tr.stat(label+"  stat", st)
			}
		case 5:
			kids, st, err := c.Children(p)
			tr.add(label+"children "+p[len(root):], errOr(err, fmt.Sprint(kids)))
			if err == nil {
				tr.stat(label+"  stat", st)
			}
		case 6:
			ok, st, err := c.Exists(p)
			tr.add(label+"exists "+p[len(root):], errOr(err, fmt.Sprint(ok)))
			if ok {
				tr.stat(label+"  stat", st)
			}
		case 7:
			a := rng.Intn(len(acls))
			v := int32(-1)
			if rng.Intn(2) == 0 {
				v = int32(rng.Intn(2))
			}
			st, err := c.SetACL(p, acls[a], v)
			tr.add(label+fmt.Sprintf("setACL %s acl=%d v=%d", p[len(root):], a, v), errOr(err, "ok"))
			if err == nil {
				tr.stat(label+"  stat", st)
			}
		default: // 10, 11
			var ops []any
			desc := "multi"
			for k := 0; k < 2+rng.Intn(3); k++ {
				q := path()
				switch rng.Intn(4) {
				case 0:
					f := flagsOf[rng.Intn(len(flagsOf))]
					ops = append(ops, &zk.CreateRequest{Path: q, Data: []byte("m"), Acl: zk.WorldACL(zk.PermAll), Flags: f})
					desc += fmt.Sprintf(" create(%s,%d)", q[len(root):], f)
				case 1:
					v := int32(rng.Intn(3)) - 1
					ops = append(ops, &zk.DeleteRequest{Path: q, Version: v})
					desc += fmt.Sprintf(" delete(%s,%d)", q[len(root):], v)
				case 2:
					v := int32(rng.Intn(3)) - 1
					ops = append(ops, &zk.SetDataRequest{Path: q, Data: []byte("m"), Version: v})
					desc += fmt.Sprintf(" set(%s,%d)", q[len(root):], v)
				default:
					v := int32(rng.Intn(3)) - 1
					ops = append(ops, &zk.CheckVersionRequest{Path: q, Version: v})
					desc += fmt.Sprintf(" check(%s,%d)", q[len(root):], v)
				}
			}
			res, err := c.Multi(ops...)
			tr.add(label+desc, errOr(err, "ok"))
			for k, r := range res {
				s := r.String
				if len(s) >= len(root) {
					s = s[len(root):]
				}
				tr.add(fmt.Sprintf("%s  op %d", label, k), errOr(r.Error, s))
				if r.Stat != nil {
					tr.stat(fmt.Sprintf("%s  op %d stat", label, k), r.Stat)
				}
			}
		}
		// A read on w returns after every notification the change caused
		// has reached w; then collect what fired.
		_, _, err := w.Exists(root)
		require.NoError(t, err)
		var fired []string
		kept := watches[:0]
		for _, wt := range watches {
			select {
			case e := <-wt.ch:
				fired = append(fired, fmt.Sprintf("%s -> %v %s", wt.label, e.Type, e.Path[min(len(e.Path), len(root)):]))
			default:
				kept = append(kept, wt)
			}
		}
		watches = kept
		sort.Strings(fired)
		for _, f := range fired {
			tr.add(label+"  fired", f)
		}
	}
	return tr.render()
}

func errOr(err error, ok string) string {
	if err != nil {
		return "err=" + err.Error()
	}
	return ok
}
