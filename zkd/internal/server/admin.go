package server

// The AdminServer: Apache ZooKeeper 3.8's HTTP command interface
// (JettyAdminServer and admin.Commands). GET <commandURL> lists the
// commands as links; GET <commandURL>/<name> answers a JSON object with
// Apache's field names plus "command" (the primary name) and "error" (null
// or a message). The 4lw whitelist does not apply here, as in Apache. The
// answers are built from the same data as the four-letter words (fourlw.go),
// on the owner goroutine.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"mqstack/proto/fourlw"
)

// adminResp is a command's JSON object; fields keep their insertion order
// (Apache's LinkedHashMap), "command" and "error" come last.
type adminResp struct {
	keys []string
	vals map[string]any
}

func newAdminResp() *adminResp { return &adminResp{vals: map[string]any{}} }

func (r *adminResp) put(k string, v any) {
	if _, ok := r.vals[k]; !ok {
		r.keys = append(r.keys, k)
	}
	r.vals[k] = v
}

func (r *adminResp) putKV(kv []fourlw.KV, rename func(string) string) {
	for _, e := range kv {
		r.put(rename(e.Key), jsonScalar(e.Value))
	}
}

func (r *adminResp) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range r.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(r.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// javaDouble marshals like Jackson writes a Java double: 0.0, not 0.
type javaDouble float64

func (d javaDouble) MarshalJSON() ([]byte, error) {
	s := strconv.FormatFloat(float64(d), 'f', -1, 64)
	if !strings.ContainsAny(s, ".eEN") {
		s += ".0"
	}
	return []byte(s), nil
}

// jsonScalar turns a 4lw value back into the JSON type Apache's Java value
// has: a long, a double ("0.0") or a string.
func jsonScalar(v string) any {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n
	}
	if strings.Contains(v, ".") {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return javaDouble(f)
		}
	}
	return v
}

// adminCommand is one command: its names (primary first) and whether it
// needs a serving server (Apache's Command.isServerRequired).
type adminCommand struct {
	names          []string
	serverRequired bool
	run            func(s *Server, r *adminResp)
}

// adminCommands are Apache 3.8's commands that zkd serves, by primary name.
var adminCommands = []adminCommand{
	{[]string{"configuration", "conf", "config"}, true, (*Server).adminConf},
	{[]string{"connection_stat_reset", "crst"}, true, func(s *Server, _ *adminResp) { s.resetConnStats() }},
	{[]string{"connections", "cons"}, true, func(s *Server, r *adminResp) {
		r.put("connections", adminConns(s.connStats(nil), false))
		r.put("secure_connections", []any{})
	}},
	{[]string{"dirs"}, true, func(s *Server, r *adminResp) {
		r.put("datadir_size", s.store.dirSize(s.store.snapDir))
		r.put("logdir_size", s.store.dirSize(s.store.logDir))
	}},
	{[]string{"dump"}, true, (*Server).adminDump},
	{[]string{"environment", "env", "envi"}, false, func(s *Server, r *adminResp) {
		for _, e := range s.environment() {
			r.put(e.Key, e.Value)
		}
	}},
	{[]string{"get_trace_mask", "gtmk"}, false, func(_ *Server, r *adminResp) {
		// ZooTrace's default text trace mask; zkd has no request tracing.
		r.put("tracemask", 306)
	}},
	{[]string{"hash"}, true, func(_ *Server, r *adminResp) {
		// zkd keeps no tree digests: Apache's answer with digests disabled.
		r.put("digests", []any{})
	}},
	{[]string{"initial_configuration", "icfg"}, true, func(s *Server, r *adminResp) {
		r.put("initial_configuration", s.cfg.InitialConfig)
	}},
	{[]string{"is_read_only", "isro"}, true, func(_ *Server, r *adminResp) { r.put("read_only", false) }},
	{[]string{"last_snapshot", "lsnp"}, true, func(s *Server, r *adminResp) {
		zxid, at, ok := s.store.lastSnapshot()
		if !ok {
			zxid, at = -1, -1
		}
		r.put("zxid", strconv.FormatUint(uint64(zxid), 16))
		r.put("timestamp", at)
	}},
	{[]string{"leader", "lead"}, true, (*Server).adminLeader},
	{[]string{"monitor", "mntr"}, false, func(s *Server, r *adminResp) {
		r.putKV(s.mntr(), func(k string) string { return strings.TrimPrefix(k, "zk_") })
	}},
	{[]string{"ruok"}, true, func(*Server, *adminResp) {}},
	{[]string{"server_stats", "srvr"}, true, func(s *Server, r *adminResp) { s.adminStats(r) }},
	{[]string{"stat_reset", "srst"}, true, func(s *Server, _ *adminResp) { s.resetServerStats() }},
	{[]string{"stats", "stat"}, true, func(s *Server, r *adminResp) {
		conns := s.connStats(nil)
		s.adminStats(r)
		r.put("connections", adminConns(conns, true))
		r.put("secure_connections", []any{})
	}},
	{[]string{"system_properties", "sysp"}, false, (*Server).adminSystemProperties},
	{[]string{"voting_view"}, true, (*Server).adminVotingView},
	{[]string{"watch_summary", "wchs"}, true, func(s *Server, r *adminResp) {
		conns, paths, total := s.watchSummary()
		r.put("num_connections", conns)
		r.put("num_paths", paths)
		r.put("num_total_watches", total)
	}},
	{[]string{"watches", "wchc"}, true, func(s *Server, r *adminResp) {
		out := map[string][]string{}
		for id, paths := range s.watchesBySession() {
			sort.Strings(paths)
			out[strconv.FormatInt(id, 10)] = paths
		}
		r.put("session_id_to_watched_paths", out)
	}},
	{[]string{"watches_by_path", "wchp"}, true, func(s *Server, r *adminResp) {
		out := map[string][]int64{}
		for p, ids := range s.watchersByPath() {
			sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
			out[p] = ids
		}
		r.put("path_to_session_ids", out)
	}},
	{[]string{"zabstate"}, false, func(s *Server, r *adminResp) {
		voting, state := false, ""
		if en := s.ens; en != nil {
			voting = !en.verifier.IsObserver(en.myID)
			_, state, _ = strings.Cut(en.peerState(), " - ")
		}
		r.put("voting", voting)
		r.put("zabstate", state)
	}},
}

