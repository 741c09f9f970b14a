package web

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-zookeeper/zk"

	"mqstack/eagle/internal/alert"
	"mqstack/eagle/internal/health"
	"mqstack/eagle/internal/model"
	"mqstack/proto/kafkazk"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	static := http.FileServerFS(assets)
	mux.Handle("GET /static/", static)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /metrics", s.metrics)
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.auth(RoleViewer, s.logout))
	mux.HandleFunc("GET /account/password", s.auth(RoleViewer, s.passwordPage))
	mux.HandleFunc("POST /account/password", s.auth(RoleViewer, s.changePassword))

	mux.HandleFunc("GET /{$}", s.auth(RoleViewer, s.overview))
	mux.HandleFunc("GET /overview", s.auth(RoleViewer, s.overview))
	mux.HandleFunc("GET /brokers", s.auth(RoleViewer, s.brokers))
	mux.HandleFunc("GET /topics", s.auth(RoleViewer, s.topics))
	mux.HandleFunc("GET /topics/{topic}", s.auth(RoleViewer, s.topic))
	mux.HandleFunc("GET /topics/{topic}/messages", s.auth(RoleViewer, s.messages))
	mux.HandleFunc("GET /groups", s.auth(RoleViewer, s.groups))
	mux.HandleFunc("GET /groups/{group}", s.auth(RoleViewer, s.group))
	mux.HandleFunc("GET /zookeeper", s.auth(RoleViewer, s.zookeeper))
	mux.HandleFunc("GET /zookeeper/tree", s.auth(RoleViewer, s.zkTree))
	mux.HandleFunc("GET /checks", s.auth(RoleViewer, s.checks))
	mux.HandleFunc("GET /history", s.auth(RoleViewer, s.history))
	mux.HandleFunc("GET /alerts", s.auth(RoleViewer, s.alertsPage))
	mux.HandleFunc("GET /audit", s.auth(RoleAdmin, s.auditPage))
	mux.HandleFunc("GET /users", s.auth(RoleAdmin, s.usersPage))

	mux.HandleFunc("POST /topics", s.auth(RoleOperator, s.createTopic))
	mux.HandleFunc("POST /topics/{topic}/partitions", s.auth(RoleOperator, s.addPartitions))
	mux.HandleFunc("POST /topics/{topic}/config", s.auth(RoleOperator, s.alterConfig))
	mux.HandleFunc("POST /topics/{topic}/delete", s.auth(RoleAdmin, s.deleteTopic))
	mux.HandleFunc("POST /topics/{topic}/send", s.auth(RoleOperator, s.sendMessage))
	mux.HandleFunc("POST /brokers/{id}/forget", s.auth(RoleAdmin, s.forgetBroker))
	mux.HandleFunc("POST /groups/{group}/reset", s.auth(RoleOperator, s.resetOffsets))
	mux.HandleFunc("POST /alerts/test", s.auth(RoleOperator, s.testAlert))
	mux.HandleFunc("POST /users", s.auth(RoleAdmin, s.saveUser))
	mux.HandleFunc("POST /users/delete", s.auth(RoleAdmin, s.deleteUser))
	return mux
}

func (s *Server) clusterOf(r *http.Request) *cluster {
	name := r.URL.Query().Get("cluster")
	for _, c := range s.clusters {
		if c.alias == name {
			return c
		}
	}
	if len(s.clusters) > 0 && name == "" {
		return s.clusters[0]
	}
	return nil
}

// clusterOrFail is clusterOf answering 404 for an unknown cluster.
func (s *Server) clusterOrFail(w http.ResponseWriter, r *http.Request) *cluster {
	c := s.clusterOf(r)
	if c == nil {
		s.fail(w, r, http.StatusNotFound, "no cluster "+strconv.Quote(r.URL.Query().Get("cluster"))+" in efak.zk.cluster.alias")
	}
	return c
}

