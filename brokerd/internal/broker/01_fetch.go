package broker

// Fetch (key 1), versions 0-12. v0-3 answer with legacy message sets:
// the batches are read as a copy and down-converted (legacy.go), not sent
// with sendfile; a zstd batch there is UNSUPPORTED_COMPRESSION_TYPE.
//
// Reads whole batches from storage/segment up to the high watermark:
// PartitionMaxBytes per partition and MaxBytes for the response, except
// that the first batch found is returned even when larger (so a consumer
// always progresses, as Kafka's minOneMessage). When fewer than MinBytes
// are available the request waits up to MaxWaitMillis for appends, then
// answers with what there is. Fetch sessions (v7+, KIP-227) are kept in
// fetchsession.go: a full fetch with session epoch 0 gets a session id
// when the cache has room (id 0 otherwise, and the client goes on with
// full fetches); an incremental fetch reads every partition of its
// session, in the session's order (partitions whose records were sent
// move to the end), and is answered with only the partitions that have
// records, new offsets or an error; a wrong epoch or an unknown session is
// INVALID_FETCH_SESSION_EPOCH or FETCH_SESSION_ID_NOT_FOUND for the whole
// request. The record bytes of a partition go from the segment file to the
// socket with sendfile (sendfile.go), never through
// user space, when they are sendfileMin bytes or more; smaller ones (the
// few batches a follower or consumer at the log end gets each time) are
// copied with one pread, which costs less than the dup, sendfile, close
// and extra write of a spliced frame. A log on the in-memory file system of
// tests is copied.
// Errors per partition: OFFSET_OUT_OF_RANGE, UNKNOWN_TOPIC_OR_PARTITION,
// NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE. A fetch with a replica id
// (a follower) reads up to the log end offset instead of the high
// watermark, is checked against the leader epoch (FENCED_LEADER_EPOCH,
// UNKNOWN_LEADER_EPOCH) and moves the follower's LEO, the ISR and the
// high watermark (replication.go).

import (
	"errors"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
	"mqstack/storage/checkpoint"
	"mqstack/storage/segment"
)

var fetchAPI = api{key: 1, min: 0, max: 12, handle: handleFetch}

// maxFetchWait bounds MaxWaitMillis so a drain is not held up for long.
const maxFetchWait = 30 * time.Second

// sendfileMin is the smallest partition read sent with sendfile.
const sendfileMin = 32 << 10

func handleFetch(b *Broker, c *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.FetchRequest)
	fc := b.fetchSessions.open(req)
	if fc.errCode != 0 {
		resp := kmsg.NewPtrFetchResponse()
		resp.ErrorCode = fc.errCode
		return resp, nil
	}
	read := req
	if fc.session != nil {
		// An incremental fetch reads every partition of its session.
		sessionReq := *req
		sessionReq.Topics = fc.topics
		read = &sessionReq
	}
	resp := b.waitFetch(c, read)
	if code := b.fetchSessions.finish(&fc, req, resp); code != 0 {
		closeSections(c.sections)
		c.sections = nil
		sessionID := resp.SessionID
		resp = kmsg.NewPtrFetchResponse()
		resp.ErrorCode, resp.SessionID = code, sessionID
	}
	return resp, nil
}

// waitFetch reads the request's partitions, waiting up to MaxWaitMillis
// for MinBytes.
func (b *Broker) waitFetch(c *conn, req *kmsg.FetchRequest) *kmsg.FetchResponse {
	wait := min(time.Duration(req.MaxWaitMillis)*time.Millisecond, maxFetchWait)
	deadline := time.Now().Add(wait)
	// Followers wait for appends (they read to the log end), consumers for
	// high watermark moves (they read to it): neither is woken by the
	// other's event.
	sig := b.replicas.hwMoved
	if req.ReplicaID >= 0 {
		sig = b.appended
	}
	for first := true; ; first = false {
		woke := sig.wait()
		resp, total, hasError := b.readFetch(c, req, first)
		if hasError || total >= int(req.MinBytes) || wait <= 0 {
			return resp
		}
		left := time.Until(deadline)
		if left <= 0 {
			return resp
		}
		t := time.NewTimer(left)
		select {
		case <-woke:
			t.Stop()
		case <-t.C:
			resp, _, _ = b.readFetch(c, req, false)
			return resp
		case <-b.stop:
			t.Stop()
			return resp
		}
	}
}

