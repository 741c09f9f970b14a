package main

// Ensemble mode (-ensemble N): an N-server zkd ensemble against an N-server
// Apache ZooKeeper ensemble, one after the other on this machine. Sessions
// are spread round-robin over the servers (each session talks to one
// server only), so reads are served locally and writes are forwarded to
// the leader. After the create/get/set/delete phases the leader is found
// with srvr and killed with SIGKILL; one client per surviving server,
// connected before the kill and retrying, writes until it gets an
// acknowledgement. The failover time is from the kill to the first
// acknowledged write (and to the last survivor's first one).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-zookeeper/zk"
)

// member is one server of a benchmarked ensemble.
type member struct {
	*server
	id int
}

type ensembleResult struct {
	result
	failoverFirst time.Duration // kill -9 of the leader to the first acknowledged write
	failoverAll   time.Duration // ... to every survivor's first acknowledged write
	killed        int           // server id of the killed leader
	peakRSSSum    int64         // sum over members of VmHWM, KiB
}

func freePorts(n int) ([]int, error) {
	seen := map[int]bool{}
	var out []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for len(out) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("zkbench: find a free loopback port: %w", err)
		}
		ls = append(ls, l)
		p := l.Addr().(*net.TCPAddr).Port
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// startEnsemble writes the zoo.cfg and myid of each member under one temp
// dir, starts them all and waits until one leads and the others follow.
func startEnsemble(o options, kind string) ([]*member, string, error) {
	n := o.ensemble
	root, err := os.MkdirTemp("", "zkbench-ensemble-"+kind+"-")
	if err != nil {
		return nil, "", fmt.Errorf("zkbench: temp dir: %w", err)
	}
	ports, err := freePorts(3 * n)
	if err != nil {
		os.RemoveAll(root)
		return nil, "", err
	}
	var serverLines []string
	for i := 0; i < n; i++ {
		serverLines = append(serverLines, fmt.Sprintf("server.%d=127.0.0.1:%d:%d", i+1, ports[3*i+1], ports[3*i+2]))
	}
	var members []*member
	stopAll := func() {
		for _, m := range members {
			m.stop()
		}
		os.RemoveAll(root)
	}
	for i := 0; i < n; i++ {
		dir := filepath.Join(root, fmt.Sprintf("server%d", i+1))
		dataDir := filepath.Join(dir, "data")
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			stopAll()
			return nil, "", fmt.Errorf("zkbench: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dataDir, "myid"), []byte(strconv.Itoa(i+1)+"\n"), 0o644); err != nil {
			stopAll()
			return nil, "", fmt.Errorf("zkbench: write myid: %w", err)
		}
		cfg := append([]string{
			"tickTime=" + strconv.Itoa(int(o.tickTime/time.Millisecond)), "initLimit=10", "syncLimit=5",
			"dataDir=" + dataDir,
			"clientPort=" + strconv.Itoa(ports[3*i]),
			"clientPortAddress=127.0.0.1",
			"admin.enableServer=false",
			"4lw.commands.whitelist=*",
			"maxClientCnxns=0",
		}, serverLines...)
		if kind == "zkd" {
			cfg = append(cfg, "metricsProvider.httpPort=-1")
		}
		cfgPath := filepath.Join(dir, "zoo.cfg")
		if err := os.WriteFile(cfgPath, []byte(strings.Join(cfg, "\n")+"\n"), 0o644); err != nil {
			stopAll()
			return nil, "", fmt.Errorf("zkbench: write %s: %w", cfgPath, err)
		}
		s := &server{name: fmt.Sprintf("%s server.%d", kind, i+1), dir: dir, done: make(chan struct{}),
			addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[3*i]))}
		switch kind {
		case "zkd":
			bin, err := filepath.Abs(o.zkdBin)
			if err == nil {
				_, err = os.Stat(bin)
			}
			if err != nil {
				stopAll()
				return nil, "", fmt.Errorf("zkbench: zkd binary not found at %s: run `make build` first or pass -zkd", o.zkdBin)
			}
			s.cmd = exec.Command(bin, "start-foreground", cfgPath)
		case "apache":
			if _, err := exec.LookPath(o.java); err != nil {
				stopAll()
				return nil, "", fmt.Errorf("zkbench: %s not found: install default-jre-headless and zookeeper, or run with -only zkd", o.java)
			}
			s.cmd = exec.Command(o.java, "-Xmx512m", "-cp", o.classpath,
				"org.apache.zookeeper.server.quorum.QuorumPeerMain", cfgPath)
		default:
			stopAll()
			return nil, "", fmt.Errorf("%w: unknown server %q (zkd or apache)", errUsage, kind)
		}
		logPath := filepath.Join(dir, "server.log")
		logF, err := os.Create(logPath)
		if err != nil {
			stopAll()
			return nil, "", fmt.Errorf("zkbench: %w", err)
		}
		s.cmd.Dir = dir
		s.cmd.Stdout, s.cmd.Stderr = logF, logF
		s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := s.cmd.Start(); err != nil {
			logF.Close()
			stopAll()
			return nil, "", fmt.Errorf("zkbench: start %s: %w", s.name, err)
		}
		go func(s *server, logF *os.File) {
			_ = s.cmd.Wait()
			logF.Close()
			close(s.done)
		}(s, logF)
		// The members share root; stop() of one must not remove it.
		s.dir = ""
		members = append(members, &member{server: s, id: i + 1})
	}
	deadline := time.Now().Add(120 * time.Second)
	for {
		leader, serving := -1, 0
		for i, m := range members {
			select {
			case <-m.done:
				stopAll()
				return nil, "", fmt.Errorf("zkbench: %s exited before serving; its log was in %s", m.name, root)
			default:
			}
			switch mode(m.addr) {
			case "leader":
				leader = i
				serving++
			case "follower":
				serving++
			}
		}
		if leader >= 0 && serving == n {
			return members, root, nil
		}
		if time.Now().After(deadline) {
			stopAll()
			return nil, "", fmt.Errorf("zkbench: %s ensemble did not elect a leader with %d followers within 120s", kind, n-1)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mode is the "Mode: " line of srvr, or "" when the server does not serve.
func mode(addr string) string {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return ""
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("srvr")); err != nil {
		return ""
	}
	b, _ := io.ReadAll(c)
	for _, l := range strings.Split(string(b), "\n") {
		if m, ok := strings.CutPrefix(l, "Mode: "); ok {
			return strings.TrimSpace(m)
		}
	}
	return ""
}

func (m *member) kill() {
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
	<-m.done
}

func dialTimeout(addr string, timeout time.Duration) (*zk.Conn, error) {
	c, ev, err := zk.Connect([]string{addr}, timeout, zk.WithLogger(nopLogger{}), zk.WithLogInfo(false))
	if err != nil {
		return nil, err
	}
	deadline := time.After(20 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.State == zk.StateHasSession {
				go func() {
					for range ev {
					}
				}()
				return c, nil
			}
		case <-deadline:
			c.Close()
			return nil, fmt.Errorf("no session with %s within 20s", addr)
		}
	}
}

