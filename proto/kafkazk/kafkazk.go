// Package kafkazk holds Apache Kafka's ZooKeeper layout (ZooKeeper mode,
// Kafka 2.8): the znode paths and their JSON payloads, as Kafka's
// kafka.zk.ZkData writes them. brokerd writes them; eagle reads them, and
// so can read a real Kafka cluster's ZooKeeper. No I/O.
//
//	/cluster/id                          {"version":"1","id":"<base64 uuid>"}
//	/controller                (eph.)    {"version":1,"brokerid":1,"timestamp":"<ms>"}
//	/controller_epoch                    1
//	/brokers/ids/<id>          (eph.)    BrokerInfo, version 5
//	/brokers/topics/<t>                  {"version":3,"topic_id":"..","partitions":{"0":[1,2]},
//	                                      "adding_replicas":{},"removing_replicas":{}}
//	/brokers/topics/<t>/partitions/<p>/state
//	                                     {"controller_epoch":1,"leader":1,"version":1,
//	                                      "leader_epoch":0,"isr":[1,2]}
//	/brokers/seqid                       (its version is used for generated broker ids)
//	/admin/delete_topics/<t>             (empty; the controller deletes the topic)
//	/config/topics/<t>                   {"version":1,"config":{"retention.ms":"1000"}}
//	/config/changes/config_change_<seq>  {"version":2,"entity_path":"topics/<t>"}
//	/isr_change_notification/isr_change_<seq>
//	/latest_producer_id_block            {"version":1,"broker":1,"block_start":"0","block_end":"999"}
package kafkazk

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ErrPayload is wrapped by every decode error.
var ErrPayload = errors.New("kafkazk: bad znode payload")

// Paths.
const (
	ClusterIDPath             = "/cluster/id"
	ControllerPath            = "/controller"
	ControllerEpochPath       = "/controller_epoch"
	BrokerIDsPath             = "/brokers/ids"
	BrokerTopicsPath          = "/brokers/topics"
	BrokerSeqIDPath           = "/brokers/seqid"
	DeleteTopicsPath          = "/admin/delete_topics"
	ConfigTopicsPath          = "/config/topics"
	ConfigChangesPath         = "/config/changes"
	ConfigChangePrefix        = "config_change_"
	IsrChangeNotificationPath = "/isr_change_notification"
	LatestProducerIDBlockPath = "/latest_producer_id_block"
)

// PersistentPaths are created at broker start, as KafkaZkClient's
// createTopLevelPaths does.
var PersistentPaths = []string{
	"/consumers", BrokerIDsPath, BrokerTopicsPath, ConfigChangesPath, ConfigTopicsPath,
	"/config/clients", "/config/users", "/config/brokers", DeleteTopicsPath, BrokerSeqIDPath,
	IsrChangeNotificationPath, LatestProducerIDBlockPath, "/log_dir_event_notification",
}

// BrokerPath is /brokers/ids/<id>.
func BrokerPath(id int32) string { return BrokerIDsPath + "/" + strconv.Itoa(int(id)) }

// TopicPath is /brokers/topics/<t>.
func TopicPath(topic string) string { return BrokerTopicsPath + "/" + topic }

// PartitionsPath is /brokers/topics/<t>/partitions.
func PartitionsPath(topic string) string { return TopicPath(topic) + "/partitions" }

// PartitionPath is /brokers/topics/<t>/partitions/<p>.
func PartitionPath(topic string, p int32) string {
	return PartitionsPath(topic) + "/" + strconv.Itoa(int(p))
}

// PartitionStatePath is /brokers/topics/<t>/partitions/<p>/state.
func PartitionStatePath(topic string, p int32) string { return PartitionPath(topic, p) + "/state" }

// DeleteTopicPath is /admin/delete_topics/<t>.
func DeleteTopicPath(topic string) string { return DeleteTopicsPath + "/" + topic }

// TopicConfigPath is /config/topics/<t>.
func TopicConfigPath(topic string) string { return ConfigTopicsPath + "/" + topic }

