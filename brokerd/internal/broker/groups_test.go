package broker

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"mqstack/brokerd/internal/config"
	"mqstack/brokerd/internal/group"
)

func groupConfig(c *config.Config) {
	c.GroupInitialRebalanceDelayMs = 0
	c.OffsetsTopicPartitions = 5
}

// assignments records what a group member was given.
type assignments struct {
	mu sync.Mutex
	m  map[string][]int32
}

func (a *assignments) set(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.m = map[string][]int32{}
	for t, ps := range m {
		a.m[t] = append(a.m[t], ps...)
	}
}

func (a *assignments) count(topic string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.m[topic])
}

// Two members split four partitions, consume everything and commit; a
// later member resumes after the committed offsets; after a broker restart
// the offsets are reloaded from __consumer_offsets.
func TestConsumerGroupSplitCommitResume(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	groupConfig(&cfg)
	b, err := New(cfg, zerolog.Nop())
	require.NoError(t, err)
	require.NoError(t, b.Start())
	closed := false
	defer func() {
		if !closed {
			_ = b.Close()
		}
	}()
	ctx := ctxT(t)
	adm := kadm.NewClient(newClient(t, b))
	res, err := adm.CreateTopic(ctx, 4, 1, nil, "work")
	require.NoError(t, err)
	require.NoError(t, res.Err)
	prod := newClient(t, b, kgo.DefaultProduceTopic("work"), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	for i := range 40 {
		require.NoError(t, prod.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("r%d", i))}).FirstErr())
	}

	member := func(a *assignments) *kgo.Client {
		return newClient(t, b, kgo.ConsumerGroup("grp"), kgo.ConsumeTopics("work"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(),
			// An eager balancer: OnPartitionsAssigned then gets the whole
			// assignment (cooperative-sticky, kgo's default, passes only the
			// partitions added).
			kgo.Balancers(kgo.RoundRobinBalancer()),
			kgo.OnPartitionsAssigned(a.set), kgo.HeartbeatInterval(200*time.Millisecond))
	}
	var a1, a2 assignments
	c1 := member(&a1)
	c2 := member(&a2)
	seen := map[string]bool{}
	var mu sync.Mutex
	poll := func(c *kgo.Client) {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		fs := c.PollFetches(pctx)
		mu.Lock()
		for _, r := range fs.Records() {
			seen[string(r.Value)] = true
		}
		mu.Unlock()
	}
	eventually(t, "both members consume their share", func() bool {
		poll(c1)
		poll(c2)
		return a1.count("work") == 2 && a2.count("work") == 2 && len(seen) == 40
	})
	// Records seen by c1 before c2 joined may be read again by c2 (nothing
	// was committed yet): keep both polling and committing until the
	// commits cover every partition's end.
	eventually(t, "commits reach the end of every partition", func() bool {
		poll(c1)
		poll(c2)
		if c1.CommitUncommittedOffsets(ctx) != nil || c2.CommitUncommittedOffsets(ctx) != nil {
			return false
		}
		offs, err := adm.FetchOffsets(ctx, "grp")
		if err != nil {
			return false
		}
		total := int64(0)
		offs.Each(func(o kadm.OffsetResponse) { total += o.At })
		return total == 40
	})

	described, err := adm.DescribeGroups(ctx, "grp")
	require.NoError(t, err)
	require.Equal(t, "Stable", described["grp"].State)
	require.Len(t, described["grp"].Members, 2)
	listed, err := adm.ListGroups(ctx)
	require.NoError(t, err)
	require.Contains(t, listed.Groups(), "grp")
	c1.Close()
	c2.Close()

	offs, err := adm.FetchOffsets(ctx, "grp")
	require.NoError(t, err)
	total := int64(0)
	offs.Each(func(o kadm.OffsetResponse) { total += o.At })
	require.Equal(t, int64(40), total)

	// New records; a new member starts at the committed offsets.
	for i := 40; i < 44; i++ {
		require.NoError(t, prod.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("r%d", i))}).FirstErr())
	}
	var a3 assignments
	c3 := member(&a3)
	got := map[string]bool{}
	eventually(t, "resume after the committed offsets", func() bool {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		for _, r := range c3.PollFetches(pctx).Records() {
			got[string(r.Value)] = true
		}
		return len(got) >= 4
	})
	require.Equal(t, map[string]bool{"r40": true, "r41": true, "r42": true, "r43": true}, got)
	c3.Close()

	// The offsets are in __consumer_offsets in Kafka's format.
	p := group.PartitionFor("grp", cfg.OffsetsTopicPartitions)
	l, ok := b.dir.Log(tp(offsetsTopic, p))
	require.True(t, ok)
	require.Greater(t, l.LogEndOffset(), int64(0))

	// Restart: the coordinator reloads the offsets from the log.
	require.NoError(t, b.Close())
	closed = true
	b2, err := New(cfg, zerolog.Nop())
	require.NoError(t, err)
	require.NoError(t, b2.Start())
	defer b2.Close()
	adm2 := kadm.NewClient(newClient(t, b2))
	var total2 int64
	eventually(t, "offsets after restart", func() bool {
		offs, err := adm2.FetchOffsets(ctx, "grp")
		if err != nil {
			return false
		}
		total2 = 0
		offs.Each(func(o kadm.OffsetResponse) { total2 += o.At })
		return total2 == 40 // c3 did not commit
	})
}

