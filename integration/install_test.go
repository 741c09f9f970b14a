package integration

// deploy/install.sh run for real against three hosts: three network
// namespaces on this machine, each with its own address on a bridge, its own
// sshd and its own mount namespace in which the install prefix is a directory
// of its own. The cluster forms and passes the health check; a second run
// with a newer tarball rolls through while a producer (acks=all) and a
// ZooKeeper client keep working; operator mistakes get one-line answers.
// Runs under make test-cluster (MQ_TEST_CLUSTER=1, MQ_DIST=the tarball) as root.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

type sshHosts struct {
	t      *testing.T
	dir    string
	prefix string
	netns  []string
	ips    []string
	sshOpt string
	bridge string
}

func run1(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), out)
	return string(out)
}

// startSSHHosts makes n hosts: netns + veth on a bridge + sshd in a mount
// namespace where dir/prefix is dir/h<i>.
func startSSHHosts(t *testing.T, n int) *sshHosts {
	t.Helper()
	if os.Getenv("MQ_TEST_CLUSTER") != "1" {
		t.Skip("the install test runs under make test-cluster (MQ_TEST_CLUSTER=1)")
	}
	if os.Geteuid() != 0 {
		skipOrFail(t, "the install test needs root (network namespaces and sshd)")
	}
	for _, tool := range []string{"ip", "unshare", "/usr/sbin/sshd", "ssh", "ssh-keygen", "rsync"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, "%s is not installed (apt-get install iproute2 util-linux openssh-server openssh-client rsync)", tool)
		}
	}
	tag := fmt.Sprintf("%d", os.Getpid()%100000)
	net3 := 10 + os.Getpid()%200
	h := &sshHosts{t: t, dir: t.TempDir(), bridge: "mqib" + tag}
	h.prefix = filepath.Join(h.dir, "prefix")
	require.NoError(t, os.MkdirAll(h.prefix, 0o755))
	require.NoError(t, os.MkdirAll("/run/sshd", 0o755))
	key := filepath.Join(h.dir, "id")
	run1(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
	run1(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(h.dir, "hostkey"))
	h.sshOpt = "-i " + key + " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"

	var sshds []*exec.Cmd
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(h.dir, "h*", "logs", "*"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				if len(b) > 3000 {
					b = b[len(b)-3000:]
				}
				t.Logf("%s (end):\n%s", l, b)
			}
		}
		for _, ns := range h.netns {
			// Everything started in the host: sshd and the daemons install.sh started.
			out, _ := exec.Command("ip", "netns", "pids", ns).Output()
			for _, pid := range strings.Fields(string(out)) {
				_ = exec.Command("kill", "-9", pid).Run()
			}
			_ = exec.Command("ip", "netns", "del", ns).Run()
		}
		for _, c := range sshds {
			_ = c.Wait()
		}
		_ = exec.Command("ip", "link", "del", h.bridge).Run()
	})
	run1(t, "ip", "link", "add", h.bridge, "type", "bridge")
	run1(t, "ip", "addr", "add", fmt.Sprintf("10.213.%d.254/24", net3), "dev", h.bridge)
	run1(t, "ip", "link", "set", h.bridge, "up")
	// Docker sets the FORWARD policy to DROP and bridged traffic goes through
	// iptables (br_netfilter): let the hosts talk to each other on this bridge.
	if _, err := exec.LookPath("iptables"); err == nil {
		rule := []string{"FORWARD", "-i", h.bridge, "-o", h.bridge, "-j", "ACCEPT"}
		run1(t, "iptables", append([]string{"-I"}, rule...)...)
		t.Cleanup(func() { _ = exec.Command("iptables", append([]string{"-D"}, rule...)...).Run() })
	}
	for i := 1; i <= n; i++ {
		ns := fmt.Sprintf("mqi%sh%d", tag, i)
		veth := fmt.Sprintf("mqiv%sh%d", tag, i)
		ip := fmt.Sprintf("10.213.%d.%d", net3, i)
		run1(t, "ip", "netns", "add", ns)
		h.netns = append(h.netns, ns)
		h.ips = append(h.ips, ip)
		run1(t, "ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
		run1(t, "ip", "link", "set", veth, "master", h.bridge, "up")
		run1(t, "ip", "-n", ns, "addr", "add", ip+"/24", "dev", "eth0")
		run1(t, "ip", "-n", ns, "link", "set", "eth0", "up")
		run1(t, "ip", "-n", ns, "link", "set", "lo", "up")
		root := filepath.Join(h.dir, fmt.Sprintf("h%d", i))
		require.NoError(t, os.MkdirAll(root, 0o755))
		cfg := filepath.Join(h.dir, fmt.Sprintf("sshd-h%d.conf", i))
		require.NoError(t, os.WriteFile(cfg, []byte(strings.Join([]string{
			"Port 22", "ListenAddress " + ip, "HostKey " + filepath.Join(h.dir, "hostkey"),
			"PidFile " + filepath.Join(h.dir, fmt.Sprintf("sshd-h%d.pid", i)),
			"AuthorizedKeysFile " + key + ".pub", "PermitRootLogin prohibit-password", "StrictModes no",
			"UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PrintMotd no", ""}, "\n")), 0o600))
		c := exec.Command("ip", "netns", "exec", ns, "unshare", "--mount", "--propagation", "private", "sh", "-c",
			fmt.Sprintf("mount --bind %s %s && exec /usr/sbin/sshd -D -e -f %s", root, h.prefix, cfg))
		var logs bytes.Buffer
		c.Stdout, c.Stderr = &logs, &logs
		require.NoError(t, c.Start())
		sshds = append(sshds, c)
		deadline := time.Now().Add(30 * time.Second)
		for {
			out, err := h.ssh(i, "echo up")
			if err == nil && strings.TrimSpace(out) == "up" {
				break
			}
			require.True(t, time.Now().Before(deadline), "sshd on %s not answering: %v %s\nsshd: %s", ip, err, out, logs.String())
			time.Sleep(200 * time.Millisecond)
		}
	}
	return h
}

