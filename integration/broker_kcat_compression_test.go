package integration

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// segmentCodecs walks the record batches of a segment file and returns the
// codec bits (attributes & 7) of each: batchLength at byte 8, magic at 16,
// attributes at 21 (Kafka's record batch v2 layout).
func segmentCodecs(t *testing.T, path string) []int {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var codecs []int
	for len(data) >= 61 {
		size := 12 + int(binary.BigEndian.Uint32(data[8:]))
		require.LessOrEqual(t, size, len(data), "batch past the end of %s", path)
		require.Equal(t, byte(2), data[16], "magic")
		codecs = append(codecs, int(binary.BigEndian.Uint16(data[21:])&7))
		data = data[size:]
	}
	require.Empty(t, data, "trailing bytes in %s", path)
	return codecs
}

// librdkafka (kcat) decides whether gzip, snappy and lz4 are usable by
// asking whether the broker serves Produce v0 (librdkafka's compr_req
// table); a broker serving only Produce 3+ gets those codecs silently
// uncompressed. With Produce 0-9 advertised, kcat -z really compresses:
// no "does not support compression" in its msg debug log, and the batches
// on disk carry the codec bits (the segment read directly and through
// brokerd dump-log --deep-iteration).
func TestBrokerKcatCompressesEveryCodec(t *testing.T) {
	kcatBin := needKcat(t)
	zks := StartServer(t, kindZkd, ServerOptions{})
	b := startBrokerd(t, 1, zks.Addr()+"/kz", "num.partitions=1")
	value := strings.Repeat("compressible-", 40)
	for codec, bits := range map[string]int{"gzip": 1, "snappy": 2, "lz4": 3} {
		topic := "kz-" + codec
		var in strings.Builder
		for i := range 20 {
			fmt.Fprintf(&in, "%s-%d\n", value, i)
		}
		cmd := exec.Command(kcatBin, "-b", b.Addr, "-t", topic, "-P", "-z", codec, "-d", "msg",
			"-X", "topic.request.required.acks=all", "-X", "linger.ms=50")
		cmd.Stdin = strings.NewReader(in.String())
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			require.NoError(t, err, "kcat -z %s: %s", codec, stderr.String())
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("kcat -z %s hung: %s", codec, stderr.String())
		}
		require.NotContains(t, stderr.String(), "does not support compression", "kcat -z %s", codec)

		seg := filepath.Join(b.logDir(), topic+"-0", "00000000000000000000.log")
		codecs := segmentCodecs(t, seg)
		require.NotEmpty(t, codecs)
		for i, c := range codecs {
			require.Equal(t, bits, c, "batch %d of %s is not %s", i, seg, codec)
		}
		dump := exec.Command(brokerdBinary(t), "dump-log", "--files", seg, "--deep-iteration")
		out, err := dump.CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Regexp(t, `(?m)^baseOffset: 0 .* compresscodec: `+strings.ToUpper(codec)+` crc: \d+ isvalid: true$`, string(out))
		require.NotContains(t, string(out), "compresscodec: NONE")

		got := kcat(t, "", "-b", b.Addr, "-t", topic, "-C", "-o", "beginning", "-e", "-q", "-f", "%s\n")
		require.Equal(t, in.String(), got)
	}
}

// kafka-python 2.0 pinned to api_version (0, 10) and (0, 9): Produce v2/v1
// and Fetch v2/v1 with legacy message sets (magic 1 and 0), gzip-compressed;
// the log holds the up-converted v2 batches, still gzip.
func TestBrokerKafkaPythonLegacyVersions(t *testing.T) {
	py := needPythonModule(t, "kafka", "python3-kafka")
	zks := StartServer(t, kindZkd, ServerOptions{})
	b := startBrokerd(t, 1, zks.Addr()+"/kpl", "num.partitions=1")
	runPython(t, py, "testdata/broker_kafka_python_legacy.py", b.Addr)
	for _, topic := range []string{"kp-legacy-010", "kp-legacy-09"} {
		codecs := segmentCodecs(t, filepath.Join(b.logDir(), topic+"-0", "00000000000000000000.log"))
		require.NotEmpty(t, codecs)
		for i, c := range codecs {
			require.Equal(t, 1, c, "%s batch %d is not gzip", topic, i)
		}
	}
}
