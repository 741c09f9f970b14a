// Package server is zkd's ZooKeeper server: the client port (jute frames,
// four-letter words), the owner goroutine that prepares, logs,
// group-commits and applies transactions, session expiry, container
// cleanup, snapshots, Prometheus metrics and the AdminServer (admin.go:
// Apache's HTTP commands as JSON, from the four-letter words' data). With server.N lines it is a
// member of a replicated ensemble (ensemble.go: leader election and ZAB
// through zkd/internal/quorum and the election module; its order rules
// add to the ones below).
//
// Order rules (owner goroutine, one batch at a time):
//  1. every request of a batch is prepared and applied to the tree in
//     arrival order; write txns are appended to the txn log;
//  2. the log is synced (fsync) once for the batch — "persist before reply";
//  3. only then are the batch's replies and watch events queued to the
//     connections, in the order they were produced (so a watch event is
//     always queued before the reply of any later read that shows the change).
//
// Where zkd knowingly differs from Apache ZooKeeper 3.8:
//   - an ensemble (server.N lines) runs fast leader election and ZAB
//     (ensemble.go) between zkd servers only: the peer ports speak
//     proto/peer, not Apache's QuorumPacket, and reconfig is disabled;
//   - TTL nodes are always enabled (Apache needs zookeeper.extendedTypesEnabled);
//   - no SASL mechanism (a SASL packet gets a null token, like an Apache
//     server without JAAS), no read-only mode, no local sessions, quotas
//     are not enforced (Apache's default only warns);
//   - the AdminServer answers an unknown command with 404 and a command
//     that needs a serving server with 503 while the peer is not serving
//     (Apache 3.8.0: 200 with the same JSON), and a taken admin.serverPort
//     fails the start (Apache runs on without its AdminServer);
//   - txn log entries carry no TxnDigest (Apache accepts logs without one);
//   - a standalone check (op 13) outside a multi is answered with the stat
//     (Apache 3.8.0 never answers it); a createSession packet after the
//     handshake is Unimplemented and closes the connection;
//   - back pressure is per connection (1000 requests/replies in flight)
//     instead of Apache's global outstanding limit.
package server

import (
	"errors"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"mqstack/proto/jute"
	"mqstack/storage/vfs"
	"mqstack/zkd/internal/config"
	"mqstack/zkd/internal/tree"
)

// Build identity, set by the Makefile with -ldflags -X (git describe and the
// UTC build time); a plain `go build` reports "dev" and "unknown".
var (
	revision  = "dev"
	buildDate = "unknown"
)

// Version is reported by srvr/stat/mntr, envi and --version, in Apache's
// form "<version>-<revision>, built on <date>".
var Version = "3.8.4-mqstack-" + revision + ", built on " + buildDate

// Sentinel errors.
var (
	ErrConfig  = errors.New("server: invalid config")
	ErrStarted = errors.New("server: already started")
	ErrClosed  = errors.New("server: closed")
)

type eventKind int

const (
	evConnect eventKind = iota
	evRequest
	evClosed
	evFunc
)

type event struct {
	kind    eventKind
	c       *conn
	hdr     jute.RequestHeader
	body    []byte
	connect *jute.ConnectRequest
	at      time.Time
	fn      func()
}

// Server is a standalone zkd.
type Server struct {
	cfg *config.Config
	log zerolog.Logger

	// HandshakeTimeout closes a connection that sends no ConnectRequest in
	// time (Apache's sessionless connection timeout, 10s). Set before Start.
	HandshakeTimeout time.Duration
	// ContainerCheckInterval is how often empty containers and expired TTL
	// nodes are removed (znode.container.checkIntervalMs, default 60s).
	ContainerCheckInterval time.Duration
	// FS holds dataDir and dataLogDir; nil is the real filesystem. Tests set
	// an in-memory FS that can crash. Set before Start.
	FS vfs.FS

	maxBuffer    int
	writeTimeout time.Duration
	tick         time.Duration
	minTimeout   int32
	maxTimeout   int32
	superDigest  string

	ln      net.Listener
	metrics *metrics
	httpSrv *http.Server
	httpLn  net.Listener

	adminSrv *http.Server
	adminLn  net.Listener

	events chan event
	quit   chan struct{}
	wg     sync.WaitGroup
	loopWG sync.WaitGroup

	closeOnce sync.Once
	started   atomic.Bool
	snapping  atomic.Bool

	connMu   sync.Mutex
	connsIP  map[string]int
	allConns map[int64]*conn
	nextConn int64

	// Owned by the loop goroutine.
	tree     *tree.Tree
	sessions *tree.Sessions
	conns    map[int64]*conn // by conn id, only live ones
	bySess   map[int64]*conn
	pending  []pendingOut
	dirty    bool
	store    *store
	txnCount int
	snapAt   int
	rnd      *rand.Rand
	fatal    error

	stats serverStats

	// ens is the ensemble wiring; nil for a standalone server.
	ens *ensemble
}

