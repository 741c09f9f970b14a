package broker

import (
	"bufio"
	"crypto/rand"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/proto/kafka"
	"mqstack/storage/segment"
)

// A spliced fetch frame written with sendfile over a real TCP connection
// is byte for byte what kmsg encodes with the records inline, for the last
// non-flexible (11) and the flexible (12) version.
func TestSplicedFetchFrameMatchesKmsg(t *testing.T) {
	data := make([]byte, 300<<10)
	_, _ = rand.Read(data)
	path := filepath.Join(t.TempDir(), "00000000000000000000.log")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()

	for _, version := range []int16{11, 12} {
		c := &conn{}
		build := func(inline bool) *kmsg.FetchResponse {
			resp := kmsg.NewPtrFetchResponse()
			resp.SetVersion(version)
			st := kmsg.NewFetchResponseTopic()
			st.Topic = "t"
			for i, r := range [][2]int64{{10, 200 << 10}, {250 << 10, 7}} {
				sp := kmsg.NewFetchResponseTopicPartition()
				sp.Partition, sp.HighWatermark = int32(i), 99
				if inline {
					sp.RecordBatches = data[r[0] : r[0]+r[1]]
				} else {
					fd, err := dupFd(f)
					require.NoError(t, err)
					marker := c.newMarker(len(c.sections))
					c.sections = append(c.sections, fetchSection{marker: marker, sec: &segment.Section{Fd: fd, Path: path, Position: r[0], Length: r[1]}})
					sp.RecordBatches = marker
				}
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
			return resp
		}
		want := kafka.AppendResponse(nil, 7, version >= 12, build(true))
		frame := kafka.AppendResponse(nil, 7, version >= 12, build(false))
		pieces, err := spliceFrame(frame, version >= 12, c.sections)
		require.NoError(t, err)

		client, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		server, err := ln.Accept()
		require.NoError(t, err)
		var zeroCopied int64
		done := make(chan error, 1)
		go func() {
			done <- writePieces(bufio.NewWriter(server), server, pieces, func(n int64) { zeroCopied += n })
			_ = server.Close()
		}()
		got, err := io.ReadAll(client)
		require.NoError(t, err)
		require.NoError(t, <-done)
		_ = client.Close()
		closeSections(c.sections)
		require.Equal(t, len(want), len(got), "v%d", version)
		require.Equal(t, want, got, "v%d", version)
		require.Equal(t, int64(200<<10+7), zeroCopied, "v%d: every record byte went by sendfile", version)
	}
}

func dupFd(f *os.File) (int, error) { return syscall.Dup(int(f.Fd())) }

// Consumers through the real broker get their records by sendfile: the
// zero-copy byte counter follows the bytes out.
func TestFetchUsesSendfile(t *testing.T) {
	b, _ := startBroker(t, nil)
	ctx := ctxT(t)
	cl := newClient(t, b, kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("zc"))
	for i := 0; i < 100; i++ {
		v := make([]byte, 1000)
		_, _ = rand.Read(v) // incompressible
		require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: v}).FirstErr())
	}
	cons := newClient(t, b, kgo.ConsumeTopics("zc"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	n := 0
	for n < 100 {
		fs := cons.PollFetches(ctx)
		require.NoError(t, ctx.Err())
		n += len(fs.Records())
	}
	sent := testutil.ToFloat64(b.metrics.sendfileBytes)
	require.Greater(t, sent, float64(100*1000))
	require.Equal(t, testutil.ToFloat64(b.metrics.bytesOut), sent)
}
