package cli

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	apacheJar    = "/usr/share/java/zookeeper.jar"
	apacheClassp = "/etc/zookeeper/conf:" + apacheJar
	apacheZkCli  = "/usr/share/zookeeper/bin/zkCli.sh"
)

func interopMissing(t *testing.T, what string) {
	t.Helper()
	msg := "Apache ZooKeeper interop: " + what + " (apt-get install zookeeper default-jre-headless)"
	if os.Getenv("REQUIRE_INTEROP") == "1" {
		t.Fatal(msg + "; REQUIRE_INTEROP=1 makes this a failure")
	}
	t.Skip(msg)
}

// startApache runs Apache ZooKeeper from the Debian package on a free
// loopback port and returns "127.0.0.1:port" once it serves.
func startApache(t *testing.T) string {
	t.Helper()
	java, err := exec.LookPath("java")
	if err != nil {
		interopMissing(t, "java is not installed")
	}
	if _, err := os.Stat(apacheJar); err != nil {
		interopMissing(t, apacheJar+" is missing")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(
		"tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\nadmin.enableServer=false\nextendedTypesEnabled=true\n",
		filepath.Join(dir, "data"), port)), 0o644))
	logPath := filepath.Join(dir, "zookeeper.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(java, "-Dzookeeper.log.dir="+dir, "-cp", apacheClassp,
		"org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("Apache ZooKeeper log:\n%s", b)
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_, _ = io.WriteString(c, "srvr")
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			b, _ := io.ReadAll(c)
			c.Close()
			if strings.Contains(string(b), "Mode: standalone") {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Apache ZooKeeper did not serve on %s within 60s", addr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type result struct {
	stdout, stderr string
	code           int
}

func runOurs(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(stdin), &out, &errb)
	return result{out.String(), errb.String(), code}
}

// runApacheCli runs the Debian zkCli.sh; SLF4J noise is dropped from stderr.
func runApacheCli(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	if _, err := os.Stat(apacheZkCli); err != nil {
		interopMissing(t, apacheZkCli+" is missing")
	}
	cmd := exec.Command(apacheZkCli, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	var kept []string
	for _, l := range strings.SplitAfter(errb.String(), "\n") {
		if !strings.HasPrefix(l, "SLF4J:") && l != "" {
			kept = append(kept, l)
		}
	}
	return result{out.String(), strings.Join(kept, ""), code}
}

var (
	reZxid   = regexp.MustCompile(`0x[0-9a-f]+`)
	reDate   = regexp.MustCompile(`\w{3} \w{3} \d\d \d\d:\d\d:\d\d \w+ \d{4}`)
	rePrompt = regexp.MustCompile(`\[zk: [^\]]*\(\w+\) \d+\] `)
	reSeq    = regexp.MustCompile(`\d{10}\b`)
)

// normalize hides what differs between two runs (zxids, session ids,
// dates), our prompts and the JLine banner, and moves watch events out of
// the stream into a sorted list (their interleaving with command output is
// asynchronous in both clients).
func normalize(s string) (string, []string) {
	s = rePrompt.ReplaceAllString(s, "")
	s = reZxid.ReplaceAllString(s, "0xZ")
	s = reDate.ReplaceAllString(s, "DATE")
	s = reSeq.ReplaceAllString(s, "SEQ")
	s = strings.ReplaceAll(s, "JLine support is enabled\n", "")
	s = strings.ReplaceAll(s, "JLine support is disabled\n", "")
	var events []string
	for {
		i := strings.Index(s, "\nWATCHER::\n\n")
		if i < 0 {
			break
		}
		rest := s[i+len("\nWATCHER::\n\n"):]
		end := strings.IndexByte(rest, '\n')
		if end < 0 {
			end = len(rest)
		}
		events = append(events, rest[:end])
		s = s[:i] + strings.TrimPrefix(rest[end:], "\n")
		if !strings.HasSuffix(s[:i], "\n") && i > 0 {
			s = s[:i] + "\n" + s[i:]
		}
	}
	// zkCli.sh's event thread prints "\nWATCHER::\n" and "\nWatchedEvent
	// ..." in two writes, so the main thread's next output can land between
	// them (seen: "WATCHER::", "Not connected", "", "WatchedEvent state:
	// Closed ..."). Take such split events out line by line, with the blank
	// line each of the two writes starts with.
	lines := strings.Split(s, "\n")
	var kept []string
	for _, l := range lines {
		if l == "WATCHER::" || strings.HasPrefix(l, "WatchedEvent ") {
			if strings.HasPrefix(l, "WatchedEvent ") {
				events = append(events, l)
			}
			if n := len(kept); n > 0 && kept[n-1] == "" {
				kept = kept[:n-1]
			}
			continue
		}
		kept = append(kept, l)
	}
	s = strings.Join(kept, "\n")
	sort.Strings(events)
	return s, events
}

func assertSame(t *testing.T, want, got result, what string) {
	t.Helper()
	wOut, wEv := normalize(want.stdout)
	gOut, gEv := normalize(got.stdout)
	assert.Equal(t, wOut, gOut, "%s: stdout", what)
	assert.Equal(t, nodeEvents(wEv), nodeEvents(gEv), "%s: watch events", what)
	wErr, _ := normalize(want.stderr)
	gErr, _ := normalize(got.stderr)
	// usage() lists the commands; ours are a subset of zkCli.sh's (no
	// quota, config, reconfig, removewatches, version).
	wUsage, wRest := splitUsage(wErr)
	gUsage, gRest := splitUsage(gErr)
	assert.Equal(t, wRest, gRest, "%s: stderr", what)
	assert.Equal(t, len(wUsage) == 0, len(gUsage) == 0, "%s: usage printed", what)
	for _, l := range gUsage {
		assert.Contains(t, wUsage, l, "%s: usage line", what)
	}
	assert.Equal(t, want.code, got.code, "%s: exit code", what)
}

// nodeEvents drops connection-state events (type:None). zkCli.sh prints
// them from its event thread while the command runs and exits, so whether
// "SyncConnected" or "Closed" makes it out before the JVM exits varies from
// run to run (seen: an extra type:None line in one of several runs). Node
// events are what the commands cause, and those must match exactly.
func nodeEvents(events []string) []string {
	var out []string
	for _, e := range events {
		if !strings.Contains(e, "type:None") {
			out = append(out, e)
		}
	}
	return out
}

func splitUsage(s string) ([]string, string) {
	var usage []string
	var rest strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if strings.HasPrefix(l, "\t") {
			usage = append(usage, l)
			continue
		}
		rest.WriteString(l)
	}
	return usage, rest.String()
}

