// Package config reads a Kafka 2.8 server.properties file: the keys brokerd
// acts on, with Kafka's defaults; other Kafka keys are accepted and listed
// in Extra.
package config

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
)

// ErrConfig is wrapped by every configuration error; the message names the
// file and the key.
var ErrConfig = errors.New("config: invalid server.properties")

// Listener is one entry of listeners / advertised.listeners:
// NAME://host:port.
type Listener struct {
	Name string // PLAINTEXT, or a name mapped in listener.security.protocol.map
	Host string // empty = all interfaces (listeners only)
	Port int
}

func (l Listener) String() string {
	return l.Name + "://" + net.JoinHostPort(l.Host, strconv.Itoa(l.Port))
}

// Config is a parsed server.properties.
type Config struct {
	Path string // the file it was read from, for messages

	BrokerID                 int32      // broker.id, default -1 = generated from /brokers/seqid (or meta.properties)
	Listeners                []Listener // listeners, default PLAINTEXT://:9092
	AdvertisedListeners      []Listener // advertised.listeners, default listeners (host = os.Hostname when empty)
	SecurityProtocolMap      map[string]string
	LogDirs                  []string // log.dirs (or log.dir), default /tmp/kafka-logs
	NumPartitions            int32    // num.partitions, default 1
	DefaultReplicationFactor int16    // default.replication.factor, default 1
	ZookeeperConnect         string   // zookeeper.connect, required
	ZookeeperSessionTimeout  int      // zookeeper.session.timeout.ms, default 18000
	DeleteTopicEnable        bool     // delete.topic.enable, default true
	AutoCreateTopicsEnable   bool     // auto.create.topics.enable, default true
	LogRetentionMs           int64    // log.retention.ms / .minutes / .hours (168 h default); -1 = forever
	LogRetentionBytes        int64    // log.retention.bytes, default -1
	LogRetentionCheckMs      int64    // log.retention.check.interval.ms, default 300000
	LogSegmentBytes          int64    // log.segment.bytes, default 1 GiB
	LogRollMs                int64    // log.roll.ms / log.roll.hours (168 h default)
	OffsetsTopicRF           int16    // offsets.topic.replication.factor, default 3
	OffsetsTopicPartitions   int32    // offsets.topic.num.partitions, default 50
	MessageMaxBytes          int32    // message.max.bytes, default 1048588
	SocketRequestMaxBytes    int32    // socket.request.max.bytes, default 104857600
	MinInsyncReplicas        int      // min.insync.replicas, default 1
	MetricsPort              int      // metrics.port (brokerd's Prometheus port), default 9404; -1 = off

	// Replication (issue 8).
	ReplicaLagTimeMaxMs          int64 // replica.lag.time.max.ms, default 30000
	ReplicaFetchWaitMaxMs        int64 // replica.fetch.wait.max.ms, default 500
	ReplicaFetchMaxBytes         int32 // replica.fetch.max.bytes, default 1048576
	ReplicaFetchResponseMaxBytes int32 // replica.fetch.response.max.bytes, default 10485760
	ReplicaFetchBackoffMs        int64 // replica.fetch.backoff.ms, default 1000
	ReplicaHWCheckpointMs        int64 // replica.high.watermark.checkpoint.interval.ms, default 5000
	UncleanLeaderElection        bool  // unclean.leader.election.enable, default false
	ControlledShutdownEnable     bool  // controlled.shutdown.enable, default true
	AutoLeaderRebalanceEnable    bool  // auto.leader.rebalance.enable, default true
	LeaderImbalanceCheckSeconds  int64 // leader.imbalance.check.interval.seconds, default 300
	LeaderImbalancePercentage    int   // leader.imbalance.per.broker.percentage, default 10

	// MaxIncrementalFetchSessionCacheSlots is
	// max.incremental.fetch.session.cache.slots, default 1000: how many
	// fetch sessions (KIP-227) the broker keeps; 0 keeps none.
	MaxIncrementalFetchSessionCacheSlots int

	OffsetsRetentionMinutes  int64 // offsets.retention.minutes, default 10080 (7 days)
	OffsetsRetentionCheckMs  int64 // offsets.retention.check.interval.ms, default 600000
	ReservedBrokerMaxID      int32 // reserved.broker.max.id, default 1000
	BrokerIDGenerationEnable bool  // broker.id.generation.enable, default true

	GroupInitialRebalanceDelayMs int64 // group.initial.rebalance.delay.ms, default 3000
	GroupMinSessionTimeoutMs     int64 // group.min.session.timeout.ms, default 6000
	GroupMaxSessionTimeoutMs     int64 // group.max.session.timeout.ms, default 1800000

	Extra []KV // other keys, file order
	Raw   []KV // every key as written, file order
}

