package coord

import (
	"testing"

	"github.com/stretchr/testify/require"

	"mqstack/proto/kafkazk"
)

func live(ids ...int32) map[int32]bool {
	m := map[int32]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func st(leader, epoch int32, isr ...int32) kafkazk.PartitionState {
	return kafkazk.PartitionState{ControllerEpoch: 7, Leader: leader, LeaderEpoch: epoch, ISR: isr, Version: 1}
}

// Kafka's controller rules, one row each (see Decide).
func TestDecide(t *testing.T) {
	p := func(s kafkazk.PartitionState) *kafkazk.PartitionState { return &s }
	cases := []struct {
		name     string
		assigned []int32
		live     map[int32]bool
		cur      *kafkazk.PartitionState
		unclean  bool
		want     kafkazk.PartitionState
		changed  bool
	}{
		{"new partition: first live replica leads, the live replicas are the ISR", []int32{2, 1, 3}, live(1, 3), nil, false, st(1, 0, 1, 3), true},
		{"new partition with nobody alive waits", []int32{2}, live(1), nil, false, kafkazk.PartitionState{}, false},
		{"live leader with a live ISR: unchanged", []int32{2, 1}, live(1, 2), p(st(2, 4, 2, 1)), false, st(2, 4, 2, 1), false},
		{"live leader, dead follower: the follower leaves the ISR, same epoch", []int32{2, 1, 3}, live(1, 2), p(st(2, 4, 2, 1, 3)), false, st(2, 4, 2, 1), true},
		{"dead leader: first live ISR member in assignment order, epoch+1", []int32{2, 1, 3}, live(1, 3), p(st(2, 4, 2, 3, 1)), false, st(1, 5, 3, 1), true},
		{"a live replica outside the ISR is not eligible", []int32{2, 1, 3}, live(3), p(st(2, 4, 2, 1)), false, st(NoLeader, 5, 2, 1), true},
		{"leaderless stays leaderless while no ISR member lives", []int32{2, 1, 3}, live(3), p(st(NoLeader, 5, 2, 1)), false, st(NoLeader, 5, 2, 1), false},
		{"an ISR member returns: it leads", []int32{2, 1, 3}, live(2, 3), p(st(NoLeader, 5, 2, 1)), false, st(2, 6, 2), true},
		{"unclean election: a live replica outside the ISR leads", []int32{2, 1, 3}, live(3), p(st(2, 4, 2, 1)), true, st(3, 5, 3), true},
		{"unclean election with nobody alive: leaderless", []int32{2, 1}, live(3), p(st(2, 4, 2, 1)), true, st(NoLeader, 5, 2, 1), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, changed := Decide(c.assigned, c.live, c.cur, 7, c.unclean)
			require.Equal(t, c.changed, changed)
			if changed || c.cur != nil {
				require.Equal(t, c.want, got)
			}
		})
	}
}

func TestShutdownMove(t *testing.T) {
	// The leader leaves: the next live ISR member by assignment order leads.
	s, ok := ShutdownMove(1, []int32{1, 2, 3}, live(1, 2, 3), st(1, 3, 1, 3, 2))
	require.True(t, ok)
	require.Equal(t, st(2, 4, 3, 2), s)
	// A follower leaves the ISR, the leader and epoch stay.
	s, ok = ShutdownMove(3, []int32{1, 2, 3}, live(1, 2, 3), st(1, 3, 1, 3))
	require.True(t, ok)
	require.Equal(t, st(1, 3, 1), s)
	// The only ISR member cannot hand over.
	_, ok = ShutdownMove(1, []int32{1, 2}, live(1, 2), st(1, 3, 1))
	require.False(t, ok)
	// Not in the ISR: nothing to do.
	_, ok = ShutdownMove(2, []int32{1, 2}, live(1, 2), st(1, 3, 1))
	require.False(t, ok)
}

