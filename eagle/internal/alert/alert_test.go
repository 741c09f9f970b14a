package alert

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
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

// smtpSink is a minimal SMTP server (enough of RFC 5321 for net/smtp):
// it records each message's recipients and data.
func smtpSink(t *testing.T) (string, <-chan string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	got := make(chan string, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				r := bufio.NewReader(c)
				fmt.Fprint(c, "220 sink ESMTP\r\n")
				var rcpt []string
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					cmd := strings.ToUpper(strings.TrimSpace(line))
					switch {
					case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
						fmt.Fprint(c, "250-sink\r\n250 8BITMIME\r\n")
					case strings.HasPrefix(cmd, "MAIL FROM"):
						fmt.Fprint(c, "250 OK\r\n")
					case strings.HasPrefix(cmd, "RCPT TO"):
						rcpt = append(rcpt, strings.TrimSpace(line[len("RCPT TO:"):]))
						fmt.Fprint(c, "250 OK\r\n")
					case cmd == "DATA":
						fmt.Fprint(c, "354 go on\r\n")
						var data strings.Builder
						for {
							l, err := r.ReadString('\n')
							if err != nil {
								return
							}
							if l == ".\r\n" {
								break
							}
							data.WriteString(l)
						}
						got <- strings.Join(rcpt, ",") + "\n" + data.String()
						fmt.Fprint(c, "250 queued\r\n")
					case cmd == "QUIT":
						fmt.Fprint(c, "221 bye\r\n")
						return
					default:
						fmt.Fprint(c, "250 OK\r\n")
					}
				}
			}(c)
		}
	}()
	return ln.Addr().String(), got
}

func TestSMTPDelivery(t *testing.T) {
	addr, got := smtpSink(t)
	ch := Channels{SMTPAddr: addr, From: "eagle@example.com", To: []string{"ops@example.com", "oncall@example.com"}}
	res := ch.Send(context.Background(), Notification{Time: t0, Cluster: "c1", Key: "offline:c1", Kind: "offline", Level: "red", State: "firing", Text: "3 partitions have no leader"})
	assert.Equal(t, "smtp: delivered", res)
	msg := <-got
	assert.Contains(t, msg, "<ops@example.com>,<oncall@example.com>")
	assert.Contains(t, msg, "Subject: [eagle c1] RED firing: offline")
	assert.Contains(t, msg, "3 partitions have no leader")

	// A dead relay is reported, not hidden.
	res = Channels{SMTPAddr: "127.0.0.1:1", To: []string{"x@y"}}.Send(context.Background(), Notification{})
	assert.Contains(t, res, "smtp: ")
	assert.NotContains(t, res, "delivered")
}