type pendingOut struct {
	c *conn
	m outMsg
}

type serverStats struct {
	received, sent atomic.Int64
	latMin         atomic.Int64
	latMax         atomic.Int64
	latTotal       atomic.Int64
	latCount       atomic.Int64
	outstanding    atomic.Int64
	alive          atomic.Int64
	// Client response sizes (zk_last/min/max_client_response_size), -1 before the first.
	lastResp, minResp, maxResp atomic.Int64
	authFailed                 atomic.Int64
}

// New validates cfg and prepares a server (nothing is bound until Start).
func New(cfg *config.Config, logger zerolog.Logger) (*Server, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: nil config", ErrConfig)
	}
	c := *cfg
	if c.TickTime <= 0 {
		c.TickTime = 2 * time.Second
	}
	if c.MinSessionTimeout <= 0 {
		c.MinSessionTimeout = 2 * c.TickTime
	}
	if c.MaxSessionTimeout <= 0 {
		c.MaxSessionTimeout = 20 * c.TickTime
	}
	if c.MinSessionTimeout > c.MaxSessionTimeout {
		return nil, fmt.Errorf("%w: minSessionTimeout %v is larger than maxSessionTimeout %v in %s", ErrConfig,
			c.MinSessionTimeout, c.MaxSessionTimeout, c.Path)
	}
	if c.JuteMaxBuffer <= 0 {
		c.JuteMaxBuffer = jute.DefaultMaxBuffer
	}
	if c.SnapCount <= 1 {
		c.SnapCount = 100000
	}
	if c.Distributed() {
		if c.InitLimit <= 0 {
			c.InitLimit = 10
		}
		if c.SyncLimit <= 0 {
			c.SyncLimit = 5
		}
	}
	if c.DataDir == "" {
		return nil, fmt.Errorf("%w: dataDir is not set in %s; add dataDir=/path/to/data", ErrConfig, c.Path)
	}
	if c.DataLogDir == "" {
		c.DataLogDir = c.DataDir
	}
	if c.AutopurgeSnapRetainCount < 3 {
		c.AutopurgeSnapRetainCount = 3
	}
	s := &Server{
		cfg:                    &c,
		log:                    logger.With().Str("component", "zkd.server").Logger(),
		HandshakeTimeout:       10 * time.Second,
		ContainerCheckInterval: 60 * time.Second,
		maxBuffer:              c.JuteMaxBuffer,
		writeTimeout:           30 * time.Second,
		tick:                   c.TickTime,
		minTimeout:             int32(c.MinSessionTimeout / time.Millisecond),
		maxTimeout:             int32(c.MaxSessionTimeout / time.Millisecond),
		superDigest:            c.SuperDigest,
		events:                 make(chan event, 4096),
		quit:                   make(chan struct{}),
		connsIP:                map[string]int{},
		allConns:               map[int64]*conn{},
		conns:                  map[int64]*conn{},
		bySess:                 map[int64]*conn{},
		rnd:                    rand.New(rand.NewSource(time.Now().UnixNano())),
	}
	for _, kv := range c.Extra {
		if kv.Key == "znode.container.checkIntervalMs" {
			if ms, err := strconv.Atoi(kv.Value); err == nil && ms > 0 {
				s.ContainerCheckInterval = time.Duration(ms) * time.Millisecond
			}
		}
	}
	s.stats.latMin.Store(-1)
	s.stats.lastResp.Store(-1)
	s.stats.minResp.Store(-1)
	s.stats.maxResp.Store(-1)
	s.resetSnapTarget()
	return s, nil
}

func (s *Server) resetSnapTarget() {
	half := s.cfg.SnapCount / 2
	if half < 1 {
		half = 1
	}
	s.snapAt = half + s.rnd.Intn(half)
}

