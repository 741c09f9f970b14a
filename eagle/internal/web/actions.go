package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/go-zookeeper/zk"
	"golang.org/x/crypto/bcrypt"

	"mqstack/eagle/internal/alert"
	"mqstack/eagle/internal/collect"
	"mqstack/eagle/internal/model"
	"mqstack/eagle/internal/store"
	"mqstack/proto/kafkazk"
)

// Every change is a POST with the session's CSRF token and goes through a
// confirmation step: without confirm=yes the handler answers with what it
// would do (a page with a Confirm button, or 409 in JSON) and changes
// nothing. Done changes are written to the audit log.

// confirmed reports whether the form confirms; otherwise it shows the
// confirmation page listing what would happen.
func (s *Server) confirmed(w http.ResponseWriter, r *http.Request, title string, lines []string, table [][]string) bool {
	if r.FormValue("confirm") == "yes" {
		return true
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusConflict, map[string]any{"error": "not done: repeat the request with confirm=yes", "would": lines, "preview": table})
		return false
	}
	var fields []kv
	for k, vs := range r.PostForm {
		if k == "csrf" || k == "confirm" {
			continue
		}
		for _, v := range vs {
			fields = append(fields, kv{k, v})
		}
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].K < fields[j].K })
	s.render(w, r, "confirm", map[string]any{"Title": title, "Lines": lines, "Table": table, "Action": r.URL.RequestURI(), "Fields": fields})
	return false
}

func (s *Server) audit(r *http.Request, action, detail string) {
	if err := s.store.Audit(r.Context(), sessionOf(r).User, action, detail); err != nil {
		s.log.Error().Err(err).Str("action", action).Msg("audit log write failed")
	}
	s.log.Info().Str("user", sessionOf(r).User).Str("action", action).Msg(detail)
}

func (s *Server) admin(c *cluster) (sarama.ClusterAdmin, error) {
	client, err := c.coll.Client()
	if err != nil {
		return nil, err
	}
	// Not closed: closing an admin made from a client closes the client.
	return sarama.NewClusterAdminFromClient(client)
}

var legalTopic = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

func clusterQuery(c *cluster) string { return "?cluster=" + url.QueryEscape(c.alias) }

func topicURL(c *cluster, t string) string { return "/topics/" + url.PathEscape(t) + clusterQuery(c) }

// parseConfigs reads "key=value" lines.
func parseConfigs(text string) (map[string]string, error) {
	out := map[string]string{}
	for n, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("config line %d %q: want key=value", n+1, l)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

func (s *Server) createTopic(w http.ResponseWriter, r *http.Request) {
	c := s.clusterOrFail(w, r)
	if c == nil {
		return
	}
	name := strings.TrimSpace(r.FormValue("name"))
	parts, err1 := strconv.Atoi(r.FormValue("partitions"))
	rf, err2 := strconv.Atoi(r.FormValue("replication"))
	cfgs, err3 := parseConfigs(r.FormValue("configs"))
	switch {
	case !legalTopic.MatchString(name) || name == "." || name == "..":
		s.fail(w, r, http.StatusBadRequest, "topic name "+strconv.Quote(name)+": use 1-249 of a-z A-Z 0-9 . _ -")
		return
	case err1 != nil || parts < 1 || parts > 10000:
		s.fail(w, r, http.StatusBadRequest, "partitions: want a number from 1 to 10000")
		return
	case err2 != nil || rf < 1 || rf > 32:
		s.fail(w, r, http.StatusBadRequest, "replication: want a number from 1 to 32")
		return
	case err3 != nil:
		s.fail(w, r, http.StatusBadRequest, err3.Error())
		return
	}
	lines := []string{fmt.Sprintf("create topic %s in cluster %s with %d partitions, replication factor %d", name, c.alias, parts, rf)}
	for _, e := range sortKV(cfgs) {
		lines = append(lines, "config "+e.K+"="+e.V)
	}
	if !s.confirmed(w, r, "Create topic "+name, lines, nil) {
		return
	}
	adm, err := s.admin(c)
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, err.Error())
		return
	}
	entries := map[string]*string{}
	for k, v := range cfgs {
		entries[k] = &v
	}
	if err := adm.CreateTopic(name, &sarama.TopicDetail{NumPartitions: int32(parts), ReplicationFactor: int16(rf), ConfigEntries: entries}, false); err != nil {
		s.fail(w, r, http.StatusBadGateway, "create topic "+name+": "+err.Error())
		return
	}
	s.audit(r, "topic.create", fmt.Sprintf("cluster=%s topic=%s partitions=%d replication=%d configs=%v", c.alias, name, parts, rf, cfgs))
	s.refresh(c, 15*time.Second)
	s.flash(w, r, topicURL(c, name), "topic "+name+" created")
}

