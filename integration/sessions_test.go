package integration

import (
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
