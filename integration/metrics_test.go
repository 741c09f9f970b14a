package integration

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestZkdMetrics: zkd's Prometheus endpoint (metricsProvider.httpPort, with
// Apache's PrometheusMetricsProvider metric names) agrees with mntr. Apache
// from the Debian package ships no Prometheus provider, so this is zkd only.
func TestZkdMetrics(t *testing.T) {
	port := freePort(t)
	srv := StartServer(t, kindZkd, ServerOptions{ExtraCfg: []string{
		fmt.Sprintf("metricsProvider.httpPort=%d", port),
		"metricsProvider.httpHost=127.0.0.1",
	}})
	c, _ := connect(t, srv.Addr(), 4*time.Second)
	for i := 0; i < 5; i++ {
		_, err := c.Create(fmt.Sprintf("/m%d", i), []byte("x"), 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err)
	}
	_, err := c.Create("/meph", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, _, _, err = c.GetW("/m0")
	require.NoError(t, err)

	scrape := func() map[string]string {
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
		require.NoError(t, err, "metrics endpoint on metricsProvider.httpPort")
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, resp.Header.Get("Content-Type"), "text/plain")
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		out := map[string]string{}
		sc := bufio.NewScanner(strings.NewReader(string(body)))
		for sc.Scan() {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			f := strings.Fields(line)
			if len(f) == 2 {
				out[f[0]] = f[1]
			}
		}
		return out
	}
	mntr := func() map[string]string {
		out, err := fourLetter(srv.Addr(), "mntr", 5*time.Second)
		require.NoError(t, err)
		m := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if k, v, ok := strings.Cut(line, "\t"); ok {
				m[strings.TrimPrefix(k, "zk_")] = v
			}
		}
		return m
	}
	// The gauges may lag the last request by a moment; they must converge.
	require.Eventually(t, func() bool {
		p, m := scrape(), mntr()
		for _, k := range []string{"znode_count", "ephemerals_count", "watch_count"} {
			if p[k] == "" || p[k] != m[k] {
				t.Logf("%s: metrics %q, mntr %q", k, p[k], m[k])
				return false
			}
		}
		return true
	}, 10*time.Second, 200*time.Millisecond, "Prometheus gauges disagree with mntr")
	p := scrape()
	assert.Equal(t, "11", p["znode_count"], "5 at start as Apache counts them (/, /zookeeper, its quota and config, plus one) + 5 + 1 ephemeral")
	assert.Equal(t, "1", p["ephemerals_count"])
	assert.Equal(t, "1", p["watch_count"])
	for _, k := range []string{"num_alive_connections", "outstanding_requests", "avg_latency", "max_latency", "min_latency", "packets_received", "packets_sent", "approximate_data_size"} {
		assert.Contains(t, p, k, "metric %s", k)
	}
}
