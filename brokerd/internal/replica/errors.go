package replica

import "errors"

// Sentinel errors; the broker maps them to Kafka error codes.
var (
	ErrNotLeader         = errors.New("replica: not the leader of this partition")
	ErrNotEnoughReplicas = errors.New("replica: not enough in-sync replicas")
	ErrUnknownReplica    = errors.New("replica: fetch from a broker that is not a replica")
)
