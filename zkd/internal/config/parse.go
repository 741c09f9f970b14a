package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"mqstack/proto/fourlw"
)

// Sentinel errors; every error Parse and Validate return wraps one of them
// (errors.Is) and its text names the file and the key.
var (
	ErrRead     = errors.New("config: cannot read file")
	ErrValue    = errors.New("config: invalid value")
	ErrRequired = errors.New("config: required key missing")
	ErrMyID     = errors.New("config: bad myid file")
)

// Error is a configuration error: File, then Key (when there is one), then
// what is wrong and how to fix it.
type Error struct {
	File string
	Key  string
	Msg  string
	Err  error // one of the sentinels above
}

func (e *Error) Error() string {
	if e.Key == "" {
		return e.File + ": " + e.Msg
	}
	return e.File + ": " + e.Key + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Defaults (Apache 3.8 unless noted).
const (
	DefaultTickTime           = 2000 * time.Millisecond
	DefaultInitLimit          = 10
	DefaultSyncLimit          = 5
	DefaultClientPort         = 2181
	DefaultMaxClientCnxns     = 60
	DefaultSnapCount          = 100000
	DefaultPreAllocSize       = 64 << 20 // bytes (65536 KiB)
	DefaultJuteMaxBuffer      = 0xfffff
	DefaultSnapRetainCount    = 3 // also the minimum
	DefaultMetricsHTTPPort    = 7000
	DefaultMetricsHTTPHost    = "0.0.0.0"
	DefaultAdminServerAddress = "0.0.0.0"
	DefaultAdminServerPort    = 8080
	DefaultAdminCommandURL    = "/commands"
	DefaultAdminIdleTimeout   = 30 * time.Second
	DefaultElectionAlg        = 3
	DefaultListenBacklog      = -1
	superDigestKey            = "DigestAuthenticationProvider.superDigest"
	superDigestKeyWithPrefix  = "zookeeper." + superDigestKey
	fourLetterWhitelistKey    = "4lw.commands.whitelist"
	fourLetterWhitelistKeyAlt = "zookeeper.4lw.commands.whitelist"
)

// Default returns a Config with every default set and no dataDir; callers
// building a Config in code set DataDir (and ClientPort 0 for tests) and call
// Validate.
func Default() *Config {
	return &Config{
		Path:                     "zoo.cfg",
		TickTime:                 DefaultTickTime,
		InitLimit:                DefaultInitLimit,
		SyncLimit:                DefaultSyncLimit,
		ClientPort:               DefaultClientPort,
		MaxClientCnxns:           DefaultMaxClientCnxns,
		SnapCount:                DefaultSnapCount,
		PreAllocSize:             DefaultPreAllocSize,
		JuteMaxBuffer:            DefaultJuteMaxBuffer,
		AutopurgeSnapRetainCount: DefaultSnapRetainCount,
		FourLetterWhitelist:      []string{"srvr"},
		MetricsHTTPPort:          DefaultMetricsHTTPPort,
		MetricsHTTPHost:          DefaultMetricsHTTPHost,
		Standalone:               true,
		StandaloneEnabled:        true,
		ElectionAlg:              DefaultElectionAlg,
		ClientPortListenBacklog:  DefaultListenBacklog,
		AdminEnableServer:        true,
		AdminServerAddress:       DefaultAdminServerAddress,
		AdminServerPort:          DefaultAdminServerPort,
		AdminCommandURL:          DefaultAdminCommandURL,
		AdminIdleTimeout:         DefaultAdminIdleTimeout,
	}
}

// Parse reads zoo.cfg at path, and dataDir/myid when server.N lines make
// this server part of a quorum, fills in defaults and validates. A relative
// dataDir or dataLogDir resolves against the current working directory.
func Parse(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read the configuration file: %v (pass the path of an existing zoo.cfg; deploy/conf/zoo.cfg is a sample)", err), Err: ErrRead}
	}
	return ParseBytes(path, data)
}

