package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const debianZkServer = "/usr/share/zookeeper/bin/zkServer.sh"

// TestZkServerScript runs deploy/bin/zkServer.sh (zkd) and Debian's
// zkServer.sh (Apache) through start, status, stop, status and compares what
// they print and their exit codes.
func TestZkServerScript(t *testing.T) {
	needApache(t)
	if _, err := os.Stat(debianZkServer); err != nil {
		skipOrFail(t, "%s is missing (apt-get install zookeeper)", debianZkServer)
	}
	zkdBin := zkdBinary(t)
	ours, err := filepath.Abs(filepath.Join("..", "deploy", "bin", "zkServer.sh"))
	require.NoError(t, err)
	if _, err := os.Stat(ours); err != nil {
		t.Fatalf("deploy/bin/zkServer.sh is missing: %v", err)
	}
	type step struct {
		stdout, stderr string
		code           int
	}
	runAll := func(t *testing.T, script string, env []string) []step {
		dir := t.TempDir()
		dataDir := filepath.Join(dir, "data")
		require.NoError(t, os.MkdirAll(dataDir, 0o755))
		port := freePort(t)
		cfg := filepath.Join(dir, "zoo.cfg")
		require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(
			"tickTime=200\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\nmetricsProvider.httpPort=-1\n",
			dataDir, port)), 0o644))
		env = append(os.Environ(), append(env, "ZOO_LOG_DIR="+filepath.Join(dir, "logs"))...)
		run := func(args ...string) step {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, script, args...)
			cmd.Env = env
			cmd.Dir = dir
			var out, errb strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else {
				require.NoError(t, err, "%s %v", script, args)
			}
			return step{strings.ReplaceAll(out.String(), dir, "$DIR"), strings.ReplaceAll(errb.String(), dir, "$DIR"), code}
		}
		// Whatever happens, nothing the script daemonized outlives the test.
		t.Cleanup(func() {
			b, err := os.ReadFile(filepath.Join(dataDir, "zookeeper_server.pid"))
			if err != nil {
				return
			}
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				if syscall.Kill(pid, 0) == nil {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		})
		var steps []step
		steps = append(steps, run("start", cfg))
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		// The server serves once start said STARTED (Apache: give the JVM time).
		require.Eventually(t, func() bool {
			out, err := fourLetter(addr, "srvr", time.Second)
			return err == nil && strings.Contains(out, "Mode: ")
		}, 60*time.Second, 100*time.Millisecond, "%s start: nothing serves on %s", script, addr)
		c, _ := connect(t, addr, 4*time.Second)
		_, err := c.Create("/via-script", nil, 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err)
		c.Close()
		steps = append(steps, run("status", cfg))
		steps = append(steps, run("stop", cfg))
		_, err = fourLetter(addr, "ruok", time.Second)
		assert.Error(t, err, "%s stop: the server still answers", script)
		steps = append(steps, run("status", cfg))
		return steps
	}
	apache := runAll(t, debianZkServer, nil)
	ourSteps := runAll(t, ours, []string{"ZKD=" + zkdBin})
	names := []string{"start", "status", "stop", "status after stop"}
	for i := range apache {
		a, z := apache[i], ourSteps[i]
		// Port numbers differ between the two runs; the JMX line is the JVM's.
		norm := func(s string) string {
			var keep []string
			for _, l := range strings.Split(s, "\n") {
				if strings.HasPrefix(l, "ZooKeeper JMX enabled by default") {
					continue
				}
				if strings.HasPrefix(l, "Client port found: ") {
					l = "Client port found: N" + l[strings.Index(l, "."):]
				}
				keep = append(keep, strings.ReplaceAll(l, "\\", ""))
			}
			return strings.Join(keep, "\n")
		}
		assert.Equal(t, a.code, z.code, "%s: exit code", names[i])
		assert.Equal(t, norm(a.stdout), norm(z.stdout), "%s: stdout", names[i])
		assert.Equal(t, norm(a.stderr), norm(z.stderr), "%s: stderr", names[i])
	}
}
