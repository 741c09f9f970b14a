package broker

// Produce (key 0), versions 0-9: v3+ carry record batches v2; v0-2 carry
// legacy message sets (magic 0/1), up-converted to one v2 batch first
// (legacy.go), after which everything below applies the same.
//
// Each partition's records (one or more v2 batches) are appended with the
// leader path of storage/segment: CRC-32C and every record checked, offsets
// assigned from the log end offset, the leader epoch stamped, LogAppendTime
// set when the topic uses it. Errors per partition: a batch set larger than
// message.max.bytes (or the topic's max.message.bytes) is
// MESSAGE_TOO_LARGE; a bad CRC is CORRUPT_MESSAGE; other invalid batches
// INVALID_RECORD; an unknown topic or partition UNKNOWN_TOPIC_OR_PARTITION,
// a partition led elsewhere NOT_LEADER_OR_FOLLOWER, one without a leader
// LEADER_NOT_AVAILABLE; the leader epoch stamped is the state znode's;
// a transactional produce TRANSACTIONAL_ID_AUTHORIZATION_FAILED
// (transactions come in a later issue). Idempotent batches (producer id
// and sequence set) go through idempotence.go: duplicates answered with
// their original offset, gaps and stale epochs with Kafka's errors.
// Replication (replication.go): acks=1 answers after the leader's append;
// acks=-1 (all) is refused with NOT_ENOUGH_REPLICAS when the ISR is
// smaller than min.insync.replicas (the topic's, else the broker's),
// otherwise waits until the high watermark passes the batch (the ISR has
// it), answering NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR fell below
// the minimum meanwhile, NOT_LEADER_OR_FOLLOWER if leadership moved and
// REQUEST_TIMED_OUT after the request's timeout; a retried idempotent
// batch waits the same way. acks=0 gets no response at all. The log is not
// fsynced per request, as in Kafka (durability by replication and flush).

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/replica"
	"mqstack/proto/kafka"
	"mqstack/storage/checkpoint"
	"mqstack/storage/segment"
)

var produceAPI = api{key: 0, min: 0, max: 9, handle: handleProduce}

func handleProduce(b *Broker, c *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.ProduceRequest)
	resp := kmsg.NewPtrProduceResponse()
	// The response has the request's shape; each partition's slot is
	// filled by produceOne, in parallel when the request is large.
	var jobs []produceJob
	for ti := range req.Topics {
		rt := &req.Topics[ti]
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		st.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		resp.Topics = append(resp.Topics, st)
		for pi := range rt.Partitions {
			jobs = append(jobs, produceJob{ti: ti, pi: pi, topic: rt.Topic, rp: &rt.Partitions[pi]})
		}
	}
	runProduceJobs(jobs, func(j *produceJob) {
		resp.Topics[j.ti].Partitions[j.pi], j.wait = produceOne(b, c, req, j.topic, j.rp)
	})
	appended := false
	var waits []ackWait
	for _, j := range jobs {
		if j.wait != nil {
			appended = true
			if req.Acks == -1 {
				j.wait.ti, j.wait.pi = j.ti, j.pi
				waits = append(waits, *j.wait)
			}
		}
	}
	if appended {
		b.appended.notify()
	}
	if req.Acks == 0 {
		return nil, nil
	}
	if len(waits) > 0 {
		b.replicas.waitAcks(waits, time.Duration(max(req.TimeoutMillis, 0))*time.Millisecond)
		for _, w := range waits {
			if w.code != 0 {
				resp.Topics[w.ti].Partitions[w.pi].ErrorCode = w.code
				b.metrics.failedProduce.Inc()
			}
		}
	}
	return resp, nil
}

// produceJob is one partition of a produce request.
type produceJob struct {
	ti, pi int
	topic  string
	rp     *kmsg.ProduceRequestTopicPartition
	wait   *ackWait
}

// parallelProduceBytes is the request size from which the partitions of
// one produce request are appended concurrently: below it the appends are
// too short to gain from more than one CPU.
const parallelProduceBytes = 256 << 10

