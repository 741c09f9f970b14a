package integration

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// eagle's topic actions against a real broker, each checked with franz-go:
// send a message with headers to a chosen partition, alter configs, add
// partitions, delete with the wrong and the right efak.topic.token; every
// one in the audit log.
func TestEagleTopicActions(t *testing.T) {
	zks := StartServer(t, kindZkd, ServerOptions{})
	connect := zks.Addr() + "/actions"
	b1 := startBrokerd(t, 1, connect)
	e := startEagle(t, fmt.Sprintf("efak.zk.cluster.alias=c\nc.zk.list=%s\neagle.collect.interval=1s\neagle.admin.password=actions-pw\nefak.topic.token=let-me-delete\n", connect))
	s := eagleLogin(t, e.URL, "admin", "actions-pw")
	token := s.csrf()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b1.Addr))
	require.NoError(t, err)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err = adm.CreateTopic(ctx, 3, 1, nil, "acts")
	require.NoError(t, err)
	eventually(t, 30*time.Second, "eagle sees the topic", func() string {
		if code, _, _ := s.get("/topics/acts?format=json"); code != 200 {
			return fmt.Sprint(code)
		}
		return ""
	})
	confirmed := func(path string, form url.Values) {
		t.Helper()
		form.Set("csrf", token)
		form.Set("confirm", "yes")
		code, body, _ := s.post(path, form)
		require.Equal(t, http.StatusSeeOther, code, "%s: %s", path, body)
	}

	// Send to partition 2 with a header.
	confirmed("/topics/acts/send", url.Values{"partition": {"2"}, "key": {"k1"}, "value": {"hello from eagle"}, "headers": {"trace=abc"}})
	consumer, err := kgo.NewClient(kgo.SeedBrokers(b1.Addr), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"acts": {2: kgo.NewOffset().AtStart()}}))
	require.NoError(t, err)
	fs := consumer.PollFetches(ctx)
	require.NoError(t, fs.Err())
	recs := fs.Records()
	consumer.Close()
	require.Len(t, recs, 1)
	assert.Equal(t, "k1", string(recs[0].Key))
	assert.Equal(t, "hello from eagle", string(recs[0].Value))
	require.Len(t, recs[0].Headers, 1)
	assert.Equal(t, "trace", recs[0].Headers[0].Key)
	assert.Equal(t, "abc", string(recs[0].Headers[0].Value))

	// The browser finds it by offset and by time.
	var msgs struct {
		Messages []struct {
			Partition int32
			Offset    int64
			Value     string
			Headers   map[string]string
		}
	}
	require.Equal(t, 200, getJSON(t, s, "/topics/acts/messages?partition=2&seek=offset&offset=0", &msgs))
	require.Len(t, msgs.Messages, 1)
	assert.Equal(t, "hello from eagle", msgs.Messages[0].Value)
	assert.Equal(t, map[string]string{"trace": "abc"}, msgs.Messages[0].Headers)
	since := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	require.Equal(t, 200, getJSON(t, s, "/topics/acts/messages?seek=time&time="+since, &msgs))
	require.Len(t, msgs.Messages, 1)
	future := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	require.Equal(t, 200, getJSON(t, s, "/topics/acts/messages?seek=time&time="+future, &msgs))
	assert.Empty(t, msgs.Messages, "nothing after a time in the future")

	// Alter configs: the broker reports the override.
	confirmed("/topics/acts/config", url.Values{"configs": {"retention.ms=3600000\ncleanup.policy=delete"}})
	eventually(t, 30*time.Second, "retention.ms override", func() string {
		rc, err := adm.DescribeTopicConfigs(ctx, "acts")
		if err != nil {
			return err.Error()
		}
		c, err := rc.On("acts", nil)
		if err != nil {
			return err.Error()
		}
		for _, kv := range c.Configs {
			if kv.Key == "retention.ms" && kv.Value != nil && *kv.Value == "3600000" {
				return ""
			}
		}
		return fmt.Sprintf("%+v", c.Configs)
	})

	// Add partitions: 3 -> 5.
	confirmed("/topics/acts/partitions", url.Values{"count": {"5"}})
	td, err := adm.ListTopics(ctx, "acts")
	require.NoError(t, err)
	assert.Len(t, td["acts"].Partitions, 5)

	// Delete: the wrong token is refused, the right one deletes.
	code, body, _ := s.post("/topics/acts/delete", url.Values{"csrf": {token}, "token": {"guess"}, "confirm": {"yes"}})
	require.Equal(t, http.StatusForbidden, code, body)
	assert.Contains(t, body, "efak.topic.token")
	confirmed("/topics/acts/delete", url.Values{"token": {"let-me-delete"}})
	eventually(t, 30*time.Second, "topic deleted", func() string {
		td, err := adm.ListTopics(ctx, "acts")
		if err != nil {
			return err.Error()
		}
		if td.Has("acts") && td["acts"].Err == nil {
			return "still there"
		}
		return ""
	})

	var audit struct {
		Entries []struct{ User, Action string }
	}
	require.Equal(t, 200, getJSON(t, s, "/audit", &audit))
	var actions []string
	for _, a := range audit.Entries {
		actions = append(actions, a.Action)
	}
	for _, a := range []string{"topic.send", "topic.config", "topic.partitions", "topic.delete"} {
		assert.Contains(t, actions, a)
	}
}
