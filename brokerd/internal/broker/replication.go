package broker

// Replication wiring (issue 8): one replica.Partition (pure) per partition
// this broker holds, the follower fetchers, the leader side of replica
// fetches, acks=all waits, ISR changes written to ZooKeeper, high
// watermark checkpoints and controlled shutdown.
//
//   - Roles come from the partition state znodes (coord.View): the leader
//     in the state leads at its leader epoch; the other assigned replicas
//     follow it.
//   - A follower first truncates (OffsetForLeaderEpoch to the leader, for
//     its latest epoch; replica.TruncateTo), then fetches with Fetch
//     requests carrying its broker id (franz-go kmsg through a kgo client
//     per leader), appends the batches as they are (offsets and leader
//     epochs kept, leader-epoch-checkpoint updated by storage/segment),
//     rebuilds idempotent producer state from them, and takes the
//     leader's high watermark capped by its own log end offset.
//   - The leader records each replica fetch's offset as that follower's
//     LEO, advances the high watermark (min LEO over the ISR) and wakes
//     consumers and acks=all producers; ISR changes the core proposes are
//     written to the state znode at the version read and announced under
//     /isr_change_notification.
//   - replication-offset-checkpoint is written every
//     replica.high.watermark.checkpoint.interval.ms.
//
// Lock order: replicaManager.mu before partReplica.mu; storage's own
// locks after both. ZooKeeper writes are made without either lock.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/coord"
	"mqstack/brokerd/internal/replica"
	"mqstack/proto/kafka"
	"mqstack/proto/kafkazk"
	"mqstack/storage/checkpoint"
	"mqstack/storage/segment"
)

type partReplica struct {
	tp checkpoint.TopicPartition

	mu       sync.Mutex
	core     *replica.Partition
	log      *segment.Log
	leader   int32 // the leader in the state znode, -1 none, -2 not yet known
	state    kafkazk.PartitionState
	version  int32 // the state znode's version
	truncate bool  // follower: truncation (OffsetForLeaderEpoch) pending
	uncut    bool  // follower: the last truncation removed nothing
	fetcher  *fetcher
	retry    partBackoff // follower: left out of fetches after a partition error
}

// minPartitionBackoff is the first delay before a follower asks again for
// a partition the leader answered with an error.
const minPartitionBackoff = 10 * time.Millisecond

// partBackoff delays one partition of a fetcher after the leader answered
// it with an error. Leadership reaches each broker through its own
// ZooKeeper watches, so the commonest error, NOT_LEADER_OR_FOLLOWER or
// UNKNOWN_LEADER_EPOCH from a leader that has not yet seen the new state
// (on every topic creation and leader change), clears within
// milliseconds: the delay starts at minPartitionBackoff and doubles on
// each further error up to replica.fetch.backoff.ms, so a lasting error is
// still asked about no more often than Kafka asks, and a passing one does
// not hold the high watermark (and every acks=all produce) for a whole
// replica.fetch.backoff.ms. Kafka delays the partition by the full backoff
// at once; its controller tells the leader first, here nothing orders the
// brokers' views. Guarded by partReplica.mu.
type partBackoff struct {
	until time.Time
	next  time.Duration
}

// failed delays the partition from now: the current delay, then doubled
// up to limit (replica.fetch.backoff.ms).
func (pb *partBackoff) failed(now time.Time, limit time.Duration) {
	d := min(max(pb.next, minPartitionBackoff), limit)
	pb.until = now.Add(d)
	pb.next = min(2*d, limit)
}

// ok clears the delay after an answer without error.
func (pb *partBackoff) ok() { *pb = partBackoff{} }

// waiting reports whether the partition sits out at now.
func (pb *partBackoff) waiting(now time.Time) bool { return now.Before(pb.until) }

type replicaManager struct {
	b       *Broker
	start   time.Time
	hwMoved *signal // high watermark moves: wakes acks=all produces and consumer fetches
	isrKick chan struct{}

	mu           sync.Mutex
	parts        map[checkpoint.TopicPartition]*partReplica
	fetchers     map[int32]*fetcher
	shuttingDown bool
	wg           sync.WaitGroup

	isrShrinks, isrExpands prometheus.Counter
	followerQuota          throttle
	leaderQuota            throttle
}

