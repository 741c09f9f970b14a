// Package coord is brokerd's ZooKeeper side, in Apache Kafka's znode
// layout (proto/kafkazk): broker registration, the cluster id, controller
// election with a fenced controller epoch, topic assignments and partition
// states, topic deletion through /admin/delete_topics.
//
// It is level-triggered: one goroutine re-reads the cluster state from
// ZooKeeper whenever a watch fires and every ResyncInterval (the
// controller's time-based duties: the auto leader rebalance check, the
// purge of old config change notifications), and hands a View to the
// broker. A pass reads only what changed: the znodes whose watches are
// still armed come from a cache (cache.go), and every FullResyncInterval
// a pass re-reads everything as a safety net. On the controller the same pass
// elects partition leaders (Decide, pure) and carries out deletions. So
// brokers learn their partitions through ZooKeeper watches, not through
// Kafka's LeaderAndIsr/UpdateMetadata requests.
//
// Controller writes are fenced: every write is a multi that begins with a
// version check of /controller_epoch, so a controller that lost its
// session (and whose epoch was bumped by the next one) cannot write.
package coord

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/rs/zerolog"

	"mqstack/proto/kafkazk"
)

// Sentinel errors.
var (
	ErrZooKeeper         = errors.New("coord: zookeeper")
	ErrBrokerRegistered  = errors.New("coord: broker id already registered")
	ErrClusterIDMismatch = errors.New("coord: cluster id mismatch")
	ErrTopicExists       = errors.New("coord: topic already exists")
	ErrFenced            = errors.New("coord: controller epoch changed (fenced)")
)

// ResyncInterval is how often a pass runs without a watch event (from the
// watch cache: it costs only what changed).
const ResyncInterval = 2 * time.Second

// Options configure a Coordinator.
type Options struct {
	Connect        string // zookeeper.connect: host:port[,host:port...][/chroot]
	SessionTimeout time.Duration
	BrokerID       int32
	Info           kafkazk.BrokerInfo // this broker's registration
	// BrokerID < 0: generate one from /brokers/seqid's version +
	// ReservedBrokerMaxID (Kafka's broker.id generation), reported through
	// OnBrokerID before any View is built.
	ReservedBrokerMaxID int32
	OnBrokerID          func(int32)
	Logger              zerolog.Logger
	// OnView is called from the coordinator goroutine after every pass.
	OnView func(View)
	// UncleanLeaderElection is the broker's unclean.leader.election.enable
	// (a topic's own setting wins), used when this broker is controller.
	UncleanLeaderElection bool
	// AutoLeaderRebalance (auto.leader.rebalance.enable): every
	// LeaderImbalanceCheck the controller moves leadership back to the
	// preferred replicas of brokers whose share of partitions led by
	// another broker is above LeaderImbalancePct.
	AutoLeaderRebalance  bool
	LeaderImbalanceCheck time.Duration
	LeaderImbalancePct   int
}

// Partition is one partition's assignment and state.
type Partition struct {
	Replicas []int32
	State    *kafkazk.PartitionState // nil until the controller writes it
	// StateVersion is the state znode's version, for version-checked
	// writes (the leader's ISR changes, the controller's elections).
	StateVersion int32
	// Adding and Removing: a reassignment in progress (Replicas holds both).
	Adding, Removing []int32
}

// Topic is one topic in the view.
type Topic struct {
	Name       string
	ID         string
	Partitions map[int32]Partition
	Config     map[string]string
	Deleting   bool  // listed in /admin/delete_topics
	Version    int32 // the /brokers/topics/<t> znode's version
}

// View is a snapshot of the cluster as read from ZooKeeper.
type View struct {
	Brokers         map[int32]kafkazk.BrokerInfo
	Topics          map[string]*Topic
	ControllerID    int32
	ControllerEpoch int32
	// BrokerConfigs are the dynamic broker configs that concern this
	// broker: /config/brokers/<id> under its id and /config/brokers/<default>
	// under kafkazk.DefaultBrokerEntity.
	BrokerConfigs map[string]map[string]string
}

// Coordinator owns the ZooKeeper session.
type Coordinator struct {
	opts   Options
	chroot string
	conn   *zk.Conn
	log    zerolog.Logger

	kick chan struct{}
	stop chan struct{}
	done chan struct{}

	mu    sync.Mutex // guards cache, uncached, view, viewCh
	cache map[string]*zentry
	// uncached: this pass reads every znode from ZooKeeper (refreshing
	// the cache); touched collects the entries it read (loop goroutine).
	uncached bool
	touched  map[string]bool
	passes   uint64 // passes started
	// holdWatches, when set (tests), holds fired watches back until it is
	// closed, as a slow watch goroutine would.
	holdWatches chan struct{}
	view        View
	// reregister: the session expired; /brokers/ids/<id> must be created
	// again before the next pass.
	reregister bool
	viewCh     chan struct{} // closed and replaced after each pass

	// Owned by the loop goroutine.
	lastRebalance  time.Time
	controller     bool
	epoch          int32
	epochZkVersion int32
	lastPurge      time.Time
}