// Sets reports whether the file sets key.
func (c Config) Sets(key string) bool {
	_, ok := c.Value(key)
	return ok
}

// Value is key's value as written in the file (the last one wins).
func (c Config) Value(key string) (string, bool) {
	for i := len(c.Raw) - 1; i >= 0; i-- {
		if c.Raw[i].Key == key {
			return c.Raw[i].Value, true
		}
	}
	return "", false
}

// KV is a key and its value.
type KV struct{ Key, Value string }

// Default returns Kafka 2.8's defaults (broker.id and zookeeper.connect
// must still be set).
func Default() Config {
	return Config{
		BrokerID:                 -1,
		Listeners:                []Listener{{Name: "PLAINTEXT", Port: 9092}},
		SecurityProtocolMap:      map[string]string{"PLAINTEXT": "PLAINTEXT", "SSL": "SSL", "SASL_PLAINTEXT": "SASL_PLAINTEXT", "SASL_SSL": "SASL_SSL"},
		LogDirs:                  []string{"/tmp/kafka-logs"},
		NumPartitions:            1,
		DefaultReplicationFactor: 1,
		ZookeeperSessionTimeout:  18000,
		DeleteTopicEnable:        true,
		AutoCreateTopicsEnable:   true,
		LogRetentionMs:           168 * 3600 * 1000,
		LogRetentionBytes:        -1,
		LogRetentionCheckMs:      300000,
		LogSegmentBytes:          1 << 30,
		LogRollMs:                168 * 3600 * 1000,
		OffsetsTopicRF:           3,
		OffsetsTopicPartitions:   50,
		MessageMaxBytes:          1048588,
		SocketRequestMaxBytes:    104857600,
		MinInsyncReplicas:        1,
		MetricsPort:              9404,

		ReplicaLagTimeMaxMs:          30000,
		ReplicaFetchWaitMaxMs:        500,
		ReplicaFetchMaxBytes:         1048576,
		ReplicaFetchResponseMaxBytes: 10485760,
		ReplicaFetchBackoffMs:        1000,
		ReplicaHWCheckpointMs:        5000,
		ControlledShutdownEnable:     true,
		AutoLeaderRebalanceEnable:    true,
		LeaderImbalanceCheckSeconds:  300,
		LeaderImbalancePercentage:    10,

		MaxIncrementalFetchSessionCacheSlots: 1000,

		OffsetsRetentionMinutes:  10080,
		OffsetsRetentionCheckMs:  600000,
		ReservedBrokerMaxID:      1000,
		BrokerIDGenerationEnable: true,

		GroupInitialRebalanceDelayMs: 3000,
		GroupMinSessionTimeoutMs:     6000,
		GroupMaxSessionTimeoutMs:     1800000,
	}
}

// Load reads and parses a server.properties file.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("%w: read %s: %w", ErrConfig, path, err)
	}
	return Parse(path, string(b))
}