// current returns the cluster's latest pass, or answers 404/503.
func (s *Server) current(w http.ResponseWriter, r *http.Request) (*cluster, view, bool) {
	c := s.clusterOrFail(w, r)
	if c == nil {
		return nil, view{}, false
	}
	v := c.view()
	if v.Snap == nil {
		if wantsJSON(r) {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "cluster " + c.alias + ": first collection pass not finished; retry in a few seconds"})
			return nil, v, false
		}
		w.Header().Set("Refresh", "2")
		s.render(w, r, "error", map[string]any{"Code": 503, "Error": "cluster " + c.alias + ": collecting for the first time, this page reloads by itself"})
		return nil, v, false
	}
	return c, v, true
}

// Health.

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "version": Version, "uptime_seconds": int(time.Since(s.started).Seconds())})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ok, why := s.Ready()
	if ok {
		if err := s.store.Ping(r.Context()); err != nil {
			ok, why = false, "store: "+err.Error()
		}
	}
	out := map[string]any{"ready": ok, "reason": why}
	cl := map[string]string{}
	for _, c := range s.clusters {
		v := c.view()
		if v.Snap != nil {
			cl[c.alias] = v.Verdict.Level
		} else {
			cl[c.alias] = "collecting"
		}
	}
	out["clusters"] = cl
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, out)
}

// Overview.

// Counts are the overview's numbers.
type Counts struct {
	Brokers, BrokersUp, Topics, Partitions, Groups, ZK, ZKUp, UnderReplicated, Offline int
	Controller                                                                         int32
}

// TopicRow is a topic in lists.
type TopicRow struct {
	Name            string  `json:"name"`
	Internal        bool    `json:"internal"`
	Partitions      int     `json:"partitions"`
	Replication     int     `json:"replication"`
	Size            int64   `json:"size"`
	MessagesRate    float64 `json:"messages_rate"`
	Messages        int64   `json:"messages"`
	Spread          float64 `json:"spread_pct"`
	Skew            float64 `json:"skew_pct"`
	LeaderSkew      float64 `json:"leader_skew_pct"`
	PreferredPct    float64 `json:"preferred_leader_pct"`
	UnderReplicated int     `json:"under_replicated"`
	Offline         int     `json:"offline"`
	Error           string  `json:"error,omitempty"`
}

// OverviewView is the overview page.
type OverviewView struct {
	Cluster    string            `json:"cluster"`
	ClusterID  string            `json:"cluster_id"`
	Time       time.Time         `json:"time"`
	TookMs     int64             `json:"collect_ms"`
	Health     health.Verdict    `json:"health"`
	Quorum     health.Quorum     `json:"zookeeper"`
	Counts     Counts            `json:"counts"`
	MessagesIn float64           `json:"messages_in_rate"`
	BytesIn    float64           `json:"bytes_in_rate"`
	BytesOut   float64           `json:"bytes_out_rate"`
	TopBySize  []TopicRow        `json:"top_by_size"`
	TopByRate  []TopicRow        `json:"top_by_rate"`
	Charts     []Chart           `json:"charts"`
	Firing     []alert.Condition `json:"alerts_firing"`
	Errors     []string          `json:"collect_errors"`
	Checks     []health.Check    `json:"cross_checks"`
}

func counts(s *model.Snapshot) Counts {
	c := Counts{Brokers: len(s.Brokers), Topics: len(s.Topics), Groups: len(s.Groups), ZK: len(s.ZK), Controller: s.ZkController}
	for _, b := range s.Brokers {
		if b.Reachable {
			c.BrokersUp++
		}
	}
	for _, z := range s.ZK {
		if z.Up {
			c.ZKUp++
		}
	}
	for _, t := range s.Topics {
		c.Partitions += len(t.Partitions)
		for _, p := range t.Partitions {
			if p.Leader < 0 {
				c.Offline++
			} else if p.UnderReplicated() {
				c.UnderReplicated++
			}
		}
	}
	return c
}

func topicRows(s *model.Snapshot) []TopicRow {
	total := 0
	for _, b := range s.Brokers {
		if b.Registered {
			total++
		}
	}
	out := make([]TopicRow, 0, len(s.Topics))
	for _, t := range s.Topics {
		out = append(out, topicRow(t, total))
	}
	return out
}

