package segment

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; wrapped with %w and detail.
var (
	ErrConfig            = errors.New("segment: invalid config")
	ErrIO                = errors.New("segment: i/o error")
	ErrCorrupt           = errors.New("segment: corrupt log")
	ErrInvalidBatch      = errors.New("segment: invalid record batch")
	ErrRecordTooLarge    = errors.New("segment: record batch too large")
	ErrOffsetOutOfRange  = errors.New("segment: offset out of range")
	ErrOffsetsOutOfOrder = errors.New("segment: offsets out of order")
	ErrClosed            = errors.New("segment: log closed")
)

// Config holds the topic-level log settings, with Kafka's names and
// defaults.
type Config struct {
	SegmentBytes       int64  // segment.bytes (log.segment.bytes), default 1 GiB
	SegmentMs          int64  // segment.ms (log.roll.ms), default 7 days
	SegmentIndexBytes  int    // segment.index.bytes (log.index.size.max.bytes), default 10 MiB
	IndexIntervalBytes int    // index.interval.bytes (log.index.interval.bytes), default 4096
	RetentionBytes     int64  // retention.bytes, -1 = unlimited (default)
	RetentionMs        int64  // retention.ms, -1 = unlimited; default 7 days
	CleanupPolicy      string // cleanup.policy: "delete" (default), "compact" or "compact,delete"
	DeleteRetentionMs  int64  // delete.retention.ms: how long tombstones stay, default 1 day
	MaxMessageBytes    int    // max.message.bytes: largest batch, default 1048588
	LogAppendTime      bool   // message.timestamp.type=LogAppendTime
}

// DefaultConfig returns Kafka's defaults.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:       1 << 30,
		SegmentMs:          7 * 24 * 3600 * 1000,
		SegmentIndexBytes:  10 << 20,
		IndexIntervalBytes: 4096,
		RetentionBytes:     -1,
		RetentionMs:        7 * 24 * 3600 * 1000,
		CleanupPolicy:      "delete",
		DeleteRetentionMs:  24 * 3600 * 1000,
		MaxMessageBytes:    1048588,
	}
}

// Validate checks the settings; errors name the Kafka config key.
func (c Config) Validate() error {
	switch {
	case c.SegmentBytes < 14:
		return fmt.Errorf("%w: segment.bytes=%d, must be at least 14", ErrConfig, c.SegmentBytes)
	case c.SegmentMs < 1:
		return fmt.Errorf("%w: segment.ms=%d, must be at least 1", ErrConfig, c.SegmentMs)
	case c.SegmentIndexBytes < timeEntrySize:
		return fmt.Errorf("%w: segment.index.bytes=%d, must be at least %d", ErrConfig, c.SegmentIndexBytes, timeEntrySize)
	case c.IndexIntervalBytes < 0:
		return fmt.Errorf("%w: index.interval.bytes=%d, must be >= 0", ErrConfig, c.IndexIntervalBytes)
	case c.MaxMessageBytes < 0:
		return fmt.Errorf("%w: max.message.bytes=%d, must be >= 0", ErrConfig, c.MaxMessageBytes)
	case c.DeleteRetentionMs < 0:
		return fmt.Errorf("%w: delete.retention.ms=%d, must be >= 0", ErrConfig, c.DeleteRetentionMs)
	case c.RetentionMs < -1:
		return fmt.Errorf("%w: retention.ms=%d, must be -1 or >= 0", ErrConfig, c.RetentionMs)
	}
	for _, p := range strings.Split(c.CleanupPolicy, ",") {
		if p = strings.TrimSpace(p); p != "delete" && p != "compact" {
			return fmt.Errorf("%w: cleanup.policy=%q, use delete, compact or compact,delete", ErrConfig, c.CleanupPolicy)
		}
	}
	return nil
}

func (c Config) hasPolicy(name string) bool {
	for _, p := range strings.Split(c.CleanupPolicy, ",") {
		if strings.TrimSpace(p) == name {
			return true
		}
	}
	return false
}
