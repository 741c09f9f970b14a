package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/proto/fourlw"
)

// writeCfg writes zoo.cfg (and myid when myid != "") into a fresh directory
// and returns the zoo.cfg path and the data dir. "$DATA" in text is replaced
// by the data dir.
func writeCfg(t *testing.T, text, myid string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	require.NoError(t, os.MkdirAll(data, 0o755))
	text = string(bytes.ReplaceAll([]byte(text), []byte("$DATA"), []byte(data)))
	path := filepath.Join(dir, "zoo.cfg")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	if myid != "" {
		require.NoError(t, os.WriteFile(filepath.Join(data, "myid"), []byte(myid), 0o644))
	}
	return path, data
}

func TestDefaults(t *testing.T) {
	path, data := writeCfg(t, "dataDir=$DATA\n", "")
	c, err := Parse(path)
	require.NoError(t, err)
	assert.Equal(t, path, c.Path)
	assert.Equal(t, 2000*time.Millisecond, c.TickTime)
	assert.Equal(t, 10, c.InitLimit)
	assert.Equal(t, 5, c.SyncLimit)
	assert.Equal(t, data, c.DataDir)
	assert.Equal(t, data, c.DataLogDir)
	assert.Equal(t, 2181, c.ClientPort)
	assert.Equal(t, "", c.ClientPortAddress)
	assert.Equal(t, 60, c.MaxClientCnxns)
	assert.Equal(t, 4*time.Second, c.MinSessionTimeout)
	assert.Equal(t, 40*time.Second, c.MaxSessionTimeout)
	assert.Equal(t, 100000, c.SnapCount)
	assert.Equal(t, int64(64<<20), c.PreAllocSize)
	assert.True(t, c.AdminEnableServer)
	assert.Equal(t, "0.0.0.0", c.AdminServerAddress)
	assert.Equal(t, 8080, c.AdminServerPort)
	assert.Equal(t, "/commands", c.AdminCommandURL)
	assert.Equal(t, 30*time.Second, c.AdminIdleTimeout)
	assert.Equal(t, 0xfffff, c.JuteMaxBuffer)
	assert.Equal(t, 3, c.AutopurgeSnapRetainCount)
	assert.Equal(t, 0, c.AutopurgePurgeInterval)
	assert.Equal(t, []string{"srvr"}, c.FourLetterWhitelist)
	assert.Equal(t, 7000, c.MetricsHTTPPort)
	assert.Equal(t, "0.0.0.0", c.MetricsHTTPHost)
	assert.Equal(t, "", c.SuperDigest)
	assert.Empty(t, c.Servers)
	assert.Equal(t, int64(0), c.MyID)
	assert.True(t, c.Standalone)
	assert.True(t, c.StandaloneEnabled)
	assert.False(t, c.ReconfigEnabled)
	assert.Equal(t, 0, c.SecureClientPort)
	assert.Equal(t, -1, c.ClientPortListenBacklog)
	assert.Equal(t, 3, c.ElectionAlg)
	assert.Empty(t, c.Extra)
	assert.True(t, c.FourLetterAllowed("srvr"))
	assert.False(t, c.FourLetterAllowed("stat"))
}

