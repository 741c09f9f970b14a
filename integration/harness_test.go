package integration

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server kinds.
const (
	kindZkd    = "zkd"
	kindApache = "apache"
)

const (
	// readyTimeout bounds how long a server may take to serve after its
	// process started (the JVM is slow on 2 busy cores).
	readyTimeout = 60 * time.Second
	stopTimeout  = 15 * time.Second
	// superSecret is the password of the "super" digest user configured on
	// every server the harness starts.
	superUser   = "super"
	superSecret = "sup3r-secret"
)

// apacheClasspath is Apache ZooKeeper 3.8 from the Debian package (the jar's
// manifest pulls in its dependencies) plus a simple slf4j binding so its log
// ends up in the kept stderr.
// $APACHE_ZK_CLASSPATH overrides it (another install, or a missing one to
// check the skip path).
var apacheClasspath = func() string {
	if cp := os.Getenv("APACHE_ZK_CLASSPATH"); cp != "" {
		return cp
	}
	cp := "/usr/share/java/zookeeper.jar"
	if _, err := os.Stat("/usr/share/java/slf4j-simple.jar"); err == nil {
		cp += ":/usr/share/java/slf4j-simple.jar" // Apache's log in the kept stderr
	}
	return cp
}()

var readyLine = regexp.MustCompile(`^ZKD READY client=(\S+)`)

// requireInterop reports whether a missing interop tool must fail the test.
func requireInterop() bool { return os.Getenv("REQUIRE_INTEROP") == "1" }

// skipOrFail skips (or fails under REQUIRE_INTEROP=1) a test needing a tool.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if requireInterop() {
		t.Fatalf("REQUIRE_INTEROP=1 but %s", msg)
	}
	t.Skipf("skipping: %s (install it, or set REQUIRE_INTEROP=1 to make this a failure)", msg)
}

// zkdBinary locates bin/zkd: $ZKD_BIN, else ../bin/zkd relative to this package.
func zkdBinary(t testing.TB) string {
	t.Helper()
	p := os.Getenv("ZKD_BIN")
	if p == "" {
		abs, err := filepath.Abs(filepath.Join("..", "bin", "zkd"))
		if err != nil {
			t.Fatalf("locate zkd binary: %v", err)
		}
		p = abs
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		t.Fatalf("zkd binary not found at %s: run `make build` in the repository root (or set ZKD_BIN to the binary)", p)
	}
	return p
}

// needApache skips (or fails) when Apache ZooKeeper or java is missing.
func needApache(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("java"); err != nil {
		skipOrFail(t, "java is not installed (apt-get install default-jre-headless zookeeper)")
	}
	for _, jar := range strings.Split(apacheClasspath, ":") {
		if _, err := os.Stat(jar); err != nil {
			skipOrFail(t, "Apache ZooKeeper jar %s is missing (apt-get install zookeeper)", jar)
		}
	}
}

// freePort returns a loopback port that was free a moment ago. Apache
// ZooKeeper cannot report a port it picked itself, so it gets one from here.
func freePort(t testing.TB) int {
	t.Helper()
	// A port picked here is released before the server binds it, so it
	// must not come from the kernel's ephemeral range: any bind to port 0
	// meanwhile (another server's client port, a broker, a client's
	// outgoing connection) could be handed the same port. Pick below the
	// range, at random, and check it is free.
	low := ephemeralLow()
	for range 200 {
		p := 10000 + rand.IntN(low-10000)
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p))); err == nil {
			_ = l.Close()
			return p
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ephemeralLow is the first port of the kernel's ephemeral range
// (net.ipv4.ip_local_port_range), 32768 when it cannot be read or leaves
// too little room below it.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 12000 {
				return n
			}
		}
	}
	return 32768
}

