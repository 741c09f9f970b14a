package tools

// kafka-reassign-partitions.sh's log directory moves: log_dirs entries
// other than "any" are sent as AlterReplicaLogDirs to the brokers named
// (--execute, retried while a broker answers REPLICA_NOT_AVAILABLE, up to
// --timeout), and --verify reports each move from DescribeLogDirs, with
// Kafka 2.8's messages.

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// errLogDirsNeedBootstrap is Kafka's answer to log_dirs with --zookeeper.
var errLogDirsNeedBootstrap = errors.New("bootstrap-server needs to be provided when replica reassignments are present.")

// sortMoves orders replicas as Kafka's compareTopicPartitionReplicas.
func sortMoves(moves map[replicaMove]string) []replicaMove {
	out := make([]replicaMove, 0, len(moves))
	for r := range moves {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Topic != b.Topic {
			return a.Topic < b.Topic
		}
		if a.Partition != b.Partition {
			return a.Partition < b.Partition
		}
		return a.broker < b.broker
	})
	return out
}

func joinMoves(rs []replicaMove) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, ",")
}

// executeMoves sends the moves until every broker has started them.
func executeMoves(e *Env, moves map[replicaMove]string, timeout time.Duration) error {
	pending := map[replicaMove]string{}
	for r, d := range moves {
		pending[r] = d
	}
	deadline := time.Now().Add(timeout)
	for {
		started, err := alterReplicaLogDirs(e, pending)
		if err != nil {
			return err
		}
		if len(started) > 0 {
			s := "s"
			if len(started) == 1 {
				s = ""
			}
			fmt.Fprintf(e.Stdout, "Successfully started log directory move%s for: %s\n", s, joinMoves(started))
		}
		for _, r := range started {
			delete(pending, r)
		}
		if len(pending) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			s := "s"
			if len(pending) == 1 {
				s = ""
			}
			return fmt.Errorf("Timed out before log directory move%s could be started for: %s (the brokers answer REPLICA_NOT_AVAILABLE "+
				"until they host the replica; raise --timeout or run --execute again)", s, joinMoves(sortMoves(pending)))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// alterReplicaLogDirs sends one AlterReplicaLogDirs per broker and returns
// the moves started; REPLICA_NOT_AVAILABLE leaves a move pending, any
// other error fails.
func alterReplicaLogDirs(e *Env, moves map[replicaMove]string) ([]replicaMove, error) {
	byBroker := map[int32]*kmsg.AlterReplicaLogDirsRequest{}
	for _, r := range sortMoves(moves) {
		req := byBroker[r.broker]
		if req == nil {
			req = kmsg.NewPtrAlterReplicaLogDirsRequest()
			byBroker[r.broker] = req
		}
		dir := moves[r]
		i := 0
		for i < len(req.Dirs) && req.Dirs[i].Dir != dir {
			i++
		}
		if i == len(req.Dirs) {
			d := kmsg.NewAlterReplicaLogDirsRequestDir()
			d.Dir = dir
			req.Dirs = append(req.Dirs, d)
		}
		d := &req.Dirs[i]
		j := 0
		for j < len(d.Topics) && d.Topics[j].Topic != r.Topic {
			j++
		}
		if j == len(d.Topics) {
			t := kmsg.NewAlterReplicaLogDirsRequestDirTopic()
			t.Topic = r.Topic
			d.Topics = append(d.Topics, t)
		}
		d.Topics[j].Partitions = append(d.Topics[j].Partitions, r.Partition)
	}
	var started []replicaMove
	var failed []string
	for id, req := range byBroker {
		ctx, cancel := e.op()
		resp, err := req.RequestWith(ctx, e.cl.Broker(int(id)))
		cancel()
		if err != nil {
			return nil, fmt.Errorf("broker %d did not answer AlterReplicaLogDirs: %w (is broker %d up?)", id, err, id)
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				r := replicaMove{topicPartition{t.Topic, p.Partition}, id}
				switch err := kerr.ErrorForCode(p.ErrorCode); {
				case err == nil:
					started = append(started, r)
				case errors.Is(err, kerr.ReplicaNotAvailable):
				default:
					failed = append(failed, fmt.Sprintf("Failed to alter dir for %s to %s: %v", r, moves[r], err))
				}
			}
		}
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		return nil, errors.New(strings.Join(failed, "; "))
	}
	m := map[replicaMove]string{}
	for _, r := range started {
		m[r] = ""
	}
	return sortMoves(m), nil
}

// replicaDirs is where DescribeLogDirs puts a replica: its current dir and
// the dir of its future log ("" when none).
type replicaDirs struct{ current, future string }

// verifyMoves prints each move's state (Kafka's replicaMoveStatesToString)
// and reports whether all are complete.
func verifyMoves(e *Env, moves map[replicaMove]string) (bool, error) {
	found := map[replicaMove]replicaDirs{}
	answered := map[int32]bool{}
	for _, r := range sortMoves(moves) {
		if answered[r.broker] {
			continue
		}
		req := kmsg.NewPtrDescribeLogDirsRequest() // all topics
		ctx, cancel := e.op()
		resp, err := req.RequestWith(ctx, e.cl.Broker(int(r.broker)))
		cancel()
		if err != nil {
			continue // reported as not found on that broker
		}
		answered[r.broker] = true
		for _, d := range resp.Dirs {
			if kerr.ErrorForCode(d.ErrorCode) != nil {
				continue
			}
			for _, t := range d.Topics {
				for _, p := range t.Partitions {
					key := replicaMove{topicPartition{t.Topic, p.Partition}, r.broker}
					rd := found[key]
					if p.IsFuture {
						rd.future = d.Dir
					} else {
						rd.current = d.Dir
					}
					found[key] = rd
				}
			}
		}
	}
	done := true
	for _, r := range sortMoves(moves) {
		target := moves[r]
		rd, ok := found[r]
		var line string
		complete := false
		switch {
		case !answered[r.broker]:
			line = fmt.Sprintf("Partition %s cannot be found in any live log directory on broker %d.", r.topicPartition, r.broker)
		case !ok || rd.current == "":
			line = fmt.Sprintf("Partition %s is not found in any live log dir on broker %d. There is likely an offline log directory on the broker.", r.topicPartition, r.broker)
		case rd.future == "" && rd.current == target:
			line = fmt.Sprintf("Reassignment of replica %s completed successfully.", r)
			complete = true
		case rd.future == "":
			line = fmt.Sprintf("Partition %s on broker %d is not being moved from log dir %s to %s.", r.topicPartition, r.broker, rd.current, target)
		case rd.future == target:
			line = fmt.Sprintf("Reassignment of replica %s is still in progress.", r)
		default:
			line = fmt.Sprintf("Partition %s on broker %d is being moved to log dir %s instead of %s.", r.topicPartition, r.broker, rd.future, target)
		}
		done = done && complete
		fmt.Fprintln(e.Stdout, line)
	}
	return done, nil
}
