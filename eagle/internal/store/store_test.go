package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHistoryDownsampleAndRetention(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db", "ke.db")
	s, err := Open(path)
	require.NoError(t, err)
	defer s.Close()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	// One sample a minute for 20 days: values 1..
	for m := 0; m < 20*24*60; m += 1 {
		ts := now.Add(-time.Duration(m) * time.Minute)
		require.NoError(t, s.AddSamples("c1", ts, []Sample{{Metric: "lag", Key: "g", Value: float64(m % 10)}}))
		if m == 60 { // the rest faster: one sample per 10 minutes
			break
		}
	}
	for m := 70; m < 20*24*60; m += 10 {
		ts := now.Add(-time.Duration(m) * time.Minute)
		require.NoError(t, s.AddSamples("c1", ts, []Sample{{Metric: "lag", Key: "g", Value: 4}}))
	}
	raw, avg, err := s.Count(ctx)
	require.NoError(t, err)
	require.Zero(t, avg)
	before := raw

	c, err := s.Compact(now, 15*24*time.Hour)
	require.NoError(t, err)
	assert.Positive(t, c.Downsampled)
	assert.Positive(t, c.Averaged)
	assert.Positive(t, c.Deleted)
	raw, avg, err = s.Count(ctx)
	require.NoError(t, err)
	assert.Less(t, raw+avg, before)
	// nothing older than 15 days; no raw row older than 2 days
	var oldest, oldestRaw int64
	require.NoError(t, s.r.QueryRow(`SELECT min(ts) FROM samples`).Scan(&oldest))
	require.NoError(t, s.r.QueryRow(`SELECT min(ts) FROM samples WHERE res=0`).Scan(&oldestRaw))
	assert.GreaterOrEqual(t, oldest, now.Add(-15*24*time.Hour).Unix())
	assert.GreaterOrEqual(t, oldestRaw, now.Add(-RawKeep).Unix()-Bucket)

	// The last hour is raw and readable as a series.
	pts, err := s.Series(ctx, "c1", "lag", "g", now.Add(-time.Hour), now, 60)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(pts), 55)
	// The 7-day view spans raw and averaged rows.
	pts, err = s.Series(ctx, "c1", "lag", "g", now.Add(-7*24*time.Hour), now, 100)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(pts), 90)
	for _, p := range pts[:10] {
		assert.InDelta(t, 4, p.V, 0.001)
	}

	// A second compaction finds nothing new to average.
	c, err = s.Compact(now, 15*24*time.Hour)
	require.NoError(t, err)
	assert.Zero(t, c.Averaged)
}

func TestUsersAuditAlerts(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "ke.db"))
	require.NoError(t, err)
	defer s.Close()
	_, err = s.GetUser(ctx, "admin")
	require.ErrorIs(t, err, ErrNoUser)
	require.NoError(t, s.PutUser(ctx, User{Name: "admin", Hash: "h", Role: "admin", MustChange: true}))
	u, err := s.GetUser(ctx, "admin")
	require.NoError(t, err)
	assert.True(t, u.MustChange)
	require.NoError(t, s.PutUser(ctx, User{Name: "admin", Hash: "h2", Role: "admin"}))
	u, err = s.GetUser(ctx, "admin")
	require.NoError(t, err)
	assert.Equal(t, "h2", u.Hash)
	assert.False(t, u.MustChange)

	require.NoError(t, s.Audit(ctx, "admin", "topic.create", "t1 partitions=3"))
	require.NoError(t, s.Audit(ctx, "admin", "topic.delete", "t1"))
	log, err := s.AuditLog(ctx, 10)
	require.NoError(t, err)
	require.Len(t, log, 2)
	assert.Equal(t, "topic.delete", log[0].Action)

	require.NoError(t, s.AddAlert(ctx, AlertEntry{Time: time.Now(), Cluster: "c", Key: "k", Kind: "broker-down", Level: "red", State: "firing", Text: "x", Delivery: "webhook: 200"}))
	al, err := s.Alerts(ctx, 5)
	require.NoError(t, err)
	require.Len(t, al, 1)
	assert.Equal(t, "firing", al[0].State)
}

func TestBrokersSeen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ke.db")
	s, err := Open(path)
	require.NoError(t, err)
	t1 := time.Unix(1000, 0)
	require.NoError(t, s.SaveSeen(ctx, "c1", []SeenBroker{{ID: 1, Host: "h1", Port: 9092, Last: t1}, {ID: 2, Host: "h2", Port: 9092, Last: t1}}))
	// an older sighting does not move last_seen back
	require.NoError(t, s.SaveSeen(ctx, "c1", []SeenBroker{{ID: 2, Host: "h2b", Port: 9093, Last: t1.Add(-time.Hour)}}))
	require.NoError(t, s.SaveSeen(ctx, "c2", []SeenBroker{{ID: 9, Host: "x", Port: 1, Last: t1}}))
	require.NoError(t, s.Close())

	// Survives a reopen (a restart of eagle).
	s, err = Open(path)
	require.NoError(t, err)
	defer s.Close()
	seen, err := s.Seen(ctx, "c1")
	require.NoError(t, err)
	require.Len(t, seen, 2)
	assert.Equal(t, "h2b", seen[1].Host)
	assert.Equal(t, t1.Unix(), seen[1].Last.Unix())
	require.NoError(t, s.ForgetBroker(ctx, "c1", 2))
	seen, err = s.Seen(ctx, "c1")
	require.NoError(t, err)
	require.Len(t, seen, 1)
	assert.EqualValues(t, 1, seen[0].ID)
}
