package broker

import (
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"mqstack/brokerd/internal/coord"
	"mqstack/brokerd/internal/group"
	"mqstack/proto/kafka"
	"mqstack/storage/checkpoint"
	"mqstack/storage/segment"
)

// groupManager is the group coordinator: the groups whose
// __consumer_offsets partition this broker leads, and their committed
// offsets. One mutex guards it (a leaf lock); the group state machines are
// pure, and their delayed answers are delivered after the lock is
// released.
type groupManager struct {
	b      *Broker
	cfg    group.Config
	mu     sync.Mutex
	groups map[string]*group.Group
	// offsets by group, then topic-partition.
	offsets map[string]map[checkpoint.TopicPartition]group.OffsetValue
	loaded  map[int32]bool // offsets partitions led and loaded
	// retention is offsets.retention.minutes; expired offsets are looked
	// for every retentionCheck.
	retention, retentionCheck time.Duration
	lastExpiry                time.Time
}

type joinWaiter chan *group.JoinResult
type syncWaiter chan *group.SyncResult

func newGroupManager(b *Broker) *groupManager {
	return &groupManager{b: b, groups: map[string]*group.Group{},
		offsets: map[string]map[checkpoint.TopicPartition]group.OffsetValue{}, loaded: map[int32]bool{},
		retention:      time.Duration(b.cfg.OffsetsRetentionMinutes) * time.Minute,
		retentionCheck: time.Duration(b.cfg.OffsetsRetentionCheckMs) * time.Millisecond,
		cfg: group.Config{InitialRebalanceDelay: time.Duration(b.cfg.GroupInitialRebalanceDelayMs) * time.Millisecond,
			MinSessionTimeout: time.Duration(b.cfg.GroupMinSessionTimeoutMs) * time.Millisecond,
			MaxSessionTimeout: time.Duration(b.cfg.GroupMaxSessionTimeoutMs) * time.Millisecond}}
}

func deliver(rs []group.Reply) {
	for _, r := range rs {
		switch w := r.Waiter.(type) {
		case joinWaiter:
			if r.Join != nil {
				w <- r.Join
			}
		case syncWaiter:
			if r.Sync != nil {
				w <- r.Sync
			}
		}
	}
}

func (m *groupManager) partitionFor(g string) int32 {
	return group.PartitionFor(g, m.b.cfg.OffsetsTopicPartitions)
}

