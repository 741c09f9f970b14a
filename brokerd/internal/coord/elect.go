package coord

import (
	"slices"

	"mqstack/proto/kafkazk"
)

// NoLeader is the leader id of a partition with no eligible live replica.
const NoLeader = -1

// Decide is the controller's pure leader decision for one partition: the
// replicas assigned, the live brokers, the current state (nil when the
// partition has no state znode yet), the controller's epoch and whether
// unclean leader election is enabled for the topic in; the state to write
// out, with changed=false when nothing needs writing.
//
// Rules (Kafka's controller in ZooKeeper mode):
//   - a new partition gets the first live assigned replica as leader and
//     every live assigned replica, in assignment order, as its ISR (they
//     are all empty), leader epoch 0; with no live replica it waits
//     (changed=false) until one registers;
//   - a partition whose leader is alive keeps its leader and epoch; ISR
//     members that are no longer alive (their ZooKeeper session expired)
//     are removed from the ISR at once (Kafka's OfflineReplica transition;
//     Kafka 2.8 also bumps the leader epoch there, this does not);
//   - otherwise the new leader is the first assigned replica that is alive
//     and in the ISR, the ISR shrinks to the live members, and the leader
//     epoch is bumped;
//   - if no ISR member is alive and unclean election is enabled, the first
//     live assigned replica leads with itself as the ISR (data the old ISR
//     had may be lost: that is what the setting accepts);
//   - otherwise the leader becomes NoLeader (-1) with the last ISR kept, so
//     a returning ISR member can lead again; the epoch is bumped once.
func Decide(assigned []int32, live map[int32]bool, cur *kafkazk.PartitionState, controllerEpoch int32, unclean bool) (kafkazk.PartitionState, bool) {
	if cur == nil {
		var isr []int32
		for _, r := range assigned {
			if live[r] {
				isr = append(isr, r)
			}
		}
		if len(isr) == 0 {
			return kafkazk.PartitionState{}, false
		}
		return kafkazk.PartitionState{ControllerEpoch: controllerEpoch, Leader: isr[0], LeaderEpoch: 0, ISR: isr, Version: 1}, true
	}
	var isr []int32
	for _, r := range cur.ISR {
		if live[r] {
			isr = append(isr, r)
		}
	}
	if cur.Leader != NoLeader && live[cur.Leader] {
		if len(isr) == len(cur.ISR) {
			return *cur, false
		}
		next := *cur
		next.ControllerEpoch, next.ISR, next.Version = controllerEpoch, isr, 1
		return next, true
	}
	for _, r := range assigned {
		if live[r] && slices.Contains(isr, r) {
			return kafkazk.PartitionState{ControllerEpoch: controllerEpoch, Leader: r, LeaderEpoch: cur.LeaderEpoch + 1, ISR: isr, Version: 1}, true
		}
	}
	if unclean {
		for _, r := range assigned {
			if live[r] {
				return kafkazk.PartitionState{ControllerEpoch: controllerEpoch, Leader: r, LeaderEpoch: cur.LeaderEpoch + 1, ISR: []int32{r}, Version: 1}, true
			}
		}
	}
	if cur.Leader == NoLeader {
		return *cur, false
	}
	return kafkazk.PartitionState{ControllerEpoch: controllerEpoch, Leader: NoLeader, LeaderEpoch: cur.LeaderEpoch + 1, ISR: cur.ISR, Version: 1}, true
}

// ShutdownMove is the state a broker leaving by controlled shutdown
// writes for a partition it holds (Kafka's ControlledShutdown): if it
// leads, leadership goes to the first other live ISR member in assignment
// order with the epoch bumped; it leaves the ISR either way. changed=false
// when there is nothing to do or nobody to take over (the partition then
// goes leaderless when the broker's session ends, as in Kafka).
func ShutdownMove(self int32, assigned []int32, live map[int32]bool, cur kafkazk.PartitionState) (kafkazk.PartitionState, bool) {
	if !slices.Contains(cur.ISR, self) || len(cur.ISR) == 1 {
		return cur, false
	}
	var isr []int32
	for _, r := range cur.ISR {
		if r != self {
			isr = append(isr, r)
		}
	}
	next := cur
	next.ISR, next.Version = isr, 1
	if cur.Leader != self {
		return next, true
	}
	for _, r := range assigned {
		if r != self && live[r] && slices.Contains(isr, r) {
			next.Leader, next.LeaderEpoch = r, cur.LeaderEpoch+1
			return next, true
		}
	}
	return cur, false
}
