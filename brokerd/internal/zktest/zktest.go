// Package zktest runs a real ZooKeeper for brokerd's tests: the repository's
// bin/zkd as a separate process (brokerd never imports zkd), built with
// `go build` when bin/zkd is missing. Tests share one server and each uses
// its own chroot.
package zktest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Server is a running zkd process.
type Server struct {
	Addr string
	cmd  *exec.Cmd
	dir  string
	seq  atomic.Int64
}

// Root finds the repository root (the directory holding go.work).
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("zktest: no go.work above the working directory")
		}
		dir = parent
	}
}

// Start runs zkd standalone on 127.0.0.1 with a free client port.
func Start() (*Server, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "brokerd-zk-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(root, "bin", "zkd")
	if _, err := os.Stat(bin); err != nil {
		bin = filepath.Join(dir, "zkd")
		build := exec.Command("go", "build", "-o", bin, "./zkd/cmd/zkd")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("zktest: go build zkd: %v\n%s", err, out)
		}
	}
	cfg := filepath.Join(dir, "zoo.cfg")
	text := fmt.Sprintf("tickTime=500\ndataDir=%s\nclientPort=0\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\nmetricsProvider.httpPort=-1\nmaxClientCnxns=0\n", filepath.Join(dir, "data"))
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "zkd.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "start-foreground", cfg)
	cmd.Stderr = logf
	// zkd dies with the test binary even when a test panics.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("zktest: start %s: %w", bin, err)
	}
	s := &Server{cmd: cmd, dir: dir}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ZKD READY client="); ok {
				ready <- a
			}
		}
	}()
	select {
	case s.Addr = <-ready:
		return s, nil
	case <-time.After(20 * time.Second):
		s.Stop()
		log, _ := os.ReadFile(filepath.Join(dir, "zkd.log"))
		return nil, fmt.Errorf("zktest: zkd not ready in 20s; its log:\n%s", log)
	}
}

// Connect returns a zookeeper.connect string with a fresh chroot.
func (s *Server) Connect(name string) string {
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, name)
	return fmt.Sprintf("%s/%s-%d", s.Addr, name, s.seq.Add(1))
}

// Stop ends the process and removes its files.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
	}
	_ = os.RemoveAll(s.dir)
}

// RunMain is a test binary's TestMain body: it starts one zkd, stores it in
// *srv for the tests, runs them, stops the server and returns the exit
// code for os.Exit.
func RunMain(m *testing.M, srv **Server) int {
	s, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	*srv = s
	code := m.Run()
	s.Stop()
	return code
}

// LogBuffer is a goroutine-safe log sink (a broker's zerolog output),
// printed when a test fails.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
