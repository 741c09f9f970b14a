package broker

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/go-zookeeper/zk"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/config"
	"mqstack/proto/kafkazk"
)

// fpart is one partition of a hand-made Fetch request.
type fpart struct {
	topic     string
	partition int32
	offset    int64
}

// sessionFetch is a v12 consumer Fetch with the given session fields.
func sessionFetch(id, epoch int32, parts, forget []fpart) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = -1, 20, 1, 1<<20
	req.SessionID, req.SessionEpoch = id, epoch
	for _, p := range parts {
		if n := len(req.Topics); n == 0 || req.Topics[n-1].Topic != p.topic {
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic = p.topic
			req.Topics = append(req.Topics, rt)
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = p.partition, p.offset, 1<<20
		rt := &req.Topics[len(req.Topics)-1]
		rt.Partitions = append(rt.Partitions, rp)
	}
	for _, p := range forget {
		if n := len(req.ForgottenTopics); n == 0 || req.ForgottenTopics[n-1].Topic != p.topic {
			ft := kmsg.NewFetchRequestForgottenTopic()
			ft.Topic = p.topic
			req.ForgottenTopics = append(req.ForgottenTopics, ft)
		}
		ft := &req.ForgottenTopics[len(req.ForgottenTopics)-1]
		ft.Partitions = append(ft.Partitions, p.partition)
	}
	return req
}

// fetchRaw sends req at v12 on r and returns the response.
func fetchRaw(r *rawConn, req *kmsg.FetchRequest) *kmsg.FetchResponse {
	r.send(1, req, 12)
	resp := kmsg.NewPtrFetchResponse()
	r.recv(resp, 12)
	return resp
}

// answered maps "topic/partition" to the partitions a response carries.
func answered(resp *kmsg.FetchResponse) map[string]kmsg.FetchResponseTopicPartition {
	out := map[string]kmsg.FetchResponseTopicPartition{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out[fmt.Sprintf("%s/%d", t.Topic, p.Partition)] = p
		}
	}
	return out
}

// sessionTopic creates topic with n partitions and returns a producer
// that writes to the partition a record names.
func sessionTopic(t *testing.T, b *Broker, topic string, n int32) *kgo.Client {
	cl := newClient(t, b, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	res, err := kadm.NewClient(cl).CreateTopic(ctxT(t), n, 1, nil, topic)
	require.NoError(t, err)
	require.NoError(t, res.Err)
	return cl
}

func produceTo(t *testing.T, cl *kgo.Client, topic string, p int32, values ...string) {
	t.Helper()
	for _, v := range values {
		require.NoError(t, cl.ProduceSync(ctxT(t), &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)}).FirstErr())
	}
}

func sessionCount(b *Broker) (int, int) { return b.fetchSessions.size() }

