package server

import (
	"bytes"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"mqstack/proto/fourlw"
)

var served4lw = map[string]bool{
	"ruok": true, "stat": true, "srvr": true, "conf": true, "cons": true, "crst": true, "dump": true,
	"envi": true, "mntr": true, "wchs": true, "wchc": true, "wchp": true, "dirs": true, "isro": true,
	"srst": true,
}

func isFourLetterWord(w string) bool {
	if served4lw[w] {
		return true
	}
	for _, k := range fourlw.Words {
		if k == w {
			return true
		}
	}
	return false
}

// serveFourLetterWord answers a four-letter word and closes the connection
// (NIOServerCnxn.checkFourLetterWord).
func (s *Server) serveFourLetterWord(c *conn, word string) {
	var buf bytes.Buffer
	s.stats.received.Add(1)
	switch {
	case !s.cfg4lwAllowed(word):
		fourlw.WriteNotInWhitelist(&buf, word)
	case !served4lw[word]:
		c.log.Warn().Str("word", word).Msg("four-letter word not supported by zkd; closing connection")
	default:
		if !s.do(func() { s.fourLetter(&buf, c, word) }) {
			buf.Reset()
			buf.WriteString(fourlw.NotServing + "\n")
		}
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(s.writeTimeout))
	_, _ = c.nc.Write(buf.Bytes())
	c.log.Info().Str("word", word).Msg("processed four-letter word")
	c.closeNow()
}

func (s *Server) cfg4lwAllowed(word string) bool {
	wl := s.cfg.FourLetterWhitelist
	if wl == nil {
		wl = []string{"srvr"}
	}
	for _, w := range wl {
		if w == "*" || w == word {
			return true
		}
	}
	return false
}

func (s *Server) serverStats() fourlw.ServerStats {
	st := fourlw.ServerStats{
		Version:     Version,
		MinLatency:  max(s.stats.latMin.Load(), 0),
		AvgLatency:  fourlw.RoundLatency(s.stats.latTotal.Load(), s.stats.latCount.Load()),
		MaxLatency:  s.stats.latMax.Load(),
		Received:    s.stats.received.Load(),
		Sent:        s.stats.sent.Load(),
		Connections: int(s.stats.alive.Load()),
		Outstanding: int(s.stats.outstanding.Load()),
		Zxid:        s.tree.LastZxid(),
		Mode:        s.mode(),
		NodeCount:   s.tree.NodeCount(),
	}
	if s.ens != nil && s.ens.leader != nil {
		st.ProposalSizeLast, st.ProposalSizeMin, st.ProposalSizeMax = s.ens.propLast, s.ens.propMin, s.ens.propMax
	}
	return st
}

// connStats lists every open connection; self is the one asking.
func (s *Server) connStats(self *conn) []fourlw.Conn {
	s.connMu.Lock()
	all := make([]*conn, 0, len(s.allConns))
	for _, c := range s.allConns {
		all = append(all, c)
	}
	s.connMu.Unlock()
	out := make([]fourlw.Conn, 0, len(all))
	for _, c := range all {
		fc := fourlw.Conn{Addr: c.remote, InterestOps: 1, Queued: c.queued.Load(), Received: c.received.Load(),
			Sent: c.sent.Load()}
		if c == self {
			fc.InterestOps = 0
			fc.Received = 1
		}
		if c.session != 0 && !c.gone {
			fc.SessionID = c.session
			fc.LastOp = c.lastOp
			if fc.LastOp == "" {
				fc.LastOp = "NA"
			}
			fc.LastCxid = c.lastCxid
			fc.LastZxid = c.lastZxid
			fc.Timeout = c.timeout
			fc.LastResponseTime = c.lastResp
			fc.LastLatency = c.lastLat
			fc.MinLatency = max(c.latMin, 0)
			fc.MaxLatency = c.latMax
			if c.latCount > 0 {
				fc.AvgLatency = float64(c.latTotal) / float64(c.latCount)
			}
			fc.Established = c.establish
		}
		out = append(out, fc)
	}
	return out
}

