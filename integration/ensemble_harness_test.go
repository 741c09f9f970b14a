package integration

// Ensemble harness: several bin/zkd processes forming one ensemble on
// 127.0.0.1 (generated zoo.cfg with server.N lines and a myid per dataDir),
// built on the single-server harness of harness_test.go. Roles are read
// with the srvr four-letter word, as the seeds' status loop does.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// Ensemble is a running zkd ensemble.
type Ensemble struct {
	t       *testing.T
	Servers []*Server // index i is server.(i+1)
	voters  int
}

// StartEnsemble starts voters participants (server.1..) and observers after
// them. Every process is started before the election matters: the ready
// line comes once the ports are bound.
func StartEnsemble(t *testing.T, voters, observers int, opts ServerOptions) *Ensemble {
	t.Helper()
	n := voters + observers
	seen := map[int]bool{}
	ports := make([]int, 0, 2*n)
	for len(ports) < 2*n {
		p := freePort(t)
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	var lines []string
	for i := 0; i < n; i++ {
		l := fmt.Sprintf("server.%d=127.0.0.1:%d:%d", i+1, ports[2*i], ports[2*i+1])
		if i >= voters {
			l += ":observer"
		}
		lines = append(lines, l)
	}
	e := &Ensemble{t: t, voters: voters}
	for i := 0; i < n; i++ {
		o := opts
		o.DataDir = filepath.Join(t.TempDir(), fmt.Sprintf("data-%d", i+1))
		if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
			t.Fatalf("create dataDir: %v", err)
		}
		if err := os.WriteFile(filepath.Join(o.DataDir, "myid"), []byte(fmt.Sprintf("%d\n", i+1)), 0o644); err != nil {
			t.Fatalf("write myid: %v", err)
		}
		o.ExtraCfg = append(append([]string(nil), opts.ExtraCfg...), lines...)
		if i >= voters {
			o.ExtraCfg = append(o.ExtraCfg, "peerType=observer")
		}
		e.Servers = append(e.Servers, StartServer(t, kindZkd, o))
	}
	return e
}

// Mode is what `echo srvr | nc` says after "Mode: " ("" when the server
// does not serve, "down" when it does not answer).
func (e *Ensemble) Mode(i int) string {
	out, err := fourLetter(e.Servers[i].Addr(), "srvr", time.Second)
	if err != nil {
		return "down"
	}
	for _, l := range strings.Split(out, "\n") {
		if m, ok := strings.CutPrefix(l, "Mode: "); ok {
			return strings.TrimSpace(m)
		}
	}
	return ""
}

// WaitSettled waits until every server not in skip serves and exactly one
// leads; it returns the leader's index.
func (e *Ensemble) WaitSettled(timeout time.Duration, skip ...int) int {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	var modes []string
	for time.Now().Before(deadline) {
		modes = modes[:0]
		leader, ok := -1, true
		for i := range e.Servers {
			if contains(skip, i) {
				modes = append(modes, "skipped")
				continue
			}
			m := e.Mode(i)
			modes = append(modes, m)
			switch m {
			case "leader":
				if leader >= 0 {
					ok = false
				}
				leader = i
			case "follower", "observer":
			default:
				ok = false
			}
		}
		if ok && leader >= 0 {
			return leader
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, s := range e.Servers {
		s.DumpLogs()
	}
	e.t.Fatalf("ensemble did not settle within %v: modes %v", timeout, modes)
	return -1
}

// Addrs lists the client addresses, except the servers in skip.
func (e *Ensemble) Addrs(skip ...int) []string {
	var out []string
	for i, s := range e.Servers {
		if !contains(skip, i) {
			out = append(out, s.Addr())
		}
	}
	return out
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...interface{}) {}

// Client connects go-zookeeper to addrs and waits for a session.
func (e *Ensemble) Client(addrs ...string) *zk.Conn {
	e.t.Helper()
	c, events, err := zk.Connect(addrs, 4*time.Second, zk.WithLogger(quietLogger{}))
	if err != nil {
		e.t.Fatalf("connect %v: %v", addrs, err)
	}
	e.t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				go func() {
					for range events {
					}
				}()
				return c
			}
		case <-ctx.Done():
			e.t.Fatalf("no session with %v within 20s", addrs)
		}
	}
}

// SyncedGet syncs (so the server has applied everything committed before)
// and reads path on server i with a fresh client.
func (e *Ensemble) SyncedGet(i int, path string) ([]byte, bool) {
	e.t.Helper()
	c := e.Client(e.Servers[i].Addr())
	defer c.Close()
	if _, err := c.Sync(path); err != nil && err != zk.ErrNoNode {
		e.t.Fatalf("sync on server %d: %v", i+1, err)
	}
	d, _, err := c.Get(path)
	if err == zk.ErrNoNode {
		return nil, false
	}
	if err != nil {
		e.t.Fatalf("get %s on server %d: %v", path, i+1, err)
	}
	return d, true
}
