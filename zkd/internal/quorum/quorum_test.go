package quorum

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"mqstack/election/fle"
	equorum "mqstack/election/quorum"
	"mqstack/proto/peer"
	"mqstack/storage/vfs"
)

func TestEpochFiles(t *testing.T) {
	dir := t.TempDir()
	fsys := vfs.OS()
	v, found, err := ReadEpoch(fsys, dir, AcceptedEpochFile)
	require.NoError(t, err)
	require.False(t, found)
	require.Zero(t, v)
	require.NoError(t, WriteEpoch(fsys, dir, AcceptedEpochFile, 7))
	v, found, err = ReadEpoch(fsys, dir, AcceptedEpochFile)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, int64(7), v)
	data, err := os.ReadFile(filepath.Join(dir, AcceptedEpochFile))
	require.NoError(t, err)
	require.Equal(t, "7\n", string(data))
	require.NoError(t, os.WriteFile(filepath.Join(dir, CurrentEpochFile), []byte("seven"), 0o644))
	_, _, err = ReadEpoch(fsys, dir, CurrentEpochFile)
	require.ErrorIs(t, err, ErrEpochFile)
	require.Contains(t, err.Error(), filepath.Join(dir, CurrentEpochFile))
}

func TestFrameLimits(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, writeFrame(&buf, peer.Notification{State: peer.Looking, Leader: 3, Zxid: 5, ElectionEpoch: 1}))
	m, err := readFrame(bytes.NewReader(buf.Bytes()), peer.MaxElectionSize)
	require.NoError(t, err)
	require.Equal(t, uint64(3), m.(peer.Notification).Leader)
	// A length above the limit is refused before the body is read.
	var big [4]byte
	binary.BigEndian.PutUint32(big[:], peer.MaxElectionSize+1)
	_, err = readFrame(bytes.NewReader(big[:]), peer.MaxElectionSize)
	require.ErrorIs(t, err, ErrPeer)
}

// Three electors over real sockets agree on the highest id (equal zxids and
// epochs): the seeds' "the same EPOCH and zxid, the larger server id wins".
func TestElectorsAgreeOverTCP(t *testing.T) {
	const n = 3
	var lns []net.Listener
	var members []Member
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		lns = append(lns, ln)
		members = append(members, Member{ID: uint64(i + 1), ElectionAddr: ln.Addr().String()})
	}
	v, err := equorum.NewVerifier([]uint64{1, 2, 3}, nil)
	require.NoError(t, err)
	decided := make(chan [2]uint64, n)
	var els []*Elector
	for i := 0; i < n; i++ {
		id := uint64(i + 1)
		e, err := NewElector(ElectorConfig{ID: id, Members: members, Verifier: v, Listener: lns[i], Logger: zerolog.Nop(),
			OnDecision: func(d fle.Decision) { decided <- [2]uint64{id, d.Vote.Leader} }})
		require.NoError(t, err)
		els = append(els, e)
		e.Run()
		t.Cleanup(e.Close)
	}
	// Every pair connected first: otherwise 1 and 2 may rightly settle on
	// 2 within the finalize wait before 3's connection is up (seen on a
	// loaded machine), and the test would not be about the vote order.
	require.Eventually(t, func() bool {
		for _, e := range els {
			e.mu.Lock()
			n := len(e.links)
			e.mu.Unlock()
			if n != 2 {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond)
	for i, e := range els {
		e.Lookup(fle.Vote{Leader: uint64(i + 1), Zxid: 10, PeerEpoch: 1})
	}
	got := map[uint64]uint64{}
	deadline := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case d := <-decided:
			got[d[0]] = d[1]
		case <-deadline:
			t.Fatalf("decisions so far: %v", got)
		}
	}
	require.Equal(t, map[uint64]uint64{1: 3, 2: 3, 3: 3}, got)
	require.Equal(t, peer.Leading, els[2].State())
	require.Equal(t, peer.Following, els[0].State())
}

func FuzzReadFrame(f *testing.F) {
	var valid bytes.Buffer
	_ = writeFrame(&valid, peer.Hello{ServerID: 1, Version: peer.ProtocolVersion})
	f.Add(valid.Bytes())
	f.Add([]byte{})
	f.Add(valid.Bytes()[:valid.Len()-1])
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := readFrame(bytes.NewReader(b), peer.MaxElectionSize)
		if err == nil {
			var out bytes.Buffer
			require.NoError(t, writeFrame(&out, m))
		}
	})
}

// dialHello connects to addr, says Hello as id and reports whether the
// connection stays open for a moment afterwards.
func dialHello(t *testing.T, addr string, id uint64) (answered uint64, keptOpen bool) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer nc.Close()
	require.NoError(t, writeFrame(nc, peer.Hello{ServerID: id, Version: peer.ProtocolVersion}))
	_ = nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	m, err := readFrame(nc, peer.MaxElectionSize)
	if err != nil {
		return 0, false
	}
	answered = m.(peer.Hello).ServerID
	_ = nc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	var b [1]byte
	_, err = nc.Read(b[:])
	var ne net.Error
	return answered, errors.As(err, &ne) && ne.Timeout()
}

func TestElectionPortConnectionRule(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	v, err := equorum.NewVerifier([]uint64{1, 2, 3}, nil)
	require.NoError(t, err)
	e, err := NewElector(ElectorConfig{ID: 2, Verifier: v, Listener: ln, Logger: zerolog.Nop(),
		Members: []Member{{ID: 1, ElectionAddr: "127.0.0.1:1"}, {ID: 2, ElectionAddr: ln.Addr().String()}, {ID: 3, ElectionAddr: "127.0.0.1:1"}}})
	require.NoError(t, err)
	e.Run()
	t.Cleanup(e.Close)
	// The higher id keeps the connection; a lower id's is closed (server 2
	// dials server 1 itself); a stranger is refused.
	id, open := dialHello(t, ln.Addr().String(), 3)
	require.Equal(t, uint64(2), id)
	require.True(t, open, "a connection from a higher id is kept")
	id, open = dialHello(t, ln.Addr().String(), 1)
	require.Equal(t, uint64(2), id)
	require.False(t, open, "a connection from a lower id is closed")
	_, open = dialHello(t, ln.Addr().String(), 9)
	require.False(t, open, "a server id that is not in the ensemble is refused")
}

func TestQuorumPortRefusesStrangers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	v, err := equorum.NewVerifier([]uint64{1, 2, 3}, nil)
	require.NoError(t, err)
	got := make(chan uint64, 4)
	q := NewQuorumPort(ln, 1, v, zerolog.Nop(), func(l *Link) (LinkHandler, bool) {
		got <- l.Peer()
		return LinkHandler{OnMsg: func(*Link, peer.Msg) {}, OnClose: func(*Link, error) {}}, true
	})
	t.Cleanup(q.Close)
	_, open := dialHello(t, ln.Addr().String(), 7)
	require.False(t, open)
	id, open := dialHello(t, ln.Addr().String(), 2)
	require.Equal(t, uint64(1), id)
	require.True(t, open)
	require.Equal(t, uint64(2), <-got)
	require.Empty(t, got, "the stranger never reached the handler")
}
