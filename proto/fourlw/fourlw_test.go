package fourlw

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The golden texts below are replies of Apache ZooKeeper 3.8.0 (Debian
// package), captured with bash's /dev/tcp; the writers must reproduce them
// from the same numbers.

const apacheVersion = "3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC"

func TestWriteSrvrGolden(t *testing.T) {
	var b bytes.Buffer
	WriteSrvr(&b, ServerStats{
		Version: apacheVersion, MinLatency: 2, AvgLatency: 14.1667, MaxLatency: 43,
		Received: 26, Sent: 26, Connections: 2, Outstanding: 0, Zxid: 3, Mode: "standalone", NodeCount: 7,
	})
	assert.Equal(t, "Zookeeper version: "+apacheVersion+"\n"+
		"Latency min/avg/max: 2/14.1667/43\n"+
		"Received: 26\n"+
		"Sent: 26\n"+
		"Connections: 2\n"+
		"Outstanding: 0\n"+
		"Zxid: 0x3\n"+
		"Mode: standalone\n"+
		"Node count: 7\n", b.String())
}

func TestWriteSrvrLeaderAndReadOnly(t *testing.T) {
	var b bytes.Buffer
	WriteSrvr(&b, ServerStats{Version: "v", Mode: "leader", Zxid: 0x100000002,
		ProposalSizeLast: 36, ProposalSizeMin: 32, ProposalSizeMax: 90})
	assert.Equal(t, "Zookeeper version: v\nLatency min/avg/max: 0/0.0/0\nReceived: 0\nSent: 0\n"+
		"Connections: 0\nOutstanding: 0\nZxid: 0x100000002\nMode: leader\nNode count: 0\n"+
		"Proposal sizes last/min/max: 36/32/90\n", b.String())
	b.Reset()
	WriteSrvr(&b, ServerStats{Version: "v", Mode: "read-only", ReadOnly: true})
	assert.True(t, strings.HasPrefix(b.String(), "Zookeeper version: v\nREAD-ONLY mode; serving only read-only clients\nLatency"))
}

func TestWriteStatGolden(t *testing.T) {
	var b bytes.Buffer
	WriteStat(&b, ServerStats{
		Version: apacheVersion, MinLatency: 2, AvgLatency: 14.1667, MaxLatency: 43,
		Received: 21, Sent: 21, Connections: 2, Zxid: 3, Mode: "standalone", NodeCount: 7,
	}, []Conn{
		{Addr: "127.0.0.1:46536", InterestOps: 1, Received: 6, Sent: 6, SessionID: 0x10000054e3a0000, LastOp: "EXIS"},
		{Addr: "127.0.0.1:46560", Received: 1},
	})
	assert.Equal(t, "Zookeeper version: "+apacheVersion+"\n"+
		"Clients:\n"+
		" /127.0.0.1:46536[1](queued=0,recved=6,sent=6)\n"+
		" /127.0.0.1:46560[0](queued=0,recved=1,sent=0)\n"+
		"\n"+
		"Latency min/avg/max: 2/14.1667/43\n"+
		"Received: 21\n"+
		"Sent: 21\n"+
		"Connections: 2\n"+
		"Outstanding: 0\n"+
		"Zxid: 0x3\n"+
		"Mode: standalone\n"+
		"Node count: 7\n", b.String())
}

var consGolden = " /127.0.0.1:46536[1](queued=0,recved=6,sent=6,sid=0x10000054e3a0000,lop=EXIS,est=1795264558149,to=30000,lcxid=0x5,lzxid=0x3,lresp=393617,llat=15,minlat=0,avglat=14,maxlat=43)\n" +
	" /127.0.0.1:46544[0](queued=0,recved=1,sent=0)\n" +
	"\n"

var consConns = []Conn{
	{Addr: "127.0.0.1:46536", InterestOps: 1, Received: 6, Sent: 6, SessionID: 0x10000054e3a0000, LastOp: "EXIS",
		Established: 1795264558149, Timeout: 30000, LastCxid: 5, LastZxid: 3, LastResponseTime: 393617,
		LastLatency: 15, MinLatency: 0, AvgLatency: 14, MaxLatency: 43},
	{Addr: "127.0.0.1:46544", Received: 1, LastCxid: -1},
}

func TestWriteConsGolden(t *testing.T) {
	var b bytes.Buffer
	WriteCons(&b, consConns)
	assert.Equal(t, consGolden, b.String())

	b.Reset()
	WriteCons(&b, []Conn{{Addr: "127.0.0.1:1", InterestOps: 1, SessionID: 1, LastOp: "NA", LastCxid: -1, LastZxid: -1, AvgLatency: 2.9}})
	assert.Equal(t, " /127.0.0.1:1[1](queued=0,recved=0,sent=0,sid=0x1,lop=NA,est=0,to=0,lzxid=0xffffffffffffffff,lresp=0,llat=0,minlat=0,avglat=2,maxlat=0)\n\n",
		b.String(), "no lcxid when negative; lzxid as Java's Long.toHexString; avglat truncated")

	b.Reset()
	WriteCons(&b, nil)
	assert.Equal(t, "\n", b.String())
}

func TestWriteMntrConfEnvi(t *testing.T) {
	var b bytes.Buffer
	WriteMntr(&b, []KV{{"zk_version", apacheVersion}, {"zk_server_state", "standalone"}, {"zk_avg_latency", "0.0"}})
	assert.Equal(t, "zk_version\t"+apacheVersion+"\nzk_server_state\tstandalone\nzk_avg_latency\t0.0\n", b.String())

	b.Reset()
	WriteConf(&b, []KV{{"clientPort", "47137"}, {"secureClientPort", "-1"}})
	assert.Equal(t, "clientPort=47137\nsecureClientPort=-1\n", b.String())

	b.Reset()
	WriteConfMembership(&b, "server.1=a:1:2:participant;0.0.0.0:2181\nversion=0")
	assert.Equal(t, "membership: \nserver.1=a:1:2:participant;0.0.0.0:2181\nversion=0", b.String())

	b.Reset()
	WriteEnvi(&b, []KV{{"zookeeper.version", apacheVersion}, {"host.name", "localhost"}})
	assert.Equal(t, "Environment:\nzookeeper.version="+apacheVersion+"\nhost.name=localhost\n", b.String())
}

func TestWriteWatchesGolden(t *testing.T) {
	var b bytes.Buffer
	WriteWchs(&b, 1, 2, 2)
	assert.Equal(t, "1 connections watching 2 paths\nTotal watches:2\n", b.String())

	b.Reset()
	WriteWchc(&b, map[int64][]string{0x10000054e3a0000: {"/pers", "/eph"}})
	assert.Equal(t, "0x10000054e3a0000\n\t/eph\n\t/pers\n\n", b.String())

	b.Reset()
	WriteWchp(&b, map[string][]int64{"/pers": {0x10000054e3a0000}, "/eph": {0x10000054e3a0000}})
	assert.Equal(t, "/eph\n\t0x10000054e3a0000\n/pers\n\t0x10000054e3a0000\n\n", b.String())

	b.Reset()
	WriteWchc(&b, nil)
	assert.Equal(t, "\n", b.String())
	b.Reset()
	WriteWchp(&b, nil)
	assert.Equal(t, "\n", b.String())
}

func TestWriteDumpGolden(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(JavaDateLayout, s)
		require.NoError(t, err)
		return tm
	}
	var b bytes.Buffer
	WriteDump(&b, Dump{
		Sessions:   []SessionBucket{{Expire: at("Sat Nov 21 12:36:28 UTC 2026"), Sessions: []int64{0x10000054e3a0000}}},
		Ephemerals: map[int64][]string{0x10000054e3a0000: {"/eph"}},
		Connections: []ConnBucket{
			{Expire: at("Sat Nov 21 12:36:34 UTC 2026"), Conns: []DumpConn{{Addr: "127.0.0.1:46536", SessionID: 0x10000054e3a0000}}},
			{Expire: at("Sat Nov 21 12:36:14 UTC 2026")},
			{Expire: at("Sat Nov 21 12:36:24 UTC 2026"), Conns: []DumpConn{{Addr: "127.0.0.1:46590"}}},
		},
	})
	assert.Equal(t, "SessionTracker dump:\n"+
		"Session Sets (1)/(1):\n"+
		"1 expire at Sat Nov 21 12:36:28 UTC 2026:\n"+
		"\t0x10000054e3a0000\n"+
		"ephemeral nodes dump:\n"+
		"Sessions with Ephemerals (1):\n"+
		"0x10000054e3a0000:\n"+
		"\t/eph\n"+
		"Connections dump:\n"+
		"Connections Sets (3)/(2):\n"+
		"0 expire at Sat Nov 21 12:36:14 UTC 2026:\n"+
		"1 expire at Sat Nov 21 12:36:24 UTC 2026:\n"+
		"\tip: /127.0.0.1:46590 sessionId: 0x0\n"+
		"1 expire at Sat Nov 21 12:36:34 UTC 2026:\n"+
		"\tip: /127.0.0.1:46536 sessionId: 0x10000054e3a0000\n", b.String())

	b.Reset()
	WriteDump(&b, Dump{})
	assert.Equal(t, "SessionTracker dump:\nSession Sets (0)/(0):\nephemeral nodes dump:\nSessions with Ephemerals (0):\nConnections dump:\n", b.String())
	b.Reset()
	WriteDump(&b, Dump{HasConnections: true})
	assert.True(t, strings.HasSuffix(b.String(), "Connections dump:\nConnections Sets (0)/(0):\n"))
}

