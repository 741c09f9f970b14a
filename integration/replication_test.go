package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
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
	// A write sent to the paused leader: it sits in its socket and is
	// appended when it resumes, as a fenced leader that can no longer
	// commit it.
	fenced := make(chan error, 1)
	prod.Produce(ctx, &kgo.Record{Value: []byte("fenced")}, func(_ *kgo.Record, err error) { fenced <- err })
	eventuallyT(t, 30*time.Second, "a new leader while the old one is paused", func() bool {
		d := c.Describe(ctx, "paused")[0]
		return d.Leader > 0 && d.Leader != old
	})
	// A client that knows only the two live brokers writes to the new
	// leader (the first client would first wait out its request to the
	// paused one).
	var live []string
	for _, b := range c.Brokers {
		if b.ID != old {
			live = append(live, b.Addr)
		}
	}
	prod2 := c.Client(kgo.SeedBrokers(live...), kgo.DefaultProduceTopic("paused"), kgo.RequiredAcks(kgo.AllISRAcks()))
	for i := range 50 {
		require.NoError(t, prod2.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("b%d", i))}).FirstErr())
	}
	t.Logf("%s after SIGSTOP: new leader elected and 50 acks=all records written to it", time.Since(start))
	c.Broker(old).Signal(syscall.SIGCONT)
	eventuallyT(t, 60*time.Second, "the old leader back in the ISR as a follower", func() bool {
		d := c.Describe(ctx, "paused")[0]
		return d.Leader != old && len(d.ISR) == 3
	})
	t.Logf("%s after SIGSTOP: the old leader is a follower in the ISR", time.Since(start))
	require.True(t, c.Broker(old).LogsContain(`"following partition"`), "the old leader became a follower")
	require.True(t, c.Broker(old).LogsContain("follower truncated what the leader never had"), "the fenced write was cut")
	var ferr error
	select {
	case ferr = <-fenced:
	case <-time.After(90 * time.Second):
		t.Fatal("the write sent to the paused leader never completed")
	}
	got := c.readAll(ctx, "paused")
	for v, n := range got {
		require.Equal(t, 1, n, v)
	}
	// Acknowledged (by the new leader, after the client's retry) or not at all.
	want := 100
	if ferr == nil {
		want = 101
	}
	t.Logf("the write sent to the paused leader: %v", ferr)
	require.Len(t, got, want)
}

// A leader cut off from ZooKeeper but not from its clients: its session
// expires, the controller moves leadership to an in-sync follower and the
// followers stop fetching from it, so it can no longer commit: an acks=all
// write sent to it is not acknowledged (it times out), and it is not in
// the partition once the broker is back and has truncated to the new
// leader. Then the broker rejoins the ISR.
func TestReplicationLeaderCutOffFromZooKeeper(t *testing.T) {
	var cut []*peerProxy
	c := startReplClusterVia(t, func(id int32, addrs []string) []string {
		if id != 1 {
			return addrs
		}
		var out []string
		for _, a := range addrs {
			p := newPeerProxy(t, a)
			cut = append(cut, p)
			out = append(out, p.Addr())
		}
		return out
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	zc := c.ZK.Client(c.ZK.Addrs()...)
	_, err := zc.Create("/kafka/brokers/topics/cutoff", []byte(`{"version":1,"partitions":{"0":[1,2,3]}}`), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	eventuallyT(t, 30*time.Second, "broker 1 leading with the full ISR", func() bool {
		d, ok := c.Describe(ctx, "cutoff")[0]
		return ok && d.Leader == 1 && len(d.ISR) == 3
	})
	prod := c.Client(kgo.DefaultProduceTopic("cutoff"), kgo.RequiredAcks(kgo.AllISRAcks()))
	for i := range 20 {
		require.NoError(t, prod.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("a%d", i))}).FirstErr())
	}

	for _, p := range cut {
		p.setMode(proxyRefuse)
	}
	eventuallyT(t, 30*time.Second, "a new leader elected by the controller", func() bool {
		data, _, err := zc.Get("/kafka/brokers/topics/cutoff/partitions/0/state")
		return err == nil && !strings.Contains(string(data), `"leader":1,`)
	})
	// A client that only knows broker 1 (which still believes it leads).
	stale, err := kgo.NewClient(kgo.SeedBrokers(c.Broker(1).Addr), kgo.DefaultProduceTopic("cutoff"),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DisableIdempotentWrite(), kgo.RecordRetries(0),
		kgo.ProduceRequestTimeout(3*time.Second), kgo.RecordDeliveryTimeout(8*time.Second))
	require.NoError(t, err)
	defer stale.Close()
	err = stale.ProduceSync(ctx, &kgo.Record{Value: []byte("never-committed")}).FirstErr()
	require.Error(t, err, "an acks=all write the cut-off leader cannot commit must not be acknowledged")
	t.Logf("the cut-off leader answered: %v", err)
	for i := range 20 {
		require.NoError(t, prod.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("b%d", i))}).FirstErr())
	}

	for _, p := range cut {
		p.setMode(proxyPass)
	}
	eventuallyT(t, 60*time.Second, "broker 1 back in the ISR as a follower", func() bool {
		d := c.Describe(ctx, "cutoff")[0]
		return d.Leader > 1 && len(d.ISR) == 3
	})
	got := c.readAll(ctx, "cutoff")
	require.Len(t, got, 40)
	require.Zero(t, got["never-committed"])
	// It had appended the write, and truncated it on its way back.
	require.True(t, c.Broker(1).LogsContain("follower truncated what the leader never had"), "broker 1 truncated its uncommitted tail")
}

