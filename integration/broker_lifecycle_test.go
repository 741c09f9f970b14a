package integration

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

// brokerdBinary locates bin/brokerd: $BROKERD_BIN, else ../bin/brokerd.
func brokerdBinary(t testing.TB) string {
	t.Helper()
	p := os.Getenv("BROKERD_BIN")
	if p == "" {
		abs, err := filepath.Abs(filepath.Join("..", "bin", "brokerd"))
		require.NoError(t, err)
		p = abs
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		t.Fatalf("brokerd binary not found at %s: run `make build` in the repository root (or set BROKERD_BIN)", p)
	}
	return p
}

// apiVersionsV0 sends a hand-built ApiVersions v0 request and returns the
// error code and the served (key -> max version) map.
func apiVersionsV0(t *testing.T, addr string) (int16, map[int16]int16) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	req := []byte{0, 18, 0, 0, 0, 0, 0, 42, 0xff, 0xff} // key 18, v0, corr 42, null client id
	_, err = c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(req))), req...))
	require.NoError(t, err)
	var size [4]byte
	_, err = io.ReadFull(c, size[:])
	require.NoError(t, err)
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	_, err = io.ReadFull(c, body)
	require.NoError(t, err)
	require.Equal(t, uint32(42), binary.BigEndian.Uint32(body))
	code := int16(binary.BigEndian.Uint16(body[4:]))
	n := int(binary.BigEndian.Uint32(body[6:]))
	keys := map[int16]int16{}
	for i := 0; i < n; i++ {
		e := body[10+6*i:]
		keys[int16(binary.BigEndian.Uint16(e))] = int16(binary.BigEndian.Uint16(e[4:]))
	}
	return code, keys
}

// The real binaries through the Apache-named scripts: kafka-server-start.sh
// -daemon on zkd and on Apache ZooKeeper 3.8 with a chroot, Kafka's
// registration znode, a hand-built ApiVersions exchange, then
// kafka-server-stop.sh: SIGTERM drains, the clean shutdown marker is
// written and the ephemeral registration is gone.
func TestBrokerScriptsLifecycle(t *testing.T) {
	for _, kind := range []string{kindZkd, kindApache} {
		t.Run(kind, func(t *testing.T) {
			bin := brokerdBinary(t)
			zks := StartServer(t, kind, ServerOptions{})
			dir := t.TempDir()
			port := freePort(t)
			logs := filepath.Join(dir, "kafka-logs")
			props := filepath.Join(dir, "server.properties")
			require.NoError(t, os.WriteFile(props, []byte(fmt.Sprintf(
				"broker.id=5\nlisteners=PLAINTEXT://127.0.0.1:%d\nlog.dirs=%s\nzookeeper.connect=%s/kafka/test\nzookeeper.session.timeout.ms=6000\nmetrics.port=-1\n",
				port, logs, zks.Addr())), 0o644))
			env := append(os.Environ(), "LOG_DIR="+filepath.Join(dir, "out"), "BROKERD="+bin)
			start := exec.Command("../deploy/bin/kafka-server-start.sh", "-daemon", props)
			start.Env = env
			out, err := start.CombinedOutput()
			require.NoError(t, err, string(out))
			outFile := filepath.Join(dir, "out", "kafkaServer.out")
			stopped := false
			t.Cleanup(func() {
				if !stopped {
					stop := exec.Command("../deploy/bin/kafka-server-stop.sh")
					stop.Env = env
					_ = stop.Run()
				}
				if t.Failed() {
					b, _ := os.ReadFile(outFile)
					t.Logf("kafkaServer.out:\n%s", b)
				}
			})
			deadline := time.Now().Add(30 * time.Second)
			for {
				b, _ := os.ReadFile(outFile)
				if strings.Contains(string(b), "BROKERD READY listener=127.0.0.1:") {
					break
				}
				require.True(t, time.Now().Before(deadline), "no ready line in %s:\n%s", outFile, b)
				time.Sleep(50 * time.Millisecond)
			}

			zc, _, err := zk.Connect([]string{zks.Addr()}, 4*time.Second, zk.WithLogger(quietLogger{}))
			require.NoError(t, err)
			defer zc.Close()
			data, _, err := zc.Get("/kafka/test/brokers/ids/5")
			require.NoError(t, err)
			var reg struct {
				Version   int      `json:"version"`
				Endpoints []string `json:"endpoints"`
				Port      int      `json:"port"`
				JmxPort   int      `json:"jmx_port"`
			}
			require.NoError(t, json.Unmarshal(data, &reg))
			require.Equal(t, 5, reg.Version)
			require.Equal(t, []string{fmt.Sprintf("PLAINTEXT://127.0.0.1:%d", port)}, reg.Endpoints)
			data, _, err = zc.Get("/kafka/test/controller")
			require.NoError(t, err)
			require.Contains(t, string(data), `"brokerid":5`)
			_, _, err = zc.Get("/kafka/test/cluster/id")
			require.NoError(t, err)

			code, keys := apiVersionsV0(t, fmt.Sprintf("127.0.0.1:%d", port))
			require.Equal(t, int16(0), code)
			require.Equal(t, int16(9), keys[0], "Produce up to v9")
			require.Equal(t, int16(12), keys[1], "Fetch up to v12")
			require.Equal(t, int16(3), keys[18], "ApiVersions up to v3")

			stop := exec.Command("../deploy/bin/kafka-server-stop.sh")
			stop.Env = env
			out, err = stop.CombinedOutput()
			require.NoError(t, err, string(out))
			stopped = true
			require.FileExists(t, filepath.Join(logs, ".kafka_cleanshutdown"))
			require.FileExists(t, filepath.Join(logs, "meta.properties"))
			ok, _, err := zc.Exists("/kafka/test/brokers/ids/5")
			require.NoError(t, err)
			require.False(t, ok, "the ephemeral registration outlived the broker")

			again := exec.Command("../deploy/bin/kafka-server-stop.sh")
			again.Env = env
			out, err = again.CombinedOutput()
			require.Error(t, err)
			require.Contains(t, string(out), "No kafka server to stop")
		})
	}
}
