package broker

// DeleteGroups (key 42), versions 0-2.
//
// Deletes groups this broker coordinates: only an Empty group (or one with
// just committed offsets) can go (NON_EMPTY_GROUP otherwise, GROUP_ID_NOT_FOUND
// for an unknown group); its offsets get tombstones in __consumer_offsets,
// so they stay deleted after a reload.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/group"
	"mqstack/proto/kafka"
)

var deleteGroupsAPI = api{key: 42, min: 0, max: 2, handle: handleDeleteGroups}

func handleDeleteGroups(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.DeleteGroupsRequest)
	resp := kmsg.NewPtrDeleteGroupsResponse()
	for _, id := range req.Groups {
		dg := kmsg.NewDeleteGroupsResponseGroup()
		dg.Group = id
		if code := b.groups.coordinatorCode(id); code != 0 {
			dg.ErrorCode = code
			resp.Groups = append(resp.Groups, dg)
			continue
		}
		dg.ErrorCode = b.groups.deleteGroup(id)
		resp.Groups = append(resp.Groups, dg)
	}
	return resp, nil
}

// deleteGroup removes an empty group and tombstones its offsets.
func (m *groupManager) deleteGroup(id string) int16 {
	m.mu.Lock()
	g := m.groups[id]
	if g == nil {
		m.mu.Unlock()
		return kerr.GroupIDNotFound.Code
	}
	if g.State != group.Empty && g.State != group.Dead {
		m.mu.Unlock()
		return kerr.NonEmptyGroup.Code
	}
	offsets := m.offsets[id]
	delete(m.groups, id)
	delete(m.offsets, id)
	m.mu.Unlock()
	return m.tombstone(id, offsets, true)
}
