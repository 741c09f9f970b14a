package tree

import "sort"

// superSecret is Apache's ZooKeeperServer.superSecret, mixed into the
// password seed.
const superSecret int64 = 0xB3415C00

// Password returns the 16-byte session password Apache generates:
// new java.util.Random(sessionID ^ superSecret).nextBytes(16). It is a
// function of the id, so it survives restarts without being stored.
func Password(sessionID int64) []byte {
	const mult, add, mask = 0x5DEECE66D, 0xB, (int64(1) << 48) - 1
	seed := (sessionID ^ superSecret ^ mult) & mask
	out := make([]byte, 16)
	for i := 0; i < len(out); {
		seed = (seed*mult + add) & mask
		rnd := int32(seed >> 16)
		for n := 0; n < 4 && i < len(out); n++ {
			out[i] = byte(rnd)
			rnd >>= 8
			i++
		}
	}
	return out
}

// InitialSessionID is SessionTrackerImpl.initializeNextSessionId: the top
// byte is the server id, then the time in ms shifted so ids from restarts
// do not collide.
func InitialSessionID(nowMs, myid int64) int64 {
	id := int64(uint64(nowMs<<24) >> 8)
	id |= myid << 56
	if id == ContainerOwner {
		id++
	}
	return id
}

// Session is one tracked session.
type Session struct {
	ID       int64
	Timeout  int32 // negotiated, ms
	ExpireAt int64 // bucket time in ms
	Closing  bool
}

// Sessions tracks session expiry in buckets of tickMs, like Apache's
// ExpiryQueue: a session touched at now expires at the first bucket
// boundary after now+timeout.
type Sessions struct {
	tickMs  int64
	byID    map[int64]*Session
	buckets map[int64]map[int64]struct{}
	nextID  int64
}

// NewSessions returns a tracker; ids start at InitialSessionID(now, myid).
func NewSessions(tickMs, nowMs, myid int64) *Sessions {
	if tickMs <= 0 {
		tickMs = 2000
	}
	return &Sessions{tickMs: tickMs, byID: map[int64]*Session{}, buckets: map[int64]map[int64]struct{}{},
		nextID: InitialSessionID(nowMs, myid)}
}

// NextID allocates a new session id.
func (s *Sessions) NextID() int64 {
	id := s.nextID
	s.nextID++
	if s.nextID == ContainerOwner {
		s.nextID++
	}
	return id
}

func (s *Sessions) roundUp(t int64) int64 { return (t/s.tickMs + 1) * s.tickMs }

// Add registers (or re-registers) a session and touches it.
func (s *Sessions) Add(id int64, timeout int32, nowMs int64) {
	ss := s.byID[id]
	if ss == nil {
		ss = &Session{ID: id}
		s.byID[id] = ss
	}
	ss.Timeout = timeout
	s.move(ss, s.roundUp(nowMs+int64(timeout)))
}

func (s *Sessions) move(ss *Session, at int64) {
	if ss.ExpireAt == at {
		return
	}
	if b := s.buckets[ss.ExpireAt]; b != nil {
		delete(b, ss.ID)
		if len(b) == 0 {
			delete(s.buckets, ss.ExpireAt)
		}
	}
	ss.ExpireAt = at
	b := s.buckets[at]
	if b == nil {
		b = map[int64]struct{}{}
		s.buckets[at] = b
	}
	b[ss.ID] = struct{}{}
}

// Touch extends a live session by timeout ms from now (Apache touches with
// the connection's negotiated timeout; the session keeps the timeout it was
// created with, which is what snapshots record); false if unknown or closing.
func (s *Sessions) Touch(id int64, timeout int32, nowMs int64) bool {
	ss := s.byID[id]
	if ss == nil || ss.Closing {
		return false
	}
	s.move(ss, s.roundUp(nowMs+int64(timeout))) // ExpiryQueue.update moves either way
	return true
}

// Get returns a session or nil.
func (s *Sessions) Get(id int64) *Session { return s.byID[id] }

// SetClosing marks a session as closing: requests are refused from now on.
func (s *Sessions) SetClosing(id int64) {
	if ss := s.byID[id]; ss != nil {
		ss.Closing = true
	}
}

// Remove forgets a session.
func (s *Sessions) Remove(id int64) {
	ss := s.byID[id]
	if ss == nil {
		return
	}
	if b := s.buckets[ss.ExpireAt]; b != nil {
		delete(b, id)
		if len(b) == 0 {
			delete(s.buckets, ss.ExpireAt)
		}
	}
	delete(s.byID, id)
}

// Expired returns, sorted, the sessions whose bucket time is <= now and
// marks them closing (they stay tracked until Remove).
func (s *Sessions) Expired(nowMs int64) []int64 {
	var out []int64
	for at, b := range s.buckets {
		if at > nowMs {
			continue
		}
		for id := range b {
			if ss := s.byID[id]; ss != nil && !ss.Closing {
				ss.Closing = true
				out = append(out, id)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// All returns every session sorted by id.
func (s *Sessions) All() []Session {
	out := make([]Session, 0, len(s.byID))
	for _, ss := range s.byID {
		out = append(out, *ss)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Count is the number of sessions.
func (s *Sessions) Count() int { return len(s.byID) }
