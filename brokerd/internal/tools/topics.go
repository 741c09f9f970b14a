package tools

// kafka-topics.sh (Kafka 2.8's TopicCommand): --create, --list,
// --describe, --delete, --alter, through the admin API (--bootstrap-server)
// or by writing Kafka's znodes (--zookeeper), as the old tool did.

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/coord"
	"mqstack/proto/kafkazk"
)

var _ = register(&Tool{
	Name:      "topics",
	Summary:   "Create, delete, describe, or change a topic.",
	ErrPrefix: "Error while executing topic command : ",
	Opts: []Opt{
		optBootstrap, optZookeeper, optCmdConfig, optTopic,
		{Name: "list", Help: "List all available topics."},
		{Name: "create", Help: "Create a new topic."},
		{Name: "delete", Help: "Delete a topic"},
		{Name: "alter", Help: "Alter the number of partitions, replica assignment, and/or configuration for the topic."},
		{Name: "describe", Help: "List details for the given topics."},
		{Name: "config", Arg: "String: name=value", Multi: true, Help: "A topic configuration override for the topic being created or altered."},
		{Name: "delete-config", Arg: "String: name", Multi: true, Help: "A topic configuration override to be removed for an existing topic (--zookeeper only)."},
		{Name: "partitions", Arg: "Integer: # of partitions", Help: "The number of partitions for the topic being created or altered. If not supplied for create, defaults to the cluster default."},
		{Name: "replication-factor", Arg: "Integer: replication factor", Help: "The replication factor for each partition in the topic being created. If not supplied, defaults to the cluster default."},
		{Name: "replica-assignment", Arg: "String: broker_id_for_part1_replica1 : broker_id_for_part1_replica2 , broker_id_for_part2_replica1 : broker_id_for_part2_replica2 , ...", Help: "A list of manual partition-to-broker assignments for the topic being created or altered."},
		{Name: "under-replicated-partitions", Help: "if set when describing topics, only show under replicated partitions"},
		{Name: "unavailable-partitions", Help: "if set when describing topics, only show partitions whose leader is not available"},
		{Name: "under-min-isr-partitions", Help: "if set when describing topics, only show partitions whose isr count is less than the configured minimum."},
		{Name: "at-min-isr-partitions", Help: "if set when describing topics, only show partitions whose isr count is equal to the configured minimum."},
		{Name: "topics-with-overrides", Help: "if set when describing topics, only show topics that have overridden configs"},
		{Name: "if-exists", Help: "if set when altering or deleting or describing topics, the action will only execute if the topic exists."},
		{Name: "if-not-exists", Help: "if set when creating topics, the action will only execute if the topic does not already exist."},
		{Name: "exclude-internal", Help: "exclude internal topics when running list or describe command."},
		{Name: "disable-rack-aware", Help: "Disable rack aware replica assignment"},
	},
	Run: runTopics,
})

// topicConfigNames are Kafka 2.8's topic-level configs (LogConfig).
var topicConfigNames = map[string]bool{
	"cleanup.policy": true, "compression.type": true, "delete.retention.ms": true,
	"file.delete.delay.ms": true, "flush.messages": true, "flush.ms": true,
	"follower.replication.throttled.replicas": true, "index.interval.bytes": true,
	"leader.replication.throttled.replicas": true, "max.compaction.lag.ms": true,
	"max.message.bytes": true, "message.downconversion.enable": true,
	"message.format.version": true, "message.timestamp.difference.max.ms": true,
	"message.timestamp.type": true, "min.cleanable.dirty.ratio": true,
	"min.compaction.lag.ms": true, "min.insync.replicas": true, "preallocate": true,
	"retention.bytes": true, "retention.ms": true, "segment.bytes": true,
	"segment.index.bytes": true, "segment.jitter.ms": true, "segment.ms": true,
	"unclean.leader.election.enable": true,
}

// topicDesc is what --describe prints, from either source.
type topicDesc struct {
	name     string
	id       string // Kafka's Uuid string; "" when the topic has none
	configs  []string
	minISR   int // min.insync.replicas, 0 when unknown
	deleting bool
	parts    []partDesc
}

