package broker

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The token bucket behind the replication throttles, stepped with explicit
// times: one second of burst, refilled at the rate, a debt blocks until it
// is paid back; no rate (or Long.MAX) never blocks.
func TestThrottleBucket(t *testing.T) {
	var q throttle
	t0 := time.Unix(1000, 0)
	require.True(t, q.allow(1000, t0), "a fresh bucket holds one second of bytes")
	q.spend(1000, 1500, t0)
	require.False(t, q.allow(1000, t0), "500 bytes in debt")
	require.False(t, q.allow(1000, t0.Add(400*time.Millisecond)), "still 100 bytes in debt")
	require.True(t, q.allow(1000, t0.Add(600*time.Millisecond)), "paid back")
	require.True(t, q.allow(1000, t0.Add(time.Hour)))
	q.spend(1000, 1000, t0.Add(time.Hour))
	require.False(t, q.allow(1000, t0.Add(time.Hour)), "the burst is capped at one second, not an hour")

	var free throttle
	free.spend(math.MaxInt64, 1<<40, t0)
	require.True(t, free.allow(math.MaxInt64, t0))
	require.True(t, free.allow(0, t0))
}