func benchEnsemble(ctx context.Context, o options, kind string) (ensembleResult, error) {
	res := ensembleResult{result: result{server: kind}}
	started := time.Now()
	members, root, err := startEnsemble(o, kind)
	if err != nil {
		return res, err
	}
	defer func() {
		for _, m := range members {
			m.stop()
		}
		os.RemoveAll(root)
	}()
	res.startupMillis = time.Since(started).Milliseconds()
	var roles []string
	for _, m := range members {
		roles = append(roles, fmt.Sprintf("server.%d %s pid %d %s", m.id, m.addr, m.cmd.Process.Pid, mode(m.addr)))
	}
	progress("%s ensemble serving after %dms: %s", kind, res.startupMillis, strings.Join(roles, ", "))

	conns := make([]*zk.Conn, o.sessions)
	for i := range conns {
		m := members[i%len(members)]
		c, err := dial(m.addr)
		if err != nil {
			return res, fmt.Errorf("zkbench: %s session %d on %s: %w", kind, i, m.name, err)
		}
		defer c.Close()
		conns[i] = c
	}
	acl := zk.WorldACL(zk.PermAll)
	if _, err := conns[0].Create("/bench", nil, 0, acl); err != nil {
		return res, fmt.Errorf("zkbench: %s create /bench: %w", kind, err)
	}
	data := make([]byte, o.dataSize)
	for i := range data {
		data[i] = byte('a' + i%26)
	}
	path := func(i int) string { return fmt.Sprintf("/bench/n%07d", i) }
	if o.warmup > 0 {
		pr := runPhase(ctx, o, conns, o.warmup, func(i int, c *zk.Conn) error {
			p := fmt.Sprintf("/bench/warm%07d", i)
			if _, err := c.Create(p, data, 0, acl); err != nil {
				return err
			}
			return c.Delete(p, -1)
		})
		progress("%s ensemble: warm-up %d create+delete pairs in %v", kind, o.warmup, pr.duration.Round(time.Millisecond))
	}
	// Reads run after a sync on every session so each server has every node.
	phases := []struct {
		name string
		op   func(i int, c *zk.Conn) error
	}{
		{"create", func(i int, c *zk.Conn) error { _, err := c.Create(path(i), data, 0, acl); return err }},
		{"get", func(i int, c *zk.Conn) error { _, _, err := c.Get(path(i)); return err }},
		{"set", func(i int, c *zk.Conn) error { _, err := c.Set(path(i), data, -1); return err }},
		{"delete", func(i int, c *zk.Conn) error { return c.Delete(path(i), -1) }},
	}
	for _, ph := range phases {
		if ctx.Err() != nil {
			return res, fmt.Errorf("zkbench: interrupted")
		}
		if ph.name == "get" {
			for _, c := range conns {
				if _, err := c.Sync("/bench"); err != nil {
					return res, fmt.Errorf("zkbench: %s sync: %w", kind, err)
				}
			}
		}
		pr := runPhase(ctx, o, conns, o.ops, ph.op)
		pr.name = ph.name
		res.phases = append(res.phases, pr)
		progress("%s ensemble %-6s %6d ops in %7v = %8.0f ops/s  p50 %v  p99 %v  errors %d",
			kind, ph.name, pr.ops, pr.duration.Round(time.Millisecond), pr.opsPerSec(), pr.p50, pr.p99, pr.errors)
		if pr.errors > 0 {
			return res, fmt.Errorf("zkbench: %s ensemble %s: %d operations failed", kind, ph.name, pr.errors)
		}
	}
	for _, m := range members {
		hwm, _ := procStatusKiB(m.cmd.Process.Pid, "VmHWM")
		res.peakRSSSum += hwm
		res.peakRSSKiB = max(res.peakRSSKiB, hwm)
	}

	first, all, killed, err := failover(o, kind, members, data)
	if err != nil {
		return res, err
	}
	res.failoverFirst, res.failoverAll, res.killed = first, all, killed
	progress("%s ensemble failover: kill -9 of leader server.%d, first acknowledged write after %v, every survivor after %v",
		kind, killed, first.Round(time.Millisecond), all.Round(time.Millisecond))
	return res, nil
}

