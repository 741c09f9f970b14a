package collect

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"mqstack/eagle/internal/model"
)

// Lag in seconds, as Burrow and kafka-lag-exporter users read it: for a
// partition a group lags on, the age of the first record it has not
// consumed (the pass's time minus the timestamp of the record at the
// committed offset). Each pass fetches, from the partitions' leaders, one
// small slice of log per lagging partition whose record is not cached yet;
// a committed offset that has not moved since the last pass costs nothing.
const (
	lagFetchBytes = 64 << 10 // per partition
	lagFetchWait  = 100      // ms; the records exist, nothing waits for appends
	lagFetchChunk = 16       // partitions per Fetch request
)

// lagKey is the offset whose record dates a lagging partition: the
// committed offset, or the log start when retention deleted it.
type lagKey struct {
	tp     model.TopicPartition
	offset int64
}

// recordTime is the first data record at or after a lagKey's offset.
type recordTime struct {
	offset    int64
	ts        time.Time
	logAppend bool // the topic stamps LogAppendTime (else CreateTime)
}

// lagTimes sets LagSeconds from record timestamps for every group offset
// with a known lag (0 for no lag); a partition whose record could not be
// read keeps -1 and a note, and computeRates estimates it from the rate.
func (c *Collector) lagTimes(s *model.Snapshot, pe *errs) {
	parts := map[model.TopicPartition]model.Partition{}
	for _, t := range s.Topics {
		for _, p := range t.Partitions {
			parts[model.TopicPartition{Topic: t.Name, Partition: p.ID}] = p
		}
	}
	keyOf := func(o *model.GroupOffset) (lagKey, bool) {
		tp := model.TopicPartition{Topic: o.Topic, Partition: o.Partition}
		p, ok := parts[tp]
		if !ok || o.Lag <= 0 {
			return lagKey{}, false
		}
		return lagKey{tp, max(o.Committed, p.Start)}, true
	}
	used := map[lagKey]recordTime{}
	need := map[int32][]lagKey{} // by leader
	failed := map[lagKey]string{}
	for gi := range s.Groups {
		for oi := range s.Groups[gi].Offsets {
			o := &s.Groups[gi].Offsets[oi]
			if o.Lag == 0 {
				o.LagSeconds = 0
			}
			k, ok := keyOf(o)
			if !ok {
				continue
			}
			if _, ok := used[k]; ok {
				continue
			}
			if rt, ok := c.lagCache[k]; ok {
				used[k] = rt
				continue
			}
			if _, ok := failed[k]; ok {
				continue
			}
			if l := parts[k.tp].Leader; l >= 0 {
				failed[k] = "" // asked once, whatever the number of groups
				need[l] = append(need[l], k)
			} else {
				failed[k] = "the partition has no leader"
			}
		}
	}
	addrOf := reachableAddrs(s)
	type job struct {
		leader int32
		keys   []lagKey
	}
	var jobs []job
	for _, keys := range need {
		s.LagFetches += len(keys)
	}
	leaders := make([]int32, 0, len(need))
	for l := range need {
		leaders = append(leaders, l)
	}
	sort.Slice(leaders, func(i, j int) bool { return leaders[i] < leaders[j] })
	for _, l := range leaders {
		keys := need[l]
		for len(keys) > 0 {
			n := min(len(keys), lagFetchChunk)
			jobs = append(jobs, job{l, keys[:n]})
			keys = keys[n:]
		}
	}
	var mu sync.Mutex
	forEach(len(jobs), c.concurrency, func(i int) {
		j := jobs[i]
		got, errs, err := c.fetchRecordTimes(addrOf[j.leader], j.keys)
		if err != nil {
			pe.add("lag in seconds: Fetch from broker %d: %v", j.leader, err)
		}
		mu.Lock()
		defer mu.Unlock()
		for k, rt := range got {
			used[k] = rt
		}
		for k, e := range errs {
			failed[k] = e
		}
	})
	c.lagCache = used // what this pass used: an offset consumed past is dropped

	for gi := range s.Groups {
		for oi := range s.Groups[gi].Offsets {
			o := &s.Groups[gi].Offsets[oi]
			k, ok := keyOf(o)
			if !ok {
				continue
			}
			rt, ok := used[k]
			if !ok {
				o.LagSecondsNote = "no record timestamp: " + failed[k]
				continue
			}
			o.LagSeconds = max(s.Time.Sub(rt.ts).Seconds(), 0)
			o.LagSecondsSource = "timestamp"
			o.LagSecondsTimestampType = "CreateTime"
			if rt.logAppend {
				o.LagSecondsTimestampType = "LogAppendTime"
			}
			switch {
			case k.offset > o.Committed:
				o.LagSecondsNote = fmt.Sprintf("committed offset %d was deleted (log start %d): age of the record at offset %d", o.Committed, k.offset, rt.offset)
			case rt.offset != k.offset:
				o.LagSecondsNote = fmt.Sprintf("no data record at offset %d (compacted or a transaction marker): age of the record at offset %d", k.offset, rt.offset)
			}
		}
	}
}