// ParseBytes is Parse on the contents of a file; path names it in errors
// and locates nothing else (myid is read from dataDir).
func ParseBytes(path string, data []byte) (*Config, error) {
	c := Default()
	c.Path = path
	c.InitialConfig = string(data)
	p := parser{c: c}
	minSession, maxSession := int64(-1), int64(-1)
	seenServer := map[int64]bool{}
	for _, kv := range parseProperties(string(data)) {
		key, value := strings.TrimSpace(kv.Key), strings.TrimSpace(kv.Value)
		switch key {
		case "tickTime":
			c.TickTime = time.Duration(p.int(key, value)) * time.Millisecond
		case "initLimit":
			c.InitLimit = p.int(key, value)
		case "syncLimit":
			c.SyncLimit = p.int(key, value)
		case "dataDir":
			c.DataDir = p.dir(key, value)
		case "dataLogDir":
			c.DataLogDir = p.dir(key, value)
		case "clientPort":
			c.ClientPort = p.int(key, value)
		case "clientPortAddress":
			c.ClientPortAddress = value
		case "secureClientPort":
			c.SecureClientPort = p.int(key, value)
		case "clientPortListenBacklog":
			c.ClientPortListenBacklog = p.int(key, value)
		case "maxClientCnxns":
			c.MaxClientCnxns = p.int(key, value)
		case "minSessionTimeout":
			minSession = int64(p.int(key, value))
		case "maxSessionTimeout":
			maxSession = int64(p.int(key, value))
		case "snapCount", "zookeeper.snapCount":
			c.SnapCount = p.int(key, value)
		case "preAllocSize", "zookeeper.preAllocSize":
			c.PreAllocSize = p.int64(key, value) * 1024
		case "jute.maxbuffer", "zookeeper.jute.maxbuffer":
			c.JuteMaxBuffer = p.int(key, value)
		case "autopurge.snapRetainCount":
			c.AutopurgeSnapRetainCount = p.int(key, value)
		case "autopurge.purgeInterval":
			c.AutopurgePurgeInterval = p.int(key, value)
		case fourLetterWhitelistKey, fourLetterWhitelistKeyAlt:
			c.FourLetterWhitelist = parseWhitelist(value)
		case "metricsProvider.httpPort":
			c.MetricsHTTPPort = p.int(key, value)
		case "metricsProvider.httpHost":
			c.MetricsHTTPHost = value
		case superDigestKey, superDigestKeyWithPrefix:
			c.SuperDigest = value
		case "standaloneEnabled":
			c.StandaloneEnabled = p.bool(key, value)
		case "reconfigEnabled":
			c.ReconfigEnabled = p.bool(key, value)
		case "electionAlg":
			c.ElectionAlg = p.int(key, value)
		case "peerType":
			switch strings.ToLower(value) {
			case "observer":
				c.PeerTypeObserver = true
			case "participant":
				c.PeerTypeObserver = false
			default:
				p.fail(key, fmt.Sprintf("%q is not a peer type (use participant or observer)", value), ErrValue)
			}
		case "admin.enableServer":
			c.AdminEnableServer = p.bool(key, value)
		case "admin.serverAddress":
			c.AdminServerAddress = value
		case "admin.serverPort":
			c.AdminServerPort = p.int(key, value)
		case "admin.commandURL":
			c.AdminCommandURL = value
		case "admin.idleTimeout":
			c.AdminIdleTimeout = time.Duration(p.int(key, value)) * time.Millisecond
		case "dynamicConfigFile":
			p.fail(key, "dynamic configuration files are not supported; put the server.N lines in this file", ErrValue)
		default:
			if strings.HasPrefix(key, "server.") {
				s, ok := p.server(key, value)
				if ok {
					if seenServer[s.ID] {
						p.fail(key, fmt.Sprintf("server id %d appears twice; give each server.N line its own N", s.ID), ErrValue)
					}
					seenServer[s.ID] = true
					c.Servers = append(c.Servers, s)
				}
				continue
			}
			c.Extra = append(c.Extra, KV{Key: key, Value: value})
		}
	}
	if p.err != nil {
		return nil, p.err
	}
	sort.SliceStable(c.Servers, func(i, j int) bool { return c.Servers[i].ID < c.Servers[j].ID })
	if c.DataLogDir == "" {
		c.DataLogDir = c.DataDir
	}
	if minSession == -1 {
		c.MinSessionTimeout = 2 * c.TickTime
	} else {
		c.MinSessionTimeout = time.Duration(minSession) * time.Millisecond
	}
	if maxSession == -1 {
		c.MaxSessionTimeout = 20 * c.TickTime
	} else {
		c.MaxSessionTimeout = time.Duration(maxSession) * time.Millisecond
	}
	if c.AutopurgeSnapRetainCount < DefaultSnapRetainCount {
		// Apache warns and uses the minimum.
		c.AutopurgeSnapRetainCount = DefaultSnapRetainCount
	}
	c.Standalone = !c.Distributed()
	if c.DataDir != "" {
		if err := c.readMyID(); err != nil {
			return nil, err
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.applyOwnServerLine()
	return c, nil
}

// Distributed reports whether this configuration runs a quorum: more than
// one voting server.N line, or any when standaloneEnabled=false.
func (c *Config) Distributed() bool {
	voting := 0
	for _, s := range c.Servers {
		if !s.Observer {
			voting++
		}
	}
	if len(c.Servers) == 0 && c.StandaloneEnabled {
		return false
	}
	return !c.StandaloneEnabled || voting > 1
}

// MyIDPath is the myid file: dataDir/myid.
func (c *Config) MyIDPath() string { return filepath.Join(c.DataDir, "myid") }

// readMyID reads dataDir/myid like Apache: the first line, a decimal number.
// A missing file is fine for a standalone server (serverId stays 0).
func (c *Config) readMyID() error {
	path := c.MyIDPath()
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if c.Distributed() && len(c.Servers) > 0 {
				return &Error{File: path, Msg: fmt.Sprintf("myid file is missing; %s has server.N lines, so write this server's N into %s (echo N > %s)", c.Path, path, path), Err: ErrMyID}
			}
			return nil
		}
		return &Error{File: path, Msg: fmt.Sprintf("cannot read myid: %v", err), Err: ErrMyID}
	}
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimSpace(line)
	id, err := strconv.ParseInt(line, 10, 64)
	if err != nil {
		return &Error{File: path, Msg: fmt.Sprintf("serverid %q is not a number; the file must hold this server's N from a server.N line of %s", line, c.Path), Err: ErrMyID}
	}
	c.MyID = id
	return nil
}