func newReplicaManager(b *Broker) *replicaManager {
	rm := &replicaManager{b: b, start: time.Now(), hwMoved: newSignal(), isrKick: make(chan struct{}, 1),
		parts: map[checkpoint.TopicPartition]*partReplica{}, fetchers: map[int32]*fetcher{}}
	rm.isrShrinks = prometheus.NewCounter(prometheus.CounterOpts{Name: "kafka_server_replicamanager_isrshrinks_total", Help: "ISR shrinks written by this broker as leader."})
	rm.isrExpands = prometheus.NewCounter(prometheus.CounterOpts{Name: "kafka_server_replicamanager_isrexpands_total", Help: "ISR expansions written by this broker as leader."})
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	b.metrics.reg.MustRegister(rm.isrShrinks, rm.isrExpands,
		gauge("kafka_server_replicamanager_underreplicatedpartitions", "Partitions this broker leads whose ISR is smaller than their replicas.",
			func() float64 { return float64(rm.underReplicated()) }),
		gauge("kafka_server_replicamanager_leadercount", "Partitions this broker leads.",
			func() float64 { return float64(rm.count(true)) }),
		gauge("kafka_server_replicamanager_partitioncount", "Partitions this broker holds a replica of.",
			func() float64 { return float64(rm.count(false)) }),
		gauge("kafka_controller_kafkacontroller_activecontrollercount", "1 on the controller.",
			func() float64 { return float64(rm.controllerCount()) }),
		gauge("kafka_controller_kafkacontroller_offlinepartitionscount", "Partitions without a leader (reported by the controller).",
			func() float64 { return float64(rm.offline()) }))
	return rm
}

func (rm *replicaManager) count(leaders bool) int {
	n := 0
	for _, pr := range rm.snapshot() {
		pr.mu.Lock()
		if !leaders || pr.core.Leader() {
			n++
		}
		pr.mu.Unlock()
	}
	return n
}

func (rm *replicaManager) controllerCount() int {
	if rm.b.coord == nil || rm.b.view().ControllerID != rm.b.cfg.BrokerID {
		return 0
	}
	return 1
}

// offline counts leaderless partitions, on the controller only (Kafka's
// OfflinePartitionsCount).
func (rm *replicaManager) offline() int {
	if rm.controllerCount() == 0 {
		return 0
	}
	n := 0
	for _, t := range rm.b.view().Topics {
		for _, p := range t.Partitions {
			if p.State != nil && p.State.Leader == coord.NoLeader {
				n++
			}
		}
	}
	return n
}

// now is the replica cores' tick: milliseconds on the monotonic clock.
func (rm *replicaManager) now() int64 { return time.Since(rm.start).Milliseconds() }

func (rm *replicaManager) kickISR() {
	select {
	case rm.isrKick <- struct{}{}:
	default:
	}
}

func (rm *replicaManager) get(tp checkpoint.TopicPartition) *partReplica {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	return rm.parts[tp]
}

// syncHW copies the core's high watermark to the log (read by fetch and
// ListOffsets, checkpointed). Holds pr.mu.
func (pr *partReplica) syncHW() { pr.log.SetHighWatermark(pr.core.HW()) }

// apply takes the roles of a new view. Runs on the coordinator goroutine
// after the logs of every assigned partition exist.
func (rm *replicaManager) apply(v coord.View) {
	self := rm.b.cfg.BrokerID
	cfg := replica.Config{LagTimeMax: rm.b.cfg.ReplicaLagTimeMaxMs}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	seen := map[checkpoint.TopicPartition]bool{}
	for name, t := range v.Topics {
		if t.Deleting {
			continue
		}
		for p, part := range t.Partitions {
			if part.State == nil || !slices.Contains(part.Replicas, self) {
				continue
			}
			tp := checkpoint.TopicPartition{Topic: name, Partition: p}
			l, ok := rm.b.dir.Log(tp)
			if !ok {
				continue
			}
			seen[tp] = true
			pr := rm.parts[tp]
			if pr == nil {
				pr = &partReplica{tp: tp, core: replica.New(self, cfg), leader: -2, version: -1}
				rm.parts[tp] = pr
			}
			st := *part.State
			pr.mu.Lock()
			pr.log = l
			switch {
			case st.Leader == self:
				if !pr.core.Leader() || pr.core.Epoch() != st.LeaderEpoch {
					rm.unfollowLocked(pr)
					pr.core.BecomeLeader(st.LeaderEpoch, part.Replicas, st.ISR, l.LogEndOffset(), l.HighWatermark(), rm.now())
					pr.syncHW()
					rm.b.log.Info().Str("partition", tp.String()).Int32("leader_epoch", st.LeaderEpoch).Ints32("isr", st.ISR).
						Int64("log_end_offset", l.LogEndOffset()).Int64("high_watermark", pr.core.HW()).Msg("leading partition")
				} else if part.StateVersion > pr.version && pr.core.SetISR(st.ISR) {
					pr.syncHW()
				}
			case st.Leader == coord.NoLeader:
				if pr.core.Leader() || pr.leader != coord.NoLeader {
					rm.unfollowLocked(pr)
					pr.core.BecomeFollower(st.LeaderEpoch, part.Replicas, st.ISR, l.LogEndOffset(), l.HighWatermark())
					rm.b.log.Warn().Str("partition", tp.String()).Msg("partition has no leader")
				}
			default:
				if pr.core.Leader() || pr.leader != st.Leader || pr.core.Epoch() != st.LeaderEpoch {
					rm.unfollowLocked(pr)
					pr.core.BecomeFollower(st.LeaderEpoch, part.Replicas, st.ISR, l.LogEndOffset(), l.HighWatermark())
					pr.truncate = true
					pr.retry.ok() // a new leader or epoch is asked at once
					if bi, ok := v.Brokers[st.Leader]; ok && !rm.shuttingDown {
						rm.followLocked(pr, st.Leader, rm.b.endpoint(bi))
					}
					rm.b.log.Info().Str("partition", tp.String()).Int32("leader", st.Leader).Int32("leader_epoch", st.LeaderEpoch).Msg("following partition")
				} else if bi, ok := v.Brokers[st.Leader]; ok && !rm.shuttingDown {
					rm.followLocked(pr, st.Leader, rm.b.endpoint(bi)) // the leader's address may have changed
				}
			}
			pr.leader, pr.state = st.Leader, st
			pr.version = max(pr.version, part.StateVersion)
			pr.mu.Unlock()
		}
	}
	for tp, pr := range rm.parts {
		if !seen[tp] {
			pr.mu.Lock()
			rm.unfollowLocked(pr)
			pr.mu.Unlock()
			delete(rm.parts, tp)
		}
	}
	rm.hwMoved.notify()
}

