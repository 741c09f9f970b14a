package broker

// InitProducerId (key 22), versions 0-4.
//
// An idempotent (non-transactional) producer gets a fresh producer id at
// epoch 0, from blocks of 1000 reserved in /latest_producer_id_block, as
// Kafka's ProducerIdManager does. A transactional id answers
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED: transactions come in a later issue.

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
)

var initProducerIDAPI = api{key: 22, min: 0, max: 4, handle: handleInitProducerID}

// producerIDs hands out ids from the current block.
type producerIDs struct {
	mu        sync.Mutex
	next, end int64 // next to give; end of the block (inclusive); next > end = none
}

func handleInitProducerID(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.InitProducerIDRequest)
	resp := kmsg.NewPtrInitProducerIDResponse()
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return resp, nil
	}
	p := &b.pids
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next > p.end {
		start, end, err := b.coord.AllocateProducerIDBlock()
		if err != nil {
			b.log.Error().Err(err).Msg("allocating a producer id block failed")
			resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
			return resp, nil
		}
		p.next, p.end = start, end
	}
	resp.ProducerID, resp.ProducerEpoch = p.next, 0
	p.next++
	return resp, nil
}