// applyOwnServerLine takes the client address and role from this server's
// own server.N line (Apache's setupClientPort and setupPeerType).
func (c *Config) applyOwnServerLine() {
	if !c.Distributed() {
		return
	}
	for _, s := range c.Servers {
		if s.ID != c.MyID {
			continue
		}
		if s.ClientPort != 0 {
			c.ClientPort = s.ClientPort
			c.ClientPortAddress = s.ClientAddress
		}
		c.PeerTypeObserver = s.Observer
	}
}

// Validate checks ranges and combinations; messages name the file and key.
func (c *Config) Validate() error {
	f := c.Path
	if f == "" {
		f = "zoo.cfg"
	}
	bad := func(key, msg string, sentinel error) error {
		return &Error{File: f, Key: key, Msg: msg, Err: sentinel}
	}
	if c.DataDir == "" {
		return &Error{File: f, Msg: "dataDir is required (add a line dataDir=/path/to/data)", Err: ErrRequired}
	}
	if c.TickTime <= 0 {
		return bad("tickTime", fmt.Sprintf("%d must be a positive number of milliseconds", c.TickTime.Milliseconds()), ErrValue)
	}
	if err := checkPort(f, "clientPort", c.ClientPort, 0); err != nil {
		return err
	}
	if c.SecureClientPort != 0 {
		if err := checkPort(f, "secureClientPort", c.SecureClientPort, 1); err != nil {
			return err
		}
	}
	if c.ClientPortAddress != "" && net.ParseIP(c.ClientPortAddress) == nil && !validHostname(c.ClientPortAddress) {
		return bad("clientPortAddress", fmt.Sprintf("%q is not an IP address or host name", c.ClientPortAddress), ErrValue)
	}
	if c.MaxClientCnxns < 0 {
		return bad("maxClientCnxns", fmt.Sprintf("%d must be 0 (unlimited) or more", c.MaxClientCnxns), ErrValue)
	}
	if c.MinSessionTimeout <= 0 {
		return bad("minSessionTimeout", fmt.Sprintf("%d must be a positive number of milliseconds", c.MinSessionTimeout.Milliseconds()), ErrValue)
	}
	if c.MinSessionTimeout > c.MaxSessionTimeout {
		return bad("minSessionTimeout", fmt.Sprintf("%d must not be larger than maxSessionTimeout %d", c.MinSessionTimeout.Milliseconds(), c.MaxSessionTimeout.Milliseconds()), ErrValue)
	}
	if c.SnapCount < 2 {
		return bad("snapCount", fmt.Sprintf("%d must be 2 or more", c.SnapCount), ErrValue)
	}
	if c.PreAllocSize <= 0 {
		return bad("preAllocSize", fmt.Sprintf("%d must be a positive number of KiB", c.PreAllocSize/1024), ErrValue)
	}
	if c.JuteMaxBuffer <= 0 {
		return bad("jute.maxbuffer", fmt.Sprintf("%d must be a positive number of bytes", c.JuteMaxBuffer), ErrValue)
	}
	if c.AutopurgePurgeInterval < 0 {
		return bad("autopurge.purgeInterval", fmt.Sprintf("%d must be 0 (off) or a number of hours", c.AutopurgePurgeInterval), ErrValue)
	}
	if c.MetricsHTTPPort != -1 {
		if err := checkPort(f, "metricsProvider.httpPort", c.MetricsHTTPPort, 0); err != nil {
			return bad("metricsProvider.httpPort", fmt.Sprintf("%d is out of range 0-65535 (-1 disables metrics)", c.MetricsHTTPPort), ErrValue)
		}
	}
	if c.AdminEnableServer {
		if err := checkPort(f, "admin.serverPort", c.AdminServerPort, 0); err != nil {
			return err
		}
		if !strings.HasPrefix(c.AdminCommandURL, "/") {
			return bad("admin.commandURL", fmt.Sprintf("%q must be a path starting with / (default /commands)", c.AdminCommandURL), ErrValue)
		}
		if c.AdminIdleTimeout <= 0 {
			return bad("admin.idleTimeout", fmt.Sprintf("%d must be a positive number of milliseconds", c.AdminIdleTimeout.Milliseconds()), ErrValue)
		}
	}
	if c.SuperDigest != "" {
		user, digest, ok := strings.Cut(c.SuperDigest, ":")
		if !ok || user == "" || digest == "" {
			return bad(superDigestKey, fmt.Sprintf("%q must be user:base64digest (see the digest scheme of zkCli.sh addauth)", c.SuperDigest), ErrValue)
		}
	}
	if c.ElectionAlg != 3 {
		return bad("electionAlg", fmt.Sprintf("%d is not supported; only 3 (fast leader election) is", c.ElectionAlg), ErrValue)
	}
	voting, observers := 0, 0
	for _, s := range c.Servers {
		key := fmt.Sprintf("server.%d", s.ID)
		if s.ID < 0 {
			return bad(key, "the server id must be 0 or more", ErrValue)
		}
		if err := checkPort(f, key, s.QuorumPort, 1); err != nil {
			return err
		}
		if err := checkPort(f, key, s.ElectionPort, 1); err != nil {
			return err
		}
		if s.ClientPort != 0 {
			if err := checkPort(f, key, s.ClientPort, 1); err != nil {
				return err
			}
		}
		if s.Observer {
			observers++
		} else {
			voting++
		}
	}
	// Two server.N lines (or one line's two ports) on the same address
	// cannot both bind: QuorumPeerConfig refuses them too.
	used := map[string]string{}
	for _, s := range c.Servers {
		key := fmt.Sprintf("server.%d", s.ID)
		for _, p := range []struct {
			what string
			port int
		}{{"quorum port", s.QuorumPort}, {"election port", s.ElectionPort}} {
			addr := net.JoinHostPort(s.Host, strconv.Itoa(p.port))
			if prev, dup := used[addr]; dup {
				return bad(key, fmt.Sprintf("%s %s is already used as the %s; give every server.N line its own quorum and election ports", p.what, addr, prev), ErrValue)
			}
			used[addr] = fmt.Sprintf("%s of %s", p.what, key)
		}
	}
	if voting == 0 && !c.StandaloneEnabled {
		return bad("standaloneEnabled", "standaloneEnabled=false needs at least one participant server.N line", ErrValue)
	}
	if voting == 0 && observers > 0 {
		return bad("server", "observers without participants is an invalid configuration; add participant server.N lines", ErrValue)
	}
	if voting == 1 && observers > 0 && c.StandaloneEnabled {
		return bad("server", "observers without a quorum is an invalid configuration; add participants or set standaloneEnabled=false", ErrValue)
	}
	if c.Distributed() {
		if c.InitLimit <= 0 {
			return bad("initLimit", fmt.Sprintf("%d must be a positive number of ticks", c.InitLimit), ErrValue)
		}
		if c.SyncLimit <= 0 {
			return bad("syncLimit", fmt.Sprintf("%d must be a positive number of ticks", c.SyncLimit), ErrValue)
		}
		found := false
		for _, s := range c.Servers {
			found = found || s.ID == c.MyID
		}
		if !found {
			return &Error{File: c.MyIDPath(), Msg: fmt.Sprintf("myid %d has no server.%d line in %s; fix the myid file or add the line", c.MyID, c.MyID, f), Err: ErrMyID}
		}
	}
	return nil
}

