package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
	_, logs, stop, code := startCmdBroker(t, "cmd")
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