func (b *Broker) endpoint(bi kafkazk.BrokerInfo) string {
	if ep, ok := bi.Endpoint(b.cfg.Listeners[0].Name); ok {
		return fmt.Sprintf("%s:%d", ep.Host, ep.Port)
	}
	return fmt.Sprintf("%s:%d", bi.Host, bi.Port)
}

// minISR is the min.insync.replicas in force for a topic: the topic's,
// else the dynamic broker value, else server.properties (dynconfig.go).
func (b *Broker) minISR(topic string) int { return b.settings(topic).minInsyncReplicas }

// leaderAppended tells the core about an append made on the leader path
// (produce, group offsets) and moves the high watermark if it can.
func (rm *replicaManager) leaderAppended(tp checkpoint.TopicPartition, l *segment.Log) {
	pr := rm.get(tp)
	if pr == nil {
		l.SetHighWatermark(l.LogEndOffset())
		return
	}
	pr.mu.Lock()
	moved := pr.core.Appended(l.LogEndOffset())
	if moved {
		pr.syncHW()
	}
	pr.mu.Unlock()
	if moved {
		rm.hwMoved.notify()
	}
}

// replicaFetch records a follower's fetch on the leader: its fetch offset
// is its log end offset. It returns the log and the error code to answer.
func (rm *replicaManager) replicaFetch(replicaID int32, tp checkpoint.TopicPartition, rp *kmsg.FetchRequestTopicPartition, record bool) (*segment.Log, int16) {
	pr := rm.get(tp)
	if pr == nil {
		return nil, kerr.NotLeaderForPartition.Code
	}
	pr.mu.Lock()
	if !pr.core.Leader() {
		pr.mu.Unlock()
		return nil, kerr.NotLeaderForPartition.Code
	}
	if rp.CurrentLeaderEpoch >= 0 && rp.CurrentLeaderEpoch < pr.core.Epoch() {
		pr.mu.Unlock()
		return nil, kerr.FencedLeaderEpoch.Code
	}
	if rp.CurrentLeaderEpoch > pr.core.Epoch() {
		pr.mu.Unlock()
		return nil, kerr.UnknownLeaderEpoch.Code
	}
	l := pr.log
	moved := false
	proposal := false
	if record && rp.FetchOffset <= l.LogEndOffset() && rp.FetchOffset >= l.LogStartOffset() {
		var err error
		moved, err = pr.core.FollowerFetch(replicaID, rp.FetchOffset, rm.now())
		if err != nil {
			pr.mu.Unlock()
			return nil, kerr.ReplicaNotAvailable.Code
		}
		if moved {
			pr.syncHW()
		}
		_, proposal = pr.core.Proposal()
	}
	pr.mu.Unlock()
	if moved {
		rm.hwMoved.notify()
	}
	if proposal {
		rm.kickISR()
	}
	return l, 0
}

// ackWait is one partition of an acks=all produce waiting for the ISR.
type ackWait struct {
	pr     *partReplica
	last   int64
	min    int
	ti, pi int   // where the answer goes in the response
	code   int16 // the outcome
}