func checkPort(file, key string, port, min int) error {
	if port < min || port > 65535 {
		return &Error{File: file, Key: key, Msg: fmt.Sprintf("%d is out of range %d-65535", port, min), Err: ErrValue}
	}
	return nil
}

func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, r := range h {
		if !(r == '-' || r == '.' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func parseWhitelist(v string) []string {
	var out []string
	for _, w := range strings.Split(v, ",") {
		if w = strings.TrimSpace(w); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// FourLetterAllowed reports whether 4lw.commands.whitelist allows word.
func (c *Config) FourLetterAllowed(word string) bool {
	for _, w := range c.FourLetterWhitelist {
		if w == "*" || w == word {
			return true
		}
	}
	return false
}

// parser collects the first error of a pass over the properties.
type parser struct {
	c   *Config
	err error
}

func (p *parser) fail(key, msg string, sentinel error) {
	if p.err == nil {
		p.err = &Error{File: p.c.Path, Key: key, Msg: msg, Err: sentinel}
	}
}

func (p *parser) int(key, value string) int {
	n, err := strconv.ParseInt(value, 10, 32)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			p.fail(key, fmt.Sprintf("%q is out of range for a 32-bit number", value), ErrValue)
		} else {
			p.fail(key, fmt.Sprintf("%q is not a number", value), ErrValue)
		}
		return 0
	}
	return int(n)
}

func (p *parser) int64(key, value string) int64 {
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		p.fail(key, fmt.Sprintf("%q is not a number", value), ErrValue)
		return 0
	}
	return n
}

func (p *parser) bool(key, value string) bool {
	switch strings.ToLower(value) {
	case "true":
		return true
	case "false":
		return false
	}
	p.fail(key, fmt.Sprintf("%q is not a boolean (use true or false)", value), ErrValue)
	return false
}

func (p *parser) dir(key, value string) string {
	if value == "" {
		p.fail(key, "is empty; give a directory path", ErrValue)
		return ""
	}
	abs, err := filepath.Abs(value)
	if err != nil {
		p.fail(key, fmt.Sprintf("cannot resolve %q: %v", value, err), ErrValue)
		return ""
	}
	return abs
}

// server parses "server.N=host:quorumPort:electionPort[:participant|:observer][;[clientAddr:]clientPort]".
func (p *parser) server(key, value string) (Server, bool) {
	idText := strings.TrimPrefix(key, "server.")
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		p.fail(key, fmt.Sprintf("%q is not a server id; use server.N with N a number", idText), ErrValue)
		return Server{}, false
	}
	form := "use host:quorumPort:electionPort[:participant|:observer][;[clientAddress:]clientPort]"
	s := Server{ID: id}
	serverPart, clientPart, hasClient := strings.Cut(value, ";")
	if hasClient {
		if strings.Contains(clientPart, ";") {
			p.fail(key, fmt.Sprintf("%q has more than one ';'; %s", value, form), ErrValue)
			return Server{}, false
		}
		host, port, err := splitHost(clientPart)
		if err != nil || len(port) > 1 {
			p.fail(key, fmt.Sprintf("%q has a bad client address %q; %s", value, clientPart, form), ErrValue)
			return Server{}, false
		}
		if len(port) == 0 { // only a port
			port, host = []string{host}, ""
		}
		n, err := strconv.Atoi(port[0])
		if err != nil {
			p.fail(key, fmt.Sprintf("client port %q is not a number; %s", port[0], form), ErrValue)
			return Server{}, false
		}
		s.ClientAddress, s.ClientPort = host, n
	}
	if strings.Contains(serverPart, "|") {
		p.fail(key, fmt.Sprintf("%q: multiple addresses per server (|) are not supported", value), ErrValue)
		return Server{}, false
	}
	host, rest, err := splitHost(serverPart)
	if err != nil || host == "" || len(rest) < 2 || len(rest) > 3 {
		p.fail(key, fmt.Sprintf("%q does not have the right form; %s", value, form), ErrValue)
		return Server{}, false
	}
	s.Host = host
	if s.QuorumPort, err = strconv.Atoi(rest[0]); err != nil {
		p.fail(key, fmt.Sprintf("quorum port %q is not a number; %s", rest[0], form), ErrValue)
		return Server{}, false
	}
	if s.ElectionPort, err = strconv.Atoi(rest[1]); err != nil {
		p.fail(key, fmt.Sprintf("election port %q is not a number; %s", rest[1], form), ErrValue)
		return Server{}, false
	}
	if len(rest) == 3 {
		switch strings.ToLower(rest[2]) {
		case "observer":
			s.Observer = true
		case "participant":
		default:
			p.fail(key, fmt.Sprintf("%q is not a peer type (use participant or observer)", rest[2]), ErrValue)
			return Server{}, false
		}
	}
	return s, true
}