// A session over raw Fetch requests, step by step as KIP-227 has it: a
// full fetch with epoch 0 creates it; incremental fetches add, update and
// forget partitions and are answered with only what changed (records, a
// new high watermark, a new log start offset); a wrong epoch and an
// unknown id are refused; epoch -1 closes it.
func TestFetchSessionLifecycle(t *testing.T) {
	b, _ := startBroker(t, nil)
	cl := sessionTopic(t, b, "fs", 3)
	produceTo(t, cl, "fs", 0, "a", "b")
	r := dialRaw(t, b)

	// Full fetch, epoch 0: a session of p0 and p1.
	resp := fetchRaw(r, sessionFetch(0, 0, []fpart{{"fs", 0, 0}, {"fs", 1, 0}}, nil))
	require.Zero(t, resp.ErrorCode)
	id := resp.SessionID
	require.NotZero(t, id, "a full fetch with epoch 0 gets a session")
	got := answered(resp)
	require.Len(t, got, 2, "a full fetch answers every partition")
	require.NotEmpty(t, got["fs/0"].RecordBatches)
	require.Equal(t, int64(2), got["fs/0"].HighWatermark)
	require.Empty(t, got["fs/1"].RecordBatches)
	n, parts := sessionCount(b)
	require.Equal(t, 1, n)
	require.Equal(t, 2, parts)

	// Epoch 1: p0 consumed to 2; nothing changed anywhere, so nothing is answered.
	resp = fetchRaw(r, sessionFetch(id, 1, []fpart{{"fs", 0, 2}}, nil))
	require.Zero(t, resp.ErrorCode)
	require.Equal(t, id, resp.SessionID)
	require.Empty(t, answered(resp), "unchanged partitions are left out")
	require.Equal(t, 1.0, testutil.ToFloat64(b.metrics.incrementalFetches))

	// New records on p1: epoch 2 (no partitions sent) answers p1 alone,
	// with its records and new high watermark.
	produceTo(t, cl, "fs", 1, "c")
	resp = fetchRaw(r, sessionFetch(id, 2, nil, nil))
	got = answered(resp)
	require.Len(t, got, 1)
	require.NotEmpty(t, got["fs/1"].RecordBatches)
	require.Equal(t, int64(1), got["fs/1"].HighWatermark)

	// Epoch 3: p1 consumed to 1 and p2 added: only the new p2 is answered
	// (its high watermark was never told).
	resp = fetchRaw(r, sessionFetch(id, 3, []fpart{{"fs", 1, 1}, {"fs", 2, 0}}, nil))
	got = answered(resp)
	require.Len(t, got, 1)
	p2, ok := got["fs/2"]
	require.True(t, ok, "an added partition is answered")
	require.Zero(t, p2.HighWatermark)
	_, parts = sessionCount(b)
	require.Equal(t, 3, parts)

	// A wrong epoch is refused and leaves the session as it was.
	resp = fetchRaw(r, sessionFetch(id, 7, nil, nil))
	require.Equal(t, kerr.InvalidFetchSessionEpoch.Code, resp.ErrorCode)
	require.Empty(t, resp.Topics)
	// An unknown id is FETCH_SESSION_ID_NOT_FOUND.
	resp = fetchRaw(r, sessionFetch(id+1, 1, nil, nil))
	require.Equal(t, kerr.FetchSessionIDNotFound.Code, resp.ErrorCode)

	// Epoch 4 forgets p0: new records there are not answered.
	produceTo(t, cl, "fs", 0, "d")
	resp = fetchRaw(r, sessionFetch(id, 4, nil, []fpart{{"fs", 0, 0}}))
	require.Zero(t, resp.ErrorCode)
	require.Empty(t, answered(resp), "a forgotten partition is not read")
	_, parts = sessionCount(b)
	require.Equal(t, 2, parts)

	// A new log start offset (DeleteRecords on p1) is answered without records.
	dr, err := kadm.NewClient(cl).DeleteRecords(ctxT(t), kadm.Offsets{"fs": {1: {Topic: "fs", Partition: 1, At: 1}}})
	require.NoError(t, err)
	require.NoError(t, dr.Error())
	resp = fetchRaw(r, sessionFetch(id, 5, nil, nil))
	got = answered(resp)
	require.Len(t, got, 1)
	require.Equal(t, int64(1), got["fs/1"].LogStartOffset)
	require.Empty(t, got["fs/1"].RecordBatches)

	// Epoch -1 closes the session; the fetch is answered in full, without one.
	resp = fetchRaw(r, sessionFetch(id, -1, []fpart{{"fs", 0, 0}}, nil))
	require.Zero(t, resp.ErrorCode)
	require.Zero(t, resp.SessionID)
	require.Len(t, answered(resp), 1)
	require.NotEmpty(t, answered(resp)["fs/0"].RecordBatches)
	n, parts = sessionCount(b)
	require.Zero(t, n)
	require.Zero(t, parts)
	resp = fetchRaw(r, sessionFetch(id, 6, nil, nil))
	require.Equal(t, kerr.FetchSessionIDNotFound.Code, resp.ErrorCode)

	// Id 0 with epoch -1 is a full fetch that makes no session.
	resp = fetchRaw(r, sessionFetch(0, -1, []fpart{{"fs", 0, 0}}, nil))
	require.Zero(t, resp.SessionID)
	require.NotEmpty(t, answered(resp)["fs/0"].RecordBatches)
	n, _ = sessionCount(b)
	require.Zero(t, n)
}