// ParseConnect splits zookeeper.connect into servers and chroot.
func ParseConnect(s string) (servers []string, chroot string, err error) {
	hosts := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		hosts, chroot = s[:i], strings.TrimSuffix(s[i:], "/")
	}
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			if !strings.Contains(h, ":") {
				h += ":2181"
			}
			servers = append(servers, h)
		}
	}
	if len(servers) == 0 {
		return nil, "", fmt.Errorf("%w: zookeeper.connect=%q names no server", ErrZooKeeper, s)
	}
	if chroot != "" && strings.Contains(chroot, "//") {
		return nil, "", fmt.Errorf("%w: zookeeper.connect=%q has an invalid chroot %q", ErrZooKeeper, s, chroot)
	}
	return servers, chroot, nil
}

type quietLogger struct{ l zerolog.Logger }

func (q quietLogger) Printf(format string, args ...any) { q.l.Debug().Msgf(format, args...) }

// Start connects, creates the top-level paths (and the chroot), agrees on
// the cluster id (proposed is used when /cluster/id does not exist yet; it
// must match when it does and proposed is not empty), registers the broker
// and starts the watch loop. It returns the cluster id.
func Start(opts Options, proposedClusterID string) (*Coordinator, string, error) {
	c, err := connect(opts)
	if err != nil {
		return nil, "", err
	}
	cid, err := c.setup(proposedClusterID)
	if err != nil {
		c.conn.Close()
		return nil, "", err
	}
	go c.loop()
	return c, cid, nil
}

// connect opens the session and starts following its state.
func connect(opts Options) (*Coordinator, error) {
	servers, chroot, err := ParseConnect(opts.Connect)
	if err != nil {
		return nil, err
	}
	c := &Coordinator{opts: opts, chroot: chroot, log: opts.Logger.With().Str("component", "coord").Logger(),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		cache: map[string]*zentry{}, viewCh: make(chan struct{})}
	conn, events, err := zk.Connect(servers, opts.SessionTimeout, zk.WithLogger(quietLogger{c.log}))
	if err != nil {
		return nil, fmt.Errorf("%w: connect %s: %w (check zookeeper.connect)", ErrZooKeeper, opts.Connect, err)
	}
	c.conn = conn
	deadline := time.After(max(opts.SessionTimeout, 5*time.Second))
wait:
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				break wait
			}
		case <-deadline:
			conn.Close()
			return nil, fmt.Errorf("%w: no session with %s within %s: is ZooKeeper running there? (zookeeper.connect)", ErrZooKeeper, strings.Join(servers, ","), max(opts.SessionTimeout, 5*time.Second))
		}
	}
	go func() {
		for ev := range events {
			if ev.State == zk.StateHasSession || ev.State == zk.StateExpired {
				c.log.Info().Str("state", ev.State.String()).Msg("zookeeper session event")
				c.mu.Lock()
				c.cache = map[string]*zentry{} // watches are gone with an expired session
				if ev.State == zk.StateExpired {
					// The ephemeral /brokers/ids/<id> went with the session:
					// register again on the next one (Kafka's
					// KafkaZkClient re-registration after expiry).
					c.reregister = true
				}
				c.mu.Unlock()
				c.Kick()
			}
		}
	}()
	return c, nil
}

func (c *Coordinator) p(p string) string { return c.chroot + p }

func (c *Coordinator) ensurePath(p string) error {
	cur := ""
	for _, part := range strings.Split(strings.Trim(p, "/"), "/") {
		cur += "/" + part
		_, err := c.conn.Create(cur, nil, 0, zk.WorldACL(zk.PermAll))
		c.wrote(cur)
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("%w: create %s: %w", ErrZooKeeper, cur, err)
		}
	}
	return nil
}

func (c *Coordinator) setup(proposed string) (string, error) {
	if c.chroot != "" {
		if err := c.ensurePath(c.chroot); err != nil {
			return "", err
		}
	}
	for _, p := range kafkazk.PersistentPaths {
		if err := c.ensurePath(c.p(p)); err != nil {
			return "", err
		}
	}
	if err := c.ensurePath(c.p("/cluster")); err != nil {
		return "", err
	}
	if c.opts.BrokerID < 0 {
		st, err := c.conn.Set(c.p(kafkazk.BrokerSeqIDPath), nil, -1)
		c.wrote(c.p(kafkazk.BrokerSeqIDPath))
		if err != nil {
			return "", fmt.Errorf("%w: generate a broker id with %s: %w", ErrZooKeeper, c.p(kafkazk.BrokerSeqIDPath), err)
		}
		c.opts.BrokerID = st.Version + c.opts.ReservedBrokerMaxID
		c.log.Info().Int32("broker_id", c.opts.BrokerID).Msg("generated broker id")
		if c.opts.OnBrokerID != nil {
			c.opts.OnBrokerID(c.opts.BrokerID)
		}
	}
	var cid string
	data, _, err := c.conn.Get(c.p(kafkazk.ClusterIDPath))
	switch {
	case errors.Is(err, zk.ErrNoNode):
		// A fresh id is only a candidate: when another broker creates the
		// znode first, its id wins and this broker (with no meta.properties
		// of its own) adopts it.
		candidate := proposed
		if candidate == "" {
			candidate = NewClusterID()
		}
		_, err := c.conn.Create(c.p(kafkazk.ClusterIDPath), kafkazk.EncodeClusterID(candidate), 0, zk.WorldACL(zk.PermAll))
		c.wrote(c.p(kafkazk.ClusterIDPath))
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return "", fmt.Errorf("%w: create %s: %w", ErrZooKeeper, c.p(kafkazk.ClusterIDPath), err)
		}
		// Re-read: another broker may have created it first.
		if data, _, err = c.conn.Get(c.p(kafkazk.ClusterIDPath)); err != nil {
			return "", fmt.Errorf("%w: read %s: %w", ErrZooKeeper, c.p(kafkazk.ClusterIDPath), err)
		}
	case err != nil:
		return "", fmt.Errorf("%w: read %s: %w", ErrZooKeeper, c.p(kafkazk.ClusterIDPath), err)
	}
	if cid, err = kafkazk.DecodeClusterID(data); err != nil {
		return "", err
	}
	if proposed != "" && cid != proposed {
		return "", fmt.Errorf("%w: the log dir belongs to cluster %s (meta.properties) but ZooKeeper at %s holds cluster %s: point log.dirs or zookeeper.connect (chroot) at the right cluster",
			ErrClusterIDMismatch, proposed, c.opts.Connect, cid)
	}
	if err := c.register(); err != nil {
		return "", err
	}
	c.log.Info().Str("cluster_id", cid).Msg("cluster id agreed")
	return cid, nil
}