// A follower whose segment is damaged while it is down (a byte flipped in
// the middle, then the file cut mid-batch) recovers: at start its log is
// cut at the first bad batch, it fetches the rest from the leader and
// rejoins the ISR; led by it alone afterwards, the partition still reads
// back complete.
func TestReplicationCorruptFollowerRecovers(t *testing.T) {
	c := startReplCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c.CreateTopic(ctx, "damaged", 1, nil)
	prod := c.Client(kgo.DefaultProduceTopic("damaged"), kgo.RequiredAcks(kgo.AllISRAcks()))
	for i := range 200 {
		require.NoError(t, prod.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("v%03d-%s", i, strings.Repeat("x", 100)))}).FirstErr())
	}
	d := c.Describe(ctx, "damaged")[0]
	var f int32
	for _, r := range d.Replicas {
		if r != d.Leader {
			f = r
			break
		}
	}
	c.Broker(f).Kill()
	seg := filepath.Join(c.Broker(f).LogDir(), "damaged-0", "00000000000000000000.log")
	data, err := os.ReadFile(seg)
	require.NoError(t, err)
	require.Greater(t, len(data), 10000)
	data[len(data)/2] ^= 0xff
	require.NoError(t, os.WriteFile(seg, data[:len(data)-37], 0o644))
	for i := 200; i < 220; i++ {
		require.NoError(t, prod.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("v%03d-%s", i, strings.Repeat("x", 100)))}).FirstErr())
	}
	// Its old session must expire before the broker id can register again.
	zc := c.ZK.Client(c.ZK.Addrs()...)
	eventuallyT(t, 30*time.Second, "the killed follower's registration gone", func() bool {
		ok, _, err := zc.Exists(fmt.Sprintf("/kafka/brokers/ids/%d", f))
		return err == nil && !ok
	})
	c.Broker(f).Start()
	eventuallyT(t, 60*time.Second, "the damaged follower back in the ISR", func() bool {
		return len(c.Describe(ctx, "damaged")[0].ISR) == 3
	})
	require.True(t, c.Broker(f).LogsContain("truncating log at the first invalid batch"), "the damage was found at start")
	// Leave it alone as leader: the other two stop (controlled shutdown
	// hands leadership to it), and everything is read from it.
	for _, b := range c.Brokers {
		if b.ID != f {
			b.Stop()
		}
	}
	eventuallyT(t, 30*time.Second, "the recovered follower leads", func() bool {
		return c.Describe(ctx, "damaged")[0].Leader == f
	})
	got := c.readAll(ctx, "damaged")
	require.Len(t, got, 220)
}

// kcat (librdkafka) with replication factor 3: every codec produced with
// acks=all and read back, and -L reports every replica in sync.
func TestReplicationKcatRF3(t *testing.T) {
	needKcat(t)
	c := startReplCluster(t)
	bootstrap := strings.Join(c.Addrs(), ",")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c.CreateTopic(ctx, "kc3", 3, nil)
	var want []string
	for _, codec := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		var in strings.Builder
		for i := range 4 {
			line := fmt.Sprintf("k%d-%s:v%d-%s", i, codec, i, codec)
			in.WriteString(line + "\n")
			want = append(want, strings.Replace(line, ":", "=", 1))
		}
		kcat(t, in.String(), "-b", bootstrap, "-t", "kc3", "-P", "-z", codec, "-K:", "-X", "topic.request.required.acks=all")
	}
	got := strings.Fields(kcat(t, "", "-b", bootstrap, "-t", "kc3", "-C", "-o", "beginning", "-e", "-q", "-f", "%k=%s\n"))
	slices.Sort(got)
	slices.Sort(want)
	require.Equal(t, want, got)

	var md struct {
		Topics []struct {
			Topic      string `json:"topic"`
			Partitions []struct {
				Partition int `json:"partition"`
				Leader    int `json:"leader"`
				Replicas  []struct {
					ID int `json:"id"`
				} `json:"replicas"`
				ISRs []struct {
					ID int `json:"id"`
				} `json:"isrs"`
			} `json:"partitions"`
		} `json:"topics"`
	}
	eventuallyT(t, 30*time.Second, "kcat -L: every replica in sync", func() bool {
		md.Topics = nil
		require.NoError(t, json.Unmarshal([]byte(kcat(t, "", "-b", bootstrap, "-L", "-J", "-t", "kc3")), &md))
		if len(md.Topics) != 1 || len(md.Topics[0].Partitions) != 3 {
			return false
		}
		for _, p := range md.Topics[0].Partitions {
			if len(p.Replicas) != 3 || len(p.ISRs) != 3 || p.Leader <= 0 {
				return false
			}
		}
		return true
	})
}