func (s *Server) addPartitions(w http.ResponseWriter, r *http.Request) {
	c, t, ok := s.currentTopic(w, r)
	if !ok {
		return
	}
	name := t.Name
	n, err := strconv.Atoi(r.FormValue("count"))
	if err != nil || n <= len(t.Partitions) || n > 10000 {
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("count: want a total above the current %d partitions (partitions can only be added)", len(t.Partitions)))
		return
	}
	if !s.confirmed(w, r, "Add partitions to "+name, []string{fmt.Sprintf("grow topic %s from %d to %d partitions (keyed records will map to other partitions)", name, len(t.Partitions), n)}, nil) {
		return
	}
	adm, err := s.admin(c)
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, err.Error())
		return
	}
	if err := adm.CreatePartitions(name, int32(n), nil, false); err != nil {
		s.fail(w, r, http.StatusBadGateway, "add partitions to "+name+": "+err.Error())
		return
	}
	s.audit(r, "topic.partitions", fmt.Sprintf("cluster=%s topic=%s from=%d to=%d", c.alias, name, len(t.Partitions), n))
	s.refresh(c, 15*time.Second)
	s.flash(w, r, topicURL(c, name), fmt.Sprintf("topic %s now has %d partitions", name, n))
}

// alterConfig writes the topic's overrides the way kafka-configs.sh
// --zookeeper does (Kafka 2.8 in ZooKeeper mode): /config/topics/<t> and a
// /config/changes/config_change_ notification. brokerd serves no
// AlterConfigs yet; brokerd and Kafka both pick the change up from there.
func (s *Server) alterConfig(w http.ResponseWriter, r *http.Request) {
	c, t, ok := s.currentTopic(w, r)
	if !ok {
		return
	}
	name := t.Name
	cfgs, err := parseConfigs(r.FormValue("configs"))
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	var lines []string
	for _, e := range sortKV(cfgs) {
		lines = append(lines, "set "+e.K+"="+e.V)
	}
	if len(cfgs) == 0 {
		lines = append(lines, "remove every override (back to the broker defaults)")
	}
	if !s.confirmed(w, r, "Alter configs of "+name, lines, nil) {
		return
	}
	conn, chroot, err := c.coll.ZK()
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, err.Error())
		return
	}
	p := path.Join("/", chroot, kafkazk.TopicConfigPath(name))
	data := kafkazk.EncodeTopicConfig(cfgs)
	if _, err := conn.Set(p, data, -1); err == zk.ErrNoNode {
		_, err = conn.Create(p, data, 0, zk.WorldACL(zk.PermAll))
		if err != nil {
			s.fail(w, r, http.StatusBadGateway, "create "+p+": "+err.Error())
			return
		}
	} else if err != nil {
		s.fail(w, r, http.StatusBadGateway, "set "+p+": "+err.Error())
		return
	}
	change := path.Join("/", chroot, kafkazk.ConfigChangesPath, kafkazk.ConfigChangePrefix)
	if _, err := conn.Create(change, kafkazk.EncodeConfigChange(name), zk.FlagSequence, zk.WorldACL(zk.PermAll)); err != nil {
		s.fail(w, r, http.StatusBadGateway, "config written but change notification failed: "+err.Error())
		return
	}
	s.audit(r, "topic.config", fmt.Sprintf("cluster=%s topic=%s configs=%v", c.alias, name, cfgs))
	s.flash(w, r, topicURL(c, name), "configs of "+name+" updated")
}