// splitHost splits "host:a:b", "[v6]:a:b" into the host and the remaining
// colon-separated parts.
func splitHost(s string) (string, []string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return "", nil, fmt.Errorf("unterminated [")
		}
		host := s[1:end]
		rest := s[end+1:]
		if rest == "" {
			return host, nil, nil
		}
		if rest[0] != ':' {
			return "", nil, fmt.Errorf("expected ':' after ]")
		}
		return host, strings.Split(rest[1:], ":"), nil
	}
	parts := strings.Split(s, ":")
	return parts[0], parts[1:], nil
}

// ConfKV returns the conf four-letter word's lines for this configuration,
// in Apache 3.8's order. The server passes what only it knows: the port it
// bound (for clientPort=0) and the current sizes of dataDir and dataLogDir
// (the dirs word's numbers). The snapshot and log directories are printed
// with their "version-2" subdirectory, as Apache does.
func (c *Config) ConfKV(boundClientPort int, dataDirSize, dataLogSize int64) []fourlw.KV {
	secure := c.SecureClientPort
	if secure == 0 {
		secure = -1
	}
	i := strconv.Itoa
	kv := []fourlw.KV{
		{Key: "clientPort", Value: i(boundClientPort)},
		{Key: "secureClientPort", Value: i(secure)},
		{Key: "dataDir", Value: filepath.Join(c.DataDir, "version-2")},
		{Key: "dataDirSize", Value: strconv.FormatInt(dataDirSize, 10)},
		{Key: "dataLogDir", Value: filepath.Join(c.DataLogDir, "version-2")},
		{Key: "dataLogSize", Value: strconv.FormatInt(dataLogSize, 10)},
		{Key: "tickTime", Value: strconv.FormatInt(c.TickTime.Milliseconds(), 10)},
		{Key: "maxClientCnxns", Value: i(c.MaxClientCnxns)},
		{Key: "minSessionTimeout", Value: strconv.FormatInt(c.MinSessionTimeout.Milliseconds(), 10)},
		{Key: "maxSessionTimeout", Value: strconv.FormatInt(c.MaxSessionTimeout.Milliseconds(), 10)},
		{Key: "clientPortListenBacklog", Value: i(c.ClientPortListenBacklog)},
		{Key: "serverId", Value: strconv.FormatInt(c.MyID, 10)},
	}
	if !c.Distributed() {
		return kv
	}
	peerType := "0" // LearnerType.PARTICIPANT.ordinal()
	if c.PeerTypeObserver {
		peerType = "1"
	}
	quorumPort, electionPort := 0, 0
	for _, s := range c.Servers {
		if s.ID == c.MyID {
			quorumPort, electionPort = s.QuorumPort, s.ElectionPort
		}
	}
	return append(kv,
		fourlw.KV{Key: "initLimit", Value: i(c.InitLimit)},
		fourlw.KV{Key: "syncLimit", Value: i(c.SyncLimit)},
		fourlw.KV{Key: "electionAlg", Value: i(c.ElectionAlg)},
		fourlw.KV{Key: "electionPort", Value: i(electionPort)},
		fourlw.KV{Key: "quorumPort", Value: i(quorumPort)},
		fourlw.KV{Key: "peerType", Value: peerType},
	)
}

// Membership is the quorum verifier text a leader's conf prints after
// "membership: " (fourlw.WriteConfMembership): one "server.N=" line per
// server in Apache's QuorumServer.toString form, then "version=0".
func (c *Config) Membership() string {
	var b strings.Builder
	for _, s := range c.Servers {
		role := "participant"
		if s.Observer {
			role = "observer"
		}
		clientHost, clientPort := s.ClientAddress, s.ClientPort
		if clientPort == 0 && s.ID == c.MyID {
			clientHost, clientPort = c.ClientPortAddress, c.ClientPort
		}
		fmt.Fprintf(&b, "server.%d=%s:%d:%d:%s", s.ID, bracketV6(s.Host), s.QuorumPort, s.ElectionPort, role)
		if clientPort != 0 {
			if clientHost == "" {
				clientHost = "0.0.0.0"
			}
			fmt.Fprintf(&b, ";%s:%d", bracketV6(clientHost), clientPort)
		}
		b.WriteString("\n")
	}
	b.WriteString("version=0")
	return b.String()
}

func bracketV6(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}