// waitAcks holds an acks=all produce until the high watermark passes each
// partition's last offset, the ISR falls below min.insync.replicas
// (NOT_ENOUGH_REPLICAS_AFTER_APPEND), leadership moves
// (NOT_LEADER_OR_FOLLOWER) or the request timeout passes
// (REQUEST_TIMED_OUT): Kafka's produce purgatory.
func (rm *replicaManager) waitAcks(waits []ackWait, timeout time.Duration) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		woke := rm.hwMoved.wait()
		open := 0
		for i := range waits {
			w := &waits[i]
			if w.pr == nil {
				continue
			}
			w.pr.mu.Lock()
			res := w.pr.core.Acked(w.last, w.min)
			w.pr.mu.Unlock()
			switch res {
			case replica.AckDone:
				w.pr = nil
			case replica.AckNotEnoughReplicasAfterAppend:
				w.code, w.pr = kerr.NotEnoughReplicasAfterAppend.Code, nil
			case replica.AckNotLeader:
				w.code, w.pr = kerr.NotLeaderForPartition.Code, nil
			default:
				open++
			}
		}
		if open == 0 {
			return
		}
		select {
		case <-woke:
		case <-timer.C:
			for i := range waits {
				if waits[i].pr != nil {
					waits[i].code = kerr.RequestTimedOut.Code
				}
			}
			return
		case <-rm.b.stop:
			for i := range waits {
				if waits[i].pr != nil {
					waits[i].code = kerr.NotLeaderForPartition.Code
				}
			}
			return
		}
	}
}

// offsetsCommitTimeout is Kafka's offsets.commit.timeout.ms default.
const offsetsCommitTimeout = 5 * time.Second

// waitReplicated waits until everything appended to tp so far is
// committed (offset commits are acks=all writes in Kafka), and maps the
// outcome as Kafka's GroupMetadataManager does for OffsetCommit: too few
// in-sync replicas COORDINATOR_NOT_AVAILABLE, a moved leader
// NOT_COORDINATOR, a timeout REQUEST_TIMED_OUT.
func (rm *replicaManager) waitReplicated(tp checkpoint.TopicPartition, timeout time.Duration) int16 {
	pr := rm.get(tp)
	if pr == nil {
		return kerr.NotCoordinator.Code
	}
	pr.mu.Lock()
	last := pr.log.LogEndOffset() - 1
	pr.mu.Unlock()
	w := []ackWait{{pr: pr, last: last, min: rm.b.minISR(tp.Topic)}}
	rm.waitAcks(w, timeout)
	switch w[0].code {
	case 0:
		return 0
	case kerr.NotEnoughReplicasAfterAppend.Code:
		return kerr.CoordinatorNotAvailable.Code
	case kerr.NotLeaderForPartition.Code:
		return kerr.NotCoordinator.Code
	default:
		return w[0].code
	}
}

// canAppendAll is the acks=all check before an offset commit is
// appended: COORDINATOR_NOT_AVAILABLE when the ISR is below
// min.insync.replicas (Kafka's mapping of NOT_ENOUGH_REPLICAS for
// OffsetCommit), NOT_COORDINATOR when this broker does not lead.
func (rm *replicaManager) canAppendAll(tp checkpoint.TopicPartition) int16 {
	pr := rm.get(tp)
	if pr == nil {
		return kerr.NotCoordinator.Code
	}
	pr.mu.Lock()
	err := pr.core.CanAppend(-1, rm.b.minISR(tp.Topic))
	pr.mu.Unlock()
	switch {
	case err == nil:
		return 0
	case errors.Is(err, replica.ErrNotEnoughReplicas):
		return kerr.CoordinatorNotAvailable.Code
	default:
		return kerr.NotCoordinator.Code
	}
}

// loop ticks the leader cores (ISR shrink), writes the ISR changes they
// propose and checkpoints the high watermarks.
func (rm *replicaManager) loop(stop <-chan struct{}) {
	tick := time.Duration(min(max(rm.b.cfg.ReplicaLagTimeMaxMs/4, 10), 1000)) * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	lastCheckpoint := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		case <-rm.isrKick:
		}
		rm.writeISRChanges()
		if time.Since(lastCheckpoint) >= time.Duration(rm.b.cfg.ReplicaHWCheckpointMs)*time.Millisecond {
			lastCheckpoint = time.Now()
			if err := rm.b.dir.Checkpoint(); err != nil {
				rm.b.log.Warn().Err(err).Msg("writing the checkpoint files (replication-offset-checkpoint) failed")
			}
		}
	}
}

func (rm *replicaManager) snapshot() []*partReplica {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	out := make([]*partReplica, 0, len(rm.parts))
	for _, pr := range rm.parts {
		out = append(out, pr)
	}
	return out
}