// register creates this broker's ephemeral /brokers/ids/<id>.
func (c *Coordinator) register() error {
	bp := c.p(kafkazk.BrokerPath(c.opts.BrokerID))
	_, err := c.conn.Create(bp, kafkazk.EncodeBrokerInfo(c.opts.Info), zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	c.wrote(bp)
	switch {
	case err == nil:
	case !errors.Is(err, zk.ErrNodeExists):
		return fmt.Errorf("%w: register %s: %w", ErrZooKeeper, bp, err)
	default:
		data, st, gerr := c.conn.Get(bp)
		switch {
		case gerr == nil && st.EphemeralOwner == c.conn.SessionID():
			// Ours already.
		case gerr == nil && c.sameEndpoints(data):
			// This broker's own earlier run (killed, or an expired session
			// of this process): its session holds the znode until
			// ZooKeeper expires it. Wait for that instead of refusing, or
			// a restart by systemd or a supervisor fails until then.
			if err := c.awaitOldRegistration(bp); err != nil {
				return err
			}
			return c.register()
		default:
			return fmt.Errorf("%w: %s exists in ZooKeeper (%s): another broker is running with broker.id=%d; give each broker a unique broker.id",
				ErrBrokerRegistered, bp, c.opts.Connect, c.opts.BrokerID)
		}
	}
	c.log.Info().Str("path", bp).Msg("broker registered")
	return nil
}

// sameEndpoints reports whether a registration lists exactly this broker's
// endpoints (a broker elsewhere with the same id cannot: it would have to
// listen on this host and port).
func (c *Coordinator) sameEndpoints(data []byte) bool {
	old, err := kafkazk.DecodeBrokerInfo(c.opts.BrokerID, data)
	return err == nil && len(old.Endpoints) > 0 && slices.Equal(old.Endpoints, c.opts.Info.Endpoints)
}

// awaitOldRegistration waits until the znode at bp is gone, for at most
// the session timeout (and a little more): the time ZooKeeper takes to
// expire the session of a broker that died holding it.
func (c *Coordinator) awaitOldRegistration(bp string) error {
	limit := c.opts.SessionTimeout + 2*time.Second
	c.log.Warn().Str("path", bp).Dur("up_to", limit).
		Msg("this broker's previous registration (same id and endpoints) is still held by its old ZooKeeper session; waiting for ZooKeeper to expire it")
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		ok, _, ch, err := c.conn.ExistsW(bp)
		if err != nil {
			return fmt.Errorf("%w: watch %s: %w", ErrZooKeeper, bp, err)
		}
		if !ok {
			return nil
		}
		select {
		case <-ch:
		case <-deadline.C:
			return fmt.Errorf("%w: %s still exists in ZooKeeper (%s) after %s with this broker's endpoints: another process is serving broker.id=%d on them; stop it first",
				ErrBrokerRegistered, bp, c.opts.Connect, limit, c.opts.BrokerID)
		case <-c.stop:
			return fmt.Errorf("%w: stopped while waiting for %s to expire", ErrZooKeeper, bp)
		}
	}
}

// Close stops the loop and closes the session (the broker znode goes).
func (c *Coordinator) Close() {
	select {
	case <-c.stop:
		return
	default:
	}
	close(c.stop)
	<-c.done
	c.conn.Close()
}

// Kick asks for a pass now.
func (c *Coordinator) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// View returns the latest view and a channel closed when a newer one is
// published.
func (c *Coordinator) View() (View, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.view, c.viewCh
}

// WaitFor kicks passes until cond holds for a view or the timeout passes.
func (c *Coordinator) WaitFor(timeout time.Duration, cond func(View) bool) (View, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		v, ch := c.View()
		if v.Topics != nil && cond(v) {
			return v, true
		}
		c.Kick()
		select {
		case <-ch:
		case <-deadline.C:
			v, _ := c.View()
			return v, cond(v)
		case <-c.stop:
			return v, false
		}
	}
}

func (c *Coordinator) loop() {
	defer close(c.done)
	t := time.NewTicker(ResyncInterval)
	defer t.Stop()
	var lastFull time.Time
	for {
		full := time.Since(lastFull) >= FullResyncInterval
		c.mu.Lock()
		c.passes++
		c.uncached = full
		if full {
			c.touched = map[string]bool{}
		}
		c.mu.Unlock()
		err := c.pass()
		c.mu.Lock()
		c.uncached = false
		c.mu.Unlock()
		if full && err == nil {
			lastFull = time.Now()
			c.forgetUntouched()
		}
		c.mu.Lock()
		c.touched = nil
		c.mu.Unlock()
		if err != nil {
			select {
			case <-c.stop:
				return
			default:
			}
			c.log.Warn().Err(err).Msg("zookeeper pass failed; retrying")
		}
		select {
		case <-c.stop:
			return
		case <-c.kick:
		case <-t.C:
		}
	}
}

