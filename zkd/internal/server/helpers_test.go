package server

import (
	"encoding/binary"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"mqstack/proto/jute"
	"mqstack/zkd/internal/config"
)

func testConfig(t *testing.T) *config.Config {
	c := config.Default()
	c.Path = "test.cfg"
	c.TickTime = 100 * time.Millisecond
	c.DataDir = t.TempDir()
	c.DataLogDir = c.DataDir
	c.ClientPort = 0
	c.ClientPortAddress = "127.0.0.1"
	c.PreAllocSize = 64 << 10
	c.FourLetterWhitelist = []string{"*"}
	c.MetricsHTTPPort = -1
	c.AdminEnableServer = false
	return c
}

func testLogger(t *testing.T) zerolog.Logger {
	if os.Getenv("ZKD_TEST_LOG") != "" {
		return zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).With().Timestamp().Logger()
	}
	return zerolog.Nop()
}

func startServer(t *testing.T, cfg *config.Config) *Server {
	t.Helper()
	s, err := New(cfg, testLogger(t))
	require.NoError(t, err)
	require.NoError(t, s.Start())
	t.Cleanup(func() { _ = s.Close() })
	return s
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...interface{}) {}

func connect(t *testing.T, s *Server) *zk.Conn {
	t.Helper()
	c, events, err := zk.Connect([]string{s.Addr().String()}, 2*time.Second, zk.WithLogger(nopLogger{}))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				go func() {
					for range events {
					}
				}()
				return c
			}
		case <-deadline:
			t.Fatal("no session within 5s")
		}
	}
}

// rawClient speaks jute directly, for handshake and bad-input tests.
type rawClient struct {
	t  *testing.T
	nc net.Conn
}

func dialRaw(t *testing.T, s *Server) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	return &rawClient{t: t, nc: nc}
}

func (r *rawClient) send(recs ...jute.Record) {
	r.t.Helper()
	_, err := r.nc.Write(jute.AppendFrame(nil, recs...))
	require.NoError(r.t, err)
}

// readFrame returns the next frame body, or an error (io.EOF when closed).
func (r *rawClient) readFrame() ([]byte, error) {
	_ = r.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var l [4]byte
	if _, err := io.ReadFull(r.nc, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(l[:]))
	_, err := io.ReadFull(r.nc, b)
	return b, err
}

func (r *rawClient) handshake(req jute.ConnectRequest) jute.ConnectResponse {
	r.t.Helper()
	r.send(&req)
	b, err := r.readFrame()
	require.NoError(r.t, err)
	var rsp jute.ConnectResponse
	require.NoError(r.t, jute.Unmarshal(b, &rsp))
	return rsp
}

// call sends a request and returns the reply header and body bytes,
// skipping watch notifications.
func (r *rawClient) call(xid int32, op jute.Op, body jute.Record) (jute.ReplyHeader, []byte) {
	r.t.Helper()
	h := jute.RequestHeader{Xid: xid, Type: op}
	if body == nil {
		r.send(&h)
	} else {
		r.send(&h, body)
	}
	for {
		b, err := r.readFrame()
		require.NoError(r.t, err)
		d := jute.NewDecoder(b)
		var rh jute.ReplyHeader
		rh.Decode(d)
		require.NoError(r.t, d.Err())
		if rh.Xid == jute.XidNotification {
			continue
		}
		return rh, d.Rest()
	}
}

// expectClosed waits for the server to close the connection.
func (r *rawClient) expectClosed() {
	r.t.Helper()
	_ = r.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	for {
		_, err := r.nc.Read(buf)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				r.t.Fatal("server did not close the connection")
			}
			return
		}
	}
}

func newSession(t *testing.T, s *Server, timeout int32) (*rawClient, jute.ConnectResponse) {
	r := dialRaw(t, s)
	rsp := r.handshake(jute.ConnectRequest{TimeOut: timeout, Passwd: make([]byte, 16), HasReadOnly: true})
	require.NotZero(t, rsp.SessionID)
	return r, rsp
}