// ServerOptions tune a server the harness starts.
type ServerOptions struct {
	TickTime  time.Duration // default 200ms (session timeouts 400ms..4s)
	DataDir   string        // default a fresh temp dir
	SnapCount int           // 0 = server default
	ExtraCfg  []string      // more key=value lines for zoo.cfg
	Whitelist string        // 4lw.commands.whitelist, default "*"
	// ApacheJars are more jars on Apache's classpath (its AdminServer
	// needs Jetty, the servlet API and Jackson).
	ApacheJars []string
}

// Server is one zkd or Apache ZooKeeper process under test.
type Server struct {
	t       testing.TB
	Kind    string
	Dir     string
	DataDir string
	CfgPath string
	opts    ServerOptions

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	addr    string
	port    int
	gen     int
	logs    []string
	exitErr error
}

// StartServer starts a server of the given kind and registers its cleanup
// (kill, and its logs printed when the test failed).
func StartServer(t testing.TB, kind string, opts ServerOptions) *Server {
	t.Helper()
	s := newServer(t, kind, opts)
	s.start()
	return s
}

// StartServerSoft is StartServer that returns errExitedEarly (with the
// server's logs kept) when the process exits before it serves, e.g. because
// it refuses a dataDir.
func StartServerSoft(t testing.TB, kind string, opts ServerOptions) (*Server, error) {
	t.Helper()
	s := newServer(t, kind, opts)
	return s, s.startOrExit(true)
}

func newServer(t testing.TB, kind string, opts ServerOptions) *Server {
	t.Helper()
	switch kind {
	case kindZkd:
		zkdBinary(t)
	case kindApache:
		needApache(t)
	default:
		t.Fatalf("unknown server kind %q", kind)
	}
	if opts.TickTime == 0 {
		opts.TickTime = 200 * time.Millisecond
	}
	if opts.Whitelist == "" {
		opts.Whitelist = "*"
	}
	dir := t.TempDir()
	s := &Server{t: t, Kind: kind, Dir: dir, opts: opts, DataDir: opts.DataDir}
	if s.DataDir == "" {
		s.DataDir = filepath.Join(dir, "data")
	}
	if err := os.MkdirAll(s.DataDir, 0o755); err != nil {
		t.Fatalf("create dataDir: %v", err)
	}
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			s.DumpLogs()
		}
	})
	return s
}

// Addr is host:port of the client port.
func (s *Server) Addr() string { s.mu.Lock(); defer s.mu.Unlock(); return s.addr }

// PID of the running process (0 when not running).
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

func (s *Server) writeConfig() {
	lines := []string{
		fmt.Sprintf("tickTime=%d", s.opts.TickTime.Milliseconds()),
		"initLimit=10",
		"syncLimit=5",
		"dataDir=" + s.DataDir,
		fmt.Sprintf("clientPort=%d", s.port),
		"clientPortAddress=127.0.0.1",
		"admin.enableServer=false",
		"4lw.commands.whitelist=" + s.opts.Whitelist,
		"extendedTypesEnabled=true",
		"metricsProvider.httpPort=-1",
		"maxClientCnxns=0",
		"zookeeper.DigestAuthenticationProvider.superDigest=" + superDigest(),
		"DigestAuthenticationProvider.superDigest=" + superDigest(),
		"znode.container.checkIntervalMs=500",
	}
	if s.Kind == kindZkd {
		// Apache's metrics provider is off unless its class is named; zkd's
		// listens on 7000 by default.
	} else {
		lines = removePrefix(lines, "metricsProvider.httpPort=")
	}
	if s.opts.SnapCount > 0 {
		lines = append(lines, fmt.Sprintf("snapCount=%d", s.opts.SnapCount))
	}
	// ExtraCfg overrides a default line with the same key.
	for _, extra := range s.opts.ExtraCfg {
		if k, _, ok := strings.Cut(extra, "="); ok {
			lines = removePrefix(lines, strings.TrimSpace(k)+"=")
		}
	}
	lines = append(lines, s.opts.ExtraCfg...)
	s.CfgPath = filepath.Join(s.Dir, "zoo.cfg")
	if err := os.WriteFile(s.CfgPath, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		s.t.Fatalf("write zoo.cfg: %v", err)
	}
}

