package broker

// SyncGroup (key 14), versions 0-5.
//
// Followers wait until the leader sends the assignment; the leader's
// SyncGroup distributes it and the group becomes Stable. In Stable a
// member gets its current assignment at once. The group's assignment is
// kept in memory only (Kafka also writes it to __consumer_offsets; here a
// coordinator move makes the group rebalance). Errors: UNKNOWN_MEMBER_ID,
// ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, NOT_COORDINATOR.

import (
	"bytes"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/group"
	"mqstack/proto/kafka"
)

var syncGroupAPI = api{key: 14, min: 0, max: 5, handle: handleSyncGroup}

func handleSyncGroup(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.SyncGroupRequest)
	resp := kmsg.NewPtrSyncGroupResponse()
	if code := b.groups.coordinatorCode(req.Group); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	assignments := map[string][]byte{}
	for _, a := range req.GroupAssignment {
		// Copied out of the connection's read buffer, which later requests reuse.
		assignments[a.MemberID] = bytes.Clone(a.MemberAssignment)
	}
	w := make(syncWaiter, 1)
	var imm *group.SyncResult
	if !b.groups.with(req.Group, false, func(g *group.Group) []group.Reply {
		var rs []group.Reply
		imm, rs = g.Sync(req.MemberID, deref(req.InstanceID), req.Generation, assignments, w, time.Now())
		return rs
	}) {
		resp.ErrorCode = kerr.UnknownMemberID.Code
		return resp, nil
	}
	res := imm
	if res == nil {
		select {
		case res = <-w:
		case <-b.stop:
			resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
			return resp, nil
		}
	}
	resp.ErrorCode, resp.MemberAssignment = res.Err, res.Assignment
	if res.Err == 0 {
		proto, ptype := res.Protocol, res.ProtocolType
		resp.Protocol, resp.ProtocolType = &proto, &ptype
	}
	return resp, nil
}
