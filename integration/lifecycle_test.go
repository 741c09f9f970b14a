package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestZkdLifecycle checks the daemon contract of DESIGN.md section 3 on the
// built binary: --version, a one-line error naming the file and key on a bad
// config, and a clean exit on SIGTERM with the data kept.
func TestZkdLifecycle(t *testing.T) {
	bin := zkdBinary(t)

	t.Run("version", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
		require.NoError(t, err, "zkd --version: %s", out)
		assert.NotEmpty(t, strings.TrimSpace(string(out)))
	})

	t.Run("bad_config", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		for _, tc := range []struct {
			name, cfg, key string
		}{
			{"no dataDir", "tickTime=200\nclientPort=0\n", "dataDir"},
			{"bad tickTime", "tickTime=abc\ndataDir=" + dir + "\nclientPort=0\n", "tickTime"},
			{"bad clientPort", "tickTime=200\ndataDir=" + dir + "\nclientPort=70000\n", "clientPort"},
		} {
			cfg := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".cfg")
			require.NoError(t, os.WriteFile(cfg, []byte(tc.cfg), 0o644))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			out, err := exec.CommandContext(ctx, bin, "start-foreground", cfg).CombinedOutput()
			cancel()
			require.Error(t, err, "%s: zkd accepted a bad config:\n%s", tc.name, out)
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee, "%s: zkd did not exit by itself: %v", tc.name, err)
			assert.NotZero(t, ee.ExitCode())
			assert.Contains(t, string(out), tc.key, "%s: the error names the key", tc.name)
			assert.Contains(t, string(out), cfg, "%s: the error names the file", tc.name)
			assert.NotContains(t, string(out), "panic", tc.name)
		}
		// A missing file is named too.
		missing := filepath.Join(dir, "nope.cfg")
		out, err := exec.Command(bin, "start-foreground", missing).CombinedOutput()
		require.Error(t, err)
		assert.Contains(t, string(out), missing)
	})

	t.Run("sigterm", func(t *testing.T) {
		t.Parallel()
		srv := StartServer(t, kindZkd, ServerOptions{})
		c, _ := connect(t, srv.Addr(), 4*time.Second)
		_, err := c.Create("/kept", []byte("v"), 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err)
		c.Close()
		srv.Stop()
		assert.NoError(t, srv.ExitErr(), "zkd exits 0 on SIGTERM")
		srv.Restart()
		c, _ = connect(t, srv.Addr(), 4*time.Second)
		data, _, err := c.Get("/kept")
		require.NoError(t, err)
		assert.Equal(t, "v", string(data))
	})
}