// One command per run, as in `zkCli.sh -server h:p cmd args`: the same
// stdout, stderr and exit code as Apache's zkCli.sh, each command run by
// both clients against the same state.
func TestZkCliSingleCommandsAgainstApache(t *testing.T) {
	addr := startApache(t)
	steps := [][]string{
		{"create", "/one", "hello"},
		{"create", "/one", "again"},
		{"get", "/one"},
		{"get", "-s", "/one"},
		{"ls", "/nope"},
		{"stat", "/one"},
		{"getAcl", "/one"},
		{"set", "-v", "7", "/one", "x"},
		{"create", "/one/child"},
		{"get", "/one/child"},
		{"delete", "/one"},
		{"ls", "-R", "/one"},
		{"create", "-s", "/one/seq-", "x"},
		{"create", "/one/acl", "x", "world:anyone:rx,ip:127.0.0.1:cd"},
		{"getAcl", "/one/acl"},
		{"create", "/one/bad", "x", "world:anyone:rxz,nocolon"},
		{"getAcl", "-s", "/one/bad"},
		{"setAcl", "/one/bad", "world:anyone:cdrwa"},
		{"getAllChildrenNumber", "/one"},
		{"create", "-e", "/eph"},
		{"getEphemerals", "/"},
		{"ls", "/one", "-s"},
		{"ls"},
		{"get", "-x", "/one"},
		{"nosuch", "/x"},
		{"create", "one"},
		{"create", "/bad/"},
		{"sync", "/one"},
		{"whoami"},
		{"create", "-c", "-e", "/c"},
		{"deleteall", "/one"},
		{"stat", "/one"},
	}
	for _, step := range steps {
		name := strings.Join(step, " ")
		java := runApacheCli(t, "", append([]string{"-server", addr}, step...)...)
		// Undo writes so that our run sees the same state.
		undo(t, addr, step, java)
		ours := runOurs(t, "", append([]string{"-server", addr}, step...)...)
		assertSame(t, java, ours, name)
	}
}