func topicRow(t model.Topic, brokers int) TopicRow {
	row := TopicRow{Name: t.Name, Internal: t.Internal, Partitions: len(t.Partitions), Size: t.Size, MessagesRate: t.MessagesRate, Error: t.Error}
	replicas, leaders := map[int32]int{}, map[int32]int{}
	preferred, nrep := 0, 0
	for _, p := range t.Partitions {
		nrep += len(p.Replicas)
		row.Replication = max(row.Replication, len(p.Replicas))
		for _, r := range p.Replicas {
			replicas[r]++
		}
		if p.Leader >= 0 {
			leaders[p.Leader]++
		} else {
			row.Offline++
		}
		if p.PreferredLeader() {
			preferred++
		}
		if p.Leader >= 0 && p.UnderReplicated() {
			row.UnderReplicated++
		}
		if p.End >= 0 && p.Start >= 0 {
			row.Messages += p.End - p.Start
		}
	}
	if brokers > 0 {
		row.Spread = 100 * float64(len(replicas)) / float64(brokers)
	}
	skewed := func(m map[int32]int) float64 {
		if len(m) == 0 {
			return 0
		}
		sum := 0
		for _, n := range m {
			sum += n
		}
		avg := float64(sum) / float64(len(m))
		over := 0
		for _, n := range m {
			if float64(n) > avg {
				over++
			}
		}
		return 100 * float64(over) / float64(len(m))
	}
	row.Skew, row.LeaderSkew = skewed(replicas), skewed(leaders)
	if len(t.Partitions) > 0 {
		row.PreferredPct = 100 * float64(preferred) / float64(len(t.Partitions))
	}
	return row
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	c, v, ok := s.current(w, r)
	if !ok {
		return
	}
	snap := v.Snap
	ov := OverviewView{Cluster: c.alias, ClusterID: snap.ClusterID, Time: snap.Time, TookMs: snap.Took.Milliseconds(), Health: v.Verdict, Quorum: v.Quorum,
		Counts: counts(snap), MessagesIn: snap.MessagesInRate, BytesIn: snap.BytesInRate, BytesOut: snap.BytesOutRate,
		Firing: v.Firing, Errors: snap.Errors, Checks: health.CrossChecks(snap)}
	rows := topicRows(snap)
	bySize := append([]TopicRow(nil), rows...)
	sort.SliceStable(bySize, func(i, j int) bool { return bySize[i].Size > bySize[j].Size })
	ov.TopBySize = bySize[:min(10, len(bySize))]
	byRate := append([]TopicRow(nil), rows...)
	sort.SliceStable(byRate, func(i, j int) bool { return byRate[i].MessagesRate > byRate[j].MessagesRate })
	ov.TopByRate = byRate[:min(10, len(byRate))]
	to := time.Now()
	from := to.Add(-time.Hour)
	ov.Charts = []Chart{
		s.chartOf(r.Context(), c.alias, "Messages in", "rate", from, to, line{"messages/s", SeriesMessagesIn, ""}),
		s.chartOf(r.Context(), c.alias, "Bytes in / out", "bytesrate", from, to, line{"in", SeriesBytesIn, ""}, line{"out", SeriesBytesOut, ""}),
	}
	if snap.BytesInRate < 0 {
		ov.Charts[1].Note = "no broker metrics port: byte rates unknown"
	}
	s.render(w, r, "overview", ov)
}

type line struct{ name, metric, key string }

func (s *Server) chartOf(ctx context.Context, cluster, title, unit string, from, to time.Time, lines ...line) Chart {
	c := Chart{Title: title, Unit: unit, From: from, To: to}
	if !s.cfg.MetricsCharts {
		c.Note = "charts are off (efak.metrics.charts=false)"
		return c
	}
	for _, l := range lines {
		pts, err := s.store.Series(ctx, cluster, l.metric, l.key, from, to, 160)
		if err != nil {
			c.Note = "history: " + err.Error()
		}
		c.Lines = append(c.Lines, ChartLine{Name: l.name, Points: pts})
	}
	return c
}

// Brokers.

// BrokerRow is a broker on the brokers page.
type BrokerRow struct {
	model.Broker
	Controller bool   `json:"controller"`
	Uptime     string `json:"uptime"`
}

