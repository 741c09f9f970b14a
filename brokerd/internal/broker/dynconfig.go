package broker

// Dynamic configuration, as Kafka 2.8 keeps it in ZooKeeper:
//
//   - topic configs in /config/topics/<t> (Kafka's LogConfig keys); each
//     key has a broker synonym (segment.bytes <- log.segment.bytes) that
//     gives the default;
//   - dynamic broker configs in /config/brokers/<id> (this broker) and
//     /config/brokers/<default> (every broker), for the keys Kafka allows
//     to change at runtime (DynamicBrokerConfig); the rest are refused.
//
// A value is looked up, highest first: the topic's own config, the
// per-broker dynamic config, the cluster default, server.properties,
// Kafka's default: the order DescribeConfigs reports as synonyms. Writes go
// through AlterConfigs / IncrementalAlterConfigs (33_alter_configs.go,
// 44_incremental_alter_configs.go) followed by a /config/changes
// notification; every broker re-reads on the notification (coord) and
// applies the effective configs to its open logs (applyTopicConfigs).

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/coord"
	"mqstack/proto/kafkazk"
	"mqstack/storage/segment"
)

type configKind int

const (
	kindString configKind = iota
	kindInt
	kindLong
	kindBool
	kindDouble
	kindList
)

// topicConfigDef is one Kafka 2.8 LogConfig key.
type topicConfigDef struct {
	kind    configKind
	synonym string // the broker key giving its default; "" = none
	def     string // Kafka's default when neither is set
	check   func(string) error
}

func oneOf(vals ...string) func(string) error {
	return func(v string) error {
		for _, w := range vals {
			if v == w {
				return nil
			}
		}
		return fmt.Errorf("must be one of %s", strings.Join(vals, ", "))
	}
}

func listOf(vals ...string) func(string) error {
	one := oneOf(vals...)
	return func(v string) error {
		for _, e := range strings.Split(v, ",") {
			if err := one(strings.TrimSpace(e)); err != nil {
				return fmt.Errorf("%q: %w", strings.TrimSpace(e), err)
			}
		}
		return nil
	}
}

func atLeast(n int64) func(string) error {
	return func(v string) error {
		if x, _ := strconv.ParseInt(v, 10, 64); x < n {
			return fmt.Errorf("must be at least %d", n)
		}
		return nil
	}
}

const maxLong = "9223372036854775807"

// topicConfigDefs are Kafka 2.8's topic configs. brokerd acts on
// cleanup.policy, segment.bytes, segment.ms, segment.index.bytes,
// index.interval.bytes, retention.ms, retention.bytes, max.message.bytes,
// delete.retention.ms, message.timestamp.type and min.insync.replicas; the
// others are kept and described.
var topicConfigDefs = map[string]topicConfigDef{
	"cleanup.policy":                          {kindList, "log.cleanup.policy", "delete", listOf("delete", "compact")},
	"compression.type":                        {kindString, "compression.type", "producer", oneOf("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")},
	"delete.retention.ms":                     {kindLong, "log.cleaner.delete.retention.ms", "86400000", atLeast(0)},
	"file.delete.delay.ms":                    {kindLong, "log.segment.delete.delay.ms", "60000", atLeast(0)},
	"flush.messages":                          {kindLong, "log.flush.interval.messages", maxLong, atLeast(0)},
	"flush.ms":                                {kindLong, "log.flush.interval.ms", maxLong, atLeast(0)},
	"follower.replication.throttled.replicas": {kindList, "", "", nil},
	"index.interval.bytes":                    {kindInt, "log.index.interval.bytes", "4096", atLeast(0)},
	"leader.replication.throttled.replicas":   {kindList, "", "", nil},
	"max.compaction.lag.ms":                   {kindLong, "log.cleaner.max.compaction.lag.ms", maxLong, atLeast(1)},
	"max.message.bytes":                       {kindInt, "message.max.bytes", "1048588", atLeast(0)},
	"message.downconversion.enable":           {kindBool, "log.message.downconversion.enable", "true", nil},
	"message.format.version":                  {kindString, "log.message.format.version", "2.8-IV1", nil},
	"message.timestamp.difference.max.ms":     {kindLong, "log.message.timestamp.difference.max.ms", maxLong, atLeast(0)},
	"message.timestamp.type":                  {kindString, "log.message.timestamp.type", "CreateTime", oneOf("CreateTime", "LogAppendTime")},
	"min.cleanable.dirty.ratio":               {kindDouble, "log.cleaner.min.cleanable.ratio", "0.5", nil},
	"min.compaction.lag.ms":                   {kindLong, "log.cleaner.min.compaction.lag.ms", "0", atLeast(0)},
	"min.insync.replicas":                     {kindInt, "min.insync.replicas", "1", atLeast(1)},
	"preallocate":                             {kindBool, "log.preallocate", "false", nil},
	"retention.bytes":                         {kindLong, "log.retention.bytes", "-1", nil},
	"retention.ms":                            {kindLong, "log.retention.ms", "604800000", atLeast(-1)},
	"segment.bytes":                           {kindInt, "log.segment.bytes", "1073741824", atLeast(14)},
	"segment.index.bytes":                     {kindInt, "log.index.size.max.bytes", "10485760", atLeast(12)},
	"segment.jitter.ms":                       {kindLong, "log.roll.jitter.ms", "0", atLeast(0)},
	"segment.ms":                              {kindLong, "log.roll.ms", "604800000", atLeast(1)},
	"unclean.leader.election.enable":          {kindBool, "unclean.leader.election.enable", "false", nil},
}

