package broker

// Incremental fetch sessions (KIP-227), kept as Kafka 2.8 keeps them
// (FetchSession.scala), for Fetch v7+.
//
// A request's SessionID and SessionEpoch say what it is:
//
//   - id 0, epoch 0 (INITIAL_EPOCH): a full fetch that asks for a session.
//     When the cache has room (max.incremental.fetch.session.cache.slots,
//     default 1000) or can evict one (below), the response carries the new
//     session's id and the session remembers every partition of the
//     request: its fetch parameters, and the high watermark, last stable
//     offset and log start offset the response told. Otherwise the response
//     carries id 0, and the client goes on with full fetches.
//   - id 0, epoch -1 (FINAL_EPOCH): a full fetch without a session.
//   - id != 0, epoch 0 or -1: the session is closed, then as above (a new
//     session for epoch 0, none for -1).
//   - id != 0, epoch > 0: an incremental fetch. An unknown id is
//     FETCH_SESSION_ID_NOT_FOUND, an epoch other than the one expected
//     (1 after the creation, then +1 per incremental fetch, 1 again after
//     MaxInt32) INVALID_FETCH_SESSION_EPOCH. Its Topics add partitions to
//     the session or replace their fetch parameters, its ForgottenTopics
//     take them out (a session left empty is closed and the fetch is
//     answered without one); every partition of the session is read, and
//     the response carries only those with records, a high watermark, last
//     stable offset or log start offset that differs from the last one
//     told, or an error (whose partition is then answered again when the
//     error goes).
//
// Rotation: partitions are read in the session's order, and a partition
// whose records went into the response moves to the end, so when MaxBytes
// stops the read a busy partition at the front does not take every
// response. Kafka moves every partition it answers; here a partition
// answered for its offsets only keeps its place (with Kafka's rule, a
// partition whose high watermark moves on each fetch but whose bytes never
// fit stays behind the busy one).
//
// Eviction, as Kafka's tryEvict, with linear scans instead of its sorted
// maps: when the cache is full, the least recently used session goes if it
// has not been used for fetchSessionEvictAge (Kafka's 120 s); otherwise the
// least valuable evictable session goes if the new one is worth more.
// Value orders by (follower's session, partition count, id); a follower's
// new session may evict any consumer session and follower sessions older
// than fetchSessionEvictAge, a consumer's only sessions older than that.
// Kafka keeps a session's evictability as of its last use; here it is
// worked out when the cache is full.
//
// Sessions live in memory only: after a restart the client's next
// incremental fetch gets FETCH_SESSION_ID_NOT_FOUND and it starts again
// with a full one, as with Kafka.

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/storage/checkpoint"
)

// fetchSessionEvictAge is Kafka's MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS.
const fetchSessionEvictAge = 120 * time.Second

// sessionPartition is one partition of a fetch session.
type sessionPartition struct {
	topic string
	// req holds the fetch parameters the client last sent (fetch offset,
	// partition max bytes, log start offset, current leader epoch).
	req kmsg.FetchRequestTopicPartition
	// hw, lso and logStart are what the client was last told; hw is -1
	// until it is told, and after an error, so the partition is answered.
	hw, lso, logStart int64
	rotate            bool // its records are in the response being built
}

// fetchSession is one client's session; the cache's mutex guards it.
type fetchSession struct {
	id         int32
	privileged bool // a follower's (replica id >= 0)
	created    time.Time
	lastUsed   time.Time
	epoch      int32 // the epoch the next incremental fetch must carry
	parts      []*sessionPartition
	index      map[checkpoint.TopicPartition]*sessionPartition
}

// fetchSessionCache holds the broker's fetch sessions.
type fetchSessionCache struct {
	slots    int
	evictAge time.Duration
	now      func() time.Time
	m        *metrics

	mu         sync.Mutex
	sessions   map[int32]*fetchSession
	partitions int // cached partitions over all sessions
}

func newFetchSessionCache(slots int, m *metrics) *fetchSessionCache {
	fc := &fetchSessionCache{slots: slots, evictAge: fetchSessionEvictAge, now: time.Now, m: m, sessions: map[int32]*fetchSession{}}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kafka_server_fetchsessioncache_numincrementalfetchsessions",
			Help: "Incremental fetch sessions (KIP-227) kept."}, func() float64 { n, _ := fc.size(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kafka_server_fetchsessioncache_numincrementalfetchpartitionscached",
			Help: "Partitions kept in incremental fetch sessions."}, func() float64 { _, n := fc.size(); return float64(n) }))
	return fc
}

// size is the number of sessions and of their partitions.
func (fc *fetchSessionCache) size() (sessions, partitions int) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return len(fc.sessions), fc.partitions
}

