// Package zab is the ZooKeeper atomic broadcast protocol (discovery,
// synchronization, broadcast) as two pure state machines: Leader and
// Learner (a follower or an observer). No sockets, files, goroutines or
// clock: the caller steps received messages in, ticks time (one Tick is one
// tickTime), and drains a Ready that says what to persist, what to apply
// and what to send, in that order.
//
// Txn bodies are opaque bytes; the server serializes jute TxnEntry records
// into them. A zxid is epoch<<32 | counter.
package zab

import (
	"errors"
	"fmt"

	"mqstack/election/quorum"
	"mqstack/proto/peer"
)

var (
	// ErrConfig reports an unusable configuration.
	ErrConfig = errors.New("zab: invalid config")
	// ErrNotLeading reports a proposal to a leader that is not established
	// (still in discovery or synchronization) or no longer leads.
	ErrNotLeading = errors.New("zab: not an established leader")
	// ErrZxidOverflow reports that the counter of the epoch is exhausted;
	// Apache then forces a new election, and so does the Leader.
	ErrZxidOverflow = errors.New("zab: zxid counter of the epoch rolled over")
	// ErrLost is wrapped by Ready.Lost: the role ended and the server must
	// go back to LOOKING.
	ErrLost = errors.New("zab: role lost")
)

// MakeZxid builds a zxid from an epoch and a counter.
func MakeZxid(epoch, counter int64) int64 { return epoch<<32 | (counter & 0xffffffff) }

// EpochOf is the epoch half of a zxid.
func EpochOf(zxid int64) int64 { return zxid >> 32 }

// CounterOf is the counter half of a zxid.
func CounterOf(zxid int64) int64 { return zxid & 0xffffffff }

// FormatZxid prints a zxid as epoch:counter.
func FormatZxid(z int64) string { return fmt.Sprintf("%d:%d", EpochOf(z), CounterOf(z)) }

// Entry is one txn of the log.
type Entry struct {
	Zxid int64
	Data []byte
}

// Message is a peer message with its sender and recipient. The transport
// sets From from the connection, never from the body.
type Message struct {
	From, To uint64
	Msg      peer.Msg
}

// Config of one server's ZAB role.
type Config struct {
	ID       uint64
	Verifier quorum.Verifier
	// InitLimit bounds discovery and synchronization, in ticks (zoo.cfg
	// initLimit). Default 10.
	InitLimit int
	// SyncLimit bounds silence once synchronized, in ticks (zoo.cfg
	// syncLimit). Default 5.
	SyncLimit int
	// CommitLogSize is how many committed txns the leader keeps for DIFF
	// (Apache's zookeeper.commitLogCount, 500). A learner further behind
	// gets a SNAP. Default 500.
	CommitLogSize int
}

func (c *Config) validate() error {
	if c.ID == 0 {
		return fmt.Errorf("%w: server id 0 (myid must be a positive number)", ErrConfig)
	}
	if !c.Verifier.IsMember(c.ID) {
		return fmt.Errorf("%w: server id %d is not in the ensemble (add a server.%d line)", ErrConfig, c.ID, c.ID)
	}
	if c.InitLimit <= 0 {
		c.InitLimit = 10
	}
	if c.SyncLimit <= 0 {
		c.SyncLimit = 5
	}
	if c.CommitLogSize <= 0 {
		c.CommitLogSize = 500
	}
	return nil
}

// Snapshot is a learner's SNAP: replace the data tree by Data, the state as
// of Zxid, and restart the txn log after Zxid.
type Snapshot struct {
	Zxid int64
	Data []byte
}

// Ready is the work a Step, Tick or Propose produced. Handle it completely,
// in field order, before the next Step, Tick or Propose:
//
//  1. Persist and fsync, in this order: AcceptedEpoch, CurrentEpoch (the
//     acceptedEpoch and currentEpoch files), Snapshot (replace the tree and
//     start a new log after Snapshot.Zxid), TruncateTo (drop logged txns
//     above it and rebuild the tree from snapshot + log, as Apache reloads
//     its database after TRUNC), then append Entries to the txn log.
//     Nothing below may happen before this is durable: a follower's ACK,
//     ACKEPOCH and NEWLEADER ACK are in Messages precisely so that they
//     leave only after the log and the epochs are on disk.
//  2. Apply Committed to the data tree, in order. If Messages holds a SNAP,
//     its Snapshot bytes are the tree serialized exactly when the last
//     applied zxid equals the SNAP's Zxid (before applying any later
//     Committed entry).
//  3. Send Messages, in order per recipient.
//
// Close (leader only) comes after Messages. Established and Lost are events: Established means the server may serve
// clients (a leader: a quorum acked NEWLEADER; a learner: UPTODATE came);
// Lost (wrapping ErrLost) means the role ended and the server goes back to
// LOOKING (fle.Election.Start). Notes are log lines.
type Ready struct {
	AcceptedEpoch *int64
	CurrentEpoch  *int64
	Snapshot      *Snapshot
	TruncateTo    *int64
	Entries       []Entry
	Committed     []Entry
	Messages      []Message
	// Close lists learners whose connection the leader drops (refused, or
	// silent too long); the wiring closes those sockets after sending.
	Close       []uint64
	Established bool
	Lost        error
	Notes       []string
}

type output struct{ rd Ready }

func (o *output) send(from, to uint64, m peer.Msg) {
	o.rd.Messages = append(o.rd.Messages, Message{From: from, To: to, Msg: m})
}

func (o *output) note(format string, args ...any) {
	o.rd.Notes = append(o.rd.Notes, fmt.Sprintf(format, args...))
}

func (o *output) take() Ready {
	rd := o.rd
	o.rd = Ready{}
	return rd
}

func (o *output) has() bool {
	r := &o.rd
	return r.AcceptedEpoch != nil || r.CurrentEpoch != nil || r.Snapshot != nil || r.TruncateTo != nil ||
		len(r.Entries) > 0 || len(r.Committed) > 0 || len(r.Messages) > 0 || len(r.Close) > 0 || r.Established || r.Lost != nil || len(r.Notes) > 0
}

func i64(v int64) *int64 { return &v }
