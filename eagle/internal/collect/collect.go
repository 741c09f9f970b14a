// Package collect runs one collection pass over one cluster and returns a
// model.Snapshot. A Collector owns the cluster's one ZooKeeper session
// (go-zookeeper/zk) and one Kafka client (sarama), plus a connection per
// registered broker to check that each one answers.
//
// A pass, in order (each step with at most Concurrency requests in flight):
//
//  1. ZooKeeper: /brokers/ids/* (registrations, metrics ports), /controller,
//     /cluster/id, /brokers/topics children, /admin/delete_topics,
//     /admin/reassign_partitions; at the same time srvr and mntr on every
//     ZooKeeper server, and GET /metrics on every registered broker.
//  2. Kafka: DescribeCluster to every registered broker (reachable? which
//     controller does it see?), then one Metadata request (all topics).
//  3. Groups: ListGroups on every broker, DescribeGroups per coordinator,
//     OffsetFetch per group: committed offsets are read BEFORE end offsets,
//     so end - committed is never negative.
//  4. Offsets: one ListOffsets per leader for the log start offsets and one
//     for the end offsets (all of the leader's partitions in each), and one
//     DescribeLogDirs per broker for sizes.
//  5. Lag in seconds: per lagging partition, the timestamp of the record at
//     the committed offset, one small Fetch per leader for up to 16
//     partitions, cached by (topic, partition, offset) (lagtime.go).
//  6. Rates against the previous pass (end offsets, broker byte counters);
//     lag in seconds estimated from the rate where no timestamp was read.
//
// Nothing in a pass is fatal: what fails is recorded in the snapshot
// (ZKError, KafkaError, Broker.Error, ZKServer.Error, Errors) and shown.
package collect

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/go-zookeeper/zk"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
	"github.com/rs/zerolog"

	"mqstack/eagle/internal/config"
	"mqstack/eagle/internal/model"
	"mqstack/proto/fourlw"
	"mqstack/proto/kafkazk"
)

// KafkaVersion is the protocol version eagle speaks (brokerd is Kafka 2.8).
var KafkaVersion = sarama.V2_8_0_0

// Collector collects one cluster. Collect and Close are called from one
// goroutine; ZK and Client may be used concurrently by page handlers.
type Collector struct {
	cluster     config.Cluster
	log         zerolog.Logger
	concurrency int
	timeout     time.Duration // four-letter words
	zkTimeout   time.Duration // the ZooKeeper reads of one pass
	scfg        *sarama.Config
	httpc       *http.Client

	mu     sync.Mutex // guards zkConn, client, probes
	zkConn *zk.Conn
	client sarama.Client
	probes map[string]*sarama.Broker // by host:port

	prev *model.Snapshot
	// lagCache: the records that dated the last pass's lags.
	lagCache map[lagKey]recordTime

	knownMu sync.Mutex
	known   map[int32]Seen // brokers seen registered, and when last
}

// Seen is a broker remembered as registered once: a broker that vanished
// from ZooKeeper is still listed, as down, until an operator forgets it.
type Seen struct {
	ID   int32
	Host string
	Port int
	Last time.Time
}

// New returns a collector; nothing is connected until the first pass.
func New(cl config.Cluster, concurrency int, log zerolog.Logger) *Collector {
	scfg := sarama.NewConfig()
	scfg.Version = KafkaVersion
	scfg.ClientID = "eagle"
	scfg.Net.DialTimeout = 3 * time.Second
	scfg.Net.ReadTimeout = 10 * time.Second
	scfg.Net.WriteTimeout = 5 * time.Second
	scfg.Metadata.Retry.Max = 1
	scfg.Metadata.Retry.Backoff = 200 * time.Millisecond
	scfg.Metadata.RefreshFrequency = 0
	scfg.Admin.Timeout = 30 * time.Second
	scfg.Producer.Return.Successes = true
	scfg.Producer.RequiredAcks = sarama.WaitForAll
	scfg.Producer.Partitioner = newPartitioner
	if concurrency < 1 {
		concurrency = 1
	}
	return &Collector{
		cluster: cl, log: log.With().Str("component", "collect").Str("cluster", cl.Alias).Logger(),
		concurrency: concurrency, timeout: 5 * time.Second, zkTimeout: 30 * time.Second, scfg: scfg,
		httpc:  &http.Client{Timeout: 5 * time.Second},
		probes: map[string]*sarama.Broker{}, known: map[int32]Seen{},
	}
}

// Config is the sarama configuration used by the client (for admin actions).
func (c *Collector) Config() *sarama.Config { return c.scfg }

