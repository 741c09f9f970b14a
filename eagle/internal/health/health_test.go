package health

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/eagle/internal/model"
	"mqstack/proto/fourlw"
)

func zks(modes ...string) []model.ZKServer {
	var out []model.ZKServer
	for i, m := range modes {
		z := model.ZKServer{Addr: string(rune('a'+i)) + ":2181"}
		switch m {
		case "down":
		case "refused":
			z.Up, z.SrvrNotWhitelist = true, true
		default:
			z.Up, z.Srvr = true, &fourlw.ServerStats{Mode: m}
		}
		out = append(out, z)
	}
	return out
}

func TestZKQuorum(t *testing.T) {
	cases := []struct {
		modes []string
		level string
	}{
		{[]string{"standalone"}, Green},
		{[]string{"leader", "follower", "follower"}, Green},
		{[]string{"leader", "follower", "down"}, Yellow},
		{[]string{"leader", "down", "down"}, Red},
		{[]string{"follower", "follower", "follower"}, Red},
		{[]string{"leader", "leader", "follower"}, Red},
		{[]string{"down"}, Red},
		{[]string{"refused", "refused", "refused"}, Yellow},
	}
	for _, c := range cases {
		q := ZKQuorum(zks(c.modes...))
		assert.Equal(t, c.level, q.Level, "%v: %s", c.modes, q.Text)
	}
}

func healthy() *model.Snapshot {
	return &model.Snapshot{
		Cluster: "c1", ZkController: 1, MetaController: map[int32]int32{1: 1, 2: 1},
		ZK: zks("standalone"),
		Brokers: []model.Broker{
			{ID: 1, Registered: true, Reachable: true, InMetadata: true},
			{ID: 2, Registered: true, Reachable: true, InMetadata: true},
		},
		Topics: []model.Topic{{Name: "t", Partitions: []model.Partition{
			{ID: 0, Leader: 1, Replicas: []int32{1, 2}, ISR: []int32{1, 2}},
		}}},
		ZKTopics: []string{"t"},
	}
}

func TestEvaluate(t *testing.T) {
	v := Evaluate(healthy())
	assert.Equal(t, Green, v.Level, "%+v", v.Reasons)
	assert.Empty(t, v.Reasons)

	s := healthy()
	s.Brokers[1].Reachable = false
	s.Brokers[1].Error = "dial tcp: connection refused"
	v = Evaluate(s)
	require.Equal(t, Red, v.Level)
	assert.Contains(t, v.Reasons[0].Text, "broker 2 is registered but unreachable")

	s = healthy()
	s.Topics[0].Partitions[0].ISR = []int32{1}
	s.MetaController[2] = 2
	s.ZKTopics = append(s.ZKTopics, "ghost")
	s.PendingDeletes = []string{"old"}
	v = Evaluate(s)
	assert.Equal(t, Yellow, v.Level)
	var kinds []string
	for _, r := range v.Reasons {
		kinds = append(kinds, r.Kind)
	}
	assert.ElementsMatch(t, []string{"under-replicated", "controller-disagreement", "zk-topic-missing", "pending-delete"}, kinds)

	s = healthy()
	s.Topics[0].Partitions[0].Leader = -1
	v = Evaluate(s)
	assert.Equal(t, Red, v.Level)
	assert.Contains(t, v.Reasons[0].Text, "t-0")
}
