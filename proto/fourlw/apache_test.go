package fourlw

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mqstack/proto/jute"
)

var update = flag.Bool("update", false, "rewrite testdata/apache-3.8 from a live Apache ZooKeeper")

// apacheClasspath is where Debian's zookeeper package puts the server.
const apacheClasspath = "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar"

// startApache runs Apache ZooKeeper (Debian package) on a free loopback port
// with every four-letter word allowed, and returns its address. It skips
// the test when Java or the package is missing, and fails instead when
// REQUIRE_INTEROP=1.
func startApache(t *testing.T) string {
	t.Helper()
	missing := func(what string) {
		msg := "Apache ZooKeeper interop: " + what + " (apt-get install zookeeper default-jre-headless)"
		if os.Getenv("REQUIRE_INTEROP") == "1" {
			t.Fatal(msg + "; REQUIRE_INTEROP=1 makes this a failure")
		}
		t.Skip(msg)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		missing("java is not installed")
	}
	if _, err := os.Stat("/usr/share/java/zookeeper.jar"); err != nil {
		missing("/usr/share/java/zookeeper.jar is missing")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())

	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(
		"tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\nadmin.enableServer=false\n",
		filepath.Join(dir, "data"), port)), 0o644))
	logPath := filepath.Join(dir, "zookeeper.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(java, "-Dzookeeper.log.dir="+dir, "-cp", apacheClasspath,
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
		// ruok answers imok before the server serves; srvr does not.
		if reply, err := word(addr, "srvr"); err == nil && strings.HasPrefix(reply, "Zookeeper version:") {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("Apache ZooKeeper did not answer srvr on %s within 60s", addr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// word sends a four-letter word and reads the reply until the server closes.
func word(addr, w string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, w); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// session is a raw client session, enough to own an ephemeral node and a watch.
type session struct {
	t    *testing.T
	conn net.Conn
	xid  int32
}

func (s *session) send(recs ...jute.Record) []byte {
	s.t.Helper()
	_, err := s.conn.Write(jute.AppendFrame(nil, recs...))
	require.NoError(s.t, err)
	var n [4]byte
	_, err = io.ReadFull(s.conn, n[:])
	require.NoError(s.t, err)
	body := make([]byte, binary.BigEndian.Uint32(n[:]))
	_, err = io.ReadFull(s.conn, body)
	require.NoError(s.t, err)
	return body
}

func (s *session) call(op jute.Op, req jute.Record) {
	s.t.Helper()
	s.xid++
	body := s.send(&jute.RequestHeader{Xid: s.xid, Type: op}, req)
	var h jute.ReplyHeader
	d := jute.NewDecoder(body)
	h.Decode(d)
	require.NoError(s.t, d.Err())
	require.Equal(s.t, jute.ErrOK, h.Err, "%v", op)
}

func openSession(t *testing.T, addr string) *session {
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	s := &session{t: t, conn: c}
	var resp jute.ConnectResponse
	require.NoError(t, jute.Unmarshal(s.send(&jute.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)}), &resp))
	require.NotZero(t, resp.SessionID)
	return s
}

// Apache's replies parse with our parsers and re-render byte for byte with
// our writers. With -update they are also saved as testdata.
func TestApacheInterop(t *testing.T) {
	addr := startApache(t)
	s := openSession(t, addr)
	s.call(jute.OpCreate, &jute.CreateRequest{Path: "/fourlw-eph", Data: []byte("x"),
		ACL: []jute.ACL{{Perms: jute.PermAll, ID: jute.ID{Scheme: "world", ID: "anyone"}}}, Flags: jute.FlagEphemeral})
	s.call(jute.OpExists, &jute.PathWatchRequest{Path: "/fourlw-eph", Watch: true})

	replies := map[string]string{}
	// crst and srst last: they reset what the others print.
	for _, w := range []string{"ruok", "srvr", "stat", "cons", "conf", "envi", "mntr", "wchs", "wchc", "wchp", "dump", "dirs", "isro", "crst", "srst"} {
		r, err := word(addr, w)
		require.NoError(t, err, w)
		replies[w] = r
	}
	checkApacheReplies(t, func(w string) string { return replies[w] })

	if *update {
		dir := filepath.Join("testdata", "apache-3.8")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for w, r := range replies {
			require.NoError(t, os.WriteFile(filepath.Join(dir, w+".txt"), []byte(r), 0o644))
		}
	}
	require.False(t, strings.Contains(replies["conf"], "membership"), "standalone conf has no membership block")
}
