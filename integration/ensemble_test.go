package integration

// Replicated ensembles of real bin/zkd processes: election, replication,
// forwarding, global sessions, failover under load, pauses, catch-up.

import (
	"fmt"
	"net"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

var ensembleOpts = ServerOptions{TickTime: 100 * time.Millisecond}

func roleCount(e *Ensemble, skip ...int) map[string]int {
	out := map[string]int{}
	for i := range e.Servers {
		if !contains(skip, i) {
			out[e.Mode(i)]++
		}
	}
	return out
}

func TestEnsembleThreeServers(t *testing.T) {
	e := StartEnsemble(t, 3, 0, ensembleOpts)
	leader := e.WaitSettled(30 * time.Second)
	require.Equal(t, map[string]int{"leader": 1, "follower": 2}, roleCount(e))

	follower := (leader + 1) % 3
	c := e.Client(e.Servers[follower].Addr())
	_, err := c.Create("/written-on-follower", []byte("hello"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, err = c.Set("/written-on-follower", []byte("v2"), 0)
	require.NoError(t, err)
	for i := range e.Servers {
		d, ok := e.SyncedGet(i, "/written-on-follower")
		require.True(t, ok, "server.%d lacks the node", i+1)
		require.Equal(t, "v2", string(d), "server.%d", i+1)
	}
	// The leader's mntr has the leader-only keys; conf shows the quorum.
	mntr, err := fourLetter(e.Servers[leader].Addr(), "mntr", time.Second)
	require.NoError(t, err)
	require.Contains(t, mntr, "zk_server_state\tleader")
	require.Contains(t, mntr, "zk_synced_followers\t2")
	conf, err := fourLetter(e.Servers[follower].Addr(), "conf", time.Second)
	require.NoError(t, err)
	require.Contains(t, conf, "quorumPort=")
	require.Contains(t, conf, "membership: \nserver.1=127.0.0.1:")
	// The seeds' status loop, literally: `echo stat | nc host port` on each
	// node, printing Mode.
	if _, err := exec.LookPath("nc"); err == nil {
		var script strings.Builder
		for _, s := range e.Servers {
			host, port, _ := net.SplitHostPort(s.Addr())
			fmt.Fprintf(&script, "echo stat | nc %s %s | grep Mode\n", host, port)
		}
		out, err := exec.Command("bash", "-c", script.String()).CombinedOutput()
		require.NoError(t, err, string(out))
		require.Equal(t, 1, strings.Count(string(out), "Mode: leader"), string(out))
		require.Equal(t, 2, strings.Count(string(out), "Mode: follower"), string(out))
	} else {
		for i := range e.Servers {
			out, err := fourLetter(e.Servers[i].Addr(), "stat", time.Second)
			require.NoError(t, err)
			require.Regexp(t, `Mode: (leader|follower)\n`, out)
		}
	}
}

func TestEnsembleFiveVotersAndObserver(t *testing.T) {
	e := StartEnsemble(t, 5, 1, ensembleOpts)
	e.WaitSettled(40 * time.Second)
	require.Equal(t, map[string]int{"leader": 1, "follower": 4, "observer": 1}, roleCount(e))
	obs := 5
	c := e.Client(e.Servers[obs].Addr())
	_, err := c.Create("/via-observer", []byte("o"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	for i := range e.Servers {
		d, ok := e.SyncedGet(i, "/via-observer")
		require.True(t, ok, "server.%d", i+1)
		require.Equal(t, "o", string(d))
	}
}

// A session keeps its id and ephemerals when its client moves to another
// server; when it expires (the leader decides) the ephemeral disappears on
// every server.
func TestEnsembleGlobalSessions(t *testing.T) {
	e := StartEnsemble(t, 3, 0, ensembleOpts)
	leader := e.WaitSettled(30 * time.Second)
	a, b := e.Servers[(leader+1)%3].Addr(), e.Servers[(leader+2)%3].Addr()
	var dials atomic.Int32
	var allow atomic.Bool
	allow.Store(true)
	var cur atomic.Pointer[net.Conn]
	dialer := func(network, _ string, timeout time.Duration) (net.Conn, error) {
		if !allow.Load() {
			return nil, fmt.Errorf("dialing disabled by the test")
		}
		addr := a
		if dials.Add(1) > 1 {
			addr = b
		}
		nc, err := net.DialTimeout(network, addr, timeout)
		if err == nil {
			cur.Store(&nc)
		}
		return nc, err
	}
	c, events, err := zk.Connect([]string{a}, 2*time.Second, zk.WithLogger(quietLogger{}), zk.WithDialer(dialer))
	require.NoError(t, err)
	defer c.Close()
	states := make(chan zk.State, 64)
	go func() {
		for ev := range events {
			if ev.Type == zk.EventSession {
				states <- ev.State
			}
		}
	}()
	waitFor := func(want zk.State) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case s := <-states:
				if s == want {
					return
				}
			case <-deadline:
				t.Fatalf("no %v", want)
			}
		}
	}
	waitFor(zk.StateHasSession)
	_, err = c.Create("/eph", []byte("mine"), zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	sid := c.SessionID()
	_ = (*cur.Load()).Close() // drop the connection: the client moves to b
	waitFor(zk.StateHasSession)
	require.Equal(t, sid, c.SessionID())
	require.Equal(t, int32(2), dials.Load())
	ok, st, err := c.Exists("/eph")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, sid, st.EphemeralOwner)

	allow.Store(false)
	_ = (*cur.Load()).Close()
	deadline := time.Now().Add(20 * time.Second)
	for i := range e.Servers {
		for {
			_, ok := e.SyncedGet(i, "/eph")
			if !ok {
				break
			}
			require.True(t, time.Now().Before(deadline), "server.%d still has the ephemeral of the expired session", i+1)
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// kill -9 of the leader under a steady write load: a new leader is elected
// and no acknowledged write is lost.
func TestEnsembleLeaderKillUnderLoad(t *testing.T) {
	e := StartEnsemble(t, 3, 0, ensembleOpts)
	leader := e.WaitSettled(30 * time.Second)
	_, err := e.Client(e.Addrs()...).Create("/load", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)

	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		c := e.Client(e.Addrs(leader)...) // writers talk to the followers
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := fmt.Sprintf("/load/w%d-%05d", w, i)
				if _, err := c.Create(p, []byte("x"), 0, zk.WorldACL(zk.PermAll)); err == nil {
					mu.Lock()
					acked = append(acked, p)
					mu.Unlock()
				} else {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}(w)
	}
	time.Sleep(700 * time.Millisecond)
	e.Servers[leader].Kill()
	newLeader := e.WaitSettled(30*time.Second, leader)
	require.NotEqual(t, leader, newLeader)
	time.Sleep(700 * time.Millisecond)
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, acked)
	for _, i := range []int{(leader + 1) % 3, (leader + 2) % 3} {
		c := e.Client(e.Servers[i].Addr())
		_, err := c.Sync("/load")
		require.NoError(t, err)
		kids, _, err := c.Children("/load")
		require.NoError(t, err)
		have := map[string]bool{}
		for _, k := range kids {
			have["/load/"+k] = true
		}
		var lost []string
		for _, p := range acked {
			if !have[p] {
				lost = append(lost, p)
			}
		}
		require.Empty(t, lost, "server.%d lost acknowledged writes (%d acked)", i+1, len(acked))
	}
	// The killed leader rejoins as a follower and catches up.
	e.Servers[leader].Restart()
	e.WaitSettled(30 * time.Second)
	require.Equal(t, "follower", e.Mode(leader))
	d, ok := e.SyncedGet(leader, acked[len(acked)-1])
	require.True(t, ok)
	require.Equal(t, "x", string(d))
}

// SIGSTOP of the leader for longer than syncLimit: the others elect a new
// leader; after SIGCONT the old leader gives up and rejoins as a follower.
func TestEnsembleLeaderPauseRejoinsAsFollower(t *testing.T) {
	e := StartEnsemble(t, 3, 0, ensembleOpts)
	leader := e.WaitSettled(30 * time.Second)
	pid := e.Servers[leader].PID()
	require.NoError(t, syscall.Kill(pid, syscall.SIGSTOP))
	stopped := true
	defer func() {
		if stopped {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}()
	newLeader := e.WaitSettled(30*time.Second, leader)
	require.NotEqual(t, leader, newLeader)
	c := e.Client(e.Addrs(leader)...)
	_, err := c.Create("/while-paused", []byte("p"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(pid, syscall.SIGCONT))
	stopped = false
	e.WaitSettled(30 * time.Second)
	require.Equal(t, "follower", e.Mode(leader))
	d, ok := e.SyncedGet(leader, "/while-paused")
	require.True(t, ok)
	require.Equal(t, "p", string(d))
}

// A follower restarted after falling a little behind catches up by DIFF; one
// that fell behind the leader's in-memory committed log (500 txns) gets a
// SNAP (here with a small snapCount, so snapshots roll during the load).
func TestEnsembleFollowerCatchUpDiffAndSnap(t *testing.T) {
	opts := ensembleOpts
	opts.SnapCount = 50
	e := StartEnsemble(t, 3, 0, opts)
	leader := e.WaitSettled(30 * time.Second)
	f := (leader + 1) % 3
	c := e.Client(e.Servers[leader].Addr())
	write := func(prefix string, n int) {
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := w; i < n; i += 8 {
					if _, err := c.Create(fmt.Sprintf("%s-%04d", prefix, i), []byte(prefix), 0, zk.WorldACL(zk.PermAll)); err != nil {
						errs <- err
						return
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	}
	write("/diff", 10)
	e.Servers[f].Stop()
	write("/diff-missed", 30)
	e.Servers[f].Restart()
	e.WaitSettled(30 * time.Second)
	d, ok := e.SyncedGet(f, "/diff-missed-0029")
	require.True(t, ok)
	require.Equal(t, "/diff-missed", string(d))
	require.False(t, e.Servers[leader].LogsContain("SNAP at"), "a short outage must be synced by DIFF")

	e.Servers[f].Stop()
	write("/snap-missed", 600)
	e.Servers[f].Restart()
	e.WaitSettled(30 * time.Second)
	d, ok = e.SyncedGet(f, "/snap-missed-0599")
	require.True(t, ok)
	require.Equal(t, "/snap-missed", string(d))
	require.True(t, e.Servers[leader].LogsContain("SNAP at"), "the leader should have sent a SNAP")
	fc := e.Client(e.Servers[f].Addr())
	kids, _, err := fc.Children("/")
	require.NoError(t, err)
	sort.Strings(kids)
	n := 0
	for _, k := range kids {
		if strings.HasPrefix(k, "snap-missed-") {
			n++
		}
	}
	require.Equal(t, 600, n)
}

// A server that loses its quorum stops serving and closes its clients: a
// minority never accepts a write. Once a quorum is back, writes resume.
func TestEnsembleMinorityRefusesWrites(t *testing.T) {
	e := StartEnsemble(t, 3, 0, ensembleOpts)
	leader := e.WaitSettled(30 * time.Second)
	c, events, err := zk.Connect([]string{e.Servers[leader].Addr()}, 2*time.Second, zk.WithLogger(quietLogger{}))
	require.NoError(t, err)
	defer c.Close()
	disconnected := make(chan struct{})
	connected := make(chan struct{}, 1)
	go func() {
		once := false
		for ev := range events {
			if ev.State == zk.StateHasSession {
				select {
				case connected <- struct{}{}:
				default:
				}
			}
			if ev.State == zk.StateDisconnected && !once {
				once = true
				close(disconnected)
			}
		}
	}()
	<-connected
	_, err = c.Create("/before", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	others := []int{(leader + 1) % 3, (leader + 2) % 3}
	for _, i := range others {
		e.Servers[i].Kill()
	}
	select {
	case <-disconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("the leader kept its clients after losing its quorum")
	}
	// The lone server serves nobody and accepts no write.
	require.Eventually(t, func() bool { return e.Mode(leader) == "" }, 10*time.Second, 100*time.Millisecond)
	cc, ev2, err := zk.Connect([]string{e.Servers[leader].Addr()}, 2*time.Second, zk.WithLogger(quietLogger{}))
	require.NoError(t, err)
	got := false
	timeout := time.After(2 * time.Second)
wait:
	for {
		select {
		case ev := <-ev2:
			if ev.State == zk.StateHasSession {
				got = true
				break wait
			}
		case <-timeout:
			break wait
		}
	}
	cc.Close()
	require.False(t, got, "a server without quorum gave a client a session")

	e.Servers[others[0]].Restart()
	e.WaitSettled(30*time.Second, others[1])
	c2 := e.Client(e.Addrs(others[1])...)
	_, err = c2.Create("/after", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	_, ok := e.SyncedGet(others[0], "/before")
	require.True(t, ok)
}

// Observers never count toward a majority: with two voters and an
// observer, losing one voter leaves no quorum although two servers run.
func TestEnsembleObserverDoesNotCountForQuorum(t *testing.T) {
	e := StartEnsemble(t, 2, 1, ensembleOpts)
	leader := e.WaitSettled(30 * time.Second)
	require.Equal(t, map[string]int{"leader": 1, "follower": 1, "observer": 1}, roleCount(e))
	voter := 1 - leader // the other voter (indexes 0 and 1 are the voters)
	e.Servers[voter].Kill()
	require.Eventually(t, func() bool { return e.Mode(leader) == "" && e.Mode(2) == "" }, 10*time.Second, 100*time.Millisecond,
		"a voter and an observer must not form a quorum of two voters")
	e.Servers[voter].Restart()
	e.WaitSettled(30 * time.Second)
	c := e.Client(e.Servers[2].Addr())
	_, err := c.Create("/quorum-back", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
}

// The seeds' election walk-through: five servers with empty data started
// one after the other. Servers 1 and 2 alone are no quorum; when server 3
// starts, 1, 2 and 3 agree on the largest id among them and 3 leads; 4 and
// 5 find a decided majority and follow it.
func TestEnsembleFiveStartedInOrderServer3Leads(t *testing.T) {
	e := StartEnsembleInOrder(t, 5, ensembleOpts)
	e.Start(0)
	e.Start(1)
	time.Sleep(500 * time.Millisecond)
	require.Equal(t, "", e.Mode(0), "two of five servers must not form a quorum")
	require.Equal(t, "", e.Mode(1))
	e.Start(2)
	leader := e.WaitSettled(30*time.Second, 3, 4)
	require.Equal(t, 2, leader, "server.3 should lead")
	e.Start(3)
	e.Start(4)
	require.Equal(t, 2, e.WaitSettled(30*time.Second))
	require.Equal(t, map[string]int{"leader": 1, "follower": 4}, roleCount(e))
}
