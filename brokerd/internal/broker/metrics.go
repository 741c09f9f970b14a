package broker

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are Kafka's JMX metric names in snake case (as the Prometheus
// JMX exporter renders them), served on metrics.port at /metrics.
type metrics struct {
	reg           *prometheus.Registry
	messagesIn    prometheus.Counter
	bytesIn       prometheus.Counter
	bytesOut      prometheus.Counter
	failedProduce prometheus.Counter
	sendfileBytes prometheus.Counter
	requests      *prometheus.CounterVec
	srv           *http.Server
	ln            net.Listener

	// Fetch sessions (fetchsession.go); the cache registers its gauges.
	incrementalFetches    prometheus.Counter
	fetchSessionEvictions prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.messagesIn = prometheus.NewCounter(prometheus.CounterOpts{Name: "kafka_server_brokertopicmetrics_messagesin_total", Help: "Records appended by produce requests."})
	m.bytesIn = prometheus.NewCounter(prometheus.CounterOpts{Name: "kafka_server_brokertopicmetrics_bytesin_total", Help: "Record batch bytes appended by produce requests."})
	m.bytesOut = prometheus.NewCounter(prometheus.CounterOpts{Name: "kafka_server_brokertopicmetrics_bytesout_total", Help: "Record batch bytes sent to consumers."})
	m.failedProduce = prometheus.NewCounter(prometheus.CounterOpts{Name: "kafka_server_brokertopicmetrics_failedproducerequests_total", Help: "Partition produces answered with an error."})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kafka_network_requestmetrics_requests_total", Help: "Requests handled, by API name."}, []string{"request"})
	m.sendfileBytes = prometheus.NewCounter(prometheus.CounterOpts{Name: "brokerd_fetch_sendfile_bytes_total", Help: "Record batch bytes sent from segment files with sendfile (zero-copy)."})
	m.incrementalFetches = prometheus.NewCounter(prometheus.CounterOpts{Name: "brokerd_fetch_incremental_requests_total", Help: "Incremental fetch requests (KIP-227) taken by a fetch session."})
	m.fetchSessionEvictions = prometheus.NewCounter(prometheus.CounterOpts{Name: "kafka_server_fetchsessioncache_incrementalfetchsessionevictions_total", Help: "Fetch sessions evicted to make room for a new one."})
	m.reg.MustRegister(m.messagesIn, m.bytesIn, m.bytesOut, m.failedProduce, m.sendfileBytes, m.requests, m.incrementalFetches, m.fetchSessionEvictions)
	// The process's memory, CPU, open files and start time (process_*, as
	// the JMX exporter's java process metrics are read by dashboards and by
	// eagle's brokers page), the Go runtime's (go_*), and Kafka's app-info
	// (kafka.server:type=app-info: version and commit id).
	m.reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	version, commit := splitVersion(Version)
	appInfo := prometheus.NewGauge(prometheus.GaugeOpts{Name: "kafka_server_app_info", Help: "Broker software version and commit id (value 1).",
		ConstLabels: prometheus.Labels{"version": version, "commit_id": commit}})
	appInfo.Set(1)
	m.reg.MustRegister(appInfo)
	return m
}

// splitVersion splits the build's version text, "0.1.0 (commit 8bad8ca)",
// into the version and the commit id ("unknown" when it names none).
func splitVersion(v string) (version, commit string) {
	version, rest, ok := strings.Cut(v, " (commit ")
	if !ok {
		return v, "unknown"
	}
	return version, strings.TrimSuffix(rest, ")")
}

// serve starts the /metrics listener on port (0 = any free port).
func (m *metrics) serve(port int) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(port)))
	if err != nil {
		return 0, fmt.Errorf("%w: metrics.port=%d: %w (choose a free port or -1 to disable)", ErrListen, port, err)
	}
	m.ln = ln
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener was closed under us; nothing else to do
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (m *metrics) close() {
	if m.srv != nil {
		_ = m.srv.Close()
	}
}
