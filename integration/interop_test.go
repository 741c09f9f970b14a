package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Debian system Python with python3-kazoo, not whatever python3 is first
// on PATH (a virtualenv would not have kazoo).
const systemPython = "/usr/bin/python3"

const zkCliPath = "/usr/share/zookeeper/bin/zkCli.sh"

// logLine matches the Java client's own log lines ("[main] INFO ...").
var logLine = regexp.MustCompile(`^\[[^\],]*\] (TRACE|DEBUG|INFO|WARN|ERROR) `)

func needKazoo(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(systemPython); err != nil {
		skipOrFail(t, "%s is missing (apt-get install python3 python3-kazoo)", systemPython)
	}
	if out, err := exec.Command(systemPython, "-c", "import kazoo").CombinedOutput(); err != nil {
		skipOrFail(t, "kazoo is not importable by %s (apt-get install python3-kazoo): %v %s", systemPython, err, out)
	}
}

// TestKazooInterop runs testdata/kazoo_recipes.py (CRUD, watches, Lock,
// Election, Counter, Queue, Barrier) against each server.
func TestKazooInterop(t *testing.T) {
	needKazoo(t)
	script, err := filepath.Abs(filepath.Join("testdata", "kazoo_recipes.py"))
	require.NoError(t, err)
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := StartServer(t, kind, ServerOptions{})
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, systemPython, script, srv.Addr())
			out, err := cmd.CombinedOutput()
			t.Logf("kazoo output:\n%s", out)
			require.NoError(t, err, "kazoo script failed against %s", kind)
			for _, step := range []string{"crud", "watches", "lock", "election", "counter", "queue", "barrier", "all"} {
				assert.Contains(t, string(out), "OK "+step+"\n")
			}
		})
	}
}

func needZkCli(t *testing.T) {
	t.Helper()
	needApache(t)
	if _, err := os.Stat(zkCliPath); err != nil {
		skipOrFail(t, "%s is missing (apt-get install zookeeper)", zkCliPath)
	}
}

// zkCli runs one zkCli.sh command and returns its output without the
// connection chatter and Java logging.
func zkCli(t *testing.T, addr string, args ...string) string {
	t.Helper()
	out, code := zkCliCode(t, addr, args...)
	require.Zero(t, code, "zkCli.sh %v exited %d:\n%s", args, code, out)
	return out
}

// zkCliCode is zkCli returning the exit code too.
func zkCliCode(t *testing.T, addr string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, zkCliPath, append([]string{"-server", addr}, args...)...)
	cmd.Env = append(os.Environ(), "JVMFLAGS=-Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC", "CLIENT_JVMFLAGS=-Xmx128m")
	raw, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err, "zkCli.sh %v: %s", args, raw)
	}
	var keep []string
	for _, line := range strings.Split(string(raw), "\n") {
		switch {
		case line == "",
			strings.HasPrefix(line, "Connecting to "),
			strings.HasPrefix(line, "WATCHER::"),
			strings.HasPrefix(line, "WatchedEvent state:SyncConnected type:None"),
			strings.Contains(line, "log4j"),
			strings.Contains(line, "SLF4J"),
			logLine.MatchString(line):
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n"), code
}

// TestZkCliInterop drives Apache's zkCli.sh against each server.
func TestZkCliInterop(t *testing.T) {
	needZkCli(t)
	statRE := regexp.MustCompile(`(?s)^cZxid = 0x[0-9a-f]+\nctime = .+\nmZxid = 0x[0-9a-f]+\nmtime = .+\npZxid = 0x[0-9a-f]+\ncversion = 3\ndataVersion = 1\naclVersion = 0\nephemeralOwner = 0x0\ndataLength = 5\nnumChildren = 1$`)
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := StartServer(t, kind, ServerOptions{})
			a := srv.Addr()
			assert.Equal(t, "Created /cli", zkCli(t, a, "create", "/cli", "hello"))
			assert.Equal(t, "Created /cli/kid", zkCli(t, a, "create", "/cli/kid", "k"))
			assert.Regexp(t, `^Created /cli/seq-0000000001$`, zkCli(t, a, "create", "-s", "/cli/seq-", "x"))
			assert.Equal(t, "[kid, seq-0000000001]", zkCli(t, a, "ls", "/cli"))
			assert.Equal(t, "hello", zkCli(t, a, "get", "/cli"))
			assert.Equal(t, "", zkCli(t, a, "set", "/cli", "world"))
			assert.Equal(t, "", zkCli(t, a, "delete", "/cli/seq-0000000001"))
			out := zkCli(t, a, "get", "-s", "/cli")
			require.True(t, strings.HasPrefix(out, "world\n"), "get -s output:\n%s", out)
			assert.Regexp(t, statRE, strings.TrimPrefix(out, "world\n"))
			assert.Regexp(t, statRE, zkCli(t, a, "stat", "/cli"))
			assert.Equal(t, "", zkCli(t, a, "delete", "/cli/kid"))
			assert.Equal(t, "[]", zkCli(t, a, "ls", "/cli"))
			out, code := zkCliCode(t, a, "get", "/nope")
			assert.Equal(t, "Node does not exist: /nope", out)
			assert.Equal(t, 1, code, "zkCli.sh exits 1 on a missing node")
		})
	}
}