// Start recovers the data directory, binds the client port (and the metrics
// port) and starts serving.
func (s *Server) Start() error {
	if !s.started.CompareAndSwap(false, true) {
		return ErrStarted
	}
	now := time.Now().UnixMilli()
	fsys := s.FS
	if fsys == nil {
		fsys = vfs.OS()
	}
	st, t, sessions, err := openStore(fsys, s.cfg, s.log, now)
	if err != nil {
		return err
	}
	s.store, s.tree, s.sessions = st, t, sessions
	addr := net.JoinHostPort(s.cfg.ClientPortAddress, strconv.Itoa(s.cfg.ClientPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = st.close()
		return fmt.Errorf("server: bind clientPort %s (from clientPort/clientPortAddress in %s): %w; choose a free port",
			addr, s.cfg.Path, err)
	}
	s.ln = ln
	if err := s.startMetrics(); err != nil {
		_ = ln.Close()
		_ = st.close()
		return err
	}
	if err := s.startAdmin(); err != nil {
		_ = ln.Close()
		s.closeHTTP()
		_ = st.close()
		return err
	}
	if s.cfg.Distributed() {
		en, err := s.newEnsemble(fsys)
		if err != nil {
			_ = ln.Close()
			s.closeHTTP()
			_ = st.close()
			return err
		}
		s.ens = en
	}
	s.loopWG.Add(1)
	go s.loop()
	s.wg.Add(1)
	go s.acceptLoop()
	if s.ens != nil {
		s.ens.run()
	}
	s.startPprof()
	s.log.Info().Str("client", ln.Addr().String()).Int64("zxid", s.tree.LastZxid()).
		Int("sessions", s.sessions.Count()).Msg("zkd serving")
	return nil
}

// Addr is the bound client address.
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// MetricsAddr is the bound metrics address, or nil when disabled.
func (s *Server) MetricsAddr() net.Addr {
	if s.httpLn == nil {
		return nil
	}
	return s.httpLn.Addr()
}

// Close stops accepting, drains the owner loop, closes connections and the log.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if !s.started.Load() || s.ln == nil {
			// Never started, or Start failed (it released what it opened).
			return
		}
		_ = s.ln.Close()
		if s.ens != nil {
			s.ens.close()
		}
		close(s.quit)
		s.loopWG.Wait()
		if s.ens != nil {
			s.ens.closeLinks()
		}
		// Writers flush what the last batch queued and close their sockets;
		// readers then fail and exit. Force the rest after a grace period.
		done := make(chan struct{})
		go func() { s.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			s.connMu.Lock()
			for _, c := range s.allConns {
				_ = c.nc.Close()
			}
			s.connMu.Unlock()
			<-done
		}
		s.closeHTTP()
		if s.store != nil {
			err = s.store.close()
		}
		s.log.Info().Msg("zkd stopped")
	})
	return err
}

// closeHTTP stops the metrics and AdminServer listeners.
func (s *Server) closeHTTP() {
	if s.httpSrv != nil {
		_ = s.httpSrv.Close()
	}
	if s.adminSrv != nil {
		_ = s.adminSrv.Close()
	}
}

// post hands an event to the owner loop unless the server is closing.
func (s *Server) post(e event) {
	select {
	case s.events <- e:
	case <-s.quit:
	}
}

// do runs fn on the owner goroutine and waits for it (4lw, tests).
func (s *Server) do(fn func()) bool {
	done := make(chan struct{})
	select {
	case s.events <- event{kind: evFunc, fn: func() { fn(); close(done) }}:
	case <-s.quit:
		return false
	}
	select {
	case <-done:
		return true
	case <-s.quit:
		return false
	}
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.quit:
				return
			default:
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn().Err(err).Msg("accept failed")
			time.Sleep(10 * time.Millisecond)
			continue
		}
		ip, _, _ := net.SplitHostPort(nc.RemoteAddr().String())
		s.connMu.Lock()
		if max := s.cfg.MaxClientCnxns; max > 0 && s.connsIP[ip] >= max {
			s.connMu.Unlock()
			s.log.Warn().Str("ip", ip).Int("maxClientCnxns", max).
				Msg("too many connections from this address; closing (raise maxClientCnxns in zoo.cfg)")
			_ = nc.Close()
			continue
		}
		s.connsIP[ip]++
		s.nextConn++
		c := newConn(s, s.nextConn, nc)
		s.allConns[c.id] = c
		s.connMu.Unlock()
		s.stats.alive.Add(1)
		s.wg.Add(2)
		go func() { defer s.wg.Done(); c.reader() }()
		go func() {
			defer s.wg.Done()
			c.writer()
			s.connMu.Lock()
			delete(s.allConns, c.id)
			s.connsIP[c.ip]--
			if s.connsIP[c.ip] <= 0 {
				delete(s.connsIP, c.ip)
			}
			s.connMu.Unlock()
			s.stats.alive.Add(-1)
		}()
	}
}

func (s *Server) nowMs() int64 { return time.Now().UnixMilli() }

