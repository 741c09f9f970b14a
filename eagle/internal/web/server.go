// Package web is eagle's HTTP side and its collection loop: one goroutine
// per cluster runs a pass every interval (collect, evaluate group status,
// judge health, record history, step alerts) and publishes the snapshot;
// page handlers read the latest published snapshot and never wait for a
// pass.
package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"mqstack/eagle/internal/alert"
	"mqstack/eagle/internal/collect"
	"mqstack/eagle/internal/config"
	"mqstack/eagle/internal/health"
	"mqstack/eagle/internal/model"
	"mqstack/eagle/internal/status"
	"mqstack/eagle/internal/store"
)

// Version is set by the command (ldflags).
var Version = "dev"

// Server is eagle: the loops and the web UI.
type Server struct {
	cfg      *config.Config
	log      zerolog.Logger
	store    *store.Store
	clusters []*cluster
	channels alert.Channels
	sessions *sessions
	started  time.Time

	ln   net.Listener
	http *http.Server
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	// FirstPassword is the generated admin password ("" when the admin
	// existed or the config set it); the command prints it once.
	FirstPassword string
}

// cluster is one monitored cluster.
type cluster struct {
	alias  string
	cfg    config.Cluster
	coll   *collect.Collector
	window *status.Window
	alerts *alert.Manager

	mu      sync.RWMutex
	snap    *model.Snapshot
	verdict health.Verdict
	quorum  health.Quorum
	passes  int
	firing  []alert.Condition
	kick    chan struct{}
}

// New opens the store and prepares the collectors; nothing listens yet.
func New(cfg *config.Config, log zerolog.Logger) (*Server, error) {
	wd, _ := os.Getwd()
	st, err := store.Open(cfg.DBFile(wd))
	if err != nil {
		return nil, fmt.Errorf("efak.url: %w", err)
	}
	s := &Server{cfg: cfg, log: log.With().Str("component", "eagle").Logger(), store: st, sessions: newSessions(), started: time.Now(),
		channels: alert.Channels{Webhook: cfg.AlertWebhook, SMTPAddr: cfg.SMTPAddr, From: cfg.SMTPFrom, To: cfg.SMTPTo}}
	for _, cl := range cfg.Clusters {
		s.clusters = append(s.clusters, &cluster{
			alias: cl.Alias, cfg: cl, coll: collect.New(cl, cfg.Concurrency, log),
			window: status.NewWindow(10),
			alerts: alert.NewManager(cl.Alias, alert.Rules{Repeat: cfg.AlertRepeat, GroupFor: cfg.AlertGroupWarn}),
			kick:   make(chan struct{}, 1),
		})
	}
	for _, c := range s.clusters {
		seen, err := st.Seen(context.Background(), c.alias)
		if err != nil {
			_ = st.Close()
			return nil, fmt.Errorf("store: %w", err)
		}
		list := make([]collect.Seen, 0, len(seen))
		for _, b := range seen {
			list = append(list, collect.Seen{ID: b.ID, Host: b.Host, Port: b.Port, Last: b.Last})
		}
		c.coll.Remember(list)
	}
	if err := s.ensureAdmin(context.Background()); err != nil {
		_ = st.Close()
		return nil, err
	}
	return s, nil
}

// ensureAdmin creates the first admin when there is no user.
func (s *Server) ensureAdmin(ctx context.Context) error {
	users, err := s.store.Users(ctx)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if len(users) > 0 {
		return nil
	}
	pw, must := s.cfg.AdminPassword, false
	if pw == "" {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		pw, must = base64.RawURLEncoding.EncodeToString(b), true
		s.FirstPassword = pw
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	return s.store.PutUser(ctx, store.User{Name: "admin", Hash: string(h), Role: RoleAdmin, MustChange: must})
}

// Start listens and starts the loops.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.WebAddr())
	if err != nil {
		return fmt.Errorf("%s: efak.webui.port: listen %s: %w (is another eagle or EFAK running? pick another port)", s.cfg.Path, s.cfg.WebAddr(), err)
	}
	s.ln = ln
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error().Err(err).Msg("http server")
		}
	}()
	for _, c := range s.clusters {
		s.wg.Add(1)
		go s.loop(c)
	}
	s.wg.Add(1)
	go s.housekeeping()
	return nil
}

// Addr is the listening address; an unspecified host (all interfaces) is
// given as 127.0.0.1 so the address can be dialled as printed.
func (s *Server) Addr() string {
	a := s.ln.Addr().(*net.TCPAddr)
	if a.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port))
	}
	return a.String()
}

// Close stops the loops, the HTTP server, the collectors and the store.
func (s *Server) Close() error {
	if s.stop != nil {
		s.stop()
	}
	var errs []error
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, s.http.Shutdown(ctx))
		cancel()
	}
	s.wg.Wait()
	for _, c := range s.clusters {
		c.coll.Close()
	}
	errs = append(errs, s.store.Close())
	return errors.Join(errs...)
}

