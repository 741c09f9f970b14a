package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

// toolRun is one deploy/bin script run.
type toolRun struct {
	code           int
	stdout, stderr string
}

// runScript runs deploy/bin/<script> with BROKERD and ZKD pointing at the
// built binaries, bounded by a minute.
func runScript(t *testing.T, stdin, script string, args ...string) toolRun {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "deploy", "bin"))
	require.NoError(t, err)
	cmd := exec.Command(filepath.Join(dir, script), args...)
	cmd.Env = append(os.Environ(), "BROKERD="+brokerdBinary(t), "ZKD="+zkdBinary(t))
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s %v hung; stdout:\n%s\nstderr:\n%s", script, args, out.String(), errb.String())
	}
	return toolRun{code: cmd.ProcessState.ExitCode(), stdout: out.String(), stderr: errb.String()}
}

func scriptOK(t *testing.T, stdin, script string, args ...string) toolRun {
	t.Helper()
	r := runScript(t, stdin, script, args...)
	require.Equal(t, 0, r.code, "%s %v\nstdout:\n%s\nstderr:\n%s", script, args, r.stdout, r.stderr)
	return r
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The seeds' command sequences through deploy/bin on three real brokers:
// topics created with --zookeeper, lines produced with --broker-list,
// consumed with --from-beginning (and the old --zookeeper form), the perf
// tests, consumer groups, --describe before and after a broker stops,
// kafka-dump-log over the segment brokerd wrote, zookeeper-shell.sh, and
// the one-line errors.
func TestToolsSeedSequences(t *testing.T) {
	zks := StartServer(t, kindZkd, ServerOptions{})
	zk := zks.Addr()
	var brokers []*brokerdProc
	for id := 1; id <= 3; id++ {
		brokers = append(brokers, startBrokerd(t, id, zk))
	}
	b1, b2 := brokers[0].Addr, brokers[1].Addr
	all := b1 + "," + b2 + "," + brokers[2].Addr

	// Seed 000/003/004: create with --zookeeper.
	r := scriptOK(t, "", "kafka-topics.sh", "--create", "--partitions", "1", "--replication-factor", "1", "--zookeeper", zk, "--topic", "aa")
	require.Equal(t, "Created topic aa.\n", r.stdout)
	r = scriptOK(t, "", "kafka-topics.sh", "--zookeeper", zk, "--create", "--replication-factor", "3", "--partitions", "1", "--topic", "first")
	require.Equal(t, "Created topic first.\n", r.stdout)
	r = scriptOK(t, "", "kafka-topics.sh", "--create", "--zookeeper", zk, "--replication-factor", "1", "--partitions", "3", "--topic", "test")
	require.Equal(t, "Created topic test.\n", r.stdout)
	r = scriptOK(t, "", "kafka-topics.sh", "--list", "--zookeeper", zk)
	require.Equal(t, "aa\nfirst\ntest\n", r.stdout)

	// Produce with --broker-list, consume with --from-beginning.
	r = scriptOK(t, "hello world\natguigu  atguigu\n", "kafka-console-producer.sh", "--broker-list", b2, "--topic", "first")
	require.Equal(t, ">>>", r.stdout)
	r = scriptOK(t, "", "kafka-console-consumer.sh", "--bootstrap-server", b1, "--topic", "first", "--from-beginning", "--max-messages", "2")
	require.Equal(t, "hello world\natguigu  atguigu\n", r.stdout)
	require.Equal(t, "Processed a total of 2 messages\n", r.stderr)
	r = scriptOK(t, "", "kafka-console-consumer.sh", "--zookeeper", zk, "--from-beginning", "--topic", "first", "--max-messages", "2")
	require.Equal(t, "hello world\natguigu  atguigu\n", r.stdout)

	// Ctrl-C ends a waiting consumer cleanly with its count.
	consumerInterrupted(t, b1)

	// --describe: Kafka's tab-separated lines, leaders on live brokers.
	describeRE := regexp.MustCompile(`^Topic: first\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 1\tReplicationFactor: 3\tConfigs: \n\tTopic: first\tPartition: 0\tLeader: ([123])\tReplicas: ([123]),([123]),([123])\tIsr: ([123,]+)\n$`)
	var leader string
	waitFor(t, "first's ISR to hold all three replicas", func() bool {
		m := describeRE.FindStringSubmatch(scriptOK(t, "", "kafka-topics.sh", "--zookeeper", zk, "--describe", "--topic", "first").stdout)
		if m == nil || len(m[5]) != 5 {
			return false
		}
		leader = m[1]
		return m[1] == m[2]
	})
	r = scriptOK(t, "", "kafka-topics.sh", "--bootstrap-server", b1, "--describe", "--topic", "first")
	require.Regexp(t, describeRE, r.stdout)

	// The perf tests as seed 004 runs them.
	r = scriptOK(t, "", "kafka-producer-perf-test.sh", "--num-records", "3000", "--topic", "test", "--producer-props", "bootstrap.servers="+all,
		"--throughput", "5000", "--record-size", "1024", "--print-metrics")
	require.Regexp(t, `(?m)^3000 records sent, \d+\.\d{6} records/sec \(\d+\.\d\d MB/sec\), \d+\.\d\d ms avg latency, \d+\.\d\d ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99\.9th\.$`, r.stdout)
	require.Regexp(t, `(?m)^producer-metrics:record-send-total:\{client-id=producer-1\} +: 3000\.000$`, r.stdout)
	r = scriptOK(t, "", "kafka-consumer-perf-test.sh", "--topic", "test", "--messages", "3000", "--num-fetch-threads", "10", "--threads", "10",
		"--broker-list", all, "--group", "console-consumer-26390")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Len(t, lines, 2, r.stdout)
	require.Equal(t, "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec", lines[0])
	require.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, 2\.9297, [0-9.]+, 3000, `, lines[1])
	r = scriptOK(t, "", "kafka-consumer-groups.sh", "--bootstrap-server", b1, "--list")
	require.Contains(t, strings.Split(r.stdout, "\n"), "console-consumer-26390")
	r = scriptOK(t, "", "kafka-consumer-groups.sh", "--bootstrap-server", b1, "--describe", "--group", "console-consumer-26390")
	require.Regexp(t, `\nGROUP +TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +CONSUMER-ID +HOST +CLIENT-ID\n`, r.stdout)
	require.Regexp(t, `\nconsole-consumer-26390 +test +0 +(\d+) +\d+ +0 +- +- +-\n`, r.stdout)
	r = scriptOK(t, "", "kafka-console-consumer.sh", "--bootstrap-server", b1, "--topic", "test", "--offset", "latest", "--partition", "0", "--timeout-ms", "1500")
	require.Equal(t, "", r.stdout)
	require.True(t, strings.HasSuffix(r.stderr, "Processed a total of 0 messages\n"), r.stderr)

	// Stop a broker that is not first's leader; then the one that leads
	// test's partition on it has no leader: "Leader: none" (Kafka 2.8).
	victim := 3
	if leader == "3" {
		victim = 2
	}
	describeTest := scriptOK(t, "", "kafka-topics.sh", "--describe", "--zookeeper", zk, "--topic", "test").stdout
	onVictim := regexp.MustCompile(fmt.Sprintf(`\tTopic: test\tPartition: (\d)\tLeader: %d\tReplicas: %d\tIsr: %d\n`, victim, victim, victim)).FindStringSubmatch(describeTest)
	require.NotNil(t, onVictim, "a partition of test led by broker %d:\n%s", victim, describeTest)
	stopBrokerd(t, brokers[victim-1], zk, victim)
	wantNone := fmt.Sprintf("\tTopic: test\tPartition: %s\tLeader: none\tReplicas: %d\tIsr: ", onVictim[1], victim)
	waitFor(t, "the stopped broker's partition to lose its leader", func() bool {
		return strings.Contains(scriptOK(t, "", "kafka-topics.sh", "--describe", "--zookeeper", zk, "--topic", "test").stdout, wantNone)
	})
	r = scriptOK(t, "", "kafka-topics.sh", "--describe", "--zookeeper", zk, "--unavailable-partitions")
	require.Contains(t, r.stdout, wantNone)
	for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		require.Regexp(t, fmt.Sprintf(`^\tTopic: \S+\tPartition: \d+\tLeader: none\tReplicas: %d\tIsr: %d?$`, victim, victim), l)
	}
	waitFor(t, "first's ISR without the stopped broker", func() bool {
		m := describeRE.FindStringSubmatch(scriptOK(t, "", "kafka-topics.sh", "--zookeeper", zk, "--describe", "--topic", "first").stdout)
		return m != nil && !strings.Contains(m[5], fmt.Sprint(victim)) && m[1] == leader
	})
	r = scriptOK(t, "", "kafka-topics.sh", "--zookeeper", zk, "--describe", "--topic", "first", "--under-replicated-partitions")
	require.Regexp(t, `^\tTopic: first\tPartition: 0\tLeader: `+leader+`\tReplicas: [123],[123],[123]\tIsr: [123],[123]\n$`, r.stdout)
	waitFor(t, "the admin API to report the partition without a leader", func() bool {
		return strings.Contains(runScript(t, "", "kafka-topics.sh", "--bootstrap-server", b1, "--describe", "--topic", "test").stdout, "\tLeader: none\t")
	})

	// kafka-dump-log over the segment brokerd wrote on broker 1.
	seg := filepath.Join(brokers[0].logDir(), "first-0", "00000000000000000000.log")
	r = scriptOK(t, "", "kafka-dump-log.sh", "--files", seg, "--print-data-log")
	require.True(t, strings.HasPrefix(r.stdout, "Dumping "+seg+"\nStarting offset: 0\nbaseOffset: 0 lastOffset: 1 count: 2 "), r.stdout)
	require.Regexp(t, `\n\| offset: 0 CreateTime: \d+ keysize: -1 valuesize: 11 sequence: 0 headerKeys: \[\] payload: hello world\n\| offset: 1 CreateTime: \d+ keysize: -1 valuesize: 16 sequence: 1 headerKeys: \[\] payload: atguigu  atguigu\n$`, r.stdout)

	// zookeeper-shell.sh, as Kafka ships it.
	r = scriptOK(t, "", "zookeeper-shell.sh", zk, "ls", "/brokers/ids")
	require.Contains(t, r.stdout, map[int]string{2: "[1, 3]", 3: "[1, 2]"}[victim])

	// Errors: one line, exit status 1; --help lists the options.
	r = runScript(t, "", "kafka-topics.sh", "--zookeeper", zk, "--lsit")
	require.Equal(t, 1, r.code)
	require.Equal(t, "topics: lsit is not a recognized option (see --help)\n", r.stderr)
	r = runScript(t, "", "kafka-console-consumer.sh", "--bootstrap-server", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--topic", "x")
	require.Equal(t, 1, r.code)
	require.Regexp(t, `^Error: cannot connect to any broker of 127\.0\.0\.1:\d+ \(.*connection refused\); check --bootstrap-server and that the brokers are running\n$`, r.stderr)
	r = runScript(t, "", "kafka-topics.sh", "--zookeeper", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--list")
	require.Equal(t, 1, r.code)
	require.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
	require.Contains(t, r.stderr, "check --zookeeper")
	for _, s := range []string{"kafka-topics.sh", "kafka-console-producer.sh", "kafka-console-consumer.sh", "kafka-consumer-groups.sh",
		"kafka-producer-perf-test.sh", "kafka-consumer-perf-test.sh", "kafka-configs.sh", "kafka-leader-election.sh",
		"kafka-reassign-partitions.sh", "kafka-dump-log.sh", "kafka-delete-records.sh", "kafka-broker-api-versions.sh"} {
		r = scriptOK(t, "", s, "--help")
		require.Contains(t, r.stdout, "\nOption                                   Description\n", s)
		require.Contains(t, r.stdout, "\n--help ", s)
		r = runScript(t, "", s, "--no-such-flag")
		require.Equal(t, 1, r.code, s)
		require.Equal(t, 1, strings.Count(r.stderr, "\n"), "%s: %s", s, r.stderr)
	}
}

// consumerInterrupted runs kafka-console-consumer.sh without a limit and
// sends it SIGINT once it printed first's two records.
func consumerInterrupted(t *testing.T, bootstrap string) {
	dir, err := filepath.Abs(filepath.Join("..", "deploy", "bin"))
	require.NoError(t, err)
	cmd := exec.Command(filepath.Join(dir, "kafka-console-consumer.sh"), "--bootstrap-server", bootstrap, "--topic", "first", "--from-beginning")
	cmd.Env = append(os.Environ(), "BROKERD="+brokerdBinary(t))
	var out, errb lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitFor(t, "the consumer to print two records", func() bool { return out.String() == "hello world\natguigu  atguigu\n" })
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	select {
	case err := <-done:
		require.NoError(t, err, errb.String())
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the consumer did not exit after SIGINT; stderr:\n%s", errb.String())
	}
	require.Equal(t, "Processed a total of 2 messages\n", errb.String())
}

// stopBrokerd stops a broker started by startBrokerd (SIGTERM) and waits
// until its registration is gone from ZooKeeper.
func stopBrokerd(t *testing.T, p *brokerdProc, zkAddr string, id int) {
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	conn, _, err := zk.Connect([]string{zkAddr}, 5*time.Second, zk.WithLogger(quietLogger{}))
	require.NoError(t, err)
	defer conn.Close()
	waitFor(t, "the broker's /brokers/ids entry to go", func() bool {
		ok, _, err := conn.Exists(fmt.Sprintf("/brokers/ids/%d", id))
		return err == nil && !ok
	})
}

// lockedBuffer is a goroutine-safe buffer for a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The console tools and librdkafka (kcat) read each other's records: keys,
// values, an LZ4 batch from the console producer (values long enough that
// the client does compress them), kcat's batch in kafka-dump-log.
func TestToolsKcatInterop(t *testing.T) {
	needKcat(t)
	zks := StartServer(t, kindZkd, ServerOptions{})
	b := startBrokerd(t, 1, zks.Addr())
	long := strings.Repeat("x", 2000)
	scriptOK(t, "", "kafka-topics.sh", "--bootstrap-server", b.Addr, "--create", "--topic", "kc", "--partitions", "1", "--replication-factor", "1")
	scriptOK(t, "k1:v1"+long+"\nk2:v2"+long+"\n", "kafka-console-producer.sh", "--bootstrap-server", b.Addr, "--topic", "kc",
		"--property", "parse.key=true", "--property", "key.separator=:", "--compression-codec", "lz4")
	require.Equal(t, "k1=v1"+long+"@0\nk2=v2"+long+"@1\n", kcat(t, "", "-b", b.Addr, "-t", "kc", "-C", "-o", "beginning", "-e", "-q", "-f", "%k=%s@%o\n"))
	kcat(t, "k3;v3"+long+"\n", "-b", b.Addr, "-t", "kc", "-P", "-K;")
	r := scriptOK(t, "", "kafka-console-consumer.sh", "--bootstrap-server", b.Addr, "--topic", "kc", "--from-beginning", "--max-messages", "3",
		"--property", "print.key=true", "--property", "print.offset=true")
	require.Equal(t, "Offset:0\tk1\tv1"+long+"\nOffset:1\tk2\tv2"+long+"\nOffset:2\tk3\tv3"+long+"\n", r.stdout)
	seg := filepath.Join(b.logDir(), "kc-0", "00000000000000000000.log")
	r = scriptOK(t, "", "kafka-dump-log.sh", "--files", seg, "--deep-iteration")
	require.Regexp(t, `(?m)^baseOffset: 0 lastOffset: 1 count: 2 .* compresscodec: LZ4 crc: \d+ isvalid: true$`, r.stdout)
	require.Regexp(t, `(?m)^baseOffset: 2 lastOffset: 2 count: 1 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 .* magic: 2 compresscodec: NONE crc: \d+ isvalid: true$`, r.stdout)
	require.Regexp(t, `(?m)^\| offset: 2 CreateTime: \d+ keysize: 2 valuesize: 2002 sequence: -?\d+ headerKeys: \[\]$`, r.stdout)
}
