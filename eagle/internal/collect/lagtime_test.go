package collect

import (
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/eagle/internal/config"
	"mqstack/eagle/internal/model"
)

// The record dating a lag is the first data record at or after the offset:
// control batches (transaction markers) and compacted-away offsets are
// skipped; LogAppendTime batches give the broker's time; a record without
// a timestamp gives none.
func TestFirstRecord(t *testing.T) {
	t0 := time.UnixMilli(1_800_000_000_000)
	blk := &sarama.FetchResponseBlock{RecordsSet: []*sarama.Records{
		{RecordBatch: &sarama.RecordBatch{FirstOffset: 10, FirstTimestamp: t0, Records: []*sarama.Record{
			{OffsetDelta: 0}, {OffsetDelta: 1, TimestampDelta: time.Second}, {OffsetDelta: 4, TimestampDelta: 3 * time.Second}}}},
		{RecordBatch: &sarama.RecordBatch{FirstOffset: 15, Control: true, FirstTimestamp: t0, Records: []*sarama.Record{{}}}},
		{RecordBatch: &sarama.RecordBatch{FirstOffset: 16, LogAppendTime: true, FirstTimestamp: t0, MaxTimestamp: t0.Add(time.Hour),
			Records: []*sarama.Record{{OffsetDelta: 0}, {OffsetDelta: 1}}}},
	}}
	cases := []struct {
		off       int64
		want      recordTime
		wantFound bool
	}{
		{10, recordTime{10, t0, false}, true},
		{11, recordTime{11, t0.Add(time.Second), false}, true},
		{12, recordTime{14, t0.Add(3 * time.Second), false}, true}, // 12, 13 compacted away
		{15, recordTime{16, t0.Add(time.Hour), true}, true},        // 15 is a marker
		{17, recordTime{17, t0.Add(time.Hour), true}, true},
		{18, recordTime{}, false},
	}
	for _, c := range cases {
		got, ok := firstRecord(blk, c.off)
		assert.Equal(t, c.wantFound, ok, "offset %d", c.off)
		if ok {
			assert.Equal(t, c.want.offset, got.offset, "offset %d", c.off)
			assert.True(t, c.want.ts.Equal(got.ts), "offset %d: %v, want %v", c.off, got.ts, c.want.ts)
			assert.Equal(t, c.want.logAppend, got.logAppend, "offset %d", c.off)
		}
	}
	// A CreateTime batch without timestamps (-1 on the wire: zero here).
	_, ok := firstRecord(&sarama.FetchResponseBlock{RecordsSet: []*sarama.Records{
		{RecordBatch: &sarama.RecordBatch{FirstOffset: 0, Records: []*sarama.Record{{}}}}}}, 0)
	assert.False(t, ok)
}

// Without a readable record (here: the leader is not reachable) the lag
// in seconds falls back to the end-offset rate, marked "rate", with the
// reason kept; without a rate it stays unknown. No lag is 0 s.
func TestLagSecondsRateFallback(t *testing.T) {
	c := New(config.Cluster{Alias: "c1"}, 4, zerolog.Nop())
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	snap := func(at time.Time, end int64) *model.Snapshot {
		return &model.Snapshot{Time: at, Brokers: []model.Broker{{ID: 1, Registered: true}},
			Topics: []model.Topic{{Name: "t", Partitions: []model.Partition{{ID: 0, Leader: 1, Start: 0, End: end}, {ID: 1, Leader: -1, Start: 0, End: 5}}}},
			Groups: []model.Group{{ID: "g", Offsets: []model.GroupOffset{
				{Topic: "t", Partition: 0, Committed: 100, End: end, Lag: end - 100, LagSeconds: -1},
				{Topic: "t", Partition: 1, Committed: 5, End: 5, Lag: 0, LagSeconds: -1},
			}}}}
	}
	c.prev = snap(t0, 1000)
	s := snap(t0.Add(10*time.Second), 1200) // 20 records/s
	c.lagTimes(s, &errs{})
	assert.Equal(t, 1, s.LagFetches)
	c.computeRates(s)
	o := s.Groups[0].Offsets
	assert.InDelta(t, 1100.0/20, o[0].LagSeconds, 1e-9)
	assert.Equal(t, "rate", o[0].LagSecondsSource)
	assert.Equal(t, "no record timestamp: the partition's leader is not reachable", o[0].LagSecondsNote)
	assert.Zero(t, o[1].LagSeconds)
	assert.Empty(t, o[1].LagSecondsSource)
	require.Empty(t, c.lagCache, "failures are not cached")

	// An idle partition (rate 0) has no estimate.
	c.prev = s
	s = snap(t0.Add(20*time.Second), 1200)
	c.lagTimes(s, &errs{})
	c.computeRates(s)
	assert.EqualValues(t, -1, s.Groups[0].Offsets[0].LagSeconds)
	assert.Empty(t, s.Groups[0].Offsets[0].LagSecondsSource)
}