func (s *Server) deleteTopic(w http.ResponseWriter, r *http.Request) {
	c := s.clusterOrFail(w, r)
	if c == nil {
		return
	}
	name := r.PathValue("topic")
	if r.FormValue("token") != s.cfg.TopicToken {
		s.fail(w, r, http.StatusForbidden, "wrong topic token: deleting a topic needs the token set as efak.topic.token in "+s.cfg.Path)
		return
	}
	if !s.confirmed(w, r, "Delete topic "+name, []string{"delete topic " + name + " of cluster " + c.alias + " and all its data; this cannot be undone"}, nil) {
		return
	}
	adm, err := s.admin(c)
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, err.Error())
		return
	}
	if err := adm.DeleteTopic(name); err != nil {
		s.fail(w, r, http.StatusBadGateway, "delete topic "+name+": "+err.Error())
		return
	}
	s.audit(r, "topic.delete", fmt.Sprintf("cluster=%s topic=%s", c.alias, name))
	s.refresh(c, 15*time.Second)
	s.flash(w, r, "/topics"+clusterQuery(c), "topic "+name+" deleted")
}

// Message is one record in the browser.
type Message struct {
	Partition int32             `json:"partition"`
	Offset    int64             `json:"offset"`
	Time      time.Time         `json:"timestamp"`
	Key       string            `json:"key"`
	Value     string            `json:"value"`
	Headers   map[string]string `json:"headers,omitempty"`
}

// messages is the browser: seek by offset, time or from the end; filter by
// key and value substrings (scanning at most scanLimit records).
func (s *Server) messages(w http.ResponseWriter, r *http.Request) {
	c, t, ok := s.currentTopic(w, r)
	if !ok {
		return
	}
	name := t.Name
	q := r.URL.Query()
	form := map[string]string{"partition": q.Get("partition"), "seek": q.Get("seek"), "offset": q.Get("offset"),
		"time": q.Get("time"), "limit": q.Get("limit"), "key": q.Get("key"), "value": q.Get("value")}
	if form["seek"] == "" {
		form["seek"] = "latest"
	}
	limit, err := strconv.Atoi(form["limit"])
	if err != nil || limit < 1 {
		limit = 20
	}
	limit = min(limit, 500)
	form["limit"] = strconv.Itoa(limit)
	out := map[string]any{"Topic": name, "Partitions": len(t.Partitions), "Form": form}
	msgs, scanned, err := s.browse(r.Context(), c, t.Name, t.Partitions, form, limit)
	if err != nil {
		out["Error"] = err.Error()
	}
	out["Messages"], out["Scanned"] = msgs, scanned
	s.render(w, r, "messages", out)
}

const scanLimit = 20000

