package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/proto/fourlw"
	"mqstack/zkd/internal/config"
)

func withAdmin(c *config.Config) {
	c.AdminEnableServer = true
	c.AdminServerAddress = "127.0.0.1"
	c.AdminServerPort = 0
}

// adminGet fetches <commandURL>/<name> and decodes the JSON object
// (numbers as json.Number, so session ids stay exact).
func adminGet(t *testing.T, s *Server, name string) (int, map[string]any) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + s.AdminAddr().String() + s.cfg.AdminCommandURL + "/" + name)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m))
	return resp.StatusCode, m
}

func num(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	require.True(t, ok, "%v (%T) is not a JSON number", v, v)
	i, err := n.Int64()
	require.NoError(t, err)
	return i
}

func TestAdminStandaloneCommands(t *testing.T) {
	cfg := testConfig(t)
	withAdmin(cfg)
	cfg.InitialConfig = "tickTime=100\ndataDir=" + cfg.DataDir + "\n"
	s := startServer(t, cfg)
	c := connect(t, s)
	_, err := c.Create("/a", []byte("x"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, err = c.Create("/eph", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, _, _, err = c.GetW("/a")
	require.NoError(t, err)
	sid := c.SessionID()

	code, m := adminGet(t, s, "ruok")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, map[string]any{"command": "ruok", "error": nil}, m)

	// Aliases answer with the primary name.
	for alias, primary := range map[string]string{"srvr": "server_stats", "stat": "stats", "mntr": "monitor",
		"conf": "configuration", "envi": "environment", "cons": "connections", "wchc": "watches",
		"wchp": "watches_by_path", "wchs": "watch_summary", "isro": "is_read_only", "gtmk": "get_trace_mask",
		"lsnp": "last_snapshot", "icfg": "initial_configuration", "sysp": "system_properties"} {
		code, m := adminGet(t, s, alias)
		assert.Equal(t, http.StatusOK, code, alias)
		assert.Equal(t, primary, m["command"], alias)
		assert.Nil(t, m["error"], alias)
	}

	_, m = adminGet(t, s, "stats")
	ss := m["server_stats"].(map[string]any)
	assert.Equal(t, "standalone", ss["server_state"])
	assert.Equal(t, int64(1), num(t, ss["num_alive_client_connections"]))
	assert.GreaterOrEqual(t, num(t, ss["packets_received"]), int64(4))
	var nodes int
	s.do(func() { nodes = s.tree.NodeCount() })
	assert.Equal(t, int64(nodes), num(t, m["node_count"]))
	conns := m["connections"].([]any)
	require.Len(t, conns, 1)
	assert.NotContains(t, conns[0], "session_id", "stats lists connections briefly")
	assert.Equal(t, []any{}, m["secure_connections"])

	_, m = adminGet(t, s, "cons")
	conns = m["connections"].([]any)
	require.Len(t, conns, 1)
	cn := conns[0].(map[string]any)
	assert.Equal(t, sid, num(t, cn["session_id"]))
	assert.True(t, strings.HasPrefix(cn["remote_socket_address"].(string), "127.0.0.1:"), cn["remote_socket_address"])
	assert.Equal(t, "GETD", cn["last_operation"])
	assert.Greater(t, num(t, cn["established"]), time.Now().Add(-time.Minute).UnixMilli())

	_, m = adminGet(t, s, "wchc")
	assert.Equal(t, map[string]any{strconv.FormatInt(sid, 10): []any{"/a"}}, m["session_id_to_watched_paths"])
	_, m = adminGet(t, s, "wchp")
	paths := m["path_to_session_ids"].(map[string]any)
	require.Len(t, paths["/a"], 1)
	assert.Equal(t, sid, num(t, paths["/a"].([]any)[0]))
	_, m = adminGet(t, s, "wchs")
	assert.Equal(t, int64(1), num(t, m["num_connections"]))
	assert.Equal(t, int64(1), num(t, m["num_total_watches"]))

	_, m = adminGet(t, s, "dump")
	assert.Equal(t, map[string]any{strconv.FormatInt(sid, 10): []any{"/eph"}}, m["session_id_to_ephemeral_paths"])
	expiry := m["expiry_time_to_session_ids"].(map[string]any)
	require.Len(t, expiry, 1)

	_, m = adminGet(t, s, "conf")
	assert.Equal(t, filepath.Join(cfg.DataDir, "version-2"), m["data_dir"])
	assert.Equal(t, int64(s.Addr().(*net.TCPAddr).Port), num(t, m["client_port"]))
	assert.Equal(t, int64(100), num(t, m["tick_time"]))

	// monitor has mntr's keys without "zk_", with the same values where
	// they do not move between two calls.
	_, mon := adminGet(t, s, "monitor")
	kv, err := fourlw.ParseMntr(fourLetter(t, s, "mntr"))
	require.NoError(t, err)
	var mntrKeys []string
	for _, e := range kv {
		k := strings.TrimPrefix(e.Key, "zk_")
		mntrKeys = append(mntrKeys, k)
		switch k {
		case "znode_count", "ephemerals_count", "watch_count", "global_sessions", "version", "server_state":
			assert.Equal(t, e.Value, fmt.Sprint(mon[k]), k)
		}
	}
	var monKeys []string
	for k := range mon {
		if k != "command" && k != "error" {
			monKeys = append(monKeys, k)
		}
	}
	sort.Strings(mntrKeys)
	sort.Strings(monKeys)
	assert.Equal(t, mntrKeys, monKeys)

	_, m = adminGet(t, s, "leader")
	assert.Equal(t, map[string]any{"command": "leader", "error": "server is not initialized"}, m)
	_, m = adminGet(t, s, "voting_view")
	assert.Equal(t, map[string]any{}, m["current_config"])
	_, m = adminGet(t, s, "zabstate")
	assert.Equal(t, false, m["voting"])
	assert.Equal(t, "", m["zabstate"])
	_, m = adminGet(t, s, "last_snapshot")
	assert.Equal(t, "0", m["zxid"], "the snapshot written at start")
	assert.InDelta(t, time.Now().Unix(), num(t, m["timestamp"]), 60)
	_, m = adminGet(t, s, "hash")
	assert.Equal(t, []any{}, m["digests"])
	_, m = adminGet(t, s, "initial_configuration")
	assert.Equal(t, cfg.InitialConfig, m["initial_configuration"])
	_, m = adminGet(t, s, "is_read_only")
	assert.Equal(t, false, m["read_only"])
	_, m = adminGet(t, s, "get_trace_mask")
	assert.Equal(t, int64(306), num(t, m["tracemask"]))
	_, m = adminGet(t, s, "dirs")
	assert.Greater(t, num(t, m["datadir_size"]), int64(0))
	_, m = adminGet(t, s, "envi")
	assert.Equal(t, Version, m["zookeeper.version"])
	_, m = adminGet(t, s, "system_properties")
	assert.Equal(t, "/", m["file.separator"])
	assert.NotEmpty(t, m["go.version"])

	// srst and crst reset the counters the 4lw resets.
	_, m = adminGet(t, s, "srst")
	assert.Equal(t, map[string]any{"command": "stat_reset", "error": nil}, m)
	_, m = adminGet(t, s, "srvr")
	assert.Equal(t, int64(0), num(t, m["server_stats"].(map[string]any)["packets_received"]))
	_, m = adminGet(t, s, "crst")
	assert.Equal(t, map[string]any{"command": "connection_stat_reset", "error": nil}, m)
	_, m = adminGet(t, s, "cons")
	assert.Equal(t, "NA", m["connections"].([]any)[0].(map[string]any)["last_operation"])

	code, m = adminGet(t, s, "nosuch")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, map[string]any{"command": "nosuch", "error": "Unknown command: nosuch"}, m)
}

func TestAdminIndexMethodsAndCommandURL(t *testing.T) {
	cfg := testConfig(t)
	withAdmin(cfg)
	cfg.AdminCommandURL = "/zk/cmds"
	s := startServer(t, cfg)
	base := "http://" + s.AdminAddr().String()
	cl := &http.Client{Timeout: 5 * time.Second}
	for _, u := range []string{"/zk/cmds", "/zk/cmds/"} {
		resp, err := cl.Get(base + u)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		for _, c := range adminCommands {
			assert.Contains(t, string(body), `<a href="/zk/cmds/`+c.names[0]+`">`+c.names[0]+`</a>`)
		}
	}
	resp, err := cl.Get(base + "/commands/ruok")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "the default URL is not served when commandURL moves")
	resp, err = cl.Post(base+"/zk/cmds/ruok", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	code, m := adminGet(t, s, "ruok")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ruok", m["command"])
}

func TestAdminIgnoresFourLetterWhitelist(t *testing.T) {
	cfg := testConfig(t)
	withAdmin(cfg)
	cfg.FourLetterWhitelist = []string{"srvr"}
	s := startServer(t, cfg)
	assert.Contains(t, fourLetter(t, s, "mntr"), "is not executed because it is not in the whitelist")
	code, m := adminGet(t, s, "mntr")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "standalone", m["server_state"])
}

