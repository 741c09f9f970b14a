package broker

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"sync"

	"mqstack/storage/checkpoint"
	"mqstack/storage/segment"
)

// topic is one topic in the catalog. Partition leadership is trivial in
// this first cut: this broker leads every partition at leader epoch 0.
type topic struct {
	name       string
	id         [16]byte
	partitions int32
	internal   bool
	configs    map[string]string
}

// applyConfig overrides the log settings a topic sets.
func (t *topic) applyConfig(sc *segment.Config) {
	for k, v := range t.configs {
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "cleanup.policy":
			sc.CleanupPolicy = v
		case "segment.bytes":
			sc.SegmentBytes = n
		case "segment.ms":
			sc.SegmentMs = n
		case "retention.ms":
			sc.RetentionMs = n
		case "retention.bytes":
			sc.RetentionBytes = n
		case "max.message.bytes":
			sc.MaxMessageBytes = int(n)
		case "delete.retention.ms":
			sc.DeleteRetentionMs = n
		case "message.timestamp.type":
			sc.LogAppendTime = v == "LogAppendTime"
		}
	}
}

// topicConfigKeys are the topic configs accepted by CreateTopics.
var topicConfigKeys = map[string]bool{"cleanup.policy": true, "segment.bytes": true, "segment.ms": true,
	"retention.ms": true, "retention.bytes": true, "max.message.bytes": true, "delete.retention.ms": true,
	"message.timestamp.type": true}

// validateTopicConfig checks one topic config entry like Kafka's LogConfig.
func validateTopicConfig(k, v string) error {
	if !topicConfigKeys[k] {
		return fmt.Errorf("unknown or unsupported topic config %s", k)
	}
	sc := segment.DefaultConfig()
	if k != "cleanup.policy" && k != "message.timestamp.type" {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("topic config %s=%q is not a number", k, v)
		}
	}
	if k == "message.timestamp.type" && v != "CreateTime" && v != "LogAppendTime" {
		return fmt.Errorf("topic config %s=%q: want CreateTime or LogAppendTime", k, v)
	}
	t := topic{configs: map[string]string{k: v}}
	t.applyConfig(&sc)
	return sc.Validate()
}

// catalog is the set of topics, guarded by one mutex (a leaf lock).
type catalog struct {
	mu     sync.Mutex
	topics map[string]*topic
}

func newCatalog() *catalog { return &catalog{topics: map[string]*topic{}} }

func (c *catalog) get(name string) *topic {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.topics[name]
}

// adopt records a partition found on disk.
func (c *catalog) adopt(tp checkpoint.TopicPartition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.topics[tp.Topic]
	if t == nil {
		t = &topic{name: tp.Topic, id: newUUID(), internal: tp.Topic == offsetsTopic}
		c.topics[tp.Topic] = t
	}
	t.partitions = max(t.partitions, tp.Partition+1)
}

func (c *catalog) add(t *topic) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.topics[t.name]; ok {
		return false
	}
	c.topics[t.name] = t
	return true
}

func (c *catalog) remove(name string) *topic {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.topics[name]
	delete(c.topics, name)
	return t
}

func (c *catalog) names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.topics))
	for n := range c.topics {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

const offsetsTopic = "__consumer_offsets"

// validTopicName applies Kafka's Topic.validate rules.
func validTopicName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("topic name is empty")
	case name == "." || name == "..":
		return fmt.Errorf("topic name cannot be %q", name)
	case len(name) > 249:
		return fmt.Errorf("topic name is %d characters, the limit is 249", len(name))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("topic name %q has %q; legal characters are ASCII letters, digits, '.', '_' and '-'", name, r)
		}
	}
	return nil
}

// createTopic creates the topic's partition logs and adds it to the
// catalog; ok=false if it already exists.
func (b *Broker) createTopic(name string, partitions int32, configs map[string]string) (bool, error) {
	t := &topic{name: name, id: newUUID(), partitions: partitions, internal: name == offsetsTopic, configs: configs}
	if !b.topics.add(t) {
		return false, nil
	}
	for p := int32(0); p < partitions; p++ {
		if _, err := b.dir.CreateLog(checkpoint.TopicPartition{Topic: name, Partition: p}); err != nil {
			for q := int32(0); q < p; q++ {
				_ = b.dir.DeleteLog(checkpoint.TopicPartition{Topic: name, Partition: q})
			}
			b.topics.remove(name)
			return false, err
		}
	}
	b.log.Info().Str("topic", name).Int32("partitions", partitions).Msg("topic created")
	return true, nil
}

func newUUID() [16]byte {
	var u [16]byte
	_, _ = rand.Read(u[:])
	return u
}

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
