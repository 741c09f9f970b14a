package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics exports Apache ZooKeeper's Prometheus metric names. Gauges read
// values the owner goroutine publishes after each batch.
type metrics struct {
	reg                        *prometheus.Registry
	updateLatency, readLatency prometheus.Summary
	started                    time.Time

	znodes, watches, ephemerals, sessions, dataSize, lastZxid atomic.Int64
	// Ensemble gauges (Apache's QuorumZooKeeperServer quorum_size and the
	// leader's learners / synced_* / pending_syncs; 0 when not leading).
	learners, syncedFollowers, syncedObservers, pendingSyncs atomic.Int64
}

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), started: time.Now()}
	gauge := func(name, help string, f func() float64) {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
	}
	load := func(a *atomic.Int64) func() float64 { return func() float64 { return float64(a.Load()) } }
	gauge("znode_count", "Number of znodes", load(&m.znodes))
	// Walking every node or watch costs O(tree) and the owner goroutine
	// publishes gauges after every batch of requests (with 40k znodes this
	// walk took two thirds of a leader's CPU under write load): these two
	// are computed on the owner goroutine when scraped instead. A scrape
	// posted after a client saw its write acknowledged still counts it.
	onLoop := func(a *atomic.Int64, f func() int64) func() float64 {
		return func() float64 {
			s.do(func() { a.Store(f()) })
			return float64(a.Load())
		}
	}
	gauge("watch_count", "Number of watches", onLoop(&m.watches, func() int64 { return int64(s.tree.Watches.Count()) }))
	gauge("ephemerals_count", "Number of ephemeral znodes", load(&m.ephemerals))
	gauge("global_sessions", "Number of sessions", load(&m.sessions))
	gauge("approximate_data_size", "Approximate size of znode paths and data in bytes", onLoop(&m.dataSize, func() int64 { return s.tree.ApproximateDataSize() }))
	gauge("last_zxid", "Last processed zxid", load(&m.lastZxid))
	gauge("num_alive_connections", "Number of open client connections", load(&s.stats.alive))
	gauge("outstanding_requests", "Requests being processed", load(&s.stats.outstanding))
	gauge("packets_received", "Packets received", load(&s.stats.received))
	gauge("packets_sent", "Packets sent", load(&s.stats.sent))
	gauge("min_latency", "Minimum request latency in ms", func() float64 {
		if v := s.stats.latMin.Load(); v > 0 {
			return float64(v)
		}
		return 0
	})
	gauge("max_latency", "Maximum request latency in ms", load(&s.stats.latMax))
	gauge("avg_latency", "Average request latency in ms", func() float64 { return s.avgLatency() })
	gauge("uptime", "Uptime in ms", func() float64 { return float64(time.Since(m.started).Milliseconds()) })
	if s.cfg.Distributed() {
		voters := 0
		for _, sv := range s.cfg.Servers {
			if !sv.Observer {
				voters++
			}
		}
		gauge("quorum_size", "Number of voting members of the ensemble", func() float64 { return float64(voters) })
		gauge("learners", "Learners connected to this leader", load(&m.learners))
		gauge("synced_followers", "Followers synced with this leader", load(&m.syncedFollowers))
		gauge("synced_observers", "Observers synced with this leader", load(&m.syncedObservers))
		gauge("pending_syncs", "Learners' syncs waiting at this leader", load(&m.pendingSyncs))
	}
	objectives := map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001}
	m.updateLatency = prometheus.NewSummary(prometheus.SummaryOpts{Name: "updatelatency",
		Help: "Write request latency in ms (Apache's ServerMetrics.UPDATE_LATENCY)", Objectives: objectives})
	m.readLatency = prometheus.NewSummary(prometheus.SummaryOpts{Name: "readlatency",
		Help: "Read request latency in ms (Apache's ServerMetrics.READ_LATENCY)", Objectives: objectives})
	m.reg.MustRegister(m.updateLatency, m.readLatency)
	return m
}

func (m *metrics) update(s *Server) {
	if m == nil {
		return
	}
	m.znodes.Store(int64(s.tree.NodeCount()))
	m.ephemerals.Store(int64(s.tree.EphemeralCount()))
	m.sessions.Store(int64(s.sessions.Count()))
	m.lastZxid.Store(s.tree.LastZxid())
	if en := s.ens; en != nil {
		var learners, followers, observers, syncs int64
		if en.leader != nil {
			learners, syncs = int64(len(en.learnerLinks)), int64(len(en.leaderSyncs))
			for id := range en.synced {
				if en.verifier.IsObserver(id) {
					observers++
				} else {
					followers++
				}
			}
		}
		m.learners.Store(learners)
		m.syncedFollowers.Store(followers)
		m.syncedObservers.Store(observers)
		m.pendingSyncs.Store(syncs)
	}
}

func (s *Server) avgLatency() float64 {
	n := s.stats.latCount.Load()
	if n == 0 {
		return 0
	}
	return float64(s.stats.latTotal.Load()) / float64(n)
}

// startMetrics serves /metrics on metricsProvider.httpPort (-1 disables).
func (s *Server) startMetrics() error {
	s.metrics = newMetrics(s)
	if s.cfg.MetricsHTTPPort < 0 {
		return nil
	}
	host := s.cfg.MetricsHTTPHost
	if host == "" {
		host = "0.0.0.0"
	}
	addr := net.JoinHostPort(host, strconv.Itoa(s.cfg.MetricsHTTPPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("server: bind metrics port %s (metricsProvider.httpPort in %s): %w; choose a free port or -1 to disable",
			addr, s.cfg.Path, err)
	}
	s.httpLn = ln
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	s.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn().Err(err).Msg("metrics server stopped")
		}
	}()
	return nil
}
