package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVersionAndBadConfig(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 0, run([]string{"zkd", "--version"}, &out, &errb))
	assert.Contains(t, out.String(), "3.8")

	out.Reset()
	errb.Reset()
	assert.Equal(t, 1, run([]string{"zkd", "start-foreground", filepath.Join(t.TempDir(), "missing.cfg")}, &out, &errb))
	assert.Contains(t, errb.String(), "missing.cfg")
	assert.Equal(t, 1, strings.Count(strings.TrimSpace(errb.String()), "\n")+1, "one line: %q", errb.String())

	bad := filepath.Join(t.TempDir(), "zoo.cfg")
	require.NoError(t, os.WriteFile(bad, []byte("tickTime=abc\n"), 0o644))
	errb.Reset()
	assert.Equal(t, 1, run([]string{"zkd", "start-foreground", bad}, &out, &errb))
	assert.Contains(t, errb.String(), "tickTime")
}

// TestStartForegroundBinary builds zkd, starts it on port 0, waits for the
// ready line, talks to it and stops it with SIGTERM.
func TestStartForegroundBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "zkd")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	require.NoError(t, os.WriteFile(cfg, []byte("tickTime=200\ndataDir="+filepath.Join(dir, "data")+
		"\nclientPort=0\nclientPortAddress=127.0.0.1\nmetricsProvider.httpPort=-1\n"), 0o644))
	cmd := exec.Command(bin, "start-foreground", cfg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill() }()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var addr string
	select {
	case l := <-lines:
		m := regexp.MustCompile(`^ZKD READY client=(\S+)$`).FindStringSubmatch(l)
		require.NotNil(t, m, "ready line %q", l)
		addr = m[1]
	case <-time.After(20 * time.Second):
		t.Fatalf("no ready line; stderr:\n%s", stderr.String())
	}
	c, _, err := zk.Connect([]string{addr}, 2*time.Second, zk.WithLogger(nopLogger{}))
	require.NoError(t, err)
	_, err = c.Create("/hello", []byte("w"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	c.Close()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "exit 0 after SIGTERM; stderr:\n%s", stderr.String())
	assert.Contains(t, stderr.String(), `"message":"zkd serving"`)
	assert.Contains(t, stderr.String(), `"client":"`+addr+`"`)
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...interface{}) {}

func TestCliDelegates(t *testing.T) {
	s := startStandalone(t)
	var out, errb bytes.Buffer
	code := run([]string{"zkd", "cli", "-server", s.Addr().String(), "create", "/fromcli", "hello"}, &out, &errb)
	require.Equal(t, 0, code, "stdout %q stderr %q", out.String(), errb.String())
	out.Reset()
	code = run([]string{"zkd", "cli", "-server", s.Addr().String(), "get", "/fromcli"}, &out, &errb)
	require.Equal(t, 0, code, "stderr %q", errb.String())
	assert.Contains(t, out.String(), "hello")
}