func (rm *replicaManager) writeISRChanges() {
	now := rm.now()
	for _, pr := range rm.snapshot() {
		pr.mu.Lock()
		if !pr.core.Leader() {
			pr.mu.Unlock()
			continue
		}
		pr.core.Tick(now)
		isr, ok := pr.core.Proposal()
		next, version, epoch := pr.state, pr.version, pr.core.Epoch()
		old := pr.core.ISR()
		pr.mu.Unlock()
		if !ok {
			continue
		}
		if dead := notLive(isr, rm.b.view()); len(dead) > 0 {
			// Never add a broker whose session is gone (a fetch of a
			// stopped broker can still be in flight).
			pr.mu.Lock()
			pr.core.ISRFailed()
			pr.mu.Unlock()
			continue
		}
		next.Leader, next.LeaderEpoch, next.ISR = rm.b.cfg.BrokerID, epoch, isr
		ver, err := rm.b.coord.WriteState(pr.tp.Topic, pr.tp.Partition, next, version)
		pr.mu.Lock()
		still := pr.core.Leader() && pr.core.Epoch() == epoch
		switch {
		case err != nil:
			if still {
				pr.core.ISRFailed()
			}
			pr.mu.Unlock()
			rm.b.log.Info().Err(err).Str("partition", pr.tp.String()).Ints32("isr", isr).Msg("ISR change not written; the state changed, retrying with the new one")
			rm.b.coord.Kick()
			continue
		case still:
			pr.version, pr.state = max(pr.version, ver), next
			if pr.core.ISRWritten(isr) {
				pr.syncHW()
			}
		}
		pr.mu.Unlock()
		what := "ISR expanded"
		if len(isr) < len(old) {
			what = "ISR shrunk"
			rm.isrShrinks.Inc()
		} else {
			rm.isrExpands.Inc()
		}
		rm.b.log.Info().Str("partition", pr.tp.String()).Ints32("from", old).Ints32("to", isr).Int32("zk_version", ver).Msg(what)
		rm.hwMoved.notify()
	}
}

func notLive(ids []int32, v coord.View) []int32 {
	var out []int32
	for _, id := range ids {
		if _, ok := v.Brokers[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}

// controlledShutdown moves leadership off this broker and takes it out of
// every ISR before it stops (Kafka's controlled shutdown; here the broker
// writes the state znodes itself, at the version read, instead of asking
// the controller). It waits up to timeout for the moves to be seen.
func (rm *replicaManager) controlledShutdown(timeout time.Duration) {
	self := rm.b.cfg.BrokerID
	rm.mu.Lock()
	rm.shuttingDown = true
	rm.mu.Unlock()
	deadline := time.Now().Add(timeout)
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		v := rm.b.view()
		live := map[int32]bool{}
		for id := range v.Brokers {
			live[id] = true
		}
		pending := 0
		for _, pr := range rm.snapshot() {
			pr.mu.Lock()
			st, version, replicas := pr.state, pr.version, pr.core.Replicas()
			pr.mu.Unlock()
			next, ok := coord.ShutdownMove(self, replicas, live, st)
			if !ok {
				continue
			}
			pending++
			if _, err := rm.b.coord.WriteState(pr.tp.Topic, pr.tp.Partition, next, version); err != nil {
				rm.b.log.Info().Err(err).Str("partition", pr.tp.String()).Msg("controlled shutdown: state changed, retrying")
				continue
			}
			rm.b.log.Info().Str("partition", pr.tp.String()).Int32("new_leader", next.Leader).Ints32("isr", next.ISR).Msg("controlled shutdown: moved off this broker")
		}
		if pending == 0 {
			rm.b.log.Info().Int("attempts", attempt).Msg("controlled shutdown complete")
			return
		}
		// Wait for the writes to come back through the watches.
		_, ch := rm.b.coord.View()
		rm.b.coord.Kick()
		select {
		case <-ch:
		case <-time.After(500 * time.Millisecond):
		}
	}
	rm.b.log.Warn().Dur("timeout", timeout).Msg("controlled shutdown did not complete; stopping anyway")
}

// underReplicated counts the partitions this broker leads whose ISR is
// smaller than their assignment.
func (rm *replicaManager) underReplicated() int {
	n := 0
	for _, pr := range rm.snapshot() {
		pr.mu.Lock()
		if pr.core.Leader() && len(pr.core.ISR()) < len(pr.core.Replicas()) {
			n++
		}
		pr.mu.Unlock()
	}
	return n
}

// close stops every fetcher and waits for them.
func (rm *replicaManager) close() {
	rm.mu.Lock()
	rm.shuttingDown = true
	for id, f := range rm.fetchers {
		f.cancel()
		delete(rm.fetchers, id)
	}
	rm.mu.Unlock()
	rm.wg.Wait()
}

// ---- followers ----

// fetcher fetches every partition this broker follows from one leader.
type fetcher struct {
	rm     *replicaManager
	leader int32
	addr   string
	parts  map[checkpoint.TopicPartition]*partReplica // guarded by rm.mu
	ctx    context.Context
	cancel context.CancelFunc
	wake   chan struct{}
}

// followLocked moves pr to the fetcher of leader at addr. Holds rm.mu and pr.mu.
func (rm *replicaManager) followLocked(pr *partReplica, leader int32, addr string) {
	f := rm.fetchers[leader]
	if f != nil && f.addr != addr {
		f.cancel()
		delete(rm.fetchers, leader)
		f = nil
	}
	if f == nil {
		ctx, cancel := context.WithCancel(context.Background())
		f = &fetcher{rm: rm, leader: leader, addr: addr, parts: map[checkpoint.TopicPartition]*partReplica{},
			ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1)}
		rm.fetchers[leader] = f
		rm.wg.Add(1)
		go f.run()
	}
	for id, o := range rm.fetchers {
		if id != leader {
			delete(o.parts, pr.tp)
		}
	}
	f.parts[pr.tp] = pr
	pr.fetcher = f
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// unfollowLocked stops fetching pr. Holds rm.mu and pr.mu.
func (rm *replicaManager) unfollowLocked(pr *partReplica) {
	pr.fetcher = nil
	for id, f := range rm.fetchers {
		delete(f.parts, pr.tp)
		if len(f.parts) == 0 {
			f.cancel()
			delete(rm.fetchers, id)
		}
	}
}

type fetchItem struct {
	pr     *partReplica
	epoch  int32
	offset int64
	start  int64
	latest int32 // the log's latest leader epoch, -1 none
	leo    int64
	hw     int64
}

func (f *fetcher) run() {
	defer f.rm.wg.Done()
	b := f.rm.b
	log := b.log.With().Int32("leader", f.leader).Str("leader_addr", f.addr).Logger()
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.addr), kgo.ClientID(fmt.Sprintf("broker-%d-fetcher", b.cfg.BrokerID)),
		kgo.RequestTimeoutOverhead(10*time.Second))
	if err != nil {
		log.Error().Err(err).Msg("cannot create the replica fetcher client")
		return
	}
	defer cl.Close()
	backoff := time.Duration(b.cfg.ReplicaFetchBackoffMs) * time.Millisecond
	sleep := func() bool {
		select {
		case <-f.ctx.Done():
			return false
		case <-time.After(backoff):
			return true
		}
	}
	log.Info().Msg("replica fetcher started")
	defer log.Info().Msg("replica fetcher stopped")
	for f.ctx.Err() == nil {
		var trunc, fetch []fetchItem
		var resume time.Time // the end of the earliest partition delay
		now := time.Now()
		f.rm.mu.Lock()
		for _, pr := range f.parts {
			pr.mu.Lock()
			if pr.retry.waiting(now) {
				if resume.IsZero() || pr.retry.until.Before(resume) {
					resume = pr.retry.until
				}
				pr.mu.Unlock()
				continue
			}
			it := fetchItem{pr: pr, epoch: pr.core.Epoch(), offset: pr.log.LogEndOffset(), start: pr.log.LogStartOffset(),
				latest: -1, leo: pr.log.LogEndOffset(), hw: pr.log.HighWatermark()}
			if es := pr.log.LeaderEpochs(); len(es) > 0 {
				it.latest = es[len(es)-1].Epoch
			}
			if pr.truncate {
				trunc = append(trunc, it)
			} else {
				fetch = append(fetch, it)
			}
			pr.mu.Unlock()
		}
		f.rm.mu.Unlock()
		if len(trunc)+len(fetch) == 0 {
			var timer *time.Timer
			var expired <-chan time.Time
			if !resume.IsZero() {
				timer = time.NewTimer(time.Until(resume))
				expired = timer.C
			}
			select {
			case <-f.ctx.Done():
				return
			case <-f.wake:
			case <-expired:
			}
			if timer != nil {
				timer.Stop()
			}
			continue
		}
		if len(trunc) > 0 {
			if err := f.truncate(cl, trunc); err != nil {
				log.Info().Err(err).Msg("truncation request failed; backing off")
				if !sleep() {
					return
				}
			}
			continue
		}
		if err := f.fetch(cl, fetch, resume); err != nil {
			if f.ctx.Err() != nil {
				return
			}
			log.Info().Err(err).Msg("replica fetch failed; backing off")
			if !sleep() {
				return
			}
		}
	}
}