// The Python clients' interop scripts with replication factor 3 (their
// topics created with RF 3, produced with their default acks).
func TestReplicationPythonClientsRF3(t *testing.T) {
	kp := needPythonModule(t, "kafka", "python3-kafka")
	ck := needPythonModule(t, "confluent_kafka", "python3-confluent-kafka")
	c := startReplCluster(t)
	bootstrap := strings.Join(c.Addrs(), ",")
	runPython(t, kp, "testdata/broker_kafka_python.py", bootstrap, "3")
	runPython(t, ck, "testdata/broker_confluent_kafka.py", bootstrap, "3")
}

// Reassignment under load with real processes: a partition on brokers 1,2
// moves to 3,2 through AlterPartitionReassignments while an idempotent
// acks=all producer writes; broker 1's replica is deleted at the end and
// everything acknowledged reads back once, from the new replicas.
func TestReplicationReassignUnderLoad(t *testing.T) {
	c := startReplCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	zc := c.ZK.Client(c.ZK.Addrs()...)
	_, err := zc.Create("/kafka/brokers/topics/moving", []byte(`{"version":1,"partitions":{"0":[1,2]}}`), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	eventuallyT(t, 30*time.Second, "moving-0 led by 1 with ISR 1,2", func() bool {
		d, ok := c.Describe(ctx, "moving")[0]
		return ok && d.Leader == 1 && len(d.ISR) == 2
	})
	stop := make(chan struct{})
	resCh := make(chan *loadResult, 1)
	go func() { resCh <- steadyLoad(t, c, "moving", stop) }()
	time.Sleep(time.Second)

	adm := c.Admin()
	req := kadm.AlterPartitionAssignmentsReq{}
	req.Assign("moving", 0, []int32{3, 2})
	res, err := adm.AlterPartitionAssignments(ctx, req)
	require.NoError(t, err)
	for _, r := range res["moving"] {
		require.NoError(t, r.Err)
	}
	eventuallyT(t, 60*time.Second, "moving-0 on 3,2 with nothing in progress", func() bool {
		d := c.Describe(ctx, "moving")[0]
		l, err := adm.ListPartitionReassignments(ctx, kadm.TopicsSet{"moving": {0: {}}})
		return err == nil && len(l["moving"]) == 0 && slices.Equal(d.Replicas, []int32{3, 2}) && d.Leader != 1 && len(d.ISR) == 2
	})
	eventuallyT(t, 30*time.Second, "broker 1's replica deleted", func() bool {
		_, err := os.Stat(filepath.Join(c.Broker(1).LogDir(), "moving-0"))
		return os.IsNotExist(err)
	})
	time.Sleep(500 * time.Millisecond)
	close(stop)
	load := <-resCh
	got := c.readAll(ctx, "moving")
	lost, dups := 0, 0
	for v := range load.acked {
		if got[v] == 0 {
			lost++
		}
	}
	for _, n := range got {
		if n > 1 {
			dups++
		}
	}
	t.Logf("sent %d, acknowledged %d, read back %d distinct; lost %d, duplicated %d", load.sent.Load(), len(load.acked), len(got), lost, dups)
	require.Zero(t, lost)
	require.Zero(t, dups)
}

// Controller failover: kill -9 of the controller broker; another broker
// wins /controller with /controller_epoch + 1, moves the dead broker's
// leaderships and shrinks the ISRs, and then handles the next failure
// too (a second broker stopped: its partitions move to the last one).
func TestReplicationControllerFailover(t *testing.T) {
	c := startReplCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c.CreateTopic(ctx, "ctl", 3, nil)
	zc := c.ZK.Client(c.ZK.Addrs()...)
	controller := func() (int32, int) {
		data, _, err := zc.Get("/kafka/controller")
		if err != nil {
			return -1, -1
		}
		var ctl struct {
			BrokerID int32 `json:"brokerid"`
		}
		if json.Unmarshal(data, &ctl) != nil {
			return -1, -1
		}
		ep, _, err := zc.Get("/kafka/controller_epoch")
		if err != nil {
			return -1, -1
		}
		n, _ := strconv.Atoi(string(ep))
		return ctl.BrokerID, n
	}
	first, epoch := controller()
	require.Positive(t, first)
	c.Broker(first).Kill()
	eventuallyT(t, 30*time.Second, "a new controller with the next epoch, and the dead broker's partitions moved", func() bool {
		id, e := controller()
		if id <= 0 || id == first || e <= epoch {
			return false
		}
		for _, d := range c.Describe(ctx, "ctl") {
			if d.Leader == first || d.Leader <= 0 || slices.Contains(d.ISR, first) {
				return false
			}
		}
		return true
	})
	second, _ := controller()
	var last int32
	for _, b := range c.Brokers {
		if b.ID != first && b.ID != second {
			last = b.ID
		}
	}
	c.Broker(second).Kill()
	eventuallyT(t, 30*time.Second, "the last broker controls and leads everything", func() bool {
		id, _ := controller()
		if id != last {
			return false
		}
		for _, d := range c.Describe(ctx, "ctl") {
			if d.Leader != last {
				return false
			}
		}
		return true
	})
}
