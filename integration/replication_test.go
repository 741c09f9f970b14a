package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
)

// loadResult is what a steady producer saw.
type loadResult struct {
	mu     sync.Mutex
	acked  map[string]bool
	failed int
	sent   atomic.Int64
}

// steadyLoad produces idempotent acks=all records r-<n> to topic until
// stop is closed, then flushes; every acknowledged value is recorded.
func steadyLoad(t *testing.T, c *replCluster, topic string, stop <-chan struct{}) *loadResult {
	res := &loadResult{acked: map[string]bool{}}
	cl := c.Client(kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(2*time.Millisecond), kgo.RecordDeliveryTimeout(90*time.Second),
		kgo.ProduceRequestTimeout(10*time.Second), kgo.MaxBufferedRecords(2000))
	var wg sync.WaitGroup
	for i := 0; ; i++ {
		select {
		case <-stop:
			ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
			defer cancel()
			require.NoError(t, cl.Flush(ctx), "flushing the producer")
			wg.Wait()
			return res
		default:
		}
		v := fmt.Sprintf("r-%07d", i)
		wg.Add(1)
		res.sent.Add(1)
		cl.Produce(context.Background(), &kgo.Record{Key: []byte(strconv.Itoa(i % 7)), Value: []byte(v)}, func(_ *kgo.Record, err error) {
			defer wg.Done()
			res.mu.Lock()
			defer res.mu.Unlock()
			if err != nil {
				res.failed++
				return
			}
			res.acked[v] = true
		})
		if i%50 == 0 {
			time.Sleep(5 * time.Millisecond) // steady, a few thousand records/s
		}
	}
}

// schedules is how many random kill schedules TestReplicationKillLeader
// runs: REPLICATION_SCHEDULES, default 2 (make test); the 10 with
// REPLICATION_SCHEDULES=10.
func schedules() int {
	if n, err := strconv.Atoi(os.Getenv("REPLICATION_SCHEDULES")); err == nil && n > 0 {
		return n
	}
	return 2
}

// kill -9 of a partition leader during a steady acks=all idempotent load
// with min.insync.replicas=2: a new leader is elected from the ISR, every
// acknowledged record is read back, and no record appears twice. The
// killed broker restarts, truncates to the new leader and rejoins the ISR.
func TestReplicationKillLeaderUnderLoad(t *testing.T) {
	c := startReplCluster(t)
	for s := range schedules() {
		seed := time.Now().UnixNano()
		t.Run(fmt.Sprintf("schedule-%d-seed-%d", s, seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 0))
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			topic := fmt.Sprintf("load-%d", s)
			c.CreateTopic(ctx, topic, 3, nil)
			stop := make(chan struct{})
			resCh := make(chan *loadResult, 1)
			go func() { resCh <- steadyLoad(t, c, topic, stop) }()

			time.Sleep(time.Duration(300+rng.IntN(1200)) * time.Millisecond)
			p := int32(rng.IntN(3))
			victim := c.Describe(ctx, topic)[p].Leader
			require.Positive(t, victim)
			t.Logf("seed %d: kill -9 broker %d, leader of %s-%d", seed, victim, topic, p)
			c.Broker(victim).Kill()
			eventuallyT(t, 30*time.Second, "a new leader from the ISR", func() bool {
				d := c.Describe(ctx, topic)[p]
				return d.Leader > 0 && d.Leader != victim && !slices.Contains(d.ISR, victim)
			})
			time.Sleep(time.Duration(500+rng.IntN(1500)) * time.Millisecond)
			c.Broker(victim).Start()
			eventuallyT(t, 60*time.Second, "the restarted broker back in every ISR", func() bool {
				for _, d := range c.Describe(ctx, topic) {
					if len(d.ISR) != 3 {
						return false
					}
				}
				return true
			})
			time.Sleep(time.Duration(200+rng.IntN(800)) * time.Millisecond)
			close(stop)
			res := <-resCh

			got := c.readAll(ctx, topic)
			lost, dups := 0, 0
			for v := range res.acked {
				if got[v] == 0 {
					lost++
				}
			}
			for v, n := range got {
				if n > 1 {
					dups++
					t.Logf("duplicate: %s x%d", v, n)
				}
			}
			t.Logf("sent %d, acknowledged %d, failed %d, read back %d distinct; lost %d, duplicated %d",
				res.sent.Load(), len(res.acked), res.failed, len(got), lost, dups)
			require.Zero(t, lost, "acknowledged records lost")
			require.Zero(t, dups, "records duplicated")
			require.NotEmpty(t, res.acked)
		})
	}
}