// Every key, one at a time, with the field it sets.
func TestEveryKey(t *testing.T) {
	cases := []struct {
		line  string
		check func(t *testing.T, c *Config)
	}{
		{"tickTime=3000", func(t *testing.T, c *Config) {
			assert.Equal(t, 3*time.Second, c.TickTime)
			assert.Equal(t, 6*time.Second, c.MinSessionTimeout, "min follows tickTime")
			assert.Equal(t, 60*time.Second, c.MaxSessionTimeout, "max follows tickTime")
		}},
		{"initLimit=7", func(t *testing.T, c *Config) { assert.Equal(t, 7, c.InitLimit) }},
		{"syncLimit=2", func(t *testing.T, c *Config) { assert.Equal(t, 2, c.SyncLimit) }},
		{"dataLogDir=/var/zk/log", func(t *testing.T, c *Config) { assert.Equal(t, "/var/zk/log", c.DataLogDir) }},
		{"clientPort=2182", func(t *testing.T, c *Config) { assert.Equal(t, 2182, c.ClientPort) }},
		{"clientPort=0", func(t *testing.T, c *Config) { assert.Equal(t, 0, c.ClientPort) }},
		{"clientPortAddress=127.0.0.1", func(t *testing.T, c *Config) { assert.Equal(t, "127.0.0.1", c.ClientPortAddress) }},
		{"secureClientPort=2281", func(t *testing.T, c *Config) { assert.Equal(t, 2281, c.SecureClientPort) }},
		{"clientPortListenBacklog=128", func(t *testing.T, c *Config) { assert.Equal(t, 128, c.ClientPortListenBacklog) }},
		{"maxClientCnxns=0", func(t *testing.T, c *Config) { assert.Equal(t, 0, c.MaxClientCnxns) }},
		{"minSessionTimeout=1000", func(t *testing.T, c *Config) { assert.Equal(t, time.Second, c.MinSessionTimeout) }},
		{"maxSessionTimeout=90000", func(t *testing.T, c *Config) { assert.Equal(t, 90*time.Second, c.MaxSessionTimeout) }},
		{"snapCount=1000", func(t *testing.T, c *Config) { assert.Equal(t, 1000, c.SnapCount) }},
		{"zookeeper.snapCount=1001", func(t *testing.T, c *Config) { assert.Equal(t, 1001, c.SnapCount) }},
		{"preAllocSize=1024", func(t *testing.T, c *Config) { assert.Equal(t, int64(1<<20), c.PreAllocSize) }},
		{"jute.maxbuffer=4194304", func(t *testing.T, c *Config) { assert.Equal(t, 4194304, c.JuteMaxBuffer) }},
		{"autopurge.snapRetainCount=5", func(t *testing.T, c *Config) { assert.Equal(t, 5, c.AutopurgeSnapRetainCount) }},
		{"autopurge.snapRetainCount=1", func(t *testing.T, c *Config) {
			assert.Equal(t, 3, c.AutopurgeSnapRetainCount, "Apache raises it to the minimum 3")
		}},
		{"autopurge.purgeInterval=24", func(t *testing.T, c *Config) { assert.Equal(t, 24, c.AutopurgePurgeInterval) }},
		{"4lw.commands.whitelist=stat, ruok ,conf", func(t *testing.T, c *Config) {
			assert.Equal(t, []string{"stat", "ruok", "conf"}, c.FourLetterWhitelist)
			assert.True(t, c.FourLetterAllowed("ruok"))
			assert.False(t, c.FourLetterAllowed("srvr"))
		}},
		{"4lw.commands.whitelist=*", func(t *testing.T, c *Config) {
			assert.True(t, c.FourLetterAllowed("mntr"))
			assert.True(t, c.FourLetterAllowed("wchc"))
		}},
		{"metricsProvider.httpPort=-1", func(t *testing.T, c *Config) { assert.Equal(t, -1, c.MetricsHTTPPort) }},
		{"metricsProvider.httpPort=0", func(t *testing.T, c *Config) { assert.Equal(t, 0, c.MetricsHTTPPort) }},
		{"metricsProvider.httpHost=127.0.0.1", func(t *testing.T, c *Config) { assert.Equal(t, "127.0.0.1", c.MetricsHTTPHost) }},
		{"DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=", func(t *testing.T, c *Config) {
			assert.Equal(t, "super:D/InIHSb7yEEbrWz8b9l71RjZJU=", c.SuperDigest)
		}},
		{"zookeeper.DigestAuthenticationProvider.superDigest=super:abc=", func(t *testing.T, c *Config) {
			assert.Equal(t, "super:abc=", c.SuperDigest)
		}},
		{"standaloneEnabled=TRUE", func(t *testing.T, c *Config) { assert.True(t, c.StandaloneEnabled) }},
		{"reconfigEnabled=true", func(t *testing.T, c *Config) { assert.True(t, c.ReconfigEnabled) }},
		{"electionAlg=3", func(t *testing.T, c *Config) { assert.Equal(t, 3, c.ElectionAlg) }},
		{"peerType=observer", func(t *testing.T, c *Config) { assert.True(t, c.PeerTypeObserver) }},
		{"admin.enableServer=false", func(t *testing.T, c *Config) {
			assert.False(t, c.AdminEnableServer)
			assert.Empty(t, c.Extra)
		}},
		{"admin.serverPort=9091\nadmin.serverAddress=127.0.0.1\nadmin.commandURL=/zk\nadmin.idleTimeout=5000", func(t *testing.T, c *Config) {
			assert.True(t, c.AdminEnableServer)
			assert.Equal(t, 9091, c.AdminServerPort)
			assert.Equal(t, "127.0.0.1", c.AdminServerAddress)
			assert.Equal(t, "/zk", c.AdminCommandURL)
			assert.Equal(t, 5*time.Second, c.AdminIdleTimeout)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.line, func(t *testing.T) {
			path, _ := writeCfg(t, "dataDir=$DATA\n"+tc.line+"\n", "")
			c, err := Parse(path)
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}

func TestPropertiesSyntax(t *testing.T) {
	text := "# comment\n" +
		"! also a comment\n" +
		"   \n" +
		"dataDir $DATA\n" + // blank separator
		"tickTime : 1500\n" + // colon with blanks
		"  initLimit=  12   \n" + // leading blanks, trimmed value
		"syncLimit=\\\n    3\n" + // continuation
		"clientPort=2190\r\n" + // CRLF
		"a.key=with\\u0041escape\\tand\\=sign\n" +
		"b\\ key=spaced key\n" +
		"z.last=1\n" +
		"a.first=2\n"
	path, data := writeCfg(t, text, "")
	c, err := Parse(path)
	require.NoError(t, err)
	assert.Equal(t, data, c.DataDir)
	assert.Equal(t, 1500*time.Millisecond, c.TickTime)
	assert.Equal(t, 12, c.InitLimit)
	assert.Equal(t, 3, c.SyncLimit)
	assert.Equal(t, 2190, c.ClientPort)
	assert.Equal(t, []KV{
		{Key: "a.key", Value: "withAescape\tand=sign"},
		{Key: "b key", Value: "spaced key"},
		{Key: "z.last", Value: "1"},
		{Key: "a.first", Value: "2"},
	}, c.Extra, "unknown keys are kept in file order")
}

func TestRelativeDataDirResolvesAgainstWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	require.NoError(t, os.WriteFile("zoo.cfg", []byte("dataDir=rel/data\ndataLogDir=./logs\n"), 0o644))
	c, err := Parse("zoo.cfg")
	require.NoError(t, err)
	wd, err := os.Getwd()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(wd, "rel/data"), c.DataDir)
	assert.Equal(t, filepath.Join(wd, "logs"), c.DataLogDir)
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name, text, myid string
		want             string // after "<path>: " (or "<myid path>: " when myidFile)
		myidFile         bool
		sentinel         error
	}{
		{"no dataDir", "tickTime=2000\n", "", "dataDir is required (add a line dataDir=/path/to/data)", false, ErrRequired},
		{"tickTime not a number", "dataDir=$DATA\ntickTime=abc\n", "", `tickTime: "abc" is not a number`, false, ErrValue},
		{"tickTime zero", "dataDir=$DATA\ntickTime=0\n", "", "tickTime: 0 must be a positive number of milliseconds", false, ErrValue},
		{"tickTime too big", "dataDir=$DATA\ntickTime=99999999999\n", "", `tickTime: "99999999999" is out of range for a 32-bit number`, false, ErrValue},
		{"initLimit", "dataDir=$DATA\ninitLimit=x\n", "", `initLimit: "x" is not a number`, false, ErrValue},
		{"syncLimit", "dataDir=$DATA\nsyncLimit=1.5\n", "", `syncLimit: "1.5" is not a number`, false, ErrValue},
		{"clientPort range", "dataDir=$DATA\nclientPort=70000\n", "", "clientPort: 70000 is out of range 0-65535", false, ErrValue},
		{"clientPort negative", "dataDir=$DATA\nclientPort=-1\n", "", "clientPort: -1 is out of range 0-65535", false, ErrValue},
		{"clientPort text", "dataDir=$DATA\nclientPort=two\n", "", `clientPort: "two" is not a number`, false, ErrValue},
		{"secureClientPort", "dataDir=$DATA\nsecureClientPort=65536\n", "", "secureClientPort: 65536 is out of range 1-65535", false, ErrValue},
		{"clientPortAddress", "dataDir=$DATA\nclientPortAddress=not an ip\n", "", `clientPortAddress: "not an ip" is not an IP address or host name`, false, ErrValue},
		{"maxClientCnxns", "dataDir=$DATA\nmaxClientCnxns=-5\n", "", "maxClientCnxns: -5 must be 0 (unlimited) or more", false, ErrValue},
		{"min > max session", "dataDir=$DATA\nminSessionTimeout=50000\nmaxSessionTimeout=10000\n", "", "minSessionTimeout: 50000 must not be larger than maxSessionTimeout 10000", false, ErrValue},
		{"minSession zero", "dataDir=$DATA\nminSessionTimeout=0\n", "", "minSessionTimeout: 0 must be a positive number of milliseconds", false, ErrValue},
		{"maxSession text", "dataDir=$DATA\nmaxSessionTimeout=lots\n", "", `maxSessionTimeout: "lots" is not a number`, false, ErrValue},
		{"snapCount", "dataDir=$DATA\nsnapCount=1\n", "", "snapCount: 1 must be 2 or more", false, ErrValue},
		{"preAllocSize", "dataDir=$DATA\npreAllocSize=0\n", "", "preAllocSize: 0 must be a positive number of KiB", false, ErrValue},
		{"preAllocSize text", "dataDir=$DATA\npreAllocSize=64M\n", "", `preAllocSize: "64M" is not a number`, false, ErrValue},
		{"jute.maxbuffer", "dataDir=$DATA\njute.maxbuffer=0\n", "", "jute.maxbuffer: 0 must be a positive number of bytes", false, ErrValue},
		{"purgeInterval", "dataDir=$DATA\nautopurge.purgeInterval=-1\n", "", "autopurge.purgeInterval: -1 must be 0 (off) or a number of hours", false, ErrValue},
		{"admin.serverPort", "dataDir=$DATA\nadmin.serverPort=80800\n", "", "admin.serverPort: 80800 is out of range 0-65535", false, ErrValue},
		{"admin.commandURL", "dataDir=$DATA\nadmin.commandURL=commands\n", "", `admin.commandURL: "commands" must be a path starting with / (default /commands)`, false, ErrValue},
		{"admin.idleTimeout", "dataDir=$DATA\nadmin.idleTimeout=0\n", "", "admin.idleTimeout: 0 must be a positive number of milliseconds", false, ErrValue},
		{"snapRetainCount text", "dataDir=$DATA\nautopurge.snapRetainCount=all\n", "", `autopurge.snapRetainCount: "all" is not a number`, false, ErrValue},
		{"metrics port", "dataDir=$DATA\nmetricsProvider.httpPort=99999\n", "", "metricsProvider.httpPort: 99999 is out of range 0-65535 (-1 disables metrics)", false, ErrValue},
		{"superDigest", "dataDir=$DATA\nDigestAuthenticationProvider.superDigest=nocolon\n", "", `DigestAuthenticationProvider.superDigest: "nocolon" must be user:base64digest (see the digest scheme of zkCli.sh addauth)`, false, ErrValue},
		{"boolean", "dataDir=$DATA\nstandaloneEnabled=yes\n", "", `standaloneEnabled: "yes" is not a boolean (use true or false)`, false, ErrValue},
		{"reconfig boolean", "dataDir=$DATA\nreconfigEnabled=1\n", "", `reconfigEnabled: "1" is not a boolean (use true or false)`, false, ErrValue},
		{"electionAlg", "dataDir=$DATA\nelectionAlg=1\n", "", "electionAlg: 1 is not supported; only 3 (fast leader election) is", false, ErrValue},
		{"peerType", "dataDir=$DATA\npeerType=boss\n", "", `peerType: "boss" is not a peer type (use participant or observer)`, false, ErrValue},
		{"dynamicConfigFile", "dataDir=$DATA\ndynamicConfigFile=zoo.cfg.dynamic\n", "", "dynamicConfigFile: dynamic configuration files are not supported; put the server.N lines in this file", false, ErrValue},
		{"empty dataDir", "dataDir=\n", "", "dataDir: is empty; give a directory path", false, ErrValue},
		{"server id", "dataDir=$DATA\nserver.x=a:1:2\n", "", `server.x: "x" is not a server id; use server.N with N a number`, false, ErrValue},
		{"server form", "dataDir=$DATA\nserver.1=a:1\n", "", `server.1: "a:1" does not have the right form; use host:quorumPort:electionPort[:participant|:observer][;[clientAddress:]clientPort]`, false, ErrValue},
		{"server quorum port", "dataDir=$DATA\nserver.1=a:b:2\n", "", `server.1: quorum port "b" is not a number; use host:quorumPort:electionPort[:participant|:observer][;[clientAddress:]clientPort]`, false, ErrValue},
		{"server election port", "dataDir=$DATA\nserver.1=a:1:c\n", "", `server.1: election port "c" is not a number; use host:quorumPort:electionPort[:participant|:observer][;[clientAddress:]clientPort]`, false, ErrValue},
		{"server role", "dataDir=$DATA\nserver.1=a:1:2:boss\n", "", `server.1: "boss" is not a peer type (use participant or observer)`, false, ErrValue},
		{"server client port", "dataDir=$DATA\nserver.1=a:1:2;x\n", "", `server.1: client port "x" is not a number; use host:quorumPort:electionPort[:participant|:observer][;[clientAddress:]clientPort]`, false, ErrValue},
		{"server two semicolons", "dataDir=$DATA\nserver.1=a:1:2;1;2\n", "", `server.1: "a:1:2;1;2" has more than one ';'; use host:quorumPort:electionPort[:participant|:observer][;[clientAddress:]clientPort]`, false, ErrValue},
		{"server multi address", "dataDir=$DATA\nserver.1=a:1:2|b:1:2\n", "", `server.1: "a:1:2|b:1:2": multiple addresses per server (|) are not supported`, false, ErrValue},
		{"server port range", "dataDir=$DATA\nserver.1=a:70000:2\nserver.2=b:1:2\n", "1", "server.1: 70000 is out of range 1-65535", false, ErrValue},
		{"server duplicate", "dataDir=$DATA\nserver.1=a:1:2\nserver.1=b:1:2\n", "", "server.1: server id 1 appears twice; give each server.N line its own N", false, ErrValue},
		{"duplicate quorum port", "dataDir=$DATA\nserver.1=a:1:2\nserver.2=a:1:3\n", "1", "server.2: quorum port a:1 is already used as the quorum port of server.1; give every server.N line its own quorum and election ports", false, ErrValue},
		{"election port equals quorum port", "dataDir=$DATA\nserver.1=a:1:1\nserver.2=b:1:2\n", "1", "server.1: election port a:1 is already used as the quorum port of server.1; give every server.N line its own quorum and election ports", false, ErrValue},
		{"duplicate election port", "dataDir=$DATA\nserver.1=a:1:2\nserver.2=a:3:2\n", "1", "server.2: election port a:2 is already used as the election port of server.1; give every server.N line its own quorum and election ports", false, ErrValue},
		{"observers only", "dataDir=$DATA\nserver.1=a:1:2:observer\n", "", "server: observers without participants is an invalid configuration; add participant server.N lines", false, ErrValue},
		{"standalone disabled no servers", "dataDir=$DATA\nstandaloneEnabled=false\n", "", "standaloneEnabled: standaloneEnabled=false needs at least one participant server.N line", false, ErrValue},
		{"quorum initLimit", "dataDir=$DATA\ninitLimit=0\nserver.1=a:1:2\nserver.2=b:1:2\n", "1", "initLimit: 0 must be a positive number of ticks", false, ErrValue},
		{"quorum syncLimit", "dataDir=$DATA\nsyncLimit=0\nserver.1=a:1:2\nserver.2=b:1:2\n", "1", "syncLimit: 0 must be a positive number of ticks", false, ErrValue},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path, _ := writeCfg(t, tc.text, tc.myid)
			_, err := Parse(path)
			require.Error(t, err)
			assert.Equal(t, path+": "+tc.want, err.Error())
			assert.True(t, errors.Is(err, tc.sentinel), "wraps %v", tc.sentinel)
		})
	}
}

func TestMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.cfg")
	_, err := Parse(path)
	require.ErrorIs(t, err, ErrRead)
	assert.Contains(t, err.Error(), path+": cannot read the configuration file: open "+path+": no such file or directory")
	assert.Contains(t, err.Error(), "deploy/conf/zoo.cfg is a sample")
}

const quorum3 = "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=$DATA\nclientPort=2181\n" +
	"server.3=zk3.example:2890:3890:observer\n" +
	"server.1=zk1.example:2888:3888\n" +
	"server.2=[::1]:2889:3889:participant;127.0.0.1:2182\n" +
	"server.4=zk4.example:2891:3891:participant;2184\n"

func TestQuorumServers(t *testing.T) {
	path, _ := writeCfg(t, quorum3, "2\n")
	c, err := Parse(path)
	require.NoError(t, err)
	assert.False(t, c.Standalone)
	assert.Equal(t, int64(2), c.MyID)
	assert.Equal(t, []Server{
		{ID: 1, Host: "zk1.example", QuorumPort: 2888, ElectionPort: 3888},
		{ID: 2, Host: "::1", QuorumPort: 2889, ElectionPort: 3889, ClientAddress: "127.0.0.1", ClientPort: 2182},
		{ID: 3, Host: "zk3.example", QuorumPort: 2890, ElectionPort: 3890, Observer: true},
		{ID: 4, Host: "zk4.example", QuorumPort: 2891, ElectionPort: 3891, ClientPort: 2184},
	}, c.Servers, "sorted by id")
	// Our own server line's client address wins (Apache's setupClientPort).
	assert.Equal(t, 2182, c.ClientPort)
	assert.Equal(t, "127.0.0.1", c.ClientPortAddress)
	assert.False(t, c.PeerTypeObserver)

	path, _ = writeCfg(t, quorum3, "3")
	c, err = Parse(path)
	require.NoError(t, err)
	assert.True(t, c.PeerTypeObserver, "the server.N role wins over peerType")
	assert.Equal(t, 2181, c.ClientPort)
}

