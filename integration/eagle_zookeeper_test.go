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

// eagle on a three-server zkd ensemble whose whitelist refuses mntr: srvr
// is read and mntr shown as "not in the whitelist" (never as zeros), the
// quorum verdict and the leader change follow the leader's death, a topic
// znode the brokers cannot read shows up as a cross-check, and the tree
// browser decodes Kafka's znodes under the chroot.
func TestEagleZooKeeper(t *testing.T) {
	ens := StartEnsemble(t, 3, 0, ServerOptions{Whitelist: "srvr,ruok"})
	leader := ens.WaitSettled(60 * time.Second)
	connect := strings.Join(ens.Addrs(), ",") + "/zkcheck"
	startBrokerd(t, 1, connect)
	hook := newWebhookSink(t)
	e := startEagle(t, fmt.Sprintf("efak.zk.cluster.alias=ens\nens.zk.list=%s\neagle.collect.interval=1s\neagle.admin.password=zk-admin-pw\neagle.alert.webhook=%s\n", connect, hook.srv.URL))
	s := eagleLogin(t, e.URL, "admin", "zk-admin-pw")

	type zkJSON struct {
		Servers []struct {
			Addr             string
			Up               bool
			MntrNotWhitelist bool
			MntrError        string
			Srvr             *struct{ Mode string }
			Mntr             map[string]string
		}
		Quorum struct{ Level, Text, Leader string }
	}
	var z zkJSON
	eventually(t, 30*time.Second, "all three servers read", func() string {
		if code := getJSON(t, s, "/zookeeper?cluster=ens", &z); code != 200 {
			return fmt.Sprint(code)
		}
		if len(z.Servers) != 3 || z.Quorum.Level != "green" {
			return fmt.Sprintf("%+v", z)
		}
		return ""
	})
	modes := map[string]int{}
	for _, srv := range z.Servers {
		require.True(t, srv.Up, srv.Addr)
		require.NotNil(t, srv.Srvr, srv.Addr)
		modes[srv.Srvr.Mode]++
		assert.True(t, srv.MntrNotWhitelist, srv.Addr)
		assert.Contains(t, srv.MntrError, "not in the whitelist")
		assert.Nil(t, srv.Mntr, "a refused mntr is not shown as values")
	}
	assert.Equal(t, map[string]int{"leader": 1, "follower": 2}, modes)
	assert.Equal(t, ens.Servers[leader].Addr(), z.Quorum.Leader)
	code, body, _ := s.get("/zookeeper?cluster=ens")
	require.Equal(t, 200, code)
	assert.Contains(t, body, "mntr is not in the whitelist")

	// A topic znode with a payload Kafka cannot read: in ZooKeeper, not in
	// the metadata.
	zc, _, err := zk.Connect(ens.Addrs(), 10*time.Second, zk.WithLogger(quietLogger{}))
	require.NoError(t, err)
	defer zc.Close()
	_, err = zc.Create("/zkcheck/brokers/topics/ghost", []byte("not json"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	var checks struct {
		Checks []struct{ Kind, Key, Text string }
	}
	eventually(t, 30*time.Second, "the ghost topic cross-check", func() string {
		getJSON(t, s, "/checks?cluster=ens", &checks)
		for _, c := range checks.Checks {
			if c.Kind == "zk-topic-missing" && c.Key == "ghost" {
				return ""
			}
		}
		return fmt.Sprintf("%+v", checks.Checks)
	})

	// The tree browser decodes the broker registration under the chroot.
	var node struct {
		Kind     string   `json:"decoded_as"`
		Decoded  string   `json:"decoded"`
		Chroot   string   `json:"chroot"`
		Children []string `json:"children"`
	}
	require.Equal(t, 200, getJSON(t, s, "/zookeeper/tree?cluster=ens&path=/brokers/ids/1", &node))
	assert.Equal(t, "Kafka broker registration", node.Kind)
	assert.Equal(t, "/zkcheck", node.Chroot)
	assert.Contains(t, node.Decoded, `"endpoints"`)
	require.Equal(t, 200, getJSON(t, s, "/zookeeper/tree?cluster=ens&path=/brokers/topics", &node))
	assert.Contains(t, node.Children, "ghost")

	// The leader dies: the other two elect a new one, the quorum holds with
	// a yellow verdict, and both the server-down alert and the leader
	// change event go out.
	oldLeader := ens.Servers[leader].Addr()
	ens.Servers[leader].Kill()
	eventually(t, 60*time.Second, "quorum verdict with the old leader down", func() string {
		getJSON(t, s, "/zookeeper?cluster=ens", &z)
		if z.Quorum.Level == "yellow" && strings.Contains(z.Quorum.Text, "2 of 3") && z.Quorum.Leader != "" && z.Quorum.Leader != oldLeader {
			return ""
		}
		return fmt.Sprintf("%+v", z.Quorum)
	})
	eventually(t, 30*time.Second, "the zk-down and zk-leader-change webhooks", func() string {
		down := hook.find(func(n map[string]any) bool {
			return n["kind"] == "zk-down" && strings.Contains(fmt.Sprint(n["text"]), oldLeader)
		})
		change := hook.find(func(n map[string]any) bool {
			return n["kind"] == "zk-leader-change" && strings.Contains(fmt.Sprint(n["text"]), "from "+oldLeader)
		})
		if down == nil || change == nil {
			return fmt.Sprintf("zk-down %v, leader change %v", down != nil, change != nil)
		}
		return ""
	})
}

// eagle reads Apache ZooKeeper 3.8 (Debian's package) as well: a brokerd on
// it under a chroot, the overview green, srvr and mntr parsed from Apache's
// replies.
func TestEagleApacheZooKeeper(t *testing.T) {
	needApache(t)
	zks := StartServer(t, kindApache, ServerOptions{})
	connect := zks.Addr() + "/apache"
	startBrokerd(t, 1, connect)
	e := startEagle(t, fmt.Sprintf("efak.zk.cluster.alias=ak\nak.zk.list=%s\neagle.collect.interval=1s\neagle.admin.password=apache-admin\n", connect))
	s := eagleLogin(t, e.URL, "admin", "apache-admin")
	var z struct {
		Servers []struct {
			Srvr *struct{ Mode, Version string }
			Mntr map[string]string
		}
		Quorum struct{ Level string }
	}
	eventually(t, 30*time.Second, "Apache ZooKeeper read", func() string {
		if code := getJSON(t, s, "/zookeeper?cluster=ak", &z); code != 200 {
			return fmt.Sprint(code)
		}
		if len(z.Servers) != 1 || z.Servers[0].Srvr == nil || z.Servers[0].Mntr == nil {
			return fmt.Sprintf("%+v", z)
		}
		return ""
	})
	assert.Equal(t, "standalone", z.Servers[0].Srvr.Mode)
	assert.Contains(t, z.Servers[0].Srvr.Version, "3.")
	assert.NotEmpty(t, z.Servers[0].Mntr["zk_znode_count"])
	assert.Equal(t, "green", z.Quorum.Level)
	var ov struct {
		Health struct{ Level string }
		Counts struct{ BrokersUp int }
	}
	eventually(t, 30*time.Second, "a green overview", func() string {
		getJSON(t, s, "/?cluster=ak", &ov)
		if ov.Health.Level != "green" || ov.Counts.BrokersUp != 1 {
			return fmt.Sprintf("%+v", ov)
		}
		return ""
	})
}