// When MaxBytes stops a read, the partition that filled the response
// moves to the end of the session, so the next incremental fetch serves
// the partition behind it. A partition with no bytes room but a new high
// watermark is answered with the offset alone.
func TestFetchSessionRotates(t *testing.T) {
	b, _ := startBroker(t, nil)
	cl := sessionTopic(t, b, "rot", 2)
	big := strings.Repeat("x", 4000)
	produceTo(t, cl, "rot", 0, big, big, big, big)
	produceTo(t, cl, "rot", 1, "small")
	r := dialRaw(t, b)

	req := sessionFetch(0, 0, []fpart{{"rot", 0, 0}, {"rot", 1, 0}}, nil)
	req.MaxBytes = 1 // the first batch only
	resp := fetchRaw(r, req)
	id := resp.SessionID
	require.NotZero(t, id)
	got := answered(resp)
	require.NotEmpty(t, got["rot/0"].RecordBatches)
	require.Empty(t, got["rot/1"].RecordBatches, "MaxBytes was spent on p0")
	require.Equal(t, int64(1), got["rot/1"].HighWatermark)

	// p1's high watermark moves; p0 still fills the response, p1 is
	// answered for its offset only.
	produceTo(t, cl, "rot", 1, "small")
	req = sessionFetch(id, 1, []fpart{{"rot", 0, 1}}, nil)
	req.MaxBytes = 1
	got = answered(fetchRaw(r, req))
	require.NotEmpty(t, got["rot/0"].RecordBatches)
	require.Empty(t, got["rot/1"].RecordBatches)
	require.Equal(t, int64(2), got["rot/1"].HighWatermark, "a new high watermark is answered")

	// p0 moved behind p1: p1 is read first now and gets the bytes; p0,
	// with nothing new to tell, is left out.
	req = sessionFetch(id, 2, []fpart{{"rot", 0, 2}}, nil)
	req.MaxBytes = 1
	got = answered(fetchRaw(r, req))
	require.NotEmpty(t, got["rot/1"].RecordBatches, "the partition behind the busy one is served")
	_, ok := got["rot/0"]
	require.False(t, ok)
}

// With max.incremental.fetch.session.cache.slots full, a consumer's full
// fetch is answered with session id 0 (Kafka's fallback) and its records;
// a follower's session evicts a consumer's; a session unused for the
// eviction age makes room for a new consumer.
func TestFetchSessionCacheFull(t *testing.T) {
	b, _ := startBroker(t, func(c *config.Config) { c.MaxIncrementalFetchSessionCacheSlots = 1 })
	cl := sessionTopic(t, b, "full", 1)
	produceTo(t, cl, "full", 0, "a")
	r1, r2 := dialRaw(t, b), dialRaw(t, b)
	first := fetchRaw(r1, sessionFetch(0, 0, []fpart{{"full", 0, 0}}, nil)).SessionID
	require.NotZero(t, first)

	resp := fetchRaw(r2, sessionFetch(0, 0, []fpart{{"full", 0, 0}}, nil))
	require.Zero(t, resp.ErrorCode)
	require.Zero(t, resp.SessionID, "no room: the fetch is answered without a session")
	require.NotEmpty(t, answered(resp)["full/0"].RecordBatches)
	require.Zero(t, testutil.ToFloat64(b.metrics.fetchSessionEvictions))

	// A follower (replica id 2, which this broker does not know, so its
	// partition is answered with an error) outranks the consumer.
	req := sessionFetch(0, 0, []fpart{{"full", 0, 0}}, nil)
	req.ReplicaID = 2
	follower := fetchRaw(r2, req).SessionID
	require.NotZero(t, follower)
	require.Equal(t, 1.0, testutil.ToFloat64(b.metrics.fetchSessionEvictions))
	resp = fetchRaw(r1, sessionFetch(first, 1, nil, nil))
	require.Equal(t, kerr.FetchSessionIDNotFound.Code, resp.ErrorCode, "the consumer's session was evicted")

	// A stale session (unused for the eviction age) makes room.
	// The cache's clock moves past the eviction age instead of the test
	// waiting it out.
	b.fetchSessions.mu.Lock()
	b.fetchSessions.now = func() time.Time { return time.Now().Add(b.fetchSessions.evictAge + time.Second) }
	b.fetchSessions.mu.Unlock()
	again := fetchRaw(r1, sessionFetch(0, 0, []fpart{{"full", 0, 0}}, nil)).SessionID
	require.NotZero(t, again)
	require.Equal(t, 2.0, testutil.ToFloat64(b.metrics.fetchSessionEvictions))
	resp = fetchRaw(r2, sessionFetch(follower, 1, nil, nil))
	require.Equal(t, kerr.FetchSessionIDNotFound.Code, resp.ErrorCode)
}

