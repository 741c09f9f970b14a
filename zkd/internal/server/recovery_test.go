package server

import (
	"fmt"
	"io"
	"net"
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

	"mqstack/proto/jute"
	"mqstack/zkd/internal/config"
)

func TestRecoveryAfterRestart(t *testing.T) {
	cfg := testConfig(t)
	cfg.SnapCount = 20 // snapshots (and log rolls) every 10..19 txns
	cfg.TickTime = 500 * time.Millisecond
	s, err := New(cfg, testLogger(t))
	require.NoError(t, err)
	require.NoError(t, s.Start())
	c := connect(t, s)
	acl := zk.WorldACL(zk.PermAll)
	_, err = c.Create("/r", []byte("root"), 0, acl)
	require.NoError(t, err)
	for i := 0; i < 50; i++ {
		_, err := c.Create(fmt.Sprintf("/r/n%02d", i), []byte(fmt.Sprint(i)), 0, acl)
		require.NoError(t, err)
	}
	for i := 0; i < 50; i += 2 {
		require.NoError(t, c.Delete(fmt.Sprintf("/r/n%02d", i), -1))
	}
	_, err = c.Set("/r", []byte("v2"), -1)
	require.NoError(t, err)
	require.NoError(t, c.AddAuth("digest", []byte("bob:pw")))
	_, err = c.Create("/secret", []byte("s"), 0, zk.AuthACL(zk.PermAll))
	require.NoError(t, err)
	_, err = c.Create("/eph", nil, zk.FlagEphemeral, acl)
	require.NoError(t, err)
	_, before, err := c.Get("/r")
	require.NoError(t, err)
	sid := c.SessionID()
	c.Close() // closeSession is logged: /eph goes
	require.NoError(t, s.Close())

	snaps, _ := filepath.Glob(filepath.Join(cfg.DataDir, "version-2", "snapshot.*"))
	logs, _ := filepath.Glob(filepath.Join(cfg.DataDir, "version-2", "log.*"))
	assert.GreaterOrEqual(t, len(snaps), 3, "periodic snapshots were taken")
	assert.GreaterOrEqual(t, len(logs), 2, "the log was rolled")

	s2 := startServer(t, cfg)
	c2 := connect(t, s2)
	assert.NotEqual(t, sid, c2.SessionID())
	data, after, err := c2.Get("/r")
	require.NoError(t, err)
	assert.Equal(t, "v2", string(data))
	assert.Equal(t, *before, *after, "stat survives restart")
	kids, _, err := c2.Children("/r")
	require.NoError(t, err)
	assert.Len(t, kids, 25)
	assert.Contains(t, kids, "n01")
	ok, _, err := c2.Exists("/eph")
	require.NoError(t, err)
	assert.False(t, ok)
	_, _, err = c2.Get("/secret")
	assert.ErrorIs(t, err, zk.ErrNoAuth, "ACLs survive restart")
	require.NoError(t, c2.AddAuth("digest", []byte("bob:pw")))
	_, _, err = c2.Get("/secret")
	require.NoError(t, err)
}

func TestSessionSurvivesRestart(t *testing.T) {
	cfg := testConfig(t)
	cfg.TickTime = 200 * time.Millisecond
	s, err := New(cfg, testLogger(t))
	require.NoError(t, err)
	require.NoError(t, s.Start())
	r, rsp := newSession(t, s, 4000)
	rh, _ := r.call(1, jute.OpCreate, &jute.CreateRequest{Path: "/e", ACL: jute.OpenACLUnsafe, Flags: jute.FlagEphemeral})
	require.Equal(t, jute.ErrOK, rh.Err)
	require.NoError(t, s.Close())

	s2 := startServer(t, cfg)
	r2 := dialRaw(t, s2)
	rsp2 := r2.handshake(jute.ConnectRequest{TimeOut: 4000, SessionID: rsp.SessionID, Passwd: rsp.Passwd, HasReadOnly: true, LastZxidSeen: rh.Zxid})
	assert.Equal(t, rsp.SessionID, rsp2.SessionID, "the session was restored from the log")
	rh, _ = r2.call(2, jute.OpExists, &jute.PathWatchRequest{Path: "/e"})
	assert.Equal(t, jute.ErrOK, rh.Err)

	// A session that does not come back expires after its timeout and its ephemeral goes.
	_ = r2.nc.Close()
	c := connect(t, s2)
	require.Eventually(t, func() bool {
		ok, _, err := c.Exists("/e")
		return err == nil && !ok
	}, 10*time.Second, 100*time.Millisecond)
}

func TestCorruptLogRefusesToStart(t *testing.T) {
	cfg := testConfig(t)
	s := startServer(t, cfg)
	c := connect(t, s)
	for i := 0; i < 5; i++ {
		_, err := c.Create(fmt.Sprintf("/n%d", i), []byte("data"), 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err)
	}
	c.Close()
	require.NoError(t, s.Close())
	logs, _ := filepath.Glob(filepath.Join(cfg.DataDir, "version-2", "log.*"))
	require.NotEmpty(t, logs)
	// Flip a byte inside the first entry of the newest log (after the 16-byte header).
	last := logs[len(logs)-1]
	f, err := os.OpenFile(last, os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{0xAA, 0xBB}, 30)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	s2, err := New(cfg, testLogger(t))
	require.NoError(t, err)
	err = s2.Start()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "log.")
	require.NoError(t, s2.Close(), "Close after a failed Start is a no-op")
	require.ErrorIs(t, s2.Start(), ErrStarted)
}

