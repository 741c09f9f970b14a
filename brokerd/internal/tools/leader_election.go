package tools

// kafka-leader-election.sh (Kafka 2.8's LeaderElectionCommand) through the
// ElectLeaders API; with --zookeeper it writes
// /admin/preferred_replica_election for the controller, as the old
// kafka-preferred-replica-election.sh did.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafkazk"
)

var _ = register(&Tool{
	Name:    "leader-election",
	Summary: "This tool attempts to elect a new leader for a set of topic partitions. The type of elections supported are preferred replicas and unclean replicas.",
	Opts: []Opt{
		optBootstrap,
		{Name: "zookeeper", Arg: "String: hosts", Help: "Instead of --bootstrap-server: write /admin/preferred_replica_election for the controller (preferred elections only), as kafka-preferred-replica-election.sh did."},
		{Name: "admin.config", Arg: "String: config file", Help: "Configuration properties files to pass to the admin client"},
		{Name: "election-type", Arg: "[PREFERRED,UNCLEAN]: election type", Help: "Type of election to attempt. Possible values are \"preferred\" for preferred leader election or \"unclean\" for unclean leader election."},
		{Name: "all-topic-partitions", Help: "Perform election on all of the eligible topic partitions based on the type of election (see the --election-type flag). Not allowed if --topic or --path-to-json-file is specified."},
		{Name: "topic", Arg: "String: topic name", Help: "Name of topic for which to perform an election. Not allowed if --path-to-json-file or --all-topic-partitions is specified."},
		{Name: "partition", Arg: "Integer: partition id", Help: "Partition id for which to perform an election. REQUIRED if --topic is specified."},
		{Name: "path-to-json-file", Arg: "String: Path to JSON file", Help: "The JSON file with the list of partition for which leader elections should be performed: {\"partitions\": [{\"topic\": \"foo\", \"partition\": 1}]}"},
	},
	Run: runLeaderElection,
})

type topicPartition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

func (tp topicPartition) String() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

func sortTPs(s []topicPartition) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Topic != s[j].Topic {
			return s[i].Topic < s[j].Topic
		}
		return s[i].Partition < s[j].Partition
	})
}

// byTopic groups partitions by topic, for requests that list them so.
func byTopic(tps []topicPartition) map[string][]int32 {
	out := map[string][]int32{}
	for _, tp := range tps {
		out[tp.Topic] = append(out[tp.Topic], tp.Partition)
	}
	return out
}

func joinTPs(s []topicPartition) string {
	sortTPs(s)
	out := make([]string, len(s))
	for i, tp := range s {
		out[i] = tp.String()
	}
	return strings.Join(out, ", ")
}

