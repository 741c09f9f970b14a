// Package replica is the pure per-partition replica state machine of
// brokerd's replication (Kafka's Partition / Replica bookkeeping): the log
// end offset (LEO) of the local log and of every follower, the high
// watermark (HW), the in-sync replica set (ISR) and the leader epoch.
//
// It does no I/O and reads no clock: time is the caller's tick count in
// milliseconds (Step functions take `now`). The broker owns one Partition
// per replica it holds, calls it under its own lock, writes the ISR
// changes it proposes to ZooKeeper (with a version check) and reports the
// outcome back (ISRWritten / ISRFailed).
//
// The rules, from Kafka's documentation ("Replication" in the design
// section) and its replica manager, each tested in replica_test.go:
//
//   - The leader keeps track of the set of in-sync replicas; the leader is
//     always a member.
//   - A follower is out of sync when it has not caught up to the leader's
//     log end offset for longer than replica.lag.time.max.ms; a follower
//     whose LEO equals the leader's is never out of sync. "Caught up" is
//     Kafka's lastCaughtUpTime: a fetch at or past the leader's LEO at the
//     time of the fetch catches up now; a fetch at or past the leader's LEO
//     of the previous fetch caught up at the previous fetch's time.
//   - A follower rejoins the ISR when its LEO reaches the high watermark
//     and the start offset of the leader's current epoch.
//   - A message is committed when every in-sync replica has it: the high
//     watermark is the smallest LEO over the ISR and never goes back on a
//     leader. While an ISR change is being written, the high watermark is
//     computed over the union of the old and the proposed set (Kafka's
//     "maximal ISR"), so a shrink cannot commit what the old ISR lacks
//     before ZooKeeper has it.
//   - Consumers read up to the high watermark only (the broker's fetch
//     path uses HW as the read limit).
//   - acks=all with fewer in-sync replicas than min.insync.replicas is
//     refused before the append (NOT_ENOUGH_REPLICAS); an append that
//     reaches the high watermark while the ISR is below the minimum is
//     answered NOT_ENOUGH_REPLICAS_AFTER_APPEND.
//   - A follower's high watermark is the leader's, capped by its own LEO.
//   - A returning follower truncates what the leader never had, using the
//     leader's end offset for its latest epoch (KIP-101, KIP-279).
package replica

import (
	"fmt"
	"slices"
)

// Config holds the replication settings a partition uses.
type Config struct {
	// LagTimeMax is replica.lag.time.max.ms in ticks (milliseconds).
	LagTimeMax int64
}

// AckResult is the state of an acks=all produce waiting on the ISR.
type AckResult int

// AckResult values.
const (
	AckWaiting AckResult = iota
	AckDone
	AckNotEnoughReplicasAfterAppend
	AckNotLeader
)

func (r AckResult) String() string {
	return [...]string{"waiting", "done", "not-enough-replicas-after-append", "not-leader"}[r]
}

type follower struct {
	leo                int64 // -1 until its first fetch under this leadership
	lastCaughtUp       int64
	lastFetch          int64
	lastFetchLeaderLEO int64
}

// Partition is one replica's view of a partition.
type Partition struct {
	self int32
	cfg  Config

	leader     bool
	epoch      int32
	epochStart int64 // leader: its LEO when it took this epoch
	replicas   []int32
	isr        []int32 // as written in ZooKeeper
	pending    []int32 // proposed ISR being written; nil when none
	leo, hw    int64
	followers  map[int32]*follower
	now        int64
}

// New returns the state of a replica on broker self, neither leader nor
// follower yet.
func New(self int32, cfg Config) *Partition {
	return &Partition{self: self, cfg: cfg, followers: map[int32]*follower{}}
}

// BecomeLeader makes this replica the leader at epoch with the assignment
// and the ISR read from ZooKeeper, its log at leo with high watermark hw.
// Followers start as caught up now (so none is dropped before it had the
// chance to fetch) with an unknown LEO: the high watermark does not move
// until every ISR member has fetched, as in Kafka.
func (p *Partition) BecomeLeader(epoch int32, replicas, isr []int32, leo, hw, now int64) {
	p.leader, p.epoch, p.epochStart = true, epoch, leo
	p.replicas, p.isr, p.pending = slices.Clone(replicas), slices.Clone(isr), nil
	p.leo, p.hw, p.now = leo, min(hw, leo), now
	p.followers = map[int32]*follower{}
	for _, r := range replicas {
		if r != p.self {
			p.followers[r] = &follower{leo: -1, lastCaughtUp: now, lastFetch: now, lastFetchLeaderLEO: -1}
		}
	}
	p.advanceHW()
}