// valid reports whether it still describes pr's role. Holds pr.mu.
func (f *fetcher) valid(it fetchItem) bool {
	return it.pr.fetcher == f && !it.pr.core.Leader() && it.pr.core.Epoch() == it.epoch
}

func (f *fetcher) truncate(cl *kgo.Client, items []fetchItem) error {
	b := f.rm.b
	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	req.ReplicaID = b.cfg.BrokerID
	byTopic := map[string]int{}
	var asked []fetchItem
	for _, it := range items {
		if it.latest < 0 {
			// No epoch in the log: nothing the leader never had can be
			// told apart; keep what is at or below the high watermark.
			f.finishTruncation(it, replica.Truncation{}, nil)
			continue
		}
		i := topicSlot(byTopic, it.pr.tp.Topic, func() int {
			rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
			rt.Topic = it.pr.tp.Topic
			req.Topics = append(req.Topics, rt)
			return len(req.Topics) - 1
		})
		rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = it.pr.tp.Partition, it.epoch, it.latest
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
		asked = append(asked, it)
	}
	if len(asked) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(f.ctx, 15*time.Second)
	defer cancel()
	r, err := cl.SeedBrokers()[0].Request(ctx, req)
	if err != nil {
		return err
	}
	resp := r.(*kmsg.OffsetForLeaderEpochResponse)
	answers := map[checkpoint.TopicPartition]kmsg.OffsetForLeaderEpochResponseTopicPartition{}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			answers[checkpoint.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}] = rp
		}
	}
	for _, it := range asked {
		a, ok := answers[it.pr.tp]
		if !ok || a.ErrorCode != 0 {
			code := kerr.UnknownServerError.Code
			if ok {
				code = a.ErrorCode
			}
			f.partitionFailed(it.pr, "OffsetForLeaderEpoch", kerr.ErrorForCode(code))
			continue
		}
		ans := replica.Truncation{Known: a.LeaderEpoch >= 0 && a.EndOffset >= 0, LeaderEpoch: a.LeaderEpoch, EndOffset: a.EndOffset}
		f.finishTruncation(it, ans, func(e int32) (int64, bool) {
			_, end, ok := it.pr.log.EndOffsetForEpoch(e)
			return end, ok
		})
	}
	return nil
}

