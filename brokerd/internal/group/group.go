// Package group is the consumer group coordinator's core: the group state
// machine of Kafka's GroupCoordinator, pure (no goroutines, sockets or
// clock: every call takes now) and driven by one owner. Calls that must
// wait (JoinGroup until the rebalance completes, SyncGroup until the leader
// sends the assignment) hand in an opaque Waiter and are answered later
// through the Replies that Join, Sync, Leave and Tick return.
//
// States (Kafka's GroupState):
//
//	Empty ──join──▶ PreparingRebalance ──all joined or timeout──▶ CompletingRebalance
//	  ▲                  ▲       │                                     │ leader's SyncGroup
//	  │ last member      │       └──no members left──▶ Empty           ▼
//	  │ leaves/expires   └─────join, leave, expiry──────────────── Stable
//	Dead: the group was deleted (DeleteGroups) or its coordinator moved.
package group

import (
	"slices"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Error codes answered (Kafka's protocol error codes).
const (
	ErrNone                      int16 = 0
	ErrCoordinatorNotAvailable   int16 = 15
	ErrIllegalGeneration         int16 = 22
	ErrInconsistentGroupProtocol int16 = 23
	ErrUnknownMemberID           int16 = 25
	ErrInvalidSessionTimeout     int16 = 26
	ErrRebalanceInProgress       int16 = 27
	ErrMemberIDRequired          int16 = 79
	ErrFencedInstanceID          int16 = 82
	ErrNonEmptyGroup             int16 = 68
	ErrGroupIDNotFound           int16 = 69
)

// State is a group state.
type State int

// The five group states.
const (
	Empty State = iota
	PreparingRebalance
	CompletingRebalance
	Stable
	Dead
)

func (s State) String() string {
	return [...]string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"}[s]
}

// Protocol is one assignor a member supports, with its metadata.
type Protocol struct {
	Name     string
	Metadata []byte
}

// Waiter is the caller's token for a delayed answer.
type Waiter any

// Member is a group member.
type Member struct {
	ID               string
	InstanceID       string // group.instance.id of a static member, "" for dynamic
	ClientID         string
	ClientHost       string
	SessionTimeout   time.Duration
	RebalanceTimeout time.Duration
	Protocols        []Protocol
	Assignment       []byte
	LastHeartbeat    time.Time

	joinWaiter Waiter
	syncWaiter Waiter
}

// MemberMetadata is what the leader's JoinGroup response lists.
type MemberMetadata struct {
	ID         string
	InstanceID string
	Metadata   []byte
}

// JoinResult answers a JoinGroup.
type JoinResult struct {
	Err          int16
	Generation   int32
	ProtocolType string
	Protocol     string
	Leader       string
	MemberID     string
	Members      []MemberMetadata // only for the leader
}

// SyncResult answers a SyncGroup.
type SyncResult struct {
	Err          int16
	ProtocolType string
	Protocol     string
	Assignment   []byte
}

// Reply is a delayed answer for a Waiter.
type Reply struct {
	Waiter Waiter
	Join   *JoinResult
	Sync   *SyncResult
}

// JoinRequest is a JoinGroup for this package.
type JoinRequest struct {
	MemberID         string
	NewMemberID      string // the id to hand out when MemberID is empty
	InstanceID       string // group.instance.id (v5+): a static member
	ClientID         string
	ClientHost       string
	ProtocolType     string
	Protocols        []Protocol
	SessionTimeout   time.Duration
	RebalanceTimeout time.Duration
	// RequireKnownMemberID (JoinGroup v4+): a join with no member id gets
	// MEMBER_ID_REQUIRED and an id to rejoin with.
	RequireKnownMemberID bool
}

// Config are the coordinator settings (Kafka's group.* broker configs).
type Config struct {
	InitialRebalanceDelay time.Duration // group.initial.rebalance.delay.ms, default 3s
	MinSessionTimeout     time.Duration // group.min.session.timeout.ms, default 6s
	MaxSessionTimeout     time.Duration // group.max.session.timeout.ms, default 30 min
}

// Group is one consumer group.
type Group struct {
	ID           string
	State        State
	ProtocolType string
	Protocol     string
	Generation   int32
	Leader       string
	Members      map[string]*Member

	cfg          Config
	order        []string             // member ids in join order
	static       map[string]string    // group.instance.id -> member id
	pending      map[string]time.Time // ids handed out, not joined yet: expiry
	deadline     time.Time            // rebalance deadline
	delayedUntil time.Time            // initial rebalance delay
	// StateSince is when the group last reached Stable or Empty (the
	// record's current_state_timestamp).
	StateSince time.Time
	// storePending: the group changed in a way Kafka persists (a
	// generation completed: Stable with assignments, or Empty; a static
	// member replaced) and the owner has not taken the record yet.
	storePending bool
}

func (g *Group) markStore(now time.Time) {
	g.StateSince = now
	g.storePending = true
}

// TakeRecord returns the group metadata record to append to
// __consumer_offsets when the group changed since the last call (Kafka
// writes one on every completed generation). The owner must append it
// before the group's state is relied on after a restart or a move.
func (g *Group) TakeRecord() (GroupMetadata, bool) {
	if !g.storePending {
		return GroupMetadata{}, false
	}
	g.storePending = false
	return g.Record(), true
}

// Record is the group as a group metadata value: members in join order,
// each with its subscription for the selected protocol and its assignment.
func (g *Group) Record() GroupMetadata {
	md := GroupMetadata{ProtocolType: g.ProtocolType, Generation: g.Generation, Protocol: g.Protocol, Leader: g.Leader,
		StateTimestamp: -1}
	if !g.StateSince.IsZero() {
		md.StateTimestamp = g.StateSince.UnixMilli()
	}
	for _, id := range g.order {
		m := g.Members[id]
		md.Members = append(md.Members, MemberRecord{MemberID: id, InstanceID: m.InstanceID, ClientID: m.ClientID,
			ClientHost: m.ClientHost, RebalanceTimeout: int32(m.RebalanceTimeout / time.Millisecond),
			SessionTimeout: int32(m.SessionTimeout / time.Millisecond), Subscription: m.metadataFor(g.Protocol), Assignment: m.Assignment})
	}
	return md
}

// Restore rebuilds a group from its last group metadata record, as Kafka's
// GroupMetadataManager loads a partition: Stable with the recorded members
// (each supporting the selected protocol with its recorded subscription
// and holding its assignment), or Empty without members. Every member's
// session starts at now: members that do not heartbeat within their
// session timeout are removed and the group rebalances.
func Restore(id string, cfg Config, md GroupMetadata, now time.Time) *Group {
	g := New(id, cfg)
	g.ProtocolType, g.Generation, g.Protocol, g.Leader = md.ProtocolType, md.Generation, md.Protocol, md.Leader
	if md.StateTimestamp >= 0 {
		g.StateSince = time.UnixMilli(md.StateTimestamp)
	}
	for _, mr := range md.Members {
		m := &Member{ID: mr.MemberID, InstanceID: mr.InstanceID, ClientID: mr.ClientID, ClientHost: mr.ClientHost,
			SessionTimeout: time.Duration(mr.SessionTimeout) * time.Millisecond, RebalanceTimeout: time.Duration(mr.RebalanceTimeout) * time.Millisecond,
			Protocols: []Protocol{{Name: md.Protocol, Metadata: mr.Subscription}}, Assignment: mr.Assignment, LastHeartbeat: now}
		g.Members[m.ID] = m
		g.order = append(g.order, m.ID)
		if m.InstanceID != "" {
			g.static[m.InstanceID] = m.ID
		}
	}
	if len(g.Members) > 0 {
		g.State = Stable
		if _, ok := g.Members[g.Leader]; !ok {
			g.Leader = g.order[0]
		}
	} else {
		g.State, g.Protocol, g.Leader = Empty, "", ""
	}
	return g
}

// New returns an empty group.
func New(id string, cfg Config) *Group {
	return &Group{ID: id, cfg: cfg, Members: map[string]*Member{}, pending: map[string]time.Time{}, static: map[string]string{}}
}

// MemberIDs lists members in join order.
func (g *Group) MemberIDs() []string { return slices.Clone(g.order) }

// Join handles a JoinGroup. imm is the answer when it is known now;
// otherwise w is answered through a later Reply.
func (g *Group) Join(req JoinRequest, w Waiter, now time.Time) (imm *JoinResult, replies []Reply) {
	fail := func(code int16) (*JoinResult, []Reply) {
		return &JoinResult{Err: code, Generation: -1, MemberID: req.MemberID}, nil
	}
	if g.State == Dead {
		return fail(ErrCoordinatorNotAvailable)
	}
	if req.SessionTimeout < g.cfg.MinSessionTimeout || req.SessionTimeout > g.cfg.MaxSessionTimeout {
		return fail(ErrInvalidSessionTimeout)
	}
	if len(req.Protocols) == 0 || req.ProtocolType == "" {
		return fail(ErrInconsistentGroupProtocol)
	}
	if len(g.Members) > 0 && (req.ProtocolType != g.ProtocolType || !g.supportsOne(req.Protocols)) {
		return fail(ErrInconsistentGroupProtocol)
	}
	id := req.MemberID
	if req.InstanceID != "" {
		// Static membership (KIP-345).
		old, known := g.static[req.InstanceID]
		switch {
		case known && id == "":
			return g.replaceStatic(old, req, w, now)
		case known && id != old:
			return fail(ErrFencedInstanceID)
		case !known && id == "":
			// A new static member needs no member id handshake.
			id = req.NewMemberID
			g.static[req.InstanceID] = id
			g.pending[id] = now.Add(req.SessionTimeout)
		}
	}
	if id == "" {
		if req.RequireKnownMemberID {
			exp := now.Add(req.SessionTimeout)
			g.pending[req.NewMemberID] = exp
			return &JoinResult{Err: ErrMemberIDRequired, Generation: -1, MemberID: req.NewMemberID}, nil
		}
		id = req.NewMemberID
	} else if _, known := g.Members[id]; !known {
		if _, pend := g.pending[id]; !pend {
			return fail(ErrUnknownMemberID)
		}
	}
	delete(g.pending, id)
	m, known := g.Members[id]
	if known && g.State == Stable && id != g.Leader && protocolsEqual(m.Protocols, req.Protocols) {
		// A follower rejoining with unchanged metadata: nothing to rebalance.
		m.LastHeartbeat = now
		return &JoinResult{Generation: g.Generation, ProtocolType: g.ProtocolType, Protocol: g.Protocol, Leader: g.Leader, MemberID: id}, nil
	}
	if !known {
		m = &Member{ID: id, InstanceID: req.InstanceID}
		g.Members[id] = m
		g.order = append(g.order, id)
	}
	m.ClientID, m.ClientHost = req.ClientID, req.ClientHost
	m.SessionTimeout, m.RebalanceTimeout = req.SessionTimeout, req.RebalanceTimeout
	m.Protocols = req.Protocols
	m.LastHeartbeat = now
	if m.joinWaiter != nil {
		// A second join from the same member replaces the first; the
		// first is answered with an error so its connection is not stuck.
		replies = append(replies, Reply{Waiter: m.joinWaiter, Join: &JoinResult{Err: ErrRebalanceInProgress, Generation: -1, MemberID: id}})
	}
	m.joinWaiter = w
	if len(g.Members) == 1 {
		g.ProtocolType = req.ProtocolType
	}
	if g.State != PreparingRebalance {
		replies = append(replies, g.prepareRebalance(now)...)
	} else if d := now.Add(m.RebalanceTimeout); d.After(g.deadline) {
		g.deadline = d
	}
	replies = append(replies, g.maybeComplete(now)...)
	return nil, replies
}

// replaceStatic gives a static member that rejoined without its member id
// (a restarted process) a new id in place of the old one. The old id's
// waiting calls are answered FENCED_INSTANCE_ID. A Stable group whose
// selected protocol stays the same does not rebalance (Kafka 2.8): the
// member gets the current generation and, on SyncGroup, its assignment.
func (g *Group) replaceStatic(old string, req JoinRequest, w Waiter, now time.Time) (*JoinResult, []Reply) {
	m := g.Members[old]
	var replies []Reply
	if m.joinWaiter != nil {
		replies = append(replies, Reply{Waiter: m.joinWaiter, Join: &JoinResult{Err: ErrFencedInstanceID, Generation: -1, MemberID: old}})
		m.joinWaiter = nil
	}
	if m.syncWaiter != nil {
		replies = append(replies, Reply{Waiter: m.syncWaiter, Sync: &SyncResult{Err: ErrFencedInstanceID}})
		m.syncWaiter = nil
	}
	id := req.NewMemberID
	delete(g.Members, old)
	m.ID = id
	g.Members[id] = m
	for i, o := range g.order {
		if o == old {
			g.order[i] = id
		}
	}
	wasLeader := g.Leader == old
	if wasLeader {
		g.Leader = id
	}
	g.static[req.InstanceID] = id
	m.ClientID, m.ClientHost = req.ClientID, req.ClientHost
	m.SessionTimeout, m.RebalanceTimeout = req.SessionTimeout, req.RebalanceTimeout
	m.Protocols = req.Protocols
	m.LastHeartbeat = now
	// Kafka compares the protocol the group would select, not the metadata.
	unchanged := g.selectProtocol() == g.Protocol
	if g.State == Stable && unchanged {
		// As Kafka 2.8: no rebalance, the current generation. A restarted
		// leader is told the old leader id (its previous incarnation) and
		// no member list, so it keeps the current plan (clients recognise
		// their instance id in it, see KIP-814).
		leader := g.Leader
		if wasLeader {
			leader = old
		}
		g.markStore(now) // the new member id replaces the old in the record
		return &JoinResult{Generation: g.Generation, ProtocolType: g.ProtocolType, Protocol: g.Protocol, Leader: leader, MemberID: id}, replies
	}
	m.joinWaiter = w
	if g.State != PreparingRebalance {
		replies = append(replies, g.prepareRebalance(now)...)
	}
	return nil, append(replies, g.maybeComplete(now)...)
}

// fenced says whether instanceID belongs to another member id.
func (g *Group) fenced(memberID, instanceID string) bool {
	if instanceID == "" {
		return false
	}
	cur, ok := g.static[instanceID]
	return ok && cur != memberID
}

// Sync handles a SyncGroup.
func (g *Group) Sync(memberID, instanceID string, generation int32, assignments map[string][]byte, w Waiter, now time.Time) (*SyncResult, []Reply) {
	m, ok := g.Members[memberID]
	switch {
	case g.State == Dead:
		return &SyncResult{Err: ErrCoordinatorNotAvailable}, nil
	case g.fenced(memberID, instanceID):
		return &SyncResult{Err: ErrFencedInstanceID}, nil
	case !ok:
		return &SyncResult{Err: ErrUnknownMemberID}, nil
	case generation != g.Generation:
		return &SyncResult{Err: ErrIllegalGeneration}, nil
	case g.State == PreparingRebalance:
		return &SyncResult{Err: ErrRebalanceInProgress}, nil
	case g.State == Stable:
		m.LastHeartbeat = now
		return &SyncResult{ProtocolType: g.ProtocolType, Protocol: g.Protocol, Assignment: m.Assignment}, nil
	case g.State != CompletingRebalance:
		return &SyncResult{Err: ErrUnknownMemberID}, nil
	}
	m.LastHeartbeat = now
	m.syncWaiter = w
	if memberID != g.Leader {
		return nil, nil
	}
	var replies []Reply
	for _, id := range g.order {
		mm := g.Members[id]
		mm.Assignment = assignments[id]
	}
	g.State = Stable
	g.markStore(now)
	for _, id := range g.order {
		mm := g.Members[id]
		if mm.syncWaiter != nil {
			replies = append(replies, Reply{Waiter: mm.syncWaiter, Sync: &SyncResult{ProtocolType: g.ProtocolType, Protocol: g.Protocol, Assignment: mm.Assignment}})
			mm.syncWaiter = nil
		}
	}
	return nil, replies
}

// Heartbeat handles a Heartbeat and returns its error code.
func (g *Group) Heartbeat(memberID, instanceID string, generation int32, now time.Time) int16 {
	m, ok := g.Members[memberID]
	switch {
	case g.State == Dead:
		return ErrCoordinatorNotAvailable
	case g.fenced(memberID, instanceID):
		return ErrFencedInstanceID
	case !ok:
		return ErrUnknownMemberID
	case generation != g.Generation:
		return ErrIllegalGeneration
	}
	m.LastHeartbeat = now
	if g.State == PreparingRebalance {
		return ErrRebalanceInProgress
	}
	return ErrNone
}

// Leave removes a member (LeaveGroup); a static member may be named by
// its instance id alone (member id "").
func (g *Group) Leave(memberID, instanceID string, now time.Time) (int16, []Reply) {
	if g.State == Dead {
		return ErrCoordinatorNotAvailable, nil
	}
	if instanceID != "" {
		cur, ok := g.static[instanceID]
		switch {
		case !ok:
			return ErrUnknownMemberID, nil
		case memberID != "" && memberID != cur:
			return ErrFencedInstanceID, nil
		}
		memberID = cur
	}
	if _, ok := g.Members[memberID]; !ok {
		if _, pend := g.pending[memberID]; pend {
			delete(g.pending, memberID)
			return ErrNone, g.maybeComplete(now)
		}
		return ErrUnknownMemberID, nil
	}
	return ErrNone, g.remove(memberID, now)
}

// CommitAllowed checks an OffsetCommit's member and generation; a
// generation < 0 with no member id is a standalone (simple) commit, allowed
// while the group has no members.
func (g *Group) CommitAllowed(memberID, instanceID string, generation int32) int16 {
	if g.State == Dead {
		return ErrCoordinatorNotAvailable
	}
	if g.fenced(memberID, instanceID) {
		return ErrFencedInstanceID
	}
	if generation < 0 && memberID == "" {
		if len(g.Members) == 0 {
			return ErrNone
		}
		return ErrIllegalGeneration
	}
	if _, ok := g.Members[memberID]; !ok {
		return ErrUnknownMemberID
	}
	if generation != g.Generation {
		return ErrIllegalGeneration
	}
	if g.State == CompletingRebalance {
		return ErrRebalanceInProgress
	}
	return ErrNone
}

// Tick expires members whose session ran out and pending member ids, and
// completes a rebalance whose deadline passed.
func (g *Group) Tick(now time.Time) []Reply {
	var replies []Reply
	for id, exp := range g.pending {
		if now.After(exp) {
			delete(g.pending, id)
		}
	}
	for _, id := range g.MemberIDs() {
		m := g.Members[id]
		if m == nil || m.joinWaiter != nil || m.syncWaiter != nil {
			continue // a member waiting on the coordinator is kept alive
		}
		if now.Sub(m.LastHeartbeat) > m.SessionTimeout {
			replies = append(replies, g.remove(id, now)...)
		}
	}
	replies = append(replies, g.maybeComplete(now)...)
	return replies
}

// Kill makes the group Dead, answering every waiter.
func (g *Group) Kill() []Reply {
	var replies []Reply
	for _, m := range g.Members {
		if m.joinWaiter != nil {
			replies = append(replies, Reply{Waiter: m.joinWaiter, Join: &JoinResult{Err: ErrCoordinatorNotAvailable, Generation: -1, MemberID: m.ID}})
		}
		if m.syncWaiter != nil {
			replies = append(replies, Reply{Waiter: m.syncWaiter, Sync: &SyncResult{Err: ErrCoordinatorNotAvailable}})
		}
	}
	g.State, g.Members, g.order, g.static = Dead, map[string]*Member{}, nil, map[string]string{}
	return replies
}

func (g *Group) remove(id string, now time.Time) []Reply {
	m := g.Members[id]
	delete(g.Members, id)
	if m.InstanceID != "" && g.static[m.InstanceID] == id {
		delete(g.static, m.InstanceID)
	}
	g.order = slices.DeleteFunc(g.order, func(s string) bool { return s == id })
	var replies []Reply
	if m.joinWaiter != nil {
		replies = append(replies, Reply{Waiter: m.joinWaiter, Join: &JoinResult{Err: ErrUnknownMemberID, Generation: -1, MemberID: id}})
	}
	if m.syncWaiter != nil {
		replies = append(replies, Reply{Waiter: m.syncWaiter, Sync: &SyncResult{Err: ErrUnknownMemberID}})
	}
	switch g.State {
	case Stable, CompletingRebalance:
		replies = append(replies, g.prepareRebalance(now)...)
	}
	return append(replies, g.maybeComplete(now)...)
}

func (g *Group) prepareRebalance(now time.Time) []Reply {
	var replies []Reply
	// Members waiting for the leader's assignment must rejoin.
	for _, id := range g.order {
		m := g.Members[id]
		if m.syncWaiter != nil {
			replies = append(replies, Reply{Waiter: m.syncWaiter, Sync: &SyncResult{Err: ErrRebalanceInProgress}})
			m.syncWaiter = nil
		}
	}
	initial := g.State == Empty
	g.State = PreparingRebalance
	var timeout time.Duration
	for _, m := range g.Members {
		timeout = max(timeout, m.RebalanceTimeout)
	}
	g.deadline = now.Add(timeout)
	g.delayedUntil = time.Time{}
	if initial && g.cfg.InitialRebalanceDelay > 0 {
		g.delayedUntil = now.Add(min(g.cfg.InitialRebalanceDelay, timeout))
	}
	return replies
}

func (g *Group) maybeComplete(now time.Time) []Reply {
	if g.State != PreparingRebalance {
		return nil
	}
	all := len(g.pending) == 0
	for _, m := range g.Members {
		if m.joinWaiter == nil {
			all = false
		}
	}
	if now.Before(g.delayedUntil) || (!all && now.Before(g.deadline)) {
		return nil
	}
	var replies []Reply
	// Members that did not rejoin in time are removed.
	for _, id := range g.MemberIDs() {
		if m := g.Members[id]; m.joinWaiter == nil {
			if m.InstanceID != "" && g.static[m.InstanceID] == id {
				delete(g.static, m.InstanceID)
			}
			delete(g.Members, id)
			g.order = slices.DeleteFunc(g.order, func(s string) bool { return s == id })
		}
	}
	g.Generation++
	if len(g.Members) == 0 {
		// As Kafka, an empty group keeps its protocol type ("consumer").
		g.State, g.Protocol, g.Leader = Empty, "", ""
		g.markStore(now)
		return replies
	}
	g.State = CompletingRebalance
	g.Protocol = g.selectProtocol()
	if _, ok := g.Members[g.Leader]; !ok {
		g.Leader = g.order[0]
	}
	var all2 []MemberMetadata
	for _, id := range g.order {
		all2 = append(all2, MemberMetadata{ID: id, InstanceID: g.Members[id].InstanceID, Metadata: g.Members[id].metadataFor(g.Protocol)})
	}
	for _, id := range g.order {
		m := g.Members[id]
		res := &JoinResult{Generation: g.Generation, ProtocolType: g.ProtocolType, Protocol: g.Protocol, Leader: g.Leader, MemberID: id}
		if id == g.Leader {
			res.Members = all2
		}
		replies = append(replies, Reply{Waiter: m.joinWaiter, Join: res})
		m.joinWaiter = nil
		m.LastHeartbeat = now
	}
	return replies
}

func (m *Member) metadataFor(protocol string) []byte {
	for _, p := range m.Protocols {
		if p.Name == protocol {
			return p.Metadata
		}
	}
	return nil
}

// supportsOne: the protocols share at least one name with every member's.
func (g *Group) supportsOne(ps []Protocol) bool {
	for _, c := range g.candidates() {
		for _, p := range ps {
			if p.Name == c {
				return true
			}
		}
	}
	return false
}

// candidates are the protocols every member supports, in the order of the
// first member's preference.
func (g *Group) candidates() []string {
	var out []string
	if len(g.order) == 0 {
		return nil
	}
	for _, p := range g.Members[g.order[0]].Protocols {
		ok := true
		for _, id := range g.order[1:] {
			if !hasProtocol(g.Members[id].Protocols, p.Name) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, p.Name)
		}
	}
	return out
}

// selectProtocol is Kafka's: every member votes for its most preferred
// candidate; the most votes wins (ties: the candidate listed first).
func (g *Group) selectProtocol() string {
	cands := g.candidates()
	votes := map[string]int{}
	for _, id := range g.order {
		for _, p := range g.Members[id].Protocols {
			if slices.Contains(cands, p.Name) {
				votes[p.Name]++
				break
			}
		}
	}
	best := ""
	keys := slices.Clone(cands)
	sort.SliceStable(keys, func(i, j int) bool { return votes[keys[i]] > votes[keys[j]] })
	if len(keys) > 0 {
		best = keys[0]
	}
	return best
}

func hasProtocol(ps []Protocol, name string) bool {
	for _, p := range ps {
		if p.Name == name {
			return true
		}
	}
	return false
}

func protocolsEqual(a, b []Protocol) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || string(a[i].Metadata) != string(b[i].Metadata) {
			return false
		}
	}
	return true
}

// SubscribedTopics is the union of the topics the members subscribe to,
// read from their consumer protocol metadata for the selected protocol (as
// Kafka's GroupMetadata.computeSubscribedTopics); known is false when the
// group is not a consumer group with a selected protocol or a member's
// metadata does not parse, and then every topic counts as subscribed.
func (g *Group) SubscribedTopics() (topics map[string]bool, known bool) {
	if g.ProtocolType != "consumer" || g.Protocol == "" {
		return nil, false
	}
	topics = map[string]bool{}
	for _, id := range g.order {
		var md kmsg.ConsumerMemberMetadata
		if err := md.ReadFrom(g.Members[id].metadataFor(g.Protocol)); err != nil {
			return nil, false
		}
		for _, t := range md.Topics {
			topics[t] = true
		}
	}
	return topics, true
}