// coordinatorCode says whether this broker coordinates the group now.
func (m *groupManager) coordinatorCode(g string) int16 {
	p := m.partitionFor(g)
	if _, _, code := m.b.leaderLog(offsetsTopic, p); code != 0 {
		return kerr.NotCoordinator.Code
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.loaded[p] {
		return kerr.CoordinatorLoadInProgress.Code
	}
	return 0
}

// with runs fn on the group (created when create is set) under the lock
// and delivers the replies it returns.
func (m *groupManager) with(id string, create bool, fn func(g *group.Group) []group.Reply) bool {
	m.mu.Lock()
	g := m.groups[id]
	if g == nil && create {
		g = group.New(id, m.cfg)
		m.groups[id] = g
	}
	if g == nil {
		m.mu.Unlock()
		return false
	}
	rs := fn(g)
	m.storeLocked(g)
	m.mu.Unlock()
	deliver(rs)
	return true
}

// storeLocked appends the group's metadata record when a generation
// completed (Kafka's GroupMetadataManager.storeGroup), before the replies
// of the call that completed it are delivered. A failed write is logged:
// the group goes on in memory, as its members already hold the generation.
func (m *groupManager) storeLocked(g *group.Group) {
	rec, ok := g.TakeRecord()
	if !ok {
		return
	}
	code := m.appendRecords(g.ID, []kafka.Record{{Key: group.EncodeGroupMetadataKey(g.ID), Value: group.EncodeGroupMetadataValue(rec)}})
	if code != 0 {
		m.b.log.Warn().Str("group", g.ID).Int16("error_code", code).Msg("writing the group metadata record failed; the group's state will not survive a coordinator move")
	}
}

// appendRecords appends records (keys and values set; a nil value is a
// tombstone) to the group's __consumer_offsets partition as one batch.
func (m *groupManager) appendRecords(groupID string, recs []kafka.Record) int16 {
	if len(recs) == 0 {
		return 0
	}
	p := m.partitionFor(groupID)
	l, epoch, code := m.b.leaderLog(offsetsTopic, p)
	if code != 0 {
		return kerr.NotCoordinator.Code
	}
	now := time.Now().UnixMilli()
	for i := range recs {
		recs[i].Offset, recs[i].Timestamp = int64(i), now
	}
	batch, err := kafka.AppendBatch(nil, kafka.NewBatchOptions(), recs)
	if err != nil {
		return kerr.UnknownServerError.Code
	}
	if _, err := l.Append(batch, segment.AppendOptions{AssignOffsets: true, LeaderEpoch: epoch}); err != nil {
		m.b.log.Error().Err(err).Str("group", groupID).Msg("writing to __consumer_offsets failed")
		return kerr.UnknownServerError.Code
	}
	m.b.replicas.leaderAppended(checkpoint.TopicPartition{Topic: offsetsTopic, Partition: p}, l)
	return 0
}

// tickLoop drives session and rebalance timeouts.
func (m *groupManager) tickLoop(stop <-chan struct{}) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			m.mu.Lock()
			var rs []group.Reply
			for _, g := range m.groups {
				rs = append(rs, g.Kill()...)
			}
			m.mu.Unlock()
			deliver(rs)
			return
		case now := <-t.C:
			m.mu.Lock()
			var rs []group.Reply
			for _, g := range m.groups {
				rs = append(rs, g.Tick(now)...)
				m.storeLocked(g)
			}
			check := m.retentionCheck
			m.mu.Unlock()
			deliver(rs)
			if now.Sub(m.lastExpiry) >= check {
				m.lastExpiry = now
				m.expireOffsets(now)
			}
		}
	}
}

// applyView loads the offsets partitions this broker now leads and drops
// the groups of those it no longer leads.
func (m *groupManager) applyView(v coord.View) {
	t := v.Topics[offsetsTopic]
	led := map[int32]bool{}
	if t != nil && !t.Deleting {
		for p, part := range t.Partitions {
			if part.State != nil && part.State.Leader == m.b.cfg.BrokerID {
				led[p] = true
			}
		}
	}
	m.mu.Lock()
	var rs []group.Reply
	for p := range m.loaded {
		if led[p] {
			continue
		}
		delete(m.loaded, p)
		for id, g := range m.groups {
			if m.partitionFor(id) == p {
				rs = append(rs, g.Kill()...)
				delete(m.groups, id)
				delete(m.offsets, id)
			}
		}
	}
	var toLoad []int32
	for p := range led {
		if !m.loaded[p] {
			toLoad = append(toLoad, p)
		}
	}
	m.mu.Unlock()
	deliver(rs)
	for _, p := range toLoad {
		l, ok := m.b.dir.Log(checkpoint.TopicPartition{Topic: offsetsTopic, Partition: p})
		if !ok {
			continue
		}
		n, err := m.load(l)
		if err != nil {
			m.b.log.Error().Err(err).Int32("partition", p).Msg("loading committed offsets failed; the groups of this partition are unavailable")
			continue
		}
		m.mu.Lock()
		m.loaded[p] = true
		m.mu.Unlock()
		if n > 0 {
			m.b.log.Info().Int32("partition", p).Int("offsets", n).Msg("loaded committed offsets")
		}
	}
}