// fetchContext is what open decided for one Fetch request.
type fetchContext struct {
	errCode int16 // FETCH_SESSION_ID_NOT_FOUND or INVALID_FETCH_SESSION_EPOCH: answer with it alone
	create  bool  // a full fetch that asks for a session
	session *fetchSession
	epoch   int32                    // the session's epoch once this request is taken (incremental)
	topics  []kmsg.FetchRequestTopic // what an incremental fetch reads: the session's partitions in order
}

// open takes a request's session fields: closes, checks and updates the
// session they name.
func (fc *fetchSessionCache) open(req *kmsg.FetchRequest) fetchContext {
	if req.Version < 7 {
		return fetchContext{}
	}
	if req.SessionEpoch == 0 || req.SessionEpoch == -1 {
		if req.SessionID != 0 {
			fc.mu.Lock()
			if s := fc.sessions[req.SessionID]; s != nil {
				fc.remove(s)
			}
			fc.mu.Unlock()
		}
		return fetchContext{create: req.SessionEpoch == 0}
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	s := fc.sessions[req.SessionID]
	if s == nil {
		return fetchContext{errCode: kerr.FetchSessionIDNotFound.Code}
	}
	if s.epoch != req.SessionEpoch {
		return fetchContext{errCode: kerr.InvalidFetchSessionEpoch.Code}
	}
	before := len(s.parts)
	s.update(req)
	fc.partitions += len(s.parts) - before
	if len(s.parts) == 0 {
		fc.remove(s)
		return fetchContext{}
	}
	s.lastUsed = fc.now()
	s.epoch = nextSessionEpoch(s.epoch)
	fc.m.incrementalFetches.Inc()
	return fetchContext{session: s, epoch: s.epoch, topics: s.topics()}
}

// finish fills in the response's session id: it creates the session a
// full fetch asked for, or leaves out of an incremental fetch's response
// the partitions with nothing new. A non-zero code means the session moved
// on meanwhile (a duplicate request): the response is to carry that error
// alone, as Kafka answers.
func (fc *fetchSessionCache) finish(ctx *fetchContext, req *kmsg.FetchRequest, resp *kmsg.FetchResponse) int16 {
	switch {
	case ctx.create:
		resp.SessionID = fc.create(req, resp)
	case ctx.session != nil:
		fc.mu.Lock()
		defer fc.mu.Unlock()
		resp.SessionID = ctx.session.id
		if ctx.session.epoch != ctx.epoch {
			return kerr.InvalidFetchSessionEpoch.Code
		}
		ctx.session.answer(resp)
	}
	return 0
}

// create makes a session of a full fetch's partitions, with what its
// response told; 0 when the cache is full and nothing may be evicted.
func (fc *fetchSessionCache) create(req *kmsg.FetchRequest, resp *kmsg.FetchResponse) int32 {
	if fc.slots <= 0 {
		return 0
	}
	told := map[checkpoint.TopicPartition]*kmsg.FetchResponseTopicPartition{}
	for ti := range resp.Topics {
		for pi := range resp.Topics[ti].Partitions {
			p := &resp.Topics[ti].Partitions[pi]
			told[checkpoint.TopicPartition{Topic: resp.Topics[ti].Topic, Partition: p.Partition}] = p
		}
	}
	now := fc.now()
	s := &fetchSession{privileged: req.ReplicaID >= 0, created: now, lastUsed: now, epoch: 1,
		index: map[checkpoint.TopicPartition]*sessionPartition{}}
	s.update(req)
	for _, sp := range s.parts {
		if p := told[checkpoint.TopicPartition{Topic: sp.topic, Partition: sp.req.Partition}]; p != nil {
			sp.told(p)
		}
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if len(fc.sessions) >= fc.slots && !fc.evict(s.privileged, len(s.parts), now) {
		return 0
	}
	for s.id == 0 || fc.sessions[s.id] != nil {
		s.id = rand.Int32N(math.MaxInt32-1) + 1
	}
	fc.sessions[s.id] = s
	fc.partitions += len(s.parts)
	return s.id
}

// evict makes room for a new session of size partitions, when a session
// is stale or worth less (see the file comment).
func (fc *fetchSessionCache) evict(privileged bool, size int, now time.Time) bool {
	var lru, victim *fetchSession
	for _, s := range fc.sessions {
		if lru == nil || s.lastUsed.Before(lru.lastUsed) || (s.lastUsed.Equal(lru.lastUsed) && s.id < lru.id) {
			lru = s
		}
		old := now.Sub(s.created) > fc.evictAge
		if !old && !(privileged && !s.privileged) {
			continue
		}
		if victim == nil || sessionValueLess(s.privileged, len(s.parts), s.id, victim.privileged, len(victim.parts), victim.id) {
			victim = s
		}
	}
	switch {
	case lru != nil && now.Sub(lru.lastUsed) > fc.evictAge:
		victim = lru
	case victim == nil || sessionValueLess(privileged, size, 0, victim.privileged, len(victim.parts), victim.id):
		return false
	}
	fc.remove(victim)
	fc.m.fetchSessionEvictions.Inc()
	return true
}

// sessionValueLess orders sessions by Kafka's EvictableKey: a follower's
// above a consumer's, then by partition count, then by id.
func sessionValueLess(aPriv bool, aSize int, aID int32, bPriv bool, bSize int, bID int32) bool {
	if aPriv != bPriv {
		return bPriv
	}
	if aSize != bSize {
		return aSize < bSize
	}
	return aID < bID
}

// remove takes a session out of the cache; fc.mu is held.
func (fc *fetchSessionCache) remove(s *fetchSession) {
	if fc.sessions[s.id] != s {
		return
	}
	delete(fc.sessions, s.id)
	fc.partitions -= len(s.parts)
}

// nextSessionEpoch is the epoch after e (1 after MaxInt32, as Kafka).
func nextSessionEpoch(e int32) int32 {
	if e == math.MaxInt32 {
		return 1
	}
	return e + 1
}

// update applies a request's partitions (added at the end, or their
// fetch parameters replaced in place) and forgotten partitions.
func (s *fetchSession) update(req *kmsg.FetchRequest) {
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			key := checkpoint.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}
			if sp := s.index[key]; sp != nil {
				sp.req = rp
				continue
			}
			sp := &sessionPartition{topic: rt.Topic, req: rp, hw: -1, lso: -1, logStart: -1}
			s.index[key] = sp
			s.parts = append(s.parts, sp)
		}
	}
	forgot := false
	for _, ft := range req.ForgottenTopics {
		for _, p := range ft.Partitions {
			key := checkpoint.TopicPartition{Topic: ft.Topic, Partition: p}
			if sp := s.index[key]; sp != nil {
				delete(s.index, key)
				sp.rotate, forgot = true, true // marked for removal below
			}
		}
	}
	if forgot {
		kept := s.parts[:0]
		for _, sp := range s.parts {
			if !sp.rotate {
				kept = append(kept, sp)
			}
		}
		clear(s.parts[len(kept):])
		s.parts = kept
	}
}

