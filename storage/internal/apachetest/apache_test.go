package apachetest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/proto/jute"
	"mqstack/storage/snapshot"
	"mqstack/storage/txnlog"
	"mqstack/storage/vfs"
)

var jars = []string{"/usr/share/java/zookeeper.jar", "/usr/share/java/slf4j-simple.jar"}

// apache returns the java binary and classpath, or skips (fails with
// REQUIRE_INTEROP=1) when they are missing.
func apache(t *testing.T) (string, string) {
	t.Helper()
	java, err := exec.LookPath("java")
	missing := ""
	if err != nil {
		missing = "java is not in PATH"
	}
	for _, j := range jars {
		if _, err := os.Stat(j); err != nil && missing == "" {
			missing = j + " is missing"
		}
	}
	if missing != "" {
		msg := "Apache ZooKeeper interop test needs the Debian zookeeper package and a JRE (apt-get install zookeeper default-jre-headless): " + missing
		if os.Getenv("REQUIRE_INTEROP") == "1" {
			t.Fatal(msg + " (REQUIRE_INTEROP=1)")
		}
		t.Skip(msg)
	}
	return java, strings.Join(jars, ":")
}

func runJava(t *testing.T, class string, args ...string) string {
	t.Helper()
	java, cp := apache(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, java, append([]string{"-Xmx128m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
		"-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", cp, class}, args...)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %v:\n%s", class, args, out)
	return string(out)
}

func entry(zxid int64, typ jute.Op, txn jute.Record) *jute.TxnEntry {
	return &jute.TxnEntry{Header: jute.TxnHeader{ClientID: 0x55, Cxid: int32(zxid), Zxid: zxid, Time: 1700000000000 + zxid, Type: typ}, Txn: txn}
}

// sessionEntry is an entry of session 0x77.
func sessionEntry(zxid int64, typ jute.Op, txn jute.Record) *jute.TxnEntry {
	e := entry(zxid, typ, txn)
	e.Header.ClientID = 0x77
	return e
}

var world = []jute.ACL{{Perms: 31, ID: jute.ID{Scheme: "world", ID: "anyone"}}}

type goNode struct {
	path string
	node jute.DataNode
}

// writeGoDataDir writes snapshot.0 and log.1 the way zkd does.
func writeGoDataDir(t *testing.T, dir string) (snapPath, logPath string) {
	st := func(z int64) jute.StatPersisted {
		return jute.StatPersisted{Czxid: z, Mzxid: z, Ctime: 1700000000000, Mtime: 1700000000000}
	}
	nodes := []goNode{
		{"", jute.DataNode{Data: []byte{}, ACL: -1}},
		{"/zookeeper", jute.DataNode{Data: []byte{}, ACL: -1}},
		{"/zookeeper/config", jute.DataNode{Data: []byte{}, ACL: 1}},
		{"/zookeeper/quota", jute.DataNode{Data: []byte{}, ACL: -1}},
		{"/from-go-snap", jute.DataNode{Data: []byte("snapshot data"), ACL: 2, Stat: st(0)}},
	}
	snap := &snapshot.Snapshot{
		Sessions: nil,
		ACLs: []snapshot.ACLEntry{
			{Ref: 1, ACL: []jute.ACL{{Perms: 1, ID: jute.ID{Scheme: "world", ID: "anyone"}}}},
			{Ref: 2, ACL: world},
		},
		Nodes: func(yield func(string, *jute.DataNode) error) error {
			for i := range nodes {
				if err := yield(nodes[i].path, &nodes[i].node); err != nil {
					return err
				}
			}
			return nil
		},
	}
	v2 := filepath.Join(dir, "version-2")
	snapPath, err := snapshot.Write(vfs.OS(), v2, 0, snap)
	require.NoError(t, err)

	l, err := txnlog.Open(vfs.OS(), v2, txnlog.Options{PreAllocSize: 64 << 10, Logger: zerolog.Nop()})
	require.NoError(t, err)
	for _, e := range []*jute.TxnEntry{
		entry(1, jute.OpCreate, &jute.CreateTxn{Path: "/from-go", Data: []byte("v1"), ACL: world, ParentCVersion: 1}),
		entry(2, jute.OpCreate, &jute.CreateTxn{Path: "/from-go/kid", Data: []byte("kid data"), ACL: world, ParentCVersion: 1}),
		entry(3, jute.OpSetData, &jute.SetDataTxn{Path: "/from-go", Data: []byte("v2 from zkd"), Version: 1}),
		entry(4, jute.OpCreate, &jute.CreateTxn{Path: "/from-go/gone", Data: nil, ACL: world, ParentCVersion: 2}),
		entry(5, jute.OpDelete, &jute.DeleteTxn{Path: "/from-go/gone"}),
		sessionEntry(6, jute.OpCreateSession, &jute.CreateSessionTxn{TimeOut: 30000}),
		sessionEntry(7, jute.OpCreate, &jute.CreateTxn{Path: "/from-go/eph", Data: []byte("e"), ACL: world, Ephemeral: true, ParentCVersion: 4}),
		entry(8, jute.OpMulti, &jute.MultiTxn{Txns: []jute.SubTxn{
			{Type: jute.OpCreate, Data: jute.Marshal(&jute.CreateTxn{Path: "/from-go/m1", Data: []byte("multi"), ACL: world, ParentCVersion: 5})},
			{Type: jute.OpSetData, Data: jute.Marshal(&jute.SetDataTxn{Path: "/from-go/kid", Data: []byte("kid via multi"), Version: 1})},
		}}),
		sessionEntry(9, jute.OpCloseSession, &jute.CloseSessionTxn{Paths2Delete: []string{"/from-go/eph"}}),
	} {
		require.NoError(t, l.Append(e))
	}
	require.NoError(t, l.Close())
	return snapPath, filepath.Join(v2, "log.1")
}

// Apache's SnapshotFormatter and TxnLogToolkit read files written by our packages.
func TestApacheFormattersReadOurFiles(t *testing.T) {
	apache(t)
	dir := t.TempDir()
	snapPath, logPath := writeGoDataDir(t, dir)

	out := runJava(t, "org.apache.zookeeper.server.SnapshotFormatter", snapPath)
	t.Logf("SnapshotFormatter:\n%s", out)
	assert.Contains(t, out, "/from-go-snap")
	assert.Contains(t, out, "/zookeeper/quota")
	assert.Contains(t, out, "dataLength = 13")
	assert.NotContains(t, out, "Exception")

	out = runJava(t, "org.apache.zookeeper.server.persistence.TxnLogToolkit", "--dump", logPath)
	t.Logf("TxnLogToolkit:\n%s", out)
	assert.Contains(t, out, "txnlog format version 2")
	assert.Contains(t, out, "/from-go/kid")
	assert.Contains(t, out, "0x5 ")
	assert.Contains(t, out, "createSession 30000")
	assert.Contains(t, out, "closeSession")
	assert.Contains(t, out, "multi")
	assert.Contains(t, out, "EOF reached after 9 txns")
	assert.NotContains(t, strings.ToLower(out), "crc")
}

// syncBuffer is a bytes.Buffer safe for the process's output goroutine
// and the test reading it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is an Apache ZooKeeper standalone server on a loopback port.
type server struct {
	cmd  *exec.Cmd
	addr string
	out  *syncBuffer
	done chan error
}

// usedPorts lists local TCP ports from /proc/net/tcp{,6} (the storage
// module may not import "net", see storage/arch_test.go).
func usedPorts() map[int]bool {
	used := map[int]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 2 {
				continue
			}
			if i := strings.LastIndexByte(fields[1], ':'); i >= 0 {
				if p, err := strconv.ParseUint(fields[1][i+1:], 16, 16); err == nil {
					used[int(p)] = true
				}
			}
		}
	}
	return used
}