// ParseProperties reads Java properties text: key=value or key:value,
// '#' and '!' comments, backslash line continuations.
func ParseProperties(text string) []KV {
	var out []KV
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var pending string
	for sc.Scan() {
		line := strings.TrimLeft(sc.Text(), " \t\f")
		if pending == "" && (line == "" || line[0] == '#' || line[0] == '!') {
			continue
		}
		if strings.HasSuffix(line, "\\") && !strings.HasSuffix(line, "\\\\") {
			pending += strings.TrimSuffix(line, "\\")
			continue
		}
		line = pending + line
		pending = ""
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			out = append(out, KV{Key: strings.TrimSpace(line)})
			continue
		}
		out = append(out, KV{Key: strings.TrimSpace(line[:i]), Value: strings.TrimSpace(line[i+1:])})
	}
	if pending != "" {
		i := strings.IndexAny(pending, "=:")
		if i >= 0 {
			out = append(out, KV{Key: strings.TrimSpace(pending[:i]), Value: strings.TrimSpace(pending[i+1:])})
		}
	}
	return out
}

// Parse parses server.properties text; path is only used in messages.
func Parse(path, text string) (Config, error) {
	c := Default()
	c.Path = path
	bad := func(key, val, want string) error {
		return fmt.Errorf("%w: %s: %s=%q: %s", ErrConfig, path, key, val, want)
	}
	var retentionMs, retentionMin, retentionH, rollMs, rollH string
	var advertised string
	for _, kv := range ParseProperties(text) {
		k, v := kv.Key, kv.Value
		c.Raw = append(c.Raw, kv)
		var err error
		switch k {
		case "broker.id":
			var n int64
			if n, err = strconv.ParseInt(v, 10, 32); err != nil || n < -1 {
				return c, bad(k, v, "want an integer >= 0, or -1 for a generated id")
			}
			c.BrokerID = int32(n)
		case "listeners":
			if c.Listeners, err = parseListeners(v, true); err != nil {
				return c, bad(k, v, err.Error())
			}
		case "advertised.listeners":
			advertised = v
		case "listener.security.protocol.map":
			m := map[string]string{}
			for _, e := range strings.Split(v, ",") {
				name, proto, ok := strings.Cut(strings.TrimSpace(e), ":")
				if !ok || name == "" || proto == "" {
					return c, bad(k, v, "want NAME:PROTOCOL[,NAME:PROTOCOL...]")
				}
				m[strings.ToUpper(name)] = strings.ToUpper(proto)
			}
			c.SecurityProtocolMap = m
		case "log.dirs", "log.dir":
			if k == "log.dir" && hasKey(text, "log.dirs") {
				continue // log.dirs wins, as in Kafka
			}
			c.LogDirs = nil
			for _, d := range strings.Split(v, ",") {
				if d = strings.TrimSpace(d); d != "" {
					c.LogDirs = append(c.LogDirs, d)
				}
			}
			if len(c.LogDirs) == 0 {
				return c, bad(k, v, "want one or more directories, comma separated")
			}
		case "num.partitions":
			n, e := atoiMin(v, 1)
			if e != nil {
				return c, bad(k, v, e.Error())
			}
			c.NumPartitions = int32(n)
		case "default.replication.factor":
			n, e := atoiMin(v, 1)
			if e != nil || n > 32767 {
				return c, bad(k, v, "want an integer from 1 to 32767")
			}
			c.DefaultReplicationFactor = int16(n)
		case "zookeeper.connect":
			c.ZookeeperConnect = v
		case "zookeeper.session.timeout.ms":
			if c.ZookeeperSessionTimeout, err = atoiMin(v, 1); err != nil {
				return c, bad(k, v, err.Error())
			}
		case "delete.topic.enable":
			if c.DeleteTopicEnable, err = parseBool(v); err != nil {
				return c, bad(k, v, err.Error())
			}
		case "auto.create.topics.enable":
			if c.AutoCreateTopicsEnable, err = parseBool(v); err != nil {
				return c, bad(k, v, err.Error())
			}
		case "log.retention.ms":
			retentionMs = v
		case "log.retention.minutes":
			retentionMin = v
		case "log.retention.hours":
			retentionH = v
		case "log.retention.bytes":
			if c.LogRetentionBytes, err = strconv.ParseInt(v, 10, 64); err != nil || c.LogRetentionBytes < -1 {
				return c, bad(k, v, "want -1 or a byte count")
			}
		case "log.retention.check.interval.ms":
			if c.LogRetentionCheckMs, err = strconv.ParseInt(v, 10, 64); err != nil || c.LogRetentionCheckMs < 1 {
				return c, bad(k, v, "want a positive number of milliseconds")
			}
		case "log.segment.bytes":
			if c.LogSegmentBytes, err = strconv.ParseInt(v, 10, 32); err != nil || c.LogSegmentBytes < 14 {
				return c, bad(k, v, "want an integer from 14 to 2147483647")
			}
		case "log.roll.ms":
			rollMs = v
		case "log.roll.hours":
			rollH = v
		case "offsets.topic.replication.factor":
			n, e := atoiMin(v, 1)
			if e != nil || n > 32767 {
				return c, bad(k, v, "want an integer from 1 to 32767")
			}
			c.OffsetsTopicRF = int16(n)
		case "offsets.topic.num.partitions":
			n, e := atoiMin(v, 1)
			if e != nil {
				return c, bad(k, v, e.Error())
			}
			c.OffsetsTopicPartitions = int32(n)
		case "message.max.bytes":
			n, e := atoiMin(v, 0)
			if e != nil || n > 1<<31-1 {
				return c, bad(k, v, "want a byte count")
			}
			c.MessageMaxBytes = int32(n)
		case "socket.request.max.bytes":
			n, e := atoiMin(v, 1)
			if e != nil || n > 1<<31-1 {
				return c, bad(k, v, "want a positive byte count")
			}
			c.SocketRequestMaxBytes = int32(n)
		case "min.insync.replicas":
			if c.MinInsyncReplicas, err = atoiMin(v, 1); err != nil {
				return c, bad(k, v, err.Error())
			}
		case "offsets.retention.minutes", "offsets.retention.check.interval.ms":
			n, e := strconv.ParseInt(v, 10, 64)
			if e != nil || n < 1 {
				return c, bad(k, v, "want a positive integer")
			}
			if k == "offsets.retention.minutes" {
				c.OffsetsRetentionMinutes = n
			} else {
				c.OffsetsRetentionCheckMs = n
			}
		case "reserved.broker.max.id":
			n, e := strconv.ParseInt(v, 10, 32)
			if e != nil || n < 0 {
				return c, bad(k, v, "want an integer >= 0")
			}
			c.ReservedBrokerMaxID = int32(n)
		case "broker.id.generation.enable":
			if c.BrokerIDGenerationEnable, err = parseBool(v); err != nil {
				return c, bad(k, v, err.Error())
			}
		case "group.initial.rebalance.delay.ms", "group.min.session.timeout.ms", "group.max.session.timeout.ms":
			n, e := strconv.ParseInt(v, 10, 64)
			if e != nil || n < 0 {
				return c, bad(k, v, "want milliseconds >= 0")
			}
			switch k {
			case "group.initial.rebalance.delay.ms":
				c.GroupInitialRebalanceDelayMs = n
			case "group.min.session.timeout.ms":
				c.GroupMinSessionTimeoutMs = n
			default:
				c.GroupMaxSessionTimeoutMs = n
			}
		case "replica.lag.time.max.ms", "replica.fetch.wait.max.ms", "replica.fetch.backoff.ms", "replica.high.watermark.checkpoint.interval.ms":
			n, e := strconv.ParseInt(v, 10, 64)
			if e != nil || n < 1 {
				return c, bad(k, v, "want a positive number of milliseconds")
			}
			switch k {
			case "replica.lag.time.max.ms":
				c.ReplicaLagTimeMaxMs = n
			case "replica.fetch.wait.max.ms":
				c.ReplicaFetchWaitMaxMs = n
			case "replica.fetch.backoff.ms":
				c.ReplicaFetchBackoffMs = n
			default:
				c.ReplicaHWCheckpointMs = n
			}
		case "replica.fetch.max.bytes", "replica.fetch.response.max.bytes":
			n, e := atoiMin(v, 1)
			if e != nil || n > 1<<31-1 {
				return c, bad(k, v, "want a positive byte count")
			}
			if k == "replica.fetch.max.bytes" {
				c.ReplicaFetchMaxBytes = int32(n)
			} else {
				c.ReplicaFetchResponseMaxBytes = int32(n)
			}
		case "unclean.leader.election.enable":
			if c.UncleanLeaderElection, err = parseBool(v); err != nil {
				return c, bad(k, v, err.Error())
			}
		case "auto.leader.rebalance.enable":
			if c.AutoLeaderRebalanceEnable, err = parseBool(v); err != nil {
				return c, bad(k, v, err.Error())
			}
		case "leader.imbalance.check.interval.seconds":
			n, e := strconv.ParseInt(v, 10, 64)
			if e != nil || n < 1 {
				return c, bad(k, v, "want a positive number of seconds")
			}
			c.LeaderImbalanceCheckSeconds = n
		case "leader.imbalance.per.broker.percentage":
			n, e := atoiMin(v, 0)
			if e != nil || n > 100 {
				return c, bad(k, v, "want a percentage from 0 to 100")
			}
			c.LeaderImbalancePercentage = n
		case "max.incremental.fetch.session.cache.slots":
			n, e := atoiMin(v, 0)
			if e != nil {
				return c, bad(k, v, "want a number of sessions >= 0 (0 keeps no fetch sessions)")
			}
			c.MaxIncrementalFetchSessionCacheSlots = n
		case "controlled.shutdown.enable":
			if c.ControlledShutdownEnable, err = parseBool(v); err != nil {
				return c, bad(k, v, err.Error())
			}
		case "metrics.port":
			n, e := strconv.Atoi(v)
			if e != nil || n < -1 || n > 65535 {
				return c, bad(k, v, "want a port, 0 for any free port, or -1 to disable")
			}
			c.MetricsPort = n
		default:
			c.Extra = append(c.Extra, kv)
		}
	}
	// log.retention.ms wins over .minutes wins over .hours, as in Kafka.
	switch {
	case retentionMs != "":
		n, err := strconv.ParseInt(retentionMs, 10, 64)
		if err != nil || n < -1 {
			return c, bad("log.retention.ms", retentionMs, "want -1 or milliseconds")
		}
		c.LogRetentionMs = n
	case retentionMin != "":
		n, err := strconv.ParseInt(retentionMin, 10, 64)
		if err != nil || n < -1 {
			return c, bad("log.retention.minutes", retentionMin, "want -1 or minutes")
		}
		c.LogRetentionMs = scaleMs(n, 60*1000)
	case retentionH != "":
		n, err := strconv.ParseInt(retentionH, 10, 64)
		if err != nil || n < -1 {
			return c, bad("log.retention.hours", retentionH, "want -1 or hours")
		}
		c.LogRetentionMs = scaleMs(n, 3600*1000)
	}
	switch {
	case rollMs != "":
		n, err := strconv.ParseInt(rollMs, 10, 64)
		if err != nil || n < 1 {
			return c, bad("log.roll.ms", rollMs, "want a positive number of milliseconds")
		}
		c.LogRollMs = n
	case rollH != "":
		n, err := strconv.ParseInt(rollH, 10, 64)
		if err != nil || n < 1 {
			return c, bad("log.roll.hours", rollH, "want a positive number of hours")
		}
		c.LogRollMs = n * 3600 * 1000
	}
	if advertised != "" {
		var err error
		if c.AdvertisedListeners, err = parseListeners(advertised, false); err != nil {
			return c, bad("advertised.listeners", advertised, err.Error())
		}
	}
	return c, c.Validate()
}