// brokerConfigDef is one broker key that may change at runtime.
type brokerConfigDef struct {
	kind  configKind
	def   string
	check func(string) error
}

// dynamicBrokerConfigs are the keys Kafka 2.8 lets AlterConfigs change on
// a running broker (DynamicBrokerConfig.AllDynamicConfigs and
// DynamicConfig.Broker), without the listener and security ones, which
// brokerd does not reconfigure. Every topic config's broker synonym is in
// it (except log.message.format.version), plus these.
var dynamicBrokerConfigs = func() map[string]brokerConfigDef {
	m := map[string]brokerConfigDef{
		"num.io.threads":                                 {kindInt, "8", atLeast(1)},
		"num.network.threads":                            {kindInt, "3", atLeast(1)},
		"num.replica.fetchers":                           {kindInt, "1", atLeast(1)},
		"num.recovery.threads.per.data.dir":              {kindInt, "1", atLeast(1)},
		"background.threads":                             {kindInt, "10", atLeast(1)},
		"log.cleaner.threads":                            {kindInt, "1", atLeast(0)},
		"log.cleaner.dedupe.buffer.size":                 {kindLong, "134217728", nil},
		"log.cleaner.io.buffer.load.factor":              {kindDouble, "0.9", nil},
		"log.cleaner.io.buffer.size":                     {kindInt, "524288", atLeast(0)},
		"log.cleaner.io.max.bytes.per.second":            {kindDouble, "1.7976931348623157E308", nil},
		"log.cleaner.backoff.ms":                         {kindLong, "15000", atLeast(0)},
		"max.connections":                                {kindInt, "2147483647", atLeast(0)},
		"max.connections.per.ip":                         {kindInt, "2147483647", atLeast(0)},
		"max.connections.per.ip.overrides":               {kindString, "", nil},
		"max.connection.creation.rate":                   {kindInt, "2147483647", atLeast(0)},
		"metric.reporters":                               {kindList, "", nil},
		"leader.replication.throttled.rate":              {kindLong, maxLong, atLeast(0)},
		"follower.replication.throttled.rate":            {kindLong, maxLong, atLeast(0)},
		"replica.alter.log.dirs.io.max.bytes.per.second": {kindLong, maxLong, atLeast(0)},
	}
	for _, d := range topicConfigDefs {
		if d.synonym != "" && d.synonym != "log.message.format.version" {
			m[d.synonym] = brokerConfigDef{d.kind, d.def, d.check}
		}
	}
	return m
}()

