package broker

// JoinGroup (key 11), versions 0-7.
//
// Runs the group state machine (internal/group): v4+ joins without a
// member id get MEMBER_ID_REQUIRED and an id (client id + "-" + uuid);
// the answer waits until the rebalance completes (every member rejoined,
// or the rebalance timeout — the session timeout on v0 — passed, or
// group.initial.rebalance.delay.ms for a new group). The leader's answer
// lists every member's metadata for the chosen protocol (and their
// instance ids). Static members (group.instance.id, v5+, KIP-345) skip the
// member id handshake; one that rejoins without its member id (restarted)
// takes the place of its old id, without a rebalance of a Stable group
// (Kafka 2.8); the old id is FENCED_INSTANCE_ID. Errors:
// NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, INVALID_GROUP_ID,
// INVALID_SESSION_TIMEOUT, INCONSISTENT_GROUP_PROTOCOL, UNKNOWN_MEMBER_ID,
// FENCED_INSTANCE_ID.

import (
	"bytes"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/coord"
	"mqstack/brokerd/internal/group"
	"mqstack/proto/kafka"
)

var joinGroupAPI = api{key: 11, min: 0, max: 7, handle: handleJoinGroup}

func handleJoinGroup(b *Broker, c *conn, h kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.JoinGroupRequest)
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.Generation = -1
	resp.MemberID = req.MemberID
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp, nil
	}
	if code := b.groups.coordinatorCode(req.Group); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	clientID := ""
	if h.ClientID != nil {
		clientID = *h.ClientID
	}
	host, _, _ := net.SplitHostPort(c.nc.RemoteAddr().String())
	rebalance := req.RebalanceTimeoutMillis
	if h.APIVersion == 0 {
		rebalance = req.SessionTimeoutMillis
	}
	// Kafka's member ids: <client id>-<uuid>, or <group.instance.id>-<uuid>
	// for a static member.
	prefix := clientID
	if req.InstanceID != nil {
		prefix = *req.InstanceID
	}
	jr := group.JoinRequest{MemberID: req.MemberID, NewMemberID: prefix + "-" + coord.NewUUID(),
		ClientID: clientID, ClientHost: "/" + host, ProtocolType: req.ProtocolType,
		SessionTimeout:       time.Duration(req.SessionTimeoutMillis) * time.Millisecond,
		RebalanceTimeout:     time.Duration(rebalance) * time.Millisecond,
		RequireKnownMemberID: h.APIVersion >= 4}
	if req.InstanceID != nil {
		jr.InstanceID = *req.InstanceID
	}
	// The request's byte fields point into the connection's read buffer,
	// which later requests reuse; what the group keeps is copied.
	for _, p := range req.Protocols {
		jr.Protocols = append(jr.Protocols, group.Protocol{Name: p.Name, Metadata: bytes.Clone(p.Metadata)})
	}
	w := make(joinWaiter, 1)
	var imm *group.JoinResult
	b.groups.with(req.Group, true, func(g *group.Group) []group.Reply {
		var rs []group.Reply
		imm, rs = g.Join(jr, w, time.Now())
		return rs
	})
	res := imm
	if res == nil {
		select {
		case res = <-w:
		case <-b.stop:
			resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
			return resp, nil
		}
	}
	resp.ErrorCode, resp.Generation, resp.MemberID, resp.LeaderID = res.Err, res.Generation, res.MemberID, res.Leader
	if res.Err == 0 {
		proto, ptype := res.Protocol, res.ProtocolType
		resp.Protocol, resp.ProtocolType = &proto, &ptype
	}
	for _, m := range res.Members {
		jm := kmsg.NewJoinGroupResponseMember()
		jm.MemberID, jm.ProtocolMetadata = m.ID, m.Metadata
		if m.InstanceID != "" {
			inst := m.InstanceID
			jm.InstanceID = &inst
		}
		resp.Members = append(resp.Members, jm)
	}
	return resp, nil
}
