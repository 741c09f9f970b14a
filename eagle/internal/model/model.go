// Package model holds what one collection pass learns about a cluster. The
// collector fills a Snapshot; status, health, alerts, history and the pages
// read it. Plain data: no I/O, no locks (a Snapshot is never changed after
// the pass that built it is published).
package model

import (
	"time"

	"mqstack/proto/fourlw"
)

// Snapshot is one cluster at one pass.
type Snapshot struct {
	Cluster   string
	Time      time.Time
	Took      time.Duration
	ClusterID string
	// ZkController is /controller's brokerid (-1: none); MetaController the
	// controller id each reachable broker's metadata names.
	ZkController   int32
	MetaController map[int32]int32
	Brokers        []Broker
	Topics         []Topic
	Groups         []Group
	ZK             []ZKServer
	// ZKError: the ZooKeeper session could not read the cluster's znodes.
	ZKError string
	// KafkaError: no broker answered a metadata request.
	KafkaError string
	// ZKTopics are the children of /brokers/topics.
	ZKTopics []string
	// PendingDeletes are /admin/delete_topics children; PendingReassign the
	// topics named in /admin/reassign_partitions.
	PendingDeletes  []string
	PendingReassign []string
	// Rates over the previous pass (per second; -1 unknown).
	MessagesInRate float64
	BytesInRate    float64
	BytesOutRate   float64
	// LagFetches: lagging partitions whose first unconsumed record was
	// fetched in this pass (the others' came from the collector's cache).
	LagFetches int
	// Errors met during the pass that did not stop it.
	Errors []string
}

// Broker is a registered (ZooKeeper) or advertised (metadata) broker.
type Broker struct {
	ID          int32
	Host        string
	Port        int
	Rack        string
	MetricsPort int
	// Registered: /brokers/ids/<id> exists. InMetadata: a broker's metadata
	// lists it. Reachable: a request to it succeeded in this pass.
	Registered, InMetadata, Reachable bool
	Error                             string
	RegisteredAt                      time.Time // the registration timestamp
	// From its /metrics (MetricsError says why they are missing).
	MetricsError                                       string
	HasMetrics                                         bool
	MessagesInTotal, BytesInTotal, BytesOutTotal       float64
	ResidentBytes, CPUSeconds                          float64
	StartTime                                          time.Time
	Version                                            string
	BytesInRate, BytesOutRate, MessagesInRate          float64 // -1 unknown
	Leaders, Replicas, UnderReplicated, OfflineLeaders int
	LogBytes                                           int64
}

// Topic is one topic with its partitions.
type Topic struct {
	Name       string
	Internal   bool
	Error      string
	Partitions []Partition
	// Size is the sum of the leaders' log sizes (-1 unknown).
	Size int64
	// MessagesRate is the rate of change of the sum of end offsets.
	MessagesRate float64
}

// Partition is one partition of a topic.
type Partition struct {
	ID       int32
	Leader   int32
	Replicas []int32
	ISR      []int32
	Offline  []int32
	Error    string
	// Start and End are the log start and end offsets (-1 unknown).
	Start, End int64
	Size       int64 // -1 unknown
}

// UnderReplicated reports ISR smaller than the replica set.
func (p Partition) UnderReplicated() bool { return len(p.ISR) < len(p.Replicas) }

// PreferredLeader reports the leader is the first assigned replica.
func (p Partition) PreferredLeader() bool {
	return len(p.Replicas) > 0 && p.Leader == p.Replicas[0]
}

// Group is a consumer group.
type Group struct {
	ID           string
	State        string
	ProtocolType string
	Protocol     string
	Coordinator  int32
	Members      []Member
	Offsets      []GroupOffset
	Error        string
	// Status is the window evaluation (package status).
	Status       string
	StatusReason string
}

// LagSum is the sum of the partitions' lags (unknown lags count 0).
func (g Group) LagSum() int64 {
	var n int64
	for _, o := range g.Offsets {
		if o.Lag > 0 {
			n += o.Lag
		}
	}
	return n
}

// Member is one group member.
type Member struct {
	ID, ClientID, Host string
	Assigned           []TopicPartition
}

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// GroupOffset is a group's position in one partition. Committed is read
// before End, so Lag = End - Committed is never negative.
type GroupOffset struct {
	Topic     string
	Partition int32
	Committed int64
	End       int64 // -1 unknown
	Lag       int64 // -1 unknown
	// LagSeconds is how far behind the consumer is in time (-1 unknown, 0
	// for no lag): the age, at the pass's time, of the first record not
	// consumed (LagSecondsSource "timestamp"), else, when that record could
	// not be read, lag divided by the partition's recent end-offset rate
	// ("rate"). LagSecondsTimestampType is the record's timestamp type
	// (CreateTime or LogAppendTime); LagSecondsNote says which record was
	// used when it was not the one at the committed offset, or why no
	// record was read.
	LagSeconds              float64
	LagSecondsSource        string
	LagSecondsTimestampType string
	LagSecondsNote          string
	Status                  string // per-partition window status
	Owner                   string // member client id, "" unassigned
}

// ZKServer is one server of the ensemble as its four-letter words show it.
type ZKServer struct {
	Addr string
	Up   bool
	// Error: no connection or no srvr reply. SrvrError / MntrError keep a
	// refused word ("not in the whitelist") apart from a dead server.
	Error             string
	SrvrError         string
	MntrError         string
	SrvrNotWhitelist  bool
	MntrNotWhitelist  bool
	Srvr              *fourlw.ServerStats
	Mntr              map[string]string
	Followers, Synced int // from mntr on the leader (-1 unknown)
}