// fourLetter writes a word's reply; it runs on the owner goroutine.
func (s *Server) fourLetter(w *bytes.Buffer, self *conn, word string) {
	if s.ens != nil && !s.ens.serving.Load() {
		switch word {
		case "ruok", "conf", "envi", "isro", "dirs":
		default:
			// Apache's answer while the peer is LOOKING or syncing.
			w.WriteString(fourlw.NotServing + "\n")
			return
		}
	}
	switch word {
	case "ruok":
		w.WriteString(fourlw.Imok)
	case "isro":
		fourlw.WriteIsro(w, false)
	case "srvr":
		fourlw.WriteSrvr(w, s.serverStats())
	case "stat":
		fourlw.WriteStat(w, s.serverStats(), s.connStats(self))
	case "cons":
		fourlw.WriteCons(w, s.connStats(self))
	case "crst":
		s.resetConnStats()
		w.WriteString(fourlw.ConnStatsReset + "\n")
	case "srst":
		s.resetServerStats()
		w.WriteString(fourlw.ServerStatsReset + "\n")
	case "conf":
		fourlw.WriteConf(w, s.confKV())
		if s.ens != nil {
			fourlw.WriteConfMembership(w, s.cfg.Membership())
		}
	case "dirs":
		fourlw.WriteDirs(w, s.store.dirSize(s.store.snapDir), s.store.dirSize(s.store.logDir))
	case "envi":
		fourlw.WriteEnvi(w, s.environment())
	case "mntr":
		fourlw.WriteMntr(w, s.mntr())
	case "wchs":
		conns, paths, total := s.watchSummary()
		fourlw.WriteWchs(w, conns, paths, total)
	case "wchc":
		fourlw.WriteWchc(w, s.watchesBySession())
	case "wchp":
		fourlw.WriteWchp(w, s.watchersByPath())
	case "dump":
		fourlw.WriteDump(w, s.dump())
	}
}

// resetConnStats is crst: every connection's latency and last-op figures.
func (s *Server) resetConnStats() {
	for _, c := range s.conns {
		c.latMin, c.latMax, c.latTotal, c.latCount, c.lastLat = -1, 0, 0, 0, 0
		c.lastOp, c.lastCxid, c.lastZxid, c.lastResp = "NA", -1, -1, 0
	}
}

// resetServerStats is srst: the server's latency and packet counters.
func (s *Server) resetServerStats() {
	s.stats.latMin.Store(-1)
	s.stats.latMax.Store(0)
	s.stats.latTotal.Store(0)
	s.stats.latCount.Store(0)
	s.stats.received.Store(0)
	s.stats.sent.Store(0)
}

// confKV is conf's body (the bound client port, the directories' sizes).
func (s *Server) confKV() []fourlw.KV {
	port := 0
	if a := s.Addr(); a != nil {
		port = portOf(a.String())
	}
	return s.cfg.ConfKV(port, s.store.dirSize(s.store.snapDir), s.store.dirSize(s.store.logDir))
}

// watchSummary is wchs: watching connections, watched paths, watches.
func (s *Server) watchSummary() (conns, paths, total int) {
	return len(s.tree.Watches.ByWatcher()), s.tree.Watches.PathCount(), s.tree.Watches.Count()
}

// watchesBySession is wchc: each session's watched paths.
func (s *Server) watchesBySession() map[int64][]string {
	bySess := map[int64][]string{}
	for watcher, paths := range s.tree.Watches.ByWatcher() {
		if c := s.conns[watcher]; c != nil {
			bySess[c.session] = append(bySess[c.session], paths...)
		}
	}
	return bySess
}

