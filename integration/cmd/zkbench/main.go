// Command zkbench measures zkd against Apache ZooKeeper side by side, in the
// manner of zk-latencies: it starts both servers on free loopback ports with
// temporary dataDirs, opens N sessions to each, keeps many requests in flight
// per session (go-zookeeper pipelines them on one connection) and times
// create, get, set and delete phases. It reports ops/s, p50/p99 latency and
// each process' resident memory (VmHWM peak and VmRSS after the run, from
// /proc/<pid>/status), then the zkd/Apache ratios.
//
//	go run ./integration/cmd/zkbench -zkd bin/zkd
//
// With -ensemble 3 it compares a 3-server zkd ensemble with a 3-server
// Apache ensemble instead (sessions spread over the servers) and measures
// the leader failover: kill -9 of the leader to the first acknowledged
// write on a survivor (see ensemble.go and docs/benchmarks.md).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-zookeeper/zk"
)

var errUsage = errors.New("zkbench: usage")

type options struct {
	zkdBin    string
	java      string
	classpath string
	sessions  int
	workers   int
	ops       int
	warmup    int
	dataSize  int
	only      string
	markdown  string
	rounds    int
	// ensemble mode
	ensemble        int
	tickTime        time.Duration
	failoverSession time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.zkdBin, "zkd", "bin/zkd", "path to the zkd binary (build it with `make build`)")
	flag.StringVar(&o.java, "java", "java", "java executable for Apache ZooKeeper")
	flag.StringVar(&o.classpath, "apache-cp", "/usr/share/java/zookeeper.jar", "Apache ZooKeeper classpath (Debian package zookeeper)")
	flag.IntVar(&o.sessions, "sessions", 8, "client sessions per server")
	flag.IntVar(&o.workers, "inflight", 16, "requests in flight per session (goroutines sharing the session's connection)")
	flag.IntVar(&o.ops, "ops", 20000, "operations per phase")
	flag.IntVar(&o.warmup, "warmup", 2000, "create+delete pairs run before measuring (JIT warm-up for the JVM; same for zkd)")
	flag.IntVar(&o.dataSize, "size", 100, "bytes of data per znode")
	flag.StringVar(&o.only, "only", "", "run only this server: zkd or apache")
	flag.StringVar(&o.markdown, "markdown", "", "also write the result table as Markdown to this file")
	flag.IntVar(&o.rounds, "rounds", 3, "repeat the whole comparison, alternating which server goes first, and report medians (the machine may be shared)")
	flag.IntVar(&o.ensemble, "ensemble", 0, "0: standalone servers; N (3 or 5): an N-server zkd ensemble against an N-server Apache ensemble, with a leader failover")
	flag.DurationVar(&o.tickTime, "ticktime", 2*time.Second, "tickTime of the ensembles (-ensemble), the same for both")
	flag.DurationVar(&o.failoverSession, "failover-session", 10*time.Second, "session timeout of the failover clients (-ensemble)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// server is one benchmarked process.
type server struct {
	name string
	dir  string
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

type phaseResult struct {
	name     string
	ops      int
	errors   int64
	duration time.Duration
	p50, p99 time.Duration
}

func (p phaseResult) opsPerSec() float64 { return float64(p.ops) / p.duration.Seconds() }

type result struct {
	server        string
	phases        []phaseResult
	peakRSSKiB    int64
	afterRSSKiB   int64
	startupMillis int64
}

func run(o options) error {
	if o.sessions < 1 || o.workers < 1 || o.ops < o.sessions {
		return fmt.Errorf("%w: -sessions, -inflight must be >= 1 and -ops >= -sessions", errUsage)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	kinds := []string{"zkd", "apache"}
	if o.only != "" {
		kinds = []string{o.only}
	}
	if o.rounds < 1 {
		o.rounds = 1
	}
	if o.ensemble > 0 {
		if o.ensemble < 3 || o.ensemble%2 == 0 {
			return fmt.Errorf("%w: -ensemble %d: use an odd number of servers, at least 3 (a leader failover needs a surviving majority)", errUsage, o.ensemble)
		}
		if o.tickTime < time.Millisecond {
			return fmt.Errorf("%w: -ticktime %v is below 1ms", errUsage, o.tickTime)
		}
		return runEnsemble(ctx, o, kinds)
	}
	all := map[string][]result{}
	for round := 0; round < o.rounds; round++ {
		order := append([]string(nil), kinds...)
		if round%2 == 1 {
			for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
				order[i], order[j] = order[j], order[i]
			}
		}
		for _, kind := range order {
			progress("round %d/%d: %s", round+1, o.rounds, kind)
			r, err := benchOne(ctx, o, kind)
			if err != nil {
				return err
			}
			all[kind] = append(all[kind], r)
		}
	}
	var results []result
	for _, kind := range kinds {
		results = append(results, median(all[kind]))
	}
	table := render(o, results)
	fmt.Print(table)
	if o.markdown != "" {
		if err := os.WriteFile(o.markdown, []byte(table), 0o644); err != nil {
			return fmt.Errorf("zkbench: write %s: %w", o.markdown, err)
		}
	}
	return nil
}

func benchOne(ctx context.Context, o options, kind string) (result, error) {
	res := result{server: kind}
	started := time.Now()
	srv, err := startServer(o, kind)
	if err != nil {
		return res, err
	}
	defer srv.stop()
	res.startupMillis = time.Since(started).Milliseconds()
	pid := srv.cmd.Process.Pid
	progress("%s: serving on %s (pid %d) after %dms", kind, srv.addr, pid, res.startupMillis)

	conns := make([]*zk.Conn, o.sessions)
	for i := range conns {
		c, err := dial(srv.addr)
		if err != nil {
			return res, fmt.Errorf("zkbench: %s session %d: %w", kind, i, err)
		}
		defer c.Close()
		conns[i] = c
	}
	if _, err := conns[0].Create("/bench", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		return res, fmt.Errorf("zkbench: %s create /bench: %w", kind, err)
	}
	data := make([]byte, o.dataSize)
	for i := range data {
		data[i] = byte('a' + i%26)
	}
	acl := zk.WorldACL(zk.PermAll)
	path := func(i int) string { return fmt.Sprintf("/bench/n%07d", i) }
	warm := func(i int, c *zk.Conn) error {
		p := fmt.Sprintf("/bench/warm%07d", i)
		if _, err := c.Create(p, data, 0, acl); err != nil {
			return err
		}
		return c.Delete(p, -1)
	}
	phases := []struct {
		name string
		op   func(i int, c *zk.Conn) error
	}{
		{"create", func(i int, c *zk.Conn) error { _, err := c.Create(path(i), data, 0, acl); return err }},
		{"get", func(i int, c *zk.Conn) error { _, _, err := c.Get(path(i)); return err }},
		{"set", func(i int, c *zk.Conn) error { _, err := c.Set(path(i), data, -1); return err }},
		{"delete", func(i int, c *zk.Conn) error { return c.Delete(path(i), -1) }},
	}
	if o.warmup > 0 {
		pr := runPhase(ctx, o, conns, o.warmup, warm)
		progress("%s: warm-up %d create+delete pairs in %v", kind, o.warmup, pr.duration.Round(time.Millisecond))
	}
	for _, ph := range phases {
		if ctx.Err() != nil {
			return res, fmt.Errorf("zkbench: interrupted")
		}
		pr := runPhase(ctx, o, conns, o.ops, ph.op)
		pr.name = ph.name
		res.phases = append(res.phases, pr)
		rss, _ := procStatusKiB(pid, "VmRSS")
		progress("%s %-6s %6d ops in %7v = %8.0f ops/s  p50 %v  p99 %v  errors %d  rss %d MiB",
			kind, ph.name, pr.ops, pr.duration.Round(time.Millisecond), pr.opsPerSec(), pr.p50, pr.p99, pr.errors, rss/1024)
		if pr.errors > 0 {
			return res, fmt.Errorf("zkbench: %s %s: %d operations failed", kind, ph.name, pr.errors)
		}
	}
	res.afterRSSKiB, _ = procStatusKiB(pid, "VmRSS")
	res.peakRSSKiB, _ = procStatusKiB(pid, "VmHWM")
	return res, nil
}

// runPhase spreads ops over the sessions, o.workers goroutines per session.
func runPhase(ctx context.Context, o options, conns []*zk.Conn, ops int, op func(int, *zk.Conn) error) phaseResult {
	lat := make([]time.Duration, ops)
	var next atomic.Int64
	var errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, c := range conns {
		for w := 0; w < o.workers; w++ {
			wg.Add(1)
			go func(c *zk.Conn) {
				defer wg.Done()
				for ctx.Err() == nil {
					i := int(next.Add(1) - 1)
					if i >= ops {
						return
					}
					t0 := time.Now()
					if err := op(i, c); err != nil {
						errs.Add(1)
					}
					lat[i] = time.Since(t0)
				}
			}(c)
		}
	}
	wg.Wait()
	pr := phaseResult{ops: ops, duration: time.Since(start), errors: errs.Load()}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pr.p50 = lat[ops*50/100].Round(time.Microsecond)
	pr.p99 = lat[ops*99/100].Round(time.Microsecond)
	return pr
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

func dial(addr string) (*zk.Conn, error) {
	c, ev, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(nopLogger{}), zk.WithLogInfo(false))
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

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "zkbench: "+format+"\n", args...)
}

var readyLine = regexp.MustCompile(`^ZKD READY client=(\S+)`)

func startServer(o options, kind string) (*server, error) {
	dir, err := os.MkdirTemp("", "zkbench-"+kind+"-")
	if err != nil {
		return nil, fmt.Errorf("zkbench: temp dir: %w", err)
	}
	s := &server{name: kind, dir: dir, done: make(chan struct{})}
	dataDir := filepath.Join(dir, "data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("zkbench: %w", err)
	}
	port := 0
	if kind == "apache" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("zkbench: find a free port: %w", err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	cfg := strings.Join([]string{
		"tickTime=2000", "initLimit=10", "syncLimit=5",
		"dataDir=" + dataDir,
		"clientPort=" + strconv.Itoa(port),
		"clientPortAddress=127.0.0.1",
		"admin.enableServer=false",
		"4lw.commands.whitelist=*",
		"maxClientCnxns=0",
	}, "\n") + "\n"
	if kind == "zkd" {
		cfg += "metricsProvider.httpPort=-1\n"
	}
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, fmt.Errorf("zkbench: write %s: %w", cfgPath, err)
	}
	logPath := filepath.Join(dir, kind+".log")
	logF, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("zkbench: %w", err)
	}
	switch kind {
	case "zkd":
		bin, err := filepath.Abs(o.zkdBin)
		if err != nil {
			return nil, fmt.Errorf("zkbench: %w", err)
		}
		if st, err := os.Stat(bin); err != nil || st.IsDir() {
			return nil, fmt.Errorf("zkbench: zkd binary not found at %s: run `make build` first or pass -zkd", bin)
		}
		s.cmd = exec.Command(bin, "start-foreground", cfgPath)
	case "apache":
		if _, err := exec.LookPath(o.java); err != nil {
			return nil, fmt.Errorf("zkbench: %s not found: install default-jre-headless and zookeeper, or run with -only zkd", o.java)
		}
		// Apache's own defaults (zkServer.sh uses -Xmx1000m unless told);
		// the JVM gets the same 1 GiB cap here.
		s.cmd = exec.Command(o.java, "-Xmx1000m", "-cp", o.classpath,
			"org.apache.zookeeper.server.quorum.QuorumPeerMain", cfgPath)
	default:
		return nil, fmt.Errorf("%w: unknown server %q (zkd or apache)", errUsage, kind)
	}
	s.cmd.Dir = dir
	s.cmd.Stderr = logF
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	ready := make(chan string, 1)
	var out io.ReadCloser
	if kind == "zkd" {
		out, err = s.cmd.StdoutPipe()
		if err != nil {
			return nil, fmt.Errorf("zkbench: %w", err)
		}
	} else {
		s.cmd.Stdout = logF
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("zkbench: start %s: %w", kind, err)
	}
	go func() {
		_ = s.cmd.Wait()
		logF.Close()
		close(s.done)
	}()
	if out != nil {
		go func() {
			sc := bufio.NewScanner(out)
			sent := false
			for sc.Scan() {
				fmt.Fprintln(logF, sc.Text())
				if m := readyLine.FindStringSubmatch(sc.Text()); m != nil && !sent {
					ready <- m[1]
					sent = true
				}
			}
		}()
	}
	deadline := time.After(90 * time.Second)
	if kind == "zkd" {
		select {
		case a := <-ready:
			s.addr = a
		case <-s.done:
			return nil, fmt.Errorf("zkbench: zkd exited before its ready line; see %s", logPath)
		case <-deadline:
			s.stop()
			return nil, fmt.Errorf("zkbench: zkd printed no ready line in 90s; see %s", logPath)
		}
		return s, nil
	}
	s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for {
		if srvrMode(s.addr) {
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("zkbench: Apache ZooKeeper exited before serving; see %s", logPath)
		case <-deadline:
			s.stop()
			return nil, fmt.Errorf("zkbench: Apache ZooKeeper not serving on %s after 90s; see %s", s.addr, logPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// srvrMode reports whether the server answers srvr with its Mode (it serves).
func srvrMode(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("srvr")); err != nil {
		return false
	}
	b, _ := io.ReadAll(c)
	return strings.Contains(string(b), "Mode: ")
}

func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	// The whole process group: a -zkd wrapper script that does not exec
	// would otherwise leave its zkd child running.
	pgid := s.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-s.done
	}
	// Whatever else is left in the group (children of a wrapper).
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// procStatusKiB reads a "Key:   123 kB" line of /proc/<pid>/status.
func procStatusKiB(pid int, key string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, key+":") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				return strconv.ParseInt(f[1], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", key, pid)
}

// median folds rounds into one result: the median of each phase's ops/s,
// p50 and p99 taken separately, the largest peak RSS, the median RSS after.
func median(rs []result) result {
	out := result{server: rs[0].server}
	mid := len(rs) / 2
	for i := range rs[0].phases {
		var ops []float64
		var p50, p99 []time.Duration
		for _, r := range rs {
			ops = append(ops, r.phases[i].opsPerSec())
			p50 = append(p50, r.phases[i].p50)
			p99 = append(p99, r.phases[i].p99)
		}
		sort.Float64s(ops)
		sort.Slice(p50, func(a, b int) bool { return p50[a] < p50[b] })
		sort.Slice(p99, func(a, b int) bool { return p99[a] < p99[b] })
		ph := rs[0].phases[i]
		ph.duration = time.Duration(float64(ph.ops) / ops[mid] * float64(time.Second))
		ph.p50, ph.p99 = p50[mid], p99[mid]
		out.phases = append(out.phases, ph)
	}
	var after, startup []int64
	for _, r := range rs {
		out.peakRSSKiB = max(out.peakRSSKiB, r.peakRSSKiB)
		after = append(after, r.afterRSSKiB)
		startup = append(startup, r.startupMillis)
	}
	sort.Slice(after, func(a, b int) bool { return after[a] < after[b] })
	sort.Slice(startup, func(a, b int) bool { return startup[a] < startup[b] })
	out.afterRSSKiB, out.startupMillis = after[mid], startup[mid]
	return out
}

func render(o options, results []result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d sessions x %d in flight, %d ops per phase, %d-byte values, %s/%s, %d CPUs; median of %d rounds\n\n",
		o.sessions, o.workers, o.ops, o.dataSize, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), o.rounds)
	fmt.Fprintf(&b, "| %-7s | %-6s | %9s | %10s | %10s |\n", "server", "phase", "ops/s", "p50", "p99")
	fmt.Fprintf(&b, "|---------|--------|----------:|-----------:|-----------:|\n")
	for _, r := range results {
		for _, p := range r.phases {
			fmt.Fprintf(&b, "| %-7s | %-6s | %9.0f | %10v | %10v |\n", r.server, p.name, p.opsPerSec(), p.p50, p.p99)
		}
	}
	fmt.Fprintf(&b, "\n| %-7s | %10s | %20s | %17s |\n", "server", "startup ms", "peak RSS MiB (VmHWM)", "RSS after run MiB")
	fmt.Fprintf(&b, "|---------|-----------:|---------------------:|------------------:|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %-7s | %10d | %20.1f | %17.1f |\n", r.server, r.startupMillis, float64(r.peakRSSKiB)/1024, float64(r.afterRSSKiB)/1024)
	}
	if len(results) == 2 && results[0].server == "zkd" && results[1].server == "apache" {
		z, a := results[0], results[1]
		fmt.Fprintf(&b, "\n| %-16s | %9s |\n", "zkd / Apache", "ratio")
		fmt.Fprintf(&b, "|------------------|----------:|\n")
		for i := range z.phases {
			fmt.Fprintf(&b, "| %-16s | %8.2fx |\n", z.phases[i].name+" ops/s", z.phases[i].opsPerSec()/a.phases[i].opsPerSec())
			fmt.Fprintf(&b, "| %-16s | %8.2fx |\n", z.phases[i].name+" p99", float64(z.phases[i].p99)/float64(a.phases[i].p99))
		}
		fmt.Fprintf(&b, "| %-16s | %8.3fx |\n", "peak RSS", float64(z.peakRSSKiB)/float64(a.peakRSSKiB))
		fmt.Fprintf(&b, "| %-16s | %8.3fx |\n", "RSS after run", float64(z.afterRSSKiB)/float64(a.afterRSSKiB))
	}
	return b.String()
}
