package integration

// The one-machine cluster of `make run` (deploy/bin/local-cluster.sh), run on
// shifted ports (MQ_PORT_OFFSET) with its state in a temporary directory: the
// ensemble forms, the three brokers register, a topic with replication 3 is
// produced to and consumed from, and SIGINT (Ctrl-C) stops everything it started.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// localClusterPorts lists the default ports local-cluster.sh uses; each is
// shifted by MQ_PORT_OFFSET.
var localClusterPorts = []int{2181, 2182, 2183, 2888, 2889, 2890, 3888, 3889, 3890, 7000, 7001, 7002,
	9092, 9093, 9094, 9404, 9405, 9406, 8048, 8081, 8082, 8083}

// freeOffset picks an MQ_PORT_OFFSET at which every port of the cluster is free.
func freeOffset(t *testing.T) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		off := 10000 + rand.IntN(13000) // every port stays below the ephemeral range (32768-)
		ok := true
		for _, p := range localClusterPorts {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+off))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return off
		}
	}
	t.Fatal("no MQ_PORT_OFFSET with all 19 ports free after 50 tries")
	return 0
}

type scriptRun struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func (r *scriptRun) output() string { r.mu.Lock(); defer r.mu.Unlock(); return r.out.String() }

// startLocalCluster runs `local-cluster.sh start` and returns once it printed
// its ready banner (or fails the test with the script's output and logs).
func startLocalCluster(t *testing.T, env []string, varDir string) *scriptRun {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "deploy", "bin", "local-cluster.sh"))
	require.NoError(t, err)
	r := &scriptRun{done: make(chan error, 1)}
	r.cmd = exec.Command(script, "start")
	r.cmd.Env = append(os.Environ(), env...)
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	r.cmd.Stdout, r.cmd.Stderr = pw, pw
	require.NoError(t, r.cmd.Start())
	pw.Close()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			r.mu.Lock()
			r.out.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
			if strings.HasPrefix(sc.Text(), "Stop it with:") {
				close(ready)
			}
		}
	}()
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() {
		// Whatever happened, nothing may outlive the test: the script's own
		// stop, then SIGKILL of the daemons by their pid files.
		if r.cmd.ProcessState == nil {
			_ = r.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-r.done:
			case <-time.After(60 * time.Second):
				_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
			}
		}
		pids, _ := filepath.Glob(filepath.Join(varDir, "run", "*.pid"))
		for _, p := range pids {
			var pid int
			if b, err := os.ReadFile(p); err == nil && func() bool { _, err := fmt.Sscan(string(b), &pid); return err == nil }() && pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if t.Failed() {
			t.Logf("local-cluster.sh output:\n%s", r.output())
			logs, _ := filepath.Glob(filepath.Join(varDir, "logs", "*.log"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				t.Logf("%s:\n%s", l, b)
			}
		}
	})
	select {
	case <-ready:
	case err := <-r.done:
		r.done <- err
		t.Fatalf("local-cluster.sh exited (%v) before the cluster was ready", err)
	case <-time.After(120 * time.Second):
		t.Fatal("local-cluster.sh: no ready banner within 120s")
	}
	return r
}