var adminByName = func() map[string]*adminCommand {
	m := map[string]*adminCommand{}
	for i := range adminCommands {
		for _, n := range adminCommands[i].names {
			m[n] = &adminCommands[i]
		}
	}
	return m
}()

// Apache's error texts.
const (
	adminNotServing = "This ZooKeeper instance is not currently serving requests"
	adminUnknown    = "Unknown command: "
)

// adminConns is a connection list as ServerCnxn.getConnectionInfo(brief) has it.
func adminConns(conns []fourlw.Conn, brief bool) []*adminResp {
	out := make([]*adminResp, 0, len(conns))
	for _, c := range conns {
		r := newAdminResp()
		r.put("remote_socket_address", c.Addr)
		r.put("interest_ops", c.InterestOps)
		r.put("outstanding_requests", c.Queued)
		r.put("packets_received", c.Received)
		r.put("packets_sent", c.Sent)
		if !brief {
			r.put("session_id", c.SessionID)
			r.put("last_operation", c.LastOp)
			r.put("established", c.Established)
			r.put("session_timeout", c.Timeout)
			r.put("last_cxid", c.LastCxid)
			r.put("last_zxid", c.LastZxid)
			r.put("last_response_time", c.LastResponseTime)
			r.put("last_latency", c.LastLatency)
			r.put("min_latency", c.MinLatency)
			r.put("avg_latency", int64(c.AvgLatency))
			r.put("max_latency", c.MaxLatency)
		}
		out = append(out, r)
	}
	return out
}

// confJSONKeys maps conf's 4lw keys to the ZooKeeperServerConf map keys
// Apache's configuration command answers with (in its order).
var confJSONKeys = []struct{ fourlw, json string }{
	{"clientPort", "client_port"},
	{"dataDir", "data_dir"},
	{"dataLogDir", "data_log_dir"},
	{"tickTime", "tick_time"},
	{"maxClientCnxns", "max_client_cnxns"},
	{"minSessionTimeout", "min_session_timeout"},
	{"maxSessionTimeout", "max_session_timeout"},
	{"serverId", "server_id"},
	{"clientPortListenBacklog", "client_port_listen_backlog"},
}

func (s *Server) adminConf(r *adminResp) {
	kv := map[string]string{}
	for _, e := range s.confKV() {
		kv[e.Key] = e.Value
	}
	for _, k := range confJSONKeys {
		r.put(k.json, jsonScalar(kv[k.fourlw]))
	}
}

func (s *Server) adminDump(r *adminResp) {
	d := s.dump()
	expiry := map[string][]int64{}
	for _, b := range d.Sessions {
		ids := append([]int64(nil), b.Sessions...)
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		expiry[strconv.FormatInt(b.Expire.UnixMilli(), 10)] = ids
	}
	eph := map[string][]string{}
	for id, paths := range d.Ephemerals {
		paths = append([]string(nil), paths...)
		sort.Strings(paths)
		eph[strconv.FormatInt(id, 10)] = paths
	}
	r.put("expiry_time_to_session_ids", expiry)
	r.put("session_id_to_ephemeral_paths", eph)
}

