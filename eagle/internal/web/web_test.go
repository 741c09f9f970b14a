package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mqstack/eagle/internal/config"
	"mqstack/eagle/internal/health"
	"mqstack/eagle/internal/model"
	"mqstack/eagle/internal/store"
	"mqstack/proto/fourlw"
	"mqstack/proto/kafkazk"
)

// testServer is a Server whose cluster shows a fixed snapshot (no
// collection runs) behind a real HTTP listener and a real store.
func testServer(t *testing.T, snap *model.Snapshot) (*Server, *httptest.Server) {
	t.Helper()
	cfg, err := config.Parse("t.properties", fmt.Sprintf("efak.zk.cluster.alias=c1\nc1.zk.list=127.0.0.1:1\nefak.url=jdbc:sqlite:%s\neagle.admin.password=admin-pass-1\n",
		filepath.Join(t.TempDir(), "ke.db")))
	require.NoError(t, err)
	s, err := New(cfg, zerolog.Nop())
	require.NoError(t, err)
	s.ctx, s.stop = context.WithCancel(context.Background())
	c := s.clusters[0]
	c.window.Observe(snap)
	c.snap, c.verdict, c.quorum, c.passes = snap, health.Evaluate(snap), health.ZKQuorum(snap.ZK), 1
	hs := httptest.NewServer(s.routes())
	t.Cleanup(func() { hs.Close(); s.stop(); _ = s.store.Close() })
	return s, hs
}

func sampleSnapshot() *model.Snapshot {
	return &model.Snapshot{
		Cluster: "c1", Time: time.Now(), ZkController: 1, MetaController: map[int32]int32{1: 1, 2: 1},
		MessagesInRate: 12.5, BytesInRate: -1, BytesOutRate: -1,
		ZK: []model.ZKServer{{Addr: "127.0.0.1:2181", Up: true, Srvr: &fourlw.ServerStats{Mode: "standalone", Version: "3.8.4"}, Followers: -1, Synced: -1}},
		Brokers: []model.Broker{
			{ID: 1, Host: "h1", Port: 9092, Registered: true, Reachable: true, InMetadata: true, BytesInRate: -1, BytesOutRate: -1, MessagesInRate: -1},
			{ID: 2, Host: "h2", Port: 9092, Registered: true, Reachable: true, InMetadata: true, BytesInRate: -1, BytesOutRate: -1, MessagesInRate: -1},
		},
		Topics: []model.Topic{
			{Name: `we"ird`, Size: 100, Partitions: []model.Partition{{ID: 0, Leader: 1, Replicas: []int32{1, 2}, ISR: []int32{1}, Start: 0, End: 10, Size: 100}}},
			{Name: "orders", Size: 300, Partitions: []model.Partition{
				{ID: 0, Leader: 1, Replicas: []int32{1}, ISR: []int32{1}, Start: 0, End: 50, Size: 100},
				{ID: 1, Leader: 2, Replicas: []int32{2}, ISR: []int32{2}, Start: 5, End: 40, Size: 200},
			}},
		},
		ZKTopics: []string{`we"ird`, "orders"},
		Groups: []model.Group{{ID: "billing", State: "Empty", Offsets: []model.GroupOffset{
			{Topic: "orders", Partition: 0, Committed: 45, End: 50, Lag: 5, LagSeconds: 90, LagSecondsSource: "timestamp", LagSecondsTimestampType: "CreateTime"},
			{Topic: "orders", Partition: 1, Committed: 40, End: 40, Lag: 0, LagSeconds: 0},
		}}},
	}
}

