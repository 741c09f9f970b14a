package coord

// The controller's reassignments (/admin/reassign_partitions, KIP-455's
// steps in ReassignStep) and preferred leader elections
// (/admin/preferred_replica_election, auto.leader.rebalance.enable).

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/go-zookeeper/zk"

	"mqstack/proto/kafkazk"
)

// topicUpdate collects one topic's assignment and state changes so they
// are written in one fenced multi, at the versions read.
type topicUpdate struct {
	t       *Topic
	assign  kafkazk.TopicAssignment
	changed bool
	ops     []any
}

func newTopicUpdate(t *Topic) *topicUpdate {
	u := &topicUpdate{t: t, assign: kafkazk.TopicAssignment{TopicID: t.ID, Partitions: map[int32][]int32{},
		Adding: map[int32][]int32{}, Removing: map[int32][]int32{}}}
	for p, part := range t.Partitions {
		u.assign.Partitions[p] = part.Replicas
		u.assign.Adding[p] = part.Adding
		u.assign.Removing[p] = part.Removing
	}
	return u
}

func (c *Coordinator) applyStep(u *topicUpdate, p int32, r ReassignResult) {
	part := u.t.Partitions[p]
	if r.Assignment != nil {
		u.assign.Partitions[p], u.assign.Adding[p], u.assign.Removing[p] = r.Assignment, r.Adding, r.Removing
		u.changed = true
	}
	if r.State != nil && part.State != nil {
		u.ops = append(u.ops, &zk.SetDataRequest{Path: c.p(kafkazk.PartitionStatePath(u.t.Name, p)),
			Data: kafkazk.EncodePartitionState(*r.State), Version: part.StateVersion})
	}
}

func (c *Coordinator) writeTopicUpdate(u *topicUpdate) error {
	ops := u.ops
	if u.changed {
		ops = append([]any{&zk.SetDataRequest{Path: c.p(kafkazk.TopicPath(u.t.Name)),
			Data: kafkazk.EncodeTopicAssignment(u.assign), Version: u.t.Version}}, ops...)
	}
	if len(ops) == 0 {
		return nil
	}
	return c.fenced(ops...)
}

// reassign advances every reassignment listed in /admin/reassign_partitions
// and reverts the ones withdrawn from it (cancellation).
func (c *Coordinator) reassign(v View, live map[int32]bool) (bool, error) {
	rp := c.p(kafkazk.ReassignPartitionsPath)
	var entries []kafkazk.Reassignment
	version := int32(-1)
	data, st, err := c.getW(rp)
	switch {
	case err == nil:
		version = st.Version
		if entries, err = kafkazk.DecodeReassignments(data); err != nil {
			c.log.Error().Err(err).Msg("ignoring a malformed /admin/reassign_partitions; deleting it")
			_ = c.fenced(&zk.DeleteRequest{Path: rp, Version: version})
			return true, nil
		}
	case !errors.Is(err, zk.ErrNoNode):
		return false, fmt.Errorf("%w: read %s: %w", ErrZooKeeper, rp, err)
	}
	updates := map[string]*topicUpdate{}
	update := func(t *Topic) *topicUpdate {
		if updates[t.Name] == nil {
			updates[t.Name] = newTopicUpdate(t)
		}
		return updates[t.Name]
	}
	target := map[[2]string]bool{}
	var remaining []kafkazk.Reassignment
	for _, e := range entries {
		t := v.Topics[e.Topic]
		part, ok := Partition{}, false
		if t != nil && !t.Deleting {
			part, ok = t.Partitions[e.Partition]
		}
		if !ok || len(e.Replicas) == 0 {
			c.log.Warn().Str("topic", e.Topic).Int32("partition", e.Partition).Msg("reassignment of an unknown partition dropped")
			continue
		}
		target[[2]string{e.Topic, strconv.Itoa(int(e.Partition))}] = true
		r := ReassignStep(e.Replicas, part.Replicas, part.Adding, part.Removing, live, part.State, c.epoch)
		if r.Changed {
			c.applyStep(update(t), e.Partition, r)
			c.log.Info().Str("topic", e.Topic).Int32("partition", e.Partition).Ints32("target", e.Replicas).
				Ints32("assignment", r.Assignment).Bool("done", r.Done).Msg("reassignment step")
		}
		if !r.Done {
			remaining = append(remaining, e)
		}
	}
	for name, t := range v.Topics {
		for p, part := range t.Partitions {
			if len(part.Adding)+len(part.Removing) == 0 || target[[2]string{name, strconv.Itoa(int(p))}] {
				continue
			}
			c.applyStep(update(t), p, CancelReassignment(part.Replicas, part.Adding, live, part.State, c.epoch))
			c.log.Info().Str("topic", name).Int32("partition", p).Msg("reassignment cancelled; adding replicas removed")
		}
	}
	changed := false
	names := make([]string, 0, len(updates))
	for n := range updates {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := c.writeTopicUpdate(updates[n]); err != nil {
			if errors.Is(err, ErrFenced) {
				return changed, err
			}
			c.log.Info().Err(err).Str("topic", n).Msg("topic changed under the reassignment; retrying")
			c.Kick()
			return true, nil // the entries stay; the next pass retries
		}
		changed = true
	}
	if version >= 0 && len(remaining) != len(entries) {
		var err error
		if len(remaining) == 0 {
			err = c.fenced(&zk.DeleteRequest{Path: rp, Version: version})
		} else {
			err = c.fenced(&zk.SetDataRequest{Path: rp, Data: kafkazk.EncodeReassignments(remaining), Version: version})
		}
		if errors.Is(err, ErrFenced) {
			return changed, err
		}
		if err == nil {
			c.log.Info().Int("completed", len(entries)-len(remaining)).Int("remaining", len(remaining)).Msg("reassignments completed")
		}
		changed = true
	}
	return changed, nil
}

