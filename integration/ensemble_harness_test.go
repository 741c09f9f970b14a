package integration

// Ensemble harness: several bin/zkd processes forming one ensemble on
// 127.0.0.1 (generated zoo.cfg with server.N lines and a myid per dataDir),
// built on the single-server harness of harness_test.go. Roles are read
// with the srvr four-letter word, as the seeds' status loop does.

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// Ensemble is a running zkd ensemble.
type Ensemble struct {
	t       *testing.T
	Servers []*Server // index i is server.(i+1)
	voters  int
	proxies map[[2]int][]*peerProxy // [from, to] -> quorum, election proxies
	// deferStart: StartEnsembleInOrder leaves the processes to Start.
	deferStart bool
}

// StartEnsemble starts voters participants (server.1..) and observers after
// them. Every process is started before the election matters: the ready
// line comes once the ports are bound.
func StartEnsemble(t *testing.T, voters, observers int, opts ServerOptions) *Ensemble {
	t.Helper()
	return startEnsemble(t, voters, observers, opts, false)
}

// StartProxiedEnsemble is StartEnsemble with every peer connection (quorum
// and election ports) going through a TCP proxy per ordered pair of
// servers: server i's zoo.cfg names its own real ports and, for every
// other server j, the ports of the proxies i->j. Partition cuts them.
func StartProxiedEnsemble(t *testing.T, voters int, opts ServerOptions) *Ensemble {
	t.Helper()
	return startEnsemble(t, voters, 0, opts, true)
}

// Partition cuts server i off from every other server (both ways): its
// peer connections are closed and new ones refused. Heal undoes it.
func (e *Ensemble) Partition(i int) { e.setMode(i, proxyRefuse) }

// Blackhole makes server i's peer traffic vanish without closing anything
// (a silent network): peers notice only by their timeouts (syncLimit).
func (e *Ensemble) Blackhole(i int) { e.setMode(i, proxyBlackhole) }

// Heal reconnects server i to the others.
func (e *Ensemble) Heal(i int) { e.setMode(i, proxyPass) }

func (e *Ensemble) setMode(i int, m proxyMode) {
	if e.proxies == nil {
		e.t.Fatal("Partition needs StartProxiedEnsemble")
	}
	for pair, ps := range e.proxies {
		if pair[0] == i || pair[1] == i {
			for _, p := range ps {
				p.setMode(m)
			}
		}
	}
}

type proxyMode int

const (
	proxyPass      proxyMode = iota
	proxyRefuse              // close current connections, refuse new ones
	proxyBlackhole           // keep connections open, drop every byte
)

// peerProxy forwards one peer port; unlike tcpProxy it can also swallow
// traffic silently (a black hole), which is how a real partition looks.
type peerProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  proxyMode
	conns map[net.Conn]struct{}
}

func newPeerProxy(t testing.TB, target string) *peerProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &peerProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.closeAll() })
	return p
}

func (p *peerProxy) Addr() string { return p.ln.Addr().String() }

func (p *peerProxy) currentMode() proxyMode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

func (p *peerProxy) setMode(m proxyMode) {
	p.mu.Lock()
	was := p.mode
	p.mode = m
	p.mu.Unlock()
	// Bytes a black hole swallowed leave the streams torn: the heal resets
	// the connections (as a TCP timeout would), and peers reconnect.
	if m == proxyRefuse || was == proxyBlackhole {
		p.closeAll()
	}
}

func (p *peerProxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *peerProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		switch p.currentMode() {
		case proxyRefuse:
			c.Close()
			continue
		case proxyBlackhole:
			p.track(c)
			go p.pipe(io.Discard, c, c, nil)
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.track(c)
		p.track(s)
		go p.pipe(s, c, c, s)
		go p.pipe(c, s, s, c)
	}
}

func (p *peerProxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns[c] = struct{}{}
	p.mu.Unlock()
}

// pipe copies src to dst, dropping the bytes while the proxy is a black
// hole; it closes both ends when src ends.
func (p *peerProxy) pipe(dst io.Writer, src net.Conn, a, b net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && p.currentMode() == proxyPass {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	for _, c := range []net.Conn{a, b} {
		if c != nil {
			c.Close()
			p.mu.Lock()
			delete(p.conns, c)
			p.mu.Unlock()
		}
	}
}

func startEnsemble(t *testing.T, voters, observers int, opts ServerOptions, proxied bool) *Ensemble {
	t.Helper()
	return startEnsembleWith(t, voters, observers, opts, proxied, false)
}

func startEnsembleWith(t *testing.T, voters, observers int, opts ServerOptions, proxied, deferStart bool) *Ensemble {
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
	e := &Ensemble{t: t, voters: voters, deferStart: deferStart}
	if proxied {
		e.proxies = map[[2]int][]*peerProxy{}
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				if i != j {
					e.proxies[[2]int{i, j}] = []*peerProxy{
						newPeerProxy(t, fmt.Sprintf("127.0.0.1:%d", ports[2*j])),
						newPeerProxy(t, fmt.Sprintf("127.0.0.1:%d", ports[2*j+1])),
					}
				}
			}
		}
	}
	linesFor := func(self int) []string {
		var lines []string
		for i := 0; i < n; i++ {
			q, el := fmt.Sprintf("127.0.0.1:%d", ports[2*i]), fmt.Sprintf("127.0.0.1:%d", ports[2*i+1])
			if ps := e.proxies[[2]int{self, i}]; ps != nil {
				q, el = ps[0].Addr(), ps[1].Addr()
			}
			l := fmt.Sprintf("server.%d=%s:%s", i+1, q, strings.TrimPrefix(el, "127.0.0.1:"))
			if i >= voters {
				l += ":observer"
			}
			lines = append(lines, l)
		}
		return lines
	}
	for i := 0; i < n; i++ {
		lines := linesFor(i)
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
		srv := newServer(t, kindZkd, o)
		if !e.deferStart {
			srv.start()
		}
		e.Servers = append(e.Servers, srv)
	}
	return e
}

// StartEnsembleInOrder prepares the ensemble's configs and data
// directories without starting any process; Start(i) starts server.(i+1).
func StartEnsembleInOrder(t *testing.T, voters int, opts ServerOptions) *Ensemble {
	t.Helper()
	return startEnsembleWith(t, voters, 0, opts, false, true)
}

// Start starts the process of server index i (after StartEnsembleInOrder).
func (e *Ensemble) Start(i int) { e.Servers[i].start() }

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
	return zkClient(e.t, addrs...)
}

// zkClient connects go-zookeeper to addrs, waits up to 20 s for a session,
// and closes it at cleanup.
func zkClient(t testing.TB, addrs ...string) *zk.Conn {
	t.Helper()
	c, events, err := zk.Connect(addrs, 4*time.Second, zk.WithLogger(quietLogger{}))
	if err != nil {
		t.Fatalf("connect %v: %v", addrs, err)
	}
	t.Cleanup(c.Close)
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
			t.Fatalf("no session with %v within 20s", addrs)
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
