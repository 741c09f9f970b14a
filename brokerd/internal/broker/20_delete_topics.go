package broker

// DeleteTopics (key 20), versions 0-5.
//
// Deletes each named topic's partition logs. delete.topic.enable=false
// answers TOPIC_DELETION_DISABLED; an unknown topic
// UNKNOWN_TOPIC_OR_PARTITION; __consumer_offsets cannot be deleted
// (INVALID_TOPIC_EXCEPTION), as in Kafka.

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
	"mqstack/storage/checkpoint"
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
		t := b.topics.get(name)
		switch {
		case !b.cfg.DeleteTopicEnable:
			fail(kerr.TopicDeletionDisabled.Code, "delete.topic.enable is false in %s", b.cfg.Path)
		case t == nil:
			fail(kerr.UnknownTopicOrPartition.Code, "topic %s does not exist", name)
		case t.internal:
			fail(kerr.InvalidTopicException.Code, "internal topic %s cannot be deleted", name)
		default:
			b.topics.remove(name)
			for p := int32(0); p < t.partitions; p++ {
				if err := b.dir.DeleteLog(checkpoint.TopicPartition{Topic: name, Partition: p}); err != nil {
					b.log.Error().Err(err).Str("topic", name).Int32("partition", p).Msg("deleting partition log failed")
					fail(kerr.KafkaStorageError.Code, "deleting %s-%d: %v", name, p, err)
				}
			}
			b.log.Info().Str("topic", name).Msg("topic deleted")
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}