// ClusterID is /cluster/id.
type ClusterID struct {
	Version string `json:"version"`
	ID      string `json:"id"`
}

// EncodeClusterID returns /cluster/id's payload.
func EncodeClusterID(id string) []byte {
	b, _ := json.Marshal(ClusterID{Version: "1", ID: id})
	return b
}

// DecodeClusterID parses /cluster/id.
func DecodeClusterID(b []byte) (string, error) {
	var c ClusterID
	if err := json.Unmarshal(b, &c); err != nil || c.ID == "" {
		return "", fmt.Errorf("%w: %s: %q", ErrPayload, ClusterIDPath, truncate(b))
	}
	return c.ID, nil
}

// BrokerInfo is /brokers/ids/<id>, version 5 (Kafka 2.8), plus
// metrics_port, brokerd's Prometheus port (Kafka ignores unknown fields).
type BrokerInfo struct {
	ID                          int32             `json:"-"`
	Features                    map[string]any    `json:"features"`
	ListenerSecurityProtocolMap map[string]string `json:"listener_security_protocol_map"`
	Endpoints                   []string          `json:"endpoints"`
	JmxPort                     int               `json:"jmx_port"`
	Host                        string            `json:"host"`
	Port                        int               `json:"port"`
	Rack                        *string           `json:"rack,omitempty"`
	Timestamp                   string            `json:"timestamp"`
	Version                     int               `json:"version"`
	MetricsPort                 int               `json:"metrics_port,omitempty"`
}

// Endpoint is one parsed entry of BrokerInfo.Endpoints.
type Endpoint struct {
	Listener string
	Host     string
	Port     int
}

// Endpoint returns the endpoint of a listener name.
func (b BrokerInfo) Endpoint(listener string) (Endpoint, bool) {
	for _, e := range b.Endpoints {
		name, rest, ok := strings.Cut(e, "://")
		if !ok || name != listener {
			continue
		}
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			continue
		}
		port, err := strconv.Atoi(rest[i+1:])
		if err != nil {
			continue
		}
		host := strings.TrimSuffix(strings.TrimPrefix(rest[:i], "["), "]")
		return Endpoint{Listener: name, Host: host, Port: port}, true
	}
	return Endpoint{}, false
}

// EncodeBrokerInfo returns the version 5 payload.
func EncodeBrokerInfo(b BrokerInfo) []byte {
	b.Version = 5
	if b.Features == nil {
		b.Features = map[string]any{}
	}
	out, _ := json.Marshal(b)
	return out
}

// DecodeBrokerInfo parses /brokers/ids/<id> (versions 1-5).
func DecodeBrokerInfo(id int32, b []byte) (BrokerInfo, error) {
	var bi BrokerInfo
	if err := json.Unmarshal(b, &bi); err != nil {
		return bi, fmt.Errorf("%w: %s: %v", ErrPayload, BrokerPath(id), err)
	}
	bi.ID = id
	if len(bi.Endpoints) == 0 && bi.Host != "" {
		bi.Endpoints = []string{fmt.Sprintf("PLAINTEXT://%s:%d", bi.Host, bi.Port)}
	}
	return bi, nil
}

// TopicAssignment is /brokers/topics/<t>: partition -> replicas.
type TopicAssignment struct {
	TopicID    string // base64 Uuid, empty for topics written by old tools
	Partitions map[int32][]int32
	// Adding and Removing are the replicas a reassignment in progress adds
	// and removes (KIP-455, version 2+); Partitions then holds both sets.
	Adding   map[int32][]int32
	Removing map[int32][]int32
}

type topicJSON struct {
	Version          int                `json:"version"`
	TopicID          string             `json:"topic_id,omitempty"`
	Partitions       map[string][]int32 `json:"partitions"`
	AddingReplicas   map[string][]int32 `json:"adding_replicas"`
	RemovingReplicas map[string][]int32 `json:"removing_replicas"`
}

