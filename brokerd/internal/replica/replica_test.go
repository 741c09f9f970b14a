package replica

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

const lag = 10_000 // replica.lag.time.max.ms in the tests

// leader returns broker 1 leading replicas 1,2,3 at epoch 5, all in the
// ISR, its log at leo with high watermark hw, at tick 0.
func leader(leo, hw int64) *Partition {
	p := New(1, Config{LagTimeMax: lag})
	p.BecomeLeader(5, []int32{1, 2, 3}, []int32{1, 2, 3}, leo, hw, 0)
	return p
}

func fetch(t *testing.T, p *Partition, id int32, off, now int64) bool {
	t.Helper()
	moved, err := p.FollowerFetch(id, off, now)
	require.NoError(t, err)
	return moved
}

// "A message is considered committed when all in sync replicas for that
// partition have applied it to their log": HW = min LEO over the ISR.
func TestHighWatermarkIsSmallestISRLogEnd(t *testing.T) {
	cases := []struct {
		name       string
		leo        int64
		f2, f3     int64 // follower fetch offsets (-1: no fetch)
		isr        []int32
		wantHW     int64
		wantMoved  bool
		afterWrite bool
	}{
		{name: "no follower fetched yet: nothing committed", leo: 10, f2: -1, f3: -1, wantHW: 0},
		{name: "one follower behind holds the HW", leo: 10, f2: 10, f3: 4, wantHW: 4, wantMoved: true},
		{name: "all caught up: HW = leader LEO", leo: 10, f2: 10, f3: 10, wantHW: 10, wantMoved: true},
		{name: "a follower out of the ISR does not hold it", leo: 10, f2: 10, f3: 2, isr: []int32{1, 2}, wantHW: 10, wantMoved: true, afterWrite: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := leader(0, 0)
			if c.isr != nil {
				p.SetISR(c.isr)
			}
			p.Appended(c.leo)
			moved := false
			if c.f2 >= 0 {
				moved = fetch(t, p, 2, c.f2, 1) || moved
			}
			if c.f3 >= 0 {
				moved = fetch(t, p, 3, c.f3, 1) || moved
			}
			if c.afterWrite {
				if isr, ok := p.Proposal(); ok {
					p.ISRFailed()
					_ = isr
				}
			}
			require.Equal(t, c.wantHW, p.HW())
			require.Equal(t, c.wantMoved, moved)
		})
	}
}

// A single-replica partition (RF 1) commits on append: the ISR is the
// leader alone.
func TestSingleReplicaCommitsOnAppend(t *testing.T) {
	p := New(1, Config{LagTimeMax: lag})
	p.BecomeLeader(0, []int32{1}, []int32{1}, 0, 0, 0)
	require.True(t, p.Appended(7))
	require.EqualValues(t, 7, p.HW())
	require.Equal(t, AckDone, p.Acked(6, 1))
}

// The high watermark never moves back on a leader, even when a follower
// re-fetches from an older offset.
func TestHighWatermarkIsMonotonicOnLeader(t *testing.T) {
	p := leader(10, 0)
	fetch(t, p, 2, 10, 1)
	fetch(t, p, 3, 10, 1)
	require.EqualValues(t, 10, p.HW())
	require.False(t, fetch(t, p, 3, 8, 2))
	require.EqualValues(t, 10, p.HW())
}