func TestWriteSmallReplies(t *testing.T) {
	var b bytes.Buffer
	WriteDirs(&b, 457, 458)
	assert.Equal(t, "datadir_size: 457\nlogdir_size: 458\n", b.String())
	b.Reset()
	WriteIsro(&b, false)
	assert.Equal(t, "rw", b.String())
	b.Reset()
	WriteIsro(&b, true)
	assert.Equal(t, "ro", b.String())
	b.Reset()
	WriteNotInWhitelist(&b, "stat")
	assert.Equal(t, "stat is not executed because it is not in the whitelist.\n", b.String())
}

func TestJavaDouble(t *testing.T) {
	for in, want := range map[float64]string{
		0: "0.0", 14.1667: "14.1667", 1: "1.0", 0.5: "0.5", 10: "10.0", 1234567: "1234567.0",
		1e7: "1.0E7", 1.5e-5: "1.5E-5", -2.25: "-2.25", 0.001: "0.001",
	} {
		assert.Equal(t, want, JavaDouble(in), "%v", in)
	}
	assert.Equal(t, 14.1667, RoundLatency(85, 6))
	assert.Equal(t, 0.0, RoundLatency(5, 0))
}

func TestParseSrvrAndStat(t *testing.T) {
	stat := "Zookeeper version: " + apacheVersion + "\nClients:\n /127.0.0.1:46536[1](queued=0,recved=6,sent=6)\n\n" +
		"Latency min/avg/max: 2/14.1667/43\nReceived: 21\nSent: 21\nConnections: 2\nOutstanding: 0\nZxid: 0x3\nMode: standalone\nNode count: 7\n"
	s, err := ParseSrvr(stat)
	require.NoError(t, err)
	assert.Equal(t, ServerStats{Version: apacheVersion, MinLatency: 2, AvgLatency: 14.1667, MaxLatency: 43,
		Received: 21, Sent: 21, Connections: 2, Zxid: 3, Mode: "standalone", NodeCount: 7}, s)

	conns, err := ParseCons(stat)
	require.NoError(t, err)
	assert.Equal(t, []Conn{{Addr: "127.0.0.1:46536", InterestOps: 1, Received: 6, Sent: 6, LastCxid: -1}}, conns)

	_, err = ParseSrvr(NotServing + "\n")
	assert.ErrorIs(t, err, ErrNotServing)
	_, err = ParseSrvr("srvr " + NotInWhitelist + "\n")
	assert.ErrorIs(t, err, ErrNotInWhitelist)
	_, err = ParseSrvr("")
	assert.ErrorIs(t, err, ErrFormat)
	_, err = ParseSrvr("Zookeeper version: x\nZxid: 12\nMode: leader\n")
	assert.ErrorIs(t, err, ErrFormat)
	_, err = ParseSrvr("Zookeeper version: x\nLatency min/avg/max: 1/2\nMode: leader\n")
	assert.ErrorIs(t, err, ErrFormat)
	_, err = ParseSrvr("Zookeeper version: x\ngarbage\n")
	assert.ErrorIs(t, err, ErrFormat)
}