// startApache runs ZooKeeperServerMain on dataDir; it retries on another
// port when the chosen one is taken.
func startApache(t *testing.T, dataDir string) *server {
	java, cp := apache(t)
	for attempt := 0; attempt < 5; attempt++ {
		port := 20000 + rand.IntN(30000)
		if usedPorts()[port] {
			continue
		}
		cfg := filepath.Join(t.TempDir(), "zoo.cfg")
		require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(
			"tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\nsnapCount=2\n",
			dataDir, port)), 0o644))
		s := &server{out: &syncBuffer{}, addr: fmt.Sprintf("127.0.0.1:%d", port), done: make(chan error, 1)}
		s.cmd = exec.Command(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
			"-Dzookeeper.snapCount=2", "-Dzookeeper.admin.enableServer=false", "-Dzookeeper.4lw.commands.whitelist=*",
			"-Dorg.slf4j.simpleLogger.defaultLogLevel=info", "-cp", cp,
			"org.apache.zookeeper.server.ZooKeeperServerMain", cfg)
		s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
		require.NoError(t, s.cmd.Start())
		go func() { s.done <- s.cmd.Wait() }()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case err := <-s.done:
				if strings.Contains(s.out.String(), "Address already in use") {
					goto retry
				}
				t.Fatalf("Apache ZooKeeper exited early (%v):\n%s", err, s.out.String())
			default:
			}
			if usedPorts()[port] && strings.Contains(s.out.String(), "PrepRequestProcessor") {
				t.Cleanup(func() { s.stop(t) })
				return s
			}
			time.Sleep(100 * time.Millisecond)
		}
		s.stop(t)
		t.Fatalf("Apache ZooKeeper did not start in 30s:\n%s", s.out.String())
	retry:
	}
	t.Fatal("no free port found for Apache ZooKeeper")
	return nil
}