// EncodeTopicAssignment returns the version 3 payload (with topic_id when
// set, version 2 without).
func EncodeTopicAssignment(a TopicAssignment) []byte {
	j := topicJSON{Version: 2, Partitions: map[string][]int32{}, AddingReplicas: map[string][]int32{}, RemovingReplicas: map[string][]int32{}}
	if a.TopicID != "" {
		j.Version, j.TopicID = 3, a.TopicID
	}
	for p, r := range a.Partitions {
		j.Partitions[strconv.Itoa(int(p))] = r
	}
	for p, r := range a.Adding {
		if len(r) > 0 {
			j.AddingReplicas[strconv.Itoa(int(p))] = r
		}
	}
	for p, r := range a.Removing {
		if len(r) > 0 {
			j.RemovingReplicas[strconv.Itoa(int(p))] = r
		}
	}
	out, _ := json.Marshal(j)
	return out
}

// DecodeTopicAssignment parses /brokers/topics/<t> (versions 1-3; the old
// kafka-topics --zookeeper writes {"version":1,"partitions":{...}}).
func DecodeTopicAssignment(topic string, b []byte) (TopicAssignment, error) {
	var j topicJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return TopicAssignment{}, fmt.Errorf("%w: %s: %v", ErrPayload, TopicPath(topic), err)
	}
	a := TopicAssignment{TopicID: j.TopicID, Partitions: map[int32][]int32{}, Adding: map[int32][]int32{}, Removing: map[int32][]int32{}}
	for k, r := range j.AddingReplicas {
		if p, err := strconv.ParseInt(k, 10, 32); err == nil {
			a.Adding[int32(p)] = r
		}
	}
	for k, r := range j.RemovingReplicas {
		if p, err := strconv.ParseInt(k, 10, 32); err == nil {
			a.Removing[int32(p)] = r
		}
	}
	for k, r := range j.Partitions {
		p, err := strconv.ParseInt(k, 10, 32)
		if err != nil || p < 0 || len(r) == 0 {
			return TopicAssignment{}, fmt.Errorf("%w: %s: partition %q with replicas %v", ErrPayload, TopicPath(topic), k, r)
		}
		a.Partitions[int32(p)] = r
	}
	if len(a.Partitions) == 0 {
		return TopicAssignment{}, fmt.Errorf("%w: %s: no partitions", ErrPayload, TopicPath(topic))
	}
	for p := int32(0); p < int32(len(a.Partitions)); p++ {
		if _, ok := a.Partitions[p]; !ok {
			return TopicAssignment{}, fmt.Errorf("%w: %s: partitions are not numbered 0..%d", ErrPayload, TopicPath(topic), len(a.Partitions)-1)
		}
	}
	return a, nil
}

// PartitionState is .../partitions/<p>/state (LeaderIsrAndControllerEpoch).
type PartitionState struct {
	ControllerEpoch int32   `json:"controller_epoch"`
	Leader          int32   `json:"leader"`
	Version         int     `json:"version"`
	LeaderEpoch     int32   `json:"leader_epoch"`
	ISR             []int32 `json:"isr"`
}

// EncodePartitionState returns the version 1 payload.
func EncodePartitionState(s PartitionState) []byte {
	s.Version = 1
	if s.ISR == nil {
		s.ISR = []int32{}
	}
	out, _ := json.Marshal(s)
	return out
}

// DecodePartitionState parses a state znode.
func DecodePartitionState(path string, b []byte) (PartitionState, error) {
	var s PartitionState
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%w: %s: %v", ErrPayload, path, err)
	}
	return s, nil
}

// TopicPartitionRef names a partition in notification payloads.
type TopicPartitionRef struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

// IsrChange is an /isr_change_notification/isr_change_<seq> payload.
type IsrChange struct {
	Version    int                 `json:"version"`
	Partitions []TopicPartitionRef `json:"partitions"`
}