// preferredElections carries out /admin/preferred_replica_election and,
// with auto.leader.rebalance.enable, the periodic imbalance check.
func (c *Coordinator) preferredElections(v View, live map[int32]bool) (bool, error) {
	var wanted []kafkazk.TopicPartitionRef
	pp := c.p(kafkazk.PreferredReplicaElectionPath)
	data, st, err := c.getW(pp)
	switch {
	case err == nil:
		if wanted, err = kafkazk.DecodePreferredElection(data); err != nil {
			c.log.Error().Err(err).Msg("ignoring a malformed /admin/preferred_replica_election")
		}
	case !errors.Is(err, zk.ErrNoNode):
		return false, fmt.Errorf("%w: read %s: %w", ErrZooKeeper, pp, err)
	}
	if c.opts.AutoLeaderRebalance && c.opts.LeaderImbalanceCheck > 0 && time.Since(c.lastRebalance) >= c.opts.LeaderImbalanceCheck {
		c.lastRebalance = time.Now()
		parts := map[[2]string][]int32{}
		leaders := map[[2]string]int32{}
		for name, t := range v.Topics {
			for p, part := range t.Partitions {
				if part.State != nil && len(part.Adding)+len(part.Removing) == 0 && !t.Deleting {
					k := [2]string{name, strconv.Itoa(int(p))}
					parts[k], leaders[k] = part.Replicas, part.State.Leader
				}
			}
		}
		for b, ks := range ImbalancedBrokers(parts, leaders, c.opts.LeaderImbalancePct) {
			if !live[b] {
				continue
			}
			for _, k := range ks {
				p, _ := strconv.Atoi(k[1])
				wanted = append(wanted, kafkazk.TopicPartitionRef{Topic: k[0], Partition: int32(p)})
			}
			c.log.Info().Int32("broker", b).Int("partitions", len(ks)).Msg("leader imbalance above leader.imbalance.per.broker.percentage; electing preferred leaders")
		}
	}
	changed := false
	for _, w := range wanted {
		t := v.Topics[w.Topic]
		if t == nil {
			continue
		}
		part, ok := t.Partitions[w.Partition]
		if !ok || part.State == nil {
			continue
		}
		next, res := PreferredElection(part.Replicas, live, *part.State, c.epoch)
		if res != Elected {
			continue
		}
		err := c.fenced(&zk.SetDataRequest{Path: c.p(kafkazk.PartitionStatePath(w.Topic, w.Partition)), Data: kafkazk.EncodePartitionState(next), Version: part.StateVersion})
		if errors.Is(err, ErrFenced) {
			return changed, err
		}
		if err == nil {
			changed = true
			c.log.Info().Str("topic", w.Topic).Int32("partition", w.Partition).Int32("leader", next.Leader).Msg("preferred leader elected")
		}
	}
	if st != nil {
		if err := c.fenced(&zk.DeleteRequest{Path: pp, Version: st.Version}); errors.Is(err, ErrFenced) {
			return changed, err
		}
		changed = true
	}
	return changed, nil
}