func (s *Server) browse(ctx context.Context, c *cluster, topic string, parts []model.Partition, form map[string]string, limit int) ([]Message, int, error) {
	client, err := c.coll.Client()
	if err != nil {
		return nil, 0, err
	}
	var which []model.Partition
	if form["partition"] == "" || form["partition"] == "all" {
		which = parts
	} else {
		p, err := strconv.Atoi(form["partition"])
		if err != nil || p < 0 || p >= len(parts) {
			return nil, 0, fmt.Errorf("partition %q: want 0..%d or all", form["partition"], len(parts)-1)
		}
		which = []model.Partition{parts[p]}
	}
	filtering := form["key"] != "" || form["value"] != ""
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return nil, 0, err
	}
	defer consumer.Close()
	var out []Message
	scanned := 0
	for _, p := range which {
		if p.Leader < 0 {
			continue
		}
		// Live offsets: the last pass may be older than the newest records.
		if end, err := client.GetOffset(topic, p.ID, sarama.OffsetNewest); err == nil {
			p.End = end
		}
		if first, err := client.GetOffset(topic, p.ID, sarama.OffsetOldest); err == nil {
			p.Start = first
		}
		if p.End < 0 || p.Start < 0 {
			continue
		}
		start := p.Start
		switch form["seek"] {
		case "earliest":
		case "offset":
			o, err := strconv.ParseInt(form["offset"], 10, 64)
			if err != nil {
				return nil, 0, fmt.Errorf("offset %q: want a number", form["offset"])
			}
			start = max(p.Start, min(o, p.End))
		case "time":
			ts, err := parseTime(form["time"])
			if err != nil {
				return nil, 0, err
			}
			o, err := client.GetOffset(topic, p.ID, ts.UnixMilli())
			if err != nil {
				return nil, 0, fmt.Errorf("offset for time on partition %d: %w", p.ID, err)
			}
			if o < 0 { // no record at or after that time
				o = p.End
			}
			start = max(o, p.Start)
		default: // latest: the last `limit` records, or the last scanLimit when searching
			window := int64(limit)
			if filtering {
				window = int64(scanLimit / len(which))
			}
			start = max(p.Start, p.End-window)
		}
		if start >= p.End {
			continue
		}
		pc, err := consumer.ConsumePartition(topic, p.ID, start)
		if err != nil {
			return out, scanned, fmt.Errorf("partition %d from %d: %w", p.ID, start, err)
		}
		got := 0
		timer := time.NewTimer(5 * time.Second)
	read:
		for got < limit && scanned < scanLimit {
			select {
			case m, ok := <-pc.Messages():
				if !ok {
					break read
				}
				scanned++
				msg := Message{Partition: m.Partition, Offset: m.Offset, Time: m.Timestamp, Key: string(m.Key), Value: string(m.Value)}
				for _, h := range m.Headers {
					if msg.Headers == nil {
						msg.Headers = map[string]string{}
					}
					msg.Headers[string(h.Key)] = string(h.Value)
				}
				if !filtering || (strings.Contains(msg.Key, form["key"]) && strings.Contains(msg.Value, form["value"])) {
					out = append(out, msg)
					got++
				}
				if m.Offset+1 >= p.End {
					break read
				}
			case <-timer.C:
				break read
			case <-ctx.Done():
				break read
			}
		}
		timer.Stop()
		_ = pc.Close()
		if latest := form["seek"] == "latest"; !latest && len(out) >= limit {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.Before(out[j].Time)
		}
		return out[i].Offset < out[j].Offset
	})
	if len(out) > limit {
		if form["seek"] == "latest" {
			out = out[len(out)-limit:] // the newest across partitions
		} else {
			out = out[:limit]
		}
	}
	return out, scanned, nil
}

func parseTime(v string) (time.Time, error) {
	for _, l := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(l, strings.TrimSpace(v), time.UTC); err == nil {
			return t, nil
		}
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	return time.Time{}, fmt.Errorf("time %q: want 2006-01-02 15:04 (UTC), RFC 3339 or epoch milliseconds", v)
}

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request) {
	c, t, ok := s.currentTopic(w, r)
	if !ok {
		return
	}
	name := t.Name
	key, value := r.FormValue("key"), r.FormValue("value")
	headers, err := parseConfigs(r.FormValue("headers"))
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "headers: "+err.Error())
		return
	}
	part := int32(-1)
	if p := strings.TrimSpace(r.FormValue("partition")); p != "" && p != "any" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n >= len(t.Partitions) {
			s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("partition %q: want 0..%d or any", p, len(t.Partitions)-1))
			return
		}
		part = int32(n)
	}
	where := "the partitioner's choice"
	if part >= 0 {
		where = fmt.Sprintf("partition %d", part)
	}
	if !s.confirmed(w, r, "Send a message to "+name, []string{fmt.Sprintf("send key %q value %q (%d headers) to %s, %s", key, value, len(headers), name, where)}, nil) {
		return
	}
	client, err := c.coll.Client()
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, err.Error())
		return
	}
	prod, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, err.Error())
		return
	}
	defer prod.Close()
	msg := &sarama.ProducerMessage{Topic: name, Value: sarama.StringEncoder(value)}
	if key != "" {
		msg.Key = sarama.StringEncoder(key)
	}
	if part >= 0 {
		msg.Partition, msg.Metadata = part, collect.ManualPartition
	}
	for _, h := range sortKV(headers) {
		msg.Headers = append(msg.Headers, sarama.RecordHeader{Key: []byte(h.K), Value: []byte(h.V)})
	}
	p, off, err := prod.SendMessage(msg)
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, "send to "+name+": "+err.Error())
		return
	}
	s.audit(r, "topic.send", fmt.Sprintf("cluster=%s topic=%s partition=%d offset=%d key=%q", c.alias, name, p, off, key))
	s.flash(w, r, "/topics/"+url.PathEscape(name)+"/messages"+clusterQuery(c), fmt.Sprintf("sent to %s partition %d at offset %d", name, p, off))
}