var errNoLeader = errors.New("zkbench: no leader")

// failover kills the leader and times the survivors' first acknowledged
// writes. Each survivor's client is connected to that survivor only.
func failover(o options, kind string, members []*member, data []byte) (first, all time.Duration, killed int, err error) {
	leader := -1
	for i, m := range members {
		if mode(m.addr) == "leader" {
			leader = i
		}
	}
	if leader < 0 {
		return 0, 0, 0, fmt.Errorf("%w: srvr shows no leader in the %s ensemble before the failover", errNoLeader, kind)
	}
	var survivors []*zk.Conn
	for i, m := range members {
		if i == leader {
			continue
		}
		c, err := dialTimeout(m.addr, o.failoverSession)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("zkbench: %s failover client on %s: %w", kind, m.name, err)
		}
		defer c.Close()
		survivors = append(survivors, c)
	}
	acl := zk.WorldACL(zk.PermAll)
	if _, err := survivors[0].Create("/failover", data, 0, acl); err != nil {
		return 0, 0, 0, fmt.Errorf("zkbench: %s create /failover: %w", kind, err)
	}
	t0 := time.Now()
	members[leader].kill()
	deadline := t0.Add(120 * time.Second)
	acks := make([]time.Duration, len(survivors))
	var wg sync.WaitGroup
	for i, c := range survivors {
		wg.Add(1)
		go func(i int, c *zk.Conn) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if _, err := c.Set("/failover", data, -1); err == nil {
					acks[i] = time.Since(t0)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}(i, c)
	}
	wg.Wait()
	sort.Slice(acks, func(a, b int) bool { return acks[a] < acks[b] })
	if acks[0] == 0 {
		return 0, 0, leader + 1, fmt.Errorf("zkbench: %s ensemble: no write acknowledged within 120s of killing server.%d", kind, leader+1)
	}
	if acks[len(acks)-1] == 0 {
		return 0, 0, leader + 1, fmt.Errorf("zkbench: %s ensemble: a survivor had no write acknowledged within 120s of killing server.%d", kind, leader+1)
	}
	return acks[0], acks[len(acks)-1], leader + 1, nil
}

