package tools

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The perf tests' progress and final lines, in Kafka's formats, with the
// counts and sizes they must carry.
func TestPerfGolden(t *testing.T) {
	c := startCluster(t, 1, nil)
	bs := c.bootstrap()
	old := perfInterval
	perfInterval = 100 * time.Millisecond
	defer func() { perfInterval = old }()
	ok(t, "", "topics", "--bootstrap-server", bs, "--create", "--topic", "perf", "--partitions", "2", "--replication-factor", "1")

	r := ok(t, "", "producer-perf-test", "--topic", "perf", "--num-records", "1000", "--record-size", "100", "--throughput", "2500",
		"--producer-props", "bootstrap.servers="+bs, "acks=1", "--print-metrics")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	progress := regexp.MustCompile(`^(\d+) records sent, \d+\.\d records/sec \(\d+\.\d\d MB/sec\), \d+\.\d ms avg latency, \d+\.\d ms max latency\.$`)
	final := regexp.MustCompile(`^1000 records sent, \d+\.\d{6} records/sec \(\d+\.\d\d MB/sec\), \d+\.\d\d ms avg latency, \d+\.\d\d ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99\.9th\.$`)
	i, sum := 0, 0
	for ; i < len(lines) && progress.MatchString(lines[i]); i++ {
		var n int
		fmt.Sscanf(lines[i], "%d", &n)
		sum += n
	}
	require.GreaterOrEqual(t, i, 2, "a 0.4 s run with 100 ms windows prints progress lines:\n%s", r.stdout)
	require.Less(t, sum, 1000)
	require.Regexp(t, final, lines[i], r.stdout)
	require.Equal(t, "", lines[i+1])
	require.Regexp(t, `^Metric Name +Value$`, lines[i+2])
	require.Regexp(t, `\nproducer-metrics:record-send-total:\{client-id=producer-1\} +: 1000\.000\n`, r.stdout)
	require.Regexp(t, `\nproducer-metrics:outgoing-byte-total:\{client-id=producer-1\} +: 100000\.000\n`, r.stdout)

	r = ok(t, "", "consumer-perf-test", "--broker-list", bs, "--topic", "perf", "--messages", "1000", "--threads", "10", "--num-fetch-threads", "10", "--group", "perf-g")
	lines = strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Len(t, lines, 2, r.stdout)
	require.Equal(t, "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec", lines[0])
	ts := `\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}`
	require.Regexp(t, `^`+ts+`, `+ts+`, 0\.0954, \d+\.\d{4}, 1000, \d+\.\d{4}, \d+, -?\d+, (?:-?\d+\.\d{4}|-?Infinity|NaN), (?:-?\d+\.\d{4}|-?Infinity|NaN)$`, lines[1])
	// The group committed what it read.
	r = ok(t, "", "consumer-groups", "--bootstrap-server", bs, "--describe", "--group", "perf-g")
	total := 0
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) == 9 && f[0] == "perf-g" {
			require.Equal(t, f[3], f[4], l)
			require.Equal(t, "0", f[5], l)
			var n int
			fmt.Sscan(f[4], &n)
			total += n
		}
	}
	require.Equal(t, 1000, total, r.stdout)

	r = ok(t, "", "consumer-perf-test", "--bootstrap-server", bs, "--topic", "perf", "--messages", "2000", "--timeout", "1500",
		"--show-detailed-stats", "--reporting-interval", "200", "--hide-header")
	lines = strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Regexp(t, `^`+ts+`, 0, \d+\.\d{4}, \d+\.\d{4}, \d+, \d+\.\d{4}, \d+, \d+, \d+\.\d{4}, \d+\.\d{4}$`, lines[0])
	require.Equal(t, "WARNING: Exiting before consuming the expected number of messages: timeout (1500 ms) exceeded. You can use the --timeout option to increase the timeout.", lines[len(lines)-1])
	require.Regexp(t, `, 1000, `, lines[len(lines)-2])

	r = run(t, "", "producer-perf-test", "--topic", "perf", "--num-records", "1", "--throughput", "-1", "--record-size", "1")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, `Missing required configuration "bootstrap.servers"`)
}
