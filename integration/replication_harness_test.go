package integration

// Harness for the replication tests: three zkd (an ensemble) and three
// bin/brokerd processes with fixed ports and log dirs that survive
// restarts, so a broker can be killed (-9), stopped (SIGTERM), paused
// (SIGSTOP) and restarted as the same broker.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// replBroker is one bin/brokerd process that can be restarted.
type replBroker struct {
	t     *testing.T
	ID    int32
	Addr  string
	props string

	mu   sync.Mutex
	logs *bytes.Buffer
	cmd  *exec.Cmd
	done chan struct{}
}

// replicationProps are the settings the tests shorten so failures are
// seen within the suite's budget.
var replicationProps = []string{
	"zookeeper.session.timeout.ms=3000",
	"replica.lag.time.max.ms=2000",
	"replica.fetch.wait.max.ms=200",
	"replica.fetch.backoff.ms=100",
	"replica.high.watermark.checkpoint.interval.ms=500",
	"default.replication.factor=3",
	"min.insync.replicas=2",
	"offsets.topic.replication.factor=3",
	"offsets.topic.num.partitions=3",
	"group.initial.rebalance.delay.ms=0",
	"metrics.port=-1",
}

func newReplBroker(t *testing.T, id int32, zkConnect string, extra ...string) *replBroker {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	b := &replBroker{t: t, ID: id, Addr: fmt.Sprintf("127.0.0.1:%d", port), props: filepath.Join(dir, "server.properties"), logs: &bytes.Buffer{}}
	lines := append([]string{fmt.Sprintf("broker.id=%d", id), fmt.Sprintf("listeners=PLAINTEXT://%s", b.Addr),
		"log.dirs=" + filepath.Join(dir, "logs"), "zookeeper.connect=" + zkConnect}, replicationProps...)
	lines = append(lines, extra...)
	require.NoError(t, os.WriteFile(b.props, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	t.Cleanup(func() {
		b.Signal(syscall.SIGCONT)
		b.Stop()
		if t.Failed() {
			b.mu.Lock()
			t.Logf("brokerd %d log:\n%s", id, b.logs.String())
			b.mu.Unlock()
		}
	})
	return b
}

// LogDir is the broker's log.dirs directory.
func (b *replBroker) LogDir() string { return filepath.Join(filepath.Dir(b.props), "logs") }

// Start runs the process and waits for its ready line.
func (b *replBroker) Start() {
	b.t.Helper()
	cmd := exec.Command(brokerdBinary(b.t), "start", b.props)
	b.mu.Lock()
	fmt.Fprintf(b.logs, "---- start %s ----\n", time.Now().Format(time.RFC3339Nano))
	b.mu.Unlock()
	cmd.Stderr = lockedWriter{&b.mu, b.logs}
	out, err := cmd.StdoutPipe()
	require.NoError(b.t, err)
	require.NoError(b.t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	ready := make(chan struct{}, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "BROKERD READY") {
				ready <- struct{}{}
			}
		}
	}()
	b.mu.Lock()
	b.cmd, b.done = cmd, done
	b.mu.Unlock()
	select {
	case <-ready:
	case <-done:
		b.t.Fatalf("brokerd %d exited before it was ready:\n%s", b.ID, b.logText())
	case <-time.After(60 * time.Second):
		b.t.Fatalf("brokerd %d not ready in 60s:\n%s", b.ID, b.logText())
	}
}

func (b *replBroker) logText() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.logs.String()
}

// LogsContain reports whether the broker logged needle.
func (b *replBroker) LogsContain(needle string) bool { return strings.Contains(b.logText(), needle) }

// Signal sends sig to the running process.
func (b *replBroker) Signal(sig os.Signal) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd != nil && b.cmd.Process != nil {
		_ = b.cmd.Process.Signal(sig)
	}
}

func (b *replBroker) wait(timeout time.Duration) bool {
	b.mu.Lock()
	done := b.done
	b.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		b.mu.Lock()
		b.cmd, b.done = nil, nil
		b.mu.Unlock()
		return true
	case <-time.After(timeout):
		return false
	}
}

// Kill is kill -9.
func (b *replBroker) Kill() {
	b.Signal(syscall.SIGKILL)
	b.wait(30 * time.Second)
}

// Stop is SIGTERM (controlled shutdown), then SIGKILL after 30s.
func (b *replBroker) Stop() {
	b.Signal(syscall.SIGTERM)
	if !b.wait(30 * time.Second) {
		b.Kill()
	}
}