// Validate checks the cross-key rules and the classic mistakes.
func (c Config) Validate() error {
	if c.BrokerID < 0 && !c.BrokerIDGenerationEnable {
		return fmt.Errorf("%w: %s: broker.id is not set and broker.id.generation.enable=false: give each broker a unique broker.id >= 0", ErrConfig, c.Path)
	}
	if c.BrokerID > c.ReservedBrokerMaxID {
		return fmt.Errorf("%w: %s: broker.id=%d is above reserved.broker.max.id=%d, where generated ids start; lower broker.id or raise reserved.broker.max.id", ErrConfig, c.Path, c.BrokerID, c.ReservedBrokerMaxID)
	}
	if strings.TrimSpace(c.ZookeeperConnect) == "" {
		return fmt.Errorf("%w: %s: zookeeper.connect is not set: add zookeeper.connect=host:2181[,host:2181...][/chroot]", ErrConfig, c.Path)
	}
	names := map[string]bool{}
	for _, l := range c.Listeners {
		if names[l.Name] {
			return fmt.Errorf("%w: %s: listeners: listener name %s appears twice", ErrConfig, c.Path, l.Name)
		}
		names[l.Name] = true
		p, ok := c.SecurityProtocolMap[l.Name]
		if !ok {
			return fmt.Errorf("%w: %s: listeners: listener %s has no entry in listener.security.protocol.map", ErrConfig, c.Path, l.Name)
		}
		if p != "PLAINTEXT" {
			return fmt.Errorf("%w: %s: listeners: listener %s uses security protocol %s; only PLAINTEXT is served", ErrConfig, c.Path, l.Name, p)
		}
	}
	if len(c.AdvertisedListeners) == 0 {
		for _, l := range c.Listeners {
			if l.Host == "0.0.0.0" || l.Host == "::" {
				return fmt.Errorf("%w: %s: listeners=%s and advertised.listeners is not set, so the broker would advertise the non-routable meta-address %s; cannot advertise the non-routable meta-address %s: set advertised.listeners=%s://<host clients can reach>:%d",
					ErrConfig, c.Path, l, l.Host, l.Host, l.Name, l.Port)
			}
		}
	}
	for _, l := range c.AdvertisedListeners {
		if l.Host == "0.0.0.0" || l.Host == "::" {
			return fmt.Errorf("%w: %s: advertised.listeners=%s: cannot advertise the non-routable meta-address %s; set advertised.listeners to a host name or IP address clients can reach", ErrConfig, c.Path, l, l.Host)
		}
		if !names[l.Name] {
			return fmt.Errorf("%w: %s: advertised.listeners: %s has no matching entry in listeners", ErrConfig, c.Path, l.Name)
		}
	}
	if c.DefaultReplicationFactor < 1 {
		return fmt.Errorf("%w: %s: default.replication.factor must be >= 1", ErrConfig, c.Path)
	}
	return nil
}