// loop is the owner goroutine.
func (s *Server) loop() {
	defer s.loopWG.Done()
	ticker := time.NewTicker(s.tick / 2)
	defer ticker.Stop()
	nextContainer := time.Now().Add(s.ContainerCheckInterval)
	// DatadirCleanupManager schedules the purge at a fixed rate with no
	// initial delay: the first purge runs right after start.
	var nextPurge time.Time
	if s.cfg.AutopurgePurgeInterval > 0 {
		nextPurge = time.Now()
	}
	var zabTick <-chan time.Time
	if s.ens != nil {
		zt := time.NewTicker(s.tick)
		defer zt.Stop()
		zabTick = zt.C
	}
	batch := make([]event, 0, 256)
	for {
		batch = batch[:0]
		select {
		case <-s.quit:
			return
		case e := <-s.events:
			batch = append(batch, e)
		drain:
			for len(batch) < 1000 {
				select {
				case e := <-s.events:
					batch = append(batch, e)
				default:
					break drain
				}
			}
			s.stats.outstanding.Store(int64(len(batch)))
			for _, e := range batch {
				s.stats.outstanding.Add(-1)
				if e.kind == evFunc {
					s.handle(e)
				} else {
					s.handleHeld(e)
				}
			}
			s.stats.outstanding.Store(0)
		case <-zabTick:
			s.ens.tick()
		case now := <-ticker.C:
			mark := len(s.pending)
			if s.ens == nil || (s.ens.leader != nil && s.ens.serving.Load()) {
				s.expireSessions()
				if !now.Before(nextContainer) {
					nextContainer = now.Add(s.ContainerCheckInterval)
					s.checkContainers()
				}
			}
			s.holdSince(mark)
			if !nextPurge.IsZero() && !now.Before(nextPurge) {
				nextPurge = now.Add(time.Duration(s.cfg.AutopurgePurgeInterval) * time.Hour)
				s.purge()
			}
		}
		s.commit()
		if s.fatal != nil {
			s.log.Error().Err(s.fatal).Msg("transaction log failed; zkd stops serving to protect acknowledged data")
			go func() { _ = s.Close() }()
			<-s.quit
			return
		}
	}
}

// commit syncs the log if the batch wrote, then releases replies and events.
// After a log failure (append or fsync) nothing of the batch is released:
// the connections are closed and the loop stops.
func (s *Server) commit() {
	if s.ens != nil && s.fatal == nil {
		s.ens.batchEnd = true
		s.ens.flush()
		s.ens.batchEnd = false
	}
	synced := false
	if s.fatal == nil && s.dirty {
		s.dirty = false
		if err := s.store.sync(); err != nil {
			s.fatal = err
		} else {
			synced = true
		}
	}
	if s.fatal != nil {
		for _, p := range s.pending {
			p.c.queued.Add(-1)
			p.c.closeNow()
		}
		s.pending = s.pending[:0]
		return
	}
	if synced && s.txnCount >= s.snapAt {
		s.txnCount = 0
		s.resetSnapTarget()
		s.startSnapshot()
	}
	// Publish gauges before replies go out, so a client that saw its write
	// acknowledged reads metrics that include it.
	s.metrics.update(s)
	for _, p := range s.pending {
		p.c.enqueue(p.m)
	}
	s.pending = s.pending[:0]
}

// startSnapshot rolls the log and writes a snapshot of a copy of the tree on
// a background goroutine (SyncRequestProcessor: one snapshot at a time, "too
// busy to snap" otherwise). Replies are not held back by it.
func (s *Server) startSnapshot() {
	if err := s.store.log.Roll(); err != nil {
		s.fatal = fmt.Errorf("server: roll txn log before snapshot: %w", err)
		return
	}
	if !s.snapping.CompareAndSwap(false, true) {
		s.log.Warn().Msg("too busy to snap, skipping")
		return
	}
	t := s.tree.Clone()
	sessions := s.sessions.All()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.snapping.Store(false)
		if err := s.store.writeSnapshot(t, sessions); err != nil {
			s.log.Error().Err(err).Msg("snapshot failed; will retry after the next snapCount transactions")
		}
	}()
}

// appendTxn logs a txn of this batch.
func (s *Server) appendTxn(e *jute.TxnEntry) {
	if s.fatal != nil {
		return
	}
	if s.ens != nil {
		if err := s.ens.propose(e); err != nil {
			s.log.Error().Err(err).Msg("cannot propose a txn; leaving the leader role")
			s.ens.endRole(err, true)
		}
		return
	}
	if err := s.store.append(e); err != nil {
		s.fatal = err
		return
	}
	s.dirty = true
	s.txnCount++
}

