package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The systemd units of deploy/systemd, with the prefix pointed at the built
// binaries as install.sh does, pass systemd-analyze verify without a warning
// (this machine has no systemd as PID 1 to run them).
func TestSystemdUnitsVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		skipOrFail(t, "systemd-analyze is not installed (apt-get install systemd)")
	}
	bin, err := filepath.Abs(filepath.Join("..", "bin"))
	require.NoError(t, err)
	zkdBinary(t)
	brokerdBinary(t)
	dir := t.TempDir()
	env := filepath.Join(dir, "mqstack.env")
	src, err := os.ReadFile(filepath.Join("..", "deploy", "systemd", "mqstack.env"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(env, src, 0o644))
	units := []string{"zkd.service", "brokerd.service"}
	if _, err := os.Stat(filepath.Join(bin, "eagle")); err == nil {
		units = append(units, "eagle.service")
	}
	for _, u := range units {
		b, err := os.ReadFile(filepath.Join("..", "deploy", "systemd", u))
		require.NoError(t, err)
		text := strings.NewReplacer("/opt/mqstack/bin", bin, "/opt/mqstack/conf", dir, "/etc/mqstack/mqstack.env", env).Replace(string(b))
		for _, want := range []string{"Restart=on-failure", "LimitNOFILE=", "EnvironmentFile=", "StateDirectory=", "User=mqstack"} {
			assert.Contains(t, text, want, u)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, u), []byte(text), 0o644))
	}
	cmd := exec.Command(sa, append([]string{"verify", "--man=no"}, units...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Empty(t, strings.TrimSpace(string(out)), "systemd-analyze verify warnings")
}
