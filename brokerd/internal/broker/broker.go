// Package broker is brokerd's Kafka protocol server: the listener, one
// goroutine per connection that handles requests in order, the dispatch
// table (one file per API key, NN_name.go), the topic catalog and the
// partition logs (storage/segment).
//
// Cluster metadata lives in ZooKeeper in Kafka's znode layout (package
// coord); the broker reads it as a View and leads the partitions the
// controller gave it. See docs/brokerd.md.
package broker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/config"
	"mqstack/brokerd/internal/coord"
	"mqstack/proto/kafka"
	"mqstack/proto/kafkazk"
	"mqstack/storage/checkpoint"
	"mqstack/storage/segment"
	"mqstack/storage/vfs"
)

// Version is brokerd's version, set by cmd/brokerd from the build.
var Version = "dev"

// Sentinel errors.
var (
	ErrConfig = errors.New("broker: invalid configuration")
	ErrListen = errors.New("broker: cannot listen")
	ErrLogDir = errors.New("broker: log dir")
)

// handler serves one API key. A nil response with a nil error means no
// reply (acks=0 produce).
type handler func(b *Broker, c *conn, h kafka.RequestHeader, req kmsg.Request) (kmsg.Response, error)

type api struct {
	key, min, max int16
	handle        handler
}

// apis is the dispatch table; ApiVersions is built from it.
var apis = []api{
	produceAPI,
	fetchAPI,
	listOffsetsAPI,
	metadataAPI,
	offsetCommitAPI,
	offsetFetchAPI,
	findCoordinatorAPI,
	joinGroupAPI,
	heartbeatAPI,
	leaveGroupAPI,
	syncGroupAPI,
	describeGroupsAPI,
	listGroupsAPI,
	apiVersionsAPI,
	createTopicsAPI,
	deleteTopicsAPI,
	deleteRecordsAPI,
	offsetForLeaderEpochAPI,
	deleteGroupsAPI,
	describeClusterAPI,
	createPartitionsAPI,
	describeConfigsAPI,
	alterConfigsAPI,
	incrementalAlterConfigsAPI,
	initProducerIDAPI,
	describeLogDirsAPI,
	alterReplicaLogDirsAPI,
	offsetDeleteAPI,
	electLeadersAPI,
	alterPartitionReassignmentsAPI,
	listPartitionReassignmentsAPI,
}

// Broker is one brokerd instance.
type Broker struct {
	cfg       config.Config
	base      zerolog.Logger // for storage, which adds its own component
	log       zerolog.Logger
	registry  *kafka.Registry
	handlers  map[int16]handler
	clusterID string

	ln      net.Listener
	host    string        // advertised host
	port    int32         // advertised port
	dir     *segment.Dirs // every log.dirs entry; a partition's log is in one
	coord   *coord.Coordinator
	local   localState
	metrics *metrics
	groups  *groupManager
	fs      vfs.FS // the log dirs' file system: vfs.OS(), or a MemFS in tests
	// dirReady: the log dirs are open and views may be applied.
	dirReady  atomic.Bool
	pids      producerIDs
	producers producerStates
	// metricsPort is the bound /metrics port, 0 when disabled.
	metricsPort int
	appended    *signal
	replicas    *replicaManager
	// fetchSessions are the incremental fetch sessions (fetchsession.go).
	fetchSessions *fetchSessionCache
	// topicSettings holds a map[string]topicSettings, replaced per view.
	topicSettings atomic.Value
	// storageErrAt and storageErrSkipped space the log lines of failed
	// appends (logStorageError).
	storageErrAt, storageErrSkipped atomic.Int64
	// moveHook, set by tests before a move starts, runs before each copy
	// step of a log dir move (34_alter_replica_log_dirs.go).
	moveHook func(checkpoint.TopicPartition)

	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed bool
	wg     sync.WaitGroup
	stop   chan struct{}
}