// pass reads the cluster, acts as controller if elected, publishes a View.
func (c *Coordinator) pass() error {
	c.mu.Lock()
	again := c.reregister
	c.mu.Unlock()
	if again {
		if err := c.register(); err != nil {
			return err
		}
		c.mu.Lock()
		c.reregister = false
		c.mu.Unlock()
		c.controller = false // the old session's /controller is gone too
	}
	// One round trip first: ZooKeeper delivers every watch event of a
	// change committed before it ahead of its reply, so from here on the
	// cache's lookups (which poll the watch channels) are at least as
	// recent as this point, as fresh reads would be.
	if _, _, err := c.conn.Exists(c.p(kafkazk.BrokerIDsPath)); err != nil {
		return fmt.Errorf("%w: read %s: %w", ErrZooKeeper, c.p(kafkazk.BrokerIDsPath), err)
	}
	if err := c.elect(); err != nil {
		return err
	}
	v, err := c.read()
	if err != nil {
		return err
	}
	if c.controller {
		if time.Since(c.lastPurge) > time.Minute {
			c.lastPurge = time.Now()
			c.purgeConfigChanges(c.lastPurge)
		}
		changed, err := c.control(v)
		if err != nil {
			if errors.Is(err, ErrFenced) {
				// Resign as Kafka does: give up /controller (if still ours)
				// so a fresh election with a new epoch can happen.
				c.log.Warn().Err(err).Msg("no longer controller; resigning")
				c.controller = false
				if _, st, gerr := c.conn.Get(c.p(kafkazk.ControllerPath)); gerr == nil && st.EphemeralOwner == c.conn.SessionID() {
					_ = c.conn.Delete(c.p(kafkazk.ControllerPath), st.Version)
					c.wrote(c.p(kafkazk.ControllerPath))
				}
				c.Kick()
			}
			return err
		}
		if changed {
			if v, err = c.read(); err != nil {
				return err
			}
		}
	}
	// The broker applies the view (creates the logs it now leads) before
	// it is published, so a request that sees the view finds the logs.
	if c.opts.OnView != nil {
		c.opts.OnView(v)
	}
	c.mu.Lock()
	c.view = v
	close(c.viewCh)
	c.viewCh = make(chan struct{})
	c.mu.Unlock()
	return nil
}

// elect tries to become controller when /controller is absent: a multi
// creating the ephemeral /controller and bumping /controller_epoch at the
// version read, so two candidates cannot both win an epoch.
func (c *Coordinator) elect() error {
	data, _, err := c.getW(c.p(kafkazk.ControllerPath))
	if err == nil {
		id, derr := kafkazk.DecodeController(data)
		if derr == nil && id == c.opts.BrokerID && c.controller {
			return nil
		}
		if c.controller {
			c.log.Warn().Int32("controller", id).Msg("another broker is controller now")
		}
		c.controller = false
		return nil
	}
	if !errors.Is(err, zk.ErrNoNode) {
		return fmt.Errorf("%w: read %s: %w", ErrZooKeeper, c.p(kafkazk.ControllerPath), err)
	}
	c.controller = false
	epochData, st, err := c.conn.Get(c.p(kafkazk.ControllerEpochPath))
	epoch, version := int32(0), int32(-1)
	switch {
	case errors.Is(err, zk.ErrNoNode):
		_, err := c.conn.Create(c.p(kafkazk.ControllerEpochPath), []byte("0"), 0, zk.WorldACL(zk.PermAll))
		c.wrote(c.p(kafkazk.ControllerEpochPath))
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("%w: create %s: %w", ErrZooKeeper, c.p(kafkazk.ControllerEpochPath), err)
		}
		return c.elect()
	case err != nil:
		return fmt.Errorf("%w: read %s: %w", ErrZooKeeper, c.p(kafkazk.ControllerEpochPath), err)
	default:
		n, perr := strconv.ParseInt(strings.TrimSpace(string(epochData)), 10, 32)
		if perr != nil {
			return fmt.Errorf("%w: %s holds %q, not an epoch", ErrZooKeeper, c.p(kafkazk.ControllerEpochPath), epochData)
		}
		epoch, version = int32(n), st.Version
	}
	next := epoch + 1
	ops := []any{
		&zk.CreateRequest{Path: c.p(kafkazk.ControllerPath), Data: kafkazk.EncodeController(c.opts.BrokerID, time.Now().UnixMilli()), Acl: zk.WorldACL(zk.PermAll), Flags: zk.FlagEphemeral},
		&zk.SetDataRequest{Path: c.p(kafkazk.ControllerEpochPath), Data: []byte(strconv.Itoa(int(next))), Version: version},
	}
	res, err := c.conn.Multi(ops...)
	c.wroteOps(ops)
	if err != nil {
		// Lost the race (NodeExists) or the epoch moved (BadVersion).
		c.log.Debug().Err(err).Msg("controller election lost")
		return nil
	}
	c.controller, c.epoch, c.epochZkVersion = true, next, res[1].Stat.Version
	c.log.Info().Int32("controller_epoch", next).Msg("elected controller")
	return nil
}