func (h *sshHosts) ssh(i int, cmd string) (string, error) {
	args := append(strings.Fields(h.sshOpt), "-o", "BatchMode=yes", "root@"+h.ips[i-1], cmd)
	out, err := exec.Command("ssh", args...).CombinedOutput()
	return string(out), err
}

// hostDir is what host i sees at the prefix.
func (h *sshHosts) hostDir(i int) string { return filepath.Join(h.dir, fmt.Sprintf("h%d", i)) }

func (h *sshHosts) inventory(t *testing.T, name, extra string) string {
	var b strings.Builder
	b.WriteString("[zookeeper]\n")
	for i, ip := range h.ips {
		fmt.Fprintf(&b, "h%d address=%s ssh=root@%s myid=%d\n", i+1, ip, ip, i+1)
	}
	b.WriteString("[kafka]\n")
	for i := range h.ips {
		fmt.Fprintf(&b, "h%d broker.id=%d\n", i+1, i+1)
	}
	b.WriteString("[eagle]\nh1\n[vars]\nprefix=" + h.prefix + "\nzk_tick_time=500\nwait=120\n" + extra)
	p := filepath.Join(h.dir, name)
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	return p
}

// install runs deploy/install.sh; it returns the output and the error.
func (h *sshHosts) install(t *testing.T, inv, tarball string, extra ...string) (string, error) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "deploy", "install.sh"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, append([]string{"-i", inv, "-t", tarball}, extra...)...)
	cmd.Env = append(os.Environ(), "MQ_SSH_OPTS="+h.sshOpt)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// repack makes a "newer" tarball from the one given: the same binaries under
// a new release name and VERSION (what an upgrade changes on disk).
func repack(t *testing.T, tarball, version string) string {
	t.Helper()
	dir := t.TempDir()
	run1(t, "tar", "-xzf", tarball, "-C", dir)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	name := "mqstack-" + version
	require.NoError(t, os.Rename(filepath.Join(dir, entries[0].Name()), filepath.Join(dir, name)))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name, "VERSION"), []byte("mqstack "+version+" (test repack)\n"), 0o644))
	out := filepath.Join(t.TempDir(), name+"-linux-amd64.tar.gz")
	run1(t, "tar", "-C", dir, "-czf", out, name)
	return out
}

