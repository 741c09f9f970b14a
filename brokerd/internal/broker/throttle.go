package broker

// Replication throttles (Kafka's ReplicationQuotaManager), both sides:
//   - follower: partitions listed for this broker in the topic config
//     follower.replication.throttled.replicas ("*" or "partition:broker,...")
//     share follower.replication.throttled.rate bytes/s (dynamic broker
//     config, per broker or cluster default); while the fetched bytes are
//     over the rate, throttled partitions are left out of the fetch
//     requests;
//   - leader: partitions listed for this broker in
//     leader.replication.throttled.replicas share
//     leader.replication.throttled.rate; while the bytes sent to followers
//     are over it, replica fetches of those partitions get no data.
// Other partitions are not slowed.

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
func (b *Broker) followerThrottleRate(v coord.View) int64 { return b.throttleRate(v, "follower") }

func (b *Broker) throttleRate(v coord.View, side string) int64 {
	n, err := strconv.ParseInt(b.brokerSynonyms(v, side+".replication.throttled.rate", maxLong)[0].value, 10, 64)
	if err != nil {
		return math.MaxInt64
	}
	return n
}

// followerThrottled reports whether this broker's replica of tp is listed
// in the topic's follower.replication.throttled.replicas.
func (b *Broker) followerThrottled(v coord.View, tp checkpoint.TopicPartition) bool {
	return b.throttled(v, tp, "follower")
}

// leaderThrottle says whether a replica fetch of tp may get data now
// (false: the leader quota is in debt for a throttled partition) and
// returns the rate to charge what is sent against (math.MaxInt64: none).
func (b *Broker) leaderThrottle(tp checkpoint.TopicPartition) (bool, int64) {
	v := b.view()
	rate := b.throttleRate(v, "leader")
	if rate == math.MaxInt64 || !b.throttled(v, tp, "leader") {
		return true, math.MaxInt64
	}
	return b.replicas.leaderQuota.allow(rate, time.Now()), rate
}

// leaderSent charges n bytes sent to a follower for tp to the leader quota.
func (b *Broker) leaderSent(topic string, p int32, n int) {
	if n == 0 {
		return
	}
	if _, rate := b.leaderThrottle(checkpoint.TopicPartition{Topic: topic, Partition: p}); rate != math.MaxInt64 {
		b.replicas.leaderQuota.spend(rate, n, time.Now())
	}
}

func (b *Broker) throttled(v coord.View, tp checkpoint.TopicPartition, side string) bool {
	t := v.Topics[tp.Topic]
	if t == nil {
		return false
	}
	list := strings.TrimSpace(t.Config[side+".replication.throttled.replicas"])
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
