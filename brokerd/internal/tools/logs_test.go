package tools

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// kafka-dump-log over the segment brokerd wrote shows the records the
// console producer sent; kafka-delete-records moves the log start offset;
// kafka-broker-api-versions lists every key.
func TestDumpLogDeleteRecordsAPIVersionsGolden(t *testing.T) {
	c := startCluster(t, 1, nil)
	bs := c.bootstrap()
	ok(t, "", "topics", "--bootstrap-server", bs, "--create", "--topic", "dl", "--partitions", "1", "--replication-factor", "1")
	ok(t, "k1\tfirst\nk2\tsecond\nk3\tthird\n", "console-producer", "--bootstrap-server", bs, "--topic", "dl", "--property", "parse.key=true", "--sync")
	recs := consumeAll(t, bs, "dl", 3)

	seg := filepath.Join(c.dirs[0], "dl-0", "00000000000000000000.log")
	r := ok(t, "", "dump-log", "--files", seg, "--print-data-log")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Equal(t, "Dumping "+seg, lines[0])
	require.Equal(t, "Starting offset: 0", lines[1])
	// --sync sends one record per batch: batch line, record line, three times.
	require.Len(t, lines, 8, r.stdout)
	pos := 0
	for i, rec := range recs {
		batch := regexp.MustCompile(fmt.Sprintf(`^baseOffset: %d lastOffset: %d count: 1 baseSequence: %d lastSequence: %d producerId: \d+ producerEpoch: 0 partitionLeaderEpoch: \d+ isTransactional: false isControl: false position: %d CreateTime: %d size: (\d+) magic: 2 compresscodec: NONE crc: \d+ isvalid: true$`,
			i, i, i, i, pos, rec.Timestamp.UnixMilli()))
		m := batch.FindStringSubmatch(lines[2+2*i])
		require.NotNil(t, m, "batch line %d: %s", i, lines[2+2*i])
		var size int
		fmt.Sscan(m[1], &size)
		pos += size
		require.Equal(t, fmt.Sprintf("| offset: %d CreateTime: %d keysize: 2 valuesize: %d sequence: %d headerKeys: [] key: %s payload: %s",
			i, rec.Timestamp.UnixMilli(), len(rec.Value), i, rec.Key, rec.Value), lines[3+2*i])
	}
	st, err := os.Stat(seg)
	require.NoError(t, err)
	require.Equal(t, st.Size(), int64(pos))
	// Without --print-data-log: batches only.
	r = ok(t, "", "dump-log", "--files", seg)
	require.Equal(t, 5, strings.Count(r.stdout, "\n"))
	r = ok(t, "", "dump-log", "--files", strings.TrimSuffix(seg, ".log")+".timeindex,"+strings.TrimSuffix(seg, ".log")+".index", "--index-sanity-check")
	require.Contains(t, r.stdout, "00000000000000000000.index passed sanity check.\n")

	r = run(t, "", "dump-log", "--files", filepath.Join(c.dirs[0], "missing.log"))
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "Error: cannot read ")

	// Delete the first two records.
	js := filepath.Join(t.TempDir(), "offsets.json")
	require.NoError(t, os.WriteFile(js, []byte(`{"partitions":[{"topic":"dl","partition":0,"offset":2}],"version":1}`), 0o644))
	r = ok(t, "", "delete-records", "--bootstrap-server", bs, "--offset-json-file", js)
	require.Equal(t, "Executing records delete operation\nRecords delete operation completed:\npartition: dl-0\tlow_watermark: 2\n", r.stdout)
	r = ok(t, "", "console-consumer", "--bootstrap-server", bs, "--topic", "dl", "--from-beginning", "--max-messages", "1", "--property", "print.offset=true")
	require.Equal(t, "Offset:2\tthird\n", r.stdout)
	require.NoError(t, os.WriteFile(js, []byte(`{"partitions":[{"topic":"dl","partition":0,"offset":99}],"version":1}`), 0o644))
	r = ok(t, "", "delete-records", "--bootstrap-server", bs, "--offset-json-file", js)
	require.Equal(t, "Executing records delete operation\nRecords delete operation completed:\npartition: dl-0\terror: org.apache.kafka.common.errors.OffsetOutOfRangeException: The requested offset is not within the range of offsets maintained by the server.\n", r.stdout)

	r = ok(t, "", "broker-api-versions", "--bootstrap-server", bs)
	host := bs[:strings.LastIndexByte(bs, ':')]
	port := bs[strings.LastIndexByte(bs, ':')+1:]
	require.True(t, strings.HasPrefix(r.stdout, fmt.Sprintf("%s:%s (id: 1 rack: null) -> (\n\tProduce(0): ", host, port)), r.stdout)
	require.Regexp(t, `\n\tFetch\(1\): \d+ to \d+ \[usable: \d+\],\n`, r.stdout)
	require.Regexp(t, `\n\tLeaderAndIsr\(4\): UNSUPPORTED,\n`, r.stdout)
	require.Regexp(t, `\n\tApiVersions\(18\): 0 to 3 \[usable: 3\],\n`, r.stdout)
	require.True(t, strings.HasSuffix(r.stdout, "\n)\n"), r.stdout)
}