// readFetch reads what the request asks for; record is true on the first
// read of a request, when a follower's fetch offsets are recorded (a fetch
// waiting for data is re-read without counting it again).
// The file sections of the response are kept in c.sections (those of an
// earlier read of the same request are released).
func (b *Broker) readFetch(c *conn, req *kmsg.FetchRequest, record bool) (*kmsg.FetchResponse, int, bool) {
	closeSections(c.sections)
	c.sections = nil
	resp := kmsg.NewPtrFetchResponse()
	left := int(req.MaxBytes)
	if left <= 0 {
		left = 1
	}
	total, hasError := 0, false
	for _, rt := range req.Topics {
		st := kmsg.NewFetchResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewFetchResponseTopicPartition()
			sp.Partition = rp.Partition
			l, limit, code := b.fetchLog(req.ReplicaID, rt.Topic, &rp, record)
			if code != 0 {
				sp.ErrorCode = code
				sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = -1, -1, -1
				hasError = true
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			maxBytes := min(int(rp.PartitionMaxBytes), left)
			if total > 0 && maxBytes <= 0 {
				maxBytes = 0
			}
			sec, data, res, err := readFetchPartition(req.Version, l, rp.FetchOffset, maxBytes, limit, total)
			if errors.Is(err, segment.ErrClosed) {
				// The log moved to another log dir (AlterReplicaLogDirs)
				// after the lookup: read the partition's log now.
				if l2, limit2, code := b.fetchLog(req.ReplicaID, rt.Topic, &rp, false); code == 0 && l2 != l {
					sec, data, res, err = readFetchPartition(req.Version, l2, rp.FetchOffset, maxBytes, limit2, total)
				}
			}
			sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = res.HighWatermark, res.HighWatermark, res.LogStartOffset
			if err != nil {
				if errors.Is(err, segment.ErrOffsetOutOfRange) {
					sp.ErrorCode = kerr.OffsetOutOfRange.Code
				} else if errors.Is(err, kafka.ErrUnsupportedCompression) {
					sp.ErrorCode = kerr.UnsupportedCompressionType.Code
				} else {
					sp.ErrorCode = kerr.KafkaStorageError.Code
					b.log.Error().Err(err).Str("topic", rt.Topic).Int32("partition", rp.Partition).Msg("fetch read failed")
				}
				hasError = true
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			n := len(data)
			switch {
			case sec != nil:
				// Sent from the file: a marker stands in until the frame is written.
				marker := c.newMarker(len(c.sections))
				c.sections = append(c.sections, fetchSection{marker: marker, sec: sec})
				sp.RecordBatches, n = marker, int(sec.Length)
			case data == nil:
				sp.RecordBatches = []byte{} // size 0, never null: librdkafka rejects a null record set
			default:
				sp.RecordBatches = data
			}
			b.metrics.bytesOut.Add(float64(n))
			if req.ReplicaID >= 0 {
				b.leaderSent(rt.Topic, rp.Partition, n)
			}
			total += n
			left -= n
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, total, hasError
}

// readFetchPartition reads one partition's batches for a fetch response
// that already holds total bytes: as a file section or a copy, down-
// converted for old versions.
func readFetchPartition(version int16, l *segment.Log, offset int64, maxBytes int, limit int64, total int) (sec *segment.Section, data []byte, res segment.ReadResult, err error) {
	if maxBytes <= 0 && total > 0 {
		_, res, err = l.ReadBytes(offset, 0, -1)
		return nil, nil, res, err
	}
	if version <= legacyFetch {
		data, res, err = readDownConverted(l, version, offset, max(maxBytes, 1), limit, total > 0)
		return nil, data, res, err
	}
	if total > 0 {
		// Only the first batch of the response may exceed the limits.
		return readWithin(l, offset, maxBytes, limit)
	}
	return l.ReadSectionCopyBelow(offset, max(maxBytes, 1), limit, sendfileMin)
}

// fetchLog returns the log to read, the offset reads stop at and the
// error code: consumers read up to the high watermark; a follower (replica
// id >= 0) reads up to the log end offset, and its fetch offset is its log
// end offset for the leader's replica state (replication.go).
func (b *Broker) fetchLog(replicaID int32, topic string, rp *kmsg.FetchRequestTopicPartition, record bool) (*segment.Log, int64, int16) {
	l, _, code := b.leaderLog(topic, rp.Partition)
	if code != 0 || replicaID < 0 {
		if code != 0 {
			return nil, 0, code
		}
		return l, l.HighWatermark(), 0
	}
	tp := checkpoint.TopicPartition{Topic: topic, Partition: rp.Partition}
	l, code = b.replicas.replicaFetch(replicaID, tp, rp, record)
	if code != 0 {
		return nil, 0, code
	}
	if ok, _ := b.leaderThrottle(tp); !ok {
		return l, rp.FetchOffset, 0 // leader.replication.throttled.rate in debt: no data now
	}
	return l, math.MaxInt64, 0
}

// readWithin reads up to maxBytes without the one-batch exception: a batch
// that does not fit is left for the next fetch.
func readWithin(l *segment.Log, offset int64, maxBytes int, limit int64) (*segment.Section, []byte, segment.ReadResult, error) {
	sec, data, res, err := l.ReadSectionCopyBelow(offset, maxBytes, limit, sendfileMin)
	if err != nil || res.Length <= int64(maxBytes) {
		return sec, data, res, err
	}
	if sec != nil {
		_ = sec.Close()
	}
	return nil, nil, res, nil
}
