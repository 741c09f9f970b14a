package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"mqstack/brokerd/internal/zktest"
)

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	require.Equal(t, 0, run([]string{"brokerd", "--version"}, &out, io.Discard, nil))
	require.Contains(t, out.String(), "brokerd version")
}

func TestBadConfigExitsNonZero(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "server.properties")
	require.NoError(t, os.WriteFile(p, []byte("broker.id=1\nzookeeper.connect=127.0.0.1:1\nlisteners=PLAINTEXT://0.0.0.0:9092\n"), 0o644))
	var errOut bytes.Buffer
	require.Equal(t, 1, run([]string{"brokerd", "start", p}, io.Discard, &errOut, nil))
	require.Contains(t, errOut.String(), "non-routable meta-address 0.0.0.0")
	require.Contains(t, errOut.String(), p)
	require.Equal(t, 1, run([]string{"brokerd", "start"}, io.Discard, &errOut, nil))
	require.Contains(t, errOut.String(), "usage")
}

// start prints the ready line, serves, and on SIGTERM drains, writes the
// clean shutdown marker and exits 0.
func TestStartReadyAndCleanShutdown(t *testing.T) {
	zks, err := zktest.Start()
	require.NoError(t, err)
	defer zks.Stop()
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	p := filepath.Join(dir, "server.properties")
	require.NoError(t, os.WriteFile(p, []byte(fmt.Sprintf("broker.id=0\nlisteners=PLAINTEXT://127.0.0.1:0\nlog.dirs=%s\nzookeeper.connect=%s\nmetrics.port=-1\n",
		logs, zks.Connect("cmd"))), 0o644))
	pr, pw := io.Pipe()
	stop := make(chan os.Signal, 1)
	code := make(chan int, 1)
	go func() { code <- run([]string{"brokerd", "start", p}, pw, io.Discard, stop); _ = pw.Close() }()
	sc := bufio.NewScanner(pr)
	require.True(t, sc.Scan())
	line := sc.Text()
	require.True(t, strings.HasPrefix(line, "BROKERD READY listener=127.0.0.1:"), line)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	require.NoFileExists(t, filepath.Join(logs, ".kafka_cleanshutdown"))
	require.FileExists(t, filepath.Join(logs, "meta.properties"))
	stop <- syscall.SIGTERM
	select {
	case c := <-code:
		require.Equal(t, 0, c)
	case <-time.After(20 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	require.FileExists(t, filepath.Join(logs, ".kafka_cleanshutdown"))
}