// New checks the configuration; Start opens the log directories.
func New(cfg config.Config, logger zerolog.Logger) (*Broker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.LogDirs) == 0 {
		return nil, fmt.Errorf("%w: %s: log.dirs names no directory", ErrConfig, cfg.Path)
	}
	b := &Broker{cfg: cfg, base: logger, log: logger.With().Str("component", "broker").Int32("broker_id", cfg.BrokerID).Logger(),
		registry: kafka.NewRegistry(), handlers: map[int16]handler{}, conns: map[*conn]struct{}{},
		appended: newSignal(), stop: make(chan struct{})}
	for _, a := range apis {
		if err := b.registry.Add(kafka.VersionRange{Key: a.key, Min: a.min, Max: a.max}); err != nil {
			return nil, err
		}
		b.handlers[a.key] = a.handle
	}
	b.local.seen = map[string]bool{}
	b.fs = vfs.OS()
	b.pids.next, b.pids.end = 0, -1
	b.metrics = newMetrics()
	b.groups = newGroupManager(b)
	b.replicas = newReplicaManager(b)
	b.fetchSessions = newFetchSessionCache(cfg.MaxIncrementalFetchSessionCacheSlots, b.metrics)
	b.topicSettings.Store(map[string]topicSettings{})
	return b, nil
}

func (b *Broker) segmentConfig(topic string) segment.Config {
	if b.coord == nil {
		return b.segmentConfigFor(coord.View{}, topic)
	}
	return b.segmentConfigFor(b.view(), topic)
}

