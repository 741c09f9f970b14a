package status

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/eagle/internal/model"
)

var t0 = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

// win builds samples 30 s apart from (committed, lag) pairs.
func win(pairs ...int64) []Sample {
	var out []Sample
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Sample{Time: t0.Add(time.Duration(i/2) * 30 * time.Second), Committed: pairs[i], Lag: pairs[i+1]})
	}
	return out
}

func TestPartition(t *testing.T) {
	cases := []struct {
		name    string
		w       []Sample
		members bool
		want    string
	}{
		{"empty window", nil, true, OK},
		{"caught up", win(10, 0, 20, 0, 30, 0), true, OK},
		{"zero lag once in window", win(10, 5, 20, 0, 30, 7), true, OK},
		{"consuming, lag steady", win(10, 5, 20, 5, 30, 5), true, OK},
		{"consuming, lag shrinking", win(10, 9, 20, 7, 30, 4), true, OK},
		{"consuming, lag growing each step", win(10, 5, 20, 8, 30, 12), true, Warn},
		{"growing but window too short", win(10, 5, 20, 8), true, OK},
		{"growing then flat is not WARN", win(10, 5, 20, 8, 30, 8), true, OK},
		{"stuck with members", win(10, 5, 10, 8, 10, 12), true, Stall},
		{"stuck without members", win(10, 5, 10, 5, 10, 5), false, Stop},
		{"one sample with lag", win(10, 5), false, OK},
		{"rewind", win(10, 5, 20, 5, 3, 22), true, Rewind},
		{"rewind beats caught up", win(30, 0, 5, 0), true, Rewind},
		{"unknown lag", win(10, -1, 10, -1), true, OK},
	}
	for _, c := range cases {
		got, why := Partition(c.w, c.members)
		assert.Equal(t, c.want, got, "%s (%s)", c.name, why)
		assert.NotEmpty(t, why, c.name)
	}
}

func TestGroupAndWindow(t *testing.T) {
	w := NewWindow(3)
	snap := func(at int, committed, end int64, members bool) *model.Snapshot {
		g := model.Group{ID: "g", Offsets: []model.GroupOffset{
			{Topic: "a", Partition: 0, Committed: committed, End: end, Lag: end - committed},
			{Topic: "a", Partition: 1, Committed: 5, End: 5, Lag: 0},
		}}
		if members {
			g.Members = []model.Member{{ID: "m1"}}
		}
		return &model.Snapshot{Time: t0.Add(time.Duration(at) * time.Minute), Groups: []model.Group{g}}
	}
	s := snap(0, 10, 10, false)
	w.Observe(s)
	assert.Equal(t, OK, s.Groups[0].Status)
	assert.Equal(t, "idle, caught up", s.Groups[0].StatusReason)

	// Lag appears and the committed offset stays: STOP without members.
	w.Observe(snap(1, 10, 20, false))
	s = snap(2, 10, 30, false)
	w.Observe(s)
	// window still holds the zero-lag sample of minute 0 (size 3): OK
	assert.Equal(t, OK, s.Groups[0].Status)
	s = snap(3, 10, 40, false)
	w.Observe(s)
	require.Equal(t, Stop, s.Groups[0].Status)
	assert.Contains(t, s.Groups[0].StatusReason, "a-0")
	assert.Equal(t, Stop, s.Groups[0].Offsets[0].Status)
	assert.Equal(t, OK, s.Groups[0].Offsets[1].Status)

	// Consumer rewinds to 0: REWIND.
	s = snap(4, 0, 40, true)
	w.Observe(s)
	assert.Equal(t, Rewind, s.Groups[0].Status)

	// A group whose offsets could not be read is ERR.
	st, _ := Group(model.Group{ID: "x", Error: "OffsetFetch: coordinator not available"})
	assert.Equal(t, Err, st)
}

func TestWindowForgetsGoneGroups(t *testing.T) {
	w := NewWindow(5)
	w.Observe(&model.Snapshot{Time: t0, Groups: []model.Group{{ID: "g", Offsets: []model.GroupOffset{{Topic: "a", Committed: 1, Lag: 1}}}}})
	require.Len(t, w.samples, 1)
	w.Observe(&model.Snapshot{Time: t0.Add(time.Minute)})
	assert.Empty(t, w.samples)
}