func removePrefix(lines []string, prefix string) []string {
	out := lines[:0]
	for _, l := range lines {
		if !strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func (s *Server) start() {
	s.t.Helper()
	_ = s.startOrExit(false)
}

// errExitedEarly: the process exited before it served (see TryRestart).
var errExitedEarly = errors.New("integration: server exited before serving")

// startOrExit starts the process; with soft, a process that exits before
// serving is returned as errExitedEarly instead of failing the test.
func (s *Server) startOrExit(soft bool) error {
	t := s.t
	t.Helper()
	if s.Kind == kindApache && s.port == 0 {
		s.port = freePort(t)
	}
	s.writeConfig()
	s.gen++
	base := filepath.Join(s.Dir, fmt.Sprintf("%s-%d", s.Kind, s.gen))
	stdoutPath, stderrPath := base+".stdout", base+".stderr"
	outF, err := os.Create(stdoutPath)
	if err != nil {
		t.Fatalf("create log: %v", err)
	}
	errF, err := os.Create(stderrPath)
	if err != nil {
		t.Fatalf("create log: %v", err)
	}
	s.mu.Lock()
	s.logs = append(s.logs, stdoutPath, stderrPath)
	s.mu.Unlock()

	var cmd *exec.Cmd
	switch s.Kind {
	case kindZkd:
		cmd = exec.Command(zkdBinary(t), "start-foreground", s.CfgPath)
	case kindApache:
		args := []string{
			"-Xmx256m", "-Xms32m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
			"-Dzookeeper.DigestAuthenticationProvider.superDigest=" + superDigest(),
			"-Dznode.container.checkIntervalMs=500",
			"-Dzookeeper.extendedTypesEnabled=true",
			"-Dorg.slf4j.simpleLogger.logFile=System.err",
			"-cp", strings.Join(append([]string{apacheClasspath}, s.opts.ApacheJars...), ":"),
			"org.apache.zookeeper.server.quorum.QuorumPeerMain", s.CfgPath,
		}
		if s.opts.SnapCount > 0 {
			args = append([]string{fmt.Sprintf("-Dzookeeper.snapCount=%d", s.opts.SnapCount)}, args...)
		}
		cmd = exec.Command("java", args...)
	}
	cmd.Dir = s.Dir
	cmd.Stderr = errF
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	readyCh := make(chan string, 1)
	var pipeDone chan struct{}
	if s.Kind == kindZkd {
		pr, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatalf("stdout pipe: %v", err)
		}
		pipeDone = make(chan struct{})
		go func() {
			defer close(pipeDone)
			defer outF.Close()
			sc := bufio.NewScanner(pr)
			sc.Buffer(make([]byte, 64*1024), 1024*1024)
			sent := false
			for sc.Scan() {
				line := sc.Text()
				fmt.Fprintln(outF, line)
				if m := readyLine.FindStringSubmatch(line); m != nil && !sent {
					readyCh <- m[1]
					sent = true
				}
			}
		}()
	} else {
		cmd.Stdout = outF
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", s.Kind, err)
	}
	done := make(chan struct{})
	go func() {
		werr := cmd.Wait()
		if pipeDone != nil {
			<-pipeDone
		} else {
			outF.Close()
		}
		errF.Close()
		s.mu.Lock()
		s.exitErr = werr
		s.mu.Unlock()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	deadline := time.After(readyTimeout)
	switch s.Kind {
	case kindZkd:
		select {
		case addr := <-readyCh:
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				t.Fatalf("zkd ready line has a bad address %q: %v", addr, err)
			}
			if host == "" || host == "0.0.0.0" || host == "::" {
				host = "127.0.0.1"
			}
			s.port, _ = strconv.Atoi(port)
			s.mu.Lock()
			s.addr = net.JoinHostPort(host, port)
			s.mu.Unlock()
		case <-done:
			if soft {
				return fmt.Errorf("%w: zkd: %v", errExitedEarly, s.ExitErr())
			}
			s.DumpLogs()
			t.Fatalf("zkd exited before printing its ready line: %v", s.exitErr)
		case <-deadline:
			s.DumpLogs()
			t.Fatalf("zkd printed no `ZKD READY client=` line within %v", readyTimeout)
		}
	case kindApache:
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
		for {
			// ruok answers imok before the server takes requests; srvr
			// reports Mode only once it does.
			if out, err := fourLetter(addr, "ruok", time.Second); err == nil && out == "imok" {
				if out, err := fourLetter(addr, "srvr", time.Second); err == nil && strings.Contains(out, "Mode: ") {
					break
				}
			}
			select {
			case <-done:
				if soft {
					return fmt.Errorf("%w: Apache ZooKeeper: %v", errExitedEarly, s.ExitErr())
				}
				s.DumpLogs()
				t.Fatalf("Apache ZooKeeper exited before serving: %v", s.exitErr)
			case <-deadline:
				s.DumpLogs()
				t.Fatalf("Apache ZooKeeper did not answer ruok on %s within %v", addr, readyTimeout)
			case <-time.After(100 * time.Millisecond):
			}
		}
		s.mu.Lock()
		s.addr = addr
		s.mu.Unlock()
	}
	return nil
}

func (s *Server) running() (*exec.Cmd, chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd, s.done
}

// Stop sends SIGTERM and waits for the process to exit (SIGKILL after stopTimeout).
func (s *Server) Stop() {
	cmd, done := s.running()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(stopTimeout):
		s.t.Errorf("%s did not exit within %v of SIGTERM; killing it", s.Kind, stopTimeout)
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	s.mu.Lock()
	s.cmd = nil
	s.mu.Unlock()
}

// Kill sends SIGKILL (kill -9) to the process group and waits for it.
func (s *Server) Kill() {
	cmd, done := s.running()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
	s.mu.Lock()
	s.cmd = nil
	s.mu.Unlock()
}

// ExitErr is the result of the last process' Wait.
func (s *Server) ExitErr() error { s.mu.Lock(); defer s.mu.Unlock(); return s.exitErr }

// Restart starts the server again on the same dataDir and client port.
func (s *Server) Restart() {
	s.t.Helper()
	if cmd, _ := s.running(); cmd != nil {
		s.Stop()
	}
	s.start()
}

// TryRestart is Restart that reports a process exiting before it serves
// (errExitedEarly) instead of failing the test.
func (s *Server) TryRestart() error {
	s.t.Helper()
	if cmd, _ := s.running(); cmd != nil {
		s.Stop()
	}
	return s.startOrExit(true)
}

// LogsContain reports whether any log of this server contains needle.
func (s *Server) LogsContain(needle string) bool {
	s.mu.Lock()
	logs := append([]string(nil), s.logs...)
	s.mu.Unlock()
	for _, p := range logs {
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(needle)) {
			return true
		}
	}
	return false
}

// DumpLogs prints the tail of every log this server wrote.
func (s *Server) DumpLogs() {
	s.mu.Lock()
	logs := append([]string(nil), s.logs...)
	s.mu.Unlock()
	for _, p := range logs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		lines := bytes.Split(b, []byte("\n"))
		if len(lines) > 150 {
			lines = lines[len(lines)-150:]
		}
		s.t.Logf("==== %s (last %d lines) ====\n%s", p, len(lines), bytes.Join(lines, []byte("\n")))
	}
}

// fourLetter sends a four-letter word and returns the whole answer.
func fourLetter(addr, word string, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte(word)); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	_, err = buf.ReadFrom(c)
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) && buf.Len() == 0 {
		return "", err
	}
	return buf.String(), nil
}

// eachServer runs f as subtests zkd/... and apache/... .
var serverKinds = []string{kindZkd, kindApache}
