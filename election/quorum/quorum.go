// Package quorum is the majority arithmetic of a ZooKeeper ensemble: which
// sets of servers form a quorum, and when a proposal has been acknowledged
// by one. It mirrors Apache's QuorumMaj: only voting members (participants)
// count, observers never do, and a quorum is a strict majority of the voters
// (n/2+1).
package quorum

import (
	"errors"
	"fmt"
	"sort"
)

// ErrConfig reports a membership that cannot form an ensemble.
var ErrConfig = errors.New("quorum: invalid membership")

// Verifier answers ContainsQuorum for one membership, like Apache's
// QuorumMaj.containsQuorum. The zero value has no voters and accepts no set.
type Verifier struct {
	voters    map[uint64]bool
	observers map[uint64]bool
}

// NewVerifier builds a majority verifier. Server ids must be unique across
// voters and observers and there must be at least one voter.
func NewVerifier(voters, observers []uint64) (Verifier, error) {
	v := Verifier{voters: map[uint64]bool{}, observers: map[uint64]bool{}}
	if len(voters) == 0 {
		return Verifier{}, fmt.Errorf("%w: no voting member (every server.N line has role observer)", ErrConfig)
	}
	for _, id := range voters {
		if v.voters[id] {
			return Verifier{}, fmt.Errorf("%w: server id %d is listed twice", ErrConfig, id)
		}
		v.voters[id] = true
	}
	for _, id := range observers {
		if v.voters[id] || v.observers[id] {
			return Verifier{}, fmt.Errorf("%w: server id %d is listed twice", ErrConfig, id)
		}
		v.observers[id] = true
	}
	return v, nil
}

// Half is the integer half of the voter count; a quorum needs more than Half.
func (v Verifier) Half() int { return len(v.voters) / 2 }

// Size is the number of votes that make a quorum: n/2+1 of the n voters.
func (v Verifier) Size() int { return len(v.voters)/2 + 1 }

// IsVoter reports whether id is a voting member (participant).
func (v Verifier) IsVoter(id uint64) bool { return v.voters[id] }

// IsObserver reports whether id is an observer.
func (v Verifier) IsObserver(id uint64) bool { return v.observers[id] }

// IsMember reports whether id is a voter or an observer.
func (v Verifier) IsMember(id uint64) bool { return v.voters[id] || v.observers[id] }

// Voters returns the voting members in ascending order.
func (v Verifier) Voters() []uint64 { return sorted(v.voters) }

// Observers returns the observers in ascending order.
func (v Verifier) Observers() []uint64 { return sorted(v.observers) }

// Members returns voters and observers in ascending order.
func (v Verifier) Members() []uint64 {
	all := map[uint64]bool{}
	for id := range v.voters {
		all[id] = true
	}
	for id := range v.observers {
		all[id] = true
	}
	return sorted(all)
}

// ContainsQuorum reports whether the set holds more than half of the voters.
// Ids that are not voters (observers, strangers) are ignored, as Apache's
// QuorumMaj ignores them; duplicates count once.
func (v Verifier) ContainsQuorum(set []uint64) bool {
	seen := map[uint64]bool{}
	for _, id := range set {
		if v.voters[id] {
			seen[id] = true
		}
	}
	return len(v.voters) > 0 && len(seen) > v.Half()
}

func sorted(m map[uint64]bool) []uint64 {
	out := make([]uint64, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// AckTracker counts the acknowledgements of one proposal: it is committed
// once a majority of the voters, the leader included, acknowledged it.
// Observers' acks never count.
type AckTracker struct {
	v    Verifier
	acks map[uint64]bool
}

// NewAckTracker starts an empty tracker over v.
func NewAckTracker(v Verifier) *AckTracker {
	return &AckTracker{v: v, acks: map[uint64]bool{}}
}

// Ack records an acknowledgement from id and reports whether it counted
// (false for observers, strangers and repeats).
func (a *AckTracker) Ack(id uint64) bool {
	if !a.v.IsVoter(id) || a.acks[id] {
		return false
	}
	a.acks[id] = true
	return true
}

// Forget drops id's ack (a learner that reconnects re-logs and re-acks).
func (a *AckTracker) Forget(id uint64) { delete(a.acks, id) }

// Acked reports whether id's ack was recorded.
func (a *AckTracker) Acked(id uint64) bool { return a.acks[id] }

// Committed reports whether a quorum of voters acknowledged.
func (a *AckTracker) Committed() bool { return len(a.acks) > a.v.Half() }

// Ackers returns the voters that acknowledged, ascending.
func (a *AckTracker) Ackers() []uint64 { return sorted(a.acks) }