// refresh asks the cluster's loop for a pass now (after a change) and
// waits, up to timeout, until a pass that started after the call is
// published, so the page the user lands on shows the change.
func (s *Server) refresh(c *cluster, timeout time.Duration) {
	start := time.Now()
	select {
	case c.kick <- struct{}{}:
	default:
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if v := c.view(); v.Snap != nil && v.Snap.Time.After(start) {
			return
		}
		select {
		case <-deadline.C:
			return
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (s *Server) loop(c *cluster) {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		s.pass(c)
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		case <-c.kick:
		}
	}
}

// pass runs one collection and publishes it.
func (s *Server) pass(c *cluster) {
	ctx, cancel := context.WithTimeout(s.ctx, 2*s.cfg.Interval+30*time.Second)
	defer cancel()
	snap := c.coll.Collect(ctx)
	c.window.Observe(snap)
	v := health.Evaluate(snap)
	q := health.ZKQuorum(snap.ZK)
	notes := c.alerts.Step(snap.Time, alert.Conditions(snap, v, s.cfg.AlertTopicSize), q.Leader)
	c.mu.Lock()
	c.snap, c.verdict, c.quorum = snap, v, q
	c.passes++
	c.firing = c.alerts.Firing()
	c.mu.Unlock()
	s.log.Debug().Str("cluster", c.alias).Dur("took", snap.Took).Str("health", v.Level).Int("brokers", len(snap.Brokers)).
		Int("topics", len(snap.Topics)).Int("groups", len(snap.Groups)).Msg("pass")
	if snap.ZKError == "" {
		var seen []store.SeenBroker
		for _, b := range c.coll.Known() {
			seen = append(seen, store.SeenBroker{ID: b.ID, Host: b.Host, Port: b.Port, Last: b.Last})
		}
		if err := s.store.SaveSeen(ctx, c.alias, seen); err != nil && s.ctx.Err() == nil {
			s.log.Error().Err(err).Str("cluster", c.alias).Msg("store: brokers seen not written")
		}
	}
	if s.cfg.MetricsCharts {
		if err := s.store.AddSamples(c.alias, snap.Time, samplesOf(snap)); err != nil && s.ctx.Err() == nil {
			s.log.Error().Err(err).Str("cluster", c.alias).Msg("history: samples not written")
		}
	}
	for _, n := range notes {
		s.deliver(n)
	}
}

func (s *Server) deliver(n alert.Notification) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	res := s.channels.Send(ctx, n)
	s.log.Info().Str("cluster", n.Cluster).Str("alert", n.Key).Str("state", n.State).Str("delivery", res).Msg(n.Text)
	_ = s.store.AddAlert(ctx, store.AlertEntry{Time: n.Time, Cluster: n.Cluster, Key: n.Key, Kind: n.Kind, Level: n.Level,
		State: n.State, Text: n.Text, Delivery: res})
}

// housekeeping downsamples and expires history every hour.
func (s *Server) housekeeping() {
	defer s.wg.Done()
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		c, err := s.store.Compact(time.Now(), time.Duration(s.cfg.RetainDays)*24*time.Hour)
		if err != nil {
			if s.ctx.Err() == nil {
				s.log.Error().Err(err).Msg("history compaction")
			}
		} else if c.Deleted+c.Downsampled > 0 {
			s.log.Info().Int64("downsampled", c.Downsampled).Int64("deleted", c.Deleted).Msg("history compacted")
		}
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Series names kept in the history.
const (
	SeriesMessagesIn = "messages_in"
	SeriesBytesIn    = "bytes_in"
	SeriesBytesOut   = "bytes_out"
	SeriesLag        = "group_lag"
	SeriesTopicRate  = "topic_messages_in"
	SeriesTopicSize  = "topic_size"
	SeriesZKLatency  = "zk_avg_latency"
	SeriesZKOutst    = "zk_outstanding"
	SeriesZKConns    = "zk_connections"
	SeriesZKNodes    = "zk_znodes"
	SeriesBrokersUp  = "brokers_up"
)

func samplesOf(s *model.Snapshot) []store.Sample {
	var out []store.Sample
	add := func(m, k string, v float64) { out = append(out, store.Sample{Metric: m, Key: k, Value: v}) }
	if s.MessagesInRate >= 0 {
		add(SeriesMessagesIn, "", s.MessagesInRate)
	}
	if s.BytesInRate >= 0 {
		add(SeriesBytesIn, "", s.BytesInRate)
		add(SeriesBytesOut, "", s.BytesOutRate)
	}
	up := 0
	for _, b := range s.Brokers {
		if b.Reachable {
			up++
		}
	}
	add(SeriesBrokersUp, "", float64(up))
	var lag int64
	for _, g := range s.Groups {
		lag += g.LagSum()
		add(SeriesLag, g.ID, float64(g.LagSum()))
	}
	add(SeriesLag, "", float64(lag))
	for _, t := range s.Topics {
		if t.Size >= 0 {
			add(SeriesTopicSize, t.Name, float64(t.Size))
		}
		add(SeriesTopicRate, t.Name, t.MessagesRate)
	}
	for _, z := range s.ZK {
		if z.Srvr != nil {
			add(SeriesZKLatency, z.Addr, z.Srvr.AvgLatency)
			add(SeriesZKOutst, z.Addr, float64(z.Srvr.Outstanding))
			add(SeriesZKConns, z.Addr, float64(z.Srvr.Connections))
			add(SeriesZKNodes, z.Addr, float64(z.Srvr.NodeCount))
		}
	}
	return out
}

// view is a consistent read of a cluster's latest pass.
type view struct {
	Alias   string
	Snap    *model.Snapshot
	Verdict health.Verdict
	Quorum  health.Quorum
	Passes  int
	Firing  []alert.Condition
}

func (c *cluster) view() view {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return view{Alias: c.alias, Snap: c.snap, Verdict: c.verdict, Quorum: c.quorum, Passes: c.passes, Firing: c.firing}
}

// Ready reports whether every cluster finished a pass.
func (s *Server) Ready() (bool, string) {
	for _, c := range s.clusters {
		if c.view().Passes == 0 {
			return false, fmt.Sprintf("cluster %s: first collection pass not finished", c.alias)
		}
	}
	return true, "ready"
}
