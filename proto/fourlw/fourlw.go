// Package fourlw formats and parses ZooKeeper 3.8's four-letter-word replies
// (ruok, srvr, stat, cons, conf, envi, mntr, wchs, wchc, wchp, dump, dirs,
// isro, crst, srst) byte for byte as Apache ZooKeeper 3.8 prints them.
//
// It does no I/O of its own: writers append to the io.Writer the caller
// gives (a *bytes.Buffer in zkd), parsers take the reply as a string. zkd
// uses the writers; the dashboard (eagle) uses the parsers on replies from
// zkd or from Apache ZooKeeper.
//
// The formats come from Apache's command classes: StatCommand (srvr, stat),
// ServerStats.toString, ServerCnxn.dumpConnectionInfo (cons, stat),
// ZooKeeperServer.dumpConf and its quorum overrides (conf), EnvCommand,
// MonitorCommand (mntr), WatchCommand and WatchManager.dumpWatches (wchs,
// wchc, wchp), DumpCommand with ExpiryQueue.dump and DataTree.dumpEphemerals
// (dump), DirsCommand (dirs) and IsroCommand (isro).
package fourlw

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Words lists every four-letter word zkd knows, in Apache's order.
var Words = []string{
	"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash", "isro",
	"mntr", "ruok", "srst", "srvr", "stat", "stmk", "wchc", "wchp", "wchs",
}

// Fixed replies.
const (
	// NotInWhitelist follows "<cmd> " in the reply to a word that
	// 4lw.commands.whitelist does not allow (Apache's NopCommand adds a newline).
	NotInWhitelist = "is not executed because it is not in the whitelist."
	// NotServing is the reply of most words while the server is not running
	// (leader election in progress, shutting down).
	NotServing = "This ZooKeeper instance is not currently serving requests"
	// Imok is ruok's reply (no newline).
	Imok = "imok"
	// ConnStatsReset is crst's reply.
	ConnStatsReset = "Connection stats reset."
	// ServerStatsReset is srst's reply.
	ServerStatsReset = "Server stats reset."
	// ReadOnlyBanner is printed by srvr and stat after the version line on a
	// read-only server.
	ReadOnlyBanner = "READ-ONLY mode; serving only read-only clients"
)

// KV is a key and value in output order.
type KV struct{ Key, Value string }

// Conn is one client connection as cons (full) and stat (brief) print it.
type Conn struct {
	Addr string // "127.0.0.1:53422", printed as "/127.0.0.1:53422"
	// InterestOps is the NIO selector interest set printed in brackets: 1
	// (OP_READ) for a client connection waiting for requests, 0 for the
	// connection that is asking the four-letter word.
	InterestOps            int
	Queued, Received, Sent int64
	SessionID              int64 // 0: no session yet (the session fields are not printed)
	LastOp                 string
	LastCxid               int64 // negative: not printed
	LastZxid               int64
	Timeout                int32 // session timeout, ms
	// LastResponseTime is Apache's Time.currentElapsedTime() of the last
	// response: milliseconds on a monotonic clock, not since the epoch.
	LastResponseTime                    int64
	LastLatency, MinLatency, MaxLatency int64
	AvgLatency                          float64 // printed truncated to an integer, as Apache's long
	Established                         int64   // ms since epoch
}

// ServerStats is the srvr / stat body (and the source of several mntr keys).
type ServerStats struct {
	Version     string // printed after "Zookeeper version: "
	ReadOnly    bool   // prints ReadOnlyBanner after the version
	MinLatency  int64
	AvgLatency  float64 // Apache rounds it to 4 decimals and prints a Java double
	MaxLatency  int64
	Received    int64
	Sent        int64
	Connections int
	Outstanding int
	Zxid        int64
	Mode        string // standalone|leader|follower|observer|read-only
	NodeCount   int
	// Proposal sizes, printed as "Proposal sizes last/min/max: a/b/c" when
	// Mode is "leader" (-1 before the first proposal).
	ProposalSizeLast, ProposalSizeMin, ProposalSizeMax int64
}

func writeServerStats(w io.Writer, s ServerStats) {
	fmt.Fprintf(w, "Latency min/avg/max: %d/%s/%d\n", s.MinLatency, JavaDouble(s.AvgLatency), s.MaxLatency)
	fmt.Fprintf(w, "Received: %d\n", s.Received)
	fmt.Fprintf(w, "Sent: %d\n", s.Sent)
	fmt.Fprintf(w, "Connections: %d\n", s.Connections)
	fmt.Fprintf(w, "Outstanding: %d\n", s.Outstanding)
	fmt.Fprintf(w, "Zxid: 0x%x\n", uint64(s.Zxid))
	fmt.Fprintf(w, "Mode: %s\n", s.Mode)
	fmt.Fprintf(w, "Node count: %d\n", s.NodeCount)
	if s.Mode == "leader" {
		fmt.Fprintf(w, "Proposal sizes last/min/max: %d/%d/%d\n", s.ProposalSizeLast, s.ProposalSizeMin, s.ProposalSizeMax)
	}
}

