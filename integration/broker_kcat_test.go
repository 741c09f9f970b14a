package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// brokerdProc is a bin/brokerd process started by a test.
type brokerdProc struct {
	Addr  string
	props string // its server.properties; the log dir is logs/ beside it
	cmd   *exec.Cmd
	logs  *bytes.Buffer
	mu    *sync.Mutex
}

// startBrokerd runs bin/brokerd on 127.0.0.1:0 against zookeeper.connect,
// waits for its ready line, and stops it (SIGTERM) at cleanup, printing its
// log when the test failed.
func startBrokerd(t *testing.T, id int, zkConnect string, extra ...string) *brokerdProc {
	t.Helper()
	bin := brokerdBinary(t)
	dir := t.TempDir()
	props := filepath.Join(dir, "server.properties")
	text := fmt.Sprintf("broker.id=%d\nlisteners=PLAINTEXT://127.0.0.1:0\nlog.dirs=%s\nzookeeper.connect=%s\nmetrics.port=-1\n"+
		"offsets.topic.replication.factor=1\noffsets.topic.num.partitions=5\ngroup.initial.rebalance.delay.ms=0\n%s",
		id, filepath.Join(dir, "logs"), zkConnect, strings.Join(extra, "\n"))
	require.NoError(t, os.WriteFile(props, []byte(text), 0o644))
	p := &brokerdProc{props: props, logs: &bytes.Buffer{}, mu: &sync.Mutex{}}
	p.cmd = exec.Command(bin, "start", props)
	p.cmd.Stderr = lockedWriter{p.mu, p.logs}
	out, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "BROKERD READY listener="); ok {
				ready <- a
			}
		}
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			p.mu.Lock()
			t.Logf("brokerd %d log:\n%s", id, p.logs.String())
			p.mu.Unlock()
		}
	})
	select {
	case p.Addr = <-ready:
	case <-time.After(30 * time.Second):
		p.mu.Lock()
		defer p.mu.Unlock()
		t.Fatalf("brokerd not ready in 30s:\n%s", p.logs.String())
	}
	return p
}

// logDir is the broker's log.dirs.
func (p *brokerdProc) logDir() string { return filepath.Join(filepath.Dir(p.props), "logs") }

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func needKcat(t *testing.T) string {
	p, err := exec.LookPath("kcat")
	if err != nil {
		skipOrFail(t, "kcat is not installed (apt-get install kcat)")
	}
	return p
}

func kcat(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(needKcat(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	require.NoError(t, cmd.Start())
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "kcat %v: %s", args, errb.String())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("kcat %v hung: %s", args, errb.String())
	}
	return out.String()
}

// librdkafka (kcat) against the real binaries: produce with every codec to
// an auto-created topic, consume it back, list metadata, offsets for times,
// on two brokers sharing one zkd chroot.
func TestBrokerKcatInterop(t *testing.T) {
	needKcat(t)
	zks := StartServer(t, kindZkd, ServerOptions{})
	connect := zks.Addr() + "/kcat"
	b1 := startBrokerd(t, 1, connect, "num.partitions=3")
	b2 := startBrokerd(t, 2, connect, "num.partitions=3")
	bootstrap := b1.Addr + "," + b2.Addr

	var want []string
	for _, codec := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		var in strings.Builder
		for i := range 5 {
			line := fmt.Sprintf("k%d-%s:v%d-%s", i, codec, i, codec)
			in.WriteString(line + "\n")
			want = append(want, strings.Replace(line, ":", "=", 1))
		}
		kcat(t, in.String(), "-b", bootstrap, "-t", "kc", "-P", "-z", codec, "-K:", "-X", "topic.request.required.acks=all")
	}
	out := kcat(t, "", "-b", bootstrap, "-t", "kc", "-C", "-o", "beginning", "-e", "-q", "-f", "%k=%s\n")
	got := strings.Split(strings.TrimSpace(out), "\n")
	sort.Strings(got)
	sort.Strings(want)
	require.Equal(t, want, got)

	// A librdkafka consumer group: reads everything, commits, and a second
	// run of the same group resumes at the end (nothing more to read).
	grp := func() []string {
		out := kcat(t, "", "-b", bootstrap, "-G", "kcgroup", "-X", "auto.offset.reset=earliest", "-e", "-q", "-f", "%k=%s\n", "kc")
		return strings.Fields(out)
	}
	first := grp()
	sort.Strings(first)
	require.Equal(t, want, first)
	require.Empty(t, grp(), "a second run of the group resumes after the committed offsets")

	var md struct {
		Brokers []struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		} `json:"brokers"`
		Topics []struct {
			Topic      string `json:"topic"`
			Partitions []struct {
				Partition int `json:"partition"`
				Leader    int `json:"leader"`
			} `json:"partitions"`
		} `json:"topics"`
	}
	require.NoError(t, json.Unmarshal([]byte(kcat(t, "", "-b", bootstrap, "-L", "-J", "-t", "kc")), &md))
	require.Len(t, md.Brokers, 2)
	require.Len(t, md.Topics, 1)
	require.Len(t, md.Topics[0].Partitions, 3)
	leaders := map[int]bool{}
	for _, p := range md.Topics[0].Partitions {
		leaders[p.Leader] = true
	}
	require.Len(t, leaders, 2, "partitions are spread over both brokers")

	// Offsets: earliest, latest and for a timestamp before everything.
	// (one query per partition: librdkafka merges repeated partitions)
	require.Contains(t, kcat(t, "", "-b", bootstrap, "-Q", "-t", "kc:0:-2"), "kc [0] offset 0")
	latest := kcat(t, "", "-b", bootstrap, "-Q", "-t", "kc:0:-1", "-t", fmt.Sprintf("kc:1:%d", time.Now().Add(-time.Hour).UnixMilli()),
		"-t", fmt.Sprintf("kc:2:%d", time.Now().Add(time.Hour).UnixMilli()))
	var n0 int
	_, err := fmt.Sscanf(latest[strings.Index(latest, "kc [0] offset "):], "kc [0] offset %d", &n0)
	require.NoError(t, err)
	require.Greater(t, n0, 0)
	require.Contains(t, latest, "kc [1] offset 0")
	require.Contains(t, latest, "kc [2] offset -1", "no record at or after a future time")
}
