package integration

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Lag in seconds is the age of the first unconsumed record, read from its
// timestamp, on idle partitions (no new records, so an end-offset rate of
// 0): CreateTime records stamped minutes in the past, a committed offset
// deleted by DeleteRecords (the log start record dates it), a
// LogAppendTime topic (the broker's append time, not the producer's), and
// no lag (0 s). Unchanged committed offsets are not fetched again.
func TestEagleLagSeconds(t *testing.T) {
	zks := StartServer(t, kindZkd, ServerOptions{})
	connect := zks.Addr() + "/lagsec"
	b1 := startBrokerd(t, 1, connect)

	cl, err := kgo.NewClient(kgo.SeedBrokers(b1.Addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	require.NoError(t, err)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err = adm.CreateTopic(ctx, 3, 1, nil, "ledger")
	require.NoError(t, err)
	appendTime := "LogAppendTime"
	_, err = adm.CreateTopic(ctx, 1, 1, map[string]*string{"message.timestamp.type": &appendTime}, "stamped")
	require.NoError(t, err)

	// ledger-0: 5 records stamped 90 s ago. ledger-1: 10 records, record i
	// stamped (600 - 10 i) s ago. ledger-2: 2 records, fully consumed.
	// stamped-0: 3 records whose producer stamp (1 h ago) the broker
	// replaces with its append time.
	produced := time.Now()
	var recs []*kgo.Record
	for i := range 5 {
		recs = append(recs, &kgo.Record{Topic: "ledger", Partition: 0, Value: []byte(fmt.Sprint("a", i)), Timestamp: produced.Add(-90 * time.Second)})
	}
	for i := range 10 {
		recs = append(recs, &kgo.Record{Topic: "ledger", Partition: 1, Value: []byte(fmt.Sprint("b", i)),
			Timestamp: produced.Add(-time.Duration(600-10*i) * time.Second)})
	}
	for i := range 2 {
		recs = append(recs, &kgo.Record{Topic: "ledger", Partition: 2, Value: []byte(fmt.Sprint("c", i))})
	}
	for i := range 3 {
		recs = append(recs, &kgo.Record{Topic: "stamped", Partition: 0, Value: []byte(fmt.Sprint("d", i)), Timestamp: produced.Add(-time.Hour)})
	}
	require.NoError(t, cl.ProduceSync(ctx, recs...).FirstErr())

	// Retention stand-in: ledger-1 starts at offset 4; the group's commit
	// (2) is below it.
	del := kadm.Offsets{}
	del.Add(kadm.Offset{Topic: "ledger", Partition: 1, At: 4})
	dres, err := adm.DeleteRecords(ctx, del)
	require.NoError(t, err)
	require.NoError(t, dres.Error())
	commits := kadm.Offsets{}
	commits.Add(kadm.Offset{Topic: "ledger", Partition: 0, At: 0})
	commits.Add(kadm.Offset{Topic: "ledger", Partition: 1, At: 2})
	commits.Add(kadm.Offset{Topic: "ledger", Partition: 2, At: 2})
	commits.Add(kadm.Offset{Topic: "stamped", Partition: 0, At: 1})
	cres, err := adm.CommitOffsets(ctx, "audit", commits)
	require.NoError(t, err)
	require.NoError(t, cres.Error())

	e := startEagle(t, fmt.Sprintf("efak.zk.cluster.alias=cluster1\ncluster1.zk.list=%s\neagle.collect.interval=1s\neagle.admin.password=eagle-admin-1\n", connect))
	s := eagleLogin(t, e.URL, "admin", "eagle-admin-1")

	type offsetJSON struct {
		Topic                   string
		Partition               int32
		Lag                     int64
		LagSeconds              float64
		LagSecondsSource        string
		LagSecondsTimestampType string
		LagSecondsNote          string
	}
	var g struct {
		Group struct{ Offsets []offsetJSON }
	}
	byTP := map[string]offsetJSON{}
	read := func() string {
		if code := getJSON(t, s, "/groups/audit", &g); code != http.StatusOK {
			return fmt.Sprint("status ", code)
		}
		clear(byTP)
		for _, o := range g.Group.Offsets {
			byTP[fmt.Sprintf("%s-%d", o.Topic, o.Partition)] = o
		}
		if len(byTP) != 4 {
			return fmt.Sprintf("offsets %+v", g.Group.Offsets)
		}
		for tp, o := range byTP {
			if o.Lag > 0 && o.LagSecondsSource != "timestamp" {
				return fmt.Sprintf("%s: %+v", tp, o)
			}
		}
		return ""
	}
	eventually(t, 60*time.Second, "lag in seconds from timestamps", read)
	// Several passes later (rates of 0 by now) the values stay; the
	// committed offsets did not move, so nothing is fetched again.
	passes := func() int {
		code, body, _ := s.get("/metrics")
		require.Equal(t, http.StatusOK, code)
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "eagle_collect_passes_total{") {
				f := strings.Fields(line)
				n, err := strconv.ParseFloat(f[len(f)-1], 64)
				require.NoError(t, err)
				return int(n)
			}
		}
		t.Fatalf("no eagle_collect_passes_total in /metrics")
		return 0
	}
	from := passes()
	eventually(t, 30*time.Second, "three more collection passes", func() string {
		if n := passes(); n < from+3 {
			return fmt.Sprintf("%d passes, waiting for %d", n, from+3)
		}
		return ""
	})
	require.Empty(t, read())
	for tp, o := range byTP {
		t.Logf("%s: lag %d, %.1f s (%s %s) %s", tp, o.Lag, o.LagSeconds, o.LagSecondsSource, o.LagSecondsTimestampType, o.LagSecondsNote)
	}
	// A record stamped ts is, at any pass, at least as old as it was when
	// produced and at most as old as it is now.
	age := func(ts time.Time) (lo, hi float64) {
		return produced.Sub(ts).Seconds() - 2, time.Since(ts).Seconds() + 2
	}

	o := byTP["ledger-0"]
	lo, hi := age(produced.Add(-90 * time.Second))
	assert.EqualValues(t, 5, o.Lag)
	assert.True(t, o.LagSeconds >= lo && o.LagSeconds <= hi, "ledger-0 lag %.1f s, want within [%.1f, %.1f]", o.LagSeconds, lo, hi)
	assert.Equal(t, "CreateTime", o.LagSecondsTimestampType)
	assert.Empty(t, o.LagSecondsNote)

	o = byTP["ledger-1"]
	lo, hi = age(produced.Add(-560 * time.Second)) // record 4, the log start
	assert.EqualValues(t, 8, o.Lag)
	assert.True(t, o.LagSeconds >= lo && o.LagSeconds <= hi, "ledger-1 lag %.1f s, want within [%.1f, %.1f] (not 580: offset 2 is gone)", o.LagSeconds, lo, hi)
	assert.Contains(t, o.LagSecondsNote, "committed offset 2 was deleted (log start 4)")

	o = byTP["ledger-2"]
	assert.EqualValues(t, 0, o.Lag)
	assert.Zero(t, o.LagSeconds)
	assert.Empty(t, o.LagSecondsSource)

	o = byTP["stamped-0"]
	_, hi = age(produced)
	assert.EqualValues(t, 2, o.Lag)
	assert.Equal(t, "LogAppendTime", o.LagSecondsTimestampType)
	assert.True(t, o.LagSeconds >= 0 && o.LagSeconds <= hi, "stamped-0 lag %.1f s: the append time, not the producer's hour-old stamp", o.LagSeconds)

	// /metrics: the per-partition and per-group gauges, and no fetch in the
	// last pass.
	resp, err := http.Get(e.URL + "/metrics")
	require.NoError(t, err)
	metrics := readAll(t, resp)
	m := regexp.MustCompile(`kafka_consumergroup_group_lag_seconds\{cluster="cluster1",consumergroup="audit",topic="ledger",partition="0"\} (\S+)`).FindStringSubmatch(metrics)
	require.NotNil(t, m, metrics)
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	assert.InDelta(t, 90, v, time.Since(produced).Seconds()+2)
	m = regexp.MustCompile(`kafka_consumergroup_group_max_lag_seconds\{cluster="cluster1",consumergroup="audit"\} (\S+)`).FindStringSubmatch(metrics)
	require.NotNil(t, m, metrics)
	v, err = strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	assert.InDelta(t, 560, v, time.Since(produced).Seconds()+2)
	assert.Contains(t, metrics, `eagle_collect_lag_fetches{cluster="cluster1"} 0`+"\n")

	// The group page shows the value with how it was obtained.
	code, body, _ := s.get("/groups/audit")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "age of the first unconsumed record (LogAppendTime)")
	assert.Regexp(t, `committed offset 2 was deleted \(log start 4\)[^"]*">5[6-9]\d s<`, body)
}
