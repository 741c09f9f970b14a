package main

import (
	"bytes"
	"net"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/zkd/internal/config"
	"mqstack/zkd/internal/server"
)

// startStandalone runs an in-process standalone server on 127.0.0.1:0 until the test ends.
func startStandalone(t *testing.T) *server.Server {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DataLogDir = cfg.DataDir
	cfg.ClientPort = 0
	cfg.ClientPortAddress = "127.0.0.1"
	cfg.MetricsHTTPPort = -1
	cfg.AdminEnableServer = false
	s, err := server.New(cfg, zerolog.Nop())
	require.NoError(t, err)
	require.NoError(t, s.Start())
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestProbe(t *testing.T) {
	addr := startStandalone(t).Addr().String()

	var out, errb bytes.Buffer
	require.Equal(t, 0, run([]string{"zkd", "probe", addr}, &out, &errb), "stderr %q", errb.String())
	assert.Equal(t, addr+" Mode: standalone\n", out.String())

	// Nothing listening: exit 1, one line naming the address.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	l.Close()
	errb.Reset()
	assert.Equal(t, 1, run([]string{"zkd", "probe", closed}, &out, &errb))
	assert.Contains(t, errb.String(), closed)
	assert.Equal(t, 1, strings.Count(errb.String(), "\n"), "one line: %q", errb.String())

	// Something that is not ZooKeeper: no Mode.
	l, err = net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("HTTP/1.0 400 Bad Request\r\n\r\n"))
			c.Close()
		}
	}()
	errb.Reset()
	assert.Equal(t, 1, run([]string{"zkd", "probe", l.Addr().String()}, &out, &errb))
	assert.Contains(t, errb.String(), l.Addr().String())

	errb.Reset()
	assert.Equal(t, 2, run([]string{"zkd", "probe"}, &out, &errb))
	assert.Contains(t, errb.String(), "usage")
}