// Close ends the ZooKeeper session and the Kafka connections.
func (c *Collector) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.zkConn != nil {
		c.zkConn.Close()
		c.zkConn = nil
	}
	if c.client != nil {
		_ = c.client.Close()
		c.client = nil
	}
	for k, b := range c.probes {
		_ = b.Close()
		delete(c.probes, k)
	}
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

// ZK returns the ZooKeeper session (connected on first use) and the chroot.
func (c *Collector) ZK() (*zk.Conn, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.zkConn != nil && c.zkConn.State() != zk.StateExpired && c.zkConn.State() != zk.StateDisconnected {
		return c.zkConn, c.cluster.Chroot, nil
	}
	if c.zkConn != nil && c.zkConn.State() == zk.StateExpired {
		c.zkConn.Close()
		c.zkConn = nil
	}
	if c.zkConn == nil {
		conn, _, err := zk.Connect(c.cluster.ZkServers, 15*time.Second, zk.WithLogger(quietLogger{}))
		if err != nil {
			return nil, "", fmt.Errorf("zookeeper %s: %w", c.cluster.ZkList, err)
		}
		c.zkConn = conn
	}
	return c.zkConn, c.cluster.Chroot, nil
}

// Client returns the Kafka client, bootstrapped from the brokers of the
// last pass.
func (c *Collector) Client() (sarama.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil && !c.client.Closed() {
		return c.client, nil
	}
	return nil, fmt.Errorf("cluster %s: no broker has answered yet", c.cluster.Alias)
}

func (c *Collector) ensureClient(addrs []string) (sarama.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil && !c.client.Closed() {
		return c.client, nil
	}
	if len(addrs) == 0 {
		return nil, errors.New("no broker is registered in ZooKeeper")
	}
	cl, err := sarama.NewClient(addrs, c.scfg)
	if err != nil {
		return nil, err
	}
	c.client = cl
	return cl, nil
}

func (c *Collector) probe(addr string) (*sarama.Broker, error) {
	c.mu.Lock()
	b, ok := c.probes[addr]
	if !ok {
		b = sarama.NewBroker(addr)
		c.probes[addr] = b
	}
	c.mu.Unlock()
	if ok, _ := b.Connected(); !ok {
		if err := b.Open(c.scfg); err != nil && !errors.Is(err, sarama.ErrAlreadyConnected) {
			return nil, err
		}
		// Connected waits for the connection Open started.
		if ok, err := b.Connected(); !ok {
			c.dropProbe(addr)
			if err == nil {
				err = fmt.Errorf("%s: not connected", addr)
			}
			return nil, err
		}
	}
	return b, nil
}

func (c *Collector) dropProbe(addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.probes[addr]; ok {
		_ = b.Close()
		delete(c.probes, addr)
	}
}