func TestAdminPortInUseFailsStart(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	cfg := testConfig(t)
	withAdmin(cfg)
	cfg.AdminServerPort = port
	s, err := New(cfg, testLogger(t))
	require.NoError(t, err)
	err = s.Start()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "admin.serverPort="+strconv.Itoa(port))
	assert.Contains(t, err.Error(), "admin.enableServer=false")
	// The client port and the data directory were released: a second
	// server on the same directory starts once the admin port is free.
	require.NoError(t, taken.Close())
	s2 := startServer(t, cfg)
	assert.Equal(t, port, s2.AdminAddr().(*net.TCPAddr).Port)
}

func TestAdminDisabled(t *testing.T) {
	s := startServer(t, testConfig(t))
	assert.Nil(t, s.AdminAddr())
}

func TestAdminEnsembleLeaderVotingViewZabState(t *testing.T) {
	te := startEnsemble(t, 3, 1, withAdmin)
	leader := te.waitModes(15 * time.Second)
	want := map[string]any{}
	for _, sv := range te.cfgs[0].Servers {
		if !sv.Observer {
			want[strconv.FormatInt(sv.ID, 10)] = fmt.Sprintf("127.0.0.1:%d:%d:participant", sv.QuorumPort, sv.ElectionPort)
		}
	}
	for i, s := range te.servers {
		_, m := adminGet(t, s, "leader")
		assert.Nil(t, m["error"])
		assert.Equal(t, i == leader, m["is_leader"], "server %d", i+1)
		assert.Equal(t, int64(leader+1), num(t, m["leader_id"]), "server %d", i+1)
		assert.Equal(t, "127.0.0.1", m["leader_ip"])
		_, m = adminGet(t, s, "voting_view")
		assert.Equal(t, want, m["current_config"])
		_, m = adminGet(t, s, "zabstate")
		assert.Equal(t, i < 3, m["voting"], "server %d", i+1)
		assert.Equal(t, "broadcast", m["zabstate"])
		_, m = adminGet(t, s, "stats")
		mode := te.modeOf(i)
		assert.Equal(t, mode, m["server_stats"].(map[string]any)["server_state"])
		_, hasProposals := m["proposal_stats"]
		assert.Equal(t, i == leader, hasProposals)
	}
}

func TestAdminNotServingWhileLooking(t *testing.T) {
	te := startEnsemble(t, 3, 0, withAdmin)
	te.waitModes(15 * time.Second)
	s := te.servers[0]
	require.NoError(t, te.servers[1].Close())
	require.NoError(t, te.servers[2].Close())
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, m := adminGet(t, s, "ruok")
		if code == http.StatusServiceUnavailable {
			assert.Equal(t, map[string]any{"command": "ruok",
				"error": "This ZooKeeper instance is not currently serving requests"}, m)
			break
		}
		require.True(t, time.Now().Before(deadline), "server 1 still serves without a quorum: %v", m)
		time.Sleep(50 * time.Millisecond)
	}
	code, m := adminGet(t, s, "stats")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "stats", m["command"])
	// The commands Apache runs without a serving server still answer.
	code, m = adminGet(t, s, "monitor")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "looking", m["server_state"])
	code, m = adminGet(t, s, "zabstate")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "election", m["zabstate"])
	code, _ = adminGet(t, s, "envi")
	assert.Equal(t, http.StatusOK, code)
}