// resetOffsets moves a group's committed offsets on one topic. The group
// must have no members (as kafka-consumer-groups.sh --reset-offsets
// demands); the preview is the confirmation step.
func (s *Server) resetOffsets(w http.ResponseWriter, r *http.Request) {
	c, v, ok := s.current(w, r)
	if !ok {
		return
	}
	id := r.PathValue("group")
	topic := r.FormValue("topic")
	strategy, value := r.FormValue("strategy"), strings.TrimSpace(r.FormValue("value"))
	t, ok := findTopic(v.Snap, topic)
	if !ok {
		s.fail(w, r, http.StatusNotFound, "no topic "+strconv.Quote(topic))
		return
	}
	committed := map[int32]int64{}
	for _, g := range v.Snap.Groups {
		if g.ID == id {
			if len(g.Members) > 0 {
				s.fail(w, r, http.StatusConflict, fmt.Sprintf("group %s has %d active members: stop its consumers first (offsets of a live group cannot be reset)", id, len(g.Members)))
				return
			}
			for _, o := range g.Offsets {
				if o.Topic == topic {
					committed[o.Partition] = o.Committed
				}
			}
		}
	}
	client, err := c.coll.Client()
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, err.Error())
		return
	}
	target := map[int32]int64{}
	for _, p := range t.Partitions {
		var n int64
		switch strategy {
		case "earliest":
			n = p.Start
		case "latest":
			n = p.End
		case "offset":
			o, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				s.fail(w, r, http.StatusBadRequest, "value: want an offset")
				return
			}
			n = o
		case "shift":
			d, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				s.fail(w, r, http.StatusBadRequest, "value: want a signed number of records to shift by")
				return
			}
			cur, ok := committed[p.ID]
			if !ok {
				cur = p.End
			}
			n = cur + d
		case "time":
			ts, err := parseTime(value)
			if err != nil {
				s.fail(w, r, http.StatusBadRequest, err.Error())
				return
			}
			n, err = client.GetOffset(topic, p.ID, ts.UnixMilli())
			if err != nil {
				s.fail(w, r, http.StatusBadGateway, err.Error())
				return
			}
			if n < 0 { // no record at or after that time: the end
				n = p.End
			}
		default:
			s.fail(w, r, http.StatusBadRequest, "strategy: want earliest, latest, offset, shift or time")
			return
		}
		target[p.ID] = max(p.Start, min(n, p.End))
	}
	table := [][]string{{"partition", "log start", "log end", "committed now", "new offset", "lag after"}}
	var ps []int32
	for p := range target {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	for _, p := range ps {
		part := t.Partitions[p]
		cur := "-"
		if o, ok := committed[p]; ok {
			cur = strconv.FormatInt(o, 10)
		}
		table = append(table, []string{strconv.Itoa(int(p)), strconv.FormatInt(part.Start, 10), strconv.FormatInt(part.End, 10), cur,
			strconv.FormatInt(target[p], 10), strconv.FormatInt(part.End-target[p], 10)})
	}
	if !s.confirmed(w, r, "Reset offsets of group "+id, []string{fmt.Sprintf("reset group %s on topic %s to %s %s", id, topic, strategy, value)}, table) {
		return
	}
	adm, err := s.admin(c)
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, err.Error())
		return
	}
	offs := map[string]map[int32]sarama.OffsetAndMetadata{topic: {}}
	for p, o := range target {
		offs[topic][p] = sarama.OffsetAndMetadata{Offset: o, LeaderEpoch: -1}
	}
	resp, err := adm.AlterConsumerGroupOffsets(id, offs, nil)
	if err == nil {
		for _, parts := range resp.Errors {
			for p, kerr := range parts {
				if kerr != sarama.ErrNoError {
					err = fmt.Errorf("partition %d: %w", p, kerr)
				}
			}
		}
	}
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, "reset offsets of "+id+": "+err.Error())
		return
	}
	s.audit(r, "group.reset", fmt.Sprintf("cluster=%s group=%s topic=%s strategy=%s value=%s offsets=%v", c.alias, id, topic, strategy, value, target))
	s.refresh(c, 15*time.Second)
	s.flash(w, r, "/groups/"+url.PathEscape(id)+clusterQuery(c), "offsets of "+id+" on "+topic+" reset")
}

