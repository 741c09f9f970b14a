package broker

// Heartbeat (key 12), versions 0-4.
//
// Keeps a member's session alive. REBALANCE_IN_PROGRESS tells it to
// rejoin; UNKNOWN_MEMBER_ID and ILLEGAL_GENERATION as in Kafka;
// NOT_COORDINATOR when this broker does not coordinate the group.

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/group"
	"mqstack/proto/kafka"
)

var heartbeatAPI = api{key: 12, min: 0, max: 4, handle: handleHeartbeat}

func handleHeartbeat(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.HeartbeatRequest)
	resp := kmsg.NewPtrHeartbeatResponse()
	if code := b.groups.coordinatorCode(req.Group); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	if !b.groups.with(req.Group, false, func(g *group.Group) []group.Reply {
		resp.ErrorCode = g.Heartbeat(req.MemberID, deref(req.InstanceID), req.Generation, time.Now())
		return nil
	}) {
		resp.ErrorCode = kerr.UnknownMemberID.Code
	}
	return resp, nil
}
