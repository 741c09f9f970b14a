package broker

// DescribeLogDirs (key 35), versions 0-2.
//
// One entry per log.dirs directory (its absolute path), each with the size
// of every partition log it holds, filtered by the topics asked for (all
// when the list is null). A directory holding none of them is still
// listed, as Kafka does. A partition being moved to another dir
// (AlterReplicaLogDirs) is listed in both: in its current dir, and in the
// target dir with IsFuture=true, its future log's size and OffsetLag (the
// current log end offset minus the future one). OffsetLag is otherwise 0.

import (
	"path/filepath"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
	"mqstack/storage/segment"
)

var describeLogDirsAPI = api{key: 35, min: 0, max: 2, handle: handleDescribeLogDirs}

func handleDescribeLogDirs(b *Broker, _ *conn, _ kafka.RequestHeader, r kmsg.Request) (kmsg.Response, error) {
	req := r.(*kmsg.DescribeLogDirsRequest)
	resp := kmsg.NewPtrDescribeLogDirsResponse()
	want := func(topic string, p int32) bool {
		if req.Topics == nil {
			return true
		}
		for _, t := range req.Topics {
			if t.Topic == topic {
				for _, q := range t.Partitions {
					if q == p {
						return true
					}
				}
			}
		}
		return false
	}
	for _, ld := range b.dir.Dirs() {
		resp.Dirs = append(resp.Dirs, describeLogDir(b.dir, ld, want))
	}
	return resp, nil
}

// describeLogDir is one log dir's entry: the partitions it holds that are
// wanted, with their sizes, by topic.
func describeLogDir(all *segment.Dirs, ld *segment.LogDir, want func(string, int32) bool) kmsg.DescribeLogDirsResponseDir {
	dir := kmsg.NewDescribeLogDirsResponseDir()
	dir.Dir, _ = filepath.Abs(ld.Path())
	byTopic := map[string][]kmsg.DescribeLogDirsResponseDirTopicPartition{}
	for _, tp := range ld.Partitions() {
		if !want(tp.Topic, tp.Partition) {
			continue
		}
		l, ok := ld.Log(tp)
		if !ok {
			continue
		}
		p := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
		p.Partition, p.Size = tp.Partition, l.Size()
		byTopic[tp.Topic] = append(byTopic[tp.Topic], p)
	}
	for _, tp := range ld.Futures() {
		f, ok := ld.Future(tp)
		if !ok || !want(tp.Topic, tp.Partition) {
			continue
		}
		p := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
		p.Partition, p.Size, p.IsFuture = tp.Partition, f.Size(), true
		if cur, ok := all.Log(tp); ok {
			p.OffsetLag = max(cur.LogEndOffset()-f.LogEndOffset(), 0)
		}
		byTopic[tp.Topic] = append(byTopic[tp.Topic], p)
	}
	names := make([]string, 0, len(byTopic))
	for n := range byTopic {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := kmsg.NewDescribeLogDirsResponseDirTopic()
		t.Topic, t.Partitions = n, byTopic[n]
		dir.Topics = append(dir.Topics, t)
	}
	return dir
}