func TestSingleServerLineIsStandalone(t *testing.T) {
	path, _ := writeCfg(t, "dataDir=$DATA\nserver.1=localhost:2888:3888\n", "")
	c, err := Parse(path)
	require.NoError(t, err, "no myid needed: Apache ignores a lone server line")
	assert.True(t, c.Standalone)
	assert.Len(t, c.Servers, 1)
}

func TestMyIDErrors(t *testing.T) {
	path, data := writeCfg(t, quorum3, "")
	myid := filepath.Join(data, "myid")
	_, err := Parse(path)
	require.ErrorIs(t, err, ErrMyID)
	assert.Equal(t, myid+": myid file is missing; "+path+" has server.N lines, so write this server's N into "+myid+" (echo N > "+myid+")", err.Error())

	path, data = writeCfg(t, quorum3, "two\n")
	myid = filepath.Join(data, "myid")
	_, err = Parse(path)
	require.ErrorIs(t, err, ErrMyID)
	assert.Equal(t, myid+`: serverid "two" is not a number; the file must hold this server's N from a server.N line of `+path, err.Error())

	path, data = writeCfg(t, quorum3, "9")
	myid = filepath.Join(data, "myid")
	_, err = Parse(path)
	require.ErrorIs(t, err, ErrMyID)
	assert.Equal(t, myid+": myid 9 has no server.9 line in "+path+"; fix the myid file or add the line", err.Error())

	// A standalone server reads myid when present (conf prints serverId).
	path, _ = writeCfg(t, "dataDir=$DATA\n", "5\n")
	c, err := Parse(path)
	require.NoError(t, err)
	assert.Equal(t, int64(5), c.MyID)
}