func runEnsemble(ctx context.Context, o options, kinds []string) error {
	all := map[string][]ensembleResult{}
	for round := 0; round < o.rounds; round++ {
		order := append([]string(nil), kinds...)
		if round%2 == 1 {
			for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
				order[i], order[j] = order[j], order[i]
			}
		}
		for _, kind := range order {
			progress("round %d/%d: %d-server %s ensemble, tickTime=%v", round+1, o.rounds, o.ensemble, kind, o.tickTime)
			r, err := benchEnsemble(ctx, o, kind)
			if err != nil {
				return err
			}
			all[kind] = append(all[kind], r)
		}
	}
	var results []ensembleResult
	for _, kind := range kinds {
		results = append(results, medianEnsemble(all[kind]))
	}
	table := renderEnsemble(o, results, all)
	fmt.Print(table)
	if o.markdown != "" {
		if err := os.WriteFile(o.markdown, []byte(table), 0o644); err != nil {
			return fmt.Errorf("zkbench: write %s: %w", o.markdown, err)
		}
	}
	return nil
}

func medianEnsemble(rs []ensembleResult) ensembleResult {
	var plain []result
	var first, all []time.Duration
	var sum int64
	for _, r := range rs {
		plain = append(plain, r.result)
		first = append(first, r.failoverFirst)
		all = append(all, r.failoverAll)
		sum = max(sum, r.peakRSSSum)
	}
	sort.Slice(first, func(a, b int) bool { return first[a] < first[b] })
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	mid := len(rs) / 2
	return ensembleResult{result: median(plain), failoverFirst: first[mid], failoverAll: all[mid], peakRSSSum: sum}
}

func renderEnsemble(o options, results []ensembleResult, all map[string][]ensembleResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d-server ensembles, tickTime=%v, %d sessions spread over the servers x %d in flight, %d ops per phase, %d-byte values, %d CPUs; median of %d rounds\n\n",
		o.ensemble, o.tickTime, o.sessions, o.workers, o.ops, o.dataSize, runtimeCPUs(), o.rounds)
	fmt.Fprintf(&b, "| %-7s | %-6s | %9s | %10s | %10s |\n", "server", "phase", "ops/s", "p50", "p99")
	fmt.Fprintf(&b, "|---------|--------|----------:|-----------:|-----------:|\n")
	for _, r := range results {
		for _, p := range r.phases {
			fmt.Fprintf(&b, "| %-7s | %-6s | %9.0f | %10v | %10v |\n", r.server, p.name, p.opsPerSec(), p.p50, p.p99)
		}
	}
	fmt.Fprintf(&b, "\n| %-7s | %20s | %22s | %-28s | %16s |\n", "server", "failover first write", "failover all survivors", "each round (first write)", "peak RSS sum MiB")
	fmt.Fprintf(&b, "|---------|---------------------:|-----------------------:|------------------------------|-----------------:|\n")
	for _, r := range results {
		var each []string
		for _, x := range all[r.server] {
			each = append(each, x.failoverFirst.Round(time.Millisecond).String())
		}
		fmt.Fprintf(&b, "| %-7s | %20v | %22v | %-28s | %16.1f |\n", r.server, r.failoverFirst.Round(time.Millisecond),
			r.failoverAll.Round(time.Millisecond), strings.Join(each, " "), float64(r.peakRSSSum)/1024)
	}
	if len(results) == 2 && results[0].server == "zkd" && results[1].server == "apache" {
		z, a := results[0], results[1]
		fmt.Fprintf(&b, "\n| %-22s | %9s |\n", "zkd / Apache", "ratio")
		fmt.Fprintf(&b, "|------------------------|----------:|\n")
		for i := range z.phases {
			fmt.Fprintf(&b, "| %-22s | %8.2fx |\n", z.phases[i].name+" ops/s", z.phases[i].opsPerSec()/a.phases[i].opsPerSec())
			fmt.Fprintf(&b, "| %-22s | %8.2fx |\n", z.phases[i].name+" p99", float64(z.phases[i].p99)/float64(a.phases[i].p99))
		}
		fmt.Fprintf(&b, "| %-22s | %8.2fx |\n", "failover first write", float64(z.failoverFirst)/float64(a.failoverFirst))
		fmt.Fprintf(&b, "| %-22s | %8.2fx |\n", "failover all survivors", float64(z.failoverAll)/float64(a.failoverAll))
		fmt.Fprintf(&b, "| %-22s | %8.3fx |\n", "peak RSS sum", float64(z.peakRSSSum)/float64(a.peakRSSSum))
	}
	return b.String()
}

func runtimeCPUs() int { return runtime.NumCPU() }