// watchersByPath is wchp: each watched path's sessions.
func (s *Server) watchersByPath() map[string][]int64 {
	byPath := map[string][]int64{}
	for p, watchers := range s.tree.Watches.ByPath() {
		for _, watcher := range watchers {
			if c := s.conns[watcher]; c != nil {
				byPath[p] = append(byPath[p], c.session)
			}
		}
	}
	return byPath
}

func (s *Server) dump() fourlw.Dump {
	buckets := map[int64][]int64{}
	for _, ss := range s.sessions.All() {
		buckets[ss.ExpireAt] = append(buckets[ss.ExpireAt], ss.ID)
	}
	d := fourlw.Dump{Ephemerals: s.tree.EphemeralsBySession(), HasConnections: true}
	for at, ids := range buckets {
		d.Sessions = append(d.Sessions, fourlw.SessionBucket{Expire: time.UnixMilli(at), Sessions: ids})
	}
	// NIOServerCnxnFactory's connection expiry queue: a connection expires
	// its session timeout after its last packet (the sessionless timeout
	// before the handshake), in buckets of tickTime.
	s.connMu.Lock()
	all := make([]*conn, 0, len(s.allConns))
	for _, c := range s.allConns {
		all = append(all, c)
	}
	s.connMu.Unlock()
	tick := s.tick.Milliseconds()
	byAt := map[int64][]fourlw.DumpConn{}
	for _, c := range all {
		timeout := s.HandshakeTimeout.Milliseconds()
		var sid int64
		if c.session != 0 && !c.gone {
			timeout, sid = int64(c.timeout), c.session
		}
		at := (c.active.Load()+timeout)/tick*tick + tick
		byAt[at] = append(byAt[at], fourlw.DumpConn{Addr: c.remote, SessionID: sid})
	}
	for at, cs := range byAt {
		d.Connections = append(d.Connections, fourlw.ConnBucket{Expire: time.UnixMilli(at), Conns: cs})
	}
	return d
}

func portOf(addr string) int {
	i := strings.LastIndexByte(addr, ':')
	p, _ := strconv.Atoi(addr[i+1:])
	return p
}

func (s *Server) environment() []fourlw.KV {
	wd, _ := os.Getwd()
	osVersion := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		osVersion = strings.TrimSpace(string(b))
	}
	userName, home := os.Getenv("USER"), os.Getenv("HOME")
	if u, err := user.Current(); err == nil {
		userName, home = u.Username, u.HomeDir
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mb := func(b uint64) string { return strconv.FormatUint(b>>20, 10) + "MB" }
	osName := runtime.GOOS
	if osName == "linux" {
		osName = "Linux" // Java's os.name
	}
	return []fourlw.KV{
		{Key: "zookeeper.version", Value: Version},
		{Key: "host.name", Value: hostname()},
		{Key: "java.version", Value: runtime.Version()},
		{Key: "java.vendor", Value: "mqstack (Go)"},
		{Key: "java.home", Value: executableDir()},
		{Key: "java.class.path", Value: ""},
		{Key: "java.library.path", Value: ""},
		{Key: "java.io.tmpdir", Value: os.TempDir()},
		{Key: "java.compiler", Value: "<NA>"},
		{Key: "os.name", Value: osName},
		{Key: "os.arch", Value: runtime.GOARCH},
		{Key: "os.version", Value: osVersion},
		{Key: "user.name", Value: userName},
		{Key: "user.home", Value: home},
		{Key: "user.dir", Value: wd},
		{Key: "os.memory.free", Value: mb(ms.HeapIdle)},
		{Key: "os.memory.max", Value: mb(ms.Sys)},
		{Key: "os.memory.total", Value: mb(ms.HeapSys)},
	}
}