// Start opens the log dirs, binds the first listener and serves.
func (b *Broker) Start() error {
	meta, err := b.readDirMetas()
	if err != nil {
		return err
	}
	if meta.brokerID >= 0 && b.cfg.BrokerID < 0 {
		b.cfg.BrokerID = meta.brokerID // a generated id kept in meta.properties
		b.setLogger()
	}
	hostname, _ := os.Hostname()
	if err := b.cfg.CheckReachable(lookupHost, hostname); err != nil {
		return err
	}
	l := b.cfg.Listeners[0]
	addr := net.JoinHostPort(l.Host, strconv.Itoa(l.Port))
	b.ln, err = net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%w: listeners=%s in %s: %w (is another broker on that port?)", ErrListen, l, b.cfg.Path, err)
	}
	bound := b.ln.Addr().(*net.TCPAddr)
	b.host, b.port = l.Host, int32(bound.Port)
	if len(b.cfg.AdvertisedListeners) > 0 {
		b.host, b.port = b.cfg.AdvertisedListeners[0].Host, int32(b.cfg.AdvertisedListeners[0].Port)
	}
	if b.host == "" {
		if h, err := os.Hostname(); err == nil && h != "" {
			b.host = h
		} else {
			b.host = "localhost"
		}
	}
	info := kafkazk.BrokerInfo{ListenerSecurityProtocolMap: b.cfg.SecurityProtocolMap, JmxPort: -1,
		Endpoints: []string{fmt.Sprintf("%s://%s", l.Name, net.JoinHostPort(b.host, strconv.Itoa(int(b.port))))},
		Host:      b.host, Port: int(b.port), Timestamp: strconv.FormatInt(time.Now().UnixMilli(), 10)}
	fail := func(err error) error {
		_ = b.ln.Close()
		b.metrics.close()
		if b.coord != nil {
			b.coord.Close()
		}
		if b.dir != nil {
			_ = b.dir.Close()
		}
		return err
	}
	if b.cfg.MetricsPort >= 0 {
		if b.metricsPort, err = b.metrics.serve(b.cfg.MetricsPort); err != nil {
			return fail(err)
		}
		info.MetricsPort = b.metricsPort
	}
	b.coord, b.clusterID, err = coord.Start(coord.Options{Connect: b.cfg.ZookeeperConnect,
		SessionTimeout: time.Duration(b.cfg.ZookeeperSessionTimeout) * time.Millisecond, BrokerID: b.cfg.BrokerID,
		Info: info, Logger: b.base, OnView: b.applyView, ReservedBrokerMaxID: b.cfg.ReservedBrokerMaxID,
		UncleanLeaderElection: b.cfg.UncleanLeaderElection, AutoLeaderRebalance: b.cfg.AutoLeaderRebalanceEnable,
		LeaderImbalanceCheck: time.Duration(b.cfg.LeaderImbalanceCheckSeconds) * time.Second, LeaderImbalancePct: b.cfg.LeaderImbalancePercentage,
		OnBrokerID: func(id int32) { b.cfg.BrokerID = id; b.setLogger() }}, meta.clusterID)
	if errors.Is(err, coord.ErrClusterIDMismatch) {
		return fail(fmt.Errorf("%w (cluster.id in %s; log.dirs in %s)", err, strings.Join(meta.cidFiles, ", "), b.cfg.Path))
	}
	if err != nil {
		return fail(fmt.Errorf("%w (%s)", err, b.cfg.Path))
	}
	// The logs are opened once the topic configs are known (a compacted
	// topic such as __consumer_offsets must reopen compacted); until then
	// views are not applied.
	if _, ok := b.coord.WaitFor(10*time.Second, func(coord.View) bool { return true }); !ok {
		return fail(fmt.Errorf("%w: no view of the cluster from ZooKeeper within 10s (zookeeper.connect=%s)", ErrConfig, b.cfg.ZookeeperConnect))
	}
	opts := make([]segment.DirOptions, len(b.cfg.LogDirs))
	for i, path := range b.cfg.LogDirs {
		opts[i] = segment.DirOptions{FS: b.fs, Path: path, Logger: b.base,
			Clock: func() int64 { return time.Now().UnixMilli() }, Config: b.segmentConfig}
	}
	b.dir, err = segment.OpenDirs(opts)
	if err != nil {
		return fail(fmt.Errorf("%w: %w (log.dirs in %s)", ErrLogDir, err, b.cfg.Path))
	}
	if err := b.writeMissingMetas(meta); err != nil {
		return fail(err)
	}
	for _, tp := range b.dir.Partitions() {
		if l, ok := b.dir.Log(tp); ok {
			b.loadProducerState(tp, l)
		}
	}
	_, applied := b.coord.View()
	b.dirReady.Store(true)
	b.coord.Kick()
	select {
	case <-applied:
	case <-time.After(10 * time.Second):
		return fail(fmt.Errorf("%w: ZooKeeper pass not completed within 10s (zookeeper.connect=%s)", ErrConfig, b.cfg.ZookeeperConnect))
	}
	b.wg.Add(4)
	go b.acceptLoop()
	go b.retentionLoop()
	go func() { defer b.wg.Done(); b.groups.tickLoop(b.stop) }()
	go func() { defer b.wg.Done(); b.replicas.loop(b.stop) }()
	b.log.Info().Str("listener", b.ln.Addr().String()).Str("advertised", net.JoinHostPort(b.host, strconv.Itoa(int(b.port)))).
		Str("cluster_id", b.clusterID).Strs("accepted_unused_keys", b.cfg.ExtraKeys()).Msg("brokerd started")
	return nil
}

// lookupHost resolves a name for the configuration checks, within 3 s.
func lookupHost(host string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return net.DefaultResolver.LookupHost(ctx, host)
}

func (b *Broker) setLogger() {
	b.log = b.base.With().Str("component", "broker").Int32("broker_id", b.cfg.BrokerID).Logger()
}

// BrokerID is this broker's id (generated at Start when broker.id=-1).
func (b *Broker) BrokerID() int32 { return b.cfg.BrokerID }

// MetricsPort is the bound /metrics port, 0 when disabled.
func (b *Broker) MetricsPort() int { return b.metricsPort }

// Addr is the bound listener address.
func (b *Broker) Addr() string { return b.ln.Addr().String() }

// ClusterID is the cluster id from meta.properties.
func (b *Broker) ClusterID() string { return b.clusterID }

