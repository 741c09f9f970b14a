package broker

import (
	"fmt"
	"strconv"

	"mqstack/storage/segment"
)

// applyTopicConfig overrides the log settings a topic sets
// (/config/topics/<t>).
func applyTopicConfig(configs map[string]string, sc *segment.Config) {
	for k, v := range configs {
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
	"message.timestamp.type": true, "min.insync.replicas": true, "unclean.leader.election.enable": true}

// validateTopicConfig checks one topic config entry like Kafka's LogConfig.
func validateTopicConfig(k, v string) error {
	if !topicConfigKeys[k] {
		return fmt.Errorf("unknown or unsupported topic config %s", k)
	}
	sc := segment.DefaultConfig()
	if k == "unclean.leader.election.enable" {
		if v != "true" && v != "false" {
			return fmt.Errorf("topic config %s=%q: want true or false", k, v)
		}
		return nil
	}
	if k == "min.insync.replicas" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 {
			return fmt.Errorf("topic config %s=%q: want an integer >= 1", k, v)
		}
		return nil
	}
	if k != "cleanup.policy" && k != "message.timestamp.type" {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("topic config %s=%q is not a number", k, v)
		}
	}
	if k == "message.timestamp.type" && v != "CreateTime" && v != "LogAppendTime" {
		return fmt.Errorf("topic config %s=%q: want CreateTime or LogAppendTime", k, v)
	}
	applyTopicConfig(map[string]string{k: v}, &sc)
	return sc.Validate()
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