func (s *Server) brokers(w http.ResponseWriter, r *http.Request) {
	_, v, ok := s.current(w, r)
	if !ok {
		return
	}
	var rows []BrokerRow
	for _, b := range v.Snap.Brokers {
		row := BrokerRow{Broker: b, Controller: b.ID == v.Snap.ZkController, Uptime: "-"}
		if !b.StartTime.IsZero() {
			row.Uptime = ago(b.StartTime)
		} else if !b.RegisteredAt.IsZero() && b.Registered {
			row.Uptime = ago(b.RegisteredAt) + " (since registration)"
		}
		rows = append(rows, row)
	}
	s.render(w, r, "brokers", map[string]any{"Brokers": rows, "Controller": v.Snap.ZkController})
}

// Topics.

func (s *Server) topics(w http.ResponseWriter, r *http.Request) {
	_, v, ok := s.current(w, r)
	if !ok {
		return
	}
	s.render(w, r, "topics", map[string]any{"Topics": topicRows(v.Snap), "Brokers": len(v.Snap.Brokers)})
}

// PartitionRow is a partition on the topic page.
type PartitionRow struct {
	model.Partition
	Preferred       bool  `json:"preferred_leader"`
	UnderReplicated bool  `json:"under_replicated"`
	Messages        int64 `json:"messages"`
}

// currentTopic is current plus the {topic} of the path (404 when absent).
func (s *Server) currentTopic(w http.ResponseWriter, r *http.Request) (*cluster, model.Topic, bool) {
	c, v, ok := s.current(w, r)
	if !ok {
		return nil, model.Topic{}, false
	}
	name := r.PathValue("topic")
	t, ok := findTopic(v.Snap, name)
	if !ok {
		s.fail(w, r, http.StatusNotFound, "no topic "+strconv.Quote(name)+" in cluster "+c.alias+" (as of the last pass at "+fmtTime(v.Snap.Time)+")")
		return nil, t, false
	}
	return c, t, true
}

func findTopic(s *model.Snapshot, name string) (model.Topic, bool) {
	i := sort.Search(len(s.Topics), func(i int) bool { return s.Topics[i].Name >= name })
	if i < len(s.Topics) && s.Topics[i].Name == name {
		return s.Topics[i], true
	}
	return model.Topic{}, false
}

func (s *Server) topic(w http.ResponseWriter, r *http.Request) {
	c, v, ok := s.current(w, r)
	if !ok {
		return
	}
	name := r.PathValue("topic")
	t, ok := findTopic(v.Snap, name)
	if !ok {
		s.fail(w, r, http.StatusNotFound, "no topic "+strconv.Quote(name)+" in cluster "+c.alias+" (as of the last pass at "+fmtTime(v.Snap.Time)+")")
		return
	}
	var parts []PartitionRow
	for _, p := range t.Partitions {
		pr := PartitionRow{Partition: p, Preferred: p.PreferredLeader(), UnderReplicated: p.UnderReplicated(), Messages: -1}
		if p.End >= 0 && p.Start >= 0 {
			pr.Messages = p.End - p.Start
		}
		parts = append(parts, pr)
	}
	type consumer struct {
		Group  string `json:"group"`
		Status string `json:"status"`
		Lag    int64  `json:"lag"`
	}
	var consumers []consumer
	for _, g := range v.Snap.Groups {
		var lag int64
		found := false
		for _, o := range g.Offsets {
			if o.Topic == name {
				found = true
				if o.Lag > 0 {
					lag += o.Lag
				}
			}
		}
		if found {
			consumers = append(consumers, consumer{g.ID, g.Status, lag})
		}
	}
	cfg, cfgErr := s.topicConfig(c, name)
	total := 0
	for _, b := range v.Snap.Brokers {
		if b.Registered {
			total++
		}
	}
	to := time.Now()
	charts := []Chart{
		s.chartOf(r.Context(), c.alias, "Messages in (24 h)", "rate", to.Add(-24*time.Hour), to, line{name, SeriesTopicRate, name}),
		s.chartOf(r.Context(), c.alias, "Size (24 h)", "bytes", to.Add(-24*time.Hour), to, line{name, SeriesTopicSize, name}),
	}
	s.render(w, r, "topic", map[string]any{"Topic": topicRow(t, total), "Partitions": parts, "Config": cfg, "ConfigError": cfgErr,
		"Consumers": consumers, "Charts": charts, "TokenHint": "efak.topic.token"})
}