// readPartitionsFile reads {"partitions":[{"topic":..,"partition":..}]}.
func readPartitionsFile(path string) ([]topicPartition, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	var doc struct {
		Partitions []topicPartition `json:"partitions"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("The JSON file %s is malformed: %v", path, err)
	}
	seen := map[topicPartition]bool{}
	for _, tp := range doc.Partitions {
		if seen[tp] {
			return nil, fmt.Errorf("Replica election data contains duplicate partitions: %s", tp)
		}
		seen[tp] = true
	}
	if len(doc.Partitions) == 0 {
		return nil, fmt.Errorf("Replica election data is empty: %s names no partitions", path)
	}
	return doc.Partitions, nil
}

func runLeaderElection(e *Env, p *Parsed) error {
	if p.Has("bootstrap-server") == p.Has("zookeeper") {
		return usagef("Missing required option(s): [bootstrap-server]")
	}
	if err := p.Require("election-type"); err != nil {
		return err
	}
	etype := strings.ToUpper(p.String("election-type"))
	if etype != "PREFERRED" && etype != "UNCLEAN" {
		return usagef("Cannot convert argument '%s' of option 'election-type' to class org.apache.kafka.common.ElectionType", p.String("election-type"))
	}
	n := p.Count("all-topic-partitions", "topic", "path-to-json-file")
	if n != 1 {
		return usagef("One and only one of the following options is required: all-topic-partitions, topic, path-to-json-file")
	}
	if p.Has("topic") != p.Has("partition") {
		return usagef("Missing required option(s): [partition]")
	}
	var tps []topicPartition // nil = all
	switch {
	case p.Has("topic"):
		part, err := p.Int("partition", 0)
		if err != nil {
			return err
		}
		tps = []topicPartition{{p.String("topic"), int32(part)}}
	case p.Has("path-to-json-file"):
		var err error
		if tps, err = readPartitionsFile(p.String("path-to-json-file")); err != nil {
			return err
		}
	}
	if p.Has("zookeeper") {
		if etype != "PREFERRED" {
			return usagef("--zookeeper only starts preferred elections; use --bootstrap-server for --election-type unclean")
		}
		return zkPreferredElection(e, p, tps)
	}
	if _, err := loadProps(p.String("admin.config")); err != nil {
		return err
	}
	if _, _, err := e.kafka(p.String("bootstrap-server")); err != nil {
		return err
	}
	req := kmsg.NewPtrElectLeadersRequest()
	req.TimeoutMillis = int32(e.Timeout.Milliseconds())
	if etype == "UNCLEAN" {
		req.ElectionType = 1
	}
	for t, parts := range byTopic(tps) {
		rt := kmsg.NewElectLeadersRequestTopic()
		rt.Topic, rt.Partitions = t, parts
		req.Topics = append(req.Topics, rt)
	}
	ctx, cancel := e.op()
	defer cancel()
	resp, err := req.RequestWith(ctx, e.cl)
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	var done, noop []topicPartition
	var failed []string
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			tp := topicPartition{rt.Topic, rp.Partition}
			err := respErr(rp.ErrorCode, rp.ErrorMessage)
			switch {
			case err == nil:
				done = append(done, tp)
			case errors.Is(err, kerr.ElectionNotNeeded):
				noop = append(noop, tp)
			default:
				failed = append(failed, fmt.Sprintf("Error completing leader election (%s) for partition: %s: %v", etype, tp, err))
			}
		}
	}
	if len(done) > 0 {
		fmt.Fprintf(e.Stdout, "Successfully completed leader election (%s) for partitions %s\n", etype, joinTPs(done))
	}
	if len(noop) > 0 {
		fmt.Fprintf(e.Stdout, "Valid replica already elected for partitions %s\n", joinTPs(noop))
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		for _, f := range failed {
			fmt.Fprintln(e.Stdout, f)
		}
		return fmt.Errorf("%d replica(s) could not be elected", len(failed))
	}
	return nil
}

// zkPartitions lists every partition of every topic in ZooKeeper.
func zkPartitions(z *zkClient) ([]topicPartition, error) {
	topics, err := z.children(kafkazk.BrokerTopicsPath)
	if err != nil {
		return nil, err
	}
	var out []topicPartition
	for _, t := range topics {
		b, ok, err := z.get(kafkazk.TopicPath(t))
		if err != nil || !ok {
			return nil, err
		}
		a, err := kafkazk.DecodeTopicAssignment(t, b)
		if err != nil {
			return nil, err
		}
		for part := range a.Partitions {
			out = append(out, topicPartition{t, part})
		}
	}
	sortTPs(out)
	return out, nil
}

const preferredElectionPath = "/admin/preferred_replica_election"

func zkPreferredElection(e *Env, p *Parsed, tps []topicPartition) error {
	z, err := e.zookeeper(p.String("zookeeper"))
	if err != nil {
		return err
	}
	if tps == nil {
		if tps, err = zkPartitions(z); err != nil {
			return err
		}
	}
	sortTPs(tps)
	data, _ := json.Marshal(struct {
		Version    int              `json:"version"`
		Partitions []topicPartition `json:"partitions"`
	}{1, tps})
	if err := z.create(preferredElectionPath, data); err != nil {
		if strings.Contains(err.Error(), "node already exists") {
			cur, _, _ := z.get(preferredElectionPath)
			return fmt.Errorf("Preferred replica leader election currently in progress for %s. Aborting operation", cur)
		}
		return err
	}
	fmt.Fprintf(e.Stdout, "Created preferred replica election path with %s\n", data)
	names := make([]string, len(tps))
	for i, tp := range tps {
		names[i] = tp.String()
	}
	fmt.Fprintf(e.Stdout, "Successfully started preferred replica election for partitions Set(%s)\n", strings.Join(names, ", "))
	return nil
}