// /metrics parses with Prometheus' own parser (families contiguous, labels
// escaped) and carries the snapshot's numbers.
func TestMetricsExposition(t *testing.T) {
	_, hs := testServer(t, sampleSnapshot())
	resp, err := http.Get(hs.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	p := expfmt.NewTextParser(pmodel.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	val := func(name string, labels map[string]string) float64 {
		for _, m := range fams[name].GetMetric() {
			ok := true
			for k, v := range labels {
				found := false
				for _, l := range m.GetLabel() {
					if l.GetName() == k && l.GetValue() == v {
						found = true
					}
				}
				ok = ok && found
			}
			if ok {
				return m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
			}
		}
		t.Fatalf("no %s%v", name, labels)
		return 0
	}
	assert.Equal(t, 2.0, val("kafka_brokers", nil))
	assert.Equal(t, 2.0, val("kafka_topic_partitions", map[string]string{"topic": "orders"}))
	assert.Equal(t, 40.0, val("kafka_topic_partition_current_offset", map[string]string{"topic": "orders", "partition": "1"}))
	assert.Equal(t, 1.0, val("kafka_topic_partition_under_replicated_partition", map[string]string{"topic": `we"ird`}))
	assert.Equal(t, 5.0, val("kafka_consumergroup_lag", map[string]string{"consumergroup": "billing", "partition": "0"}))
	assert.Equal(t, 5.0, val("kafka_consumergroup_lag_sum", map[string]string{"consumergroup": "billing", "topic": "orders"}))
	assert.Equal(t, 90.0, val("kafka_consumergroup_group_lag_seconds", map[string]string{"consumergroup": "billing", "partition": "0"}))
	assert.Equal(t, 0.0, val("kafka_consumergroup_group_lag_seconds", map[string]string{"consumergroup": "billing", "partition": "1"}))
	assert.Equal(t, 90.0, val("kafka_consumergroup_group_max_lag_seconds", map[string]string{"consumergroup": "billing"}))
	assert.Equal(t, 1.0, val("eagle_cluster_health", map[string]string{"cluster": "c1"}), "yellow: under-replicated")
}

func client(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// Login, the forced password change, roles, CSRF, confirmations and the
// audit log, through the real handlers and store.
func TestUsersRolesCSRFConfirm(t *testing.T) {
	s, hs := testServer(t, sampleSnapshot())
	admin := client(t)
	resp, err := admin.PostForm(hs.URL+"/login", url.Values{"user": {"admin"}, "password": {"admin-pass-1"}})
	require.NoError(t, err)
	body(t, resp)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, err = admin.Get(hs.URL + "/users")
	require.NoError(t, err)
	page := body(t, resp)
	require.Equal(t, 200, resp.StatusCode)
	token := csrfField.FindStringSubmatch(page)[1]

	form := url.Values{"csrf": {token}, "name": {"vera"}, "role": {RoleViewer}, "password": {"initial-pw"}}
	resp, err = admin.PostForm(hs.URL+"/users", form)
	require.NoError(t, err)
	page = body(t, resp)
	assert.Contains(t, page, "Nothing has changed yet")
	_, err = s.store.GetUser(context.Background(), "vera")
	require.Error(t, err, "the preview must not create the user")
	form.Set("confirm", "yes")
	form.Del("csrf")
	resp, err = admin.PostForm(hs.URL+"/users", form)
	require.NoError(t, err)
	body(t, resp)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "no CSRF token")
	form.Set("csrf", token)
	resp, err = admin.PostForm(hs.URL+"/users", form)
	require.NoError(t, err)
	body(t, resp)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	u, err := s.store.GetUser(context.Background(), "vera")
	require.NoError(t, err)
	assert.True(t, u.MustChange)

	// vera must change her password before anything else.
	vera := client(t)
	resp, err = vera.PostForm(hs.URL+"/login", url.Values{"user": {"vera"}, "password": {"initial-pw"}})
	require.NoError(t, err)
	body(t, resp)
	require.Equal(t, "/account/password", resp.Header.Get("Location"))
	resp, err = vera.Get(hs.URL + "/topics")
	require.NoError(t, err)
	body(t, resp)
	require.Equal(t, "/account/password", resp.Header.Get("Location"))
	resp, err = vera.Get(hs.URL + "/account/password")
	require.NoError(t, err)
	vtoken := csrfField.FindStringSubmatch(body(t, resp))[1]
	resp, err = vera.PostForm(hs.URL+"/account/password", url.Values{"csrf": {vtoken}, "old": {"initial-pw"}, "new": {"short"}, "again": {"short"}})
	require.NoError(t, err)
	assert.Contains(t, body(t, resp), "at least 8")
	resp, err = vera.PostForm(hs.URL+"/account/password", url.Values{"csrf": {vtoken}, "old": {"initial-pw"}, "new": {"vera-pw-123"}, "again": {"vera-pw-123"}})
	require.NoError(t, err)
	body(t, resp)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, err = vera.Get(hs.URL + "/topics")
	require.NoError(t, err)
	assert.Contains(t, body(t, resp), "orders")
	// A viewer cannot create topics or read the audit log.
	resp, err = vera.PostForm(hs.URL+"/topics", url.Values{"csrf": {vtoken}, "name": {"x"}, "partitions": {"1"}, "replication": {"1"}, "confirm": {"yes"}})
	require.NoError(t, err)
	assert.Contains(t, body(t, resp), "needs the operator role")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, err = vera.Get(hs.URL + "/audit")
	require.NoError(t, err)
	body(t, resp)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	// Basic auth works for GET (the JSON twins), with the right password only.
	req, _ := http.NewRequest(http.MethodGet, hs.URL+"/groups?format=json", nil)
	req.SetBasicAuth("vera", "vera-pw-123")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	assert.Contains(t, body(t, resp), `"lag": 5`)
	req.SetBasicAuth("vera", "wrong")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	body(t, resp)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// The audit log has who did what.
	log, err := s.store.AuditLog(context.Background(), 10)
	require.NoError(t, err)
	var actions []string
	for _, e := range log {
		actions = append(actions, e.User+" "+e.Action)
	}
	assert.Contains(t, actions, "admin user.save")
	assert.Contains(t, actions, "vera password.change")
}

func TestTopicRowSpreadAndSkew(t *testing.T) {
	tp := model.Topic{Name: "t", Partitions: []model.Partition{
		{ID: 0, Leader: 1, Replicas: []int32{1, 2}, ISR: []int32{1, 2}, Start: 0, End: 5},
		{ID: 1, Leader: 1, Replicas: []int32{2, 1}, ISR: []int32{2}, Start: 0, End: 5},
		{ID: 2, Leader: 1, Replicas: []int32{1, 2}, ISR: []int32{1, 2}, Start: 0, End: 5},
		{ID: 3, Leader: -1, Replicas: []int32{1, 3}, ISR: []int32{}, Start: -1, End: -1},
	}}
	r := topicRow(tp, 4)
	assert.Equal(t, 4, r.Partitions)
	assert.Equal(t, 2, r.Replication)
	assert.Equal(t, 75.0, r.Spread, "brokers 1, 2, 3 of 4")
	assert.InDelta(t, 66.7, r.Skew, 0.1, "1 and 2 hold 4 replicas each, 3 holds 1: two of three above the average")
	assert.Equal(t, 0.0, r.LeaderSkew, "one broker leads everything")
	assert.Equal(t, 50.0, r.PreferredPct)
	assert.Equal(t, 1, r.UnderReplicated)
	assert.Equal(t, 1, r.Offline)
	assert.EqualValues(t, 15, r.Messages)
}

func TestDecodeZnode(t *testing.T) {
	kind, text := decodeZnode("/brokers/ids/3", kafkazk.EncodeBrokerInfo(kafkazk.BrokerInfo{Host: "h", Port: 9092, Endpoints: []string{"PLAINTEXT://h:9092"}}))
	assert.Equal(t, "Kafka broker registration", kind)
	assert.Contains(t, text, "PLAINTEXT://h:9092")
	kind, _ = decodeZnode("/brokers/topics/t/partitions/0/state", kafkazk.EncodePartitionState(kafkazk.PartitionState{Leader: 1, ISR: []int32{1}}))
	assert.Equal(t, "Kafka partition state (leader, ISR)", kind)
	kind, text = decodeZnode("/controller", kafkazk.EncodeController(2, 1))
	assert.Equal(t, "Kafka controller", kind)
	assert.Equal(t, "the controller is broker 2", text)
	kind, _ = decodeZnode("/x", []byte{0xff, 0x00, 0x01})
	assert.Equal(t, "binary", kind)
	assert.Contains(t, rawText([]byte{0xff, 0x00, 0x01}), "ff 00 01")
	kind, _ = decodeZnode("/brokers/ids/3", []byte("garbage"))
	assert.Equal(t, "text", kind, "an unreadable registration is shown as what it is")
}

func TestChartSVG(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	c := Chart{Title: "Lag <all>", Unit: "num", From: now.Add(-time.Hour), To: now}
	svg := string(chart(c))
	assert.Contains(t, svg, "no samples in this range yet")
	assert.Contains(t, svg, "Lag &lt;all&gt;")
	c.Lines = []ChartLine{{Name: "a", Points: nil}}
	c.Lines[0].Points = append(c.Lines[0].Points, pt(now.Add(-time.Hour), 0), pt(now.Add(-30*time.Minute), 50), pt(now, 100))
	svg = string(chart(c))
	assert.Equal(t, 1, strings.Count(svg, "<polyline"))
	assert.Contains(t, svg, ">100<", "the top of the axis is the maximum")
	assert.Contains(t, svg, "70.0,") // the first point is on the left axis
}

func pt(t time.Time, v float64) store.Point { return store.Point{T: t, V: v} }

// A registered broker cannot be forgotten; the refusal says why.
func TestForgetRegisteredBrokerRefused(t *testing.T) {
	_, hs := testServer(t, sampleSnapshot())
	cl := client(t)
	resp, err := cl.PostForm(hs.URL+"/login", url.Values{"user": {"admin"}, "password": {"admin-pass-1"}})
	require.NoError(t, err)
	body(t, resp)
	resp, err = cl.Get(hs.URL + "/brokers")
	require.NoError(t, err)
	token := csrfField.FindStringSubmatch(body(t, resp))[1]
	resp, err = cl.PostForm(hs.URL+"/brokers/1/forget", url.Values{"csrf": {token}, "confirm": {"yes"}})
	require.NoError(t, err)
	assert.Contains(t, body(t, resp), "broker 1 is registered in ZooKeeper")
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
}