// stop sends SIGTERM, waits up to 15s, then kills.
func (s *server) stop(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	t.Logf("Apache ZooKeeper output:\n%s", lastLines(s.out.String(), 40))
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

type testLogger struct{ t *testing.T }

func (l testLogger) Printf(format string, args ...any) { l.t.Logf(format, args...) }

func connect(t *testing.T, addr string) *zk.Conn {
	conn, events, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(testLogger{t}))
	require.NoError(t, err)
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return conn
			}
		case <-deadline:
			conn.Close()
			t.Fatalf("no session with %s in 20s", addr)
		}
	}
}

// Apache ZooKeeper starts on a data directory written by our packages and
// serves the znodes from our snapshot and our log.
func TestApacheServerLoadsOurDataDir(t *testing.T) {
	apache(t)
	dir := t.TempDir()
	writeGoDataDir(t, dir)
	s := startApache(t, dir)
	conn := connect(t, s.addr)
	defer conn.Close()

	data, _, err := conn.Get("/from-go-snap")
	require.NoError(t, err, "node from our snapshot")
	assert.Equal(t, "snapshot data", string(data))
	data, stat, err := conn.Get("/from-go")
	require.NoError(t, err, "node from our log")
	assert.Equal(t, "v2 from zkd", string(data))
	assert.Equal(t, int32(1), stat.Version)
	assert.Equal(t, int64(3), stat.Mzxid)
	kids, _, err := conn.Children("/from-go")
	require.NoError(t, err)
	sort.Strings(kids)
	assert.Equal(t, []string{"kid", "m1"}, kids)
	data, _, err = conn.Get("/from-go/kid")
	require.NoError(t, err)
	assert.Equal(t, "kid via multi", string(data))
	data, _, err = conn.Get("/from-go/m1")
	require.NoError(t, err)
	assert.Equal(t, "multi", string(data))
	for _, gone := range []string{"/from-go/gone", "/from-go/eph"} {
		ok, _, err := conn.Exists(gone)
		require.NoError(t, err)
		assert.False(t, ok, gone)
	}
}

// tree applies transactions to a path -> data map.
type tree map[string]string

func (tr tree) apply(t *testing.T, typ jute.Op, txn jute.Record) {
	switch r := txn.(type) {
	case *jute.CreateTxn:
		tr[r.Path] = string(r.Data)
	case *jute.CreateContainerTxn:
		tr[r.Path] = string(r.Data)
	case *jute.CreateTTLTxn:
		tr[r.Path] = string(r.Data)
	case *jute.DeleteTxn:
		delete(tr, r.Path)
	case *jute.SetDataTxn:
		tr[r.Path] = string(r.Data)
	case *jute.CloseSessionTxn:
		for _, p := range r.Paths2Delete {
			delete(tr, p)
		}
	case *jute.MultiTxn:
		for _, sub := range r.Txns {
			rec, err := jute.NewTxn(sub.Type)
			require.NoError(t, err)
			require.NoError(t, jute.Unmarshal(sub.Data, rec))
			tr.apply(t, sub.Type, rec)
		}
	}
}

type treeVisitor struct {
	tr       tree
	sessions map[int64]int32
	acls     int
}

func (v *treeVisitor) Session(id int64, timeout int32) { v.sessions[id] = timeout }
func (v *treeVisitor) ACL(int64, []jute.ACL)           { v.acls++ }
func (v *treeVisitor) Node(path string, n *jute.DataNode) error {
	v.tr[path] = string(n.Data)
	return nil
}

