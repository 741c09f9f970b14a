package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSessionSurvivesRestart: sessions are part of the persisted state. A
// client that reconnects within its timeout after the server restarted (clean
// stop, then kill -9) keeps its session and ephemerals; a session that does
// not come back expires and its ephemerals go.
func TestSessionSurvivesRestart(t *testing.T) {
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := StartServer(t, kind, ServerOptions{ExtraCfg: []string{"maxSessionTimeout=30000"}})
			keeper, kev := connect(t, srv.Addr(), 20*time.Second)
			leaver, _ := connect(t, srv.Addr(), 3*time.Second)
			acl := zk.WorldACL(zk.PermAll)
			_, err := keeper.Create("/keeper", nil, zk.FlagEphemeral, acl)
			require.NoError(t, err)
			_, err = leaver.Create("/leaver", nil, zk.FlagEphemeral, acl)
			require.NoError(t, err)
			sid := keeper.SessionID()
			leaver.Close() // closeSession: /leaver goes now
			_, err = keeper.Create("/leaver-gone-check", nil, 0, acl)
			require.NoError(t, err)

			lost, _ := connect(t, srv.Addr(), 3*time.Second)
			_, err = lost.Create("/lost", nil, zk.FlagEphemeral, acl)
			require.NoError(t, err)

			for i, how := range []string{"stop", "kill -9"} {
				if how == "stop" {
					srv.Stop()
				} else {
					srv.Kill()
				}
				if i == 0 {
					lost.Close() // the server is down: this session just vanishes
				}
				srv.Restart()
				deadline := time.After(20 * time.Second)
				for back := false; !back; {
					select {
					case e := <-kev:
						require.NotEqual(t, zk.StateExpired, e.State, "after %s the session expired instead of resuming", how)
						back = e.State == zk.StateHasSession
					case <-deadline:
						t.Fatalf("after %s: the client did not get its session back", how)
					}
				}
				assert.Equal(t, sid, keeper.SessionID(), "after %s", how)
				_, st, err := keeper.Exists("/keeper")
				require.NoError(t, err, "after %s", how)
				require.NotNil(t, st, "after %s the ephemeral of a resumed session is gone", how)
				assert.Equal(t, sid, st.EphemeralOwner)
				ok, _, err := keeper.Exists("/leaver")
				require.NoError(t, err)
				assert.False(t, ok, "a closed session's ephemeral came back after %s", how)
			}
			// The session that never came back expires (3s timeout) after the restart.
			require.Eventually(t, func() bool {
				ok, _, err := keeper.Exists("/lost")
				return err == nil && !ok
			}, 20*time.Second, 200*time.Millisecond, "the ephemeral of a session that never reconnected outlived its timeout")
		})
	}
}

// TestSilentSessionExpires: a client that keeps its TCP connection open but
// stops sending (no pings) has its session expired by the server, which
// closes the connection and removes its ephemerals.
func TestSilentSessionExpires(t *testing.T) {
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := StartServer(t, kind, ServerOptions{})
			c := dialRaw(t, srv.Addr())
			rw := false
			resp, err := handshake(c, 600, 0, nil, &rw)
			require.NoError(t, err)
			require.Equal(t, int32(600), resp.TimeOut)
			path := fmt.Sprintf("/silent-%x", resp.SessionID)
			require.NoError(t, writeFrame(c, append(enc(nil).i32(1).i32(opCreate), createBody(path, nil, 1)...)))
			b, err := readFrame(c, 5*time.Second)
			require.NoError(t, err)
			d := &dec{b: b}
			d.i32()
			d.i64()
			require.Equal(t, int32(errOK), d.i32())
			start := time.Now()
			require.NoError(t, waitClosed(c, 10*time.Second), "the server kept a silent session's connection open")
			assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "closed long before the session timeout")
			obs, _ := connect(t, srv.Addr(), 4*time.Second)
			require.Eventually(t, func() bool {
				ok, _, err := obs.Exists(path)
				return err == nil && !ok
			}, 10*time.Second, 100*time.Millisecond, "the silent session's ephemeral stayed")
			// Its id is dead: resuming it is refused.
			c2 := dialRaw(t, srv.Addr())
			again, err := handshake(c2, 600, resp.SessionID, resp.Passwd, &rw)
			require.NoError(t, err)
			assert.Zero(t, again.TimeOut, "an expired session was resumed")
		})
	}
}

// TestWatchFanOut: one change notifies every watching session exactly once.
func TestWatchFanOut(t *testing.T) {
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := StartServer(t, kind, ServerOptions{})
			w, _ := connect(t, srv.Addr(), 4*time.Second)
			_, err := w.Create("/fan", nil, 0, zk.WorldACL(zk.PermAll))
			require.NoError(t, err)
			const n = 20
			var data, kids []<-chan zk.Event
			for i := 0; i < n; i++ {
				c, _ := connect(t, srv.Addr(), 4*time.Second)
				_, _, dch, err := c.GetW("/fan")
				require.NoError(t, err)
				_, _, cch, err := c.ChildrenW("/fan")
				require.NoError(t, err)
				data, kids = append(data, dch), append(kids, cch)
			}
			_, err = w.Set("/fan", []byte("x"), -1)
			require.NoError(t, err)
			_, err = w.Create("/fan/k", nil, 0, zk.WorldACL(zk.PermAll))
			require.NoError(t, err)
			for i := 0; i < n; i++ {
				e := waitEvent(t, data[i], fmt.Sprintf("data watcher %d", i))
				assert.Equal(t, zk.EventNodeDataChanged, e.Type)
				e = waitEvent(t, kids[i], fmt.Sprintf("child watcher %d", i))
				assert.Equal(t, zk.EventNodeChildrenChanged, e.Type)
			}
			out, err := fourLetter(srv.Addr(), "wchs", 5*time.Second)
			require.NoError(t, err)
			assert.Contains(t, out, "Total watches:0", "fired watches are gone from the server")

			// Watches of closed sessions are dropped too.
			var closers []*zk.Conn
			for i := 0; i < 5; i++ {
				c, _ := connect(t, srv.Addr(), 4*time.Second)
				_, _, _, err := c.GetW("/fan")
				require.NoError(t, err)
				_, _, _, err = c.ExistsW(fmt.Sprintf("/fan/none%d", i))
				require.NoError(t, err)
				closers = append(closers, c)
			}
			out, err = fourLetter(srv.Addr(), "wchs", 5*time.Second)
			require.NoError(t, err)
			assert.Contains(t, out, "Total watches:10")
			for _, c := range closers {
				c.Close()
			}
			require.Eventually(t, func() bool {
				out, err := fourLetter(srv.Addr(), "wchs", 5*time.Second)
				return err == nil && strings.Contains(out, "Total watches:0")
			}, 10*time.Second, 100*time.Millisecond, "closed sessions' watches stayed registered")
		})
	}
}