var (
	cliPrompt = regexp.MustCompile(`\[zk: [^\]]*\((CONNECTED|CONNECTING|CLOSED)\) \d+\] `)
	cliZxid   = regexp.MustCompile(`(?m)^(cZxid|mZxid|pZxid) = 0x[0-9a-f]+$`)
	cliTime   = regexp.MustCompile(`(?m)^(ctime|mtime) = .*$`)
)

// normalizeCli makes two zkCli transcripts comparable: no prompts (the
// Debian zkCli.sh runs without JLine and prints none when piped), no JLine
// banner line, no Java logging, and masked zxids/times (the two clients
// create their own nodes at different moments).
func normalizeCli(s, path string) string {
	s = cliPrompt.ReplaceAllString(s, "")
	s = cliZxid.ReplaceAllString(s, "$1 = 0x?")
	s = cliTime.ReplaceAllString(s, "$1 = ?")
	s = strings.ReplaceAll(s, path, "/P")
	// zkCli.sh's quit closes the session and exits the JVM while its event
	// thread may or may not have printed the Closed event yet (it was
	// missing in one of several runs); zkd cli always prints it. Not a
	// difference a user could rely on, so neither side's is compared.
	s = strings.ReplaceAll(s, "\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n", "")
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "JLine support is") || strings.HasPrefix(l, "SLF4J:") || logLine.MatchString(l) {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// TestZkdCliMatchesZkCli feeds the same command script to Apache's zkCli.sh
// and to `bin/zkd cli` (interactive, commands on stdin) against each server
// and compares stdout, stderr and exit code.
func TestZkdCliMatchesZkCli(t *testing.T) {
	needZkCli(t)
	bin := zkdBinary(t)
	script := func(p string) string {
		return strings.Join([]string{
			"create " + p + " hello",
			"create -s " + p + "/s- x",
			"create -e " + p + "/eph",
			"create -c " + p + "/box",
			"create -t 60000 " + p + "/ttl t",
			"ls " + p,
			"ls -s " + p,
			"ls -R " + p,
			"get " + p,
			"get -s " + p,
			"stat " + p,
			"set " + p + " world",
			"set -v 9 " + p + " x",
			"get " + p,
			"getAcl " + p,
			"getAllChildrenNumber " + p,
			"getEphemerals " + p,
			"sync " + p,
			"whoami",
			"addauth digest bob:pw",
			"create " + p + "/locked x digest:bob:Oa8ACSsVpNQK9Gcph7hnCxjlwkE=:cdrwa",
			"getAcl " + p + "/locked",
			"setAcl " + p + "/box world:anyone:r",
			"getAcl " + p + "/box",
			"set " + p + "/box x",
			"delete " + p,
			"get /nope",
			"ls /nope",
			"stat /nope",
			"delete /nope",
			"create noslash",
			"get",
			"deleteall " + p,
			"ls " + p,
			"quit",
		}, "\n") + "\n"
	}
	run := func(t *testing.T, name string, cmd *exec.Cmd, in string) (string, string, int) {
		t.Helper()
		var stdout, stderr strings.Builder
		cmd.Stdin = strings.NewReader(in)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if cmd.Env == nil {
			cmd.Env = os.Environ()
		}
		cmd.Env = append(cmd.Env, "JVMFLAGS=-Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err, name)
		}
		return stdout.String(), stderr.String(), code
	}
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := StartServer(t, kind, ServerOptions{})
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			aOut, aErr, aCode := run(t, "zkCli.sh", exec.CommandContext(ctx, zkCliPath, "-server", srv.Addr()), script("/viaApache"))
			zOut, zErr, zCode := run(t, "zkd cli", exec.CommandContext(ctx, bin, "cli", "-server", srv.Addr()), script("/viaZkd"))
			aOut, zOut = normalizeCli(aOut, "/viaApache"), normalizeCli(zOut, "/viaZkd")
			aErr, zErr = normalizeCli(aErr, "/viaApache"), normalizeCli(zErr, "/viaZkd")
			t.Logf("zkCli.sh stdout:\n%s\nstderr:\n%s", aOut, aErr)
			require.Contains(t, aOut, "'world,'anyone", "the reference run did not get far")
			assert.Equal(t, aOut, zOut, "stdout of `zkd cli` (actual) differs from zkCli.sh (expected)")
			assert.Equal(t, aErr, zErr, "stderr of `zkd cli` (actual) differs from zkCli.sh (expected)")
			assert.Equal(t, aCode, zCode, "exit code")

			// deploy/bin/zkCli.sh is the same client behind Apache's name.
			wrapper, err := filepath.Abs(filepath.Join("..", "deploy", "bin", "zkCli.sh"))
			require.NoError(t, err)
			wcmd := exec.CommandContext(ctx, wrapper, "-server", srv.Addr())
			wcmd.Env = append(os.Environ(), "ZKD="+bin)
			wOut, wErr, wCode := run(t, "deploy/bin/zkCli.sh", wcmd, script("/viaWrapper"))
			assert.Equal(t, aOut, normalizeCli(wOut, "/viaWrapper"), "stdout of deploy/bin/zkCli.sh")
			assert.Equal(t, aErr, normalizeCli(wErr, "/viaWrapper"), "stderr of deploy/bin/zkCli.sh")
			assert.Equal(t, aCode, wCode, "exit code of deploy/bin/zkCli.sh")
		})
	}
}