type partDesc struct {
	partition int32
	leader    int32 // -1: none
	replicas  []int32
	isr       []int32
}

// topicService is the --bootstrap-server or --zookeeper side.
type topicService interface {
	topics(excludeInternal bool) ([]string, error)
	create(name string, partitions int32, rf int16, assignment map[int32][]int32, configs map[string]string) error
	describe(names []string) ([]topicDesc, map[int32]bool, error)
	delete(names []string) error
	alter(name string, p *Parsed, partitions int32, assignment map[int32][]int32, add map[string]string, del []string) error
	markedForDeletion(name string) bool
}

func runTopics(e *Env, p *Parsed) error {
	actions := p.Count("list", "describe", "create", "alter", "delete")
	if actions != 1 {
		return usagef("Command must include exactly one action: --list, --describe, --create, --alter or --delete")
	}
	if p.Has("bootstrap-server") == p.Has("zookeeper") {
		if p.Has("zookeeper") {
			return usagef("Only one of --bootstrap-server or --zookeeper must be specified")
		}
		return usagef("One of the required --bootstrap-server or the deprecated --zookeeper arguments must be specified")
	}
	if (p.Has("create") || p.Has("alter") || p.Has("delete")) && !p.Has("topic") {
		return usagef("missing required argument \"[topic]\"")
	}
	if p.Has("bootstrap-server") && p.Has("alter") && (p.Has("config") || p.Has("delete-config")) {
		return usagef("option --config/--delete-config can't be used with --alter and --bootstrap-server (kafka-configs.sh --bootstrap-server alters topic configs)")
	}
	var svc topicService
	if p.Has("zookeeper") {
		z, err := e.zookeeper(p.String("zookeeper"))
		if err != nil {
			return err
		}
		svc = &zkTopics{e: e, z: z}
	} else {
		if _, err := loadProps(p.String("command-config")); err != nil {
			return err
		}
		if _, _, err := e.kafka(p.String("bootstrap-server")); err != nil {
			return err
		}
		svc = &adminTopics{e: e}
	}
	switch {
	case p.Has("create"):
		return createTopic(e, p, svc)
	case p.Has("list"):
		names, err := matchTopics(svc, p)
		if err != nil {
			return err
		}
		for _, n := range names {
			if p.Has("zookeeper") && svc.markedForDeletion(n) {
				fmt.Fprintf(e.Stdout, "%s - marked for deletion\n", n)
			} else {
				fmt.Fprintln(e.Stdout, n)
			}
		}
		return nil
	case p.Has("describe"):
		return describeTopics(e, p, svc)
	case p.Has("delete"):
		names, err := existingTopics(svc, p)
		if err != nil || len(names) == 0 {
			return err
		}
		for _, n := range names {
			if n == "__consumer_offsets" || n == "__transaction_state" {
				return fmt.Errorf("Topic %s is a kafka internal topic and is not allowed to be marked for deletion.", n)
			}
		}
		return svc.delete(names)
	default:
		return alterTopics(e, p, svc)
	}
}

