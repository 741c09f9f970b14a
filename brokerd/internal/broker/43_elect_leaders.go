package broker

// ElectLeaders (key 43), versions 0-2.
//
// ElectionType 0 (preferred, v0 always) moves each partition's leadership
// to its preferred replica (the first assigned) when that replica is alive
// and in the ISR; 1 (unclean) elects the first live assigned replica of a
// partition without a live leader, even outside the ISR. Null topics mean
// every partition. The state znode is written by this broker at the
// version it read (Kafka forwards to the controller; here any broker
// writes, fenced by the znode version), and the answer waits up to
// TimeoutMillis for the new leaders to be seen. Errors per partition:
// ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE,
// ELIGIBLE_LEADERS_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION, and
// NOT_CONTROLLER when the state changed under the write (retriable).

import (
	"errors"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/coord"
	"mqstack/proto/kafka"
)

var electLeadersAPI = api{key: 43, min: 0, max: 2, handle: handleElectLeaders}

func handleElectLeaders(b *Broker, _ *conn, h kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.ElectLeadersRequest)
	resp := kmsg.NewPtrElectLeadersResponse()
	preferred := h.APIVersion == 0 || req.ElectionType == 0
	if req.ElectionType != 0 && req.ElectionType != 1 {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return resp, nil
	}
	topics := req.Topics
	if topics == nil {
		v := b.view()
		names := make([]string, 0, len(v.Topics))
		for n := range v.Topics {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			rt := kmsg.NewElectLeadersRequestTopic()
			rt.Topic = n
			for p := range v.Topics[n].Partitions {
				rt.Partitions = append(rt.Partitions, p)
			}
			sort.Slice(rt.Partitions, func(i, j int) bool { return rt.Partitions[i] < rt.Partitions[j] })
			topics = append(topics, rt)
		}
	}
	type want struct {
		topic string
		p     int32
	}
	var elected []want
	for _, rt := range topics {
		st := kmsg.NewElectLeadersResponseTopic()
		st.Topic = rt.Topic
		for _, p := range rt.Partitions {
			sp := kmsg.NewElectLeadersResponseTopicPartition()
			sp.Partition = p
			res, err := b.coord.Elect(rt.Topic, p, preferred)
			switch {
			case errors.Is(err, coord.ErrUnknownPartition):
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case err != nil:
				sp.ErrorCode = kerr.NotController.Code
				msg := err.Error()
				sp.ErrorMessage = &msg
			case res == coord.ElectionNotNeeded:
				sp.ErrorCode = kerr.ElectionNotNeeded.Code
			case res == coord.PreferredUnavailable:
				sp.ErrorCode = kerr.PreferredLeaderNotAvailable.Code
				msg := "the preferred replica is not alive or not in the ISR"
				sp.ErrorMessage = &msg
			case res == coord.NoEligibleLeader:
				sp.ErrorCode = kerr.EligibleLeadersNotAvailable.Code
			default:
				elected = append(elected, want{rt.Topic, p})
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if len(elected) > 0 {
		b.coord.WaitFor(time.Duration(max(req.TimeoutMillis, 0))*time.Millisecond, func(v coord.View) bool {
			for _, w := range elected {
				t := v.Topics[w.topic]
				if t == nil {
					continue
				}
				if part := t.Partitions[w.p]; part.State == nil || part.State.Leader == coord.NoLeader {
					return false
				}
			}
			return true
		})
	}
	return resp, nil
}