// "If a follower dies, gets stuck, or falls behind, the leader will remove
// it from the list of in sync replicas. The determination of stuck and
// lagging replicas is controlled by the replica.lag.time.max.ms
// configuration."
func TestISRShrinksAfterLagTime(t *testing.T) {
	cases := []struct {
		name     string
		steps    func(t *testing.T, p *Partition)
		tick     int64
		proposal []int32 // nil: no change proposed
	}{
		{name: "a dead follower (no fetch) is dropped after the lag time",
			steps: func(t *testing.T, p *Partition) { fetch(t, p, 2, 10, 9_000) },
			tick:  10_001, proposal: []int32{1, 2}},
		{name: "not before the lag time",
			steps: func(t *testing.T, p *Partition) { fetch(t, p, 2, 10, 9_000) },
			tick:  10_000},
		{name: "a stuck follower (fetching but never catching up) is dropped",
			steps: func(t *testing.T, p *Partition) {
				fetch(t, p, 2, 10, 1)
				for now := int64(1000); now <= 12_000; now += 1000 {
					p.Appended(10 + now) // the leader keeps moving
					fetch(t, p, 3, 3, now)
					fetch(t, p, 2, p.LEO(), now)
				}
			},
			tick: 12_000, proposal: []int32{1, 2}},
		{name: "a follower that reached the LEO of the previous fetch caught up at that fetch's time",
			steps: func(t *testing.T, p *Partition) {
				// leader LEO 10 at t=5000 fetch; by t=14000 the follower
				// fetches at 10 while the leader is at 20: caught up at 5000.
				fetch(t, p, 2, 10, 14_000)
				fetch(t, p, 3, 5, 5_000)
				p.Appended(20)
				fetch(t, p, 3, 10, 14_000)
				fetch(t, p, 2, 20, 14_000)
			},
			tick: 15_001, proposal: []int32{1, 2}},
		{name: "a follower whose LEO equals the leader's is never out of sync",
			steps: func(t *testing.T, p *Partition) {
				fetch(t, p, 2, 10, 0)
				fetch(t, p, 3, 10, 0)
			},
			tick: 50_000},
		{name: "the leader itself is never dropped",
			steps: func(t *testing.T, p *Partition) {},
			tick:  100_000, proposal: []int32{1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := leader(10, 0)
			c.steps(t, p)
			p.Tick(c.tick)
			isr, ok := p.Proposal()
			if c.proposal == nil {
				require.False(t, ok, "proposed %v", isr)
				return
			}
			require.True(t, ok)
			require.Equal(t, c.proposal, isr)
		})
	}
}

// "This ISR set is persisted to ZooKeeper whenever it changes": a change
// is a proposal until the write is reported; while it is pending the HW
// is computed over the old and new sets together (maximal ISR), so a
// shrink cannot commit what the dropped member lacks before ZooKeeper
// has the smaller set.
func TestISRChangeTakesEffectWhenWritten(t *testing.T) {
	p := leader(10, 0)
	fetch(t, p, 2, 10, 100)
	fetch(t, p, 3, 4, 100)
	require.EqualValues(t, 4, p.HW())
	p.Tick(20_000)
	isr, ok := p.Proposal()
	require.True(t, ok)
	require.Equal(t, []int32{1, 2}, isr)
	require.EqualValues(t, 4, p.HW(), "pending shrink must not advance the HW")
	require.Equal(t, []int32{1, 2, 3}, p.ISR())
	require.True(t, p.ISRWritten(isr))
	require.EqualValues(t, 10, p.HW())
	require.Equal(t, []int32{1, 2}, p.ISR())

	// A failed write drops the proposal; it comes back on the next tick.
	q := leader(10, 0)
	q.Tick(20_000)
	_, ok = q.Proposal()
	require.True(t, ok)
	q.ISRFailed()
	_, ok = q.Proposal()
	require.False(t, ok)
	q.Tick(20_001)
	_, ok = q.Proposal()
	require.True(t, ok)
}

// A follower rejoins the ISR once its LEO reaches the high watermark and
// the start of the leader's epoch (Kafka's maybeExpandIsr).
func TestISRGrowsWhenFollowerCatchesUp(t *testing.T) {
	cases := []struct {
		name      string
		epochLEO  int64 // the leader's LEO when it took the epoch
		hwFetch   int64 // follower 2's fetch offset (sets the HW)
		f3        int64
		wantGrows bool
	}{
		{name: "below the HW stays out", epochLEO: 0, hwFetch: 8, f3: 7},
		{name: "at the HW joins", epochLEO: 0, hwFetch: 8, f3: 8, wantGrows: true},
		{name: "at the HW but before the epoch start stays out", epochLEO: 9, hwFetch: 9, f3: 8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := New(1, Config{LagTimeMax: lag})
			p.BecomeLeader(5, []int32{1, 2, 3}, []int32{1, 2}, c.epochLEO, 0, 0)
			p.Appended(10)
			fetch(t, p, 2, c.hwFetch, 1)
			fetch(t, p, 3, c.f3, 1)
			isr, ok := p.Proposal()
			require.Equal(t, c.wantGrows, ok, "proposal %v", isr)
			if ok {
				require.Equal(t, []int32{1, 2, 3}, isr)
			}
		})
	}
}