// undo reverts what a successful write of step did, so the second client
// starts from the same tree.
func undo(t *testing.T, addr string, step []string, r result) {
	t.Helper()
	if r.code != 0 {
		return
	}
	switch step[0] {
	case "create":
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		created := strings.TrimPrefix(lines[len(lines)-1], "Created ")
		if strings.HasPrefix(created, "/") {
			res := runOurs(t, "", "-server", addr, "delete", created)
			require.Equal(t, 0, res.code, "undo create %s: %+v", created, res)
		}
	case "deleteall":
		// Recreate what the test had made under /one.
		for _, c := range [][]string{{"create", "/one", "hello"}, {"create", "/one/child"},
			{"create", "/one/acl", "x", "world:anyone:rx,ip:127.0.0.1:cd"}} {
			res := runOurs(t, "", append([]string{"-server", addr}, c...)...)
			require.Equal(t, 0, res.code, "undo deleteall: %v: %s", c, res.stderr)
		}
	}
}

// An interactive session fed on stdin: watches, quoting, close and
// connect, unknown commands, and the exit code of the last command.
func TestZkCliInteractiveAgainstApache(t *testing.T) {
	addr := startApache(t)
	script := strings.Join([]string{
		"create /w one",
		"get -w /w",
		"set /w two",
		"ls -w /w",
		"create /w/c",
		"stat -w /w/c",
		"delete /w/c",
		"addWatch /w",
		"create /w/d x",
		"set /w/d y",
		`create /q "a b c"`,
		"get /q",
		"create /q2 'single quoted'",
		"get /q2",
		"addauth digest user:secret",
		"create /d x digest:user:secret:cdrwa",
		"create -e /eph1",
		"create -e /eph2 x",
		"getEphemerals /",
		"getEphemerals /eph2",
		"getEphemerals /none",
		"delete /eph1",
		"delete /eph2",
		"deleteall /w",
		"delete /q",
		"delete /q2",
		"whoami",
		"bogus",
		"ls",
		"close",
		"ls /",
		"connect " + addr,
		"ls /zookeeper",
		"get /nope",
	}, "\n") + "\n"
	java := runApacheCli(t, script+"quit\n", "-server", addr)
	for _, p := range []string{"/d"} {
		runOurs(t, "", "-server", addr, "delete", p)
	}
	ours := runOurs(t, script+"quit\n", "-server", addr)
	assertSame(t, java, ours, "interactive")
	assert.Equal(t, 1, ours.code, "exit code of the last command (get /nope)")
	assert.Contains(t, ours.stdout, "[zk: "+addr+"(CONNECTED) 0] ", "JLine prompt")
	assert.Contains(t, ours.stdout, "[zk: "+addr+"(CLOSED) 30] ", "prompt after close")
	assert.Contains(t, ours.stdout, "ip: 127.0.0.1\ndigest: user\n", "whoami after addauth")
}

// Our chroot: paths are relative to it and events come back relative.
func TestZkCliChrootAgainstApache(t *testing.T) {
	addr := startApache(t)
	r := runOurs(t, "", "-server", addr, "create", "/app")
	require.Equal(t, 0, r.code, r.stderr)
	r = runOurs(t, "create /x 1\nls /\nget -w /x\nset /x 2\nls -R /\nquit\n", "-server", addr+"/app")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "Created /x\n", r.stderr)
	assert.Contains(t, r.stdout, "[x]\n")
	assert.Contains(t, r.stdout, "WatchedEvent state:SyncConnected type:NodeDataChanged path:/x\n")
	assert.Contains(t, r.stdout, "/\n/x\n")
	r = runOurs(t, "", "-server", addr, "get", "/app/x")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.True(t, strings.HasSuffix(r.stdout, "\n2\n"), r.stdout)
}

func TestZkCliCannotConnect(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	r := runOurs(t, "", "-server", addr, "-timeout", "1500", "ls", "/")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "Connecting to "+addr+"\n", r.stdout)
	assert.Equal(t, "KeeperErrorCode = ConnectionLoss for /\n", r.stderr)
}
