package broker

// DescribeGroups (key 15), versions 0-5.
//
// State, protocol type, protocol and members (client id, host, metadata,
// assignment) of each group this broker coordinates; a group it does not
// coordinate is NOT_COORDINATOR; an unknown group is answered in state
// Dead with no members, as Kafka does.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/group"
	"mqstack/proto/kafka"
)

var describeGroupsAPI = api{key: 15, min: 0, max: 5, handle: handleDescribeGroups}

func handleDescribeGroups(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.DescribeGroupsRequest)
	resp := kmsg.NewPtrDescribeGroupsResponse()
	for _, id := range req.Groups {
		dg := kmsg.NewDescribeGroupsResponseGroup()
		dg.Group = id
		if code := b.groups.coordinatorCode(id); code != 0 {
			dg.ErrorCode = code
			resp.Groups = append(resp.Groups, dg)
			continue
		}
		dg.State = group.Dead.String()
		b.groups.with(id, false, func(g *group.Group) []group.Reply {
			dg.State, dg.ProtocolType = g.State.String(), g.ProtocolType
			if g.State == group.Stable || g.State == group.CompletingRebalance {
				dg.Protocol = g.Protocol
			}
			for _, mid := range g.MemberIDs() {
				m := g.Members[mid]
				dm := kmsg.NewDescribeGroupsResponseGroupMember()
				dm.MemberID, dm.ClientID, dm.ClientHost = m.ID, m.ClientID, m.ClientHost
				if m.InstanceID != "" {
					inst := m.InstanceID
					dm.InstanceID = &inst
				}
				for _, p := range m.Protocols {
					if p.Name == g.Protocol {
						dm.ProtocolMetadata = p.Metadata
					}
				}
				if g.State == group.Stable {
					dm.MemberAssignment = m.Assignment
				}
				dg.Members = append(dg.Members, dm)
			}
			return nil
		})
		resp.Groups = append(resp.Groups, dg)
	}
	return resp, nil
}