// topicConfig reads /config/topics/<t> (the overrides).
func (s *Server) topicConfig(c *cluster, topic string) (map[string]string, string) {
	conn, chroot, err := c.coll.ZK()
	if err != nil {
		return nil, err.Error()
	}
	b, _, err := conn.Get(path.Join("/", chroot, kafkazk.TopicConfigPath(topic)))
	if errors.Is(err, zk.ErrNoNode) {
		return map[string]string{}, ""
	}
	if err != nil {
		return nil, err.Error()
	}
	m, err := kafkazk.DecodeTopicConfig(topic, b)
	if err != nil {
		return nil, err.Error()
	}
	return m, ""
}

// Groups.

// GroupRow is a group in the list.
type GroupRow struct {
	ID          string `json:"group"`
	State       string `json:"state"`
	Members     int    `json:"members"`
	Topics      string `json:"topics"`
	Lag         int64  `json:"lag"`
	Status      string `json:"status"`
	Reason      string `json:"status_reason"`
	Coordinator int32  `json:"coordinator"`
	Error       string `json:"error,omitempty"`
}

func (s *Server) groups(w http.ResponseWriter, r *http.Request) {
	_, v, ok := s.current(w, r)
	if !ok {
		return
	}
	var rows []GroupRow
	for _, g := range v.Snap.Groups {
		set := map[string]bool{}
		for _, o := range g.Offsets {
			set[o.Topic] = true
		}
		var ts []string
		for t := range set {
			ts = append(ts, t)
		}
		sort.Strings(ts)
		rows = append(rows, GroupRow{ID: g.ID, State: g.State, Members: len(g.Members), Topics: strings.Join(ts, ", "),
			Lag: g.LagSum(), Status: g.Status, Reason: g.StatusReason, Coordinator: g.Coordinator, Error: g.Error})
	}
	s.render(w, r, "groups", map[string]any{"Groups": rows})
}

func (s *Server) group(w http.ResponseWriter, r *http.Request) {
	c, v, ok := s.current(w, r)
	if !ok {
		return
	}
	id := r.PathValue("group")
	for _, g := range v.Snap.Groups {
		if g.ID == id {
			set := map[string]bool{}
			for _, o := range g.Offsets {
				set[o.Topic] = true
			}
			var ts []string
			for t := range set {
				ts = append(ts, t)
			}
			sort.Strings(ts)
			to := time.Now()
			ch := s.chartOf(r.Context(), c.alias, "Lag (24 h)", "num", to.Add(-24*time.Hour), to, line{id, SeriesLag, id})
			s.render(w, r, "group", map[string]any{"Group": g, "Lag": g.LagSum(), "Topics": ts, "Chart": ch})
			return
		}
	}
	s.fail(w, r, http.StatusNotFound, "no consumer group "+strconv.Quote(id)+" in cluster "+c.alias)
}

// ZooKeeper.

func (s *Server) zookeeper(w http.ResponseWriter, r *http.Request) {
	c, v, ok := s.current(w, r)
	if !ok {
		return
	}
	to := time.Now()
	var lat, conns []line
	for _, z := range v.Snap.ZK {
		lat = append(lat, line{z.Addr, SeriesZKLatency, z.Addr})
		conns = append(conns, line{z.Addr, SeriesZKConns, z.Addr})
	}
	charts := []Chart{
		s.chartOf(r.Context(), c.alias, "Average latency (1 h)", "ms", to.Add(-time.Hour), to, lat...),
		s.chartOf(r.Context(), c.alias, "Connections (1 h)", "num", to.Add(-time.Hour), to, conns...),
	}
	s.render(w, r, "zookeeper", map[string]any{"Servers": v.Snap.ZK, "Quorum": v.Quorum, "ZkList": c.cfg.ZkList, "Charts": charts, "SessionError": v.Snap.ZKError})
}