func (c *Coordinator) read() (View, error) {
	v := View{Brokers: map[int32]kafkazk.BrokerInfo{}, Topics: map[string]*Topic{}, ControllerID: -1}
	if data, _, err := c.getW(c.p(kafkazk.ControllerPath)); err == nil {
		v.ControllerID, _ = kafkazk.DecodeController(data)
	}
	if data, _, err := c.getW(c.p(kafkazk.ControllerEpochPath)); err == nil {
		n, _ := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 32)
		v.ControllerEpoch = int32(n)
	}
	ids, err := c.childrenW(c.p(kafkazk.BrokerIDsPath))
	if err != nil {
		return v, fmt.Errorf("%w: list %s: %w", ErrZooKeeper, c.p(kafkazk.BrokerIDsPath), err)
	}
	for _, s := range ids {
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			continue
		}
		data, _, err := c.getW(c.p(kafkazk.BrokerPath(int32(n))))
		if err != nil {
			continue // gone since the listing
		}
		bi, err := kafkazk.DecodeBrokerInfo(int32(n), data)
		if err != nil {
			c.log.Warn().Err(err).Msg("skipping broker registration")
			continue
		}
		v.Brokers[int32(n)] = bi
	}
	deleting := map[string]bool{}
	dels, err := c.childrenW(c.p(kafkazk.DeleteTopicsPath))
	if err != nil {
		return v, fmt.Errorf("%w: list %s: %w", ErrZooKeeper, c.p(kafkazk.DeleteTopicsPath), err)
	}
	for _, d := range dels {
		deleting[d] = true
	}
	names, err := c.childrenW(c.p(kafkazk.BrokerTopicsPath))
	if err != nil {
		return v, fmt.Errorf("%w: list %s: %w", ErrZooKeeper, c.p(kafkazk.BrokerTopicsPath), err)
	}
	// Config changes: every notification under /config/changes (written by
	// AlterConfigs here, by kafka-configs.sh or by Kafka) wakes a pass that
	// re-reads the entity configs below; the broker applies them to its
	// open logs. The watches on the config znodes themselves catch writes
	// that come without a notification.
	if _, err := c.childrenW(c.p(kafkazk.ConfigChangesPath)); err != nil {
		return v, fmt.Errorf("%w: list %s: %w", ErrZooKeeper, c.p(kafkazk.ConfigChangesPath), err)
	}
	v.BrokerConfigs = map[string]map[string]string{}
	for _, entity := range []string{kafkazk.DefaultBrokerEntity, strconv.Itoa(int(c.opts.BrokerID))} {
		bp := c.p(kafkazk.EntityConfigPath(kafkazk.EntityBrokers, entity))
		if data, _, err := c.getW(bp); err == nil {
			if cfg, err := kafkazk.DecodeEntityConfig(bp, data); err == nil {
				v.BrokerConfigs[entity] = cfg
			} else {
				c.log.Warn().Err(err).Msg("ignoring unreadable dynamic broker config")
			}
		}
	}
	// Fetch what is not cached concurrently: the assignments and configs,
	// then the states of the partitions they name.
	var fetch []string
	for _, name := range names {
		fetch = append(fetch, c.p(kafkazk.TopicPath(name)), c.p(kafkazk.TopicConfigPath(name)))
	}
	c.prefetch(fetch)
	fetch = fetch[:0]
	for _, name := range names {
		if a, _, err := c.assignment(name); err == nil {
			for p := range a.Partitions {
				fetch = append(fetch, c.p(kafkazk.PartitionStatePath(name, p)))
			}
		}
	}
	c.prefetch(fetch)
	for _, name := range names {
		a, tst, err := c.assignment(name)
		if err != nil {
			if tst != nil {
				c.log.Warn().Err(err).Msg("skipping topic")
			}
			continue
		}
		t := &Topic{Name: name, ID: a.TopicID, Partitions: map[int32]Partition{}, Config: map[string]string{}, Deleting: deleting[name], Version: tst.Version}
		for p, replicas := range a.Partitions {
			part := Partition{Replicas: slices.Clone(replicas), Adding: slices.Clone(a.Adding[p]), Removing: slices.Clone(a.Removing[p])}
			sp := c.p(kafkazk.PartitionStatePath(name, p))
			if s, st, err := decodedW(c, sp, func(data []byte) (kafkazk.PartitionState, error) {
				return kafkazk.DecodePartitionState(sp, data)
			}); err == nil {
				s.ISR = slices.Clone(s.ISR)
				part.State, part.StateVersion = &s, st.Version
			}
			t.Partitions[p] = part
		}
		if cfg, _, err := decodedW(c, c.p(kafkazk.TopicConfigPath(name)), func(data []byte) (map[string]string, error) {
			return kafkazk.DecodeTopicConfig(name, data)
		}); err == nil {
			t.Config = maps.Clone(cfg)
		}
		v.Topics[name] = t
	}
	return v, nil
}

// assignment reads /brokers/topics/<name> through the cache.
func (c *Coordinator) assignment(name string) (kafkazk.TopicAssignment, *zk.Stat, error) {
	return decodedW(c, c.p(kafkazk.TopicPath(name)), func(data []byte) (kafkazk.TopicAssignment, error) {
		return kafkazk.DecodeTopicAssignment(name, data)
	})
}

