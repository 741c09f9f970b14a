package broker

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A connection reads each request into a buffer that it (or, for large
// frames, another connection) reuses for later requests, so what a group
// keeps from a JoinGroup or SyncGroup (the member's protocol metadata and
// the assignments) must not point into it: here the same connection sends
// larger requests afterwards and DescribeGroups must still show the bytes
// the member sent.
func TestGroupKeepsMetadataAcrossBufferReuse(t *testing.T) {
	b, _ := startBroker(t, groupConfig)
	r := dialRaw(t, b)
	corr := int32(0)
	call := func(req kmsg.Request, resp kmsg.Response, version int16) {
		corr++
		r.send(corr, req, version)
		require.Equal(t, corr, r.recv(resp, version))
	}
	// The coordinator answers once __consumer_offsets exists.
	eventually(t, "a group coordinator", func() bool {
		fc := kmsg.NewPtrFindCoordinatorRequest()
		fc.CoordinatorKey = "g-reuse"
		resp := kmsg.NewPtrFindCoordinatorResponse()
		call(fc, resp, 2)
		return resp.ErrorCode == 0
	})
	metadata := bytes.Repeat([]byte("m"), 300)
	assignment := bytes.Repeat([]byte("a"), 300)
	join := func(member string) *kmsg.JoinGroupResponse {
		j := kmsg.NewPtrJoinGroupRequest()
		j.Group, j.MemberID, j.ProtocolType = "g-reuse", member, "consumer"
		j.SessionTimeoutMillis, j.RebalanceTimeoutMillis = 30000, 30000
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name, p.Metadata = "range", metadata
		j.Protocols = append(j.Protocols, p)
		resp := kmsg.NewPtrJoinGroupResponse()
		call(j, resp, 5)
		return resp
	}
	jr := join("")
	require.Equal(t, kerr.MemberIDRequired.Code, jr.ErrorCode)
	jr = join(jr.MemberID)
	require.Equal(t, int16(0), jr.ErrorCode)
	require.Equal(t, jr.MemberID, jr.LeaderID)
	s := kmsg.NewPtrSyncGroupRequest()
	s.Group, s.MemberID, s.Generation = "g-reuse", jr.MemberID, jr.Generation
	a := kmsg.NewSyncGroupRequestGroupAssignment()
	a.MemberID, a.MemberAssignment = jr.MemberID, assignment
	s.GroupAssignment = append(s.GroupAssignment, a)
	sr := kmsg.NewPtrSyncGroupResponse()
	call(s, sr, 3)
	require.Equal(t, int16(0), sr.ErrorCode)
	require.Equal(t, assignment, sr.MemberAssignment)

	// Larger requests on the same connection overwrite its read buffer.
	for i := range 3 {
		m := kmsg.NewPtrMetadataRequest()
		for j := range 40 {
			mt := kmsg.NewMetadataRequestTopic()
			name := strings.Repeat(string(rune('p'+i)), 100) + string(rune('a'+j%26))
			mt.Topic = &name
			m.Topics = append(m.Topics, mt)
		}
		call(m, kmsg.NewPtrMetadataResponse(), 4)
	}
	d := kmsg.NewPtrDescribeGroupsRequest()
	d.Groups = []string{"g-reuse"}
	dr := kmsg.NewPtrDescribeGroupsResponse()
	call(d, dr, 3)
	require.Len(t, dr.Groups, 1)
	require.Len(t, dr.Groups[0].Members, 1)
	require.Equal(t, metadata, dr.Groups[0].Members[0].ProtocolMetadata, "member metadata changed after the connection's buffer was reused")
	require.Equal(t, assignment, dr.Groups[0].Members[0].MemberAssignment, "assignment changed after the connection's buffer was reused")
}