// forEach runs fn(i) for i in [0,n) with at most limit at once.
func forEach(n, limit int, fn func(i int)) {
	if n == 0 {
		return
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}

// errs collects pass errors from several goroutines.
type errs struct {
	mu   sync.Mutex
	list []string
}

func (e *errs) add(format string, args ...any) {
	e.mu.Lock()
	e.list = append(e.list, fmt.Sprintf(format, args...))
	e.mu.Unlock()
}

// Collect runs one pass.
func (c *Collector) Collect(ctx context.Context) *model.Snapshot {
	start := time.Now()
	s := &model.Snapshot{Cluster: c.cluster.Alias, Time: start, ZkController: -1, MetaController: map[int32]int32{},
		MessagesInRate: -1, BytesInRate: -1, BytesOutRate: -1}
	var pe errs

	// Step 1: ZooKeeper znodes, four-letter words and broker metrics.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.ZK = c.fourLetterWords() }()
	c.readZKBounded(s, &pe, c.zkTimeout)
	c.mergeKnown(s)
	metrics := make([]brokerMetrics, len(s.Brokers))
	wg.Add(1)
	go func() {
		defer wg.Done()
		forEach(len(s.Brokers), c.concurrency, func(i int) { metrics[i] = c.scrape(ctx, s.Brokers[i]) })
	}()

	// Step 2: Kafka.
	c.readKafka(s, &pe)
	c.lagTimes(s, &pe)
	wg.Wait()
	for i := range s.Brokers {
		metrics[i].apply(&s.Brokers[i])
	}
	c.computeRates(s)
	pe.mu.Lock()
	s.Errors = append([]string(nil), pe.list...)
	pe.mu.Unlock()
	s.Took = time.Since(start)
	c.prev = s
	return s
}

// readZKBounded runs readZK on its own snapshot and copies the result, or
// gives up after timeout (a ZooKeeper that accepts the connection but never
// answers must not stall the pass): the session is then closed, so the
// next pass starts a new one.
func (c *Collector) readZKBounded(s *model.Snapshot, pe *errs, timeout time.Duration) {
	zs := &model.Snapshot{Cluster: s.Cluster, Time: s.Time, ZkController: -1}
	done := make(chan struct{})
	go func() { defer close(done); c.readZK(zs, pe) }()
	select {
	case <-done:
		s.ClusterID, s.ZkController, s.Brokers, s.ZKTopics = zs.ClusterID, zs.ZkController, zs.Brokers, zs.ZKTopics
		s.PendingDeletes, s.PendingReassign, s.ZKError = zs.PendingDeletes, zs.PendingReassign, zs.ZKError
	case <-time.After(timeout):
		s.ZKError = fmt.Sprintf("ZooKeeper %s did not answer within %s", c.cluster.ZkList, timeout)
		c.mu.Lock()
		if c.zkConn != nil {
			c.zkConn.Close()
			c.zkConn = nil
		}
		c.mu.Unlock()
	}
}

func (c *Collector) zkPath(p string) string {
	if c.cluster.Chroot == "" {
		return p
	}
	return path.Join(c.cluster.Chroot, p)
}

func (c *Collector) readZK(s *model.Snapshot, pe *errs) {
	conn, _, err := c.ZK()
	if err == nil {
		_, _, err = conn.Exists("/")
	}
	if err != nil {
		s.ZKError = err.Error()
		return
	}
	if b, _, err := conn.Get(c.zkPath(kafkazk.ClusterIDPath)); err == nil {
		s.ClusterID, _ = kafkazk.DecodeClusterID(b)
	}
	if b, _, err := conn.Get(c.zkPath(kafkazk.ControllerPath)); err == nil {
		if id, err := kafkazk.DecodeController(b); err == nil {
			s.ZkController = id
		}
	}
	ids, _, err := conn.Children(c.zkPath(kafkazk.BrokerIDsPath))
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		s.ZKError = fmt.Sprintf("%s: %v", c.zkPath(kafkazk.BrokerIDsPath), err)
		return
	}
	brokers := make([]model.Broker, len(ids))
	ok := make([]bool, len(ids))
	forEach(len(ids), c.concurrency, func(i int) {
		id64, err := strconv.ParseInt(ids[i], 10, 32)
		if err != nil {
			return
		}
		id := int32(id64)
		b, _, err := conn.Get(c.zkPath(kafkazk.BrokerPath(id)))
		if err != nil {
			if !errors.Is(err, zk.ErrNoNode) {
				pe.add("broker %d registration: %v", id, err)
			}
			return
		}
		info, err := kafkazk.DecodeBrokerInfo(id, b)
		if err != nil {
			pe.add("%v", err)
			return
		}
		mb := model.Broker{ID: id, Registered: true, MetricsPort: info.MetricsPort, Host: info.Host, Port: info.Port,
			BytesInRate: -1, BytesOutRate: -1, MessagesInRate: -1}
		if ep, ok := info.Endpoint(c.cluster.Listener); ok {
			mb.Host, mb.Port = ep.Host, ep.Port
		}
		if info.Rack != nil {
			mb.Rack = *info.Rack
		}
		if ms, err := strconv.ParseInt(info.Timestamp, 10, 64); err == nil {
			mb.RegisteredAt = time.UnixMilli(ms)
		}
		brokers[i], ok[i] = mb, true
	})
	for i := range brokers {
		if ok[i] {
			s.Brokers = append(s.Brokers, brokers[i])
		}
	}
	sort.Slice(s.Brokers, func(i, j int) bool { return s.Brokers[i].ID < s.Brokers[j].ID })
	if t, _, err := conn.Children(c.zkPath(kafkazk.BrokerTopicsPath)); err == nil {
		sort.Strings(t)
		s.ZKTopics = t
	}
	if d, _, err := conn.Children(c.zkPath(kafkazk.DeleteTopicsPath)); err == nil {
		sort.Strings(d)
		s.PendingDeletes = d
	}
	if b, _, err := conn.Get(c.zkPath("/admin/reassign_partitions")); err == nil {
		s.PendingReassign = reassignTopics(b)
	}
}