// runProduceJobs runs fn for every job: one after the other for a small
// request or one naming a partition twice (whose batches must be appended
// in the request's order), otherwise on up to GOMAXPROCS goroutines.
// Partitions are independent logs, each behind its own lock, so a large
// request from one producer is copied into the page cache by several CPUs
// at once instead of one (Kafka appends a request's partitions on one
// request-handler thread).
func runProduceJobs(jobs []produceJob, fn func(*produceJob)) {
	workers := min(runtime.GOMAXPROCS(0), len(jobs))
	if workers > 1 {
		total := 0
		seen := make(map[checkpoint.TopicPartition]struct{}, len(jobs))
		for _, j := range jobs {
			total += len(j.rp.Records)
			seen[checkpoint.TopicPartition{Topic: j.topic, Partition: j.rp.Partition}] = struct{}{}
		}
		if total < parallelProduceBytes || len(seen) < len(jobs) {
			workers = 1
		}
	}
	if workers <= 1 {
		for i := range jobs {
			fn(&jobs[i])
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var panicked atomic.Value
	work := func() {
		for {
			i := int(next.Add(1)) - 1
			if i >= len(jobs) {
				return
			}
			fn(&jobs[i])
		}
	}
	// A panic in a worker would take the whole broker down: it is caught
	// and raised again on the connection's goroutine, whose handler
	// recovers and closes only that connection, once every worker has
	// stopped (the request's buffer is reused after the handler returns).
	guarded := func() {
		defer func() {
			if p := recover(); p != nil {
				panicked.CompareAndSwap(nil, fmt.Sprintf("%v\n%s", p, debug.Stack()))
			}
		}()
		work()
	}
	for range workers - 1 {
		wg.Add(1)
		go func() { defer wg.Done(); guarded() }()
	}
	guarded()
	wg.Wait()
	if p := panicked.Load(); p != nil {
		panic(p)
	}
}

// produceOne appends one partition's records; w is non-nil when they were
// appended (for acks=all to wait on).
func produceOne(b *Broker, c *conn, req *kmsg.ProduceRequest, topic string, rp *kmsg.ProduceRequestTopicPartition) (kmsg.ProduceResponseTopicPartition, *ackWait) {
	sp := kmsg.NewProduceResponseTopicPartition()
	sp.Partition = rp.Partition
	sp.BaseOffset = -1
	if req.TransactionID != nil {
		sp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return sp, nil
	}
	l, epoch, code := b.leaderLog(topic, rp.Partition)
	if code != 0 {
		sp.ErrorCode = code
		return sp, nil
	}
	if len(rp.Records) > b.settings(topic).maxMessageBytes {
		sp.ErrorCode = kerr.MessageTooLarge.Code
		return sp, nil
	}
	if req.Version <= legacyProduce {
		if sp.ErrorCode = upConvertProduce(c, topic, rp); sp.ErrorCode != 0 {
			b.metrics.failedProduce.Inc()
			return sp, nil
		}
	}
	tp := checkpoint.TopicPartition{Topic: topic, Partition: rp.Partition}
	// The replica's lock is held across the append so that leadership
	// cannot move between the checks and the append (Kafka's
	// leaderIsrUpdateLock).
	pr := b.replicas.get(tp)
	minISR := b.minISR(topic)
	if pr == nil {
		sp.ErrorCode = kerr.NotLeaderForPartition.Code
		return sp, nil
	}
	pr.mu.Lock()
	if pr.log != l {
		// The log moved to another log dir (AlterReplicaLogDirs) since the
		// lookup: append to the one the partition now has.
		if cur, ok := b.dir.Log(tp); ok && cur == pr.log {
			l = pr.log
		}
	}
	if err := pr.core.CanAppend(req.Acks, minISR); err != nil || pr.core.Epoch() != epoch || pr.log != l {
		pr.mu.Unlock()
		sp.ErrorCode = kerr.NotLeaderForPartition.Code
		if errors.Is(err, replica.ErrNotEnoughReplicas) {
			sp.ErrorCode = kerr.NotEnoughReplicas.Code
			msg := err.Error()
			sp.ErrorMessage = &msg
			b.metrics.failedProduce.Inc()
		}
		return sp, nil
	}
	h, herr := kafka.ParseHeader(rp.Records)
	idempotent := herr == nil && h.ProducerID >= 0 && h.BaseSequence >= 0
	var pp *partProducers
	if idempotent {
		pp = b.producers.part(tp)
		pp.mu.Lock()
		dup, code := pp.check(h)
		if code != 0 || dup >= 0 {
			pp.mu.Unlock()
			sp.ErrorCode = code
			if dup >= 0 {
				sp.BaseOffset = dup
				sp.LogStartOffset = l.LogStartOffset()
			}
			pr.mu.Unlock()
			if dup >= 0 && req.Acks == -1 {
				// A retry of a batch still being replicated waits for it too.
				return sp, &ackWait{pr: pr, last: dup + int64(h.LastOffsetDelta), min: minISR}
			}
			return sp, nil
		}
	}
	res, err := l.Append(rp.Records, segment.AppendOptions{AssignOffsets: true, LeaderEpoch: epoch})
	if err == nil && res.Rolled {
		b.snapshotOnRoll(tp, l, res.FirstOffset, idempotent)
	}
	if idempotent {
		if err == nil {
			pp.record(h, res.FirstOffset)
		}
		pp.mu.Unlock()
	}
	if err != nil {
		pr.mu.Unlock()
		sp.ErrorCode = produceErrorCode(err)
		msg := err.Error()
		sp.ErrorMessage = &msg
		b.metrics.failedProduce.Inc()
		if sp.ErrorCode == kerr.KafkaStorageError.Code {
			b.logStorageError(topic, rp.Partition, err)
		} else {
			c.log.Debug().Err(err).Str("topic", topic).Int32("partition", rp.Partition).Msg("produce rejected")
		}
		return sp, nil
	}
	moved := pr.core.Appended(l.LogEndOffset())
	if moved {
		pr.syncHW()
	}
	pr.mu.Unlock()
	if moved {
		b.replicas.hwMoved.notify()
	}
	b.metrics.messagesIn.Add(float64(res.LastOffset - res.FirstOffset + 1))
	b.metrics.bytesIn.Add(float64(res.Bytes))
	sp.BaseOffset = res.FirstOffset
	sp.LogAppendTime = res.LogAppendTime
	sp.LogStartOffset = l.LogStartOffset()
	return sp, &ackWait{pr: pr, last: res.LastOffset, min: minISR}
}

// storageErrorEvery spaces the error-level log lines of failed appends:
// while a disk is full every produce request fails the same way.
const storageErrorEvery = 10 * time.Second

// logStorageError reports an append that failed on the disk (answered
// KAFKA_STORAGE_ERROR) at error level, with the cause and what to do, at
// most once per storageErrorEvery; the lines in between are counted.
func (b *Broker) logStorageError(topic string, partition int32, err error) {
	now := time.Now().UnixNano()
	last := b.storageErrAt.Load()
	if now-last < int64(storageErrorEvery) || !b.storageErrAt.CompareAndSwap(last, now) {
		b.storageErrSkipped.Add(1)
		return
	}
	// The partition's own log dir (one of log.dirs).
	all := strings.Join(b.cfg.LogDirs, ",")
	dir := all
	if ld, ok := b.dir.Dir(checkpoint.TopicPartition{Topic: topic, Partition: partition}); ok {
		dir = ld.Path()
	}
	hint := fmt.Sprintf("check the disk and the permissions under %s (log.dirs=%s in %s)", dir, all, b.cfg.Path)
	if errors.Is(err, syscall.ENOSPC) {
		hint = fmt.Sprintf("the disk under %s (log.dirs=%s in %s) is full: free space (delete topics or records, lower retention.ms or retention.bytes) or grow the disk; produce requests fail with KAFKA_STORAGE_ERROR until then, acknowledged records are kept",
			dir, all, b.cfg.Path)
	}
	b.log.Error().Err(err).Str("topic", topic).Int32("partition", partition).
		Int64("similar_errors_not_logged", b.storageErrSkipped.Swap(0)).Msg("append failed: " + hint)
}

func produceErrorCode(err error) int16 {
	switch {
	case errors.Is(err, segment.ErrRecordTooLarge):
		return kerr.MessageTooLarge.Code
	case errors.Is(err, kafka.ErrCRC):
		return kerr.CorruptMessage.Code
	case errors.Is(err, segment.ErrInvalidBatch):
		return kerr.InvalidRecord.Code
	case errors.Is(err, segment.ErrClosed):
		return kerr.NotLeaderForPartition.Code
	default:
		return kerr.KafkaStorageError.Code
	}
}
