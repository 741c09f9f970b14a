package integration

import (
	"bytes"
	"errors"
	"fmt"
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

// A bad configuration exits 1 with one line naming the file and the key.
func TestEagleBadConfig(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"efak.zk.cluster.alias=c1\nc1.zk.list=127.0.0.1:2181\nefak.webui.port=http\n": "efak.webui.port",
		"efak.zk.cluster.alias=c1\n": "c1.zk.list",
		"efak.zk.cluster.alias=c1\nc1.zk.list=127.0.0.1:2181\nefak.url=jdbc:mysql://db/ke\n": "efak.url",
	}
	i := 0
	for text, key := range cases {
		i++
		path := filepath.Join(dir, fmt.Sprintf("bad%d.properties", i))
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
		cmd := exec.Command(eagleBinary(t), "start", path)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "%s: %v", key, err)
		assert.Equal(t, 1, ee.ExitCode(), key)
		lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
		require.Len(t, lines, 1, errb.String())
		assert.Contains(t, lines[0], path)
		assert.Contains(t, lines[0], key)
		assert.Empty(t, out.String())
	}
}

// ke.sh start/status/stop with a pid file, printing the URL and the login.
func TestEagleKeSh(t *testing.T) {
	zks := StartServer(t, kindZkd, ServerOptions{})
	home := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(home, "conf"), 0o755))
	port := freePort(t)
	conf := fmt.Sprintf("efak.zk.cluster.alias=cluster1\ncluster1.zk.list=%s/ke\nefak.webui.port=%d\neagle.webui.host=127.0.0.1\nefak.url=jdbc:sqlite:db/ke.db\neagle.collect.interval=1s\n", zks.Addr(), port)
	require.NoError(t, os.WriteFile(filepath.Join(home, "conf", "system-config.properties"), []byte(conf), 0o644))
	script, err := filepath.Abs(filepath.Join("..", "deploy", "bin", "ke.sh"))
	require.NoError(t, err)
	ke := func(arg string) (string, int) {
		cmd := exec.Command(script, arg)
		cmd.Env = append(os.Environ(), "KE_HOME="+home, "EAGLE="+eagleBinary(t))
		out, err := cmd.CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		return string(out), code
	}
	t.Cleanup(func() { ke("stop") })
	out, code := ke("start")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, fmt.Sprintf("http://127.0.0.1:%d", port))
	m := regexp.MustCompile(`Log in as admin with password (\S+)`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	pid, err := os.ReadFile(filepath.Join(home, "logs", "eagle.pid"))
	require.NoError(t, err)
	require.NotEmpty(t, strings.TrimSpace(string(pid)))
	_, err = os.Stat(filepath.Join(home, "db", "ke.db"))
	require.NoError(t, err, "a relative efak.url is under KE_HOME")
	// The printed password logs in (and must then be changed).
	s := eagleLogin(t, fmt.Sprintf("http://127.0.0.1:%d", port), "admin", m[1])
	code2, _, hdr := s.get("/")
	assert.Equal(t, 303, code2)
	assert.Equal(t, "/account/password", hdr.Get("Location"))

	out, code = ke("start")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "already running")
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, code = ke("status")
		if strings.Contains(out, "ready:") || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "ready: every cluster has been collected")
	out, code = ke("stop")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "eagle stopped")
	_, err = os.Stat(filepath.Join(home, "logs", "eagle.pid"))
	assert.True(t, os.IsNotExist(err), "pid file removed")
	out, code = ke("status")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "not running")
	// A restart keeps the store: no new password is printed.
	out, code = ke("restart")
	require.Equal(t, 0, code, out)
	assert.NotContains(t, out, "with password")
	assert.Contains(t, out, "eagle.admin.password")
}