// checkValue checks a value against its kind and rule.
func checkValue(kind configKind, check func(string) error, v string) error {
	var err error
	switch kind {
	case kindInt:
		_, err = strconv.ParseInt(strings.TrimSpace(v), 10, 32)
	case kindLong:
		_, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	case kindDouble:
		_, err = strconv.ParseFloat(strings.TrimSpace(v), 64)
	case kindBool:
		if lv := strings.ToLower(strings.TrimSpace(v)); lv != "true" && lv != "false" {
			err = fmt.Errorf("expected true or false")
		}
	}
	if err != nil {
		return fmt.Errorf("value %q is not a valid %s", v, kindName(kind))
	}
	if check != nil {
		return check(strings.TrimSpace(v))
	}
	return nil
}

func kindName(k configKind) string {
	return [...]string{"string", "int", "long", "boolean", "double", "list"}[k]
}

// configError is how a refused config change is answered: Kafka's error
// code and message.
type configError struct {
	code int16
	msg  string
}

func (e *configError) Error() string { return e.msg }

// validateTopicConfigs checks a whole topic config as Kafka's
// LogConfig.validate: every key known, every value of its type and range,
// and the resulting log settings valid together.
func validateTopicConfigs(cfg map[string]string) *configError {
	for k, v := range cfg {
		d, ok := topicConfigDefs[k]
		if !ok {
			return &configError{kerr.InvalidConfig.Code, "Unknown topic config name: " + k}
		}
		if err := checkValue(d.kind, d.check, v); err != nil {
			return &configError{kerr.InvalidRequest.Code, fmt.Sprintf("Invalid value %s for configuration %s: %v", v, k, err)}
		}
	}
	sc := segment.DefaultConfig()
	applyTopicConfig(cfg, &sc)
	if err := sc.Validate(); err != nil {
		return &configError{kerr.InvalidRequest.Code, err.Error()}
	}
	return nil
}

// validateBrokerConfigs checks dynamic broker configs.
func validateBrokerConfigs(cfg map[string]string) *configError {
	var static []string
	for k := range cfg {
		if _, ok := dynamicBrokerConfigs[k]; !ok {
			static = append(static, k)
		}
	}
	if len(static) > 0 {
		return &configError{kerr.InvalidRequest.Code, fmt.Sprintf("Cannot update these configs dynamically: Set(%s); change them in server.properties and restart the broker", strings.Join(static, ", "))}
	}
	for k, v := range cfg {
		d := dynamicBrokerConfigs[k]
		if err := checkValue(d.kind, d.check, v); err != nil {
			return &configError{kerr.InvalidRequest.Code, fmt.Sprintf("Invalid value %s for configuration %s: %v", v, k, err)}
		}
	}
	return nil
}

// staticBrokerValue is a broker key's value from server.properties, if the
// file sets it (the parsed value for the keys brokerd acts on).
// A key brokerd parses counts as set when the file names it (or, for
// log.retention.ms and log.roll.ms, one of its hour/minute forms) or when
// the parsed value is not Kafka's default (a Config built in code).
func (b *Broker) staticBrokerValue(key, def string) (string, bool) {
	c := b.cfg
	set := c.Sets(key)
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	parsed := ""
	switch key {
	case "log.retention.ms":
		parsed, set = i(c.LogRetentionMs), set || c.Sets("log.retention.minutes") || c.Sets("log.retention.hours")
	case "log.roll.ms":
		parsed, set = i(c.LogRollMs), set || c.Sets("log.roll.hours")
	case "log.retention.bytes":
		parsed = i(c.LogRetentionBytes)
	case "log.segment.bytes":
		parsed = i(c.LogSegmentBytes)
	case "message.max.bytes":
		parsed = i(int64(c.MessageMaxBytes))
	case "min.insync.replicas":
		parsed = i(int64(c.MinInsyncReplicas))
	default:
		return c.Value(key)
	}
	return parsed, set || parsed != def
}