// replCluster is three zkd and three brokerd.
type replCluster struct {
	t       *testing.T
	Connect string
	Brokers []*replBroker
	ZK      *Ensemble
}

func startReplCluster(t *testing.T, extra ...string) *replCluster {
	t.Helper()
	return startReplClusterVia(t, nil, extra...)
}

// startReplClusterVia is startReplCluster where broker id reaches the
// ensemble through via(id, addrs) (a proxy per server), when via is set.
func startReplClusterVia(t *testing.T, via func(id int32, addrs []string) []string, extra ...string) *replCluster {
	t.Helper()
	e := StartEnsemble(t, 3, 0, ServerOptions{})
	e.WaitSettled(30 * time.Second)
	c := &replCluster{t: t, Connect: strings.Join(e.Addrs(), ",") + "/kafka", ZK: e}
	for id := int32(1); id <= 3; id++ {
		connect := c.Connect
		if via != nil {
			connect = strings.Join(via(id, e.Addrs()), ",") + "/kafka"
		}
		b := newReplBroker(t, id, connect, extra...)
		c.Brokers = append(c.Brokers, b)
	}
	var wg sync.WaitGroup
	for _, b := range c.Brokers {
		wg.Add(1)
		go func() { defer wg.Done(); b.Start() }()
	}
	wg.Wait()
	return c
}

func (c *replCluster) Addrs() []string {
	var out []string
	for _, b := range c.Brokers {
		out = append(out, b.Addr)
	}
	return out
}

func (c *replCluster) Broker(id int32) *replBroker { return c.Brokers[id-1] }

// Client is a franz-go client seeded with every broker.
func (c *replCluster) Client(opts ...kgo.Opt) *kgo.Client {
	c.t.Helper()
	// A paused broker accepts connections and never answers: a short
	// request timeout overhead keeps requests sent to it (metadata has no
	// timeout of its own) from holding a test up for kgo's default 10 s.
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.Addrs()...), kgo.RetryTimeout(60 * time.Second),
		kgo.RequestTimeoutOverhead(2 * time.Second)}, opts...)...)
	require.NoError(c.t, err)
	c.t.Cleanup(cl.Close)
	return cl
}

// Admin is a kadm client.
func (c *replCluster) Admin() *kadm.Client { return kadm.NewClient(c.Client()) }

// CreateTopic creates a topic with RF 3 and waits until it has leaders.
func (c *replCluster) CreateTopic(ctx context.Context, name string, partitions int32, configs map[string]*string) {
	c.t.Helper()
	adm := c.Admin()
	// Right after the brokers start, the controller may not have seen
	// every registration yet (INVALID_REPLICATION_FACTOR): retry briefly.
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := adm.CreateTopic(ctx, partitions, 3, configs, name)
		require.NoError(c.t, err)
		if errors.Is(res.Err, kerr.InvalidReplicationFactor) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		require.NoError(c.t, res.Err)
		return
	}
}

// Describe is kafka-topics --describe: leader, replicas, ISR per partition.
func (c *replCluster) Describe(ctx context.Context, topic string) map[int32]kadm.PartitionDetail {
	c.t.Helper()
	adm := c.Admin()
	td, err := adm.ListTopics(ctx, topic)
	require.NoError(c.t, err)
	d, ok := td[topic]
	require.True(c.t, ok, "topic %s not in metadata", topic)
	return d.Partitions
}

// Eventually polls cond every 100ms until it holds or timeout passes.
func eventuallyT(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readAll reads a topic from the start to its end offsets and counts
// every value.
func (c *replCluster) readAll(ctx context.Context, topic string) map[string]int {
	c.t.Helper()
	ends, err := c.Admin().ListEndOffsets(ctx, topic)
	require.NoError(c.t, err)
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		require.NoError(c.t, o.Err)
		want[o.Partition] = o.Offset
	})
	cons := c.Client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := map[string]int{}
	next := map[int32]int64{}
	done := func() bool {
		for p, end := range want {
			if next[p] < end {
				return false
			}
		}
		return true
	}
	for !done() {
		fs := cons.PollFetches(ctx)
		require.NoError(c.t, ctx.Err(), "reading %s back: at %v of %v", topic, next, want)
		fs.EachError(func(_ string, _ int32, err error) { c.t.Logf("fetch error while reading back: %v", err) })
		fs.EachRecord(func(r *kgo.Record) {
			got[string(r.Value)]++
			next[r.Partition] = r.Offset + 1
		})
	}
	return got
}
