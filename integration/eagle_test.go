package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// webhookSink is a local receiver for eagle's alert webhook.
type webhookSink struct {
	mu    sync.Mutex
	notes []map[string]any
	srv   *httptest.Server
}

func newWebhookSink(t *testing.T) *webhookSink {
	w := &webhookSink{}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var n map[string]any
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(rw, err.Error(), 400)
			return
		}
		w.mu.Lock()
		w.notes = append(w.notes, n)
		w.mu.Unlock()
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *webhookSink) find(pred func(map[string]any) bool) map[string]any {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range w.notes {
		if pred(n) {
			return n
		}
	}
	return nil
}

// eventually polls f until it returns "" or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, what string, f func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		if last = f(); last == "" {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s: %s", what, timeout, last)
}

func getJSON(t *testing.T, s *eagleSession, path string, into any) int {
	t.Helper()
	code, body, hdr := s.get(path, "Accept", "application/json")
	if code == http.StatusOK {
		require.Contains(t, hdr.Get("Content-Type"), "application/json", path)
		require.NoError(t, json.Unmarshal([]byte(body), into), "%s: %s", path, body)
	}
	return code
}

// eagle against real zkd and brokerd processes: login, every page and its
// JSON twin, a topic created through the UI (with its confirmation step),
// lag equal to what franz-go's kadm computes, the kafka_exporter metrics,
// the message browser, a stopped group alerting and its recovery notice
// after an offset reset, then a broker killed: the overview turns red
// naming it and the webhook receives the alert.
func TestEagleLive(t *testing.T) {
	zks := StartServer(t, kindZkd, ServerOptions{})
	connect := zks.Addr() + "/eagle"
	b1 := startBrokerd(t, 1, connect, "num.partitions=2", "metrics.port=0")
	b2 := startBrokerd(t, 2, connect, "num.partitions=2", "metrics.port=0")
	hook := newWebhookSink(t)
	e := startEagle(t, fmt.Sprintf(`efak.zk.cluster.alias=cluster1
cluster1.zk.list=%s
eagle.collect.interval=1s
eagle.admin.password=eagle-admin-1
eagle.alert.webhook=%s
eagle.alert.group.warn=2s
efak.topic.token=tok123
`, connect, hook.srv.URL))

	// Health endpoints answer without a login.
	resp, err := http.Get(e.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	eventually(t, 30*time.Second, "readyz", func() string {
		resp, err := http.Get(e.URL + "/readyz")
		if err != nil {
			return err.Error()
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return resp.Status
		}
		return ""
	})

	// Pages need a login; a wrong password is refused.
	resp, err = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(e.URL + "/topics")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Location"), "/login")
	resp, err = http.PostForm(e.URL+"/login", url.Values{"user": {"admin"}, "password": {"wrong-password"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	s := eagleLogin(t, e.URL, "admin", "eagle-admin-1")
	token := s.csrf()

	// A POST without the CSRF token is refused.
	code, _, _ := s.post("/topics", url.Values{"name": {"orders"}, "partitions": {"4"}, "replication": {"1"}, "confirm": {"yes"}})
	require.Equal(t, http.StatusForbidden, code)
	// Without confirm=yes the change is only previewed.
	code, body, _ := s.post("/topics", url.Values{"csrf": {token}, "name": {"orders"}, "partitions": {"4"}, "replication": {"1"}})
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "Nothing has changed yet")
	require.Contains(t, body, "4 partitions")
	cl, err := kgo.NewClient(kgo.SeedBrokers(b1.Addr, b2.Addr))
	require.NoError(t, err)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topics, err := adm.ListTopics(ctx)
	require.NoError(t, err)
	require.False(t, topics.Has("orders"), "the preview must not create the topic")
	code, _, hdr := s.post("/topics", url.Values{"csrf": {token}, "name": {"orders"}, "partitions": {"4"}, "replication": {"1"}, "confirm": {"yes"}})
	require.Equal(t, http.StatusSeeOther, code)
	require.Contains(t, hdr.Get("Location"), "/topics/orders")
	topics, err = adm.ListTopics(ctx, "orders")
	require.NoError(t, err)
	require.Len(t, topics["orders"].Partitions, 4)

	// 200 records, then a group reads 120 of them and commits.
	for i := range 200 {
		r := &kgo.Record{Topic: "orders", Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(fmt.Sprintf("order-%d", i))}
		require.NoError(t, cl.ProduceSync(ctx, r).FirstErr())
	}
	consumer, err := kgo.NewClient(kgo.SeedBrokers(b1.Addr), kgo.ConsumerGroup("billing"), kgo.ConsumeTopics("orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	require.NoError(t, err)
	read := 0
	for read < 120 {
		fs := consumer.PollRecords(ctx, 120-read)
		require.NoError(t, fs.Err())
		read += fs.NumRecords()
		require.NoError(t, consumer.CommitUncommittedOffsets(ctx))
	}
	consumer.Close() // leaves the group: Empty, with its commits

	// What a client computes: kadm's lag (committed vs end offsets). kadm
	// also counts partitions the group never committed (as end - start);
	// eagle, like kafka-consumer-groups.sh for a group without members and
	// kafka_exporter, shows the partitions with commits, so those are
	// compared.
	lags, err := adm.Lag(ctx, "billing")
	require.NoError(t, err)
	want := map[int32]int64{}
	var wantSum int64
	billing := lags["billing"]
	require.NoError(t, billing.Error())
	for _, l := range billing.Lag.Sorted() {
		require.NoError(t, l.Err)
		if l.Commit.At < 0 {
			continue
		}
		want[l.Partition] = l.Lag
		wantSum += l.Lag
	}
	require.Positive(t, wantSum)
	require.GreaterOrEqual(t, len(want), 2)

	// eagle's group page converges on the same numbers.
	type groupJSON struct {
		Group struct {
			ID      string
			State   string
			Offsets []struct {
				Topic     string
				Partition int32
				Committed int64
				End       int64
				Lag       int64
			}
		}
		Lag int64
	}
	var g groupJSON
	eventually(t, 30*time.Second, "eagle's lag for billing", func() string {
		if code := getJSON(t, s, "/groups/billing", &g); code != 200 {
			return fmt.Sprint("status ", code)
		}
		got := map[int32]int64{}
		for _, o := range g.Group.Offsets {
			got[o.Partition] = o.Lag
		}
		if g.Lag != wantSum || fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Sprintf("eagle %v (sum %d), kadm %v (sum %d)", got, g.Lag, want, wantSum)
		}
		return ""
	})
	for _, o := range g.Group.Offsets {
		assert.GreaterOrEqual(t, o.Lag, int64(0))
		assert.Equal(t, o.End-o.Committed, o.Lag)
	}

	// kafka_exporter's names on /metrics carry the same lag.
	resp, err = http.Get(e.URL + "/metrics")
	require.NoError(t, err)
	var mb strings.Builder
	_, _ = fmt.Fprint(&mb, readAll(t, resp))
	metrics := mb.String()
	for _, name := range []string{"kafka_brokers", "kafka_topic_partitions", "kafka_topic_partition_current_offset",
		"kafka_topic_partition_under_replicated_partition", "kafka_consumergroup_lag", "kafka_consumergroup_lag_sum"} {
		assert.Contains(t, metrics, "\n"+name+"{", name)
	}
	m := regexp.MustCompile(`kafka_consumergroup_lag_sum\{cluster="cluster1",consumergroup="billing",topic="orders"\} (\d+)`).FindStringSubmatch(metrics)
	require.NotNil(t, m, metrics)
	assert.Equal(t, strconv.FormatInt(wantSum, 10), m[1])
	assert.Contains(t, metrics, `kafka_brokers{cluster="cluster1"} 2`)

	// Every page and its JSON twin.
	pages := []struct{ path, html string }{
		{"/", "Cluster cluster1"}, {"/brokers", "<table id=\"brokers\""}, {"/topics", "orders"},
		{"/topics/orders", "<table id=\"partitions\""}, {"/topics/orders/messages?key=k42", "order-42"},
		{"/groups", "billing"}, {"/groups/billing", "id=\"group-lag\""}, {"/zookeeper", "standalone"},
		{"/zookeeper/tree", "brokers"}, {"/zookeeper/tree?path=/brokers/ids/1", "Kafka broker registration"},
		{"/zookeeper/tree?path=/brokers/topics/orders/partitions/0/state", "Kafka partition state"},
		{"/checks", "Cross-checks"}, {"/history", "<svg"}, {"/history?range=15d", "<svg"},
		{"/alerts", "Alerts"}, {"/audit", "topic.create"}, {"/users", "admin"},
	}
	for _, p := range pages {
		code, body, hdr := s.get(p.path)
		require.Equal(t, http.StatusOK, code, "%s: %s", p.path, body)
		assert.Contains(t, hdr.Get("Content-Type"), "text/html", p.path)
		assert.Contains(t, body, p.html, p.path)
		assert.NotContains(t, body, "http://cdn", p.path)
		sep := "?"
		if strings.Contains(p.path, "?") {
			sep = "&"
		}
		code, body, hdr = s.get(p.path + sep + "format=json")
		require.Equal(t, http.StatusOK, code, "%s json: %s", p.path, body)
		assert.Contains(t, hdr.Get("Content-Type"), "application/json", p.path)
		assert.True(t, json.Valid([]byte(body)), p.path)
	}
	// brokerd's process_* and app-info metrics fill the brokers page's
	// memory, CPU, version and uptime columns.
	var brokersPage struct {
		Brokers []struct {
			ID            int32
			ResidentBytes float64
			Version       string
			Uptime        string
		}
	}
	eventually(t, 30*time.Second, "broker memory and version on /brokers", func() string {
		getJSON(t, s, "/brokers", &brokersPage)
		for _, b := range brokersPage.Brokers {
			if b.ResidentBytes <= 0 || b.Version == "" || b.Version == "-" || strings.Contains(b.Uptime, "registration") {
				return fmt.Sprintf("%+v", brokersPage.Brokers)
			}
		}
		if len(brokersPage.Brokers) == 0 {
			return "no brokers"
		}
		return ""
	})
	var msgs struct{ Messages []struct{ Key, Value string } }
	require.Equal(t, 200, getJSON(t, s, "/topics/orders/messages?seek=earliest&key=k42&limit=5", &msgs))
	require.Len(t, msgs.Messages, 1)
	assert.Equal(t, "order-42", msgs.Messages[0].Value)

	// The group has stopped with lag: Burrow's STOP, and a yellow overview.
	var ov0 struct {
		Health struct {
			Level   string
			Reasons []struct{ Kind, Text string }
		}
	}
	eventually(t, 30*time.Second, "billing judged STOP", func() string {
		getJSON(t, s, "/", &ov0)
		if ov0.Health.Level == "yellow" && len(ov0.Health.Reasons) == 1 && strings.Contains(ov0.Health.Reasons[0].Text, "group billing is STOP") {
			return ""
		}
		return fmt.Sprintf("%+v", ov0.Health)
	})
	// Held for eagle.alert.group.warn, the group alert fires.
	eventually(t, 30*time.Second, "the group alert", func() string {
		if hook.find(func(n map[string]any) bool {
			return n["kind"] == "group" && n["state"] == "firing" && n["key"] == "group:billing"
		}) == nil {
			return "not yet"
		}
		return ""
	})

	// Reset it to the end: a preview first, then the reset; lag drops to 0.
	code, body, _ = s.post("/groups/billing/reset", url.Values{"csrf": {token}, "topic": {"orders"}, "strategy": {"latest"}})
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "new offset")
	code, body, _ = s.post("/groups/billing/reset", url.Values{"csrf": {token}, "topic": {"orders"}, "strategy": {"latest"}, "confirm": {"yes"}})
	require.Equal(t, http.StatusSeeOther, code, body)
	lags, err = adm.Lag(ctx, "billing")
	require.NoError(t, err)
	billing = lags["billing"]
	require.NoError(t, billing.Error())
	assert.Zero(t, billing.Lag.Total(), "kadm sees the group at the end after the reset")

	// Healthy now.
	type overviewJSON struct {
		Health struct {
			Level   string
			Reasons []struct{ Level, Kind, Text string }
		}
		Counts struct{ Brokers, BrokersUp, Topics, Partitions, Groups int }
	}
	var ov overviewJSON
	eventually(t, 30*time.Second, "a green overview", func() string {
		if code := getJSON(t, s, "/", &ov); code != 200 {
			return fmt.Sprint(code)
		}
		if ov.Health.Level != "green" {
			return fmt.Sprintf("%+v", ov.Health)
		}
		return ""
	})
	assert.Equal(t, 2, ov.Counts.BrokersUp)
	// The group caught up: its alert is resolved.
	eventually(t, 30*time.Second, "the group recovery notice", func() string {
		if hook.find(func(n map[string]any) bool { return n["key"] == "group:billing" && n["state"] == "resolved" }) == nil {
			return "not yet"
		}
		return ""
	})

	// Kill broker 2: the overview turns red naming it, and the alert arrives.
	require.NoError(t, b2.cmd.Process.Kill())
	eventually(t, 40*time.Second, "a red overview naming broker 2", func() string {
		if code := getJSON(t, s, "/", &ov); code != 200 {
			return fmt.Sprint(code)
		}
		if ov.Health.Level != "red" {
			return fmt.Sprintf("%+v", ov.Health)
		}
		for _, r := range ov.Health.Reasons {
			if r.Kind == "broker-down" && strings.Contains(r.Text, "broker 2") {
				return ""
			}
		}
		return fmt.Sprintf("no broker-down reason for broker 2: %+v", ov.Health.Reasons)
	})
	eventually(t, 40*time.Second, "the broker-down webhook", func() string {
		if hook.find(func(n map[string]any) bool {
			return n["kind"] == "broker-down" && n["state"] == "firing" && strings.Contains(fmt.Sprint(n["text"]), "broker 2")
		}) == nil {
			return "not yet"
		}
		return ""
	})
	var al struct {
		History []struct{ Kind, State, Delivery string }
	}
	require.Equal(t, 200, getJSON(t, s, "/alerts", &al))
	found := false
	for _, h := range al.History {
		if h.Kind == "broker-down" && h.State == "firing" {
			found = true
			assert.Equal(t, "webhook: delivered", h.Delivery)
		}
	}
	assert.True(t, found, "alert history: %+v", al.History)
	code, body, _ = s.get("/")
	require.Equal(t, 200, code)
	assert.Contains(t, body, `id="verdict">red<`)

	// A test notification reaches the webhook and the history.
	code, _, _ = s.post("/alerts/test", url.Values{"csrf": {token}})
	require.Equal(t, http.StatusSeeOther, code)
	require.NotNil(t, hook.find(func(n map[string]any) bool { return n["state"] == "test" }))
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}
