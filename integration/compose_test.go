package integration

// The cluster tier's docker-compose check (`make test-cluster`, which builds
// the images first): deploy/docker/docker-compose.yml brought up on this
// machine, then the seeds' checks — ZooKeeper modes, /brokers/ids = [1, 2, 3],
// a topic with replication 3 produced to and consumed from — then docker stop
// of the ZooKeeper leader and of a broker with the cluster still serving, and
// compose down (volumes kept) + up with the data intact. Runs only with
// MQ_TEST_CLUSTER=1 (make test-cluster sets it).

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// compose runs docker-compose (or `docker compose`) on the repository's file
// under one project name.
type compose struct {
	t       *testing.T
	argv    []string
	project string
	file    string
	env     []string
}

func newCompose(t *testing.T) *compose {
	t.Helper()
	if os.Getenv("MQ_TEST_CLUSTER") != "1" {
		t.Skip("the docker-compose cluster test runs under make test-cluster (MQ_TEST_CLUSTER=1)")
	}
	var argv []string
	if p, err := exec.LookPath("docker-compose"); err == nil {
		argv = []string{p}
	} else if exec.Command("docker", "compose", "version").Run() == nil {
		argv = []string{"docker", "compose"}
	} else {
		t.Fatal("neither docker-compose nor `docker compose` is available (apt-get install docker-compose)")
	}
	file, err := filepath.Abs(filepath.Join("..", "deploy", "docker", "docker-compose.yml"))
	require.NoError(t, err)
	c := &compose{t: t, argv: argv, project: fmt.Sprintf("mqtest%d", os.Getpid()), file: file,
		env: []string{fmt.Sprintf("EAGLE_PORT=%d", freePort(t))}}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := c.run(2*time.Minute, "logs", "--no-color", "--tail=40")
			t.Logf("docker-compose logs:\n%s", out)
		}
		if out, err := c.run(3*time.Minute, "down", "-v", "--remove-orphans"); err != nil {
			t.Logf("compose down -v: %v\n%s", err, out)
		}
	})
	return c
}

func (c *compose) run(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	argv := append(append(append([]string(nil), c.argv...), "-p", c.project, "-f", c.file), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), c.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%v: timed out after %v", strings.Join(args, " "), timeout)
	}
	return out.String(), err
}

func (c *compose) must(args ...string) string {
	c.t.Helper()
	out, err := c.run(3*time.Minute, args...)
	require.NoError(c.t, err, "docker-compose %s:\n%s", strings.Join(args, " "), out)
	return out
}

// container is the id of service's container.
func (c *compose) container(service string) string {
	c.t.Helper()
	id := strings.TrimSpace(c.must("ps", "-q", service))
	require.NotEmpty(c.t, id, "no container for %s", service)
	return id
}

func docker(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	require.NoError(t, err, "docker %s:\n%s", strings.Join(args, " "), out)
	return strings.TrimSpace(string(out))
}