func TestPreferredAndUncleanElection(t *testing.T) {
	s, e := PreferredElection([]int32{2, 1, 3}, live(1, 2, 3), st(1, 4, 1, 2, 3), 7)
	require.Equal(t, Elected, e)
	require.Equal(t, st(2, 5, 1, 2, 3), s)
	_, e = PreferredElection([]int32{2, 1, 3}, live(1, 2, 3), st(2, 4, 1, 2, 3), 7)
	require.Equal(t, ElectionNotNeeded, e)
	_, e = PreferredElection([]int32{2, 1, 3}, live(1, 2, 3), st(1, 4, 1, 3), 7)
	require.Equal(t, PreferredUnavailable, e, "preferred replica out of the ISR")
	_, e = PreferredElection([]int32{2, 1, 3}, live(1, 3), st(1, 4, 1, 2, 3), 7)
	require.Equal(t, PreferredUnavailable, e, "preferred replica dead")

	s, e = UncleanElection([]int32{1, 2, 3}, live(3), st(NoLeader, 4, 1), 7)
	require.Equal(t, Elected, e)
	require.Equal(t, st(3, 5, 3), s)
	_, e = UncleanElection([]int32{1, 2, 3}, live(1, 3), st(1, 4, 1), 7)
	require.Equal(t, ElectionNotNeeded, e)
	_, e = UncleanElection([]int32{1, 2}, live(3), st(NoLeader, 4, 1), 7)
	require.Equal(t, NoEligibleLeader, e)
}

func TestImbalancedBrokers(t *testing.T) {
	parts := map[[2]string][]int32{{"t", "0"}: {1, 2}, {"t", "1"}: {2, 1}, {"t", "2"}: {1, 2}}
	leaders := map[[2]string]int32{{"t", "0"}: 2, {"t", "1"}: 2, {"t", "2"}: 1}
	// Broker 1 prefers 2 partitions and leads 1: 50% > 10%.
	require.Equal(t, map[int32][][2]string{1: {{"t", "0"}}}, ImbalancedBrokers(parts, leaders, 10))
	require.Empty(t, ImbalancedBrokers(parts, leaders, 50))
}

// KIP-455's reassignment steps: RS = TRS + ORS with adding/removing, wait
// for the targets in the ISR, then the target alone, leader moved if it
// is being removed.
func TestReassignStep(t *testing.T) {
	cur := st(1, 4, 1, 2)
	r := ReassignStep([]int32{3, 2}, []int32{1, 2}, nil, nil, live(1, 2, 3), &cur, 7)
	require.True(t, r.Changed)
	require.False(t, r.Done)
	require.Equal(t, []int32{3, 2, 1}, r.Assignment)
	require.Equal(t, []int32{3}, r.Adding)
	require.Equal(t, []int32{1}, r.Removing)
	require.Equal(t, int32(5), r.State.LeaderEpoch)

	// 3 not in the ISR yet: wait.
	mid := st(1, 5, 1, 2)
	r = ReassignStep([]int32{3, 2}, []int32{3, 2, 1}, []int32{3}, []int32{1}, live(1, 2, 3), &mid, 7)
	require.False(t, r.Changed)

	// 3 caught up: the target alone, leader 1 (removed) replaced by 3.
	caught := st(1, 5, 1, 2, 3)
	r = ReassignStep([]int32{3, 2}, []int32{3, 2, 1}, []int32{3}, []int32{1}, live(1, 2, 3), &caught, 7)
	require.True(t, r.Done)
	require.Equal(t, []int32{3, 2}, r.Assignment)
	require.Equal(t, st(3, 6, 2, 3), *r.State)

	// Nothing to do when the target is the assignment.
	require.True(t, ReassignStep([]int32{1, 2}, []int32{1, 2}, nil, nil, live(1, 2), &cur, 7).Done)

	// Cancel: the adding replicas go, the leader stays.
	c := CancelReassignment([]int32{3, 2, 1}, []int32{3}, live(1, 2, 3), &caught, 7)
	require.Equal(t, []int32{2, 1}, c.Assignment)
	require.Equal(t, st(1, 6, 1, 2), *c.State)
}