// matchTopics applies --topic (a regular expression, ',' meaning '|', as
// Kafka's Whitelist) to the topic list.
func matchTopics(svc topicService, p *Parsed) ([]string, error) {
	all, err := svc.topics(p.Has("exclude-internal"))
	if err != nil {
		return nil, err
	}
	if !p.Has("topic") {
		return all, nil
	}
	spec := strings.ReplaceAll(strings.TrimSpace(p.String("topic")), ",", "|")
	re, err := regexp.Compile("^(?:" + spec + ")$")
	if err != nil {
		re = regexp.MustCompile("^" + regexp.QuoteMeta(p.String("topic")) + "$")
	}
	var out []string
	for _, t := range all {
		if re.MatchString(t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// existingTopics is matchTopics that fails, as Kafka's
// ensureTopicExists, when --topic matches nothing (unless --if-exists).
func existingTopics(svc topicService, p *Parsed) ([]string, error) {
	names, err := matchTopics(svc, p)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 && p.Has("topic") && !p.Has("if-exists") {
		return nil, fmt.Errorf("Topic '%s' does not exist as expected", p.String("topic"))
	}
	return names, nil
}

func validTopicName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("Topic name is illegal, it can't be empty")
	case name == "." || name == "..":
		return fmt.Errorf("Topic name cannot be \".\" or \"..\"")
	case len(name) > 249:
		return fmt.Errorf("Topic name is illegal, it can't be longer than 249 characters, topic name: %s", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("Topic name \"%s\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'", name)
		}
	}
	return nil
}

// parseTopicConfigs reads --config name=value pairs and checks the names.
func parseTopicConfigs(list []string) (map[string]string, error) {
	out := map[string]string{}
	for _, c := range list {
		k, v, ok := strings.Cut(c, "=")
		if !ok || strings.Contains(v, "=") {
			return nil, fmt.Errorf("requirement failed: Invalid topic config: all configs to be added must be in the format \"key=val\".")
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !topicConfigNames[k] {
			return nil, fmt.Errorf("Unknown topic config name: %s", k)
		}
		out[k] = v
	}
	return out, nil
}

// parseReplicaAssignment reads "1:2,2:3" (partition i's replicas).
func parseReplicaAssignment(s string) (map[int32][]int32, error) {
	out := map[int32][]int32{}
	for i, part := range strings.Split(s, ",") {
		seen := map[int32]bool{}
		var ids []int32
		for _, b := range strings.Split(part, ":") {
			n, err := strconv.ParseInt(strings.TrimSpace(b), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("For input string: %q (--replica-assignment wants broker ids like 1:2,2:3)", strings.TrimSpace(b))
			}
			if seen[int32(n)] {
				return nil, fmt.Errorf("Partition replica lists may not contain duplicate entries: %d", n)
			}
			seen[int32(n)] = true
			ids = append(ids, int32(n))
		}
		if i > 0 && len(ids) != len(out[0]) {
			return nil, fmt.Errorf("Partition %d has different replication factor: %v", i, ids)
		}
		out[int32(i)] = ids
	}
	return out, nil
}

func createTopic(e *Env, p *Parsed, svc topicService) error {
	name := p.String("topic")
	if err := validTopicName(name); err != nil {
		return err
	}
	configs, err := parseTopicConfigs(p.Strings("config"))
	if err != nil {
		return err
	}
	parts, err := p.Int("partitions", -1)
	if err != nil {
		return err
	}
	rf, err := p.Int("replication-factor", -1)
	if err != nil {
		return err
	}
	var assignment map[int32][]int32
	if p.Has("replica-assignment") {
		if p.Has("partitions") || p.Has("replication-factor") {
			return usagef("option --replica-assignment can't be used with --partitions or --replication-factor")
		}
		if assignment, err = parseReplicaAssignment(p.String("replica-assignment")); err != nil {
			return err
		}
	} else {
		if p.Has("zookeeper") {
			if err := p.Require("partitions", "replication-factor"); err != nil {
				return err
			}
		}
		if p.Has("replication-factor") && (rf < 1 || rf > 32767) {
			return fmt.Errorf("The replication factor must be between 1 and 32767 inclusive")
		}
		if p.Has("partitions") && parts < 1 {
			return fmt.Errorf("The partitions must be greater than 0")
		}
	}
	if strings.ContainsAny(name, "._") {
		fmt.Fprintln(e.Stdout, "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.")
	}
	err = svc.create(name, int32(parts), int16(rf), assignment, configs)
	if errors.Is(err, errTopicExists) && p.Has("if-not-exists") {
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "Created topic %s.\n", name)
	return nil
}

var errTopicExists = errors.New("topic exists")

func describeTopics(e *Env, p *Parsed, svc topicService) error {
	names, err := existingTopics(svc, p)
	if err != nil || len(names) == 0 {
		return err
	}
	descs, live, err := svc.describe(names)
	if err != nil {
		return err
	}
	under, unavail := p.Has("under-replicated-partitions"), p.Has("unavailable-partitions")
	underMin, atMin := p.Has("under-min-isr-partitions"), p.Has("at-min-isr-partitions")
	overrides := p.Has("topics-with-overrides")
	describeConfigs := !under && !unavail && !underMin && !atMin
	for _, d := range descs {
		if describeConfigs && (!overrides || len(d.configs) > 0) {
			fmt.Fprintf(e.Stdout, "Topic: %s", d.name)
			if d.id != "" {
				fmt.Fprintf(e.Stdout, "\tTopicId: %s", d.id)
			}
			rf := 0
			if len(d.parts) > 0 {
				rf = len(d.parts[0].replicas)
			}
			fmt.Fprintf(e.Stdout, "\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: %s", len(d.parts), rf, strings.Join(d.configs, ","))
			if d.deleting {
				fmt.Fprint(e.Stdout, "\tMarkedForDeletion: true")
			}
			fmt.Fprintln(e.Stdout)
		}
		if overrides {
			continue
		}
		for _, pd := range d.parts {
			hasLeader := pd.leader >= 0
			show := describeConfigs ||
				under && len(pd.isr) < len(pd.replicas) ||
				unavail && (!hasLeader || !live[pd.leader]) ||
				underMin && (!hasLeader || d.minISR > 0 && len(pd.isr) < d.minISR) ||
				atMin && d.minISR > 0 && len(pd.isr) == d.minISR
			if !show {
				continue
			}
			leader := "none"
			if hasLeader {
				leader = strconv.Itoa(int(pd.leader))
			}
			fmt.Fprintf(e.Stdout, "\tTopic: %s\tPartition: %d\tLeader: %s\tReplicas: %s\tIsr: %s", d.name, pd.partition, leader, ids(pd.replicas), ids(pd.isr))
			if d.deleting {
				fmt.Fprint(e.Stdout, "\tMarkedForDeletion: true")
			}
			fmt.Fprintln(e.Stdout)
		}
	}
	return nil
}

func ids(s []int32) string {
	out := make([]string, len(s))
	for i, n := range s {
		out[i] = strconv.Itoa(int(n))
	}
	return strings.Join(out, ",")
}

func alterTopics(e *Env, p *Parsed, svc topicService) error {
	names, err := existingTopics(svc, p)
	if err != nil || len(names) == 0 {
		return err
	}
	add, err := parseTopicConfigs(p.Strings("config"))
	if err != nil {
		return err
	}
	var del []string
	for _, d := range p.Strings("delete-config") {
		d = strings.TrimSpace(d)
		if !topicConfigNames[d] {
			return fmt.Errorf("Unknown topic config name: %s", d)
		}
		del = append(del, d)
	}
	if !p.Has("partitions") && len(add) == 0 && len(del) == 0 {
		return usagef("--alter needs --partitions, --config or --delete-config")
	}
	parts, err := p.Int("partitions", -1)
	if err != nil {
		return err
	}
	var assignment map[int32][]int32
	if p.Has("replica-assignment") {
		if assignment, err = parseReplicaAssignment(p.String("replica-assignment")); err != nil {
			return err
		}
	}
	for _, n := range names {
		if p.Has("partitions") && (n == "__consumer_offsets" || n == "__transaction_state") {
			return fmt.Errorf("The number of partitions for the internal topic %s cannot be changed.", n)
		}
		if err := svc.alter(n, p, int32(parts), assignment, add, del); err != nil {
			return err
		}
	}
	return nil
}

// kafkaUUID prints a topic id as Kafka's Uuid.toString does.
func kafkaUUID(b [16]byte) string {
	if b == [16]byte{} {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// adminTopics is --bootstrap-server.
type adminTopics struct{ e *Env }

func (a *adminTopics) markedForDeletion(string) bool { return false }

func (a *adminTopics) topics(excludeInternal bool) ([]string, error) {
	ctx, cancel := a.e.op()
	defer cancel()
	md, err := a.e.admin.Metadata(ctx)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	var out []string
	for _, t := range md.Topics {
		if t.Err != nil || excludeInternal && t.IsInternal {
			continue
		}
		out = append(out, t.Topic)
	}
	sort.Strings(out)
	return out, nil
}

func (a *adminTopics) create(name string, partitions int32, rf int16, assignment map[int32][]int32, configs map[string]string) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = int32(a.e.Timeout.Milliseconds())
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = name, partitions, rf
	for p := int32(0); p < int32(len(assignment)); p++ {
		ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		ra.Partition, ra.Replicas = p, assignment[p]
		t.ReplicaAssignment = append(t.ReplicaAssignment, ra)
	}
	for k, v := range configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, kmsg.StringPtr(v)
		t.Configs = append(t.Configs, c)
	}
	req.Topics = append(req.Topics, t)
	ctx, cancel := a.e.op()
	defer cancel()
	resp, err := req.RequestWith(ctx, a.e.cl)
	if err != nil {
		return fmt.Errorf("create topic %s: %w", name, err)
	}
	for _, rt := range resp.Topics {
		if err := respErr(rt.ErrorCode, rt.ErrorMessage); err != nil {
			if errors.Is(err, kerr.TopicAlreadyExists) {
				return fmt.Errorf("%w: Topic '%s' already exists.", errTopicExists, name)
			}
			return err
		}
	}
	return nil
}

func (a *adminTopics) describe(names []string) ([]topicDesc, map[int32]bool, error) {
	ctx, cancel := a.e.op()
	defer cancel()
	md, err := a.e.admin.Metadata(ctx, names...)
	if err != nil {
		return nil, nil, fmt.Errorf("describe topics: %w", err)
	}
	live := map[int32]bool{}
	for _, b := range md.Brokers {
		live[b.NodeID] = true
	}
	cfgs, err := a.e.admin.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		return nil, nil, fmt.Errorf("describe topic configs: %w", err)
	}
	var out []topicDesc
	for _, n := range names {
		t, ok := md.Topics[n]
		if !ok || t.Err != nil {
			if t.Err != nil {
				return nil, nil, fmt.Errorf("topic %s: %w", n, t.Err)
			}
			continue
		}
		d := topicDesc{name: n, id: kafkaUUID(t.ID)}
		if rc, err := cfgs.On(n, nil); err == nil {
			for _, c := range rc.Configs {
				if c.Key == "min.insync.replicas" && c.Value != nil {
					d.minISR, _ = strconv.Atoi(*c.Value)
				}
				if c.Source == kmsg.ConfigSourceDefaultConfig || c.Value == nil {
					continue
				}
				d.configs = append(d.configs, c.Key+"="+*c.Value)
			}
		}
		for _, pd := range t.Partitions.Sorted() {
			d.parts = append(d.parts, partDesc{partition: pd.Partition, leader: pd.Leader, replicas: pd.Replicas, isr: pd.ISR})
		}
		out = append(out, d)
	}
	return out, live, nil
}

func (a *adminTopics) delete(names []string) error {
	ctx, cancel := a.e.op()
	defer cancel()
	resps, err := a.e.admin.DeleteTopics(ctx, names...)
	if err != nil {
		return fmt.Errorf("delete topics: %w", err)
	}
	for _, n := range names {
		if r, ok := resps[n]; ok && r.Err != nil {
			return fmt.Errorf("delete topic %s: %w", n, r.Err)
		}
	}
	return nil
}

func (a *adminTopics) alter(name string, _ *Parsed, partitions int32, assignment map[int32][]int32, _ map[string]string, _ []string) error {
	if partitions < 0 {
		return nil
	}
	req := kmsg.NewPtrCreatePartitionsRequest()
	req.TimeoutMillis = int32(a.e.Timeout.Milliseconds())
	t := kmsg.NewCreatePartitionsRequestTopic()
	t.Topic, t.Count = name, partitions
	ctx, cancel := a.e.op()
	defer cancel()
	if len(assignment) > 0 {
		md, err := a.e.admin.Metadata(ctx, name)
		if err != nil {
			return fmt.Errorf("describe topic %s: %w", name, err)
		}
		for p := int32(len(md.Topics[name].Partitions)); p < int32(len(assignment)); p++ {
			as := kmsg.NewCreatePartitionsRequestTopicAssignment()
			as.Replicas = assignment[p]
			t.Assignment = append(t.Assignment, as)
		}
	}
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, a.e.cl)
	if err != nil {
		return fmt.Errorf("create partitions for %s: %w", name, err)
	}
	for _, rt := range resp.Topics {
		if err := respErr(rt.ErrorCode, rt.ErrorMessage); err != nil {
			return err
		}
	}
	return nil
}