// ZNode is the tree browser's view of one znode.
type ZNode struct {
	Path     string   `json:"path"`
	Parent   string   `json:"parent"`
	Children []string `json:"children"`
	Size     int32    `json:"data_length"`
	Version  int32    `json:"version"`
	Ctime    string   `json:"ctime"`
	Mtime    string   `json:"mtime"`
	Owner    string   `json:"ephemeral_owner"`
	Kind     string   `json:"decoded_as"`
	Decoded  string   `json:"decoded"`
	Raw      string   `json:"raw"`
	Chroot   string   `json:"chroot"`
}

func (s *Server) zkTree(w http.ResponseWriter, r *http.Request) {
	c := s.clusterOrFail(w, r)
	if c == nil {
		return
	}
	p := r.URL.Query().Get("path")
	if p == "" {
		p = "/"
	}
	p = path.Clean("/" + p)
	conn, chroot, err := c.coll.ZK()
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, err.Error())
		return
	}
	full := path.Join("/", chroot, p)
	data, st, err := conn.Get(full)
	if errors.Is(err, zk.ErrNoNode) {
		s.fail(w, r, http.StatusNotFound, "no znode "+full)
		return
	}
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, "ZooKeeper get "+full+": "+err.Error())
		return
	}
	kids, _, err := conn.Children(full)
	if err != nil {
		kids = nil
	}
	sort.Strings(kids)
	n := ZNode{Path: p, Parent: path.Dir(p), Children: kids, Size: st.DataLength, Version: st.Version,
		Ctime: fmtTime(time.UnixMilli(st.Ctime)), Mtime: fmtTime(time.UnixMilli(st.Mtime)), Chroot: chroot}
	if st.EphemeralOwner != 0 {
		n.Owner = fmt.Sprintf("0x%x", st.EphemeralOwner)
	}
	n.Kind, n.Decoded = decodeZnode(p, data)
	n.Raw = rawText(data)
	s.render(w, r, "zktree", n)
}

// decodeZnode names and decodes Kafka's znodes.
func decodeZnode(p string, b []byte) (string, string) {
	pretty := func(v any) string {
		out, _ := json.MarshalIndent(v, "", "  ")
		return string(out)
	}
	parts := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case len(b) == 0:
		return "empty", ""
	case p == kafkazk.ControllerPath:
		if id, err := kafkazk.DecodeController(b); err == nil {
			return "Kafka controller", fmt.Sprintf("the controller is broker %d", id)
		}
	case p == kafkazk.ClusterIDPath:
		if id, err := kafkazk.DecodeClusterID(b); err == nil {
			return "Kafka cluster id", id
		}
	case p == kafkazk.ControllerEpochPath:
		return "Kafka controller epoch", string(b)
	case len(parts) == 3 && parts[0] == "brokers" && parts[1] == "ids":
		if id, err := strconv.Atoi(parts[2]); err == nil {
			if bi, err := kafkazk.DecodeBrokerInfo(int32(id), b); err == nil {
				return "Kafka broker registration", pretty(bi)
			}
		}
	case len(parts) == 3 && parts[0] == "brokers" && parts[1] == "topics":
		if a, err := kafkazk.DecodeTopicAssignment(parts[2], b); err == nil {
			return "Kafka topic assignment (partition -> replicas)", pretty(a)
		}
	case len(parts) == 6 && parts[0] == "brokers" && parts[1] == "topics" && parts[5] == "state":
		if st, err := kafkazk.DecodePartitionState(p, b); err == nil {
			return "Kafka partition state (leader, ISR)", pretty(st)
		}
	case len(parts) == 3 && parts[0] == "config" && parts[1] == "topics":
		if m, err := kafkazk.DecodeTopicConfig(parts[2], b); err == nil {
			return "Kafka topic config overrides", pretty(m)
		}
	}
	var v any
	if json.Unmarshal(b, &v) == nil {
		return "JSON", pretty(v)
	}
	if utf8.Valid(b) {
		return "text", string(b)
	}
	return "binary", ""
}

func rawText(b []byte) string {
	if utf8.Valid(b) && !bytes.ContainsRune(b, 0) {
		if len(b) > 64<<10 {
			return string(b[:64<<10]) + "\n... (truncated)"
		}
		return string(b)
	}
	if len(b) > 4096 {
		b = b[:4096]
	}
	return hex.Dump(b)
}

// Cross-checks.