// fenced runs ops behind a check of the controller epoch's znode version.
func (c *Coordinator) fenced(ops ...any) error {
	all := append([]any{&zk.CheckVersionRequest{Path: c.p(kafkazk.ControllerEpochPath), Version: c.epochZkVersion}}, ops...)
	res, err := c.conn.Multi(all...)
	c.wroteOps(ops)
	if err != nil {
		if len(res) > 0 && errors.Is(res[0].Error, zk.ErrBadVersion) {
			return fmt.Errorf("%w: %s is no longer at version %d", ErrFenced, c.p(kafkazk.ControllerEpochPath), c.epochZkVersion)
		}
		return fmt.Errorf("%w: controller write: %w", ErrZooKeeper, err)
	}
	return nil
}

// control carries out deletions and leader elections.
func (c *Coordinator) control(v View) (bool, error) {
	changed := false
	live := map[int32]bool{}
	for id := range v.Brokers {
		live[id] = true
	}
	dels, _, err := c.conn.Children(c.p(kafkazk.DeleteTopicsPath))
	if err != nil {
		return false, fmt.Errorf("%w: list %s: %w", ErrZooKeeper, c.p(kafkazk.DeleteTopicsPath), err)
	}
	for _, name := range dels {
		if err := c.deleteTopic(name); err != nil {
			return changed, err
		}
		c.log.Info().Str("topic", name).Msg("topic deleted")
		changed = true
	}
	names := make([]string, 0, len(v.Topics))
	for n := range v.Topics {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t := v.Topics[name]
		if t.Deleting {
			continue
		}
		unclean := c.opts.UncleanLeaderElection
		if v, ok := t.Config["unclean.leader.election.enable"]; ok {
			unclean = v == "true"
		}
		for p, part := range t.Partitions {
			next, ok := Decide(part.Replicas, live, part.State, c.epoch, unclean)
			if !ok {
				continue
			}
			sp := c.p(kafkazk.PartitionStatePath(name, p))
			data := kafkazk.EncodePartitionState(next)
			var err error
			if part.State == nil {
				// Parents first; they may already exist.
				for _, dir := range []string{c.p(kafkazk.PartitionsPath(name)), path.Dir(sp)} {
					_, err := c.conn.Create(dir, nil, 0, zk.WorldACL(zk.PermAll))
					c.wrote(dir)
					if err != nil && !errors.Is(err, zk.ErrNodeExists) {
						return changed, fmt.Errorf("%w: create %s: %w", ErrZooKeeper, dir, err)
					}
				}
				err = c.fenced(&zk.CreateRequest{Path: sp, Data: data, Acl: zk.WorldACL(zk.PermAll)})
			} else {
				// At the version read: a leader's ISR change written since
				// makes this fail, and the next pass decides again.
				err = c.fenced(&zk.SetDataRequest{Path: sp, Data: data, Version: part.StateVersion})
			}
			if errors.Is(err, ErrFenced) {
				return changed, err
			}
			if err != nil {
				c.log.Info().Err(err).Str("topic", name).Int32("partition", p).Msg("partition state changed under the controller; deciding again")
				changed = true
				c.Kick()
				continue
			}
			if part.State == nil || next.Leader != part.State.Leader {
				c.log.Info().Str("topic", name).Int32("partition", p).Int32("leader", next.Leader).Int32("leader_epoch", next.LeaderEpoch).Ints32("isr", next.ISR).Msg("partition leader elected")
			} else {
				c.log.Info().Str("topic", name).Int32("partition", p).Ints32("isr", next.ISR).Msg("dead replicas removed from the ISR")
			}
			changed = true
		}
	}
	if ch, err := c.reassign(v, live); err != nil {
		return changed || ch, err
	} else if ch {
		return true, nil // re-read before anything else looks at assignments
	}
	if ch, err := c.preferredElections(v, live); err != nil {
		return changed || ch, err
	} else if ch {
		changed = true
	}
	// ISR change notifications: brokers learn ISR changes through their
	// watches on the state znodes, so the controller only consumes them
	// (Kafka's controller sends UpdateMetadata, then deletes them).
	notes, err := c.childrenW(c.p(kafkazk.IsrChangeNotificationPath))
	if err == nil {
		for _, n := range notes {
			err := c.conn.Delete(c.p(kafkazk.IsrChangeNotificationPath)+"/"+n, -1)
			c.wrote(c.p(kafkazk.IsrChangeNotificationPath) + "/" + n)
			if err != nil && !errors.Is(err, zk.ErrNoNode) {
				c.log.Warn().Err(err).Str("notification", n).Msg("cannot delete an ISR change notification")
			}
		}
	}
	return changed, nil
}

// deleteTopic removes a topic's znodes, then its /admin/delete_topics entry.
func (c *Coordinator) deleteTopic(name string) error {
	var ops []any
	tp := c.p(kafkazk.TopicPath(name))
	if parts, _, err := c.conn.Children(c.p(kafkazk.PartitionsPath(name))); err == nil {
		for _, p := range parts {
			pp := c.p(kafkazk.PartitionsPath(name)) + "/" + p
			if kids, _, err := c.conn.Children(pp); err == nil {
				for _, k := range kids {
					ops = append(ops, &zk.DeleteRequest{Path: pp + "/" + k, Version: -1})
				}
			}
			ops = append(ops, &zk.DeleteRequest{Path: pp, Version: -1})
		}
		ops = append(ops, &zk.DeleteRequest{Path: c.p(kafkazk.PartitionsPath(name)), Version: -1})
	}
	if ok, _, _ := c.conn.Exists(tp); ok {
		ops = append(ops, &zk.DeleteRequest{Path: tp, Version: -1})
	}
	if ok, _, _ := c.conn.Exists(c.p(kafkazk.TopicConfigPath(name))); ok {
		ops = append(ops, &zk.DeleteRequest{Path: c.p(kafkazk.TopicConfigPath(name)), Version: -1})
	}
	ops = append(ops, &zk.DeleteRequest{Path: c.p(kafkazk.DeleteTopicPath(name)), Version: -1})
	return c.fenced(ops...)
}

