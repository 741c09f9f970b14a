package broker

// AlterReplicaLogDirs (key 34), versions 0-1.
//
// Moves partition logs between this broker's log.dirs, as Kafka 2.8's
// ReplicaManager.alterReplicaLogDirs, per (dir, topic, partition):
//
//   - a dir that is not one of log.dirs (compared as absolute paths) is
//     LOG_DIR_NOT_FOUND;
//   - a partition this broker holds no log of is REPLICA_NOT_AVAILABLE, and
//     the dir is remembered: the log is created there when the partition
//     is assigned here later (Kafka's preferred log dir; kept in memory
//     only, as in Kafka);
//   - a partition already in the dir is a success and changes nothing (a
//     move of it to another dir is cancelled, as Kafka does);
//   - otherwise a future log is created in the dir and the answer is a
//     success at once; a goroutine per move copies the log there and swaps
//     it in (storage/segment/move.go, moveLog below). DescribeLogDirs v1+
//     lists the future log with IsFuture=true until the swap.
//
// Produce, fetch and replication go on during the copy. The swap runs
// under the replica manager's and the partition's locks (appends and the
// partReplica's log pointer are held still) and the old log's own lock
// (appends that do not take the partition's lock, such as group offset
// commits, are held too); the old log is then closed. A fetch that had
// looked up the old log just before the swap reads ErrClosed and looks the
// log up again (01_fetch.go); file sections already handed out stay
// readable on their own descriptors; a produce that had looked it up is
// redone on the new log (00_produce.go). Other requests that meet the
// closed log in that instant answer a retriable error (NOT_LEADER).

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
	"mqstack/storage/checkpoint"
	"mqstack/storage/segment"
)

var alterReplicaLogDirsAPI = api{key: 34, min: 0, max: 1, handle: handleAlterReplicaLogDirs}

// moveCopyBytes is how much a move copies per step between checks for a
// broker stop.
const moveCopyBytes = 1 << 20

func handleAlterReplicaLogDirs(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.AlterReplicaLogDirsRequest)
	resp := kmsg.NewPtrAlterReplicaLogDirsResponse()
	byTopic := map[string]int{}
	answer := func(topic string, p int32, code int16) {
		i, ok := byTopic[topic]
		if !ok {
			i = len(resp.Topics)
			byTopic[topic] = i
			t := kmsg.NewAlterReplicaLogDirsResponseTopic()
			t.Topic = topic
			resp.Topics = append(resp.Topics, t)
		}
		sp := kmsg.NewAlterReplicaLogDirsResponseTopicPartition()
		sp.Partition, sp.ErrorCode = p, code
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, sp)
	}
	for _, d := range req.Dirs {
		ld, found := b.dir.DirByPath(d.Dir)
		for _, t := range d.Topics {
			for _, p := range t.Partitions {
				if !found {
					answer(t.Topic, p, kerr.LogDirNotFound.Code)
					continue
				}
				answer(t.Topic, p, b.startMove(checkpoint.TopicPartition{Topic: t.Topic, Partition: p}, ld))
			}
		}
	}
	return resp, nil
}

// startMove starts moving tp's log to ld and returns the error code.
func (b *Broker) startMove(tp checkpoint.TopicPartition, ld *segment.LogDir) int16 {
	m, err := b.dir.StartMove(tp, ld)
	switch {
	case errors.Is(err, segment.ErrNotHosted):
		b.log.Info().Str("partition", tp.String()).Str("dir", ld.Path()).Msg("AlterReplicaLogDirs for a partition not hosted here: its log will be created in that dir")
		return kerr.ReplicaNotAvailable.Code
	case err != nil:
		b.log.Error().Err(err).Str("partition", tp.String()).Str("dir", ld.Path()).Msg("cannot start moving a partition's log: check the disk and permissions of that log dir")
		return kerr.KafkaStorageError.Code
	case m == nil:
		return 0
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		m.Abort()
		return kerr.KafkaStorageError.Code
	}
	b.wg.Add(1)
	b.mu.Unlock()
	go b.moveLog(m)
	return 0
}

// moveLog drives one move: copies until the future log has caught up,
// then swaps it in under the partition's locks.
func (b *Broker) moveLog(m *segment.Move) {
	defer b.wg.Done()
	tp := m.Partition()
	started := time.Now()
	for {
		select {
		case <-b.stop:
			m.Abort()
			return
		default:
		}
		if b.moveHook != nil {
			b.moveHook(tp)
		}
		caughtUp, err := m.Copy(moveCopyBytes)
		if err == nil && caughtUp {
			if err = b.finishMove(m); err == nil {
				b.log.Info().Str("partition", tp.String()).Str("dir", m.Target().Path()).Dur("took", time.Since(started)).Msg("partition moved to another log dir")
				return
			}
			if errors.Is(err, segment.ErrNotCaughtUp) {
				continue
			}
		}
		if err == nil {
			continue
		}
		if errors.Is(err, segment.ErrMoveAborted) || errors.Is(err, segment.ErrClosed) {
			m.Abort()
			return
		}
		b.log.Error().Err(err).Str("partition", tp.String()).Str("dir", m.Target().Path()).
			Msg("moving a partition's log failed; it stays where it was (check the disk of the target log dir and ask again)")
		m.Abort()
		return
	}
}

// finishMove swaps the moved log in while nothing appends to the
// partition, and points its replica at the new log.
func (b *Broker) finishMove(m *segment.Move) error {
	rm := b.replicas
	rm.mu.Lock()
	defer rm.mu.Unlock()
	pr := rm.parts[m.Partition()]
	if pr != nil {
		pr.mu.Lock()
		defer pr.mu.Unlock()
	}
	nl, err := m.Finish()
	if err != nil {
		return err
	}
	if pr != nil && pr.log == m.Source() {
		pr.log = nl
	}
	b.appended.notify() // fetches waiting on the old log look again
	return nil
}
