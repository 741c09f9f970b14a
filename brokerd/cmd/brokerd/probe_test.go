package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/brokerd/internal/zktest"
)

// startCmdBroker runs `brokerd start` in-process against an in-process
// ZooKeeper and returns the listener, the logs dir and the exit code channel;
// stop (buffered) takes the signal.
func startCmdBroker(t *testing.T, chroot string) (addr, logs string, stop chan os.Signal, code chan int) {
	t.Helper()
	zks, err := zktest.Start()
	require.NoError(t, err)
	t.Cleanup(zks.Stop)
	dir := t.TempDir()
	logs = filepath.Join(dir, "logs")
	p := filepath.Join(dir, "server.properties")
	require.NoError(t, os.WriteFile(p, []byte(fmt.Sprintf("broker.id=0\nlisteners=PLAINTEXT://127.0.0.1:0\nlog.dirs=%s\nzookeeper.connect=%s\nmetrics.port=-1\n",
		logs, zks.Connect(chroot))), 0o644))
	pr, pw := io.Pipe()
	stop = make(chan os.Signal, 1)
	code = make(chan int, 1)
	go func() { code <- run([]string{"brokerd", "start", p}, pw, io.Discard, stop); _ = pw.Close() }()
	sc := bufio.NewScanner(pr)
	require.True(t, sc.Scan())
	addr, ok := strings.CutPrefix(sc.Text(), "BROKERD READY listener=")
	require.True(t, ok, sc.Text())
	require.True(t, strings.HasPrefix(addr, "127.0.0.1:"), addr)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return addr, logs, stop, code
}

func TestProbe(t *testing.T) {
	addr, _, stop, code := startCmdBroker(t, "probe")
	defer func() {
		stop <- syscall.SIGTERM
		select {
		case <-code:
		case <-time.After(20 * time.Second):
			t.Error("no exit after SIGTERM")
		}
	}()

	var out, errb bytes.Buffer
	require.Equal(t, 0, run([]string{"brokerd", "probe", addr}, &out, &errb, nil), "stderr %q", errb.String())
	assert.Regexp(t, `^`+addr+` ApiVersions ok: [0-9]+ APIs\n$`, out.String())

	// Nothing listening: exit 1, one line naming the address.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	l.Close()
	errb.Reset()
	assert.Equal(t, 1, run([]string{"brokerd", "probe", closed}, &out, &errb, nil))
	assert.Contains(t, errb.String(), closed)
	assert.Equal(t, 1, strings.Count(errb.String(), "\n"), "one line: %q", errb.String())

	// A ZooKeeper port is not a Kafka listener: it closes on the bad request.
	errb.Reset()
	zks, err := zktest.Start()
	require.NoError(t, err)
	defer zks.Stop()
	assert.Equal(t, 1, run([]string{"brokerd", "probe", strings.Split(zks.Connect(""), "/")[0]}, &out, &errb, nil))
	assert.Contains(t, errb.String(), "Kafka listener")
}