// CreateTopic writes /config/topics/<t> and /brokers/topics/<t> (the
// assignment), as Kafka's AdminZkClient.createTopic does. The controller
// then elects leaders.
func (c *Coordinator) CreateTopic(name, topicID string, assignment map[int32][]int32, config map[string]string) error {
	if ok, _, err := c.conn.Exists(c.p(kafkazk.TopicPath(name))); err == nil && ok {
		return fmt.Errorf("%w: %s", ErrTopicExists, name)
	}
	cp := c.p(kafkazk.TopicConfigPath(name))
	defer c.wrote(cp, c.p(kafkazk.TopicPath(name)))
	if _, err := c.conn.Create(cp, kafkazk.EncodeTopicConfig(config), 0, zk.WorldACL(zk.PermAll)); err != nil {
		if !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("%w: create %s: %w", ErrZooKeeper, cp, err)
		}
		if _, err := c.conn.Set(cp, kafkazk.EncodeTopicConfig(config), -1); err != nil {
			return fmt.Errorf("%w: set %s: %w", ErrZooKeeper, cp, err)
		}
	}
	data := kafkazk.EncodeTopicAssignment(kafkazk.TopicAssignment{TopicID: topicID, Partitions: assignment})
	if _, err := c.conn.Create(c.p(kafkazk.TopicPath(name)), data, 0, zk.WorldACL(zk.PermAll)); err != nil {
		if errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("%w: %s", ErrTopicExists, name)
		}
		return fmt.Errorf("%w: create %s: %w", ErrZooKeeper, c.p(kafkazk.TopicPath(name)), err)
	}
	c.Kick()
	return nil
}

// EntityConfig reads /config/<type>/<name>; a missing znode is an empty
// config.
func (c *Coordinator) EntityConfig(entityType, name string) (map[string]string, error) {
	p := c.p(kafkazk.EntityConfigPath(entityType, name))
	data, _, err := c.conn.Get(p)
	if errors.Is(err, zk.ErrNoNode) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrZooKeeper, p, err)
	}
	return kafkazk.DecodeEntityConfig(p, data)
}

// ChangeEntityConfig writes /config/<type>/<name> and a sequential
// /config/changes/config_change_NNNNNNNNNN notification naming it, as
// Kafka's AdminZkClient.changeConfigs does, so every broker (and Kafka's
// own brokers) re-reads that entity.
func (c *Coordinator) ChangeEntityConfig(entityType, name string, cfg map[string]string) error {
	p := c.p(kafkazk.EntityConfigPath(entityType, name))
	data := kafkazk.EncodeEntityConfig(cfg)
	np := c.p(kafkazk.ConfigChangesPath + "/" + kafkazk.ConfigChangePrefix)
	defer c.wrote(p, np)
	if _, err := c.conn.Set(p, data, -1); errors.Is(err, zk.ErrNoNode) {
		if err := c.ensurePath(path.Dir(p)); err != nil {
			return err
		}
		if _, err := c.conn.Create(p, data, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("%w: create %s: %w", ErrZooKeeper, p, err)
		} else if err != nil {
			if _, err := c.conn.Set(p, data, -1); err != nil {
				return fmt.Errorf("%w: set %s: %w", ErrZooKeeper, p, err)
			}
		}
	} else if err != nil {
		return fmt.Errorf("%w: set %s: %w", ErrZooKeeper, p, err)
	}
	if _, err := c.conn.Create(np, kafkazk.EncodeEntityChange(entityType, name), zk.FlagSequence, zk.WorldACL(zk.PermAll)); err != nil {
		return fmt.Errorf("%w: create %s: %w", ErrZooKeeper, np, err)
	}
	c.Kick()
	return nil
}

// ConfigChangeExpiry is how long a /config/changes notification is kept
// (Kafka's changeExpirationMs, 15 minutes).
const ConfigChangeExpiry = 15 * time.Minute

// purgeConfigChanges deletes notifications older than ConfigChangeExpiry,
// as Kafka's ZkNodeChangeNotificationListener does.
func (c *Coordinator) purgeConfigChanges(now time.Time) {
	dir := c.p(kafkazk.ConfigChangesPath)
	names, _, err := c.conn.Children(dir)
	if err != nil {
		return
	}
	for _, n := range names {
		_, st, err := c.conn.Get(dir + "/" + n)
		if err != nil || now.Sub(time.UnixMilli(st.Ctime)) < ConfigChangeExpiry {
			continue
		}
		err = c.conn.Delete(dir+"/"+n, st.Version)
		c.wrote(dir + "/" + n)
		if err == nil {
			c.log.Debug().Str("notification", n).Msg("purged an expired config change notification")
		}
	}
}

