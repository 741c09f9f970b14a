// Package alert decides when to notify (a pure state machine stepped once
// per collection pass with the pass's time) and delivers notifications to
// a JSON webhook and by SMTP.
//
// Rules: every red or yellow health reason of kinds broker-down, zk-quorum,
// zk-session, zk-down, kafka, controller, offline and under-replicated
// fires at once; group (status WARN or worse) fires after it held for
// GroupFor; topic-size fires when a topic exceeds TopicSize bytes; a
// ZooKeeper leader change is a one-off event. A firing alert is repeated
// every Repeat while it holds (never more often), and a "resolved" notice
// goes out once when it clears.
package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/smtp"
	"sort"
	"strings"
	"time"

	"mqstack/eagle/internal/health"
	"mqstack/eagle/internal/model"
)

// Condition is something wrong now.
type Condition struct {
	Key, Kind, Level, Text string
}

// Notification is one message to send.
type Notification struct {
	Time    time.Time `json:"time"`
	Cluster string    `json:"cluster"`
	Key     string    `json:"key"`
	Kind    string    `json:"kind"`
	Level   string    `json:"level"`
	State   string    `json:"state"` // firing, repeat, resolved, event, test
	Text    string    `json:"text"`
}

var alertKinds = map[string]bool{
	"broker-down": true, "zk-quorum": true, "zk-session": true, "zk-down": true, "kafka": true,
	"controller": true, "offline": true, "under-replicated": true, "group": true,
}

// Conditions picks the alerting conditions of a pass.
func Conditions(s *model.Snapshot, v health.Verdict, topicSize int64) []Condition {
	var out []Condition
	for _, r := range v.Reasons {
		if alertKinds[r.Kind] {
			out = append(out, Condition{Key: r.Key, Kind: r.Kind, Level: r.Level, Text: r.Text})
		}
	}
	if topicSize > 0 {
		for _, t := range s.Topics {
			if t.Size > topicSize {
				out = append(out, Condition{Key: "topic-size:" + t.Name, Kind: "topic-size", Level: health.Yellow,
					Text: fmt.Sprintf("topic %s holds %d bytes, above the %d byte limit", t.Name, t.Size, topicSize)})
			}
		}
	}
	return out
}

// Rules are the timing rules.
type Rules struct {
	Repeat   time.Duration // minimum time between two notices of one alert
	GroupFor time.Duration // a group must be WARN or worse this long
}

type state struct {
	cond      Condition
	since     time.Time
	lastSent  time.Time
	announced bool
}

// Manager holds the alerts of one cluster. Owned by one goroutine.
type Manager struct {
	cluster string
	rules   Rules
	active  map[string]*state
	leader  string
}

// NewManager returns a manager for a cluster.
func NewManager(cluster string, r Rules) *Manager {
	return &Manager{cluster: cluster, rules: r, active: map[string]*state{}}
}

// Step takes the pass's conditions and the ZooKeeper leader address and
// returns what to send.
func (m *Manager) Step(now time.Time, conds []Condition, zkLeader string) []Notification {
	var out []Notification
	note := func(c Condition, st string) {
		out = append(out, Notification{Time: now, Cluster: m.cluster, Key: c.Key, Kind: c.Kind, Level: c.Level, State: st, Text: c.Text})
	}
	if zkLeader != "" {
		if m.leader != "" && m.leader != zkLeader {
			note(Condition{Key: "zk-leader:" + m.cluster, Kind: "zk-leader-change", Level: health.Yellow,
				Text: fmt.Sprintf("ZooKeeper leader changed from %s to %s", m.leader, zkLeader)}, "event")
		}
		m.leader = zkLeader
	}
	now0 := map[string]bool{}
	for _, c := range conds {
		now0[c.Key] = true
		st, ok := m.active[c.Key]
		if !ok {
			st = &state{cond: c, since: now}
			m.active[c.Key] = st
		}
		st.cond = c
		hold := time.Duration(0)
		if c.Kind == "group" {
			hold = m.rules.GroupFor
		}
		switch {
		case !st.announced && now.Sub(st.since) >= hold:
			st.announced, st.lastSent = true, now
			note(c, "firing")
		case st.announced && m.rules.Repeat > 0 && now.Sub(st.lastSent) >= m.rules.Repeat:
			st.lastSent = now
			note(c, "repeat")
		}
	}
	keys := make([]string, 0, len(m.active))
	for k := range m.active {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if now0[k] {
			continue
		}
		st := m.active[k]
		delete(m.active, k)
		if st.announced {
			c := st.cond
			c.Level = health.Green
			c.Text = "resolved: " + st.cond.Text
			note(c, "resolved")
		}
	}
	return out
}

// Firing lists the conditions announced and still holding.
func (m *Manager) Firing() []Condition {
	var out []Condition
	for _, st := range m.active {
		if st.announced {
			out = append(out, st.cond)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Channels deliver notifications.
type Channels struct {
	Webhook  string
	SMTPAddr string
	From     string
	To       []string
	HTTP     *http.Client
}

// Configured reports whether any channel is set.
func (c Channels) Configured() bool { return c.Webhook != "" || c.SMTPAddr != "" }

// Send delivers n on every channel and describes the outcome.
func (c Channels) Send(ctx context.Context, n Notification) string {
	var res []string
	if c.Webhook != "" {
		if err := c.webhook(ctx, n); err != nil {
			res = append(res, "webhook: "+err.Error())
		} else {
			res = append(res, "webhook: delivered")
		}
	}
	if c.SMTPAddr != "" {
		if err := c.mail(n); err != nil {
			res = append(res, "smtp: "+err.Error())
		} else {
			res = append(res, "smtp: delivered")
		}
	}
	if len(res) == 0 {
		return "no channel configured (eagle.alert.webhook, eagle.alert.smtp.*)"
	}
	return strings.Join(res, "; ")
}

func (c Channels) webhook(ctx context.Context, n Notification) error {
	body, _ := json.Marshal(n)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Webhook, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", c.Webhook, resp.Status)
	}
	return nil
}

func (c Channels) mail(n Notification) error {
	from := c.From
	if from == "" {
		from = "eagle@localhost"
	}
	subject := fmt.Sprintf("[eagle %s] %s %s: %s", n.Cluster, strings.ToUpper(n.Level), n.State, n.Kind)
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", from, strings.Join(c.To, ", "), subject)
	fmt.Fprintf(&b, "%s\r\n\r\ncluster: %s\r\nalert: %s\r\nstate: %s\r\ntime: %s\r\n", n.Text, n.Cluster, n.Key, n.State, n.Time.UTC().Format(time.RFC3339))
	return smtp.SendMail(c.SMTPAddr, nil, from, c.To, []byte(b.String()))
}
