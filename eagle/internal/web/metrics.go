package web

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"mqstack/eagle/internal/status"
)

// metrics serves eagle's own metrics and a re-export of what it computed
// under kafka_exporter's names (so Grafana's kafka_exporter dashboards
// work), each with a cluster label added. Group status is exported
// Burrow-style as eagle_consumergroup_status{status=...} 1 and as a code
// (0 OK, 1 WARN, 2 STALL, 3 STOP, 4 REWIND, 5 ERR). Lag in seconds has no
// kafka_exporter name: it is exported under kafka-lag-exporter's
// (kafka_consumergroup_group_lag_seconds, ..._group_max_lag_seconds) with
// the same labels as kafka_consumergroup_lag.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	// The text format wants each family's samples together: collect per
	// family, write in first-seen order.
	type family struct {
		head string
		body strings.Builder
	}
	families := map[string]*family{}
	var order []string
	head := func(name, typ, help string) {
		if families[name] == nil {
			families[name] = &family{head: fmt.Sprintf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)}
			order = append(order, name)
		}
	}
	put := func(name string, v float64, labels ...string) {
		b := &families[name].body
		b.WriteString(name)
		if len(labels) > 0 {
			b.WriteByte('{')
			for i := 0; i+1 < len(labels); i += 2 {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(b, "%s=\"%s\"", labels[i], escapeLabel(labels[i+1]))
			}
			b.WriteByte('}')
		}
		fmt.Fprintf(b, " %v\n", v)
	}
	head("eagle_up", "gauge", "1 while eagle serves.")
	put("eagle_up", 1)
	head("eagle_uptime_seconds", "gauge", "Seconds since eagle started.")
	put("eagle_uptime_seconds", time.Since(s.started).Seconds())
	for _, c := range s.clusters {
		v := c.view()
		head("eagle_collect_passes_total", "counter", "Collection passes done.")
		put("eagle_collect_passes_total", float64(v.Passes), "cluster", c.alias)
		if v.Snap == nil {
			continue
		}
		sn := v.Snap
		cl := []string{"cluster", c.alias}
		head("eagle_collect_duration_seconds", "gauge", "Duration of the last collection pass.")
		put("eagle_collect_duration_seconds", sn.Took.Seconds(), cl...)
		head("eagle_collect_lag_fetches", "gauge", "Partitions fetched in the last pass to date their first unconsumed record (unchanged committed offsets are cached).")
		put("eagle_collect_lag_fetches", float64(sn.LagFetches), cl...)
		head("eagle_cluster_health", "gauge", "Cluster health: 0 green, 1 yellow, 2 red.")
		put("eagle_cluster_health", float64(map[string]int{"green": 0, "yellow": 1, "red": 2}[v.Verdict.Level]), cl...)
		up := 0
		for _, br := range sn.Brokers {
			if br.Reachable {
				up++
			}
		}
		head("kafka_brokers", "gauge", "Number of brokers in the Kafka cluster.")
		put("kafka_brokers", float64(up), cl...)
		for _, t := range sn.Topics {
			head("kafka_topic_partitions", "gauge", "Number of partitions for this topic.")
			put("kafka_topic_partitions", float64(len(t.Partitions)), "cluster", c.alias, "topic", t.Name)
			for _, p := range t.Partitions {
				lp := []string{"cluster", c.alias, "topic", t.Name, "partition", fmt.Sprint(p.ID)}
				if p.End >= 0 {
					head("kafka_topic_partition_current_offset", "gauge", "Current offset of a broker at topic/partition.")
					put("kafka_topic_partition_current_offset", float64(p.End), lp...)
				}
				if p.Start >= 0 {
					head("kafka_topic_partition_oldest_offset", "gauge", "Oldest offset of a broker at topic/partition.")
					put("kafka_topic_partition_oldest_offset", float64(p.Start), lp...)
				}
				head("kafka_topic_partition_leader", "gauge", "Leader broker ID of this topic/partition.")
				put("kafka_topic_partition_leader", float64(p.Leader), lp...)
				head("kafka_topic_partition_replicas", "gauge", "Number of replicas for this topic/partition.")
				put("kafka_topic_partition_replicas", float64(len(p.Replicas)), lp...)
				head("kafka_topic_partition_in_sync_replica", "gauge", "Number of in-sync replicas for this topic/partition.")
				put("kafka_topic_partition_in_sync_replica", float64(len(p.ISR)), lp...)
				head("kafka_topic_partition_leader_is_preferred", "gauge", "1 if topic/partition is using the preferred broker.")
				put("kafka_topic_partition_leader_is_preferred", b2f(p.PreferredLeader()), lp...)
				head("kafka_topic_partition_under_replicated_partition", "gauge", "1 if topic/partition is under replicated.")
				put("kafka_topic_partition_under_replicated_partition", b2f(p.UnderReplicated()), lp...)
			}
		}
		for _, g := range sn.Groups {
			lg := []string{"cluster", c.alias, "consumergroup", g.ID}
			head("kafka_consumergroup_members", "gauge", "Amount of members in a consumer group.")
			put("kafka_consumergroup_members", float64(len(g.Members)), lg...)
			sums := map[string]int64{}
			maxSec := -1.0
			for _, o := range g.Offsets {
				lo := []string{"cluster", c.alias, "consumergroup", g.ID, "topic", o.Topic, "partition", fmt.Sprint(o.Partition)}
				head("kafka_consumergroup_current_offset", "gauge", "Current offset of a consumer group at topic/partition.")
				put("kafka_consumergroup_current_offset", float64(o.Committed), lo...)
				if o.Lag >= 0 {
					head("kafka_consumergroup_lag", "gauge", "Current approximate lag of a consumer group at topic/partition.")
					put("kafka_consumergroup_lag", float64(o.Lag), lo...)
					sums[o.Topic] += o.Lag
				}
				if o.LagSeconds >= 0 {
					head("kafka_consumergroup_group_lag_seconds", "gauge", "Age in seconds of the first record a consumer group has not consumed at topic/partition (0 without lag).")
					put("kafka_consumergroup_group_lag_seconds", o.LagSeconds, lo...)
					maxSec = max(maxSec, o.LagSeconds)
				}
			}
			if maxSec >= 0 {
				head("kafka_consumergroup_group_max_lag_seconds", "gauge", "Largest lag in seconds of a consumer group over its partitions.")
				put("kafka_consumergroup_group_max_lag_seconds", maxSec, lg...)
			}
			topics := make([]string, 0, len(sums))
			for t := range sums {
				topics = append(topics, t)
			}
			sort.Strings(topics)
			for _, t := range topics {
				head("kafka_consumergroup_lag_sum", "gauge", "Current approximate lag of a consumer group at topic for all partitions.")
				put("kafka_consumergroup_lag_sum", float64(sums[t]), "cluster", c.alias, "consumergroup", g.ID, "topic", t)
			}
			head("eagle_consumergroup_status", "gauge", "Burrow-style status of a consumer group (1 for its current status).")
			put("eagle_consumergroup_status", 1, "cluster", c.alias, "consumergroup", g.ID, "status", g.Status)
			head("eagle_consumergroup_status_code", "gauge", "Group status code: 0 OK, 1 WARN, 2 STALL, 3 STOP, 4 REWIND, 5 ERR.")
			put("eagle_consumergroup_status_code", float64(status.Severity(g.Status)), lg...)
		}
		for _, z := range sn.ZK {
			head("eagle_zookeeper_up", "gauge", "1 if the ZooKeeper server answers srvr.")
			put("eagle_zookeeper_up", b2f(z.Up), "cluster", c.alias, "server", z.Addr)
		}
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	for _, name := range order {
		_, _ = w.Write([]byte(families[name].head))
		_, _ = w.Write([]byte(families[name].body.String()))
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func escapeLabel(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}