func TestMetricsEndpoint(t *testing.T) {
	cfg := testConfig(t)
	cfg.MetricsHTTPPort = 0
	cfg.MetricsHTTPHost = "127.0.0.1"
	s := startServer(t, cfg)
	c := connect(t, s)
	_, err := c.Create("/m", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	resp, err := http.Get("http://" + s.MetricsAddr().String() + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	body := string(b)
	for _, m := range []string{"znode_count 6", "num_alive_connections 1", "global_sessions 1", "watch_count 0",
		"outstanding_requests", "avg_latency", "packets_received", "ephemerals_count 0", "approximate_data_size",
		"updatelatency_count 1", "readlatency_count"} {
		assert.True(t, strings.Contains(body, "\n"+m), "metric %q missing", m)
	}
}

func TestAutopurgeKeepsNewestSnapshots(t *testing.T) {
	cfg := testConfig(t)
	cfg.SnapCount = 4
	cfg.AutopurgeSnapRetainCount = 3
	s := startServer(t, cfg)
	c := connect(t, s)
	for i := 0; i < 40; i++ {
		_, err := c.Create(fmt.Sprintf("/p%d", i), nil, 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err)
	}
	dir := filepath.Join(cfg.DataDir, "version-2")
	require.Eventually(t, func() bool { return !s.snapping.Load() }, 10*time.Second, 10*time.Millisecond)
	snaps, _ := filepath.Glob(filepath.Join(dir, "snapshot.*"))
	require.Greater(t, len(snaps), 3)
	require.True(t, s.do(s.purge))
	left, _ := filepath.Glob(filepath.Join(dir, "snapshot.*"))
	assert.Len(t, left, 3)
	byZxid := func(paths []string) []int64 {
		var out []int64
		for _, p := range paths {
			z, err := strconv.ParseInt(strings.TrimPrefix(filepath.Ext(p), "."), 16, 64)
			require.NoError(t, err)
			out = append(out, z)
		}
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
		return out
	}
	all := byZxid(snaps)
	assert.Equal(t, all[len(all)-3:], byZxid(left), "the newest snapshots are kept")
	// Everything is still recoverable.
	c.Close()
	require.NoError(t, s.Close())
	s2 := startServer(t, cfg)
	c2 := connect(t, s2)
	kids, _, err := c2.Children("/")
	require.NoError(t, err)
	assert.Len(t, kids, 41)
}

func TestStartErrorsNameTheCause(t *testing.T) {
	s := startServer(t, testConfig(t))
	cfg := testConfig(t)
	cfg.ClientPort = portOf(s.Addr().String())
	s2, err := New(cfg, testLogger(t))
	require.NoError(t, err)
	err = s2.Start()
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("clientPort 127.0.0.1:%d", cfg.ClientPort))
	require.NoError(t, s2.Close())

	bad := testConfig(t)
	bad.DataDir = ""
	_, err = New(bad, testLogger(t))
	require.ErrorIs(t, err, ErrConfig)
	assert.Contains(t, err.Error(), "dataDir")
}

func TestQuorumConfigErrorsNameTheCause(t *testing.T) {
	ports := freePorts(t, 4)
	cfg := testConfig(t)
	cfg.Servers = []config.Server{{ID: 1, Host: "127.0.0.1", QuorumPort: ports[0], ElectionPort: ports[1]},
		{ID: 2, Host: "127.0.0.1", QuorumPort: ports[2], ElectionPort: ports[3]}}
	cfg.MyID = 3
	s, err := New(cfg, testLogger(t))
	require.NoError(t, err)
	err = s.Start()
	require.ErrorIs(t, err, ErrConfig)
	assert.Contains(t, err.Error(), "myid 3 has no server.3 line")

	busy, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", ports[0]))
	require.NoError(t, err)
	defer busy.Close()
	cfg.MyID = 1
	s, err = New(cfg, testLogger(t))
	require.NoError(t, err)
	err = s.Start()
	require.ErrorIs(t, err, ErrQuorum)
	assert.Contains(t, err.Error(), fmt.Sprintf("bind quorum port 127.0.0.1:%d (server.1", ports[0]))
}

func TestAutopurgeRunsAtStart(t *testing.T) {
	cfg := testConfig(t)
	cfg.SnapCount = 4
	s := startServer(t, cfg)
	c := connect(t, s)
	for i := 0; i < 40; i++ {
		_, err := c.Create(fmt.Sprintf("/p%d", i), nil, 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err)
	}
	c.Close()
	require.NoError(t, s.Close())
	dir := filepath.Join(cfg.DataDir, "version-2")
	snaps, _ := filepath.Glob(filepath.Join(dir, "snapshot.*"))
	require.Greater(t, len(snaps), 4)

	cfg.AutopurgePurgeInterval = 1 // hours; Apache purges once at start, then hourly
	startServer(t, cfg)
	require.Eventually(t, func() bool {
		left, _ := filepath.Glob(filepath.Join(dir, "snapshot.*"))
		return len(left) == 3
	}, 5*time.Second, 50*time.Millisecond)
}