func (s *Server) checks(w http.ResponseWriter, r *http.Request) {
	_, v, ok := s.current(w, r)
	if !ok {
		return
	}
	s.render(w, r, "checks", map[string]any{"Checks": health.CrossChecks(v.Snap), "Time": v.Snap.Time,
		"ZkController": v.Snap.ZkController, "MetaController": v.Snap.MetaController, "PendingDeletes": v.Snap.PendingDeletes,
		"PendingReassign": v.Snap.PendingReassign, "ZKTopics": len(v.Snap.ZKTopics), "MetaTopics": len(v.Snap.Topics)})
}

// History.

var ranges = []struct {
	Name string
	D    time.Duration
}{{"1h", time.Hour}, {"6h", 6 * time.Hour}, {"24h", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}, {"15d", 15 * 24 * time.Hour}}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	c := s.clusterOrFail(w, r)
	if c == nil {
		return
	}
	rg := r.URL.Query().Get("range")
	d := time.Duration(0)
	var names []string
	for _, x := range ranges {
		names = append(names, x.Name)
		if x.Name == rg {
			d = x.D
		}
	}
	if d == 0 {
		if rg != "" {
			s.fail(w, r, http.StatusBadRequest, "range "+strconv.Quote(rg)+": want one of "+strings.Join(names, ", "))
			return
		}
		rg, d = "1h", time.Hour
	}
	to := time.Now()
	from := to.Add(-d)
	var zkLat []line
	if v := c.view(); v.Snap != nil {
		for _, z := range v.Snap.ZK {
			zkLat = append(zkLat, line{z.Addr, SeriesZKLatency, z.Addr})
		}
	}
	charts := []Chart{
		s.chartOf(r.Context(), c.alias, "Messages in", "rate", from, to, line{"messages/s", SeriesMessagesIn, ""}),
		s.chartOf(r.Context(), c.alias, "Bytes in / out", "bytesrate", from, to, line{"in", SeriesBytesIn, ""}, line{"out", SeriesBytesOut, ""}),
		s.chartOf(r.Context(), c.alias, "Consumer lag (all groups)", "num", from, to, line{"lag", SeriesLag, ""}),
		s.chartOf(r.Context(), c.alias, "Brokers up", "num", from, to, line{"brokers", SeriesBrokersUp, ""}),
		s.chartOf(r.Context(), c.alias, "ZooKeeper average latency", "ms", from, to, zkLat...),
	}
	raw, avg, _ := s.store.Count(r.Context())
	s.render(w, r, "history", map[string]any{"Range": rg, "Ranges": names, "Charts": charts, "Retain": s.cfg.RetainDays,
		"RawSamples": raw, "AveragedSamples": avg})
}

// Alerts, audit, users.

func (s *Server) alertsPage(w http.ResponseWriter, r *http.Request) {
	c := s.clusterOf(r)
	var firing []alert.Condition
	if c != nil {
		firing = c.view().Firing
	}
	hist, err := s.store.Alerts(r.Context(), 200)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	var chans []string
	if s.cfg.AlertWebhook != "" {
		chans = append(chans, "webhook "+s.cfg.AlertWebhook)
	}
	if s.cfg.SMTPAddr != "" {
		chans = append(chans, "smtp "+s.cfg.SMTPAddr+" to "+strings.Join(s.cfg.SMTPTo, ","))
	}
	s.render(w, r, "alerts", map[string]any{"Firing": firing, "History": hist, "Channels": chans,
		"Repeat": s.cfg.AlertRepeat.String(), "GroupFor": s.cfg.AlertGroupWarn.String(), "TopicSize": s.cfg.AlertTopicSize})
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	log, err := s.store.AuditLog(r.Context(), 500)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	s.render(w, r, "audit", map[string]any{"Entries": log})
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) {
	us, err := s.store.Users(r.Context())
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	type row struct {
		Name, Role string
		MustChange bool
		Created    time.Time
	}
	var rows []row
	for _, u := range us {
		rows = append(rows, row{u.Name, u.Role, u.MustChange, u.Created})
	}
	s.render(w, r, "users", map[string]any{"Users": rows, "Roles": []string{RoleViewer, RoleOperator, RoleAdmin}})
}