// franz-go's consumer keeps a fetch session by default: over 32
// partitions it consumes everything, in rounds, mostly with incremental
// requests, and the session gauges on /metrics show it.
func TestFetchSessionFranzGoManyPartitions(t *testing.T) {
	b, _ := startBroker(t, nil)
	const partitions, perRound = 32, 20
	cl := sessionTopic(t, b, "many", partitions)
	cons := newClient(t, b, kgo.ConsumeTopics("many"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100*time.Millisecond))
	ctx := ctxT(t)
	seen := map[string]bool{}
	value := make([]byte, 2000)
	for round := range 3 {
		var rs []*kgo.Record
		for p := range int32(partitions) {
			for i := range perRound {
				_, _ = rand.Read(value) // incompressible: reads of 32 KiB and more go by sendfile
				rs = append(rs, &kgo.Record{Topic: "many", Partition: p, Value: fmt.Appendf(nil, "%d/%d/%d/%x", round, p, i, value)})
			}
		}
		require.NoError(t, cl.ProduceSync(ctx, rs...).FirstErr())
		want := (round + 1) * partitions * perRound
		for len(seen) < want {
			fs := cons.PollFetches(ctx)
			require.NoError(t, ctx.Err(), "consumed %d of %d", len(seen), want)
			fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)] = true })
		}
		require.Len(t, seen, want)
	}
	incremental := testutil.ToFloat64(b.metrics.incrementalFetches)
	fetches := testutil.ToFloat64(b.metrics.requests.WithLabelValues("Fetch"))
	require.GreaterOrEqual(t, incremental, 2.0, "franz-go's fetches after the first are incremental")
	require.GreaterOrEqual(t, incremental, fetches-2, "of %.0f fetches, only the first is full (one may be in flight)", fetches)
	n, parts := sessionCount(b)
	require.Equal(t, 1, n)
	require.Equal(t, partitions, parts)
	require.Positive(t, testutil.ToFloat64(b.metrics.sendfileBytes), "session reads still go by sendfile")

	res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", b.MetricsPort()))
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	require.NoError(t, err)
	require.True(t, bytes.Contains(body, []byte("\nkafka_server_fetchsessioncache_numincrementalfetchsessions 1\n")), "%s", body)
	require.True(t, bytes.Contains(body, []byte(fmt.Sprintf("\nkafka_server_fetchsessioncache_numincrementalfetchpartitionscached %d\n", partitions))))
	t.Logf("%d records over %d partitions, %.0f fetches, %.0f incremental", len(seen), partitions, fetches, incremental)
}

