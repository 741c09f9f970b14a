// Package health turns a snapshot into one verdict with its reasons, the
// ZooKeeper quorum verdict and the cross-checks. Pure functions.
package health

import (
	"fmt"
	"sort"
	"strings"

	"mqstack/eagle/internal/model"
	"mqstack/eagle/internal/status"
)

// Levels, in increasing severity.
const (
	Green  = "green"
	Yellow = "yellow"
	Red    = "red"
)

func rank(l string) int {
	switch l {
	case Red:
		return 2
	case Yellow:
		return 1
	}
	return 0
}

// Reason is one finding. Key identifies it across passes (alerts use it).
type Reason struct {
	Level string `json:"level"`
	Kind  string `json:"kind"`
	Key   string `json:"key"`
	Text  string `json:"text"`
}

// Verdict is a cluster's health.
type Verdict struct {
	Level   string   `json:"level"`
	Reasons []Reason `json:"reasons"`
}

func (v *Verdict) add(level, kind, key, format string, args ...any) {
	v.Reasons = append(v.Reasons, Reason{Level: level, Kind: kind, Key: kind + ":" + key, Text: fmt.Sprintf(format, args...)})
	if rank(level) > rank(v.Level) {
		v.Level = level
	}
}

// Quorum is the ZooKeeper ensemble verdict.
type Quorum struct {
	Level   string `json:"level"`
	Text    string `json:"text"`
	Leader  string `json:"leader"` // address of the server in leader (or standalone) mode
	Serving int    `json:"serving"`
	Total   int    `json:"total"`
}

// ZKQuorum judges the servers of the connect string. Servers whose srvr is
// refused by the whitelist count as serving when they answer at all.
func ZKQuorum(servers []model.ZKServer) Quorum {
	q := Quorum{Total: len(servers), Level: Green}
	unknown := 0
	leaders := 0
	for _, z := range servers {
		if !z.Up {
			continue
		}
		if z.Srvr == nil {
			unknown++
			continue
		}
		switch z.Srvr.Mode {
		case "leader", "standalone":
			leaders++
			q.Leader = z.Addr
			q.Serving++
		case "follower", "observer", "read-only":
			q.Serving++
		}
	}
	majority := q.Total/2 + 1
	switch {
	case q.Total == 0:
		q.Level, q.Text = Red, "no ZooKeeper server configured"
	case q.Serving+unknown == 0:
		q.Level, q.Text = Red, fmt.Sprintf("no ZooKeeper server of %d answers", q.Total)
	case unknown > 0 && q.Serving == 0:
		q.Level, q.Text = Yellow, fmt.Sprintf("%d of %d servers answer but refuse srvr (4lw.commands.whitelist): quorum cannot be judged", unknown, q.Total)
	case leaders == 0 && unknown == 0:
		q.Level, q.Text = Red, fmt.Sprintf("no leader among %d serving servers: quorum lost or election running", q.Serving)
	case leaders > 1:
		q.Level, q.Text = Red, fmt.Sprintf("%d servers claim to lead: split brain or servers of different ensembles in one connect string", leaders)
	case q.Serving+unknown < majority:
		q.Level, q.Text = Red, fmt.Sprintf("%d of %d servers serving, a majority needs %d", q.Serving, q.Total, majority)
	case q.Serving+unknown < q.Total:
		q.Level, q.Text = Yellow, fmt.Sprintf("%d of %d servers serving (quorum holds; one more loss may break it)", q.Serving, q.Total)
	default:
		q.Text = fmt.Sprintf("%d of %d servers serving, leader %s", q.Serving, q.Total, q.Leader)
		if q.Total == 1 {
			q.Text = "standalone server serving"
		}
	}
	return q
}

