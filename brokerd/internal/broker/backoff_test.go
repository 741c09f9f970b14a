package broker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A partition the leader answered with an error sits out 10 ms, then
// twice as long after each further error, never longer than
// replica.fetch.backoff.ms; an answer without error clears it.
func TestPartitionBackoff(t *testing.T) {
	limit := time.Second
	now := time.Unix(1000, 0)
	var pb partBackoff
	require.False(t, pb.waiting(now), "a partition without errors is fetched")
	var delays []time.Duration
	for range 9 {
		pb.failed(now, limit)
		delays = append(delays, pb.until.Sub(now))
		require.True(t, pb.waiting(now))
		require.True(t, pb.waiting(pb.until.Add(-time.Nanosecond)))
		require.False(t, pb.waiting(pb.until), "asked again once its delay is over")
	}
	ms := time.Millisecond
	require.Equal(t, []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, limit, limit}, delays)
	pb.ok()
	require.False(t, pb.waiting(now))
	pb.failed(now, limit)
	require.Equal(t, 10*ms, pb.until.Sub(now), "after a good answer the next error starts short again")

	var small partBackoff
	small.failed(now, 3*ms)
	require.Equal(t, 3*ms, small.until.Sub(now), "a replica.fetch.backoff.ms below the first step bounds it")
}