func writeVersion(w io.Writer, s ServerStats) {
	fmt.Fprintf(w, "Zookeeper version: %s\n", s.Version)
	if s.ReadOnly {
		fmt.Fprintf(w, "%s\n", ReadOnlyBanner)
	}
}

// WriteSrvr writes the srvr reply.
func WriteSrvr(w io.Writer, s ServerStats) {
	writeVersion(w, s)
	writeServerStats(w, s)
}

// WriteStat writes the stat reply: srvr plus a brief line per connection.
func WriteStat(w io.Writer, s ServerStats, conns []Conn) {
	writeVersion(w, s)
	io.WriteString(w, "Clients:\n")
	for _, c := range conns {
		writeConn(w, c, true)
		io.WriteString(w, "\n")
	}
	io.WriteString(w, "\n")
	writeServerStats(w, s)
}

// WriteCons writes the cons reply: a full line per connection and a blank line.
func WriteCons(w io.Writer, conns []Conn) {
	for _, c := range conns {
		writeConn(w, c, false)
		io.WriteString(w, "\n")
	}
	io.WriteString(w, "\n")
}

func writeConn(w io.Writer, c Conn, brief bool) {
	ops := "0"
	if c.InterestOps != 0 {
		ops = strconv.FormatUint(uint64(uint32(c.InterestOps)), 16)
	}
	fmt.Fprintf(w, " /%s[%s](queued=%d,recved=%d,sent=%d", c.Addr, ops, c.Queued, c.Received, c.Sent)
	if !brief && c.SessionID != 0 {
		fmt.Fprintf(w, ",sid=0x%x,lop=%s,est=%d,to=%d", uint64(c.SessionID), c.LastOp, c.Established, c.Timeout)
		if c.LastCxid >= 0 {
			fmt.Fprintf(w, ",lcxid=0x%x", c.LastCxid)
		}
		fmt.Fprintf(w, ",lzxid=0x%x,lresp=%d,llat=%d,minlat=%d,avglat=%d,maxlat=%d",
			uint64(c.LastZxid), c.LastResponseTime, c.LastLatency, c.MinLatency, int64(c.AvgLatency), c.MaxLatency)
	}
	io.WriteString(w, ")")
}

// WriteMntr writes mntr lines "key\tvalue" in the given order. Keys carry
// their "zk_" prefix.
func WriteMntr(w io.Writer, kv []KV) {
	for _, e := range kv {
		fmt.Fprintf(w, "%s\t%s\n", e.Key, e.Value)
	}
}

// WriteConf writes conf lines "key=value".
func WriteConf(w io.Writer, kv []KV) {
	for _, e := range kv {
		fmt.Fprintf(w, "%s=%s\n", e.Key, e.Value)
	}
}

// WriteConfMembership appends what a quorum leader adds to conf: the line
// "membership: " and its quorum verifier text ("server.N=...\n" lines then
// "version=<hex>", without a final newline, as Apache prints it).
func WriteConfMembership(w io.Writer, membership string) {
	io.WriteString(w, "membership: \n")
	io.WriteString(w, membership)
}

// WriteEnvi writes the envi reply: "Environment:" then "key=value" lines.
func WriteEnvi(w io.Writer, kv []KV) {
	io.WriteString(w, "Environment:\n")
	WriteConf(w, kv)
}

// WriteWchs writes the wchs reply.
func WriteWchs(w io.Writer, conns, paths, total int) {
	fmt.Fprintf(w, "%d connections watching %d paths\nTotal watches:%d\n", conns, paths, total)
}

// WriteWchc writes the wchc reply: each session (ascending) with its watched
// paths (sorted), then a blank line.
func WriteWchc(w io.Writer, bySession map[int64][]string) {
	ids := make([]int64, 0, len(bySession))
	for id := range bySession {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		fmt.Fprintf(w, "0x%x\n", uint64(id))
		paths := append([]string(nil), bySession[id]...)
		sort.Strings(paths)
		for _, p := range paths {
			fmt.Fprintf(w, "\t%s\n", p)
		}
	}
	io.WriteString(w, "\n")
}

// WriteWchp writes the wchp reply: each path (sorted) with the sessions
// watching it (ascending), then a blank line.
func WriteWchp(w io.Writer, byPath map[string][]int64) {
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintf(w, "%s\n", p)
		ids := append([]int64(nil), byPath[p]...)
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		for _, id := range ids {
			fmt.Fprintf(w, "\t0x%x\n", uint64(id))
		}
	}
	io.WriteString(w, "\n")
}

