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

// TestFourLetterWords checks each word answers with the markers operators'
// tools parse, on both servers.
func TestFourLetterWords(t *testing.T) {
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := StartServer(t, kind, ServerOptions{})
			c, _ := connect(t, srv.Addr(), 4*time.Second)
			_, err := c.Create("/flw", []byte("x"), 0, zk.WorldACL(zk.PermAll))
			require.NoError(t, err)
			_, _, _, err = c.GetW("/flw")
			require.NoError(t, err)
			_, err = c.Create("/flw-eph", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
			require.NoError(t, err)

			out, err := fourLetter(srv.Addr(), "srst", 5*time.Second)
			require.NoError(t, err)
			assert.Equal(t, "Server stats reset.\n", out)
			out, err = fourLetter(srv.Addr(), "crst", 5*time.Second)
			require.NoError(t, err)
			assert.Equal(t, "Connection stats reset.\n", out)
			for _, tc := range []struct {
				word string
				want []string
			}{
				{"ruok", []string{"imok"}},
				{"srvr", []string{"Zookeeper version: ", "Latency min/avg/max: ", "Received: ", "Sent: ", "Connections: ", "Outstanding: ", "Zxid: 0x", "Mode: standalone", "Node count: "}},
				{"stat", []string{"Zookeeper version: ", "Clients:\n", " /127.0.0.1:", "Mode: standalone", "Node count: "}},
				{"mntr", []string{"zk_version\t", "zk_server_state\tstandalone", "zk_znode_count\t", "zk_watch_count\t", "zk_num_alive_connections\t", "zk_outstanding_requests\t", "zk_avg_latency\t", "zk_ephemerals_count\t", "zk_approximate_data_size\t"}},
				{"conf", []string{"clientPort=" + portOf(srv.Addr()), "dataDir=" + srv.DataDir, "tickTime=200", "maxSessionTimeout=4000", "minSessionTimeout=400"}},
				{"cons", []string{" /127.0.0.1:", "(queued=", "recved=", "sent=", "sid=0x"}},
				{"envi", []string{"Environment:\n", "zookeeper.version=", "host.name=", "user.name="}},
				{"wchs", []string{"connections watching 1 paths", "Total watches:1"}},
				{"dirs", []string{"datadir_size: ", "logdir_size: "}},
				{"isro", []string{"rw"}},
				{"wchc", []string{fmt.Sprintf("0x%x\n\t/flw\n", c.SessionID())}},
				{"wchp", []string{fmt.Sprintf("/flw\n\t0x%x\n", c.SessionID())}},
				{"dump", []string{"SessionTracker dump:", "ephemeral nodes dump:", fmt.Sprintf("0x%x:\n\t/flw-eph\n", c.SessionID())}},
			} {
				out, err := fourLetter(srv.Addr(), tc.word, 5*time.Second)
				require.NoError(t, err, tc.word)
				for _, w := range tc.want {
					assert.Contains(t, out, w, "%s answer:\n%s", tc.word, out)
				}
			}
			// Anything in mntr is tab-separated key/value, and the counts
			// are Apache's: zk_znode_count is 7 for /, /zookeeper,
			// /zookeeper/quota, /zookeeper/config, /flw and /flw-eph (Apache
			// 3.8 reports one more than the znodes a client can see), and the
			// mntr connection itself is alive.
			out, err = fourLetter(srv.Addr(), "mntr", 5*time.Second)
			require.NoError(t, err)
			mntr := map[string]string{}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				kv := strings.Split(line, "\t")
				if assert.Len(t, kv, 2, "mntr line %q", line) {
					mntr[kv[0]] = kv[1]
				}
			}
			assert.Equal(t, "7", mntr["zk_znode_count"])
			// The earlier four-letter-word connections are closed by the
			// server; its count of live ones must come down to the client
			// plus this mntr connection.
			alive := mntr["zk_num_alive_connections"]
			for deadline := time.Now().Add(5 * time.Second); alive != "2" && time.Now().Before(deadline); {
				time.Sleep(100 * time.Millisecond)
				out, err := fourLetter(srv.Addr(), "mntr", 5*time.Second)
				require.NoError(t, err)
				for _, line := range strings.Split(out, "\n") {
					if v, ok := strings.CutPrefix(line, "zk_num_alive_connections\t"); ok {
						alive = v
					}
				}
			}
			assert.Equal(t, "2", alive, "zk_num_alive_connections: one client and the mntr connection")
			assert.Equal(t, "1", mntr["zk_ephemerals_count"])
			assert.Equal(t, "1", mntr["zk_watch_count"])
			assert.Equal(t, "standalone", mntr["zk_server_state"])
		})
	}
}

func portOf(addr string) string {
	i := strings.LastIndex(addr, ":")
	return addr[i+1:]
}

// TestFourLetterWhitelist: a word outside 4lw.commands.whitelist is refused
// with Apache's message, a listed one answers.
func TestFourLetterWhitelist(t *testing.T) {
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := StartServer(t, kind, ServerOptions{Whitelist: "srvr, ruok"})
			out, err := fourLetter(srv.Addr(), "ruok", 5*time.Second)
			require.NoError(t, err)
			assert.Equal(t, "imok", out)
			for _, w := range []string{"stat", "mntr", "conf", "envi", "dump"} {
				out, err := fourLetter(srv.Addr(), w, 5*time.Second)
				require.NoError(t, err)
				assert.Equal(t, w+" is not executed because it is not in the whitelist.\n", out)
			}
			out, err = fourLetter(srv.Addr(), "srvr", 5*time.Second)
			require.NoError(t, err)
			assert.Contains(t, out, "Mode: standalone")
		})
	}
}