// "Note that topics have a setting for the 'minimum number' of in-sync
// replicas that is checked when the producer requests acknowledgment
// that a message has been written to the full set of in-sync replicas."
// acks=0/1 are not checked; acks=all with too small an ISR is refused
// before the append, and after the append when the ISR shrank below the
// minimum while it waited.
func TestMinInsyncReplicas(t *testing.T) {
	p := leader(10, 0)
	p.SetISR([]int32{1})
	require.NoError(t, p.CanAppend(1, 2))
	require.NoError(t, p.CanAppend(0, 2))
	require.True(t, errors.Is(p.CanAppend(-1, 2), ErrNotEnoughReplicas))
	require.NoError(t, p.CanAppend(-1, 1))

	q := leader(0, 0)
	require.NoError(t, q.CanAppend(-1, 2))
	q.Appended(5)
	fetch(t, q, 2, 5, 1)
	require.Equal(t, AckWaiting, q.Acked(4, 2), "follower 3 has not fetched it")
	q.Tick(lag + 100)
	isr, _ := q.Proposal()
	require.Equal(t, []int32{1, 2}, isr)
	q.ISRWritten(isr)
	require.Equal(t, AckDone, q.Acked(4, 2))

	r := leader(0, 0)
	r.Appended(5)
	r.Tick(lag + 100)
	isr, _ = r.Proposal()
	r.ISRWritten(isr)
	require.Equal(t, []int32{1}, r.ISR())
	require.Equal(t, AckNotEnoughReplicasAfterAppend, r.Acked(4, 2))
}

// "Only committed messages are ever given out to the consumer": the
// follower's HW is the leader's capped by its own LEO, and a follower
// never acts on acks.
func TestFollowerHighWatermark(t *testing.T) {
	p := New(2, Config{LagTimeMax: lag})
	p.BecomeFollower(5, []int32{1, 2, 3}, []int32{1, 2, 3}, 4, 0)
	require.EqualValues(t, 4, p.FollowerHW(10))
	p.Appended(12)
	require.EqualValues(t, 10, p.FollowerHW(10))
	require.Equal(t, AckNotLeader, p.Acked(0, 1))
	require.True(t, errors.Is(p.CanAppend(1, 1), ErrNotLeader))
	_, err := p.FollowerFetch(3, 0, 0)
	require.True(t, errors.Is(err, ErrNotLeader))
}

// Fetches from a broker that is not assigned are refused.
func TestFetchFromNonReplica(t *testing.T) {
	p := leader(0, 0)
	_, err := p.FollowerFetch(9, 0, 0)
	require.True(t, errors.Is(err, ErrUnknownReplica))
}

// A new leader's HW waits for every ISR member to fetch once (it does not
// know their LEOs), as after a failover.
func TestNewLeaderWaitsForISRFetch(t *testing.T) {
	p := New(2, Config{LagTimeMax: lag})
	p.BecomeLeader(6, []int32{1, 2, 3}, []int32{2, 3}, 20, 15, 0)
	require.EqualValues(t, 15, p.HW())
	p.Appended(21)
	require.EqualValues(t, 15, p.HW())
	fetch(t, p, 3, 21, 1)
	require.EqualValues(t, 21, p.HW())
	require.Equal(t, int64(-1), p.FollowerLEO(1))
}

// KIP-101/KIP-279: a returning follower truncates to the leader's end
// offset of its latest epoch, or to its own end of the epoch the leader
// answered with when that is smaller; with no common epoch, to its HW.
func TestTruncateTo(t *testing.T) {
	own := map[int32]int64{3: 50, 4: 80}
	localEnd := func(e int32) (int64, bool) { v, ok := own[e]; return v, ok }
	cases := []struct {
		name string
		leo  int64
		hw   int64
		ans  Truncation
		want int64
	}{
		{"leader has the same epoch ending later: nothing cut", 100, 60, Truncation{true, 5, 120}, 100},
		{"leader's epoch ended earlier: cut to its end", 100, 60, Truncation{true, 4, 70}, 70},
		{"leader answers an older epoch the follower ended sooner", 100, 40, Truncation{true, 3, 60}, 50},
		{"no epoch known: cut to the high watermark", 100, 40, Truncation{Known: false}, 40},
		{"high watermark above LEO never grows the log", 30, 40, Truncation{Known: false}, 30},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, TruncateTo(c.leo, c.hw, c.ans, localEnd))
		})
	}
}
