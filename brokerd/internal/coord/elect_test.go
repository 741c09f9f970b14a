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

func TestDecide(t *testing.T) {
	// New partition: first live assigned replica leads, alone in the ISR, epoch 0.
	s, ch := Decide([]int32{2, 1, 3}, live(1, 3), nil, 7)
	require.True(t, ch)
	require.Equal(t, kafkazk.PartitionState{ControllerEpoch: 7, Leader: 1, LeaderEpoch: 0, ISR: []int32{1}, Version: 1}, s)
	// Its leader dies: the live follower 3 is not in the ISR, so no leader.
	s, ch = Decide([]int32{2, 1, 3}, live(3), &s, 7)
	require.True(t, ch)
	require.Equal(t, int32(NoLeader), s.Leader)

	// New partition with nobody alive: wait.
	_, ch = Decide([]int32{2}, live(1), nil, 7)
	require.False(t, ch)

	// Live leader: unchanged.
	cur := kafkazk.PartitionState{ControllerEpoch: 1, Leader: 2, LeaderEpoch: 4, ISR: []int32{2, 1}}
	s, ch = Decide([]int32{2, 1}, live(1, 2), &cur, 7)
	require.False(t, ch)
	require.Equal(t, cur, s)

	// Leader gone: next in ISR by assignment order, epoch bumped.
	s, ch = Decide([]int32{2, 1, 3}, live(1, 3), &cur, 8)
	require.True(t, ch)
	require.Equal(t, int32(1), s.Leader)
	require.Equal(t, int32(5), s.LeaderEpoch)
	require.Equal(t, []int32{1}, s.ISR) // 3 was never in the ISR
	require.Equal(t, int32(8), s.ControllerEpoch)

	// No ISR member alive: NoLeader, ISR kept; a second pass changes nothing.
	s, ch = Decide([]int32{2, 1, 3}, live(3), &cur, 8)
	require.True(t, ch)
	require.Equal(t, int32(NoLeader), s.Leader)
	require.Equal(t, []int32{2, 1}, s.ISR)
	_, ch = Decide([]int32{2, 1, 3}, live(3), &s, 8)
	require.False(t, ch)

	// The old leader comes back: it leads again.
	s2, ch := Decide([]int32{2, 1, 3}, live(2, 3), &s, 9)
	require.True(t, ch)
	require.Equal(t, int32(2), s2.Leader)
	require.Equal(t, int32(6), s2.LeaderEpoch)
}
