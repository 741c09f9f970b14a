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

// Election outcomes of PreferredElection and UncleanElection.
type Election int

// Election values, mapped to ElectLeaders' error codes by the broker.
const (
	Elected              Election = iota
	ElectionNotNeeded             // ELECTION_NOT_NEEDED
	PreferredUnavailable          // PREFERRED_LEADER_NOT_AVAILABLE
	NoEligibleLeader              // ELIGIBLE_LEADERS_NOT_AVAILABLE
)

// PreferredElection moves leadership to the preferred replica (the first
// assigned) when it is alive and in the ISR (Kafka's
// PreferredReplicaPartitionLeaderElectionStrategy), epoch+1.
func PreferredElection(assigned []int32, live map[int32]bool, cur kafkazk.PartitionState, controllerEpoch int32) (kafkazk.PartitionState, Election) {
	if len(assigned) == 0 {
		return cur, PreferredUnavailable
	}
	pref := assigned[0]
	if cur.Leader == pref && live[pref] {
		return cur, ElectionNotNeeded
	}
	if !live[pref] || !slices.Contains(cur.ISR, pref) {
		return cur, PreferredUnavailable
	}
	next := cur
	next.ControllerEpoch, next.Leader, next.LeaderEpoch, next.Version = controllerEpoch, pref, cur.LeaderEpoch+1, 1
	return next, Elected
}

// UncleanElection is ElectLeaders' unclean type: a partition with a live
// leader needs nothing; otherwise Decide with unclean election enabled.
func UncleanElection(assigned []int32, live map[int32]bool, cur kafkazk.PartitionState, controllerEpoch int32) (kafkazk.PartitionState, Election) {
	if cur.Leader != NoLeader && live[cur.Leader] {
		return cur, ElectionNotNeeded
	}
	next, ok := Decide(assigned, live, &cur, controllerEpoch, true)
	if !ok || next.Leader == NoLeader {
		return cur, NoEligibleLeader
	}
	return next, Elected
}

// ImbalancedBrokers lists, per preferred leader broker, the partitions it
// should lead but does not, for brokers whose share of such partitions is
// above pct percent (leader.imbalance.per.broker.percentage), as Kafka's
// checkAndTriggerAutoLeaderRebalance computes it.
func ImbalancedBrokers(parts map[[2]string][]int32, leaders map[[2]string]int32, pct int) map[int32][][2]string {
	preferred := map[int32][][2]string{}
	for k, replicas := range parts {
		if len(replicas) > 0 {
			preferred[replicas[0]] = append(preferred[replicas[0]], k)
		}
	}
	out := map[int32][][2]string{}
	for b, ks := range preferred {
		var off [][2]string
		for _, k := range ks {
			if leaders[k] != b {
				off = append(off, k)
			}
		}
		if len(off)*100 > pct*len(ks) {
			out[b] = off
		}
	}
	return out
}

// ReassignStep is one step of a partition reassignment (KIP-455) toward
// target, given the current assignment and the replicas a reassignment in
// progress adds and removes, the live brokers and the partition state:
//   - not started: the assignment becomes target followed by the old
//     replicas not in it (RS = TRS + ORS), with adding = TRS - ORS and
//     removing = ORS - TRS, and the leader epoch is bumped so the leader
//     takes the new followers;
//   - started and every target replica in the ISR: the assignment becomes
//     target, the leader stays if it is a live target member or moves to
//     the first live target member in the ISR, the ISR keeps its target
//     members, epoch+1; done;
//   - otherwise wait (the new replicas are still catching up).
//
// It returns the new assignment, adding and removing (nil when unchanged),
// the state to write (nil when unchanged) and whether it is done.
type ReassignResult struct {
	Assignment, Adding, Removing []int32
	State                        *kafkazk.PartitionState
	Changed, Done                bool
}

// ReassignStep computes the next step; see ReassignResult.
func ReassignStep(target, current, adding, removing []int32, live map[int32]bool, st *kafkazk.PartitionState, controllerEpoch int32) ReassignResult {
	if len(adding) == 0 && len(removing) == 0 {
		if slices.Equal(target, current) {
			return ReassignResult{Done: true}
		}
		rs := slices.Clone(target)
		var add, rem []int32
		for _, r := range current {
			if !slices.Contains(target, r) {
				rs = append(rs, r)
				rem = append(rem, r)
			}
		}
		for _, r := range target {
			if !slices.Contains(current, r) {
				add = append(add, r)
			}
		}
		res := ReassignResult{Assignment: rs, Adding: add, Removing: rem, Changed: true}
		if st != nil {
			next := *st
			next.ControllerEpoch, next.LeaderEpoch, next.Version = controllerEpoch, st.LeaderEpoch+1, 1
			res.State = &next
		}
		return res
	}
	if st == nil {
		return ReassignResult{}
	}
	for _, r := range target {
		if !slices.Contains(st.ISR, r) {
			return ReassignResult{}
		}
	}
	next := *st
	next.ControllerEpoch, next.LeaderEpoch, next.Version = controllerEpoch, st.LeaderEpoch+1, 1
	next.ISR = nil
	for _, r := range st.ISR {
		if slices.Contains(target, r) {
			next.ISR = append(next.ISR, r)
		}
	}
	if !slices.Contains(target, st.Leader) || !live[st.Leader] {
		next.Leader = NoLeader
		for _, r := range target {
			if live[r] && slices.Contains(next.ISR, r) {
				next.Leader = r
				break
			}
		}
		if next.Leader == NoLeader {
			return ReassignResult{}
		}
	}
	return ReassignResult{Assignment: slices.Clone(target), State: &next, Changed: true, Done: true}
}

// CancelReassignment reverts a reassignment in progress whose target was
// withdrawn: the adding replicas leave the assignment and the ISR; the
// leader moves back to the first live remaining ISR member when it was
// one of them.
func CancelReassignment(current, adding []int32, live map[int32]bool, st *kafkazk.PartitionState, controllerEpoch int32) ReassignResult {
	var orig []int32
	for _, r := range current {
		if !slices.Contains(adding, r) {
			orig = append(orig, r)
		}
	}
	res := ReassignResult{Assignment: orig, Changed: true, Done: true}
	if st == nil {
		return res
	}
	next := *st
	next.ControllerEpoch, next.LeaderEpoch, next.Version = controllerEpoch, st.LeaderEpoch+1, 1
	next.ISR = nil
	for _, r := range st.ISR {
		if slices.Contains(orig, r) {
			next.ISR = append(next.ISR, r)
		}
	}
	if !slices.Contains(orig, st.Leader) {
		next.Leader = NoLeader
		for _, r := range orig {
			if live[r] && slices.Contains(next.ISR, r) {
				next.Leader = r
				break
			}
		}
	}
	res.State = &next
	return res
}