// fetchRecordTimes sends one Fetch for keys (all led by the broker at a)
// and returns the first data record's timestamp per key, or why not; err
// is set when the request as a whole failed.
func (c *Collector) fetchRecordTimes(a string, keys []lagKey) (map[lagKey]recordTime, map[lagKey]string, error) {
	got := map[lagKey]recordTime{}
	errs := map[lagKey]string{}
	failAll := func(err error) (map[lagKey]recordTime, map[lagKey]string, error) {
		for _, k := range keys {
			errs[k] = err.Error()
		}
		return got, errs, err
	}
	if a == "" {
		got, errs, _ := failAll(errors.New("the partition's leader is not reachable"))
		return got, errs, nil
	}
	pb, err := c.probe(a)
	if err != nil {
		return failAll(err)
	}
	// Version 4: record batches and isolation level, served by Kafka 0.11
	// and later (and by brokerd).
	req := &sarama.FetchRequest{Version: 4, MaxWaitTime: lagFetchWait, MinBytes: 1,
		MaxBytes: int32(len(keys)) * lagFetchBytes, Isolation: sarama.ReadUncommitted}
	for _, k := range keys {
		req.AddBlock(k.tp.Topic, k.tp.Partition, k.offset, lagFetchBytes, -1)
	}
	resp, err := pb.Fetch(req)
	if err != nil {
		c.dropProbe(a)
		return failAll(err)
	}
	for _, k := range keys {
		blk := resp.GetBlock(k.tp.Topic, k.tp.Partition)
		switch {
		case blk == nil:
			errs[k] = "the Fetch response has no block for the partition"
		case blk.Err == sarama.ErrOffsetOutOfRange:
			errs[k] = fmt.Sprintf("offset %d is out of range (deleted by retention since the offsets were listed)", k.offset)
		case blk.Err != sarama.ErrNoError:
			errs[k] = "Fetch: " + blk.Err.Error()
		default:
			if rt, ok := firstRecord(blk, k.offset); ok {
				got[k] = rt
			} else {
				errs[k] = fmt.Sprintf("no timestamped data record in the first %d KiB from offset %d", lagFetchBytes>>10, k.offset)
			}
		}
	}
	return got, errs, nil
}

// firstRecord finds the first data record at or after off in a fetched
// block: v2 record batches (control batches skipped), or legacy message
// sets (magic 1; magic 0 has no timestamps).
func firstRecord(blk *sarama.FetchResponseBlock, off int64) (recordTime, bool) {
	for _, rs := range blk.RecordsSet {
		if b := rs.RecordBatch; b != nil {
			if b.Control {
				continue
			}
			for _, r := range b.Records {
				o := b.FirstOffset + r.OffsetDelta
				if o < off {
					continue
				}
				if b.LogAppendTime {
					return recordTime{o, b.MaxTimestamp, true}, !b.MaxTimestamp.IsZero()
				}
				if b.FirstTimestamp.IsZero() {
					return recordTime{}, false
				}
				return recordTime{o, b.FirstTimestamp.Add(r.TimestampDelta), false}, true
			}
		}
		if ms := rs.MsgSet; ms != nil {
			for _, mb := range ms.Messages {
				if mb.Msg == nil || mb.Msg.Version < 1 {
					continue
				}
				// A compressed wrapper's offset is its last inner message's;
				// inner offsets are relative (magic 1).
				if inner := mb.Msg.Set; inner != nil && len(inner.Messages) > 0 {
					last := inner.Messages[len(inner.Messages)-1].Offset
					for _, im := range inner.Messages {
						o := mb.Offset - (last - im.Offset)
						if o < off || im.Msg == nil {
							continue
						}
						ts := im.Msg.Timestamp
						if mb.Msg.LogAppendTime {
							ts = mb.Msg.Timestamp
						}
						return recordTime{o, ts, mb.Msg.LogAppendTime}, !ts.IsZero()
					}
					continue
				}
				if mb.Offset >= off {
					return recordTime{mb.Offset, mb.Msg.Timestamp, mb.Msg.LogAppendTime}, !mb.Msg.Timestamp.IsZero()
				}
			}
		}
	}
	return recordTime{}, false
}