// A data directory written by Apache ZooKeeper (snapshots forced by
// snapCount=2, several log files) reads back with ReadNewest and Replay.
func TestOurPackagesReadApacheDataDir(t *testing.T) {
	apache(t)
	dir := t.TempDir()
	s := startApache(t, dir)
	conn := connect(t, s.addr)
	want := tree{}
	require.NoError(t, conn.AddAuth("digest", []byte("user:pw")))
	_, err := conn.Create("/apache", []byte("root of test"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	want["/apache"] = "root of test"
	for i := 0; i < 12; i++ {
		p := fmt.Sprintf("/apache/n%02d", i)
		_, err := conn.Create(p, []byte(fmt.Sprintf("data %d", i)), 0, zk.DigestACL(zk.PermAll, "user", "pw"))
		require.NoError(t, err)
		want[p] = fmt.Sprintf("data %d", i)
	}
	_, err = conn.Set("/apache/n00", []byte("changed"), 0)
	require.NoError(t, err)
	want["/apache/n00"] = "changed"
	require.NoError(t, conn.Delete("/apache/n01", 0))
	delete(want, "/apache/n01")
	_, err = conn.Multi(&zk.CreateRequest{Path: "/apache/multi", Data: []byte("m"), Acl: zk.WorldACL(zk.PermAll)},
		&zk.SetDataRequest{Path: "/apache/n02", Data: []byte("via multi"), Version: 0})
	require.NoError(t, err)
	want["/apache/multi"] = "m"
	want["/apache/n02"] = "via multi"
	_, err = conn.Create("/apache/eph", []byte("e"), zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	conn.Close() // closeSession removes /apache/eph
	time.Sleep(500 * time.Millisecond)
	s.stop(t)

	v2 := filepath.Join(dir, "version-2")
	names, err := os.ReadDir(v2)
	require.NoError(t, err)
	var files []string
	for _, n := range names {
		files = append(files, n.Name())
	}
	t.Logf("Apache data dir: %v", files)
	snaps := 0
	logs := 0
	for _, f := range files {
		if strings.HasPrefix(f, "snapshot.") {
			snaps++
		}
		if strings.HasPrefix(f, "log.") {
			logs++
		}
	}
	require.GreaterOrEqual(t, snaps, 2, "snapCount=2 forces snapshots")
	require.GreaterOrEqual(t, logs, 2, "and log rolls")

	lg := zerolog.New(zerolog.NewTestWriter(t))
	v := &treeVisitor{tr: tree{}, sessions: map[int64]int32{}}
	zxid, found, err := snapshot.ReadNewest(vfs.OS(), v2, lg, v)
	require.NoError(t, err)
	require.True(t, found)
	assert.Contains(t, v.tr, "/zookeeper")
	assert.Contains(t, v.tr, "", "root")
	t.Logf("newest snapshot %#x: %d nodes, %d sessions, %d ACLs", zxid, len(v.tr), len(v.sessions), v.acls)

	seen := 0
	last, err := txnlog.Replay(vfs.OS(), v2, zxid, lg, func(e *jute.TxnEntry) error {
		seen++
		v.tr.apply(t, e.Header.Type, e.Txn)
		return nil
	})
	require.NoError(t, err)
	t.Logf("replayed %d txns after the snapshot, last zxid %#x", seen, last)
	got := tree{}
	for p, d := range v.tr {
		if strings.HasPrefix(p, "/apache") {
			got[p] = d
		}
	}
	assert.Equal(t, want, got)

	// Replaying every log from the start agrees with the server on the last zxid.
	all := tree{}
	lastAll, err := txnlog.Replay(vfs.OS(), v2, 0, lg, func(e *jute.TxnEntry) error {
		all.apply(t, e.Header.Type, e.Txn)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, last, lastAll)
	assert.Equal(t, want, all)

	// Every Apache snapshot decodes (ours checks the seal and digest trailer).
	var snapNames []string
	for _, f := range files {
		if strings.HasPrefix(f, "snapshot.") {
			snapNames = append(snapNames, f)
		}
	}
	sort.Strings(snapNames)
	for _, f := range snapNames {
		b, err := os.ReadFile(filepath.Join(v2, f))
		require.NoError(t, err)
		info, err := snapshot.Decode(b, nil)
		require.NoError(t, err, f)
		require.NotNil(t, info.Digest, "%s: Apache 3.8 appends a zxid digest", f)
	}
}