// Close stops accepting, closes connections once their current request is
// answered, then flushes and closes the logs, writing the checkpoints and
// the clean shutdown marker.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.mu.Unlock()
	if b.coord != nil && b.dirReady.Load() && b.cfg.ControlledShutdownEnable {
		// Kafka's controlled shutdown: leadership moves to other in-sync
		// replicas while this broker still serves, so producers switch
		// with NOT_LEADER_OR_FOLLOWER instead of timing out.
		b.replicas.controlledShutdown(10 * time.Second)
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.stop)
	conns := make([]*conn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()
	if b.ln != nil {
		_ = b.ln.Close()
	}
	for _, c := range conns {
		c.drain()
	}
	b.appended.notify()
	b.wg.Wait()
	b.replicas.close()
	if b.coord != nil {
		b.coord.Close()
	}
	b.metrics.close()
	if b.dir == nil {
		return nil
	}
	b.snapshotAllProducers()
	if err := b.dir.Close(); err != nil {
		return fmt.Errorf("%w: close: %w", ErrLogDir, err)
	}
	b.log.Info().Int("log_dirs", len(b.cfg.LogDirs)).Msg("brokerd stopped; clean shutdown markers written")
	return nil
}

func (b *Broker) acceptLoop() {
	defer b.wg.Done()
	for {
		nc, err := b.ln.Accept()
		if err != nil {
			select {
			case <-b.stop:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			b.log.Error().Err(err).Msg("accept failed; listener stopped")
			return
		}
		c := &conn{b: b, nc: nc, log: b.log.With().Str("remote", nc.RemoteAddr().String()).Logger()}
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			_ = nc.Close()
			return
		}
		b.conns[c] = struct{}{}
		b.wg.Add(1)
		b.mu.Unlock()
		go c.serve()
	}
}

func (b *Broker) retentionLoop() {
	defer b.wg.Done()
	t := time.NewTicker(time.Duration(b.cfg.LogRetentionCheckMs) * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			now := time.Now().UnixMilli()
			for _, tp := range b.dir.Partitions() {
				l, ok := b.dir.Log(tp)
				if !ok {
					continue
				}
				if n, err := l.DeleteOldSegments(now); err != nil {
					b.log.Warn().Err(err).Str("partition", tp.String()).Msg("retention failed")
				} else if n > 0 {
					b.log.Info().Int("segments", n).Str("partition", tp.String()).Msg("retention deleted segments")
				}
				// Compaction for cleanup.policy=compact (a no-op otherwise).
				if res, err := l.Clean(now); err != nil {
					b.log.Warn().Err(err).Str("partition", tp.String()).Msg("compaction failed")
				} else if res.Segments > 0 {
					b.log.Info().Str("partition", tp.String()).Int("segments", res.Segments).Int("records_removed", res.RecordsRemoved).Msg("compacted")
				}
			}
		}
	}
}

// conn is one client connection; requests are read, handled and answered
// strictly in order.
type conn struct {
	b   *Broker
	nc  net.Conn
	log zerolog.Logger

	mu       sync.Mutex
	busy     bool
	draining bool

	// Zero-copy fetch (sendfile.go): the file sections of the response
	// being built, and the spliced frame to write.
	markerBase []byte
	sections   []fetchSection
	pieces     []piece
}

// drain closes the connection now if idle, or after the current request.
func (c *conn) drain() {
	c.mu.Lock()
	c.draining = true
	busy := c.busy
	c.mu.Unlock()
	if !busy {
		_ = c.nc.Close()
	} else {
		_ = c.nc.SetReadDeadline(time.Now())
	}
}

func (c *conn) setBusy(v bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy = v
	return c.draining
}