// SessionBucket is one expiry bucket of the session tracker: the sessions
// that expire at Expire unless they are touched first.
type SessionBucket struct {
	Expire   time.Time
	Sessions []int64
}

// DumpConn is a connection in the connection expiry queue of dump.
type DumpConn struct {
	Addr      string // printed as "/addr"
	SessionID int64
}

// ConnBucket is one expiry bucket of the connection expiry queue.
type ConnBucket struct {
	Expire time.Time
	Conns  []DumpConn
}

// Dump is what the dump word prints for a standalone server.
type Dump struct {
	Sessions   []SessionBucket    // sorted by Expire when written
	Ephemerals map[int64][]string // session -> its ephemeral paths
	// Connections is the NIO connection expiry queue. Apache prints the
	// "Connections Sets" section only for its NIO factory; nil Connections
	// with HasConnections false prints the header alone, like Netty.
	Connections    []ConnBucket
	HasConnections bool
}

// JavaDateLayout is java.util.Date.toString(): "Sat Nov 21 12:00:00 UTC 2026".
const JavaDateLayout = "Mon Jan 02 15:04:05 MST 2006"

// WriteDump writes the dump reply. Times print in their own location.
func WriteDump(w io.Writer, d Dump) {
	io.WriteString(w, "SessionTracker dump:\n")
	buckets := append([]SessionBucket(nil), d.Sessions...)
	sort.SliceStable(buckets, func(i, j int) bool { return buckets[i].Expire.Before(buckets[j].Expire) })
	total := 0
	for _, b := range buckets {
		total += len(b.Sessions)
	}
	fmt.Fprintf(w, "Session Sets (%d)/(%d):\n", len(buckets), total)
	for _, b := range buckets {
		fmt.Fprintf(w, "%d expire at %s:\n", len(b.Sessions), b.Expire.Format(JavaDateLayout))
		for _, id := range b.Sessions {
			fmt.Fprintf(w, "\t0x%x\n", uint64(id))
		}
	}
	io.WriteString(w, "ephemeral nodes dump:\n")
	ids := make([]int64, 0, len(d.Ephemerals))
	for id := range d.Ephemerals {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	fmt.Fprintf(w, "Sessions with Ephemerals (%d):\n", len(ids))
	for _, id := range ids {
		fmt.Fprintf(w, "0x%x:\n", uint64(id))
		paths := append([]string(nil), d.Ephemerals[id]...)
		sort.Strings(paths)
		for _, p := range paths {
			fmt.Fprintf(w, "\t%s\n", p)
		}
	}
	io.WriteString(w, "Connections dump:\n")
	if !d.HasConnections && d.Connections == nil {
		return
	}
	cb := append([]ConnBucket(nil), d.Connections...)
	sort.SliceStable(cb, func(i, j int) bool { return cb[i].Expire.Before(cb[j].Expire) })
	total = 0
	for _, b := range cb {
		total += len(b.Conns)
	}
	fmt.Fprintf(w, "Connections Sets (%d)/(%d):\n", len(cb), total)
	for _, b := range cb {
		fmt.Fprintf(w, "%d expire at %s:\n", len(b.Conns), b.Expire.Format(JavaDateLayout))
		for _, c := range b.Conns {
			fmt.Fprintf(w, "\tip: /%s sessionId: 0x%x\n", c.Addr, uint64(c.SessionID))
		}
	}
}

// WriteDirs writes the dirs reply.
func WriteDirs(w io.Writer, dataDirSize, dataLogSize int64) {
	fmt.Fprintf(w, "datadir_size: %d\nlogdir_size: %d\n", dataDirSize, dataLogSize)
}

// WriteIsro writes the isro reply: "ro" or "rw", no newline.
func WriteIsro(w io.Writer, readOnly bool) {
	if readOnly {
		io.WriteString(w, "ro")
		return
	}
	io.WriteString(w, "rw")
}

// WriteNotInWhitelist writes the reply to a word that is not whitelisted.
func WriteNotInWhitelist(w io.Writer, cmd string) {
	fmt.Fprintf(w, "%s %s\n", cmd, NotInWhitelist)
}

// RoundLatency rounds an average latency to 4 decimals as Apache's
// ServerStats.getAvgLatency does before printing it.
func RoundLatency(total, count int64) float64 {
	if count == 0 {
		return 0
	}
	return math.Round(float64(total)*10000/float64(count)) / 10000
}

// JavaDouble formats f as Java's Double.toString does for the values four-
// letter words print: "0.0", "14.1667", "1.0E7".
func JavaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	a := math.Abs(f)
	if a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	// Computerized scientific notation: d.dddE±n with at least one fraction digit.
	s := strconv.FormatFloat(f, 'e', -1, 64) // e.g. "1e+07", "1.5e-05"
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	n, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(n)
}