// load replays a __consumer_offsets partition into the offsets cache.
func (m *groupManager) load(l *segment.Log) (int, error) {
	n := 0
	// The last group metadata record of each group (nil: a tombstone).
	metadata := map[string]*group.GroupMetadata{}
	defer func() {
		now := time.Now()
		m.mu.Lock()
		defer m.mu.Unlock()
		for id, md := range metadata {
			if md == nil {
				if len(m.offsets[id]) == 0 {
					delete(m.groups, id)
				}
				continue
			}
			m.groups[id] = group.Restore(id, m.cfg, *md, now)
		}
	}()
	for off := l.LogStartOffset(); off < l.LogEndOffset(); {
		data, res, err := l.ReadBytes(off, 1<<20, l.LogEndOffset())
		if err != nil {
			return n, err
		}
		if len(data) == 0 {
			break
		}
		for len(data) > 0 {
			batch, size, err := kafka.DecodeBatch(data)
			if err != nil {
				return n, fmt.Errorf("__consumer_offsets at offset %d: %w", off, err)
			}
			data = data[size:]
			if batch.Control() {
				continue
			}
			for _, r := range batch.Records {
				kind, key, err := group.DecodeKey(r.Key)
				if err != nil {
					continue
				}
				if kind == group.KeyGroupMetadata {
					if r.Value == nil {
						metadata[key.Group] = nil
					} else if md, err := group.DecodeGroupMetadataValue(r.Value); err == nil {
						metadata[key.Group] = &md
					} else {
						m.b.log.Warn().Err(err).Str("group", key.Group).Int64("offset", r.Offset).Msg("skipping an unreadable group metadata record")
					}
					continue
				}
				tp := checkpoint.TopicPartition{Topic: key.Topic, Partition: key.Partition}
				m.mu.Lock()
				if r.Value == nil {
					delete(m.offsets[key.Group], tp)
				} else if v, err := group.DecodeOffsetValue(r.Value); err == nil {
					if m.offsets[key.Group] == nil {
						m.offsets[key.Group] = map[checkpoint.TopicPartition]group.OffsetValue{}
					}
					m.offsets[key.Group][tp] = v
					n++
				}
				if _, ok := m.groups[key.Group]; !ok {
					m.groups[key.Group] = group.New(key.Group, m.cfg)
				}
				m.mu.Unlock()
			}
		}
		off = res.NextOffset
	}
	return n, nil
}

// commit appends offset commit records to the group's partition and then
// updates the cache.
func (m *groupManager) commit(groupID string, values map[checkpoint.TopicPartition]group.OffsetValue) int16 {
	var recs []kafka.Record
	for tp, v := range values {
		recs = append(recs, kafka.Record{Key: group.EncodeOffsetKey(group.OffsetKey{Group: groupID, Topic: tp.Topic, Partition: tp.Partition}),
			Value: group.EncodeOffsetValue(v)})
	}
	otp := checkpoint.TopicPartition{Topic: offsetsTopic, Partition: m.partitionFor(groupID)}
	if code := m.b.replicas.canAppendAll(otp); code != 0 {
		return code
	}
	if code := m.appendRecords(groupID, recs); code != 0 {
		return code
	}
	// Commits are acks=all writes, as Kafka's (offsets.commit.required.acks).
	if code := m.b.replicas.waitReplicated(otp, offsetsCommitTimeout); code != 0 {
		return code
	}
	m.mu.Lock()
	if m.offsets[groupID] == nil {
		m.offsets[groupID] = map[checkpoint.TopicPartition]group.OffsetValue{}
	}
	for tp, v := range values {
		m.offsets[groupID][tp] = v
	}
	m.mu.Unlock()
	return 0
}