// send queues a frame for c, released at the end of the batch.
func (s *Server) send(c *conn, buf []byte) {
	if c == nil || c.gone || c.fake {
		return
	}
	s.pending = append(s.pending, pendingOut{c: c, m: outMsg{buf: buf}})
	c.queued.Add(1)
	n := int64(len(buf) - 4)
	s.stats.lastResp.Store(n)
	if m := s.stats.minResp.Load(); m < 0 || n < m {
		s.stats.minResp.Store(n)
	}
	if n > s.stats.maxResp.Load() {
		s.stats.maxResp.Store(n)
	}
}

// sendClose queues a close of c after what is queued before it.
func (s *Server) sendClose(c *conn) {
	if c == nil || c.gone || c.fake {
		return
	}
	s.pending = append(s.pending, pendingOut{c: c, m: outMsg{close: true}})
	c.queued.Add(1)
	s.dropConn(c)
}

// dropConn forgets a connection in the owner's maps and drops its watches.
func (s *Server) dropConn(c *conn) {
	if c.gone {
		return
	}
	c.gone = true
	delete(s.conns, c.id)
	if s.bySess[c.session] == c {
		delete(s.bySess, c.session)
	}
	s.tree.Watches.RemoveWatcher(c.id)
}

// deliver queues watch events to their connections.
func (s *Server) deliver(ds []tree.Delivery) {
	for _, d := range ds {
		c := s.conns[d.Watcher]
		if c == nil || !d.Visible(tree.Auth{IDs: c.auth}) {
			continue // Apache 3.8 ServerCnxn.process: no event without READ on the node
		}
		h := jute.ReplyHeader{Xid: jute.XidNotification, Zxid: -1, Err: 0}
		ev := d.Event
		s.send(c, frame(&h, &ev))
	}
}

func (s *Server) handle(e event) {
	if s.ens != nil && s.ens.parking() && (e.kind == evRequest || e.kind == evConnect) {
		// A learner's ACKEPOCH waits for the outstanding proposals to
		// commit; no new client work starts meanwhile (ensemble.go rule 3).
		s.ens.parked = append(s.ens.parked, func() { s.handleHeld(e) })
		return
	}
	switch e.kind {
	case evFunc:
		e.fn()
	case evClosed:
		if !e.c.gone {
			s.dropConn(e.c)
		}
	case evConnect:
		s.handleConnect(e.c, e.connect)
	case evRequest:
		e.c.inflight.Add(-1)
		if e.c.gone {
			return
		}
		s.handleRequest(e.c, e.hdr, e.body, e.at)
	}
}

// expireSessions closes sessions whose bucket passed (SessionTrackerImpl.run
// then ZooKeeperServer.expire: a logged closeSession that removes ephemerals).
func (s *Server) expireSessions() {
	now := s.nowMs()
	for _, id := range s.sessions.Expired(now) {
		ss := s.sessions.Get(id)
		s.log.Info().Str("session", fmt.Sprintf("0x%x", id)).Int32("timeout", ss.Timeout).
			Msg("expiring session, timeout exceeded")
		s.closeSession(id, 0)
		if c := s.bySess[id]; c != nil {
			s.sendClose(c)
		}
	}
}

// closeSession logs and applies a closeSession txn for id.
func (s *Server) closeSession(id int64, cxid int32) int64 {
	req := &tree.Request{Session: id, Cxid: cxid, Op: jute.OpCloseSession}
	zxid := s.nextZxid()
	e, _ := s.tree.Prepare(req, zxid, s.nowMs())
	s.appendTxn(e)
	s.deliver(s.tree.TakeEvents())
	s.sessions.Remove(id)
	return zxid
}

// checkContainers is ContainerManager.checkContainers.
func (s *Server) checkContainers() {
	for _, p := range s.tree.ExpiredContainers(s.nowMs()) {
		req := &tree.Request{Op: jute.OpDeleteContainer, Body: &jute.PathRequest{Path: p}}
		e, r := s.tree.Prepare(req, s.nextZxid(), s.nowMs())
		s.appendTxn(e)
		s.deliver(s.tree.TakeEvents())
		if r.Err == 0 {
			s.log.Info().Str("path", p).Msg("removed empty container or expired TTL node")
		}
	}
}

func (s *Server) purge() {
	if err := s.store.purge(s.cfg.AutopurgeSnapRetainCount); err != nil {
		s.log.Warn().Err(err).Msg("autopurge failed")
	}
}

// hostname is used by envi.
func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
}