func TestParseConsRoundTrip(t *testing.T) {
	conns, err := ParseCons(consGolden)
	require.NoError(t, err)
	assert.Equal(t, consConns, conns)
	var b bytes.Buffer
	WriteCons(&b, conns)
	assert.Equal(t, consGolden, b.String())

	for _, bad := range []string{
		" /1.2.3.4:5[1]queued=0)", " /1.2.3.4:5[x](queued=0)", " /1.2.3.4:5[1](queued=a)",
		" /1.2.3.4:5[1](queued)", " /1.2.3.4:5](queued=0)", " /a[1](sid=12)",
	} {
		_, err := ParseCons(bad + "\n")
		assert.ErrorIs(t, err, ErrFormat, bad)
	}
	// IPv6 as Java 17 prints it.
	conns, err = ParseCons(" /[0:0:0:0:0:0:0:1]:5000[1](queued=0,recved=1,sent=1)\n")
	require.NoError(t, err)
	assert.Equal(t, "[0:0:0:0:0:0:0:1]:5000", conns[0].Addr)
}

func TestParseMntrAndKV(t *testing.T) {
	kv, err := ParseMntr("zk_version\t3.8\nzk_avg_latency\t0.0\n")
	require.NoError(t, err)
	assert.Equal(t, []KV{{"zk_version", "3.8"}, {"zk_avg_latency", "0.0"}}, kv)
	_, err = ParseMntr("zk_version 3.8\n")
	assert.ErrorIs(t, err, ErrFormat)

	kv, err = ParseKV("Environment:\nzookeeper.version=3.8\nuser.dir=/tmp/a=b\n")
	require.NoError(t, err)
	assert.Equal(t, []KV{{"zookeeper.version", "3.8"}, {"user.dir", "/tmp/a=b"}}, kv)
	kv, err = ParseKV("serverId=1\nmembership: \nserver.1=a:1:2:participant\nversion=0")
	require.NoError(t, err)
	assert.Equal(t, []KV{{"serverId", "1"}}, kv)
	_, err = ParseKV("novalue\n")
	assert.ErrorIs(t, err, ErrFormat)
}

