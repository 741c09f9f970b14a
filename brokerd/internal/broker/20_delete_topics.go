package broker

// DeleteTopics (key 20), versions 0-5.
//
// Writes /admin/delete_topics/<t>, as Kafka's AdminZkClient.deleteTopic;
// the controller removes the topic's znodes and every broker removes its
// logs when it sees the topic gone. The answer waits for that up to
// TimeoutMillis (REQUEST_TIMED_OUT after). delete.topic.enable=false
// answers TOPIC_DELETION_DISABLED; an unknown topic
// UNKNOWN_TOPIC_OR_PARTITION; __consumer_offsets cannot be deleted
// (INVALID_TOPIC_EXCEPTION), as in Kafka.

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/coord"
	"mqstack/proto/kafka"
)

var deleteTopicsAPI = api{key: 20, min: 0, max: 5, handle: handleDeleteTopics}

func handleDeleteTopics(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.DeleteTopicsRequest)
	resp := kmsg.NewPtrDeleteTopicsResponse()
	for _, name := range req.TopicNames {
		name := name
		st := kmsg.NewDeleteTopicsResponseTopic()
		st.Topic = &name
		fail := func(code int16, format string, args ...any) {
			st.ErrorCode = code
			msg := fmt.Sprintf(format, args...)
			st.ErrorMessage = &msg
		}
		t := b.topicView(name)
		switch {
		case !b.cfg.DeleteTopicEnable:
			fail(kerr.TopicDeletionDisabled.Code, "delete.topic.enable is false in %s", b.cfg.Path)
		case t == nil:
			fail(kerr.UnknownTopicOrPartition.Code, "topic %s does not exist", name)
		case name == offsetsTopic:
			fail(kerr.InvalidTopicException.Code, "internal topic %s cannot be deleted", name)
		default:
			if err := b.coord.DeleteTopic(name); err != nil {
				fail(kerr.UnknownServerError.Code, "%v", err)
				break
			}
			wait := min(time.Duration(req.TimeoutMillis)*time.Millisecond, 60*time.Second)
			if _, ok := b.coord.WaitFor(wait, func(v coord.View) bool { return v.Topics[name] == nil }); !ok {
				fail(kerr.RequestTimedOut.Code, "topic %s is marked for deletion but still exists", name)
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
