package kafkazk

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBrokerInfoRoundTrip(t *testing.T) {
	bi := BrokerInfo{ListenerSecurityProtocolMap: map[string]string{"PLAINTEXT": "PLAINTEXT"},
		Endpoints: []string{"PLAINTEXT://b1.example:9092"}, JmxPort: -1, Host: "b1.example", Port: 9092,
		Timestamp: "1700000000000", MetricsPort: 9404}
	b := EncodeBrokerInfo(bi)
	require.Contains(t, string(b), `"version":5`)
	require.Contains(t, string(b), `"features":{}`)
	got, err := DecodeBrokerInfo(7, b)
	require.NoError(t, err)
	require.Equal(t, int32(7), got.ID)
	ep, ok := got.Endpoint("PLAINTEXT")
	require.True(t, ok)
	require.Equal(t, Endpoint{Listener: "PLAINTEXT", Host: "b1.example", Port: 9092}, ep)
	require.Equal(t, 9404, got.MetricsPort)

	// What Apache Kafka 2.8 writes.
	apache := `{"features":{},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://[::1]:9093"],"jmx_port":-1,"port":9093,"host":"::1","version":5,"timestamp":"1616161616161"}`
	got, err = DecodeBrokerInfo(1, []byte(apache))
	require.NoError(t, err)
	ep, _ = got.Endpoint("PLAINTEXT")
	require.Equal(t, "::1", ep.Host)
}

func TestTopicAssignment(t *testing.T) {
	// The old kafka-topics --zookeeper payload.
	a, err := DecodeTopicAssignment("t", []byte(`{"version":1,"partitions":{"1":[2,1],"0":[1,2]}}`))
	require.NoError(t, err)
	require.Equal(t, map[int32][]int32{0: {1, 2}, 1: {2, 1}}, a.Partitions)
	b := EncodeTopicAssignment(TopicAssignment{TopicID: "abc", Partitions: a.Partitions})
	require.JSONEq(t, `{"version":3,"topic_id":"abc","partitions":{"0":[1,2],"1":[2,1]},"adding_replicas":{},"removing_replicas":{}}`, string(b))
	_, err = DecodeTopicAssignment("t", []byte(`{"version":1,"partitions":{"0":[1],"2":[1]}}`))
	require.ErrorIs(t, err, ErrPayload)
	_, err = DecodeTopicAssignment("t", []byte(`{"version":1,"partitions":{}}`))
	require.ErrorIs(t, err, ErrPayload)
}

func TestPartitionStateAndController(t *testing.T) {
	b := EncodePartitionState(PartitionState{ControllerEpoch: 3, Leader: 1, LeaderEpoch: 4, ISR: []int32{1}})
	require.JSONEq(t, `{"controller_epoch":3,"leader":1,"version":1,"leader_epoch":4,"isr":[1]}`, string(b))
	s, err := DecodePartitionState("x", b)
	require.NoError(t, err)
	require.Equal(t, int32(4), s.LeaderEpoch)
	id, err := DecodeController(EncodeController(5, 1))
	require.NoError(t, err)
	require.Equal(t, int32(5), id)
	id, err = DecodeController([]byte("2"))
	require.NoError(t, err)
	require.Equal(t, int32(2), id)
	cid, err := DecodeClusterID(EncodeClusterID("xyz"))
	require.NoError(t, err)
	require.Equal(t, "xyz", cid)
}

// Kafka's assignReplicasToBrokers with start index 0 and shift 0 on
// brokers 0-4, 10 partitions, RF 3 (the example in AdminUtils' comment).
func TestAssignReplicasLikeKafka(t *testing.T) {
	got, err := AssignReplicas([]int32{0, 1, 2, 3, 4}, 10, 3, 0, 0)
	require.NoError(t, err)
	want := map[int32][]int32{
		0: {0, 1, 2}, 1: {1, 2, 3}, 2: {2, 3, 4}, 3: {3, 4, 0}, 4: {4, 0, 1},
		5: {0, 2, 3}, 6: {1, 3, 4}, 7: {2, 4, 0}, 8: {3, 0, 1}, 9: {4, 1, 2},
	}
	require.Equal(t, want, got)
	_, err = AssignReplicas([]int32{1}, 1, 2, 0, 0)
	require.Error(t, err)
	got, err = AssignReplicas([]int32{1}, 3, 1, 0, 0)
	require.NoError(t, err)
	require.Equal(t, map[int32][]int32{0: {1}, 1: {1}, 2: {1}}, got)
}