// adminStats is server_stats (srvr): ZooKeeperServer's ServerStats bean.
func (s *Server) adminStats(r *adminResp) {
	st := s.serverStats()
	buffers := func(last, min, max int64) *adminResp {
		b := newAdminResp()
		b.put("last_buffer_size", last)
		b.put("min_buffer_size", min)
		b.put("max_buffer_size", max)
		return b
	}
	minResp := s.stats.minResp.Load()
	if minResp < 0 {
		minResp = -1
	}
	clientResp := buffers(s.stats.lastResp.Load(), minResp, s.stats.maxResp.Load())
	ss := newAdminResp()
	ss.put("packets_sent", st.Sent)
	ss.put("packets_received", st.Received)
	ss.put("fsync_threshold_exceed_count", 0)
	ss.put("client_response_stats", clientResp)
	ss.put("data_dir_size", s.store.dirSize(s.store.snapDir))
	ss.put("log_dir_size", s.store.dirSize(s.store.logDir))
	ss.put("provider_null", false)
	ss.put("server_state", st.Mode)
	ss.put("last_processed_zxid", st.Zxid)
	ss.put("outstanding_requests", st.Outstanding)
	ss.put("avg_latency", javaDouble(st.AvgLatency))
	ss.put("max_latency", st.MaxLatency)
	ss.put("min_latency", st.MinLatency)
	ss.put("num_alive_client_connections", st.Connections)
	ss.put("uptime", time.Since(s.metrics.started).Milliseconds())
	ss.put("auth_failed_count", s.stats.authFailed.Load())
	ss.put("non_mtlsremote_conn_count", 0)
	ss.put("non_mtlslocal_conn_count", 0)
	r.put("version", st.Version)
	r.put("read_only", false)
	r.put("server_stats", ss)
	r.put("client_response", clientResp)
	if st.Mode == "leader" {
		r.put("proposal_stats", buffers(st.ProposalSizeLast, st.ProposalSizeMin, st.ProposalSizeMax))
	}
	r.put("node_count", st.NodeCount)
}

func (s *Server) adminLeader(r *adminResp) {
	en := s.ens
	if en == nil {
		r.put("error", "server is not initialized")
		return
	}
	id := int64(-1)
	ip := ""
	switch {
	case en.leader != nil:
		id = int64(en.myID)
	case en.learner != nil:
		id = int64(en.leaderID)
	}
	if m, ok := en.members[uint64(id)]; ok && id >= 0 {
		ip, _, _ = net.SplitHostPort(m.QuorumAddr)
	}
	r.put("is_leader", en.leader != nil)
	r.put("leader_id", id)
	r.put("leader_ip", ip)
}

// adminVotingView is voting_view: the voting members as Apache prints a
// QuorumServer, "host:quorumPort:electionPort:participant[;clientHost:clientPort]".
func (s *Server) adminVotingView(r *adminResp) {
	view := map[string]string{}
	if s.ens != nil {
		for _, sv := range s.cfg.Servers {
			if sv.Observer {
				continue
			}
			v := fmt.Sprintf("%s:%d:%d:participant", delimitedHost(sv.Host), sv.QuorumPort, sv.ElectionPort)
			if sv.ClientPort > 0 {
				host := sv.ClientAddress
				if host == "" {
					host = "0.0.0.0"
				}
				v += fmt.Sprintf(";%s:%d", delimitedHost(host), sv.ClientPort)
			}
			view[strconv.FormatInt(sv.ID, 10)] = v
		}
	}
	r.put("current_config", view)
}