// partitionFailed delays pr after the leader answered it with err (see
// partBackoff); the first error of a run is logged at info, repeats at
// debug.
func (f *fetcher) partitionFailed(pr *partReplica, what string, err error) {
	pr.mu.Lock()
	first := pr.retry.next == 0
	pr.retry.failed(time.Now(), time.Duration(f.rm.b.cfg.ReplicaFetchBackoffMs)*time.Millisecond)
	until := pr.retry.until
	pr.mu.Unlock()
	ev := f.rm.b.log.Debug()
	if first {
		ev = f.rm.b.log.Info()
	}
	ev.Err(err).Str("partition", pr.tp.String()).Int32("leader", f.leader).Str("request", what).
		Dur("retry_in", time.Until(until)).Msg("leader answered the follower's request for this partition with an error; retrying it later")
}

// topicSlot is the index of topic's entry in a request being built,
// added by add on first use.
func topicSlot(byTopic map[string]int, topic string, add func() int) int {
	if i, ok := byTopic[topic]; ok {
		return i
	}
	byTopic[topic] = add()
	return byTopic[topic]
}

func (f *fetcher) finishTruncation(it fetchItem, ans replica.Truncation, localEnd func(int32) (int64, bool)) {
	b := f.rm.b
	pr := it.pr
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if !f.valid(it) || !pr.truncate {
		return
	}
	leo, hw := pr.log.LogEndOffset(), pr.log.HighWatermark()
	if localEnd == nil {
		localEnd = func(int32) (int64, bool) { return 0, false }
	}
	to := replica.TruncateTo(leo, hw, ans, localEnd)
	if to < leo {
		newLEO, err := pr.log.Truncate(to)
		if err != nil {
			b.log.Error().Err(err).Str("partition", pr.tp.String()).Msg("truncating the follower log failed")
			return
		}
		b.log.Info().Str("partition", pr.tp.String()).Int64("from", leo).Int64("to", newLEO).Int32("leader_epoch", ans.LeaderEpoch).
			Int64("leader_end_offset", ans.EndOffset).Msg("follower truncated what the leader never had")
		b.loadProducerState(pr.tp, pr.log)
	}
	pr.uncut = to >= leo
	pr.core.Appended(pr.log.LogEndOffset())
	pr.syncHW()
	pr.truncate = false
}

