package tools

// kafka-reassign-partitions.sh (Kafka 2.8's ReassignPartitionsCommand):
// --generate, --execute [--throttle], --verify, through the
// AlterPartitionReassignments/ListPartitionReassignments APIs or, with
// --zookeeper, the /admin/reassign_partitions znode the controller reads.

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafkazk"
)

var _ = register(&Tool{
	Name:    "reassign-partitions",
	Summary: "This tool helps to move topic partitions between replicas.",
	Opts: []Opt{
		optBootstrap, optZookeeper, optCmdConfig,
		{Name: "generate", Help: "Generate a candidate partition reassignment configuration. Note that this only generates a candidate assignment, it does not execute it."},
		{Name: "execute", Help: "Kick off the reassignment as specified by the --reassignment-json-file option."},
		{Name: "verify", Help: "Verify if the reassignment completed as specified by the --reassignment-json-file option. If there is a throttle engaged for the replicas specified, and the rebalance has completed, the throttle will be removed"},
		{Name: "reassignment-json-file", Arg: "String: manual assignment json file path", Help: "The JSON file with the partition reassignment configuration: {\"partitions\": [{\"topic\": \"foo\", \"partition\": 1, \"replicas\": [1,2,3]}], \"version\":1}"},
		{Name: "topics-to-move-json-file", Arg: "String: topics to reassign json file path", Help: "Generate a reassignment configuration to move the partitions of the specified topics to the list of brokers specified by the --broker-list option: {\"topics\": [{\"topic\": \"foo\"},{\"topic\": \"foo1\"}], \"version\":1}"},
		{Name: "broker-list", Arg: "String: brokerlist", Help: "The list of brokers to which the partitions need to be reassigned in the form \"0,1,2\". This is required if --topics-to-move-json-file is used to generate reassignment configuration"},
		{Name: "disable-rack-aware", Help: "Disable rack aware replica assignment"},
		{Name: "throttle", Arg: "Long: throttle", Default: "-1", Help: "The movement of partitions between brokers will be throttled to this value (bytes/sec)."},
		{Name: "timeout", Arg: "Long: timeout", Default: "10000", Help: "The maximum time in ms to wait for log directory replica assignment to begin."},
		{Name: "preserve-throttles", Help: "Do not modify broker or topic throttles."},
	},
	Run: runReassign,
})

// reassignEntry is one partition of Kafka's reassignment JSON.
type reassignEntry struct {
	Topic     string   `json:"topic"`
	Partition int32    `json:"partition"`
	Replicas  []int32  `json:"replicas"`
	LogDirs   []string `json:"log_dirs,omitempty"`
}

type reassignDoc struct {
	Version    int             `json:"version"`
	Partitions []reassignEntry `json:"partitions"`
}