func TestLocalClusterScript(t *testing.T) {
	zkdBin, brokerdBin := zkdBinary(t), brokerdBinary(t)
	off := freeOffset(t)
	varDir := t.TempDir()
	env := []string{"MQ_VAR=" + varDir, fmt.Sprintf("MQ_PORT_OFFSET=%d", off), "ZKD=" + zkdBin, "BROKERD=" + brokerdBin, "MQ_READY_WAIT=60"}
	eagle, _ := filepath.Abs(filepath.Join("..", "bin", "eagle"))
	haveEagle := false
	if st, err := os.Stat(eagle); err == nil && !st.IsDir() {
		env = append(env, "EAGLE="+eagle)
		haveEagle = true
	} else {
		env = append(env, "EAGLE=")
	}
	port := func(p int) string { return fmt.Sprintf("127.0.0.1:%d", p+off) }

	// A taken port is refused up front, naming the port, its role and the fix.
	blocker, err := net.Listen("tcp", port(2182))
	require.NoError(t, err)
	script, _ := filepath.Abs(filepath.Join("..", "deploy", "bin", "local-cluster.sh"))
	cmd := exec.Command(script, "start")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	blocker.Close()
	require.Error(t, err, "start with a taken port: %s", out)
	assert.Contains(t, string(out), fmt.Sprintf("port %d (zkd 2 client port) on 127.0.0.1 is taken", 2182+off))
	assert.Contains(t, string(out), "MQ_PORT_OFFSET")

	r := startLocalCluster(t, env, varDir)
	banner := r.output()
	assert.Contains(t, banner, "ZooKeeper  "+port(2181)+","+port(2182)+","+port(2183))
	assert.Contains(t, banner, "Kafka      "+port(9092)+","+port(9093)+","+port(9094))
	assert.Contains(t, banner, "make stop")

	// The ensemble: one leader and two followers.
	modes := map[string]int{}
	for _, p := range []int{2181, 2182, 2183} {
		reply, err := fourLetter(port(p), "srvr", 5*time.Second)
		require.NoError(t, err)
		for _, line := range strings.Split(reply, "\n") {
			if m, ok := strings.CutPrefix(line, "Mode: "); ok {
				modes[m]++
			}
		}
	}
	assert.Equal(t, map[string]int{"leader": 1, "follower": 2}, modes)
	// Each zkd's AdminServer on 8081-8083 (shifted) agrees.
	leaders := 0
	for _, p := range []int{8081, 8082, 8083} {
		_, m := adminJSON(t, p+off, "leader")
		if m["is_leader"] == true {
			leaders++
		}
	}
	assert.Equal(t, 1, leaders, "AdminServer leader commands")
	assert.Contains(t, banner, "zkd admin  http://"+port(8081)+"/commands")

	// The brokers registered, read with go-zookeeper.
	conn, _, err := zk.Connect([]string{port(2181), port(2182), port(2183)}, 10*time.Second, zk.WithLogInfo(false))
	require.NoError(t, err)
	defer conn.Close()
	ids, _, err := conn.Children("/brokers/ids")
	require.NoError(t, err)
	sort.Strings(ids)
	assert.Equal(t, []string{"1", "2", "3"}, ids)

	// A topic with replication 3, produced to through one broker and read
	// back through another.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin, err := kgo.NewClient(kgo.SeedBrokers(port(9092)))
	require.NoError(t, err)
	defer admin.Close()
	created, err := kadm.NewClient(admin).CreateTopic(ctx, 3, 3, nil, "local-cluster")
	require.NoError(t, err)
	require.NoError(t, created.Err)
	prod, err := kgo.NewClient(kgo.SeedBrokers(port(9093)), kgo.RequiredAcks(kgo.AllISRAcks()))
	require.NoError(t, err)
	defer prod.Close()
	want := map[string]bool{}
	for i := 0; i < 30; i++ {
		v := fmt.Sprintf("record-%d", i)
		want[v] = true
		require.NoError(t, prod.ProduceSync(ctx, &kgo.Record{Topic: "local-cluster", Value: []byte(v)}).FirstErr())
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(port(9094)), kgo.ConsumeTopics("local-cluster"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cons.Close()
	got := map[string]bool{}
	for len(got) < len(want) {
		fs := cons.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "consumed %d of %d records", len(got), len(want))
		fs.EachRecord(func(rec *kgo.Record) { got[string(rec.Value)] = true })
	}
	assert.Equal(t, want, got)

	// Every partition is replicated to the three brokers, all in sync.
	md, err := kadm.NewClient(admin).ListTopics(ctx, "local-cluster")
	require.NoError(t, err)
	parts := md["local-cluster"].Partitions.Sorted()
	require.Len(t, parts, 3)
	for _, p := range parts {
		assert.Len(t, p.Replicas, 3, "partition %d replicas", p.Partition)
		assert.ElementsMatch(t, p.Replicas, p.ISR, "partition %d ISR", p.Partition)
	}

	if haveEagle {
		// The login the banner prints is eagle's admin login.
		m := regexp.MustCompile(`eagle +http://\S+ +login admin / (\S+)`).FindStringSubmatch(banner)
		require.NotNil(t, m, "no eagle login in the banner:\n%s", banner)
		get := func(password string) (int, string) {
			req, err := http.NewRequest("GET", "http://"+port(8048)+"/brokers", nil)
			require.NoError(t, err)
			req.SetBasicAuth("admin", password)
			req.Header.Set("Accept", "application/json")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body)
		}
		// The printed password is accepted (eagle then asks for a new one
		// before showing pages); a wrong one is not.
		code, body := get(m[1])
		assert.Equal(t, http.StatusForbidden, code, body)
		assert.Contains(t, body, "must be changed first")
		code, _ = get(m[1] + "x")
		assert.Equal(t, http.StatusUnauthorized, code, "a wrong password")
	}

	// Ctrl-C: SIGINT to the script stops everything it started, in order.
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGINT))
	select {
	case err := <-r.done:
		require.NoError(t, err, "local-cluster.sh after SIGINT")
	case <-time.After(90 * time.Second):
		t.Fatal("local-cluster.sh did not exit within 90s of SIGINT")
	}
	final := r.output()
	for _, n := range []string{"broker1", "broker2", "broker3", "zk1", "zk2", "zk3"} {
		assert.Contains(t, final, "stopped "+n)
	}
	assert.Less(t, strings.Index(final, "stopped broker1"), strings.Index(final, "stopped zk"), "brokers stop before ZooKeeper")
	for _, p := range localClusterPorts {
		c, err := net.DialTimeout("tcp", port(p), time.Second)
		if err == nil {
			c.Close()
			t.Errorf("port %d still answers after the stop", p+off)
		}
	}
	left, _ := filepath.Glob(filepath.Join(varDir, "run", "*.pid"))
	assert.Empty(t, left, "pid files left behind")
}
