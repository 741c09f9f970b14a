package broker

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"mqstack/brokerd/internal/coord"
	"mqstack/storage/checkpoint"
	"mqstack/storage/segment"
)

// localState is what the broker derived from the last view: the partitions
// assigned to it (their logs exist) and the topics it has seen, so a topic that
// disappears from ZooKeeper (deleted by the controller) has its logs
// removed. Only topics seen in a view are ever deleted locally: a wrong
// zookeeper.connect never deletes data found on disk.
type localState struct {
	mu   sync.Mutex
	seen map[string]bool
}

// applyView runs on the coordinator goroutine before the view is
// published: the partition logs, then the group coordinator.
func (b *Broker) applyView(v coord.View) {
	if !b.dirReady.Load() {
		return
	}
	b.applyLogs(v)
	b.replicas.apply(v)
	b.applyTopicConfigs(v)
	b.groups.applyView(v)
}

func (b *Broker) applyLogs(v coord.View) {
	b.local.mu.Lock()
	defer b.local.mu.Unlock()
	var create []checkpoint.TopicPartition
	for name, t := range v.Topics {
		if t.Deleting {
			continue
		}
		b.local.seen[name] = true
		for p, part := range t.Partitions {
			if part.State == nil || !slices.Contains(part.Replicas, b.cfg.BrokerID) {
				continue
			}
			tp := checkpoint.TopicPartition{Topic: name, Partition: p}
			if _, ok := b.dir.Log(tp); !ok {
				create = append(create, tp)
			}
		}
	}
	// In (topic, partition) order, so which log dir each new log goes to
	// (the one with the fewest partitions) does not depend on map order.
	segment.SortPartitions(create)
	for _, tp := range create {
		if _, err := b.dir.CreateLog(tp); err != nil {
			b.log.Error().Err(err).Str("partition", tp.String()).Msg("cannot create the log of a partition this broker leads")
			continue
		}
		b.log.Info().Str("partition", tp.String()).Msg("created the log of an assigned partition")
	}
	// Replicas reassigned away (the topic lives on, this broker is no
	// longer assigned and no reassignment is in progress) lose their logs,
	// as Kafka's StopReplica with deletion.
	for _, tp := range b.dir.Partitions() {
		t, ok := v.Topics[tp.Topic]
		if !ok || t.Deleting {
			continue
		}
		part, ok := t.Partitions[tp.Partition]
		if !ok || part.State == nil || slices.Contains(part.Replicas, b.cfg.BrokerID) || len(part.Adding)+len(part.Removing) > 0 {
			continue
		}
		b.producers.forget(tp)
		if err := b.dir.DeleteLog(tp); err != nil {
			b.log.Error().Err(err).Str("partition", tp.String()).Msg("deleting the log of a replica moved away failed")
			continue
		}
		b.log.Info().Str("partition", tp.String()).Ints32("replicas", part.Replicas).Msg("deleted the log of a replica moved to other brokers")
	}
	for name := range b.local.seen {
		if t, ok := v.Topics[name]; ok && !t.Deleting {
			continue
		}
		if _, ok := v.Topics[name]; ok {
			continue // being deleted: the logs go when the topic znode does
		}
		delete(b.local.seen, name)
		for _, tp := range b.dir.Partitions() {
			if tp.Topic != name {
				continue
			}
			b.producers.forget(tp)
			if err := b.dir.DeleteLog(tp); err != nil {
				b.log.Error().Err(err).Str("partition", tp.String()).Msg("deleting the log of a deleted topic failed")
				continue
			}
			b.log.Info().Str("partition", tp.String()).Msg("deleted the log of a deleted topic")
		}
	}
	b.appended.notify() // wake fetches waiting on partitions that moved
}

func (b *Broker) view() coord.View {
	v, _ := b.coord.View()
	return v
}

func (b *Broker) topicView(name string) *coord.Topic {
	t := b.view().Topics[name]
	if t == nil || t.Deleting {
		return nil
	}
	return t
}

// leaderLog returns the log of a partition this broker leads, its leader
// epoch, or the error code to answer.
func (b *Broker) leaderLog(topic string, p int32) (*segment.Log, int32, int16) {
	t := b.topicView(topic)
	if t == nil {
		return nil, 0, kerr.UnknownTopicOrPartition.Code
	}
	part, ok := t.Partitions[p]
	if !ok {
		return nil, 0, kerr.UnknownTopicOrPartition.Code
	}
	if part.State == nil || part.State.Leader == coord.NoLeader {
		return nil, 0, kerr.LeaderNotAvailable.Code
	}
	if part.State.Leader != b.cfg.BrokerID {
		return nil, 0, kerr.NotLeaderForPartition.Code
	}
	l, ok := b.dir.Log(checkpoint.TopicPartition{Topic: topic, Partition: p})
	if !ok {
		return nil, 0, kerr.NotLeaderForPartition.Code
	}
	return l, part.State.LeaderEpoch, 0
}

func liveBrokers(v coord.View) []int32 {
	out := make([]int32, 0, len(v.Brokers))
	for id := range v.Brokers {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// createTopic assigns replicas over the live brokers and writes the topic
// to ZooKeeper, then waits (up to wait) until every partition has a
// leader. ok=false with code 0 means it already existed.
func (b *Broker) createTopic(name string, partitions int32, rf int16, assignment map[int32][]int32, configs map[string]string, wait time.Duration) (int16, string) {
	v := b.view()
	if assignment == nil {
		var err error
		if assignment, err = coord.AssignReplicas(liveBrokers(v), partitions, rf); err != nil {
			return kerr.InvalidReplicationFactor.Code, fmt.Sprintf("Replication factor: %d larger than available brokers: %d.", rf, len(v.Brokers))
		}
	}
	if err := b.coord.CreateTopic(name, coord.NewUUID(), assignment, configs); err != nil {
		if coord.IsTopicExists(err) {
			return kerr.TopicAlreadyExists.Code, fmt.Sprintf("Topic '%s' already exists.", name)
		}
		b.log.Error().Err(err).Str("topic", name).Msg("create topic failed")
		return kerr.UnknownServerError.Code, err.Error()
	}
	b.log.Info().Str("topic", name).Int("partitions", len(assignment)).Msg("topic created in ZooKeeper")
	if wait <= 0 {
		return 0, ""
	}
	if _, ok := b.coord.WaitFor(wait, func(v coord.View) bool { return topicReady(v, name) }); !ok {
		return kerr.RequestTimedOut.Code, fmt.Sprintf("topic %s was created but its partitions have no leader yet", name)
	}
	return 0, ""
}

func topicReady(v coord.View, name string) bool {
	t := v.Topics[name]
	if t == nil {
		return false
	}
	for _, p := range t.Partitions {
		if p.State == nil || p.State.Leader == coord.NoLeader {
			return false
		}
	}
	return true
}