// configValue is one candidate value of a key, for DescribeConfigs.
type configValue struct {
	name, value string
	source      kmsg.ConfigSource
}

// brokerSynonyms lists a broker key's values, highest precedence first:
// per-broker dynamic, cluster default, server.properties, Kafka's default.
func (b *Broker) brokerSynonyms(v coord.View, key, def string) []configValue {
	var out []configValue
	if val, ok := v.BrokerConfigs[strconv.Itoa(int(b.cfg.BrokerID))][key]; ok {
		out = append(out, configValue{key, val, kmsg.ConfigSourceDynamicBrokerConfig})
	}
	if val, ok := v.BrokerConfigs[kafkazk.DefaultBrokerEntity][key]; ok {
		out = append(out, configValue{key, val, kmsg.ConfigSourceDynamicDefaultBrokerConfig})
	}
	if val, ok := b.staticBrokerValue(key, def); ok {
		out = append(out, configValue{key, val, kmsg.ConfigSourceStaticBrokerConfig})
	}
	return append(out, configValue{key, def, kmsg.ConfigSourceDefaultConfig})
}

// topicSynonyms lists a topic key's values, highest precedence first.
func (b *Broker) topicSynonyms(v coord.View, topicCfg map[string]string, key string) []configValue {
	d := topicConfigDefs[key]
	var out []configValue
	if val, ok := topicCfg[key]; ok {
		out = append(out, configValue{key, val, kmsg.ConfigSourceDynamicTopicConfig})
	}
	if d.synonym == "" {
		return append(out, configValue{key, d.def, kmsg.ConfigSourceDefaultConfig})
	}
	return append(out, b.brokerSynonyms(v, d.synonym, d.def)...)
}

// effectiveTopicConfig is every topic key's value in force for a topic.
func (b *Broker) effectiveTopicConfig(v coord.View, topic string) map[string]string {
	var topicCfg map[string]string
	if t := v.Topics[topic]; t != nil {
		topicCfg = t.Config
	}
	out := make(map[string]string, len(topicConfigDefs))
	for k := range topicConfigDefs {
		out[k] = b.topicSynonyms(v, topicCfg, k)[0].value
	}
	return out
}

// segmentConfigFor is the log settings of a topic in a view.
func (b *Broker) segmentConfigFor(v coord.View, topic string) segment.Config {
	return segmentConfigOf(b.effectiveTopicConfig(v, topic))
}

func segmentConfigOf(eff map[string]string) segment.Config {
	sc := segment.DefaultConfig()
	applyTopicConfig(eff, &sc)
	return sc
}

// topicSettings are the per-topic values the request paths read without
// rebuilding the config: kept per topic, replaced on every view.
type topicSettings struct {
	maxMessageBytes   int
	minInsyncReplicas int
}

// settings returns a topic's settings (the broker's when the topic has none yet).
func (b *Broker) settings(topic string) topicSettings {
	if s, ok := b.topicSettings.Load().(map[string]topicSettings)[topic]; ok {
		return s
	}
	return b.settingsFor(b.view(), topic)
}

func (b *Broker) settingsFor(v coord.View, topic string) topicSettings {
	return settingsOf(b.effectiveTopicConfig(v, topic))
}

func settingsOf(eff map[string]string) topicSettings {
	mmb, _ := strconv.Atoi(eff["max.message.bytes"])
	mir, _ := strconv.Atoi(eff["min.insync.replicas"])
	return topicSettings{maxMessageBytes: mmb, minInsyncReplicas: max(mir, 1)}
}