func FuzzDecoders(f *testing.F) {
	f.Add([]byte(`{"version":1,"partitions":{"0":[1]}}`))
	f.Add([]byte(`{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0,"isr":[1]}`))
	f.Add([]byte{})
	f.Add([]byte(`{"version":1,"partit`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = DecodeTopicAssignment("t", b)
		_, _ = DecodePartitionState("s", b)
		_, _ = DecodeBrokerInfo(1, b)
		_, _ = DecodeController(b)
		_, _ = DecodeClusterID(b)
		_, _ = DecodeTopicConfig("t", b)
		_, _ = DecodeIsrChange("n", b)
		_, _ = DecodeReassignments(b)
		_, _ = DecodePreferredElection(b)
	})
}

// The replication znodes in Kafka's JSON: ISR change notifications,
// /admin/reassign_partitions, /admin/preferred_replica_election, and a
// topic assignment with a reassignment in progress (KIP-455).
func TestReplicationZnodes(t *testing.T) {
	require.JSONEq(t, `{"version":1,"partitions":[{"topic":"t","partition":2}]}`,
		string(EncodeIsrChange([]TopicPartitionRef{{Topic: "t", Partition: 2}})))
	c, err := DecodeIsrChange("n", []byte(`{"version":1,"partitions":[{"topic":"a","partition":0}]}`))
	require.NoError(t, err)
	require.Equal(t, []TopicPartitionRef{{Topic: "a", Partition: 0}}, c.Partitions)

	rs := []Reassignment{{Topic: "t", Partition: 0, Replicas: []int32{3, 2}}}
	require.JSONEq(t, `{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[3,2]}]}`, string(EncodeReassignments(rs)))
	got, err := DecodeReassignments(EncodeReassignments(rs))
	require.NoError(t, err)
	require.Equal(t, rs, got)
	_, err = DecodeReassignments([]byte(`{"version":1,"partitions":[{"topic":`))
	require.ErrorIs(t, err, ErrPayload)

	pe, err := DecodePreferredElection([]byte(`{"version":1,"partitions":[{"topic":"t","partition":1}]}`))
	require.NoError(t, err)
	require.Equal(t, []TopicPartitionRef{{Topic: "t", Partition: 1}}, pe)

	a := TopicAssignment{TopicID: "id", Partitions: map[int32][]int32{0: {3, 2, 1}}, Adding: map[int32][]int32{0: {3}}, Removing: map[int32][]int32{0: {1}}}
	require.JSONEq(t, `{"version":3,"topic_id":"id","partitions":{"0":[3,2,1]},"adding_replicas":{"0":[3]},"removing_replicas":{"0":[1]}}`,
		string(EncodeTopicAssignment(a)))
	back, err := DecodeTopicAssignment("t", EncodeTopicAssignment(a))
	require.NoError(t, err)
	require.Equal(t, a, back)
}

func TestConfigChangeNotifications(t *testing.T) {
	typ, name, err := DecodeConfigChange("n", EncodeEntityChange(EntityBrokers, DefaultBrokerEntity))
	require.NoError(t, err)
	require.Equal(t, [2]string{"brokers", "<default>"}, [2]string{typ, name})
	require.JSONEq(t, `{"version":2,"entity_path":"topics/t1"}`, string(EncodeConfigChange("t1")))
	typ, name, err = DecodeConfigChange("n", []byte(`{"version":1,"entity_type":"topics","entity_name":"old"}`))
	require.NoError(t, err)
	require.Equal(t, [2]string{"topics", "old"}, [2]string{typ, name})
	for _, bad := range []string{`{"version":2,"entity_path":"topics"}`, `{"version":3}`, `nope`} {
		_, _, err := DecodeConfigChange("/config/changes/config_change_0000000001", []byte(bad))
		require.ErrorIs(t, err, ErrPayload, bad)
	}
	cfg, err := DecodeEntityConfig("/config/brokers/1", EncodeEntityConfig(map[string]string{"message.max.bytes": "2000"}))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"message.max.bytes": "2000"}, cfg)
	require.Equal(t, "/config/brokers/<default>", EntityConfigPath(EntityBrokers, DefaultBrokerEntity))
}