// fetch sends one Fetch for items; resume (if set) is when a partition
// left out for an error may be asked again, which bounds the wait.
func (f *fetcher) fetch(cl *kgo.Client, items []fetchItem, resume time.Time) error {
	b := f.rm.b
	// Throttled partitions sit out while the follower quota is in debt.
	v := b.view()
	rate := b.followerThrottleRate(v)
	throttled := map[checkpoint.TopicPartition]bool{}
	if rate != math.MaxInt64 {
		allow := f.rm.followerQuota.allow(rate, time.Now())
		kept := items[:0:0]
		for _, it := range items {
			if b.followerThrottled(v, it.pr.tp) {
				throttled[it.pr.tp] = true
				if !allow {
					continue
				}
			}
			kept = append(kept, it)
		}
		if len(kept) == 0 {
			select {
			case <-f.ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			return nil
		}
		items = kept
	}
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = b.cfg.BrokerID
	wait := time.Duration(b.cfg.ReplicaFetchWaitMaxMs) * time.Millisecond
	if !resume.IsZero() {
		wait = max(min(wait, time.Until(resume)), 0)
	}
	req.MaxWaitMillis = int32(wait / time.Millisecond)
	req.MinBytes = 1
	req.MaxBytes = b.cfg.ReplicaFetchResponseMaxBytes
	req.SessionEpoch = -1
	byTopic := map[string]int{}
	for _, it := range items {
		i := topicSlot(byTopic, it.pr.tp.Topic, func() int {
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic = it.pr.tp.Topic
			req.Topics = append(req.Topics, rt)
			return len(req.Topics) - 1
		})
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch, rp.FetchOffset = it.pr.tp.Partition, it.epoch, it.offset
		rp.LogStartOffset, rp.PartitionMaxBytes = it.start, b.cfg.ReplicaFetchMaxBytes
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	ctx, cancel := context.WithTimeout(f.ctx, time.Duration(b.cfg.ReplicaFetchWaitMaxMs)*time.Millisecond+15*time.Second)
	defer cancel()
	r, err := cl.SeedBrokers()[0].Request(ctx, req)
	if err != nil {
		return err
	}
	resp := r.(*kmsg.FetchResponse)
	if resp.ErrorCode != 0 {
		return fmt.Errorf("broker: replica fetch: %w", kerr.ErrorForCode(resp.ErrorCode))
	}
	got := map[checkpoint.TopicPartition]*kmsg.FetchResponseTopicPartition{}
	for ti := range resp.Topics {
		for pi := range resp.Topics[ti].Partitions {
			rp := &resp.Topics[ti].Partitions[pi]
			got[checkpoint.TopicPartition{Topic: resp.Topics[ti].Topic, Partition: rp.Partition}] = rp
		}
	}
	for _, it := range items {
		rp := got[it.pr.tp]
		if rp == nil {
			continue
		}
		if err := f.handlePartition(it, rp); err != nil {
			f.partitionFailed(it.pr, "Fetch", err)
		}
		if throttled[it.pr.tp] {
			f.rm.followerQuota.spend(rate, len(rp.RecordBatches), time.Now())
		}
	}
	return nil
}

func (f *fetcher) handlePartition(it fetchItem, rp *kmsg.FetchResponseTopicPartition) error {
	b := f.rm.b
	pr := it.pr
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if !f.valid(it) || pr.truncate {
		return nil
	}
	if rp.ErrorCode == 0 {
		pr.retry.ok()
	}
	switch rp.ErrorCode {
	case 0:
	case kerr.OffsetOutOfRange.Code:
		if it.offset < rp.LogStartOffset {
			// The leader deleted what this follower would need next.
			if err := pr.log.TruncateFullyAndStartAt(rp.LogStartOffset); err != nil {
				return err
			}
			b.producers.forget(pr.tp)
			b.log.Info().Str("partition", pr.tp.String()).Int64("start", rp.LogStartOffset).Msg("follower restarted its log at the leader's log start offset")
		} else if !pr.uncut {
			pr.truncate = true // past the leader's end: find the divergence
		} else {
			// The epoch answer cut nothing yet the fetch is still past the
			// leader's end: fall back to what is known committed here.
			to := min(pr.log.HighWatermark(), max(rp.HighWatermark, 0))
			if _, err := pr.log.Truncate(to); err != nil {
				return err
			}
			pr.uncut = false
			b.log.Warn().Str("partition", pr.tp.String()).Int64("to", to).Msg("follower past the leader's end after truncation; cut to its high watermark")
			b.loadProducerState(pr.tp, pr.log)
			pr.core.Appended(pr.log.LogEndOffset())
		}
		return nil
	default:
		return kerr.ErrorForCode(rp.ErrorCode)
	}
	data := rp.RecordBatches
	// Skip whole batches this log already has (never happens after a
	// truncation at a batch boundary, but a batch is never split).
	leo := pr.log.LogEndOffset()
	for len(data) >= kafka.HeaderSize {
		h, n, err := kafka.CheckBatch(data)
		if err != nil || h.NextOffset() > leo {
			break
		}
		data = data[n:]
	}
	if len(data) >= kafka.HeaderSize {
		res, err := pr.log.Append(data, segment.AppendOptions{})
		if err != nil {
			b.log.Error().Err(err).Str("partition", pr.tp.String()).Int64("log_end_offset", leo).Msg("follower append failed; truncating against the leader")
			pr.truncate = true
			return err
		}
		b.recordProducerBatches(pr.tp, data)
		pr.uncut = false
		if res.Rolled {
			b.snapshotOnRoll(pr.tp, pr.log, res.FirstOffset, false)
		}
		pr.core.Appended(pr.log.LogEndOffset())
	}
	pr.core.FollowerHW(rp.HighWatermark)
	pr.syncHW()
	return nil
}

// recordProducerBatches rebuilds idempotent producer state from
// replicated batches, so a follower that becomes leader recognises a
// producer's retries of what it already has.
func (b *Broker) recordProducerBatches(tp checkpoint.TopicPartition, data []byte) {
	var pp *partProducers
	defer func() {
		if pp != nil {
			pp.mu.Unlock()
		}
	}()
	for len(data) >= kafka.HeaderSize {
		h, n, err := kafka.CheckBatch(data)
		if err != nil {
			return
		}
		if h.ProducerID >= 0 && h.BaseSequence >= 0 {
			if pp == nil {
				pp = b.producers.part(tp)
				pp.mu.Lock()
			}
			pp.record(h, h.BaseOffset)
		}
		data = data[n:]
	}
}