func delimitedHost(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

// adminSystemProperties is system_properties for a Go process: the Java
// properties envi already maps (java.*, os.*, user.*), the separators,
// go.* facts about the runtime, sun.java.command as the command line, and
// the unknown zoo.cfg keys as the "zookeeper.<key>" properties Apache makes
// of them. Sorted by name, as Apache sorts.
func (s *Server) adminSystemProperties(r *adminResp) {
	props := map[string]string{
		"file.separator":   string(os.PathSeparator),
		"path.separator":   string(os.PathListSeparator),
		"line.separator":   "\n",
		"go.version":       runtime.Version(),
		"go.compiler":      runtime.Compiler,
		"go.maxprocs":      strconv.Itoa(runtime.GOMAXPROCS(0)),
		"go.numcpu":        strconv.Itoa(runtime.NumCPU()),
		"sun.java.command": strings.Join(os.Args, " "),
	}
	for _, e := range s.environment() {
		switch {
		case e.Key == "zookeeper.version", e.Key == "host.name", e.Key == "java.compiler",
			strings.HasPrefix(e.Key, "os.memory."):
		default:
			props[e.Key] = e.Value
		}
	}
	for _, e := range s.cfg.Extra {
		k := e.Key
		if !strings.HasPrefix(k, "zookeeper.") {
			k = "zookeeper." + k
		}
		props[k] = e.Value
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r.put(k, props[k])
	}
}

// startAdmin binds admin.serverAddress:admin.serverPort unless
// admin.enableServer=false. A port in use fails the start (Apache logs it
// and runs without the AdminServer; see docs/operations.md).
func (s *Server) startAdmin() error {
	if !s.cfg.AdminEnableServer {
		return nil
	}
	host := s.cfg.AdminServerAddress
	if host == "" {
		host = "0.0.0.0"
	}
	addr := net.JoinHostPort(host, strconv.Itoa(s.cfg.AdminServerPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("server: bind AdminServer port %s (admin.serverPort=%d, admin.serverAddress=%s in %s): %w; "+
			"choose a free admin.serverPort or set admin.enableServer=false", addr, s.cfg.AdminServerPort, host, s.cfg.Path, err)
	}
	s.adminLn = ln
	idle := s.cfg.AdminIdleTimeout
	if idle <= 0 {
		idle = 30 * time.Second
	}
	s.adminSrv = &http.Server{Handler: http.HandlerFunc(s.serveAdmin), ReadHeaderTimeout: idle, IdleTimeout: idle}
	go func() {
		if err := s.adminSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn().Err(err).Msg("AdminServer stopped")
		}
	}()
	s.log.Info().Str("addr", ln.Addr().String()).Str("commandURL", s.cfg.AdminCommandURL).Msg("AdminServer serving")
	return nil
}

// AdminAddr is the bound AdminServer address, or nil when disabled.
func (s *Server) AdminAddr() net.Addr {
	if s.adminLn == nil {
		return nil
	}
	return s.adminLn.Addr()
}

func (s *Server) serveAdmin(w http.ResponseWriter, req *http.Request) {
	base := strings.TrimSuffix(s.cfg.AdminCommandURL, "/")
	path := req.URL.Path
	var name string
	switch {
	case path == base || path == base+"/":
	case strings.HasPrefix(path, base+"/"):
		name = path[len(base)+1:]
	default:
		http.NotFound(w, req)
		return
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "HTTP method "+req.Method+" is not supported by this URL", http.StatusMethodNotAllowed)
		return
	}
	if name == "" {
		s.adminIndex(w, base)
		return
	}
	r, status := s.runAdmin(name)
	body, err := json.Marshal(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var out bytes.Buffer
	_ = json.Indent(&out, body, "", "  ")
	out.WriteByte('\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(out.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(out.Bytes())
}

// adminIndex lists the commands' primary names as links, as Apache does.
func (s *Server) adminIndex(w http.ResponseWriter, base string) {
	names := make([]string, 0, len(adminCommands))
	for _, c := range adminCommands {
		names = append(names, c.names[0])
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "<a href=\"%s/%s\">%s</a>\n<br/>\n", html.EscapeString(base), n, n)
	}
	w.Header().Set("Content-Type", "text/html")
	_, _ = w.Write([]byte(b.String()))
}

// runAdmin runs a command on the owner goroutine. Unknown commands answer
// 404 and a command that needs a serving server answers 503 while the peer
// is not serving (Apache 3.8.0 answers both with 200; see docs/operations.md).
func (s *Server) runAdmin(name string) (*adminResp, int) {
	r := newAdminResp()
	cmd := adminByName[name]
	if cmd == nil {
		r.put("command", name)
		r.put("error", adminUnknown+name)
		return r, http.StatusNotFound
	}
	status := http.StatusOK
	ran := s.do(func() {
		if cmd.serverRequired && s.ens != nil && !s.ens.serving.Load() {
			status = http.StatusServiceUnavailable
			return
		}
		cmd.run(s, r)
	})
	if !ran {
		status = http.StatusServiceUnavailable
	}
	if status == http.StatusServiceUnavailable {
		r = newAdminResp()
		r.put("command", cmd.names[0])
		r.put("error", adminNotServing)
		return r, status
	}
	if errVal, ok := r.vals["error"]; ok {
		// A command that reports its own error (leader on a standalone
		// server) has it first in Apache's map, then "command".
		keys := []string{"error"}
		for _, k := range r.keys {
			if k != "error" {
				keys = append(keys, k)
			}
		}
		r.keys = keys
		r.vals["error"] = errVal
		r.put("command", cmd.names[0])
		return r, status
	}
	r.put("command", cmd.names[0])
	r.put("error", nil)
	return r, status
}