// ErrUnknownPartition: Elect was asked about a partition ZooKeeper does
// not have.
var ErrUnknownPartition = errors.New("coord: unknown topic or partition")

// Elect runs ElectLeaders for one partition from any broker, on what
// ZooKeeper holds now (not the last view): the state is written at the
// version read, so a controller or leader change in between fails the
// write (the caller answers with the error and the client retries).
// preferred=false is an unclean election.
func (c *Coordinator) Elect(topic string, p int32, preferred bool) (Election, error) {
	data, _, err := c.conn.Get(c.p(kafkazk.TopicPath(topic)))
	if errors.Is(err, zk.ErrNoNode) {
		return NoEligibleLeader, fmt.Errorf("%w: %s", ErrUnknownPartition, topic)
	}
	if err != nil {
		return NoEligibleLeader, fmt.Errorf("%w: read %s: %w", ErrZooKeeper, c.p(kafkazk.TopicPath(topic)), err)
	}
	a, err := kafkazk.DecodeTopicAssignment(topic, data)
	if err != nil {
		return NoEligibleLeader, err
	}
	replicas, ok := a.Partitions[p]
	sp := c.p(kafkazk.PartitionStatePath(topic, p))
	data, st, err := c.conn.Get(sp)
	if !ok || errors.Is(err, zk.ErrNoNode) {
		return NoEligibleLeader, fmt.Errorf("%w: %s-%d", ErrUnknownPartition, topic, p)
	}
	if err != nil {
		return NoEligibleLeader, fmt.Errorf("%w: read %s: %w", ErrZooKeeper, sp, err)
	}
	cur, err := kafkazk.DecodePartitionState(sp, data)
	if err != nil {
		return NoEligibleLeader, err
	}
	ids, _, err := c.conn.Children(c.p(kafkazk.BrokerIDsPath))
	if err != nil {
		return NoEligibleLeader, fmt.Errorf("%w: list %s: %w", ErrZooKeeper, c.p(kafkazk.BrokerIDsPath), err)
	}
	live := map[int32]bool{}
	for _, id := range ids {
		if n, err := strconv.ParseInt(id, 10, 32); err == nil {
			live[int32(n)] = true
		}
	}
	next, res := UncleanElection(replicas, live, cur, cur.ControllerEpoch)
	if preferred {
		next, res = PreferredElection(replicas, live, cur, cur.ControllerEpoch)
	}
	if res != Elected {
		return res, nil
	}
	_, err = c.conn.Set(sp, kafkazk.EncodePartitionState(next), st.Version)
	c.wrote(sp)
	if err != nil {
		return res, fmt.Errorf("%w: write %s: %w", ErrZooKeeper, sp, err)
	}
	c.Kick()
	return res, nil
}

// Reassign merges targets into /admin/reassign_partitions (nil replicas
// cancel a partition's reassignment), at the znode's version.
func (c *Coordinator) Reassign(changes []kafkazk.Reassignment) error {
	rp := c.p(kafkazk.ReassignPartitionsPath)
	for range 10 {
		var entries []kafkazk.Reassignment
		data, st, err := c.conn.Get(rp)
		exists := err == nil
		if exists {
			if entries, err = kafkazk.DecodeReassignments(data); err != nil {
				return err
			}
		} else if !errors.Is(err, zk.ErrNoNode) {
			return fmt.Errorf("%w: read %s: %w", ErrZooKeeper, rp, err)
		}
		for _, ch := range changes {
			entries = slices.DeleteFunc(entries, func(e kafkazk.Reassignment) bool {
				return e.Topic == ch.Topic && e.Partition == ch.Partition
			})
			if ch.Replicas != nil {
				entries = append(entries, ch)
			}
		}
		out := kafkazk.EncodeReassignments(entries)
		switch {
		case !exists && len(entries) == 0:
			err = nil
		case !exists:
			_, err = c.conn.Create(rp, out, 0, zk.WorldACL(zk.PermAll))
		case len(entries) == 0:
			err = c.conn.Delete(rp, st.Version)
		default:
			_, err = c.conn.Set(rp, out, st.Version)
		}
		c.wrote(rp)
		if errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrNodeExists) || errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%w: write %s: %w", ErrZooKeeper, rp, err)
		}
		c.Kick()
		return nil
	}
	return fmt.Errorf("%w: %s kept changing under 10 attempts", ErrZooKeeper, rp)
}