// EncodeIsrChange returns the version 1 payload.
func EncodeIsrChange(parts []TopicPartitionRef) []byte {
	out, _ := json.Marshal(IsrChange{Version: 1, Partitions: parts})
	return out
}

// DecodeIsrChange parses an ISR change notification.
func DecodeIsrChange(path string, b []byte) (IsrChange, error) {
	var c IsrChange
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%w: %s: %v", ErrPayload, path, err)
	}
	return c, nil
}

// ReassignPartitionsPath is Kafka's /admin/reassign_partitions and
// PreferredReplicaElectionPath its /admin/preferred_replica_election.
const (
	ReassignPartitionsPath       = "/admin/reassign_partitions"
	PreferredReplicaElectionPath = "/admin/preferred_replica_election"
)

// Reassignment is one partition's target in /admin/reassign_partitions.
type Reassignment struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Replicas  []int32 `json:"replicas"`
}

type reassignJSON struct {
	Version    int            `json:"version"`
	Partitions []Reassignment `json:"partitions"`
}

// EncodeReassignments returns /admin/reassign_partitions' version 1 payload.
func EncodeReassignments(rs []Reassignment) []byte {
	if rs == nil {
		rs = []Reassignment{}
	}
	out, _ := json.Marshal(reassignJSON{Version: 1, Partitions: rs})
	return out
}

// DecodeReassignments parses /admin/reassign_partitions.
func DecodeReassignments(b []byte) ([]Reassignment, error) {
	var j reassignJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrPayload, ReassignPartitionsPath, err)
	}
	return j.Partitions, nil
}

// DecodePreferredElection parses /admin/preferred_replica_election
// ({"version":1,"partitions":[{"topic":..,"partition":..}]}).
func DecodePreferredElection(b []byte) ([]TopicPartitionRef, error) {
	var j struct {
		Partitions []TopicPartitionRef `json:"partitions"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrPayload, PreferredReplicaElectionPath, err)
	}
	return j.Partitions, nil
}

// Controller is /controller.
type Controller struct {
	Version   int    `json:"version"`
	BrokerID  int32  `json:"brokerid"`
	Timestamp string `json:"timestamp"`
}

// EncodeController returns /controller's payload.
func EncodeController(id int32, nowMs int64) []byte {
	out, _ := json.Marshal(Controller{Version: 1, BrokerID: id, Timestamp: strconv.FormatInt(nowMs, 10)})
	return out
}

// DecodeController parses /controller.
func DecodeController(b []byte) (int32, error) {
	var c Controller
	if err := json.Unmarshal(b, &c); err != nil {
		// Kafka before 0.9 wrote the bare id.
		n, err2 := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 32)
		if err2 != nil {
			return -1, fmt.Errorf("%w: %s: %q", ErrPayload, ControllerPath, truncate(b))
		}
		return int32(n), nil
	}
	return c.BrokerID, nil
}

// TopicConfig is /config/topics/<t>.
type TopicConfig struct {
	Version int               `json:"version"`
	Config  map[string]string `json:"config"`
}

// EncodeTopicConfig returns /config/topics/<t>'s payload.
func EncodeTopicConfig(cfg map[string]string) []byte {
	if cfg == nil {
		cfg = map[string]string{}
	}
	out, _ := json.Marshal(TopicConfig{Version: 1, Config: cfg})
	return out
}

// DecodeTopicConfig parses /config/topics/<t>.
func DecodeTopicConfig(topic string, b []byte) (map[string]string, error) {
	return DecodeEntityConfig(TopicConfigPath(topic), b)
}

// ConfigBrokersPath holds the dynamic broker configs: /config/brokers/<id>
// per broker and /config/brokers/<default> for the cluster default.
const ConfigBrokersPath = "/config/brokers"

// DefaultBrokerEntity is the entity name of the cluster-wide broker default.
const DefaultBrokerEntity = "<default>"

// Config entity types, the first element of a notification's entity_path.
const (
	EntityTopics  = "topics"
	EntityBrokers = "brokers"
)

// EntityConfigPath is /config/<type>/<name> (/config/topics/<t>,
// /config/brokers/<id>, /config/brokers/<default>).
func EntityConfigPath(entityType, name string) string { return "/config/" + entityType + "/" + name }

// EncodeEntityConfig is a /config/<type>/<name> payload: the same
// {"version":1,"config":{...}} for topics and brokers.
func EncodeEntityConfig(cfg map[string]string) []byte { return EncodeTopicConfig(cfg) }

// DecodeEntityConfig parses /config/<type>/<name>.
func DecodeEntityConfig(path string, b []byte) (map[string]string, error) {
	var c TopicConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrPayload, path, err)
	}
	if c.Config == nil {
		c.Config = map[string]string{}
	}
	return c.Config, nil
}

// ConfigChange is a /config/changes/config_change_NNNNNNNNNN notification
// (Kafka 2.x version 2: "<type>/<name>").
type ConfigChange struct {
	Version    int    `json:"version"`
	EntityPath string `json:"entity_path"`
}

// EncodeConfigChange returns a /config/changes notification for a topic.
func EncodeConfigChange(topic string) []byte { return EncodeEntityChange(EntityTopics, topic) }

// EncodeEntityChange returns a /config/changes notification for any entity.
func EncodeEntityChange(entityType, name string) []byte {
	out, _ := json.Marshal(ConfigChange{Version: 2, EntityPath: entityType + "/" + name})
	return out
}

// DecodeConfigChange parses a notification into entity type and name.
// Version 1 notifications ({"version":1,"entity_type":"topics",
// "entity_name":"t"}) from Kafka before 1.0 are read too.
func DecodeConfigChange(path string, b []byte) (entityType, name string, err error) {
	var c struct {
		Version    int    `json:"version"`
		EntityPath string `json:"entity_path"`
		EntityType string `json:"entity_type"`
		EntityName string `json:"entity_name"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return "", "", fmt.Errorf("%w: %s: %v", ErrPayload, path, err)
	}
	switch c.Version {
	case 1:
		if c.EntityType != "" && c.EntityName != "" {
			return c.EntityType, c.EntityName, nil
		}
	case 2:
		if t, n, ok := strings.Cut(c.EntityPath, "/"); ok && t != "" && n != "" {
			return t, n, nil
		}
	}
	return "", "", fmt.Errorf("%w: %s: not a config change notification: %q", ErrPayload, path, truncate(b))
}