// waitHealthy waits until every listed service's container reports healthy.
func (c *compose) waitHealthy(services ...string) {
	c.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for _, s := range services {
		id := c.container(s)
		for {
			st := docker(c.t, "inspect", "-f", "{{.State.Health.Status}}", id)
			if st == "healthy" {
				break
			}
			if time.Now().After(deadline) {
				c.t.Fatalf("%s is %s after 3 minutes", s, st)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}

// zkModes asks each running ZooKeeper service for its Mode with zkd probe.
func (c *compose) zkModes(services ...string) map[string]string {
	c.t.Helper()
	modes := map[string]string{}
	for _, s := range services {
		out, err := c.run(time.Minute, "exec", "-T", s, "/bin/zkd", "probe", "localhost:2181")
		if err == nil {
			_, m, _ := strings.Cut(strings.TrimSpace(out), "Mode: ")
			modes[s] = m
		}
	}
	return modes
}

// waitModes polls until the services report one leader and the rest followers.
func (c *compose) waitModes(services ...string) map[string]string {
	c.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		modes := c.zkModes(services...)
		leaders, followers := 0, 0
		for _, m := range modes {
			switch m {
			case "leader":
				leaders++
			case "follower":
				followers++
			}
		}
		if leaders == 1 && leaders+followers == len(services) {
			return modes
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("ZooKeeper modes %v: want one leader and %d followers", modes, len(services)-1)
		}
		time.Sleep(time.Second)
	}
}

// zkCli runs zkd cli in service's container against its own server.
func (c *compose) zkCli(service string, args ...string) string {
	c.t.Helper()
	out := c.must(append([]string{"exec", "-T", service, "/bin/zkd", "cli", "-server", "localhost:2181"}, args...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// kafkaClient connects from this machine to the brokers on the compose
// network: the advertised names broker1..3 are dialled at their container
// addresses (the seeds' clients run where those names resolve).
func (c *compose) kafkaClient(opts ...kgo.Opt) *kgo.Client {
	c.t.Helper()
	addrs := map[string]string{}
	for _, s := range []string{"broker1", "broker2", "broker3"} {
		out, err := c.run(time.Minute, "ps", "-q", s)
		id := strings.TrimSpace(out)
		if err != nil || id == "" {
			continue
		}
		ip := docker(c.t, "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", id)
		if ip != "" {
			addrs[s] = ip
		}
	}
	var seeds []string
	for s := range addrs {
		seeds = append(seeds, s+":9092")
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	dial := func(ctx context.Context, network, host string) (net.Conn, error) {
		h, p, err := net.SplitHostPort(host)
		if err == nil {
			if ip, ok := addrs[h]; ok {
				host = net.JoinHostPort(ip, p)
			}
		}
		return d.DialContext(ctx, network, host)
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds...), kgo.Dialer(dial)}, opts...)...)
	require.NoError(c.t, err)
	c.t.Cleanup(cl.Close)
	return cl
}

func (c *compose) produce(topic string, from, to int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl := c.kafkaClient(kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordRetries(20))
	for i := from; i < to; i++ {
		res := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(fmt.Sprintf("r%d", i))})
		require.NoError(c.t, res.FirstErr(), "produce r%d", i)
	}
}

// consumeAll reads topic from the start until it has want records.
func (c *compose) consumeAll(topic string, want int) map[string]bool {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl := c.kafkaClient(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := map[string]bool{}
	for len(got) < want {
		fs := cl.PollFetches(ctx)
		require.NoError(c.t, ctx.Err(), "consumed %d of %d records of %s", len(got), want, topic)
		fs.EachRecord(func(r *kgo.Record) { got[string(r.Value)] = true })
	}
	return got
}

func TestDockerCompose(t *testing.T) {
	c := newCompose(t)
	services := []string{"zoo1", "zoo2", "zoo3", "broker1", "broker2", "broker3"}
	withEagle := docker(t, "images", "-q", "mqstack/eagle:latest") != ""
	if withEagle {
		services = append(services, "eagle")
	} else {
		t.Log("no mqstack/eagle image (bin/eagle not built): eagle is left out")
	}
	start := time.Now()
	c.must(append([]string{"up", "-d"}, services...)...)
	c.waitHealthy(services...)
	t.Logf("compose up: all %d services healthy in %v", len(services), time.Since(start).Round(time.Second))

	// The seeds' checks.
	zks := []string{"zoo1", "zoo2", "zoo3"}
	modes := c.waitModes(zks...)
	t.Logf("ZooKeeper modes: %v", modes)
	require.Equal(t, "[1, 2, 3]", c.zkCli("zoo1", "ls", "/brokers/ids"))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	adm := kadm.NewClient(c.kafkaClient())
	created, err := adm.CreateTopic(ctx, 3, 3, nil, "seeds")
	require.NoError(t, err)
	require.NoError(t, created.Err)
	c.produce("seeds", 0, 50)
	require.Len(t, c.consumeAll("seeds", 50), 50)
	md, err := adm.ListTopics(ctx, "seeds")
	require.NoError(t, err)
	for _, p := range md["seeds"].Partitions.Sorted() {
		require.Len(t, p.Replicas, 3, "partition %d", p.Partition)
		require.ElementsMatch(t, p.Replicas, p.ISR, "partition %d: every replica in sync", p.Partition)
	}
	_ = c.zkCli("zoo2", "create", "/before-restart", "kept")

	// docker stop of the ZooKeeper leader: the other two elect a leader and serve.
	var leader string
	for s, m := range modes {
		if m == "leader" {
			leader = s
		}
	}
	docker(t, "stop", c.container(leader))
	var rest []string
	for _, s := range zks {
		if s != leader {
			rest = append(rest, s)
		}
	}
	t.Logf("stopped the ZooKeeper leader %s; now %v", leader, c.waitModes(rest...))
	require.Equal(t, "[1, 2, 3]", c.zkCli(rest[0], "ls", "/brokers/ids"))
	_ = c.zkCli(rest[1], "create", "/during-zk-outage", "x")
	c.produce("seeds", 50, 60)

	// docker stop of a broker: it leaves /brokers/ids, the rest keep serving.
	docker(t, "stop", c.container("broker3"))
	deadline := time.Now().Add(time.Minute)
	for c.zkCli(rest[0], "ls", "/brokers/ids") != "[1, 2]" {
		require.True(t, time.Now().Before(deadline), "broker3 still registered a minute after docker stop")
		time.Sleep(time.Second)
	}
	c.produce("seeds", 60, 80)
	require.Len(t, c.consumeAll("seeds", 80), 80)

	// compose down keeps the volumes; up again finds the data.
	c.must("down")
	c.must(append([]string{"up", "-d"}, services...)...)
	c.waitHealthy(services...)
	c.waitModes(zks...)
	deadline = time.Now().Add(time.Minute)
	for c.zkCli("zoo1", "ls", "/brokers/ids") != "[1, 2, 3]" {
		require.True(t, time.Now().Before(deadline), "brokers not all registered after compose up")
		time.Sleep(time.Second)
	}
	require.Equal(t, "kept", c.zkCli("zoo3", "get", "/before-restart"))
	require.Equal(t, "x", c.zkCli("zoo1", "get", "/during-zk-outage"))
	got := c.consumeAll("seeds", 80)
	for i := 0; i < 80; i++ {
		require.True(t, got[fmt.Sprintf("r%d", i)], "r%d lost across compose down/up", i)
	}
	if withEagle {
		require.Contains(t, c.must("exec", "-T", "eagle", "/bin/eagle", "probe", "--ready", "http://localhost:8048"), "readyz ok")
		// The published port reaches the UI from this machine.
		resp, err := http.Get("http://127.0.0.1:" + strings.TrimPrefix(c.env[0], "EAGLE_PORT=") + "/healthz")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
}