// expireOffsets deletes (with tombstones) the offsets of groups without
// members once offsets.retention.minutes have passed, as Kafka 2.8: for a
// consumer group that became Empty, counted from when it did (the group
// metadata's state timestamp), so all its offsets go together; for a group
// that only commits (no protocol type), from each commit. An Empty group
// left without offsets is removed with a group metadata tombstone.
func (m *groupManager) expireOffsets(now time.Time) {
	expired := map[string]map[checkpoint.TopicPartition]group.OffsetValue{}
	gone := map[string]bool{}
	m.mu.Lock()
	cutoff := now.Add(-m.retention).UnixMilli()
	for id, offs := range m.offsets {
		g := m.groups[id]
		if g != nil && len(g.Members) > 0 {
			continue
		}
		if !m.loaded[m.partitionFor(id)] {
			continue
		}
		emptySince := int64(-1)
		if g != nil && g.State == group.Empty && g.ProtocolType != "" && !g.StateSince.IsZero() {
			emptySince = g.StateSince.UnixMilli()
		}
		for tp, v := range offs {
			base := v.CommitTimestamp
			if emptySince >= 0 {
				base = emptySince
			}
			if base < cutoff {
				if expired[id] == nil {
					expired[id] = map[checkpoint.TopicPartition]group.OffsetValue{}
				}
				expired[id][tp] = v
				delete(offs, tp)
			}
		}
		if len(offs) == 0 && expired[id] != nil {
			delete(m.offsets, id)
			if g != nil && g.State == group.Empty {
				delete(m.groups, id)
				gone[id] = true
			}
		}
	}
	m.mu.Unlock()
	for id, offs := range expired {
		if code := m.tombstone(id, offs, gone[id]); code != 0 {
			m.b.log.Warn().Str("group", id).Int16("error_code", code).Msg("writing tombstones for expired offsets failed")
			continue
		}
		m.b.log.Info().Str("group", id).Int("offsets", len(offs)).Bool("group_removed", gone[id]).Msg("expired committed offsets (offsets.retention.minutes)")
	}
}

// tombstone appends null-valued records for a group's offsets, and for
// its group metadata when withGroup is set (the group is gone).
func (m *groupManager) tombstone(groupID string, offsets map[checkpoint.TopicPartition]group.OffsetValue, withGroup bool) int16 {
	var recs []kafka.Record
	for tp := range offsets {
		recs = append(recs, kafka.Record{Key: group.EncodeOffsetKey(group.OffsetKey{Group: groupID, Topic: tp.Topic, Partition: tp.Partition})})
	}
	if withGroup {
		recs = append(recs, kafka.Record{Key: group.EncodeGroupMetadataKey(groupID)})
	}
	return m.appendRecords(groupID, recs)
}

// ensureOffsetsTopic creates __consumer_offsets on first use, as Kafka
// does (offsets.topic.num.partitions, offsets.topic.replication.factor,
// compacted).
func (b *Broker) ensureOffsetsTopic() int16 {
	v := b.view()
	if t := v.Topics[offsetsTopic]; t != nil {
		if topicReady(v, offsetsTopic) {
			return 0
		}
		if _, ok := b.coord.WaitFor(5*time.Second, func(v coord.View) bool { return topicReady(v, offsetsTopic) }); ok {
			return 0
		}
		return kerr.CoordinatorNotAvailable.Code
	}
	if int(b.cfg.OffsetsTopicRF) > len(v.Brokers) {
		b.log.Warn().Int16("offsets.topic.replication.factor", b.cfg.OffsetsTopicRF).Int("live_brokers", len(v.Brokers)).
			Msg("cannot create __consumer_offsets: fewer live brokers than offsets.topic.replication.factor")
		return kerr.CoordinatorNotAvailable.Code
	}
	code, msg := b.createTopic(offsetsTopic, b.cfg.OffsetsTopicPartitions, b.cfg.OffsetsTopicRF, nil,
		map[string]string{"cleanup.policy": "compact", "segment.bytes": "104857600"}, 10*time.Second)
	if code == kerr.TopicAlreadyExists.Code {
		// Another request or broker created it: wait for its leaders.
		if _, ok := b.coord.WaitFor(5*time.Second, func(v coord.View) bool { return topicReady(v, offsetsTopic) }); ok {
			return 0
		}
		return kerr.CoordinatorNotAvailable.Code
	}
	if code != 0 {
		b.log.Warn().Str("reason", msg).Msg("creating __consumer_offsets failed")
		return kerr.CoordinatorNotAvailable.Code
	}
	return 0
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
