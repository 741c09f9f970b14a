package coord

import (
	"slices"

	"mqstack/proto/kafkazk"
)

// NoLeader is the leader id of a partition with no live replica in its ISR.
const NoLeader = -1

// Decide is the controller's pure leader decision for one partition: the
// replicas assigned, the live brokers, the current state (nil when the
// partition has no state znode yet) and the controller's epoch in; the
// state to write out, with changed=false when nothing needs writing.
//
// Rules (Kafka's OfflinePartitionLeaderElectionStrategy without unclean
// election):
//   - a new partition gets the first live assigned replica as leader and
//     as its only ISR member (followers join the ISR when they have caught
//     up, which needs replication: the next issue), leader epoch 0; with no
//     live replica it waits (changed=false) until one registers;
//   - a partition whose leader is alive keeps its state;
//   - otherwise the new leader is the first assigned replica that is alive
//     and in the ISR, the ISR shrinks to the live members, and the leader
//     epoch is bumped; if no ISR member is alive the leader becomes
//     NoLeader with the last ISR kept (Kafka keeps the last ISR member so
//     it can come back as leader), leader epoch bumped once.
func Decide(assigned []int32, live map[int32]bool, cur *kafkazk.PartitionState, controllerEpoch int32) (kafkazk.PartitionState, bool) {
	if cur == nil {
		for _, r := range assigned {
			if live[r] {
				// The ISR starts with the leader alone: followers join it
				// once they have caught up (replication, the next issue),
				// so a follower that holds no data can never be elected.
				return kafkazk.PartitionState{ControllerEpoch: controllerEpoch, Leader: r, LeaderEpoch: 0, ISR: []int32{r}, Version: 1}, true
			}
		}
		return kafkazk.PartitionState{}, false
	}
	if cur.Leader != NoLeader && live[cur.Leader] {
		return *cur, false
	}
	var isr []int32
	for _, r := range cur.ISR {
		if live[r] {
			isr = append(isr, r)
		}
	}
	for _, r := range assigned {
		if live[r] && slices.Contains(isr, r) {
			return kafkazk.PartitionState{ControllerEpoch: controllerEpoch, Leader: r, LeaderEpoch: cur.LeaderEpoch + 1, ISR: isr, Version: 1}, true
		}
	}
	if cur.Leader == NoLeader {
		return *cur, false
	}
	return kafkazk.PartitionState{ControllerEpoch: controllerEpoch, Leader: NoLeader, LeaderEpoch: cur.LeaderEpoch + 1, ISR: cur.ISR, Version: 1}, true
}