// ExtraKeys lists the keys accepted but not acted on, sorted.
func (c Config) ExtraKeys() []string {
	out := make([]string, 0, len(c.Extra))
	for _, kv := range c.Extra {
		out = append(out, kv.Key)
	}
	sort.Strings(out)
	return out
}

func parseListeners(v string, bind bool) ([]Listener, error) {
	var out []Listener
	for _, e := range strings.Split(v, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		name, rest, ok := strings.Cut(e, "://")
		if !ok || name == "" {
			return nil, fmt.Errorf("entry %q: want NAME://host:port, e.g. PLAINTEXT://:9092", e)
		}
		host, port, err := net.SplitHostPort(rest)
		if err != nil {
			return nil, fmt.Errorf("entry %q: %v", e, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return nil, fmt.Errorf("entry %q: port %q is not a port number", e, port)
		}
		if !bind && p == 0 {
			return nil, fmt.Errorf("entry %q: an advertised port must not be 0", e)
		}
		out = append(out, Listener{Name: strings.ToUpper(name), Host: host, Port: p})
	}
	if len(out) == 0 {
		return nil, errors.New("no listener given")
	}
	return out, nil
}

func hasKey(text, key string) bool {
	for _, kv := range ParseProperties(text) {
		if kv.Key == key {
			return true
		}
	}
	return false
}

func atoiMin(v string, min int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return 0, fmt.Errorf("want an integer >= %d", min)
	}
	return n, nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errors.New("want true or false")
}

func scaleMs(n, unit int64) int64 {
	if n < 0 {
		return -1
	}
	return n * unit
}