// topics is the session's partitions in order as request topics (a topic
// appears again when its partitions are not next to each other).
func (s *fetchSession) topics() []kmsg.FetchRequestTopic {
	var out []kmsg.FetchRequestTopic
	for _, sp := range s.parts {
		if len(out) == 0 || out[len(out)-1].Topic != sp.topic {
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic = sp.topic
			out = append(out, rt)
		}
		t := &out[len(out)-1]
		t.Partitions = append(t.Partitions, sp.req)
	}
	return out
}

// told records what a response told the client of a partition and
// reports whether the partition must be in an incremental response.
func (sp *sessionPartition) told(p *kmsg.FetchResponseTopicPartition) bool {
	answer := len(p.RecordBatches) > 0 || p.ErrorCode != 0 ||
		p.HighWatermark != sp.hw || p.LastStableOffset != sp.lso || p.LogStartOffset != sp.logStart
	sp.hw, sp.lso, sp.logStart = p.HighWatermark, p.LastStableOffset, p.LogStartOffset
	if p.ErrorCode != 0 {
		sp.hw = -1 // answered again once the error goes
	}
	return answer
}

// answer leaves out of an incremental response the partitions with
// nothing new and moves those whose records it carries to the end of the
// session. A partition with records is never left out, so no file section
// (sendfile.go) is dropped with it.
func (s *fetchSession) answer(resp *kmsg.FetchResponse) {
	rotated := 0
	topics := resp.Topics[:0]
	for _, t := range resp.Topics {
		kept := t.Partitions[:0]
		for i := range t.Partitions {
			p := &t.Partitions[i]
			sp := s.index[checkpoint.TopicPartition{Topic: t.Topic, Partition: p.Partition}]
			if sp == nil { // forgotten by a request meanwhile: answered as read
				kept = append(kept, *p)
				continue
			}
			if !sp.told(p) {
				continue
			}
			if len(p.RecordBatches) > 0 && !sp.rotate {
				sp.rotate = true
				rotated++
			}
			kept = append(kept, *p)
		}
		if len(kept) > 0 {
			t.Partitions = kept
			topics = append(topics, t)
		}
	}
	resp.Topics = topics
	if rotated == 0 {
		return
	}
	order := make([]*sessionPartition, 0, len(s.parts))
	var moved []*sessionPartition
	for _, sp := range s.parts {
		if sp.rotate {
			moved = append(moved, sp)
			sp.rotate = false
		} else {
			order = append(order, sp)
		}
	}
	s.parts = append(order, moved...)
}