func TestValidateInCode(t *testing.T) {
	c := Default()
	require.ErrorIs(t, c.Validate(), ErrRequired)
	assert.Equal(t, "zoo.cfg: dataDir is required (add a line dataDir=/path/to/data)", c.Validate().Error())
	c.DataDir, c.DataLogDir = t.TempDir(), t.TempDir()
	c.ClientPort = 0
	c.MinSessionTimeout, c.MaxSessionTimeout = 4*time.Second, 40*time.Second
	require.NoError(t, c.Validate())
}

// Apache 3.8's conf output for a standalone server, with the same config.
func TestConfKVStandalone(t *testing.T) {
	path, data := writeCfg(t, "tickTime=2000\ndataDir=$DATA\nclientPort=0\nfoo.bar=baz\n", "")
	c, err := Parse(path)
	require.NoError(t, err)
	var b bytes.Buffer
	fourlw.WriteConf(&b, c.ConfKV(47137, 457, 457))
	want := "clientPort=47137\nsecureClientPort=-1\n" +
		"dataDir=" + data + "/version-2\ndataDirSize=457\n" +
		"dataLogDir=" + data + "/version-2\ndataLogSize=457\n" +
		"tickTime=2000\nmaxClientCnxns=60\nminSessionTimeout=4000\nmaxSessionTimeout=40000\n" +
		"clientPortListenBacklog=-1\nserverId=0\n"
	assert.Equal(t, want, b.String())
}