// The seeds' fault test: stop broker 3 and describe shows its leaderships
// moved and the ISRs shrunk; stop every replica of a partition and it
// shows Leader -1 (none); restart them and it heals, with every replica
// back in the ISR.
func TestReplicationSeedsFaultTest(t *testing.T) {
	c := startReplCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c.CreateTopic(ctx, "faults", 3, nil)
	prod := c.Client(kgo.DefaultProduceTopic("faults"), kgo.RequiredAcks(kgo.AllISRAcks()))
	for i := range 30 {
		require.NoError(t, prod.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("a%d", i))}).FirstErr())
	}

	c.Broker(3).Stop()
	eventuallyT(t, 30*time.Second, "broker 3 out of every ISR and leading nothing", func() bool {
		for _, d := range c.Describe(ctx, "faults") {
			if d.Leader == 3 || slices.Contains(d.ISR, 3) || len(d.ISR) != 2 {
				return false
			}
		}
		return true
	})
	// Still writable with acks=all: two in-sync replicas = min.insync.replicas.
	for i := range 30 {
		require.NoError(t, prod.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("b%d", i))}).FirstErr())
	}

	c.Broker(1).Stop()
	c.Broker(2).Stop()
	// Nobody is left to answer metadata: look at ZooKeeper's state znodes
	// after a broker comes back instead. Start broker 3, which was not in
	// the last ISR: the partitions stay leaderless (no unclean election).
	c.Broker(3).Start()
	eventuallyT(t, 30*time.Second, "Leader -1 with only a stale replica alive", func() bool {
		for _, d := range c.Describe(ctx, "faults") {
			if d.Leader != -1 {
				return false
			}
		}
		return true
	})
	c.Broker(1).Start()
	c.Broker(2).Start()
	eventuallyT(t, 60*time.Second, "every partition led and fully in sync again", func() bool {
		for _, d := range c.Describe(ctx, "faults") {
			if d.Leader <= 0 || len(d.ISR) != 3 {
				return false
			}
		}
		return true
	})
	got := c.readAll(ctx, "faults")
	require.Len(t, got, 60)
}

// SIGSTOP of a partition leader beyond replica.lag.time.max.ms and the
// ZooKeeper session timeout: its session expires, a follower takes over
// and takes writes; on SIGCONT the old leader is fenced (it learns its
// session is gone and that another broker leads), rejoins as a follower,
// truncates whatever it appended that the new leader never had, and
// catches up into the ISR.
func TestReplicationPausedLeaderIsFenced(t *testing.T) {
	c := startReplCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c.CreateTopic(ctx, "paused", 1, nil)
	// Short request timeouts: a request to the paused broker hangs until
	// they pass (its socket still accepts).
	prod := c.Client(kgo.DefaultProduceTopic("paused"), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProduceRequestTimeout(2*time.Second), kgo.RequestTimeoutOverhead(time.Second), kgo.MetadataMinAge(200*time.Millisecond))
	for i := range 50 {
		require.NoError(t, prod.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("a%d", i))}).FirstErr())
	}
	old := c.Describe(ctx, "paused")[0].Leader
	start := time.Now()
	c.Broker(old).Signal(syscall.SIGSTOP)
	eventuallyT(t, 30*time.Second, "a new leader while the old one is paused", func() bool {
		d := c.Describe(ctx, "paused")[0]
		return d.Leader > 0 && d.Leader != old
	})
	for i := range 50 {
		require.NoError(t, prod.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("b%d", i))}).FirstErr())
	}
	t.Logf("%s after SIGSTOP: new leader elected and 50 acks=all records written to it", time.Since(start))
	c.Broker(old).Signal(syscall.SIGCONT)
	eventuallyT(t, 60*time.Second, "the old leader back in the ISR as a follower", func() bool {
		d := c.Describe(ctx, "paused")[0]
		return d.Leader != old && len(d.ISR) == 3
	})
	t.Logf("%s after SIGSTOP: the old leader is a follower in the ISR", time.Since(start))
	require.True(t, c.Broker(old).LogsContain(`"following partition"`), "the old leader became a follower")
	got := c.readAll(ctx, "paused")
	require.Len(t, got, 100)
	for v, n := range got {
		require.Equal(t, 1, n, v)
	}
}