// mntr lists Apache 3.8's mntr keys in its order, up to the per-processor
// histograms zkd has no counterpart for.
func (s *Server) mntr() []fourlw.KV {
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	minResp, maxResp := s.stats.minResp.Load(), s.stats.maxResp.Load()
	if minResp < 0 {
		minResp = -1
	}
	kv := []fourlw.KV{
		{Key: "zk_version", Value: Version},
		{Key: "zk_server_state", Value: s.mode()},
		{Key: "zk_ephemerals_count", Value: i(int64(s.tree.EphemeralCount()))},
		{Key: "zk_num_alive_connections", Value: i(s.stats.alive.Load())},
		{Key: "zk_avg_latency", Value: fourlw.JavaDouble(fourlw.RoundLatency(s.stats.latTotal.Load(), s.stats.latCount.Load()))},
		{Key: "zk_outstanding_requests", Value: i(s.stats.outstanding.Load())},
		{Key: "zk_znode_count", Value: i(int64(s.tree.NodeCount()))},
		{Key: "zk_global_sessions", Value: i(int64(s.sessions.Count()))},
		{Key: "zk_non_mtls_remote_conn_count", Value: "0"},
		{Key: "zk_last_client_response_size", Value: i(s.stats.lastResp.Load())},
		{Key: "zk_packets_sent", Value: i(s.stats.sent.Load())},
		{Key: "zk_packets_received", Value: i(s.stats.received.Load())},
		{Key: "zk_max_client_response_size", Value: i(maxResp)},
		{Key: "zk_connection_drop_probability", Value: "0.0"},
		{Key: "zk_watch_count", Value: i(int64(s.tree.Watches.Count()))},
		{Key: "zk_auth_failed_count", Value: i(s.stats.authFailed.Load())},
		{Key: "zk_min_latency", Value: i(max(s.stats.latMin.Load(), 0))},
		{Key: "zk_max_file_descriptor_count", Value: i(maxFDs())},
		{Key: "zk_approximate_data_size", Value: i(s.tree.ApproximateDataSize())},
		{Key: "zk_open_file_descriptor_count", Value: i(openFDs())},
		{Key: "zk_local_sessions", Value: "0"},
		{Key: "zk_uptime", Value: i(time.Since(s.metrics.started).Milliseconds())},
		{Key: "zk_max_latency", Value: i(s.stats.latMax.Load())},
		{Key: "zk_outstanding_tls_handshake", Value: "0"},
		{Key: "zk_min_client_response_size", Value: i(minResp)},
		{Key: "zk_non_mtls_local_conn_count", Value: "0"},
		{Key: "zk_proposal_count", Value: "0"},
	}
	if s.ens != nil {
		kv = append(kv, fourlw.KV{Key: "zk_peer_state", Value: s.ens.peerState()})
	}
	if s.ens != nil && s.ens.leader != nil {
		followers, observers := 0, 0
		for id := range s.ens.synced {
			if s.ens.verifier.IsObserver(id) {
				observers++
			} else {
				followers++
			}
		}
		kv = append(kv,
			fourlw.KV{Key: "zk_learners", Value: i(int64(len(s.ens.learnerLinks)))},
			fourlw.KV{Key: "zk_synced_followers", Value: i(int64(followers))},
			fourlw.KV{Key: "zk_synced_non_voting_followers", Value: "0"},
			fourlw.KV{Key: "zk_synced_observers", Value: i(int64(observers))},
			fourlw.KV{Key: "zk_pending_syncs", Value: i(int64(len(s.ens.leaderSyncs)))},
			fourlw.KV{Key: "zk_last_proposal_size", Value: i(s.ens.propLast)},
			fourlw.KV{Key: "zk_max_proposal_size", Value: i(s.ens.propMax)},
			fourlw.KV{Key: "zk_min_proposal_size", Value: i(s.ens.propMin)},
		)
	}
	return kv
}

func openFDs() int64 {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return int64(len(ents))
}

// mode is srvr's Mode and mntr's zk_server_state.
func (s *Server) mode() string {
	if s.ens == nil {
		return "standalone"
	}
	return s.ens.mode()
}

// executableDir stands in for java.home in envi: where the running zkd binary is.
func executableDir() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return filepath.Dir(exe)
}