// applyTopicConfigs recomputes every topic's settings from a view and
// applies changed log settings to the open logs (a topic config or dynamic
// broker config change takes effect without a restart).
func (b *Broker) applyTopicConfigs(v coord.View) {
	// The effective config once per topic, not once per partition.
	m := make(map[string]topicSettings, len(v.Topics))
	effective := make(map[string]map[string]string, len(v.Topics))
	for name := range v.Topics {
		effective[name] = b.effectiveTopicConfig(v, name)
		m[name] = settingsOf(effective[name])
	}
	b.topicSettings.Store(m)
	segs := map[string]segment.Config{}
	for _, tp := range b.dir.Partitions() {
		l, ok := b.dir.Log(tp)
		if !ok || v.Topics[tp.Topic] == nil {
			continue
		}
		sc, ok := segs[tp.Topic]
		if !ok {
			sc = segmentConfigOf(effective[tp.Topic])
			segs[tp.Topic] = sc
		}
		changed, err := l.SetConfig(sc)
		if err != nil {
			b.log.Warn().Err(err).Str("partition", tp.String()).Msg("config change not applied")
			continue
		}
		if changed {
			b.log.Info().Str("partition", tp.String()).Int64("segment_bytes", sc.SegmentBytes).Int64("retention_ms", sc.RetentionMs).
				Int64("retention_bytes", sc.RetentionBytes).Str("cleanup_policy", sc.CleanupPolicy).Int("max_message_bytes", sc.MaxMessageBytes).
				Msg("log config changed")
		}
	}
}

// alterConfig runs one AlterConfigs / IncrementalAlterConfigs resource:
// reads the stored config from ZooKeeper, lets edit produce the new one,
// validates it and, unless validateOnly, writes it with a /config/changes
// notification and waits (briefly) until this broker's view has it, so a
// DescribeConfigs on the same broker right after sees the change.
func (b *Broker) alterConfig(resType kmsg.ConfigResourceType, name string, validateOnly bool,
	edit func(map[string]string) (map[string]string, *configError)) *configError {
	var entityType, entity string
	switch resType {
	case kmsg.ConfigResourceTypeTopic:
		if b.topicView(name) == nil {
			return &configError{kerr.UnknownTopicOrPartition.Code, fmt.Sprintf("Topic %s does not exist", name)}
		}
		entityType, entity = kafkazk.EntityTopics, name
	case kmsg.ConfigResourceTypeBroker:
		entityType = kafkazk.EntityBrokers
		switch name {
		case "":
			entity = kafkazk.DefaultBrokerEntity
		case strconv.Itoa(int(b.cfg.BrokerID)):
			entity = name
		default:
			return &configError{kerr.InvalidRequest.Code, fmt.Sprintf("Unexpected broker id, expected %d or empty string, but received %s", b.cfg.BrokerID, name)}
		}
	default:
		return &configError{kerr.InvalidRequest.Code, fmt.Sprintf("Unsupported resource type %d for altering configs: brokerd alters topic (2) and broker (4) configs", resType)}
	}
	cur, err := b.coord.EntityConfig(entityType, entity)
	if err != nil {
		b.log.Error().Err(err).Str("entity", entityType+"/"+entity).Msg("reading a config failed")
		return &configError{kerr.UnknownServerError.Code, err.Error()}
	}
	next, cerr := edit(cur)
	if cerr != nil {
		return cerr
	}
	if entityType == kafkazk.EntityTopics {
		cerr = validateTopicConfigs(next)
	} else {
		cerr = validateBrokerConfigs(next)
	}
	if cerr != nil || validateOnly {
		return cerr
	}
	if err := b.coord.ChangeEntityConfig(entityType, entity, next); err != nil {
		b.log.Error().Err(err).Str("entity", entityType+"/"+entity).Msg("writing a config failed")
		return &configError{kerr.UnknownServerError.Code, err.Error()}
	}
	b.log.Info().Str("entity", entityType+"/"+entity).Interface("config", next).Msg("config changed")
	b.coord.WaitFor(5*time.Second, func(v coord.View) bool {
		var have map[string]string
		if entityType == kafkazk.EntityTopics {
			if t := v.Topics[entity]; t != nil {
				have = t.Config
			}
		} else {
			have = v.BrokerConfigs[entity]
		}
		return maps.Equal(have, next) || (len(have) == 0 && len(next) == 0)
	})
	return nil
}
