package server

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/proto/jute"
	"mqstack/storage/vfs"
)

// recoverFrom starts a server on a crash image and returns the /d children.
func recoverFrom(t *testing.T, fs *vfs.MemFS, dataDir string) map[string]bool {
	t.Helper()
	cfg := testConfig(t)
	cfg.DataDir, cfg.DataLogDir = dataDir, dataDir
	s, err := New(cfg, testLogger(t))
	require.NoError(t, err)
	s.FS = fs
	require.NoError(t, s.Start(), "recovery from a crash image must succeed")
	defer s.Close()
	c := connect(t, s)
	kids, _, err := c.Children("/")
	require.NoError(t, err)
	out := map[string]bool{}
	for _, k := range kids {
		out[k] = true
	}
	return out
}

// TestAcknowledgedWritesSurviveCrash: a crash image taken right after each
// reply holds that write (the log is fsynced before replies are released);
// crash images taken after arbitrary fs operations recover to a prefix of
// the writes.
func TestAcknowledgedWritesSurviveCrash(t *testing.T) {
	cfg := testConfig(t)
	cfg.SnapCount = 8 // snapshots and log rolls in the middle of the workload
	fs := vfs.NewMem()
	s, err := New(cfg, testLogger(t))
	require.NoError(t, err)
	s.FS = fs
	require.NoError(t, s.Start())
	defer s.Close()
	c := connect(t, s)
	const n = 24
	startOps := fs.Ops()
	images := make([]*vfs.MemFS, n)
	for i := 0; i < n; i++ {
		_, err := c.Create(fmt.Sprintf("/n%02d", i), []byte("x"), 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err)
		images[i] = fs.CrashClone()
	}
	totalOps := fs.Ops() - startOps
	for i := 0; i < n; i += 5 {
		got := recoverFrom(t, images[i], cfg.DataDir)
		for j := 0; j <= i; j++ {
			assert.True(t, got[fmt.Sprintf("n%02d", j)], "acknowledged create %d lost in the image after ack %d", j, i)
		}
	}

	// Crash after the k-th fs operation of the same workload on a fresh FS.
	// Snapshot points are randomized (snapCount/2..snapCount), so op counts
	// vary a little between runs: crash within the first 60% of them.
	for k := 1; k <= totalOps*6/10; k += max(1, totalOps/15) {
		fs2 := vfs.NewMem()
		s2, err := New(cfg, testLogger(t))
		require.NoError(t, err)
		s2.FS = fs2
		require.NoError(t, s2.Start())
		c2 := connect(t, s2)
		fs2.CrashAfter(k)
		acked := 0
		for i := 0; i < n; i++ {
			_, err := c2.Create(fmt.Sprintf("/n%02d", i), []byte("x"), 0, zk.WorldACL(zk.PermAll))
			require.NoError(t, err)
			acked++
		}
		c2.Close()
		require.NoError(t, s2.Close())
		img := fs2.CrashImage()
		require.NotNil(t, img, "crash point %d not reached", k)
		got := recoverFrom(t, img, cfg.DataDir)
		// A prefix: n00..n(m-1) present, nothing after a gap.
		m := 0
		for m < n && got[fmt.Sprintf("n%02d", m)] {
			m++
		}
		for j := m; j < n; j++ {
			assert.False(t, got[fmt.Sprintf("n%02d", j)], "crash after op %d: n%02d present after a gap at %d", k, j, m)
		}
	}
}

// TestLogFailureStopsServing: when the log cannot be written or synced the
// request is not acknowledged and the server stops, so nothing unlogged is
// ever reported as done.
func TestLogFailureStopsServing(t *testing.T) {
	for _, op := range []vfs.Op{vfs.OpSync, vfs.OpWrite} {
		t.Run(op.String(), func(t *testing.T) {
			cfg := testConfig(t)
			fs := vfs.NewMem()
			s, err := New(cfg, testLogger(t))
			require.NoError(t, err)
			s.FS = fs
			require.NoError(t, s.Start())
			defer s.Close()
			r, _ := newSession(t, s, 2000)
			rh, _ := r.call(1, jute.OpCreate, &jute.CreateRequest{Path: "/ok", ACL: jute.OpenACLUnsafe})
			require.Equal(t, jute.ErrOK, rh.Err)
			fs.FailNth(1, op)
			r.send(&jute.RequestHeader{Xid: 2, Type: jute.OpCreate}, &jute.CreateRequest{Path: "/lost", ACL: jute.OpenACLUnsafe})
			for {
				b, err := r.readFrame()
				if err != nil {
					break // closed without a reply for xid 2
				}
				var h jute.ReplyHeader
				require.NoError(t, decodeHeader(b, &h))
				require.NotEqual(t, int32(2), h.Xid, "a failed log write must not be acknowledged")
			}
			require.Eventually(t, func() bool {
				nc, err := net.Dial("tcp", s.Addr().String())
				if err != nil {
					return true
				}
				_ = nc.Close()
				return false
			}, 5*time.Second, 20*time.Millisecond, "the server stops serving")
		})
	}
}

func decodeHeader(b []byte, h *jute.ReplyHeader) error {
	d := jute.NewDecoder(b)
	h.Decode(d)
	return d.Err()
}

// TestLogOpenFailureNotAcknowledged: the first append after a roll creates
// the log file; when that fails the session is not acknowledged either.
func TestLogOpenFailureNotAcknowledged(t *testing.T) {
	cfg := testConfig(t)
	fs := vfs.NewMem()
	s, err := New(cfg, testLogger(t))
	require.NoError(t, err)
	s.FS = fs
	require.NoError(t, s.Start())
	defer s.Close()
	fs.FailNth(1, vfs.OpOpen)
	r := dialRaw(t, s)
	r.send(&jute.ConnectRequest{TimeOut: 2000, Passwd: make([]byte, 16), HasReadOnly: true})
	_, err = r.readFrame()
	require.Error(t, err, "no ConnectResponse for a session whose createSession txn was not logged")
}