// Replies captured from Apache by TestApacheInterop (-update) parse, and
// writing what was parsed gives the same bytes back.
func TestParseApacheTestdata(t *testing.T) {
	dir := filepath.Join("testdata", "apache-3.8")
	read := func(word string) string {
		b, err := os.ReadFile(filepath.Join(dir, word+".txt"))
		require.NoError(t, err, "testdata missing: run go test -run TestApacheInterop -update ./proto/fourlw with Apache ZooKeeper installed")
		return string(b)
	}
	checkApacheReplies(t, read)
}

func checkApacheReplies(t *testing.T, read func(word string) string) {
	t.Helper()
	srvr := read("srvr")
	s, err := ParseSrvr(srvr)
	require.NoError(t, err)
	assert.Equal(t, "standalone", s.Mode)
	assert.True(t, strings.HasPrefix(s.Version, "3.8"), s.Version)
	var b bytes.Buffer
	WriteSrvr(&b, s)
	assert.Equal(t, srvr, b.String(), "srvr round trip")

	stat := read("stat")
	s, err = ParseSrvr(stat)
	require.NoError(t, err)
	conns, err := ParseCons(stat)
	require.NoError(t, err)
	require.NotEmpty(t, conns)
	b.Reset()
	WriteStat(&b, s, conns)
	assert.Equal(t, stat, b.String(), "stat round trip")

	cons := read("cons")
	conns, err = ParseCons(cons)
	require.NoError(t, err)
	withSession := 0
	for _, c := range conns {
		if c.SessionID != 0 {
			withSession++
			assert.NotEmpty(t, c.LastOp)
			assert.Positive(t, c.Timeout)
		}
	}
	assert.Equal(t, 1, withSession, "the test's own session is listed")
	b.Reset()
	WriteCons(&b, conns)
	assert.Equal(t, cons, b.String(), "cons round trip")

	mntr := read("mntr")
	kv, err := ParseMntr(mntr)
	require.NoError(t, err)
	require.NotEmpty(t, kv)
	assert.Equal(t, "zk_version", kv[0].Key)
	b.Reset()
	WriteMntr(&b, kv)
	assert.Equal(t, mntr, b.String(), "mntr round trip")

	for _, word := range []string{"conf", "envi"} {
		text := read(word)
		kv, err := ParseKV(text)
		require.NoError(t, err, word)
		b.Reset()
		if word == "envi" {
			WriteEnvi(&b, kv)
		} else {
			WriteConf(&b, kv)
		}
		assert.Equal(t, text, b.String(), word+" round trip")
	}
	assert.Equal(t, Imok, read("ruok"))
	assert.Equal(t, "rw", read("isro"))
	assert.Regexp(t, `^1 connections watching 1 paths\nTotal watches:1\n$`, read("wchs"))
	assert.Regexp(t, `^0x[0-9a-f]+\n\t/fourlw-eph\n\n$`, read("wchc"))
	assert.Regexp(t, `^/fourlw-eph\n\t0x[0-9a-f]+\n\n$`, read("wchp"))
	assert.Regexp(t, `^datadir_size: \d+\nlogdir_size: \d+\n$`, read("dirs"))
	assert.Regexp(t, `(?s)^SessionTracker dump:\nSession Sets \(1\)/\(1\):\n1 expire at \w{3} \w{3} \d\d \d\d:\d\d:\d\d \w+ \d{4}:\n\t0x[0-9a-f]+\n`+
		`ephemeral nodes dump:\nSessions with Ephemerals \(1\):\n0x[0-9a-f]+:\n\t/fourlw-eph\nConnections dump:\nConnections Sets \(\d+\)/\(\d+\):\n`, read("dump"))
	assert.Equal(t, "Connection stats reset.\n", read("crst"))
	assert.Equal(t, "Server stats reset.\n", read("srst"))
}