// BecomeFollower makes this replica a follower at epoch, its log at leo
// with high watermark hw.
func (p *Partition) BecomeFollower(epoch int32, replicas, isr []int32, leo, hw int64) {
	p.leader, p.epoch = false, epoch
	p.replicas, p.isr, p.pending = slices.Clone(replicas), slices.Clone(isr), nil
	p.leo, p.hw = leo, min(hw, leo)
	p.followers = map[int32]*follower{}
}

// Leader reports whether this replica leads.
func (p *Partition) Leader() bool { return p.leader }

// Epoch is the leader epoch this replica acts in.
func (p *Partition) Epoch() int32 { return p.epoch }

// LEO is the local log end offset.
func (p *Partition) LEO() int64 { return p.leo }

// HW is the high watermark.
func (p *Partition) HW() int64 { return p.hw }

// ISR is the in-sync set as written in ZooKeeper.
func (p *Partition) ISR() []int32 { return slices.Clone(p.isr) }

// Replicas is the assignment.
func (p *Partition) Replicas() []int32 { return slices.Clone(p.replicas) }

// FollowerLEO is what the leader knows of a follower's LEO (-1 unknown).
func (p *Partition) FollowerLEO(id int32) int64 {
	if f := p.followers[id]; f != nil {
		return f.leo
	}
	return -1
}

// CanAppend says whether a produce with acks (-1 = all) may be appended:
// an acks=all produce needs at least minISR in-sync replicas.
func (p *Partition) CanAppend(acks int16, minISR int) error {
	if !p.leader {
		return ErrNotLeader
	}
	if acks == -1 && len(p.isr) < minISR {
		return fmt.Errorf("%w: the ISR %v has %d members, min.insync.replicas is %d", ErrNotEnoughReplicas, p.isr, len(p.isr), minISR)
	}
	return nil
}

// Appended records a local append on the leader (or a replicated append
// on a follower): the log end offset is now leo. It reports whether the
// high watermark moved.
func (p *Partition) Appended(leo int64) bool {
	p.leo = leo
	if !p.leader {
		return false
	}
	return p.advanceHW()
}

// FollowerFetch records a follower's fetch at fetchOffset (its LEO) at
// tick now, on the leader. It reports whether the high watermark moved;
// an ISR expansion it makes possible is then available from Proposal.
func (p *Partition) FollowerFetch(id int32, fetchOffset, now int64) (bool, error) {
	if !p.leader {
		return false, ErrNotLeader
	}
	f := p.followers[id]
	if f == nil {
		return false, fmt.Errorf("%w: broker %d is not a replica of this partition (replicas %v)", ErrUnknownReplica, id, p.replicas)
	}
	p.now = max(p.now, now)
	switch {
	case fetchOffset >= p.leo:
		f.lastCaughtUp = max(f.lastCaughtUp, now)
	case f.lastFetchLeaderLEO >= 0 && fetchOffset >= f.lastFetchLeaderLEO:
		f.lastCaughtUp = max(f.lastCaughtUp, f.lastFetch)
	}
	f.leo, f.lastFetch, f.lastFetchLeaderLEO = fetchOffset, now, p.leo
	p.maybeExpand(id)
	return p.advanceHW(), nil
}

func (p *Partition) maybeExpand(id int32) {
	if p.pending != nil || slices.Contains(p.isr, id) {
		return
	}
	f := p.followers[id]
	if f.leo >= p.hw && f.leo >= p.epochStart {
		p.pending = append(slices.Clone(p.isr), id)
	}
}

// Tick advances time to now on the leader and proposes dropping the
// followers that have not caught up within replica.lag.time.max.ms.
func (p *Partition) Tick(now int64) {
	p.now = max(p.now, now)
	if !p.leader || p.pending != nil {
		return
	}
	var keep []int32
	for _, r := range p.isr {
		if r != p.self && p.outOfSync(r) {
			continue
		}
		keep = append(keep, r)
	}
	if len(keep) != len(p.isr) {
		p.pending = keep
	}
}