func (c *conn) serve() {
	defer c.b.wg.Done()
	defer func() {
		_ = c.nc.Close()
		c.b.mu.Lock()
		delete(c.b.conns, c)
		c.b.mu.Unlock()
	}()
	r := bufio.NewReaderSize(c.nc, 64<<10)
	w := bufio.NewWriterSize(c.nc, 64<<10)
	var buf, out []byte
	for {
		if c.setBusy(false) {
			return
		}
		frame, err := kafka.ReadFrameInto(r, c.b.cfg.SocketRequestMaxBytes, func(n int) []byte { return getFrame(buf, n) })
		if cap(frame) <= smallFrame && frame != nil {
			buf = frame[:0]
		}
		if err != nil {
			putFrame(frame)
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.log.Warn().Err(err).Msg("closing connection")
			}
			return
		}
		if c.setBusy(true) {
			return
		}
		out, err = c.handle(frame, out[:0])
		// Nothing of the request outlives handle (appends copy it into the
		// log), so a large frame's buffer goes back to the pool.
		putFrame(frame)
		if err != nil {
			closeSections(c.sections)
			c.sections, c.pieces = nil, nil
			c.log.Warn().Err(err).Msg("closing connection")
			return
		}
		if c.pieces != nil {
			err := writePieces(w, c.nc, c.pieces, func(n int64) { c.b.metrics.sendfileBytes.Add(float64(n)) })
			closeSections(c.sections)
			c.sections, c.pieces = nil, nil
			if err != nil {
				c.log.Warn().Err(err).Msg("closing connection: writing a fetch response failed")
				return
			}
		} else if len(out) > 0 {
			if _, err := w.Write(out); err != nil {
				return
			}
			if err := w.Flush(); err != nil {
				return
			}
		}
	}
}

// handle decodes one request and returns the encoded response frame
// (empty for no reply). An error closes the connection.
func (c *conn) handle(frame, out []byte) (encoded []byte, err error) {
	defer func() {
		// A handler bug must cost one connection, not the broker.
		if p := recover(); p != nil {
			c.log.Error().Interface("panic", p).Bytes("stack", debug.Stack()).Msg("handler panicked; closing the connection")
			encoded, err = nil, fmt.Errorf("broker: internal error handling a request: %v", p)
		}
	}()
	h, body, err := kafka.ParseRequestHeader(frame)
	if err != nil {
		return nil, err
	}
	if h.APIKey == 18 && !c.b.registry.Supports(18, h.APIVersion) {
		// KIP-511: answer an unknown ApiVersions version with v0 and
		// UNSUPPORTED_VERSION listing what is served.
		resp := kmsg.NewPtrApiVersionsResponse()
		resp.SetVersion(0)
		resp.ErrorCode = 35
		resp.ApiKeys = c.b.registry.APIKeys()
		return kafka.AppendResponse(out, h.CorrelationID, false, resp), nil
	}
	hd, ok := c.b.handlers[h.APIKey]
	if !ok || !c.b.registry.Supports(h.APIKey, h.APIVersion) {
		return nil, fmt.Errorf("broker: %s (key %d) version %d is not served", kmsg.NameForKey(h.APIKey), h.APIKey, h.APIVersion)
	}
	req := kmsg.RequestForKey(h.APIKey)
	req.SetVersion(h.APIVersion)
	if err := req.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("broker: malformed %s v%d body: %w", kmsg.NameForKey(h.APIKey), h.APIVersion, err)
	}
	c.b.metrics.requests.WithLabelValues(kmsg.NameForKey(h.APIKey)).Inc()
	resp, err := hd(c.b, c, h, req)
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return out, nil
	}
	resp.SetVersion(h.APIVersion)
	out = kafka.AppendResponse(out, h.CorrelationID, kafka.ResponseHeaderFlexible(h.APIKey, h.Flexible), resp)
	if len(c.sections) > 0 {
		if c.pieces, err = spliceFrame(out, h.Flexible, c.sections); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// signal wakes waiting fetches when data is appended.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

func (s *signal) notify() {
	s.mu.Lock()
	close(s.ch)
	s.ch = make(chan struct{})
	s.mu.Unlock()
}
