package broker

// ListGroups (key 16), versions 0-4.
//
// The groups this broker coordinates (as in Kafka, clients ask every
// broker), with their protocol type and, on v4, their state; v4's
// StatesFilter is honoured.

import (
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
)

var listGroupsAPI = api{key: 16, min: 0, max: 4, handle: handleListGroups}

func handleListGroups(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.ListGroupsRequest)
	resp := kmsg.NewPtrListGroupsResponse()
	m := b.groups
	m.mu.Lock()
	for id, g := range m.groups {
		if !m.loaded[m.partitionFor(id)] {
			continue
		}
		state := g.State.String()
		if len(req.StatesFilter) > 0 && !slices.Contains(req.StatesFilter, state) {
			continue
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState = id, g.ProtocolType, state
		resp.Groups = append(resp.Groups, lg)
	}
	m.mu.Unlock()
	sort.Slice(resp.Groups, func(i, j int) bool { return resp.Groups[i].Group < resp.Groups[j].Group })
	return resp, nil
}