// Evaluate judges a snapshot. Reasons come sorted, worst first.
func Evaluate(s *model.Snapshot) Verdict {
	v := Verdict{Level: Green}
	if s.ZKError != "" {
		v.add(Red, "zk-session", s.Cluster, "ZooKeeper session: %s", s.ZKError)
	}
	q := ZKQuorum(s.ZK)
	if q.Level != Green {
		v.add(q.Level, "zk-quorum", s.Cluster, "ZooKeeper: %s", q.Text)
	}
	for _, z := range s.ZK {
		if !z.Up {
			v.add(Yellow, "zk-down", z.Addr, "ZooKeeper server %s does not answer: %s", z.Addr, z.Error)
		} else if z.SrvrNotWhitelist || z.MntrNotWhitelist {
			v.add(Yellow, "zk-whitelist", z.Addr, "ZooKeeper server %s refuses %s: not in its 4lw.commands.whitelist", z.Addr, notWhitelisted(z))
		}
	}
	if s.KafkaError != "" {
		v.add(Red, "kafka", s.Cluster, "Kafka: %s", s.KafkaError)
	}
	for _, b := range s.Brokers {
		switch {
		case !b.Registered:
			v.add(Red, "broker-down", fmt.Sprint(b.ID), "broker %d is down: %s", b.ID, b.Error)
		case !b.Reachable:
			v.add(Red, "broker-down", fmt.Sprint(b.ID), "broker %d is registered but unreachable: %s", b.ID, b.Error)
		}
	}
	if s.ZKError == "" && s.ZkController < 0 && len(s.Brokers) > 0 {
		v.add(Red, "controller", s.Cluster, "no controller: /controller is missing")
	}
	offline, under := 0, 0
	var offlineEx, underEx []string
	for _, t := range s.Topics {
		for _, p := range t.Partitions {
			if p.Leader < 0 {
				offline++
				if len(offlineEx) < 5 {
					offlineEx = append(offlineEx, fmt.Sprintf("%s-%d", t.Name, p.ID))
				}
			} else if p.UnderReplicated() {
				under++
				if len(underEx) < 5 {
					underEx = append(underEx, fmt.Sprintf("%s-%d", t.Name, p.ID))
				}
			}
		}
	}
	if offline > 0 {
		v.add(Red, "offline", s.Cluster, "%d partitions have no leader (offline): %s", offline, examples(offlineEx, offline))
	}
	if under > 0 {
		v.add(Yellow, "under-replicated", s.Cluster, "%d partitions are under-replicated: %s", under, examples(underEx, under))
	}
	for _, c := range CrossChecks(s) {
		if c.Kind == "unreachable" {
			continue // reported above as broker-down
		}
		v.add(Yellow, c.Kind, c.Key, "%s", c.Text)
	}
	for _, g := range s.Groups {
		if status.Severity(g.Status) >= status.Severity(status.Warn) {
			v.add(Yellow, "group", g.ID, "group %s is %s: %s", g.ID, g.Status, g.StatusReason)
		}
	}
	sort.SliceStable(v.Reasons, func(i, j int) bool { return rank(v.Reasons[i].Level) > rank(v.Reasons[j].Level) })
	return v
}

func notWhitelisted(z model.ZKServer) string {
	var w []string
	if z.SrvrNotWhitelist {
		w = append(w, "srvr")
	}
	if z.MntrNotWhitelist {
		w = append(w, "mntr")
	}
	return strings.Join(w, " and ")
}

func examples(ex []string, n int) string {
	s := strings.Join(ex, ", ")
	if n > len(ex) {
		s += fmt.Sprintf(" and %d more", n-len(ex))
	}
	return s
}

// Check is a cross-check finding.
type Check struct {
	Kind string `json:"kind"`
	Key  string `json:"key"`
	Text string `json:"text"`
}

// CrossChecks compares ZooKeeper's view with the brokers' views.
func CrossChecks(s *model.Snapshot) []Check {
	var out []Check
	for _, b := range s.Brokers {
		if b.Registered && !b.Reachable {
			out = append(out, Check{"unreachable", fmt.Sprint(b.ID), fmt.Sprintf("broker %d is registered in ZooKeeper at %s:%d but does not answer", b.ID, b.Host, b.Port)})
		}
		if b.Registered && b.Reachable && s.KafkaError == "" && !b.InMetadata {
			out = append(out, Check{"not-in-metadata", fmt.Sprint(b.ID), fmt.Sprintf("broker %d is registered but missing from the cluster metadata", b.ID)})
		}
	}
	ids := make([]int32, 0, len(s.MetaController))
	for id := range s.MetaController {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var disagree []string
	for _, id := range ids {
		if c := s.MetaController[id]; s.ZkController >= 0 && c != s.ZkController {
			disagree = append(disagree, fmt.Sprintf("broker %d sees controller %d", id, c))
		}
	}
	if len(disagree) > 0 {
		out = append(out, Check{"controller-disagreement", s.Cluster, fmt.Sprintf("/controller names broker %d but %s", s.ZkController, strings.Join(disagree, ", "))})
	}
	for _, t := range s.PendingDeletes {
		out = append(out, Check{"pending-delete", t, fmt.Sprintf("topic %s is marked for deletion (/admin/delete_topics/%s) and not deleted yet", t, t)})
	}
	for _, p := range s.PendingReassign {
		out = append(out, Check{"pending-reassign", p, fmt.Sprintf("partition %s has a reassignment pending in /admin/reassign_partitions", p)})
	}
	if s.KafkaError == "" && s.ZKError == "" {
		inMeta := map[string]bool{}
		for _, t := range s.Topics {
			inMeta[t.Name] = true
		}
		deleting := map[string]bool{}
		for _, t := range s.PendingDeletes {
			deleting[t] = true
		}
		for _, t := range s.ZKTopics {
			if !inMeta[t] && !deleting[t] {
				out = append(out, Check{"zk-topic-missing", t, fmt.Sprintf("topic %s is in ZooKeeper (/brokers/topics/%s) but not in the brokers' metadata", t, t)})
			}
		}
	}
	return out
}