func (p *Partition) outOfSync(id int32) bool {
	f := p.followers[id]
	if f == nil {
		return true // in the ISR but no longer assigned
	}
	return f.leo != p.leo && p.now-f.lastCaughtUp > p.cfg.LagTimeMax
}

// OutOfSync lists the ISR members the leader would drop now.
func (p *Partition) OutOfSync() []int32 {
	var out []int32
	for _, r := range p.isr {
		if r != p.self && p.outOfSync(r) {
			out = append(out, r)
		}
	}
	return out
}

// Proposal is the ISR change to write to ZooKeeper, if any.
func (p *Partition) Proposal() ([]int32, bool) {
	if p.pending == nil {
		return nil, false
	}
	return slices.Clone(p.pending), true
}

// ISRWritten reports that the proposed (or any) ISR is now in ZooKeeper.
// It reports whether the high watermark moved.
func (p *Partition) ISRWritten(isr []int32) bool {
	p.isr, p.pending = slices.Clone(isr), nil
	if !p.leader {
		return false
	}
	return p.advanceHW()
}

// ISRFailed drops the proposal (the write failed); it is made again on the
// next fetch or tick if it still holds.
func (p *Partition) ISRFailed() { p.pending = nil }

// SetISR adopts an ISR written by someone else (the controller).
func (p *Partition) SetISR(isr []int32) bool { return p.ISRWritten(isr) }

// maximal is the ISR used for the high watermark: the written set plus a
// pending proposal's members.
func (p *Partition) maximal() []int32 {
	out := slices.Clone(p.isr)
	for _, r := range p.pending {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func (p *Partition) advanceHW() bool {
	if !p.leader {
		return false
	}
	hw := p.leo
	for _, r := range p.maximal() {
		if r == p.self {
			continue
		}
		f := p.followers[r]
		if f == nil {
			continue // in the ISR but not assigned (reassignment): not waited on
		}
		hw = min(hw, f.leo)
	}
	if hw > p.hw {
		p.hw = hw
		return true
	}
	return false
}

// Acked says whether an acks=all produce whose last offset is last is
// done: the high watermark passed it with at least minISR in-sync
// replicas, or past it with fewer (NOT_ENOUGH_REPLICAS_AFTER_APPEND).
func (p *Partition) Acked(last int64, minISR int) AckResult {
	if !p.leader {
		return AckNotLeader
	}
	if p.hw > last {
		if len(p.isr) < minISR {
			return AckNotEnoughReplicasAfterAppend
		}
		return AckDone
	}
	return AckWaiting
}

// FollowerHW is a follower's high watermark after a fetch: the leader's,
// capped by its own log end offset.
func (p *Partition) FollowerHW(leaderHW int64) int64 {
	if p.leader {
		return p.hw
	}
	p.hw = max(min(leaderHW, p.leo), 0)
	return p.hw
}

// Truncation is what a follower learned from the leader's
// OffsetForLeaderEpoch answer for the follower's latest epoch.
type Truncation struct {
	// Known is false when the leader answered UNDEFINED_EPOCH (it knows no
	// epoch at or below the one asked).
	Known bool
	// LeaderEpoch and EndOffset are the leader's answer.
	LeaderEpoch int32
	EndOffset   int64
}

// TruncateTo is where a returning follower cuts its log: given its log end
// offset, its high watermark, the leader's answer, and its own end offset
// for the epoch the leader answered with (localEnd; ok=false if it has no
// such epoch). With no epoch known, it falls back to the high watermark
// (pre-KIP-101 behaviour); otherwise it is the smaller of the leader's end
// offset and its own end for that epoch (KIP-279: the follower's log may
// diverge inside an epoch the leader answered with).
func TruncateTo(leo, hw int64, ans Truncation, localEnd func(epoch int32) (int64, bool)) int64 {
	if !ans.Known {
		return min(hw, leo)
	}
	to := min(ans.EndOffset, leo)
	if end, ok := localEnd(ans.LeaderEpoch); ok {
		to = min(to, end)
	}
	return max(to, 0)
}
