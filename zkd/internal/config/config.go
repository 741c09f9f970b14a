// Package config reads zoo.cfg and myid the way Apache ZooKeeper 3.8 does.
package config

import (
	"time"

	"mqstack/proto/fourlw"
)

// Server is one `server.N=host:quorumPort:electionPort[:role][;[clientAddr:]clientPort]` line.
type Server struct {
	ID            int64
	Host          string
	QuorumPort    int
	ElectionPort  int
	Observer      bool   // role "observer" (default "participant")
	ClientAddress string // optional, after ';'
	ClientPort    int    // optional, after ';'
}

// Config is a parsed zoo.cfg. Durations keep Apache's units: TickTime is in
// milliseconds on disk, here a time.Duration.
type Config struct {
	Path string // the file it was read from, for error messages

	TickTime                 time.Duration // tickTime (ms), default 2000
	InitLimit                int           // initLimit (ticks), default 10
	SyncLimit                int           // syncLimit (ticks), default 5
	DataDir                  string        // dataDir, required
	DataLogDir               string        // dataLogDir, default DataDir
	ClientPort               int           // clientPort, default 2181; 0 means any free port
	ClientPortAddress        string        // clientPortAddress, default all interfaces
	MaxClientCnxns           int           // maxClientCnxns per IP, default 60; 0 = unlimited
	MinSessionTimeout        time.Duration // minSessionTimeout (ms), default 2*tickTime
	MaxSessionTimeout        time.Duration // maxSessionTimeout (ms), default 20*tickTime
	SnapCount                int           // snapCount, default 100000
	PreAllocSize             int64         // preAllocSize (KiB in the file), bytes here; default 64 MiB
	JuteMaxBuffer            int           // jute.maxbuffer, default 0xfffff
	AutopurgeSnapRetainCount int           // autopurge.snapRetainCount, default 3, minimum 3
	AutopurgePurgeInterval   int           // autopurge.purgeInterval (hours), default 0 = off
	FourLetterWhitelist      []string      // 4lw.commands.whitelist; default Apache's: [srvr]; "*" = all
	MetricsHTTPPort          int           // metricsProvider.httpPort, default 7000; -1 disables
	MetricsHTTPHost          string        // metricsProvider.httpHost, default 0.0.0.0
	SuperDigest              string        // zookeeper.DigestAuthenticationProvider.superDigest ("super:base64")
	Servers                  []Server      // server.N lines
	MyID                     int64         // from dataDir/myid when Servers is non-empty
	Standalone               bool          // standaloneEnabled && len(Servers) <= 1

	SecureClientPort        int  // secureClientPort, default 0 = none (conf prints -1); TLS is not served
	ClientPortListenBacklog int  // clientPortListenBacklog, default -1 = the OS default
	StandaloneEnabled       bool // standaloneEnabled, default true
	ReconfigEnabled         bool // reconfigEnabled, default false
	ElectionAlg             int  // electionAlg, only 3 (fast leader election) is accepted
	PeerTypeObserver        bool // peerType=observer; the server.N line of MyID wins, as in Apache

	// The AdminServer (HTTP commands, Apache's JettyAdminServer).
	AdminEnableServer  bool          // admin.enableServer, default true
	AdminServerAddress string        // admin.serverAddress, default 0.0.0.0
	AdminServerPort    int           // admin.serverPort, default 8080; 0 picks a free port
	AdminCommandURL    string        // admin.commandURL, default /commands
	AdminIdleTimeout   time.Duration // admin.idleTimeout (ms), default 30000

	// InitialConfig is the text of the file as Parse read it (the
	// AdminServer's initial_configuration).
	InitialConfig string

	// Unknown keys, kept in file order. Apache turns them into system
	// properties "zookeeper.<key>"; its conf 4lw does not print them, and
	// neither does ConfKV.
	Extra []KV
}

// KV is a key and value in file order (the same type the 4lw writers take).
type KV = fourlw.KV