// reassignTopics reads /admin/reassign_partitions
// ({"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2]}]}).
func reassignTopics(b []byte) []string {
	var r struct {
		Partitions []struct {
			Topic     string `json:"topic"`
			Partition int32  `json:"partition"`
		} `json:"partitions"`
	}
	if json.Unmarshal(b, &r) != nil {
		return []string{"(unreadable /admin/reassign_partitions)"}
	}
	set := map[string]bool{}
	for _, p := range r.Partitions {
		set[fmt.Sprintf("%s-%d", p.Topic, p.Partition)] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// mergeKnown adds brokers seen before that are no longer registered, so a
// broker whose registration vanished stays on the page as down.
func (c *Collector) mergeKnown(s *model.Snapshot) {
	if s.ZKError != "" {
		return
	}
	c.knownMu.Lock()
	defer c.knownMu.Unlock()
	have := map[int32]bool{}
	for _, b := range s.Brokers {
		have[b.ID] = true
		c.known[b.ID] = Seen{ID: b.ID, Host: b.Host, Port: b.Port, Last: s.Time}
	}
	for id, seen := range c.known {
		if !have[id] {
			s.Brokers = append(s.Brokers, model.Broker{ID: id, Host: seen.Host, Port: seen.Port,
				BytesInRate: -1, BytesOutRate: -1, MessagesInRate: -1,
				Error: fmt.Sprintf("not registered in ZooKeeper (last seen %s)", seen.Last.UTC().Format(time.RFC3339))})
		}
	}
	sort.Slice(s.Brokers, func(i, j int) bool { return s.Brokers[i].ID < s.Brokers[j].ID })
}

// Remember adds brokers seen by an earlier run (from the store).
func (c *Collector) Remember(list []Seen) {
	c.knownMu.Lock()
	defer c.knownMu.Unlock()
	for _, b := range list {
		if cur, ok := c.known[b.ID]; !ok || cur.Last.Before(b.Last) {
			c.known[b.ID] = b
		}
	}
}

// Known lists the brokers remembered as seen.
func (c *Collector) Known() []Seen {
	c.knownMu.Lock()
	defer c.knownMu.Unlock()
	out := make([]Seen, 0, len(c.known))
	for _, b := range c.known {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Forget drops a broker from the brokers remembered as seen (an operator
// removed it on purpose). A broker still registered comes back at the next
// pass.
func (c *Collector) Forget(id int32) {
	c.knownMu.Lock()
	defer c.knownMu.Unlock()
	delete(c.known, id)
}

func addr(b model.Broker) string { return net.JoinHostPort(b.Host, strconv.Itoa(b.Port)) }

// reachableAddrs maps the pass's reachable brokers to their addresses.
func reachableAddrs(s *model.Snapshot) map[int32]string {
	m := map[int32]string{}
	for _, b := range s.Brokers {
		if b.Reachable {
			m[b.ID] = addr(b)
		}
	}
	return m
}

func (c *Collector) readKafka(s *model.Snapshot, pe *errs) {
	var addrs []string
	for _, b := range s.Brokers {
		if b.Registered {
			addrs = append(addrs, addr(b))
		}
	}
	// Every registered broker: reachable, and its view of the controller.
	forEach(len(s.Brokers), c.concurrency, func(i int) {
		b := &s.Brokers[i]
		if !b.Registered {
			return
		}
		a := addr(*b)
		pb, err := c.probe(a)
		if err == nil {
			var resp *sarama.DescribeClusterResponse
			resp, err = pb.DescribeCluster(&sarama.DescribeClusterRequest{Version: 0})
			if err == nil && resp.Err != sarama.ErrNoError {
				err = resp.Err
			}
			if err == nil {
				b.Reachable = true
				pe.mu.Lock()
				s.MetaController[b.ID] = resp.ControllerID
				pe.mu.Unlock()
				return
			}
			// A broker older than Kafka 2.8 has no DescribeCluster: it
			// answers, so it is reachable; its controller view is unknown.
			var kerr sarama.KError
			if errors.As(err, &kerr) {
				if _, verr := pb.ApiVersions(&sarama.ApiVersionsRequest{}); verr == nil {
					b.Reachable = true
					return
				}
			}
			c.dropProbe(a)
		}
		b.Error = fmt.Sprintf("registered at %s but not answering: %v", a, err)
	})
	if _, err := c.ensureClient(addrs); err != nil {
		s.KafkaError = err.Error()
		return
	}
	var md *sarama.MetadataResponse
	for _, b := range s.Brokers {
		if !b.Reachable {
			continue
		}
		pb, err := c.probe(addr(b))
		if err != nil {
			continue
		}
		md, err = pb.GetMetadata(sarama.NewMetadataRequest(KafkaVersion, nil))
		if err == nil {
			break
		}
		pe.add("metadata from broker %d: %v", b.ID, err)
		md = nil
	}
	if md == nil {
		s.KafkaError = "no broker answered a metadata request"
		return
	}
	inMeta := map[int32]bool{}
	for _, mb := range md.Brokers {
		inMeta[mb.ID()] = true
	}
	for i := range s.Brokers {
		s.Brokers[i].InMetadata = inMeta[s.Brokers[i].ID]
	}
	byID := map[int32]*model.Broker{}
	for i := range s.Brokers {
		byID[s.Brokers[i].ID] = &s.Brokers[i]
	}
	for _, tm := range md.Topics {
		t := model.Topic{Name: tm.Name, Internal: tm.IsInternal, Size: -1}
		if tm.Err != sarama.ErrNoError {
			t.Error = tm.Err.Error()
		}
		for _, pm := range tm.Partitions {
			p := model.Partition{ID: pm.ID, Leader: pm.Leader, Replicas: pm.Replicas, ISR: pm.Isr,
				Offline: pm.OfflineReplicas, Start: -1, End: -1, Size: -1}
			if pm.Err != sarama.ErrNoError && pm.Err != sarama.ErrReplicaNotAvailable {
				p.Error = pm.Err.Error()
			}
			if lb := byID[p.Leader]; lb != nil && p.Leader >= 0 {
				lb.Leaders++
			}
			for _, r := range p.Replicas {
				if rb := byID[r]; rb != nil {
					rb.Replicas++
					if p.UnderReplicated() {
						rb.UnderReplicated++
					}
				}
			}
			t.Partitions = append(t.Partitions, p)
		}
		sort.Slice(t.Partitions, func(i, j int) bool { return t.Partitions[i].ID < t.Partitions[j].ID })
		s.Topics = append(s.Topics, t)
	}
	sort.Slice(s.Topics, func(i, j int) bool { return s.Topics[i].Name < s.Topics[j].Name })

	// Groups first: committed offsets before end offsets.
	c.readGroups(s, pe)
	c.readOffsets(s, pe)
	c.readSizes(s, pe)
	endOf := map[model.TopicPartition]int64{}
	for _, t := range s.Topics {
		for _, p := range t.Partitions {
			endOf[model.TopicPartition{Topic: t.Name, Partition: p.ID}] = p.End
		}
	}
	for gi := range s.Groups {
		for oi := range s.Groups[gi].Offsets {
			o := &s.Groups[gi].Offsets[oi]
			o.End, o.Lag, o.LagSeconds = -1, -1, -1
			if end, ok := endOf[model.TopicPartition{Topic: o.Topic, Partition: o.Partition}]; ok && end >= 0 {
				o.End = end
				if o.Committed >= 0 {
					o.Lag = max(end-o.Committed, 0)
				}
			}
		}
	}
}

func (c *Collector) readGroups(s *model.Snapshot, pe *errs) {
	type listed struct {
		coordinator int32
		groups      []string
	}
	lists := make([]listed, len(s.Brokers))
	forEach(len(s.Brokers), c.concurrency, func(i int) {
		b := s.Brokers[i]
		if !b.Reachable {
			return
		}
		pb, err := c.probe(addr(b))
		if err != nil {
			return
		}
		resp, err := pb.ListGroups(&sarama.ListGroupsRequest{Version: 2})
		if err != nil || resp.Err != sarama.ErrNoError {
			pe.add("ListGroups on broker %d: %v %v", b.ID, err, resp.Err)
			return
		}
		lists[i].coordinator = b.ID
		for g := range resp.Groups {
			lists[i].groups = append(lists[i].groups, g)
		}
		sort.Strings(lists[i].groups)
	})
	var groups []*model.Group
	type job struct {
		b      model.Broker
		groups []*model.Group
	}
	var jobs []job
	for i, l := range lists {
		if len(l.groups) == 0 {
			continue
		}
		j := job{b: s.Brokers[i]}
		for _, id := range l.groups {
			g := &model.Group{ID: id, Coordinator: l.coordinator}
			groups = append(groups, g)
			j.groups = append(j.groups, g)
		}
		jobs = append(jobs, j)
	}
	forEach(len(jobs), c.concurrency, func(i int) {
		j := jobs[i]
		pb, err := c.probe(addr(j.b))
		if err != nil {
			for _, g := range j.groups {
				g.Error = err.Error()
			}
			return
		}
		ids := make([]string, len(j.groups))
		for k, g := range j.groups {
			ids[k] = g.ID
		}
		resp, err := pb.DescribeGroups(&sarama.DescribeGroupsRequest{Version: 4, Groups: ids})
		if err != nil {
			for _, g := range j.groups {
				g.Error = "DescribeGroups: " + err.Error()
			}
			return
		}
		byID := map[string]*model.Group{}
		for _, g := range j.groups {
			byID[g.ID] = g
		}
		for _, d := range resp.Groups {
			g := byID[d.GroupId]
			if g == nil {
				continue
			}
			if d.Err != sarama.ErrNoError {
				g.Error = d.Err.Error()
			}
			g.State, g.ProtocolType, g.Protocol = d.State, d.ProtocolType, d.Protocol
			for id, m := range d.Members {
				mm := model.Member{ID: id, ClientID: m.ClientId, Host: m.ClientHost}
				if g.ProtocolType == "consumer" {
					if a, err := m.GetMemberAssignment(); err == nil && a != nil {
						for t, ps := range a.Topics {
							for _, p := range ps {
								mm.Assigned = append(mm.Assigned, model.TopicPartition{Topic: t, Partition: p})
							}
						}
					}
				}
				g.Members = append(g.Members, mm)
			}
			sort.Slice(g.Members, func(a, b int) bool { return g.Members[a].ID < g.Members[b].ID })
		}
	})
	// Committed offsets, one OffsetFetch per group (all partitions).
	forEach(len(groups), c.concurrency, func(i int) {
		g := groups[i]
		var b *model.Broker
		for k := range s.Brokers {
			if s.Brokers[k].ID == g.Coordinator {
				b = &s.Brokers[k]
			}
		}
		pb, err := c.probe(addr(*b))
		if err != nil {
			g.Error = err.Error()
			return
		}
		resp, err := pb.FetchOffset(sarama.NewOffsetFetchRequest(KafkaVersion, g.ID, nil))
		if err != nil {
			g.Error = "OffsetFetch: " + err.Error()
			return
		}
		if resp.Err != sarama.ErrNoError {
			g.Error = "OffsetFetch: " + resp.Err.Error()
			return
		}
		owner := map[model.TopicPartition]string{}
		for _, m := range g.Members {
			for _, tp := range m.Assigned {
				owner[tp] = m.ClientID
			}
		}
		for t, parts := range resp.Blocks {
			for p, blk := range parts {
				if blk.Err != sarama.ErrNoError || blk.Offset < 0 {
					continue
				}
				tp := model.TopicPartition{Topic: t, Partition: p}
				g.Offsets = append(g.Offsets, model.GroupOffset{Topic: t, Partition: p, Committed: blk.Offset, Owner: owner[tp]})
			}
		}
		sort.Slice(g.Offsets, func(a, b int) bool {
			if g.Offsets[a].Topic != g.Offsets[b].Topic {
				return g.Offsets[a].Topic < g.Offsets[b].Topic
			}
			return g.Offsets[a].Partition < g.Offsets[b].Partition
		})
	})
	for _, g := range groups {
		s.Groups = append(s.Groups, *g)
	}
	sort.Slice(s.Groups, func(i, j int) bool { return s.Groups[i].ID < s.Groups[j].ID })
}

// readOffsets sends, per leader, one ListOffsets for the start offsets and
// one for the end offsets of all the partitions it leads.
func (c *Collector) readOffsets(s *model.Snapshot, pe *errs) {
	type ref struct{ t, p int }
	byLeader := map[int32][]ref{}
	for ti, t := range s.Topics {
		for pi, p := range t.Partitions {
			if p.Leader >= 0 {
				byLeader[p.Leader] = append(byLeader[p.Leader], ref{ti, pi})
			}
		}
	}
	addrOf := reachableAddrs(s)
	type job struct {
		leader int32
		refs   []ref
		time   int64
	}
	var jobs []job
	for l, refs := range byLeader {
		jobs = append(jobs, job{l, refs, sarama.OffsetOldest}, job{l, refs, sarama.OffsetNewest})
	}
	var mu sync.Mutex
	forEach(len(jobs), c.concurrency, func(i int) {
		j := jobs[i]
		a, ok := addrOf[j.leader]
		if !ok {
			return
		}
		pb, err := c.probe(a)
		if err != nil {
			pe.add("ListOffsets to broker %d: %v", j.leader, err)
			return
		}
		req := sarama.NewOffsetRequest(KafkaVersion)
		for _, r := range j.refs {
			req.AddBlock(s.Topics[r.t].Name, s.Topics[r.t].Partitions[r.p].ID, j.time, 1)
		}
		resp, err := pb.GetAvailableOffsets(req)
		if err != nil {
			pe.add("ListOffsets to broker %d: %v", j.leader, err)
			c.dropProbe(a)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, r := range j.refs {
			p := &s.Topics[r.t].Partitions[r.p]
			blk := resp.GetBlock(s.Topics[r.t].Name, p.ID)
			if blk == nil || blk.Err != sarama.ErrNoError {
				continue
			}
			off := blk.Offset
			if req.Version == 0 && len(blk.Offsets) > 0 {
				off = blk.Offsets[0]
			}
			if j.time == sarama.OffsetOldest {
				p.Start = off
			} else {
				p.End = off
			}
		}
	})
}

// readSizes asks every reachable broker for its log dirs; a partition's
// size is its leader's.
func (c *Collector) readSizes(s *model.Snapshot, pe *errs) {
	type key struct {
		broker int32
		tp     model.TopicPartition
	}
	sizes := map[key]int64{}
	var mu sync.Mutex
	forEach(len(s.Brokers), c.concurrency, func(i int) {
		b := &s.Brokers[i]
		if !b.Reachable {
			return
		}
		pb, err := c.probe(addr(*b))
		if err != nil {
			return
		}
		resp, err := pb.DescribeLogDirs(&sarama.DescribeLogDirsRequest{Version: 1})
		if err != nil {
			pe.add("DescribeLogDirs on broker %d: %v", b.ID, err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		var total int64
		for _, d := range resp.LogDirs {
			for _, t := range d.Topics {
				for _, p := range t.Partitions {
					sizes[key{b.ID, model.TopicPartition{Topic: t.Topic, Partition: p.PartitionID}}] = p.Size
					total += p.Size
				}
			}
		}
		b.LogBytes = total
	})
	for ti := range s.Topics {
		t := &s.Topics[ti]
		var sum int64
		known := len(t.Partitions) > 0
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			if sz, ok := sizes[key{p.Leader, model.TopicPartition{Topic: t.Name, Partition: p.ID}}]; ok {
				p.Size = sz
				sum += sz
			} else {
				known = false
			}
		}
		if known {
			t.Size = sum
		}
	}
}

// computeRates derives per-second rates from the previous pass.
func (c *Collector) computeRates(s *model.Snapshot) {
	prev := c.prev
	if prev == nil {
		return
	}
	dt := s.Time.Sub(prev.Time).Seconds()
	if dt <= 0 {
		return
	}
	prevEnd := map[model.TopicPartition]int64{}
	for _, t := range prev.Topics {
		for _, p := range t.Partitions {
			prevEnd[model.TopicPartition{Topic: t.Name, Partition: p.ID}] = p.End
		}
	}
	partRate := map[model.TopicPartition]float64{}
	var total float64
	any := false
	for ti := range s.Topics {
		t := &s.Topics[ti]
		var sum float64
		for _, p := range t.Partitions {
			tp := model.TopicPartition{Topic: t.Name, Partition: p.ID}
			if pe, ok := prevEnd[tp]; ok && pe >= 0 && p.End >= pe {
				r := float64(p.End-pe) / dt
				partRate[tp] = r
				sum += r
				any = true
			}
		}
		t.MessagesRate = sum
		total += sum
	}
	if any {
		s.MessagesInRate = total
	}
	prevB := map[int32]model.Broker{}
	for _, b := range prev.Brokers {
		prevB[b.ID] = b
	}
	var bin, bout float64
	haveBytes := false
	for i := range s.Brokers {
		b := &s.Brokers[i]
		pb, ok := prevB[b.ID]
		if !ok || !b.HasMetrics || !pb.HasMetrics || b.BytesInTotal < pb.BytesInTotal {
			continue
		}
		b.BytesInRate = (b.BytesInTotal - pb.BytesInTotal) / dt
		b.BytesOutRate = (b.BytesOutTotal - pb.BytesOutTotal) / dt
		b.MessagesInRate = (b.MessagesInTotal - pb.MessagesInTotal) / dt
		bin += b.BytesInRate
		bout += b.BytesOutRate
		haveBytes = true
	}
	if haveBytes {
		s.BytesInRate, s.BytesOutRate = bin, bout
	}
	for gi := range s.Groups {
		for oi := range s.Groups[gi].Offsets {
			o := &s.Groups[gi].Offsets[oi]
			if o.Lag <= 0 || o.LagSeconds >= 0 {
				continue
			}
			if r := partRate[model.TopicPartition{Topic: o.Topic, Partition: o.Partition}]; r > 0 {
				o.LagSeconds, o.LagSecondsSource = float64(o.Lag)/r, "rate"
			}
		}
	}
}

// brokerMetrics is what a broker's /metrics gave.
type brokerMetrics struct {
	err                    string
	ok                     bool
	msgIn, bytesIn, bytesO float64
	rss, cpu, startTime    float64
	version                string
}

func (m brokerMetrics) apply(b *model.Broker) {
	b.MetricsError = m.err
	if !m.ok {
		return
	}
	b.HasMetrics = true
	b.MessagesInTotal, b.BytesInTotal, b.BytesOutTotal = m.msgIn, m.bytesIn, m.bytesO
	b.ResidentBytes, b.CPUSeconds = m.rss, m.cpu
	if m.startTime > 0 {
		b.StartTime = time.Unix(int64(m.startTime), 0)
	}
	b.Version = m.version
}

func (c *Collector) scrape(ctx context.Context, b model.Broker) brokerMetrics {
	if b.MetricsPort <= 0 {
		return brokerMetrics{err: "no metrics_port in its registration (end-offset rates are used instead)"}
	}
	url := "http://" + net.JoinHostPort(b.Host, strconv.Itoa(b.MetricsPort)) + "/metrics"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return brokerMetrics{err: err.Error()}
	}
	resp, err := c.httpc.Do(req)
	if err != nil {
		return brokerMetrics{err: err.Error()}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return brokerMetrics{err: url + ": " + resp.Status}
	}
	m, err := ParseMetrics(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return brokerMetrics{err: url + ": " + err.Error()}
	}
	return m
}

// ParseMetrics reads a Prometheus text exposition.
func ParseMetrics(r io.Reader) (brokerMetrics, error) {
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bufio.NewReader(r))
	if err != nil {
		return brokerMetrics{}, err
	}
	val := func(name string) float64 {
		f, ok := fams[name]
		if !ok {
			return 0
		}
		var sum float64
		for _, m := range f.GetMetric() {
			sum += metricValue(m)
		}
		return sum
	}
	out := brokerMetrics{ok: true}
	out.msgIn = val("kafka_server_brokertopicmetrics_messagesin_total")
	out.bytesIn = val("kafka_server_brokertopicmetrics_bytesin_total")
	out.bytesO = val("kafka_server_brokertopicmetrics_bytesout_total")
	out.rss = val("process_resident_memory_bytes")
	out.cpu = val("process_cpu_seconds_total")
	out.startTime = val("process_start_time_seconds")
	for _, name := range []string{"brokerd_build_info", "kafka_server_app_info"} {
		if f, ok := fams[name]; ok {
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "version" {
						out.version = l.GetValue()
					}
				}
			}
		}
	}
	return out, nil
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return 0
}

// fourLetterWords asks every ZooKeeper server for srvr and mntr.
func (c *Collector) fourLetterWords() []model.ZKServer {
	out := make([]model.ZKServer, len(c.cluster.ZkServers))
	forEach(len(out), c.concurrency, func(i int) {
		out[i] = c.zkServer(c.cluster.ZkServers[i])
	})
	return out
}

func (c *Collector) zkServer(a string) model.ZKServer {
	z := model.ZKServer{Addr: a, Followers: -1, Synced: -1}
	srvr, err := FourLetter(a, "srvr", c.timeout)
	if err != nil {
		z.Error = err.Error()
		return z
	}
	z.Up = true
	st, err := fourlw.ParseSrvr(srvr)
	switch {
	case errors.Is(err, fourlw.ErrNotInWhitelist):
		z.SrvrNotWhitelist, z.SrvrError = true, "srvr is not in the whitelist (add it to 4lw.commands.whitelist)"
	case err != nil:
		z.SrvrError = err.Error()
	default:
		z.Srvr = &st
	}
	mntr, err := FourLetter(a, "mntr", c.timeout)
	if err != nil {
		z.MntrError = err.Error()
		return z
	}
	kv, err := fourlw.ParseMntr(mntr)
	switch {
	case errors.Is(err, fourlw.ErrNotInWhitelist):
		z.MntrNotWhitelist, z.MntrError = true, "mntr is not in the whitelist (add it to 4lw.commands.whitelist)"
	case err != nil:
		z.MntrError = err.Error()
	default:
		z.Mntr = map[string]string{}
		for _, e := range kv {
			z.Mntr[e.Key] = e.Value
		}
		if v, err := strconv.Atoi(z.Mntr["zk_followers"]); err == nil {
			z.Followers = v
		}
		if v, err := strconv.Atoi(z.Mntr["zk_synced_followers"]); err == nil {
			z.Synced = v
		}
	}
	return z
}

// FourLetter sends a four-letter word and reads the reply to EOF.
func FourLetter(a, word string, timeout time.Duration) (string, error) {
	conn, err := net.DialTimeout("tcp", a, timeout)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte(word)); err != nil {
		return "", err
	}
	b, err := io.ReadAll(io.LimitReader(conn, 4<<20))
	if err != nil && len(b) == 0 {
		return "", err
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", fmt.Errorf("%s: empty %s reply", a, word)
	}
	return string(b), nil
}

// ManualPartition, as a ProducerMessage's Metadata, sends the message to
// its Partition field; other messages are hashed by key (random without).
var ManualPartition = &struct{ manual bool }{true}

type partitioner struct{ hash sarama.Partitioner }

func newPartitioner(topic string) sarama.Partitioner {
	return partitioner{hash: sarama.NewHashPartitioner(topic)}
}

func (p partitioner) Partition(m *sarama.ProducerMessage, n int32) (int32, error) {
	if m.Metadata == ManualPartition {
		if m.Partition < 0 || m.Partition >= n {
			return 0, sarama.ErrInvalidPartition
		}
		return m.Partition, nil
	}
	return p.hash.Partition(m, n)
}

func (p partitioner) RequiresConsistency() bool { return true }
