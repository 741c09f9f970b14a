package broker

import (
	"bytes"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
)

// bigBatch is one v2 batch of n records of 1 KiB whose values start with
// tag, so that a test can tell which request put which records where.
func bigBatch(t *testing.T, tag string, n int) []byte {
	recs := make([]kafka.Record, n)
	for i := range recs {
		v := bytes.Repeat([]byte{'.'}, 1024)
		copy(v, fmt.Sprintf("%s-%d", tag, i))
		recs[i] = kafka.Record{Offset: int64(i), Value: v}
	}
	b, err := kafka.AppendBatch(nil, kafka.NewBatchOptions(), recs)
	require.NoError(t, err)
	return b
}

// A produce request large enough to have its partitions appended in
// parallel answers each partition in the request's order with the right
// base offsets, and one naming a partition twice appends the two batches
// in the request's order.
func TestLargeProduceRequestAcrossPartitions(t *testing.T) {
	b, _ := startBroker(t, nil)
	adm := newClient(t, b)
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "wide", 4, 1
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctxT(t), adm)
	require.NoError(t, err)
	require.Equal(t, int16(0), resp.Topics[0].ErrorCode)

	r := dialRaw(t, b)
	send := func(corr int32, parts []int32, tags []string) *kmsg.ProduceResponse {
		prod := kmsg.NewPtrProduceRequest()
		prod.Acks, prod.TimeoutMillis = 1, 5000
		pt := kmsg.NewProduceRequestTopic()
		pt.Topic = "wide"
		for i, p := range parts {
			pp := kmsg.NewProduceRequestTopicPartition()
			pp.Partition, pp.Records = p, bigBatch(t, tags[i], 100) // ~100 KiB each
			pt.Partitions = append(pt.Partitions, pp)
		}
		prod.Topics = []kmsg.ProduceRequestTopic{pt}
		r.send(corr, prod, 8)
		pr := kmsg.NewPtrProduceResponse()
		require.Equal(t, corr, r.recv(pr, 8))
		require.Len(t, pr.Topics, 1)
		require.Len(t, pr.Topics[0].Partitions, len(parts))
		return pr
	}
	// 400 KiB over four distinct partitions, listed out of order.
	pr := send(1, []int32{3, 1, 0, 2}, []string{"a3", "a1", "a0", "a2"})
	for i, p := range []int32{3, 1, 0, 2} {
		got := pr.Topics[0].Partitions[i]
		require.Equal(t, p, got.Partition)
		require.Zero(t, got.ErrorCode)
		require.Equal(t, int64(0), got.BaseOffset)
	}
	// Partition 0 twice, then 1: serial, in order.
	pr = send(2, []int32{0, 0, 1}, []string{"b0first", "b0second", "b1"})
	require.Equal(t, []int64{100, 200, 100}, []int64{pr.Topics[0].Partitions[0].BaseOffset, pr.Topics[0].Partitions[1].BaseOffset, pr.Topics[0].Partitions[2].BaseOffset})

	// What a consumer reads back: each partition's records in order, with
	// the tags the requests put there.
	cl := newClient(t, b, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"wide": {
		0: kgo.NewOffset().AtStart(), 1: kgo.NewOffset().AtStart(), 2: kgo.NewOffset().AtStart(), 3: kgo.NewOffset().AtStart()}}))
	want := map[int32][]string{0: {"a0", "b0first", "b0second"}, 1: {"a1", "b1"}, 2: {"a2"}, 3: {"a3"}}
	got := map[int32][]string{}
	total := 0
	for total < 700 {
		fs := cl.PollFetches(ctxT(t))
		require.NoError(t, fs.Err0())
		fs.EachRecord(func(rec *kgo.Record) {
			tag := string(bytes.SplitN(rec.Value, []byte("-"), 2)[0])
			if n := len(got[rec.Partition]); n == 0 || got[rec.Partition][n-1] != tag {
				got[rec.Partition] = append(got[rec.Partition], tag)
			}
			total++
		})
	}
	require.Equal(t, want, got)
}

// A panic while appending one partition of a parallel request reaches the
// caller (whose handler closes that connection only) after every worker
// has stopped, instead of killing the process from a worker goroutine.
func TestParallelProducePanicReachesCaller(t *testing.T) {
	jobs := make([]produceJob, 8)
	for i := range jobs {
		jobs[i] = produceJob{topic: "p", rp: &kmsg.ProduceRequestTopicPartition{Partition: int32(i), Records: make([]byte, 64<<10)}}
	}
	var running atomic.Int32
	require.PanicsWithValue(t, true, func() {
		defer func() {
			// Every worker has returned before the panic reaches here.
			require.Zero(t, running.Load())
			p := recover()
			require.Contains(t, fmt.Sprint(p), "append failed badly")
			panic(true)
		}()
		runProduceJobs(jobs, func(j *produceJob) {
			running.Add(1)
			defer running.Add(-1)
			time.Sleep(5 * time.Millisecond)
			if j.rp.Partition%2 == 1 {
				panic("append failed badly")
			}
		})
	})
}