// Committed offsets of a group without members expire after
// offsets.retention.minutes (shortened here through the manager).
func TestOffsetsRetention(t *testing.T) {
	b, _ := startBroker(t, groupConfig)
	ctx := ctxT(t)
	adm := kadm.NewClient(newClient(t, b))
	res, err := adm.CreateTopic(ctx, 1, 1, nil, "ret")
	require.NoError(t, err)
	require.NoError(t, res.Err)
	b.groups.mu.Lock()
	b.groups.retention, b.groups.retentionCheck = 300*time.Millisecond, 100*time.Millisecond
	b.groups.mu.Unlock()
	_, err = adm.CommitOffsets(ctx, "standalone", kadm.Offsets{"ret": {0: {Topic: "ret", Partition: 0, At: 0, LeaderEpoch: -1}}})
	require.NoError(t, err)
	offs, err := adm.FetchOffsets(ctx, "standalone")
	require.NoError(t, err)
	require.Len(t, offs.Offsets()["ret"], 1)
	eventually(t, "offsets expired", func() bool {
		offs, err := adm.FetchOffsets(ctx, "standalone")
		return err == nil && len(offs.Offsets()["ret"]) == 0
	})
}

// Static members (group.instance.id): a restarted member takes its place
// back without a rebalance of the other member.
func TestStaticMembershipWithFranzGo(t *testing.T) {
	b, _ := startBroker(t, groupConfig)
	ctx := ctxT(t)
	adm := kadm.NewClient(newClient(t, b))
	res, err := adm.CreateTopic(ctx, 4, 1, nil, "static")
	require.NoError(t, err)
	require.NoError(t, res.Err)
	var assignsA, assignsB int
	var mu sync.Mutex
	member := func(inst string, counter *int, got *assignments) *kgo.Client {
		return newClient(t, b, kgo.ConsumerGroup("sg"), kgo.ConsumeTopics("static"), kgo.InstanceID(inst),
			kgo.Balancers(kgo.RoundRobinBalancer()), kgo.HeartbeatInterval(200*time.Millisecond),
			kgo.SessionTimeout(10*time.Second),
			kgo.OnPartitionsAssigned(func(ctx context.Context, c *kgo.Client, m map[string][]int32) {
				mu.Lock()
				*counter++
				mu.Unlock()
				got.set(ctx, c, m)
			}))
	}
	var ga, gb, gb2 assignments
	a := member("inst-a", &assignsA, &ga)
	bc := member("inst-b", &assignsB, &gb)
	poll := func(c *kgo.Client) {
		pctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		c.PollFetches(pctx)
	}
	eventually(t, "two static members split the partitions", func() bool {
		poll(a)
		poll(bc)
		return ga.count("static") == 2 && gb.count("static") == 2
	})
	described, err := adm.DescribeGroups(ctx, "sg")
	require.NoError(t, err)
	insts := map[string]bool{}
	for _, m := range described["sg"].Members {
		require.NotNil(t, m.InstanceID)
		insts[*m.InstanceID] = true
	}
	require.Equal(t, map[string]bool{"inst-a": true, "inst-b": true}, insts)
	mu.Lock()
	before := assignsA
	mu.Unlock()

	// b's process "restarts": static members do not send LeaveGroup.
	bc.CloseAllowingRebalance()
	var again int
	b2 := member("inst-b", &again, &gb2)
	eventually(t, "the restarted member gets its partitions back", func() bool {
		poll(a)
		poll(b2)
		return gb2.count("static") == 2
	})
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, before, assignsA, "the other member was not rebalanced")
}
