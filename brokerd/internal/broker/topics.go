package broker

import (
	"fmt"
	"strconv"
	"strings"

	"mqstack/storage/segment"
)

// applyTopicConfig overrides the log settings a topic sets
// (/config/topics/<t>).
func applyTopicConfig(configs map[string]string, sc *segment.Config) {
	for k, v := range configs {
		n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
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
		case "segment.index.bytes":
			sc.SegmentIndexBytes = int(n)
		case "index.interval.bytes":
			sc.IndexIntervalBytes = int(n)
		}
	}
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
