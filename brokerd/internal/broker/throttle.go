package broker

// Replication throttles, follower side (Kafka's ReplicationQuotaManager
// for FollowerReplication): partitions listed for this broker in the
// topic config follower.replication.throttled.replicas ("*" or
// "partition:broker,...") share a byte rate of
// follower.replication.throttled.rate (dynamic broker config, per broker
// or cluster default). While the fetched bytes are over the rate, throttled
// partitions are left out of the fetch requests; the others are not
// slowed. The leader side (leader.replication.throttled.*) is stored and
// described but not enforced.

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"mqstack/brokerd/internal/coord"
	"mqstack/storage/checkpoint"
)

// throttle is a token bucket of bytes refilled at rate per second, with
// one second of burst; a debt makes throttled partitions wait.
type throttle struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// allow reports whether throttled partitions may be fetched now at rate
// bytes/s (rate <= 0 or max: unthrottled).
func (q *throttle) allow(rate int64, now time.Time) bool {
	if rate <= 0 || rate == math.MaxInt64 {
		return true
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.refill(rate, now)
	return q.tokens > 0
}

// spend records n bytes fetched for throttled partitions.
func (q *throttle) spend(rate int64, n int, now time.Time) {
	if rate <= 0 || rate == math.MaxInt64 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.refill(rate, now)
	q.tokens -= float64(n)
}

func (q *throttle) refill(rate int64, now time.Time) {
	if !q.last.IsZero() {
		q.tokens = min(q.tokens+now.Sub(q.last).Seconds()*float64(rate), float64(rate))
	} else {
		q.tokens = float64(rate)
	}
	q.last = now
}

// followerThrottleRate is follower.replication.throttled.rate in force.
func (b *Broker) followerThrottleRate(v coord.View) int64 {
	n, err := strconv.ParseInt(b.brokerSynonyms(v, "follower.replication.throttled.rate", maxLong)[0].value, 10, 64)
	if err != nil {
		return math.MaxInt64
	}
	return n
}

// followerThrottled reports whether this broker's replica of tp is listed
// in the topic's follower.replication.throttled.replicas.
func (b *Broker) followerThrottled(v coord.View, tp checkpoint.TopicPartition) bool {
	t := v.Topics[tp.Topic]
	if t == nil {
		return false
	}
	list := strings.TrimSpace(t.Config["follower.replication.throttled.replicas"])
	if list == "" {
		return false
	}
	if list == "*" {
		return true
	}
	want := strconv.Itoa(int(tp.Partition)) + ":" + strconv.Itoa(int(b.cfg.BrokerID))
	for _, e := range strings.Split(list, ",") {
		if strings.TrimSpace(e) == want {
			return true
		}
	}
	return false
}
