package integration

// The AdminServer (HTTP commands) of the real bin/zkd: JSON answers checked
// with net/http against the 4lw and a go-zookeeper session, the ensemble
// commands on three servers, the port-in-use error, and the JSON keys of
// Apache ZooKeeper 3.8 (Debian's, with Jetty on its classpath) side by side.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// adminCfg enables the AdminServer on 127.0.0.1:port.
func adminCfg(port int) []string {
	return []string{"admin.enableServer=true", "admin.serverAddress=127.0.0.1", fmt.Sprintf("admin.serverPort=%d", port)}
}

// adminJSON GETs http://127.0.0.1:port/commands/name; numbers stay json.Number.
func adminJSON(t *testing.T, port int, name string) (int, map[string]any) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d/commands/%s", port, name))
	require.NoError(t, err)
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m), "command %s", name)
	return resp.StatusCode, m
}

func jsonInt(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	require.True(t, ok, "%v (%T) is not a number", v, v)
	i, err := n.Int64()
	require.NoError(t, err)
	return i
}

// adminWaitUp waits until the AdminServer answers (Apache starts Jetty
// before it serves clients, zkd binds it before its ready line).
func adminWaitUp(t *testing.T, port int) {
	t.Helper()
	eventuallyT(t, 20*time.Second, fmt.Sprintf("the AdminServer on port %d to answer", port), func() bool {
		resp, err := (&http.Client{Timeout: time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d/commands/ruok", port))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
}

func TestAdminServerZkd(t *testing.T) {
	port := freePort(t)
	srv := StartServer(t, kindZkd, ServerOptions{ExtraCfg: adminCfg(port)})
	adminWaitUp(t, port)

	code, m := adminJSON(t, port, "ruok")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, map[string]any{"command": "ruok", "error": nil}, m)

	c := zkClient(t, srv.Addr())
	_, err := c.Create("/admin", []byte("v"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, _, _, err = c.GetW("/admin")
	require.NoError(t, err)
	sid := c.SessionID()

	_, m = adminJSON(t, port, "stats")
	assert.Equal(t, "standalone", m["server_stats"].(map[string]any)["server_state"])
	assert.Equal(t, int64(1), jsonInt(t, m["server_stats"].(map[string]any)["num_alive_client_connections"]))
	assert.Len(t, m["connections"], 1)

	_, m = adminJSON(t, port, "cons")
	conns := m["connections"].([]any)
	require.Len(t, conns, 1)
	assert.Equal(t, sid, jsonInt(t, conns[0].(map[string]any)["session_id"]))
	assert.Equal(t, "GETD", conns[0].(map[string]any)["last_operation"])

	_, m = adminJSON(t, port, "wchc")
	assert.Equal(t, map[string]any{strconv.FormatInt(sid, 10): []any{"/admin"}}, m["session_id_to_watched_paths"])

	_, m = adminJSON(t, port, "conf")
	assert.Equal(t, filepath.Join(srv.DataDir, "version-2"), m["data_dir"])
	assert.Equal(t, filepath.Join(srv.DataDir, "version-2"), m["data_log_dir"])
	_, clientPort, _ := strings.Cut(srv.Addr(), ":")
	assert.Equal(t, clientPort, m["client_port"].(json.Number).String())
	assert.Equal(t, "configuration", m["command"])

	// monitor and the mntr 4lw of the same server: the same keys (without
	// "zk_"), and equal values for those that do not move between calls.
	_, mon := adminJSON(t, port, "monitor")
	out, err := fourLetter(srv.Addr(), "mntr", 5*time.Second)
	require.NoError(t, err)
	var mntrKeys, monKeys []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		// mntr is "key<TAB>value" per line (parsed here by hand: this
		// package tests the binaries as a black box).
		key, value, ok := strings.Cut(line, "\t")
		require.True(t, ok, "mntr line without a tab: %q", line)
		k := strings.TrimPrefix(key, "zk_")
		mntrKeys = append(mntrKeys, k)
		switch k {
		case "version", "server_state", "znode_count", "watch_count", "ephemerals_count", "global_sessions",
			"approximate_data_size":
			assert.Equal(t, value, fmt.Sprint(mon[k]), k)
		}
	}
	for k := range mon {
		if k != "command" && k != "error" {
			monKeys = append(monKeys, k)
		}
	}
	sort.Strings(mntrKeys)
	sort.Strings(monKeys)
	assert.Equal(t, mntrKeys, monKeys)
	assert.Equal(t, "1", fmt.Sprint(mon["watch_count"]))

	code, m = adminJSON(t, port, "no_such_command")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, map[string]any{"command": "no_such_command", "error": "Unknown command: no_such_command"}, m)

	// A second zkd configured with the same admin port refuses to start
	// and names the key and the port.
	other, err := StartServerSoft(t, kindZkd, ServerOptions{ExtraCfg: adminCfg(port)})
	require.ErrorIs(t, err, errExitedEarly)
	assert.True(t, other.LogsContain(fmt.Sprintf("admin.serverPort=%d", port)), "the error names admin.serverPort and the port")
}

func TestAdminServerEnsemble(t *testing.T) {
	e := StartEnsembleInOrder(t, 3, ServerOptions{})
	ports := make([]int, len(e.Servers))
	for i, s := range e.Servers {
		ports[i] = freePort(t)
		s.opts.ExtraCfg = append(s.opts.ExtraCfg, adminCfg(ports[i])...)
		e.Start(i)
	}
	leader := e.WaitSettled(60 * time.Second)
	for i := range e.Servers {
		_, m := adminJSON(t, ports[i], "leader")
		assert.Equal(t, i == leader, m["is_leader"], "server.%d", i+1)
		assert.Equal(t, int64(leader+1), jsonInt(t, m["leader_id"]), "server.%d", i+1)
		assert.Equal(t, "127.0.0.1", m["leader_ip"])
		assert.Nil(t, m["error"])
		_, m = adminJSON(t, ports[i], "voting_view")
		view := m["current_config"].(map[string]any)
		require.Len(t, view, 3)
		for id := 1; id <= 3; id++ {
			assert.Regexp(t, `^127\.0\.0\.1:\d+:\d+:participant$`, view[strconv.Itoa(id)])
		}
		_, m = adminJSON(t, ports[i], "zabstate")
		assert.Equal(t, true, m["voting"])
		assert.Equal(t, "broadcast", m["zabstate"])
		_, m = adminJSON(t, ports[i], "monitor")
		assert.Equal(t, e.Mode(i), m["server_state"])
	}
}

// apacheAdminJars are the Debian jars Apache's JettyAdminServer needs.
var apacheAdminJars = func() []string {
	var jars []string
	for _, j := range []string{"servlet-api", "jetty9-server", "jetty9-servlet", "jetty9-http", "jetty9-io",
		"jetty9-util", "jetty9-security", "jackson-core", "jackson-databind", "jackson-annotations"} {
		jars = append(jars, "/usr/share/java/"+j+".jar")
	}
	return jars
}()

// keysOf is the sorted keys of a JSON object, with the keys of nested
// objects as "parent.key" (maps keyed by ids or paths are left out).
func keysOf(m map[string]any, prefix string) []string {
	var out []string
	for k, v := range m {
		out = append(out, prefix+k)
		if sub, ok := v.(map[string]any); ok && k != "session_id_to_watched_paths" && k != "path_to_session_ids" &&
			k != "expiry_time_to_session_ids" && k != "session_id_to_ephemeral_paths" && k != "current_config" {
			out = append(out, keysOf(sub, prefix+k+".")...)
		}
		if list, ok := v.([]any); ok && len(list) > 0 {
			if sub, ok := list[0].(map[string]any); ok {
				out = append(out, keysOf(sub, prefix+k+"[].")...)
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestAdminServerSameKeysAsApache(t *testing.T) {
	needApache(t)
	for _, j := range apacheAdminJars {
		if _, err := os.Stat(j); err != nil {
			skipOrFail(t, "Apache's AdminServer needs %s (Debian packages libjetty9-java, libservlet-api-java, libjackson2-*): %v", j, err)
			return
		}
	}
	ports := map[string]int{kindApache: freePort(t), kindZkd: freePort(t)}
	sids := map[string]int64{}
	for _, kind := range serverKinds {
		srv := StartServer(t, kind, ServerOptions{ExtraCfg: adminCfg(ports[kind]), ApacheJars: apacheAdminJars})
		adminWaitUp(t, ports[kind])
		c := zkClient(t, srv.Addr())
		_, err := c.Create("/w", []byte("v"), 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err)
		_, err = c.Create("/e", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
		require.NoError(t, err)
		_, _, _, err = c.GetW("/w")
		require.NoError(t, err)
		sids[kind] = c.SessionID()
	}
	for _, cmd := range []string{"ruok", "stats", "stat", "server_stats", "srvr", "configuration", "environment",
		"connections", "dump", "watch_summary", "watches", "watches_by_path", "dirs", "is_read_only",
		"get_trace_mask", "leader", "voting_view", "zabstate", "last_snapshot", "initial_configuration", "hash",
		"connection_stat_reset", "stat_reset"} {
		codeA, a := adminJSON(t, ports[kindApache], cmd)
		codeZ, z := adminJSON(t, ports[kindZkd], cmd)
		assert.Equal(t, codeA, codeZ, cmd)
		assert.Equal(t, keysOf(a, ""), keysOf(z, ""), cmd)
		assert.Equal(t, a["command"], z["command"], cmd)
		assert.Equal(t, a["error"], z["error"], cmd)
	}
	// The watches and ephemerals of each server's own session, in the same shape.
	for kind, port := range ports {
		_, m := adminJSON(t, port, "watches")
		assert.Equal(t, map[string]any{strconv.FormatInt(sids[kind], 10): []any{"/w"}}, m["session_id_to_watched_paths"], kind)
		_, m = adminJSON(t, port, "dump")
		assert.Equal(t, map[string]any{strconv.FormatInt(sids[kind], 10): []any{"/e"}}, m["session_id_to_ephemeral_paths"], kind)
	}
	// monitor: Apache adds its metrics provider's summaries; every key zkd
	// answers is one of Apache's.
	_, a := adminJSON(t, ports[kindApache], "monitor")
	_, z := adminJSON(t, ports[kindZkd], "monitor")
	for k := range z {
		assert.Contains(t, a, k, "monitor key %s", k)
	}
	// Unknown commands: the same body; Apache 3.8.0 answers it with 200,
	// zkd with 404 (docs/operations.md).
	codeA, a := adminJSON(t, ports[kindApache], "nosuch")
	codeZ, z := adminJSON(t, ports[kindZkd], "nosuch")
	assert.Equal(t, a, z)
	assert.Equal(t, http.StatusOK, codeA)
	assert.Equal(t, http.StatusNotFound, codeZ)
}