func TestConfKVQuorum(t *testing.T) {
	path, data := writeCfg(t, quorum3, "1")
	c, err := Parse(path)
	require.NoError(t, err)
	var b bytes.Buffer
	fourlw.WriteConf(&b, c.ConfKV(2181, 0, 0))
	fourlw.WriteConfMembership(&b, c.Membership())
	want := "clientPort=2181\nsecureClientPort=-1\n" +
		"dataDir=" + data + "/version-2\ndataDirSize=0\n" +
		"dataLogDir=" + data + "/version-2\ndataLogSize=0\n" +
		"tickTime=2000\nmaxClientCnxns=60\nminSessionTimeout=4000\nmaxSessionTimeout=40000\n" +
		"clientPortListenBacklog=-1\nserverId=1\n" +
		"initLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=3888\nquorumPort=2888\npeerType=0\n" +
		"membership: \n" +
		"server.1=zk1.example:2888:3888:participant;0.0.0.0:2181\n" +
		"server.2=[::1]:2889:3889:participant;127.0.0.1:2182\n" +
		"server.3=zk3.example:2890:3890:observer\n" +
		"server.4=zk4.example:2891:3891:participant;0.0.0.0:2184\n" +
		"version=0"
	assert.Equal(t, want, b.String())
}

func FuzzParseBytes(f *testing.F) {
	f.Add([]byte("dataDir=/tmp/x\n"))
	f.Add([]byte(""))
	f.Add([]byte("dataDir"))
	f.Add([]byte("dataDir=/tmp/x\nserver.1=a:1:2;"))
	f.Add([]byte("a\\"))
	f.Add([]byte("k=\\u00"))
	f.Add([]byte(quorum3))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseBytes("fuzz.cfg", data)
		if err == nil {
			require.NoError(t, c.Validate())
		}
	})
}