// zkTopics is --zookeeper: Kafka's AdminZkClient, writing the znodes the
// controller acts on.
type zkTopics struct {
	e *Env
	z *zkClient
}

func (s *zkTopics) markedForDeletion(name string) bool {
	_, ok, _ := s.z.get(kafkazk.DeleteTopicPath(name))
	return ok
}

func (s *zkTopics) topics(excludeInternal bool) ([]string, error) {
	names, err := s.z.children(kafkazk.BrokerTopicsPath)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if excludeInternal && (n == "__consumer_offsets" || n == "__transaction_state") {
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

func (s *zkTopics) liveIDs() ([]int32, error) {
	bs, err := s.z.brokers()
	if err != nil {
		return nil, err
	}
	var out []int32
	for id := range bs {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

func (s *zkTopics) create(name string, partitions int32, rf int16, assignment map[int32][]int32, configs map[string]string) error {
	if _, ok, err := s.z.get(kafkazk.TopicPath(name)); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: Topic '%s' already exists.", errTopicExists, name)
	}
	live, err := s.liveIDs()
	if err != nil {
		return err
	}
	if assignment == nil {
		if int(rf) > len(live) {
			return fmt.Errorf("Replication factor: %d larger than available brokers: %d.", rf, len(live))
		}
		assignment, err = coord.AssignReplicas(live, partitions, rf)
		if err != nil {
			return err
		}
	} else {
		isLive := map[int32]bool{}
		for _, id := range live {
			isLive[id] = true
		}
		for p, r := range assignment {
			for _, b := range r {
				if !isLive[b] {
					return fmt.Errorf("Unknown broker %d in the assignment of partition %d (live brokers: %s)", b, p, ids(live))
				}
			}
		}
	}
	if err := s.z.set(kafkazk.TopicConfigPath(name), kafkazk.EncodeTopicConfig(configs)); err != nil {
		return err
	}
	data := kafkazk.EncodeTopicAssignment(kafkazk.TopicAssignment{TopicID: coord.NewUUID(), Partitions: assignment})
	if err := s.z.create(kafkazk.TopicPath(name), data); err != nil {
		if strings.Contains(err.Error(), "node already exists") {
			return fmt.Errorf("%w: Topic '%s' already exists.", errTopicExists, name)
		}
		return err
	}
	return nil
}

func (s *zkTopics) assignment(name string) (kafkazk.TopicAssignment, bool, error) {
	b, ok, err := s.z.get(kafkazk.TopicPath(name))
	if err != nil || !ok {
		return kafkazk.TopicAssignment{}, ok, err
	}
	a, err := kafkazk.DecodeTopicAssignment(name, b)
	return a, err == nil, err
}

func (s *zkTopics) describe(names []string) ([]topicDesc, map[int32]bool, error) {
	live := map[int32]bool{}
	liveIDs, err := s.liveIDs()
	if err != nil {
		return nil, nil, err
	}
	for _, id := range liveIDs {
		live[id] = true
	}
	var out []topicDesc
	for _, n := range names {
		a, ok, err := s.assignment(n)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			fmt.Fprintf(s.e.Stdout, "Topic %s doesn't exist!\n", n)
			continue
		}
		d := topicDesc{name: n, deleting: s.markedForDeletion(n)}
		if a.TopicID != "" {
			d.id = a.TopicID
		}
		if b, ok, err := s.z.get(kafkazk.TopicConfigPath(n)); err == nil && ok {
			cfg, err := kafkazk.DecodeTopicConfig(n, b)
			if err != nil {
				return nil, nil, err
			}
			keys := make([]string, 0, len(cfg))
			for k := range cfg {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				d.configs = append(d.configs, k+"="+cfg[k])
			}
		}
		for p := int32(0); p < int32(len(a.Partitions)); p++ {
			pd := partDesc{partition: p, leader: -1, replicas: a.Partitions[p]}
			sp := kafkazk.PartitionStatePath(n, p)
			if b, ok, err := s.z.get(sp); err == nil && ok {
				st, err := kafkazk.DecodePartitionState(s.z.p(sp), b)
				if err != nil {
					return nil, nil, err
				}
				pd.leader, pd.isr = st.Leader, st.ISR
			}
			d.parts = append(d.parts, pd)
		}
		out = append(out, d)
	}
	return out, live, nil
}

func (s *zkTopics) delete(names []string) error {
	for _, n := range names {
		err := s.z.create(kafkazk.DeleteTopicPath(n), nil)
		if err != nil && strings.Contains(err.Error(), "node already exists") {
			fmt.Fprintf(s.e.Stdout, "Topic %s is already marked for deletion.\n", n)
			continue
		}
		if err != nil {
			return fmt.Errorf("Error while deleting topic %s: %w", n, err)
		}
		fmt.Fprintf(s.e.Stdout, "Topic %s is marked for deletion.\n", n)
		fmt.Fprintln(s.e.Stdout, "Note: This will have no impact if delete.topic.enable is not set to true.")
	}
	return nil
}

func (s *zkTopics) alter(name string, _ *Parsed, partitions int32, assignment map[int32][]int32, add map[string]string, del []string) error {
	if len(add) > 0 || len(del) > 0 {
		fmt.Fprintln(s.e.Stdout, "WARNING: Altering topic configuration from this script has been deprecated and may be removed in future releases.")
		fmt.Fprintln(s.e.Stdout, "         Going forward, please use kafka-configs.sh for this functionality")
		cfg := map[string]string{}
		if b, ok, err := s.z.get(kafkazk.TopicConfigPath(name)); err != nil {
			return err
		} else if ok {
			if cfg, err = kafkazk.DecodeTopicConfig(name, b); err != nil {
				return err
			}
		}
		for k, v := range add {
			cfg[k] = v
		}
		for _, k := range del {
			delete(cfg, k)
		}
		if err := s.z.set(kafkazk.TopicConfigPath(name), kafkazk.EncodeTopicConfig(cfg)); err != nil {
			return err
		}
		if err := s.z.notifyConfigChange("topics/" + name); err != nil {
			return err
		}
		fmt.Fprintf(s.e.Stdout, "Updated config for topic %s.\n", name)
	}
	if partitions < 0 {
		return nil
	}
	fmt.Fprintln(s.e.Stdout, "WARNING: If partitions are increased for a topic that has a key, the partition logic or ordering of the messages will be affected")
	a, ok, err := s.assignment(name)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("The topic %s does not exist", name)
	}
	have := int32(len(a.Partitions))
	if partitions <= have {
		return fmt.Errorf("The number of partitions for a topic can only be increased. Topic %s currently has %d partitions, %d would not be an increase.", name, have, partitions)
	}
	rf := int16(len(a.Partitions[0]))
	if len(assignment) > 0 {
		for p := have; p < partitions; p++ {
			r, ok := assignment[p]
			if !ok {
				return fmt.Errorf("Increasing the number of partitions by %d but %d assignments provided.", partitions-have, int32(len(assignment))-have)
			}
			a.Partitions[p] = r
		}
	} else {
		live, err := s.liveIDs()
		if err != nil {
			return err
		}
		if int(rf) > len(live) {
			return fmt.Errorf("Replication factor: %d larger than available brokers: %d.", rf, len(live))
		}
		more, err := kafkazk.AssignReplicas(live, partitions, rf, rand.IntN(len(live)), rand.IntN(len(live)))
		if err != nil {
			return err
		}
		for p := have; p < partitions; p++ {
			a.Partitions[p] = more[p]
		}
	}
	if err := s.z.set(kafkazk.TopicPath(name), kafkazk.EncodeTopicAssignment(a)); err != nil {
		return err
	}
	fmt.Fprintln(s.e.Stdout, "Adding partitions succeeded!")
	return nil
}
