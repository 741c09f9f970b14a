package alert

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

func at(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

func states(ns []Notification) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Kind+"/"+n.State)
	}
	return out
}

func TestManagerFireRepeatResolve(t *testing.T) {
	m := NewManager("c1", Rules{Repeat: 10 * time.Minute, GroupFor: 3 * time.Minute})
	down := Condition{Key: "broker-down:2", Kind: "broker-down", Level: "red", Text: "broker 2 is down"}
	group := Condition{Key: "group:g", Kind: "group", Level: "yellow", Text: "group g is STOP"}

	assert.Equal(t, []string{"broker-down/firing"}, states(m.Step(at(0), []Condition{down, group}, "a:2181")))
	assert.Empty(t, m.Step(at(1), []Condition{down, group}, "a:2181"))
	// the group condition has held 3 minutes
	assert.Equal(t, []string{"group/firing"}, states(m.Step(at(3), []Condition{down, group}, "a:2181")))
	// no repeat before 10 minutes
	assert.Empty(t, m.Step(at(9), []Condition{down, group}, "a:2181"))
	assert.Equal(t, []string{"broker-down/repeat"}, states(m.Step(at(10), []Condition{down, group}, "a:2181")))
	// the broker returns; the leader moves
	got := m.Step(at(11), []Condition{group}, "b:2181")
	assert.ElementsMatch(t, []string{"zk-leader-change/event", "broker-down/resolved"}, states(got))
	// a group that flaps back before GroupFor never fires, and never resolves
	m2 := NewManager("c1", Rules{GroupFor: 5 * time.Minute})
	assert.Empty(t, m2.Step(at(0), []Condition{group}, ""))
	assert.Empty(t, m2.Step(at(2), nil, ""))
	assert.Empty(t, m2.Firing())
}

func TestWebhookDelivery(t *testing.T) {
	got := make(chan Notification, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n Notification
		require.NoError(t, json.NewDecoder(r.Body).Decode(&n))
		got <- n
	}))
	defer srv.Close()
	res := Channels{Webhook: srv.URL}.Send(context.Background(), Notification{Cluster: "c", Kind: "offline", State: "firing", Text: "x"})
	assert.Equal(t, "webhook: delivered", res)
	n := <-got
	assert.Equal(t, "offline", n.Kind)

	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer bad.Close()
	res = Channels{Webhook: bad.URL}.Send(context.Background(), Notification{})
	assert.Contains(t, res, "500")
}