// ProducerIDBlock is /latest_producer_id_block.
type ProducerIDBlock struct {
	Version    int    `json:"version"`
	Broker     int32  `json:"broker"`
	BlockStart string `json:"block_start"`
	BlockEnd   string `json:"block_end"`
}

// AssignReplicas spreads partitions over brokers as Kafka's
// AdminUtils.assignReplicasToBrokers does without racks: the first replica
// of partition p on brokers[(start+p) % n], the others following at a shift
// that grows every n partitions. start and shift come from the caller
// (random in Kafka) so the function is deterministic.
func AssignReplicas(brokers []int32, partitions int32, rf int16, start, shift int) (map[int32][]int32, error) {
	n := len(brokers)
	if partitions < 1 {
		return nil, fmt.Errorf("kafkazk: number of partitions must be larger than 0")
	}
	if rf < 1 {
		return nil, fmt.Errorf("kafkazk: replication factor must be larger than 0")
	}
	if int(rf) > n {
		return nil, fmt.Errorf("kafkazk: replication factor: %d larger than available brokers: %d", rf, n)
	}
	ids := append([]int32(nil), brokers...)
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := map[int32][]int32{}
	next := shift
	for p := 0; p < int(partitions); p++ {
		if p > 0 && p%n == 0 {
			next++
		}
		first := (start + p) % n
		r := []int32{ids[first]}
		for j := 0; j < int(rf)-1; j++ {
			r = append(r, ids[(first+1+(next+j)%(n-1))%n])
		}
		out[int32(p)] = r
	}
	return out, nil
}

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}