func (s *Server) testAlert(w http.ResponseWriter, r *http.Request) {
	n := alert.Notification{Time: time.Now(), Cluster: "-", Key: "test", Kind: "test", Level: "green", State: "test",
		Text: "test notification sent from eagle by " + sessionOf(r).User}
	if c := s.clusterOf(r); c != nil {
		n.Cluster = c.alias
	}
	res := s.channels.Send(r.Context(), n)
	_ = s.store.AddAlert(r.Context(), store.AlertEntry{Time: n.Time, Cluster: n.Cluster, Key: n.Key, Kind: n.Kind, Level: n.Level, State: n.State, Text: n.Text, Delivery: res})
	s.audit(r, "alert.test", res)
	s.flash(w, r, "/alerts", "test notification: "+res)
}

func (s *Server) saveUser(w http.ResponseWriter, r *http.Request) {
	name, role, pw := strings.TrimSpace(r.FormValue("name")), r.FormValue("role"), r.FormValue("password")
	if !regexp.MustCompile(`^[a-zA-Z0-9._@-]{1,64}$`).MatchString(name) {
		s.fail(w, r, http.StatusBadRequest, "user name: 1-64 of a-z A-Z 0-9 . _ @ -")
		return
	}
	if roleRank(role) == 0 {
		s.fail(w, r, http.StatusBadRequest, "role: want viewer, operator or admin")
		return
	}
	if len(pw) < 8 {
		s.fail(w, r, http.StatusBadRequest, "password: at least 8 characters (the user must change it at first login)")
		return
	}
	if name == sessionOf(r).User && role != RoleAdmin {
		s.fail(w, r, http.StatusBadRequest, "you cannot take the admin role away from yourself")
		return
	}
	if !s.confirmed(w, r, "Save user "+name, []string{fmt.Sprintf("set user %s with role %s and a new password (to be changed at first login)", name, role)}, nil) {
		return
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	if err := s.store.PutUser(r.Context(), store.User{Name: name, Hash: string(h), Role: role, MustChange: true}); err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	s.sessions.dropUser(name)
	s.audit(r, "user.save", "user="+name+" role="+role)
	s.flash(w, r, "/users", "user "+name+" saved")
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	name := r.FormValue("name")
	if name == sessionOf(r).User {
		s.fail(w, r, http.StatusBadRequest, "you cannot delete yourself")
		return
	}
	if !s.confirmed(w, r, "Delete user "+name, []string{"delete user " + name}, nil) {
		return
	}
	if err := s.store.DeleteUser(r.Context(), name); err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	s.sessions.dropUser(name)
	s.audit(r, "user.delete", "user="+name)
	s.flash(w, r, "/users", "user "+name+" deleted")
}

// forgetBroker drops a broker that is no longer registered from the
// brokers remembered as seen (it was decommissioned on purpose).
func (s *Server) forgetBroker(w http.ResponseWriter, r *http.Request) {
	c, v, ok := s.current(w, r)
	if !ok {
		return
	}
	id64, err := strconv.ParseInt(r.PathValue("id"), 10, 32)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "broker id "+strconv.Quote(r.PathValue("id"))+" is not a number")
		return
	}
	id := int32(id64)
	for _, b := range v.Snap.Brokers {
		if b.ID == id && b.Registered {
			s.fail(w, r, http.StatusConflict, fmt.Sprintf("broker %d is registered in ZooKeeper: only a broker that is gone can be forgotten", id))
			return
		}
	}
	if !s.confirmed(w, r, fmt.Sprintf("Forget broker %d", id), []string{fmt.Sprintf("stop reporting broker %d of cluster %s as down (it was removed on purpose)", id, c.alias)}, nil) {
		return
	}
	c.coll.Forget(id)
	if err := s.store.ForgetBroker(r.Context(), c.alias, id); err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	s.audit(r, "broker.forget", fmt.Sprintf("cluster=%s broker=%d", c.alias, id))
	s.refresh(c, 15*time.Second)
	s.flash(w, r, "/brokers"+clusterQuery(c), fmt.Sprintf("broker %d forgotten", id))
}