func FuzzParseSrvr(f *testing.F) {
	f.Add("Zookeeper version: 3.8\nLatency min/avg/max: 0/0.0/0\nReceived: 1\nSent: 1\nConnections: 1\nOutstanding: 0\nZxid: 0x0\nMode: standalone\nNode count: 5\n")
	f.Add("")
	f.Add("Zookeeper version: 3.8\nLatency min/avg/max: 0/")
	f.Add(NotServing)
	f.Fuzz(func(t *testing.T, reply string) {
		s, err := ParseSrvr(reply)
		if err != nil {
			assert.True(t, errors.Is(err, ErrFormat) || errors.Is(err, ErrNotServing) || errors.Is(err, ErrNotInWhitelist))
			return
		}
		var b bytes.Buffer
		WriteSrvr(&b, s) // must not panic
	})
}

func FuzzParseCons(f *testing.F) {
	f.Add(consGolden)
	f.Add("")
	f.Add(consGolden[:60])
	f.Add(" /[::1]:1[1](queued=0)\n")
	f.Fuzz(func(t *testing.T, reply string) {
		conns, err := ParseCons(reply)
		if err != nil {
			assert.True(t, errors.Is(err, ErrFormat) || errors.Is(err, ErrNotServing) || errors.Is(err, ErrNotInWhitelist))
			return
		}
		var b bytes.Buffer
		WriteCons(&b, conns)
	})
}

func FuzzParseMntr(f *testing.F) {
	f.Add("zk_version\t3.8\nzk_server_state\tstandalone\n")
	f.Add("")
	f.Add("zk_version")
	f.Fuzz(func(t *testing.T, reply string) {
		kv, err := ParseMntr(reply)
		if err != nil {
			return
		}
		for _, e := range kv {
			assert.NotContains(t, e.Key, "\n")
			assert.NotEmpty(t, e.Key)
		}
	})
}

func FuzzParseKV(f *testing.F) {
	f.Add("Environment:\na=b\n")
	f.Add("")
	f.Add("clientPort=2181\nmembership: \n")
	f.Add("clientPort")
	f.Fuzz(func(t *testing.T, reply string) {
		_, _ = ParseKV(reply)
	})
}
