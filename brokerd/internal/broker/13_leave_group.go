package broker

// LeaveGroup (key 13), versions 0-4.
//
// Removes the member (v0-v2) or the listed members (v3+, each with its own
// error code; a static member may be named by its instance id alone) and
// starts a rebalance for the others.

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/group"
	"mqstack/proto/kafka"
)

var leaveGroupAPI = api{key: 13, min: 0, max: 4, handle: handleLeaveGroup}

func handleLeaveGroup(b *Broker, _ *conn, h kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.LeaveGroupRequest)
	resp := kmsg.NewPtrLeaveGroupResponse()
	if code := b.groups.coordinatorCode(req.Group); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	ids, insts := []string{req.MemberID}, []string{""}
	if h.APIVersion >= 3 {
		ids, insts = ids[:0], insts[:0]
		for _, m := range req.Members {
			ids, insts = append(ids, m.MemberID), append(insts, deref(m.InstanceID))
		}
	}
	codes := make([]int16, len(ids))
	if !b.groups.with(req.Group, false, func(g *group.Group) []group.Reply {
		var all []group.Reply
		for i, id := range ids {
			code, rs := g.Leave(id, insts[i], time.Now())
			codes[i] = code
			all = append(all, rs...)
		}
		return all
	}) {
		for i := range codes {
			codes[i] = kerr.UnknownMemberID.Code
		}
	}
	if h.APIVersion < 3 {
		resp.ErrorCode = codes[0]
		return resp, nil
	}
	for i, m := range req.Members {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID, rm.ErrorCode = m.MemberID, m.InstanceID, codes[i]
		resp.Members = append(resp.Members, rm)
	}
	return resp, nil
}