func TestInstallOverSSH(t *testing.T) {
	tarball := os.Getenv("MQ_DIST")
	if tarball == "" && os.Getenv("MQ_TEST_CLUSTER") == "1" {
		t.Fatal("MQ_DIST is not set: run through make test-cluster (it builds the tarball)")
	}
	h := startSSHHosts(t, 3)
	t.Logf("hosts %v, prefix %s", h.ips, h.prefix)

	// Operator mistakes, each answered in one line naming the host and the fix.
	inv := h.inventory(t, "dup.ini", "")
	dup, _ := os.ReadFile(inv)
	require.NoError(t, os.WriteFile(inv, bytes.Replace(dup, []byte("myid=2"), []byte("myid=1"), 1), 0o644))
	out, err := h.install(t, inv, tarball)
	require.Error(t, err)
	assert.Regexp(t, `h2 and h1 both have myid=1; give each ZooKeeper host its own`, out)

	unreachable := h.inventory(t, "unreachable.ini", "")
	b, _ := os.ReadFile(unreachable)
	gone := strings.Replace(h.ips[2], ".3", ".99", 1)
	require.NoError(t, os.WriteFile(unreachable, []byte(strings.ReplaceAll(string(b), "root@"+h.ips[2], "root@"+gone)), 0o644))
	out, err = h.install(t, unreachable, tarball)
	require.Error(t, err)
	assert.Contains(t, out, "install.sh: h3 (root@"+gone+") is not reachable over ssh:")
	assert.Contains(t, out, "check its address/ssh= in")

	blocker := exec.Command("ip", "netns", "exec", h.netns[1], "python3", "-c",
		"import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 2181)); s.listen(); print('listening', flush=True); time.sleep(600)")
	bout, err := blocker.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, blocker.Start())
	line := make([]byte, 9)
	_, _ = bout.Read(line)
	inv = h.inventory(t, "cluster.ini", "")
	out, err = h.install(t, inv, tarball)
	_ = blocker.Process.Kill()
	_ = blocker.Wait()
	require.Error(t, err, out)
	assert.Contains(t, out, "install.sh: h2: port 2181 (zkd client port, zk_client_port) is already in use")
	assert.Contains(t, out, "choose another port in [vars] of "+inv)

	// --systemd on hosts without systemd.
	out, err = h.install(t, inv, tarball, "--systemd")
	require.Error(t, err, out)
	assert.Contains(t, out, "install.sh: h1 does not run systemd (no /run/systemd/system); run install.sh without --systemd")

	// A broker advertising an address the other hosts cannot reach (ZooKeeper
	// on h1 alone, one broker on h2 that advertises a wrong IP): caught after
	// it registers, naming both hosts and the fix. Then both are stopped and
	// their prefixes emptied for the real install.
	wrong := strings.Replace(h.ips[1], ".2", ".77", 1)
	adv := filepath.Join(h.dir, "advertised.ini")
	require.NoError(t, os.WriteFile(adv, []byte(fmt.Sprintf("[zookeeper]\nh1 address=%s ssh=root@%s\n[kafka]\nh2 address=%s ssh=root@%s broker.id=2\n[vars]\nprefix=%s\nwait=60\n",
		h.ips[0], h.ips[0], wrong, h.ips[1], h.prefix)), 0o644))
	out, err = h.install(t, adv, tarball)
	require.Error(t, err, out)
	assert.Contains(t, out, "/brokers/ids = [2]")
	assert.Contains(t, out, "install.sh: h1 cannot reach broker 2's advertised listener "+wrong+":9092 (")
	assert.Contains(t, out, "set address= for h2 in "+adv+" to an address the other hosts and clients reach")
	_, err = h.ssh(1, h.prefix+"/current/bin/zkServer.sh stop "+h.prefix+"/conf/zoo.cfg")
	require.NoError(t, err)
	_, err = h.ssh(2, "LOG_DIR="+h.prefix+"/logs "+h.prefix+"/current/bin/kafka-server-stop.sh")
	require.NoError(t, err)
	for i := 1; i <= 3; i++ {
		entries, _ := os.ReadDir(h.hostDir(i))
		for _, e := range entries {
			require.NoError(t, os.RemoveAll(filepath.Join(h.hostDir(i), e.Name())))
		}
	}

	// The install.
	start := time.Now()
	out, err = h.install(t, inv, tarball)
	require.NoError(t, err, out)
	t.Logf("install took %v:\n%s", time.Since(start).Round(time.Second), out)
	assert.Equal(t, 1, strings.Count(out, "Mode: leader"), out)
	assert.Equal(t, 2, strings.Count(out, "Mode: follower"), out)
	assert.Contains(t, out, "/brokers/ids = [1, 2, 3] (want [1, 2, 3])")
	assert.Regexp(t, `eagle +h1 +http://`+regexp.QuoteMeta(h.ips[0])+`:8048 +ok`, out)
	resp, err := http.Get("http://" + h.ips[0] + ":8048/healthz")
	require.NoError(t, err, "eagle's UI from outside its host")
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	for i := 1; i <= 3; i++ {
		myid, err := os.ReadFile(filepath.Join(h.hostDir(i), "data", "zookeeper", "myid"))
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("%d\n", i), string(myid))
		props, err := os.ReadFile(filepath.Join(h.hostDir(i), "conf", "server.properties"))
		require.NoError(t, err)
		assert.Contains(t, string(props), fmt.Sprintf("broker.id=%d\n", i))
		assert.Contains(t, string(props), "advertised.listeners=PLAINTEXT://"+h.ips[i-1]+":9092\n")
		env, err := os.ReadFile(filepath.Join(h.hostDir(i), "conf", "mqstack.env"))
		require.NoError(t, err)
		assert.Contains(t, string(env), "KAFKA_HOME="+h.prefix+"/current\n")
	}

	// Clients from outside the hosts, kept running through the upgrade.
	var seeds, zkServers []string
	for _, ip := range h.ips {
		seeds = append(seeds, ip+":9092")
		zkServers = append(zkServers, ip+":2181")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	admin, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	require.NoError(t, err)
	defer admin.Close()
	created, err := kadm.NewClient(admin).CreateTopic(ctx, 3, 3, nil, "upgrade")
	require.NoError(t, err)
	require.NoError(t, created.Err)
	prod, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordDeliveryTimeout(2*time.Minute))
	require.NoError(t, err)
	defer prod.Close()
	zc, _, err := zk.Connect(zkServers, 20*time.Second, zk.WithLogInfo(false))
	require.NoError(t, err)
	defer zc.Close()
	_, err = zc.Create("/upgrade", []byte("0"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)

	var (
		stop                       = make(chan struct{})
		wg                         sync.WaitGroup
		produced, prodFailed       atomic.Int64
		zkWrites, zkRetries, zkBad atomic.Int64
		firstErr                   atomic.Value
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "upgrade", Value: []byte(fmt.Sprintf("u%d", i))}).FirstErr(); err != nil {
				prodFailed.Add(1)
				firstErr.CompareAndSwap(nil, fmt.Sprintf("produce u%d: %v", i, err))
			} else {
				produced.Add(1)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			// A ZooKeeper client retries a request that lost its connection
			// (the server it was on restarted); any other failure counts.
			for {
				_, err := zc.Set("/upgrade", []byte(fmt.Sprint(i)), -1)
				if err == nil {
					zkWrites.Add(1)
					break
				}
				if errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrNoServer) {
					zkRetries.Add(1)
					time.Sleep(100 * time.Millisecond)
					continue
				}
				zkBad.Add(1)
				firstErr.CompareAndSwap(nil, fmt.Sprintf("zk set %d: %v", i, err))
				break
			}
		}
	}()

	// The upgrade: a newer tarball, rolled through one node at a time.
	newer := repack(t, tarball, "9.9.9-upgrade")
	time.Sleep(2 * time.Second)
	start = time.Now()
	out, err = h.install(t, inv, newer)
	close(stop)
	wg.Wait()
	require.NoError(t, err, out)
	t.Logf("upgrade took %v; %d records produced, %d failed; %d ZooKeeper writes, %d retried after a lost connection, %d failed:\n%s",
		time.Since(start).Round(time.Second), produced.Load(), prodFailed.Load(), zkWrites.Load(), zkRetries.Load(), zkBad.Load(), out)
	assert.Zero(t, prodFailed.Load(), "failed produce requests during the upgrade (first: %v)", firstErr.Load())
	assert.Zero(t, zkBad.Load(), "failed ZooKeeper requests during the upgrade (first: %v)", firstErr.Load())
	assert.Positive(t, produced.Load())
	rolls := regexp.MustCompile(`h\d: rolling zkd \((\w+)\)`).FindAllStringSubmatch(out, -1)
	require.Len(t, rolls, 3, "three zkd restarts")
	assert.Equal(t, "leader", rolls[2][1], "the ZooKeeper leader restarts last")
	assert.Equal(t, 3, strings.Count(out, "(controlled shutdown)"), "three broker restarts")
	assert.Contains(t, out, "restarting eagle on mqstack-9.9.9-upgrade")
	for i := 1; i <= 3; i++ {
		cur, err := os.Readlink(filepath.Join(h.hostDir(i), "current"))
		require.NoError(t, err)
		assert.Equal(t, "releases/mqstack-9.9.9-upgrade", cur, "h%d", i)
		for _, pidFile := range []string{"data/zookeeper/zookeeper_server.pid", "logs/brokerd.pid"} {
			pid, err := os.ReadFile(filepath.Join(h.hostDir(i), pidFile))
			require.NoError(t, err)
			exe, err := os.Readlink("/proc/" + strings.TrimSpace(string(pid)) + "/exe")
			require.NoError(t, err, "h%d %s", i, pidFile)
			assert.Contains(t, exe, "/releases/mqstack-9.9.9-upgrade/bin/", "h%d %s runs the new release", i, pidFile)
		}
	}
	// Every acknowledged record is there.
	cons, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics("upgrade"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cons.Close()
	got := 0
	for int64(got) < produced.Load() {
		fs := cons.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "consumed %d of %d", got, produced.Load())
		got += fs.NumRecords()
	}

	// A rerun with the same tarball restarts nothing.
	out, err = h.install(t, inv, newer)
	require.NoError(t, err, out)
	assert.NotContains(t, out, "rolling")
	assert.NotContains(t, out, "started")
	assert.Contains(t, out, "already unpacked")
}