// DeleteTopic asks the controller to delete a topic.
func (c *Coordinator) DeleteTopic(name string) error {
	_, err := c.conn.Create(c.p(kafkazk.DeleteTopicPath(name)), nil, 0, zk.WorldACL(zk.PermAll))
	c.wrote(c.p(kafkazk.DeleteTopicPath(name)))
	if err != nil && !errors.Is(err, zk.ErrNodeExists) {
		return fmt.Errorf("%w: create %s: %w", ErrZooKeeper, c.p(kafkazk.DeleteTopicPath(name)), err)
	}
	c.Kick()
	return nil
}

// AssignReplicas assigns replicas over the live brokers with Kafka's
// random start index and shift.
func AssignReplicas(live []int32, partitions int32, rf int16) (map[int32][]int32, error) {
	if len(live) == 0 {
		return nil, fmt.Errorf("kafkazk: no live brokers")
	}
	return kafkazk.AssignReplicas(live, partitions, rf, rand.IntN(len(live)), rand.IntN(len(live)))
}

// NewClusterID returns a random cluster id in Kafka's form (a Uuid in
// URL-safe base64 without padding).
func NewClusterID() string { return NewUUID() }

// IsTopicExists reports ErrTopicExists.
func IsTopicExists(err error) bool { return errors.Is(err, ErrTopicExists) }

// UpdateAssignment rewrites /brokers/topics/<t> with more partitions
// (CreatePartitions), at the znode version read, so concurrent changes
// are not lost.
func (c *Coordinator) UpdateAssignment(name string, assignment map[int32][]int32) error {
	p := c.p(kafkazk.TopicPath(name))
	data, st, err := c.conn.Get(p)
	if err != nil {
		return fmt.Errorf("%w: read %s: %w", ErrZooKeeper, p, err)
	}
	old, err := kafkazk.DecodeTopicAssignment(name, data)
	if err != nil {
		return err
	}
	out := kafkazk.EncodeTopicAssignment(kafkazk.TopicAssignment{TopicID: old.TopicID, Partitions: assignment})
	_, err = c.conn.Set(p, out, st.Version)
	c.wrote(p)
	if err != nil {
		return fmt.Errorf("%w: update %s: %w", ErrZooKeeper, p, err)
	}
	c.Kick()
	return nil
}

// WriteState writes a partition's state znode at version (a leader's ISR
// change, Kafka's ZooKeeper-mode updateLeaderAndIsr) and, on success,
// announces it with a sequential /isr_change_notification/isr_change_
// znode. It returns the new version; zk.ErrBadVersion (wrapped) means the
// state changed since it was read.
func (c *Coordinator) WriteState(topic string, p int32, s kafkazk.PartitionState, version int32) (int32, error) {
	sp := c.p(kafkazk.PartitionStatePath(topic, p))
	st, err := c.conn.Set(sp, kafkazk.EncodePartitionState(s), version)
	c.wrote(sp)
	if err != nil {
		return 0, fmt.Errorf("%w: update %s at version %d: %w", ErrZooKeeper, sp, version, err)
	}
	note := kafkazk.EncodeIsrChange([]kafkazk.TopicPartitionRef{{Topic: topic, Partition: p}})
	_, err = c.conn.Create(c.p(kafkazk.IsrChangeNotificationPath)+"/isr_change_", note, zk.FlagSequence, zk.WorldACL(zk.PermAll))
	c.wrote(c.p(kafkazk.IsrChangeNotificationPath) + "/isr_change_")
	if err != nil {
		c.log.Warn().Err(err).Msg("cannot announce an ISR change in /isr_change_notification")
	}
	c.Kick()
	return st.Version, nil
}

// IsBadVersion reports a version-checked write that lost a race.
func IsBadVersion(err error) bool { return errors.Is(err, zk.ErrBadVersion) }

// ProducerIDBlockSize is Kafka's block of producer ids per allocation.
const ProducerIDBlockSize = 1000

// AllocateProducerIDBlock reserves the next block of producer ids in
// /latest_producer_id_block with a versioned set (Kafka's
// ProducerIdManager), retrying when another broker raced it.
func (c *Coordinator) AllocateProducerIDBlock() (start, end int64, err error) {
	p := c.p(kafkazk.LatestProducerIDBlockPath)
	for range 10 {
		data, st, err := c.conn.Get(p)
		if err != nil {
			return 0, 0, fmt.Errorf("%w: read %s: %w", ErrZooKeeper, p, err)
		}
		next := int64(0)
		if len(data) > 0 {
			var blk kafkazk.ProducerIDBlock
			if err := json.Unmarshal(data, &blk); err != nil {
				return 0, 0, fmt.Errorf("%w: %s: %v", kafkazk.ErrPayload, p, err)
			}
			last, err := strconv.ParseInt(blk.BlockEnd, 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("%w: %s: block_end %q", kafkazk.ErrPayload, p, blk.BlockEnd)
			}
			next = last + 1
		}
		blk := kafkazk.ProducerIDBlock{Version: 1, Broker: c.opts.BrokerID,
			BlockStart: strconv.FormatInt(next, 10), BlockEnd: strconv.FormatInt(next+ProducerIDBlockSize-1, 10)}
		out, _ := json.Marshal(blk)
		_, err = c.conn.Set(p, out, st.Version)
		c.wrote(p)
		if err != nil {
			if errors.Is(err, zk.ErrBadVersion) {
				continue
			}
			return 0, 0, fmt.Errorf("%w: update %s: %w", ErrZooKeeper, p, err)
		}
		return next, next + ProducerIDBlockSize - 1, nil
	}
	return 0, 0, fmt.Errorf("%w: %s kept changing under 10 attempts", ErrZooKeeper, p)
}