// Clients without sessions work beside one with a session: sarama (which
// sends epoch -1), franz-go with DisableFetchSessions, and a franz-go
// consumer with its session, all reading the same 8 partitions. Only the
// last makes a session.
func TestFetchSessionMixedClients(t *testing.T) {
	b, _ := startBroker(t, nil)
	const partitions, total = 8, 400
	cl := sessionTopic(t, b, "mixed", partitions)
	var rs []*kgo.Record
	for i := range total {
		rs = append(rs, &kgo.Record{Topic: "mixed", Partition: int32(i % partitions), Value: fmt.Appendf(nil, "%d", i)})
	}
	require.NoError(t, cl.ProduceSync(ctxT(t), rs...).FirstErr())

	consume := func(opts ...kgo.Opt) int {
		c := newClient(t, b, append([]kgo.Opt{kgo.ConsumeTopics("mixed"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
		ctx := ctxT(t)
		n := 0
		for n < total {
			fs := c.PollFetches(ctx)
			require.NoError(t, ctx.Err())
			n += fs.NumRecords()
		}
		return n
	}
	require.Equal(t, total, consume(kgo.DisableFetchSessions()))
	require.Zero(t, testutil.ToFloat64(b.metrics.incrementalFetches))
	n, _ := sessionCount(b)
	require.Zero(t, n, "DisableFetchSessions makes no session")

	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	sc, err := sarama.NewConsumer([]string{b.Addr()}, cfg)
	require.NoError(t, err)
	defer sc.Close()
	got := 0
	for p := range int32(partitions) {
		pc, err := sc.ConsumePartition("mixed", p, sarama.OffsetOldest)
		require.NoError(t, err)
		for got < (int(p)+1)*total/partitions {
			select {
			case <-pc.Messages():
				got++
			case <-time.After(10 * time.Second):
				t.Fatalf("sarama: %d records of partition %d", got, p)
			}
		}
		require.NoError(t, pc.Close())
	}
	require.Equal(t, total, got)
	n, _ = sessionCount(b)
	require.Zero(t, n, "sarama makes no session")

	require.Equal(t, total, consume())
	require.Eventually(t, func() bool { return testutil.ToFloat64(b.metrics.incrementalFetches) > 0 }, 5*time.Second, 10*time.Millisecond)
	n, _ = sessionCount(b)
	require.Equal(t, 1, n)
}

// A follower's session (replica id >= 0): its incremental fetches read the
// session's partition to the log end (past the high watermark), the fetch
// offset sent incrementally is recorded (the follower joins the ISR, and
// its fetch at the log end moves the high watermark), and the new high
// watermark is answered.
func TestFetchSessionFollower(t *testing.T) {
	b, _ := startBroker(t, nil)
	// Broker 2 is this test: registered in ZooKeeper as a live broker
	// (as a Java Kafka broker would be), its follower fetches by hand.
	zc, chroot := zkConn(t, b.cfg.ZookeeperConnect)
	info := kafkazk.BrokerInfo{ID: 2, Endpoints: []string{"PLAINTEXT://127.0.0.1:1"}, Host: "127.0.0.1", Port: 1, JmxPort: -1, Version: 5}
	_, err := zc.Create(chroot+kafkazk.BrokerPath(2), kafkazk.EncodeBrokerInfo(info), zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	eventually(t, "broker 2 live", func() bool { _, ok := b.view().Brokers[2]; return ok })
	createAssigned(t, []*Broker{b}, "fol", `{"0":[1,2]}`)
	cl := newClient(t, b, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic("fol"))
	produce := func(n int) {
		for range n {
			require.NoError(t, cl.ProduceSync(ctxT(t), &kgo.Record{Value: []byte("f")}).FirstErr())
		}
	}
	produce(3)
	r := dialRaw(t, b)
	epoch := int32(0)
	fetch := func(id int32, parts ...fpart) kmsg.FetchResponseTopicPartition {
		t.Helper()
		req := sessionFetch(id, epoch, parts, nil)
		req.ReplicaID = 2
		resp := fetchRaw(r, req)
		require.Zero(t, resp.ErrorCode)
		require.NotZero(t, resp.SessionID)
		epoch++
		got := answered(resp)
		require.LessOrEqual(t, len(got), 1)
		return got["fol/0"] // ErrorCode 0, HighWatermark 0 when left out
	}
	req := sessionFetch(0, 0, []fpart{{"fol", 0, 0}}, nil)
	req.ReplicaID = 2
	resp := fetchRaw(r, req)
	id := resp.SessionID
	require.NotZero(t, id)
	require.Zero(t, answered(resp)["fol/0"].ErrorCode)
	require.NotEmpty(t, answered(resp)["fol/0"].RecordBatches)
	epoch = 1

	fetch(id, fpart{"fol", 0, 3})
	eventually(t, "replica 2 in the ISR", func() bool {
		fetch(id) // the session's offset 3 is recorded again
		return len(partitionState(t, b, "fol", 0).ISR) == 2
	})

	// With 2 in the ISR the high watermark waits for it.
	produce(2)
	p := fetch(id)
	require.NotEmpty(t, p.RecordBatches, "a follower reads to the log end")
	require.Equal(t, int64(3), p.HighWatermark)
	p = fetch(id, fpart{"fol", 0, 5})
	require.Empty(t, p.RecordBatches)
	require.Equal(t, int64(5), p.HighWatermark, "the fetch at the log end moved the high watermark, and it is answered")
}
