package broker

// FindCoordinator (key 10), versions 0-3.
//
// For a group (key type 0) the coordinator is the leader of
// __consumer_offsets partition abs(javaHash(group)) % offsets.topic.num.partitions,
// as in Kafka; the topic is created on first use. No leader yet is
// COORDINATOR_NOT_AVAILABLE (the client retries). Transaction
// coordinators (key type 1) answer TRANSACTIONAL_ID_AUTHORIZATION_FAILED, a
// non-retriable error, until transactions are implemented.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
)

var findCoordinatorAPI = api{key: 10, min: 0, max: 3, handle: handleFindCoordinator}

func handleFindCoordinator(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.FindCoordinatorRequest)
	resp := kmsg.NewPtrFindCoordinatorResponse()
	resp.NodeID, resp.Port = -1, -1
	fail := func(code int16, msg string) (kmsg.Response, error) {
		resp.ErrorCode = code
		resp.ErrorMessage = &msg
		return resp, nil
	}
	if req.CoordinatorType != 0 {
		return fail(kerr.TransactionalIDAuthorizationFailed.Code, "brokerd does not support transactions yet")
	}
	if req.CoordinatorKey == "" {
		return fail(kerr.InvalidRequest.Code, "empty group id")
	}
	if code := b.ensureOffsetsTopic(); code != 0 {
		return fail(code, "__consumer_offsets is not available")
	}
	v := b.view()
	t := v.Topics[offsetsTopic]
	if t == nil {
		return fail(kerr.CoordinatorNotAvailable.Code, "__consumer_offsets is being created")
	}
	part, ok := t.Partitions[b.groups.partitionFor(req.CoordinatorKey)]
	if !ok || part.State == nil || part.State.Leader < 0 {
		return fail(kerr.CoordinatorNotAvailable.Code, "the coordinator's partition has no leader")
	}
	bi, ok := v.Brokers[part.State.Leader]
	if !ok {
		return fail(kerr.CoordinatorNotAvailable.Code, "the coordinator is not registered")
	}
	ep, ok := bi.Endpoint(b.cfg.Listeners[0].Name)
	if !ok {
		return fail(kerr.CoordinatorNotAvailable.Code, "the coordinator has no endpoint for this listener")
	}
	resp.NodeID, resp.Host, resp.Port = part.State.Leader, ep.Host, int32(ep.Port)
	return resp, nil
}