// reassignJSON prints an assignment as Kafka's formatAsReassignmentJson.
func reassignJSON(a map[topicPartition][]int32) string {
	tps := make([]topicPartition, 0, len(a))
	for tp := range a {
		tps = append(tps, tp)
	}
	sortTPs(tps)
	doc := reassignDoc{Version: 1, Partitions: []reassignEntry{}}
	for _, tp := range tps {
		dirs := make([]string, len(a[tp]))
		for i := range dirs {
			dirs[i] = "any"
		}
		doc.Partitions = append(doc.Partitions, reassignEntry{tp.Topic, tp.Partition, a[tp], dirs})
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// replicaMove is one replica of a partition whose log dir the
// reassignment JSON names (a log_dirs entry other than "any"); it prints
// as Kafka's TopicPartitionReplica, <topic>-<partition>-<broker>.
type replicaMove struct {
	topicPartition
	broker int32
}

func (r replicaMove) String() string { return fmt.Sprintf("%s-%d", r.topicPartition, r.broker) }

// readReassignment reads the reassignment JSON: the replicas of each
// partition, and the log dir moves its log_dirs ask for.
func readReassignment(path string) (map[topicPartition][]int32, map[replicaMove]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	var doc reassignDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("The JSON file %s is malformed: %v", path, err)
	}
	out := map[topicPartition][]int32{}
	moves := map[replicaMove]string{}
	for _, p := range doc.Partitions {
		tp := topicPartition{p.Topic, p.Partition}
		if _, dup := out[tp]; dup {
			return nil, nil, fmt.Errorf("Partition reassignment contains duplicate topic partitions: %s", tp)
		}
		seen := map[int32]bool{}
		for _, r := range p.Replicas {
			if seen[r] {
				return nil, nil, fmt.Errorf("Partition replica lists may not contain duplicate entries: %s contains %d twice", tp, r)
			}
			seen[r] = true
		}
		if len(p.Replicas) == 0 {
			return nil, nil, fmt.Errorf("Partition replica list cannot be empty: %s", tp)
		}
		if p.LogDirs != nil && len(p.LogDirs) != len(p.Replicas) {
			return nil, nil, fmt.Errorf("Size of replicas list %s is different from size of log dirs list %s for partition %s",
				ids(p.Replicas), strings.Join(p.LogDirs, ","), tp)
		}
		for i, d := range p.LogDirs {
			if d != "any" {
				moves[replicaMove{tp, p.Replicas[i]}] = d
			}
		}
		out[tp] = p.Replicas
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("Partition reassignment list cannot be empty (%s)", path)
	}
	return out, moves, nil
}

func runReassign(e *Env, p *Parsed) error {
	n := p.Count("generate", "execute", "verify")
	if n != 1 {
		return usagef("Command must include exactly one action: --generate, --execute, --verify")
	}
	if p.Has("bootstrap-server") == p.Has("zookeeper") {
		return usagef("Please specify --bootstrap-server")
	}
	var cur func(tps []topicPartition) (map[topicPartition][]int32, error)
	var topicParts func(topics []string) (map[topicPartition][]int32, error)
	var z *zkClient
	if p.Has("zookeeper") {
		var err error
		if z, err = e.zookeeper(p.String("zookeeper")); err != nil {
			return err
		}
		topicParts = func(topics []string) (map[topicPartition][]int32, error) { return zkAssignments(z, topics) }
	} else {
		if _, err := loadProps(p.String("command-config")); err != nil {
			return err
		}
		if _, _, err := e.kafka(p.String("bootstrap-server")); err != nil {
			return err
		}
		topicParts = func(topics []string) (map[topicPartition][]int32, error) { return adminAssignments(e, topics) }
	}
	cur = func(tps []topicPartition) (map[topicPartition][]int32, error) {
		var topics []string
		seen := map[string]bool{}
		for _, tp := range tps {
			if !seen[tp.Topic] {
				seen[tp.Topic] = true
				topics = append(topics, tp.Topic)
			}
		}
		all, err := topicParts(topics)
		if err != nil {
			return nil, err
		}
		out := map[topicPartition][]int32{}
		for _, tp := range tps {
			r, ok := all[tp]
			if !ok {
				return nil, fmt.Errorf("Topic %s not found (or it has no partition %d)", tp.Topic, tp.Partition)
			}
			out[tp] = r
		}
		return out, nil
	}
	switch {
	case p.Has("generate"):
		return generateReassignment(e, p, topicParts)
	case p.Has("execute"):
		proposed, moves, tps, current, err := loadPlan(p, cur)
		if err != nil {
			return err
		}
		if z != nil && len(moves) > 0 {
			return errLogDirsNeedBootstrap
		}
		fmt.Fprintf(e.Stdout, "Current partition replica assignment\n\n%s\n\nSave this to use as the --reassignment-json-file option during rollback\n", reassignJSON(current))
		throttle, err := p.Int("throttle", -1)
		if err != nil {
			return err
		}
		if throttle >= 0 {
			fmt.Fprintln(e.Stdout, "Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.")
			if err := setThrottles(e, z, proposed, current, throttle); err != nil {
				return err
			}
			fmt.Fprintf(e.Stdout, "The inter-broker throttle limit was set to %d B/s\n", throttle)
		}
		if z != nil {
			err = zkStartReassignment(z, proposed)
		} else {
			err = adminStartReassignment(e, proposed)
		}
		if err != nil {
			return err
		}
		s := "s"
		if len(tps) == 1 {
			s = ""
		}
		names := make([]string, len(tps))
		for i, tp := range tps {
			names[i] = tp.String()
		}
		fmt.Fprintf(e.Stdout, "Successfully started partition reassignment%s for %s\n", s, strings.Join(names, ","))
		if len(moves) > 0 {
			timeout, err := p.Int("timeout", 10000)
			if err != nil {
				return err
			}
			return executeMoves(e, moves, time.Duration(timeout)*time.Millisecond)
		}
		return nil
	default:
		target, moves, tps, current, err := loadPlan(p, cur)
		if err != nil {
			return err
		}
		if z != nil && len(moves) > 0 {
			return errLogDirsNeedBootstrap
		}
		var ongoing map[topicPartition]bool
		if z != nil {
			ongoing, err = zkOngoing(z)
		} else {
			ongoing, err = adminOngoing(e, tps)
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(e.Stdout, "Status of partition reassignment:")
		allDone := true
		for _, tp := range tps {
			switch {
			case ongoing[tp]:
				allDone = false
				fmt.Fprintf(e.Stdout, "Reassignment of partition %s is still in progress.\n", tp)
			case equalIDs(current[tp], target[tp]):
				fmt.Fprintf(e.Stdout, "Reassignment of partition %s is complete.\n", tp)
			default:
				fmt.Fprintf(e.Stdout, "There is no active reassignment of partition %s, but replica set is %s rather than %s.\n", tp, ids(current[tp]), ids(target[tp]))
			}
		}
		if len(moves) > 0 {
			movesDone, err := verifyMoves(e, moves)
			if err != nil {
				return err
			}
			allDone = allDone && movesDone
		}
		if allDone && !p.Has("preserve-throttles") {
			return clearThrottles(e, z, tps)
		}
		return nil
	}
}

// loadPlan reads --reassignment-json-file and the current replicas of
// its partitions.
func loadPlan(p *Parsed, cur func([]topicPartition) (map[topicPartition][]int32, error)) (plan map[topicPartition][]int32, moves map[replicaMove]string, tps []topicPartition, current map[topicPartition][]int32, err error) {
	if err = p.Require("reassignment-json-file"); err != nil {
		return
	}
	if plan, moves, err = readReassignment(p.String("reassignment-json-file")); err != nil {
		return
	}
	tps = keysOf(plan)
	current, err = cur(tps)
	return
}

func keysOf(a map[topicPartition][]int32) []topicPartition {
	out := make([]topicPartition, 0, len(a))
	for tp := range a {
		out = append(out, tp)
	}
	sortTPs(out)
	return out
}

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func zkAssignments(z *zkClient, topics []string) (map[topicPartition][]int32, error) {
	out := map[topicPartition][]int32{}
	for _, t := range topics {
		b, ok, err := z.get(kafkazk.TopicPath(t))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("Topic %s not found", t)
		}
		a, err := kafkazk.DecodeTopicAssignment(t, b)
		if err != nil {
			return nil, err
		}
		for part, r := range a.Partitions {
			out[topicPartition{t, part}] = r
		}
	}
	return out, nil
}

func adminAssignments(e *Env, topics []string) (map[topicPartition][]int32, error) {
	ctx, cancel := e.op()
	defer cancel()
	md, err := e.admin.Metadata(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	out := map[topicPartition][]int32{}
	for _, t := range topics {
		td, ok := md.Topics[t]
		if !ok || td.Err != nil {
			return nil, fmt.Errorf("Topic %s not found", t)
		}
		for part, pd := range td.Partitions {
			out[topicPartition{t, part}] = pd.Replicas
		}
	}
	return out, nil
}

func generateReassignment(e *Env, p *Parsed, topicParts func([]string) (map[topicPartition][]int32, error)) error {
	if err := p.Require("topics-to-move-json-file", "broker-list"); err != nil {
		return err
	}
	var brokers []int32
	seen := map[int32]bool{}
	for _, s := range strings.Split(p.String("broker-list"), ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
		if err != nil {
			return usagef("--broker-list %q: broker ids like 1,2,3", p.String("broker-list"))
		}
		if seen[int32(n)] {
			return fmt.Errorf("Broker list contains duplicate entries: %d", n)
		}
		seen[int32(n)] = true
		brokers = append(brokers, int32(n))
	}
	data, err := os.ReadFile(p.String("topics-to-move-json-file"))
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", p.String("topics-to-move-json-file"), err)
	}
	var doc struct {
		Topics []struct {
			Topic string `json:"topic"`
		} `json:"topics"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("The JSON file %s is malformed: %v", p.String("topics-to-move-json-file"), err)
	}
	var topics []string
	for _, t := range doc.Topics {
		topics = append(topics, t.Topic)
	}
	if len(topics) == 0 {
		return fmt.Errorf("List of topics to reassign contains no topics")
	}
	current, err := topicParts(topics)
	if err != nil {
		return err
	}
	proposed := map[topicPartition][]int32{}
	for _, t := range topics {
		var n int32
		rf := int16(0)
		for tp, r := range current {
			if tp.Topic == t {
				n++
				rf = int16(len(r))
			}
		}
		a, err := kafkazk.AssignReplicas(brokers, n, rf, rand.IntN(len(brokers)), rand.IntN(len(brokers)))
		if err != nil {
			return fmt.Errorf("Replication factor: %d larger than available brokers: %d.", rf, len(brokers))
		}
		for part, r := range a {
			proposed[topicPartition{t, part}] = r
		}
	}
	fmt.Fprintf(e.Stdout, "Current partition replica assignment\n%s\n\nProposed partition reassignment configuration\n%s\n", reassignJSON(current), reassignJSON(proposed))
	return nil
}

const reassignPath = "/admin/reassign_partitions"

func zkStartReassignment(z *zkClient, proposed map[topicPartition][]int32) error {
	doc := reassignDoc{Version: 1}
	for _, tp := range keysOf(proposed) {
		doc.Partitions = append(doc.Partitions, reassignEntry{Topic: tp.Topic, Partition: tp.Partition, Replicas: proposed[tp]})
	}
	data, _ := json.Marshal(doc)
	if err := z.create(reassignPath, data); err != nil {
		if strings.Contains(err.Error(), "node already exists") {
			return fmt.Errorf("There is an existing assignment running (%s exists).", z.p(reassignPath))
		}
		return err
	}
	return nil
}

func zkOngoing(z *zkClient) (map[topicPartition]bool, error) {
	b, ok, err := z.get(reassignPath)
	if err != nil || !ok {
		return map[topicPartition]bool{}, err
	}
	var doc reassignDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s holds malformed JSON: %v", z.p(reassignPath), err)
	}
	out := map[topicPartition]bool{}
	for _, p := range doc.Partitions {
		out[topicPartition{p.Topic, p.Partition}] = true
	}
	return out, nil
}

func adminStartReassignment(e *Env, proposed map[topicPartition][]int32) error {
	req := kmsg.NewPtrAlterPartitionAssignmentsRequest()
	req.TimeoutMillis = int32(e.Timeout.Milliseconds())
	byTopic := map[string]int{}
	for _, tp := range keysOf(proposed) {
		i, ok := byTopic[tp.Topic]
		if !ok {
			t := kmsg.NewAlterPartitionAssignmentsRequestTopic()
			t.Topic = tp.Topic
			req.Topics = append(req.Topics, t)
			i = len(req.Topics) - 1
			byTopic[tp.Topic] = i
		}
		rp := kmsg.NewAlterPartitionAssignmentsRequestTopicPartition()
		rp.Partition, rp.Replicas = tp.Partition, proposed[tp]
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	ctx, cancel := e.op()
	defer cancel()
	resp, err := req.RequestWith(ctx, e.cl)
	if err != nil {
		return fmt.Errorf("the brokers did not accept AlterPartitionReassignments: %w (with brokerd before it serves that API, use --zookeeper)", err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return fmt.Errorf("reassignment: %w", err)
	}
	var failed []string
	for _, t := range resp.Topics {
		for _, rp := range t.Partitions {
			if err := respErr(rp.ErrorCode, rp.ErrorMessage); err != nil {
				failed = append(failed, fmt.Sprintf("%s-%d: %v", t.Topic, rp.Partition, err))
			}
		}
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		return fmt.Errorf("Error reassigning partition(s): %s", strings.Join(failed, "; "))
	}
	return nil
}

func adminOngoing(e *Env, tps []topicPartition) (map[topicPartition]bool, error) {
	req := kmsg.NewPtrListPartitionReassignmentsRequest()
	req.TimeoutMillis = int32(e.Timeout.Milliseconds())
	for t, parts := range byTopic(tps) {
		rt := kmsg.NewListPartitionReassignmentsRequestTopic()
		rt.Topic, rt.Partitions = t, parts
		req.Topics = append(req.Topics, rt)
	}
	ctx, cancel := e.op()
	defer cancel()
	resp, err := req.RequestWith(ctx, e.cl)
	if err != nil {
		return nil, fmt.Errorf("the brokers did not answer ListPartitionReassignments: %w (with brokerd before it serves that API, use --zookeeper)", err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, fmt.Errorf("list reassignments: %w", err)
	}
	out := map[topicPartition]bool{}
	for _, t := range resp.Topics {
		for _, rp := range t.Partitions {
			out[topicPartition{t.Topic, rp.Partition}] = true
		}
	}
	return out, nil
}

// Throttle configs, as Kafka's ReassignPartitionsCommand sets them.
var (
	brokerThrottles = []string{"leader.replication.throttled.rate", "follower.replication.throttled.rate", "replica.alter.log.dirs.io.max.bytes.per.second"}
	topicThrottles  = []string{"leader.replication.throttled.replicas", "follower.replication.throttled.replicas"}
)

// setThrottles sets the rate on every broker taking part and, per topic,
// the replicas moving (leaders: the current replicas, followers: the new).
func setThrottles(e *Env, z *zkClient, proposed, current map[topicPartition][]int32, rate int64) error {
	brokers := map[int32]bool{}
	leaders, followers := map[string][]string{}, map[string][]string{}
	for tp, target := range proposed {
		cur := current[tp]
		for _, b := range cur {
			brokers[b] = true
			leaders[tp.Topic] = append(leaders[tp.Topic], fmt.Sprintf("%d:%d", tp.Partition, b))
		}
		for _, b := range target {
			brokers[b] = true
			if !containsID(cur, b) {
				followers[tp.Topic] = append(followers[tp.Topic], fmt.Sprintf("%d:%d", tp.Partition, b))
			}
		}
	}
	r := strconv.FormatInt(rate, 10)
	for b := range brokers {
		set := map[string]string{brokerThrottles[0]: r, brokerThrottles[1]: r}
		if err := alterEntity(e, z, configEntity{typ: "brokers", name: strconv.Itoa(int(b))}, set, nil); err != nil {
			return err
		}
	}
	for t := range leaders {
		sort.Strings(leaders[t])
		sort.Strings(followers[t])
		set := map[string]string{topicThrottles[0]: strings.Join(leaders[t], ","), topicThrottles[1]: strings.Join(followers[t], ",")}
		if err := alterEntity(e, z, configEntity{typ: "topics", name: t}, set, nil); err != nil {
			return err
		}
	}
	return nil
}

func containsID(s []int32, id int32) bool {
	for _, x := range s {
		if x == id {
			return true
		}
	}
	return false
}

// clearThrottles removes the throttles once every reassignment is done.
func clearThrottles(e *Env, z *zkClient, tps []topicPartition) error {
	var brokers []int32
	if z != nil {
		bs, err := z.brokers()
		if err != nil {
			return err
		}
		for id := range bs {
			brokers = append(brokers, id)
		}
	} else {
		ctx, cancel := e.op()
		defer cancel()
		md, err := e.admin.BrokerMetadata(ctx)
		if err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
		for _, b := range md.Brokers {
			brokers = append(brokers, b.NodeID)
		}
	}
	sort.Slice(brokers, func(i, j int) bool { return brokers[i] < brokers[j] })
	topics := map[string]bool{}
	var names []string
	for _, tp := range tps {
		if !topics[tp.Topic] {
			topics[tp.Topic] = true
			names = append(names, tp.Topic)
		}
	}
	plural := func(n int) string {
		if n == 1 {
			return ""
		}
		return "s"
	}
	fmt.Fprintf(e.Stdout, "Clearing broker-level throttles on broker%s %s\n", plural(len(brokers)), ids(brokers))
	for _, b := range brokers {
		if err := alterEntity(e, z, configEntity{typ: "brokers", name: strconv.Itoa(int(b))}, nil, brokerThrottles); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.Stdout, "Clearing topic-level throttle%s on topic%s %s\n", plural(len(names)), plural(len(names)), strings.Join(names, ","))
	for _, t := range names {
		if err := alterEntity(e, z, configEntity{typ: "topics", name: t}, nil, topicThrottles); err != nil {
			return err
		}
	}
	return nil
}

// alterEntity sets and removes configs of a broker or topic, quietly,
// through ZooKeeper or IncrementalAlterConfigs. Removing a config that is
// not set is not an error here.
func alterEntity(e *Env, z *zkClient, ent configEntity, set map[string]string, del []string) error {
	if z != nil {
		return zkUpdateConfig(z, ent, set, del, false)
	}
	if err := incrementalAlter(e, ent, set, del, true); err != nil {
		return fmt.Errorf("throttle configs: %w", err)
	}
	return nil
}
