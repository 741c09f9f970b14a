package broker

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"mqstack/brokerd/internal/config"
	"mqstack/proto/kafka"
)

// rawConn speaks the wire protocol by hand.
type rawConn struct {
	t  *testing.T
	nc net.Conn
}

func dialRaw(t *testing.T, b *Broker) *rawConn {
	nc, err := net.Dial("tcp", b.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	require.NoError(t, nc.SetDeadline(time.Now().Add(10*time.Second)))
	return &rawConn{t: t, nc: nc}
}

func (r *rawConn) send(corr int32, req kmsg.Request, version int16) {
	req.SetVersion(version)
	id := "raw"
	body := kafka.AppendRequestHeader(nil, kafka.RequestHeader{APIKey: req.Key(), APIVersion: version, CorrelationID: corr, ClientID: &id, Flexible: req.IsFlexible()})
	body = req.AppendTo(body)
	r.write(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body)
}

func (r *rawConn) write(parts ...[]byte) {
	for _, p := range parts {
		_, err := r.nc.Write(p)
		require.NoError(r.t, err)
	}
}

// recv reads one response frame and decodes it into resp at version.
func (r *rawConn) recv(resp kmsg.Response, version int16) int32 {
	frame, err := kafka.ReadFrame(r.nc, nil, 64<<20)
	require.NoError(r.t, err)
	corr := int32(binary.BigEndian.Uint32(frame))
	resp.SetVersion(version)
	body := frame[4:]
	if kafka.ResponseHeaderFlexible(resp.Key(), resp.IsFlexible()) {
		body, err = kafka.SkipTags(body)
		require.NoError(r.t, err)
	}
	require.NoError(r.t, resp.ReadFrom(body))
	return corr
}

// closed asserts the broker closes the connection.
func (r *rawConn) closed() {
	var b [1]byte
	_, err := r.nc.Read(b[:])
	require.ErrorIs(r.t, err, io.EOF)
}

// stillServes checks that a fresh client works.
func stillServes(t *testing.T, b *Broker) {
	r := dialRaw(t, b)
	r.send(1, kmsg.NewPtrApiVersionsRequest(), 3)
	resp := kmsg.NewPtrApiVersionsResponse()
	require.Equal(t, int32(1), r.recv(resp, 3))
	require.Equal(t, int16(0), resp.ErrorCode)
}

func TestAPIVersionsFromRegistryAndFallback(t *testing.T) {
	b, _ := startBroker(t, nil)
	r := dialRaw(t, b)
	r.send(5, kmsg.NewPtrApiVersionsRequest(), 3)
	resp := kmsg.NewPtrApiVersionsResponse()
	require.Equal(t, int32(5), r.recv(resp, 3))
	require.Len(t, resp.ApiKeys, len(apis))
	for _, k := range resp.ApiKeys {
		require.True(t, b.registry.Supports(k.ApiKey, k.MaxVersion))
	}

	// ApiVersions v9 (unknown to this broker): v0 reply with UNSUPPORTED_VERSION.
	frame := kafka.AppendRequestHeader(nil, kafka.RequestHeader{APIKey: 18, APIVersion: 9, CorrelationID: 6, Flexible: true})
	frame = append(frame, 0, 0, 0) // a v3-shaped body: two compact strings and tags
	r.write(binary.BigEndian.AppendUint32(nil, uint32(len(frame))), frame)
	old := kmsg.NewPtrApiVersionsResponse()
	require.Equal(t, int32(6), r.recv(old, 0))
	require.Equal(t, kerr.UnsupportedVersion.Code, old.ErrorCode)
	require.Len(t, old.ApiKeys, len(apis))
}

func TestRequestsAnsweredInOrderAndAcksZeroUnanswered(t *testing.T) {
	b, _ := startBroker(t, nil)
	cl := newClient(t, b, kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("order"))
	require.NoError(t, cl.ProduceSync(ctxT(t), &kgo.Record{Value: []byte("seed")}).FirstErr())

	r := dialRaw(t, b)
	batch, err := kafka.AppendBatch(nil, kafka.NewBatchOptions(), []kafka.Record{{Value: []byte("acks0")}})
	require.NoError(t, err)
	prod := produceRequest("order", 0, 0, 1000, batch)
	// Pipelined: metadata, acks=0 produce, metadata, api versions.
	md := kmsg.NewPtrMetadataRequest()
	r.send(10, md, 9)
	r.send(11, prod, 9)
	r.send(12, md, 9)
	r.send(13, kmsg.NewPtrApiVersionsRequest(), 3)
	require.Equal(t, int32(10), r.recv(kmsg.NewPtrMetadataResponse(), 9))
	require.Equal(t, int32(12), r.recv(kmsg.NewPtrMetadataResponse(), 9)) // 11 is never answered
	require.Equal(t, int32(13), r.recv(kmsg.NewPtrApiVersionsResponse(), 3))
	l, ok := b.dir.Log(tp("order", 0))
	require.True(t, ok)
	require.Equal(t, int64(2), l.LogEndOffset())
}

func TestBadInputClosesOnlyThatConnection(t *testing.T) {
	b, _ := startBroker(t, func(c *config.Config) { c.SocketRequestMaxBytes = 4096 })
	cases := map[string][]byte{
		"garbage":          []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		"oversized":        binary.BigEndian.AppendUint32(nil, 1<<30),
		"negative length":  {0xff, 0xff, 0xff, 0xf0},
		"unknown key":      append([]byte{0, 0, 0, 10}, 0x70, 0x00, 0, 0, 0, 0, 0, 1, 0xff, 0xff),
		"short header":     {0, 0, 0, 3, 0, 18, 0},
		"lying client id":  {0, 0, 0, 12, 0, 3, 0, 1, 0, 0, 0, 1, 0x7f, 0xff, 'a', 'b'},
		"truncated body":   append([]byte{0, 0, 0, 12, 0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xff}, 0, 0),
		"unserved version": append([]byte{0, 0, 0, 10}, 0, 0, 0, 2, 0, 0, 0, 1, 0xff, 0xff), // Produce v2
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			r := dialRaw(t, b)
			r.write(data)
			r.closed()
			stillServes(t, b)
		})
	}
	// A frame that lies about its length and then hangs up mid-frame.
	r := dialRaw(t, b)
	r.write([]byte{0, 0, 0, 100, 0, 18})
	_ = r.nc.Close()
	stillServes(t, b)
}

func TestBadCRCIsCorruptMessage(t *testing.T) {
	b, _ := startBroker(t, nil)
	cl := newClient(t, b, kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("crc"))
	require.NoError(t, cl.ProduceSync(ctxT(t), &kgo.Record{Value: []byte("ok")}).FirstErr())
	batch, err := kafka.AppendBatch(nil, kafka.NewBatchOptions(), []kafka.Record{{Value: []byte("flipped")}})
	require.NoError(t, err)
	batch[len(batch)-3] ^= 0xff
	r := dialRaw(t, b)
	prod := kmsg.NewPtrProduceRequest()
	prod.Acks, prod.TimeoutMillis = 1, 1000
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic = "crc"
	pp := kmsg.NewProduceRequestTopicPartition()
	pp.Records = batch
	pt.Partitions = []kmsg.ProduceRequestTopicPartition{pp}
	prod.Topics = []kmsg.ProduceRequestTopic{pt}
	r.send(1, prod, 7)
	resp := kmsg.NewPtrProduceResponse()
	r.recv(resp, 7)
	require.Equal(t, kerr.CorruptMessage.Code, resp.Topics[0].Partitions[0].ErrorCode)
	// Garbage that is not a batch at all.
	pp.Records = []byte("not a record batch")
	pt.Partitions = []kmsg.ProduceRequestTopicPartition{pp}
	prod.Topics = []kmsg.ProduceRequestTopic{pt}
	r.send(2, prod, 7)
	r.recv(resp, 7)
	require.NotEqual(t, int16(0), resp.Topics[0].Partitions[0].ErrorCode)
	l, _ := b.dir.Log(tp("crc", 0))
	require.Equal(t, int64(1), l.LogEndOffset())
}

// ListOffsets v0 answers in OldStyleOffsets.
func TestListOffsetsV0(t *testing.T) {
	b, _ := startBroker(t, nil)
	cl := newClient(t, b, kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("v0"))
	require.NoError(t, cl.ProduceSync(ctxT(t), &kgo.Record{Value: []byte("a")}, &kgo.Record{Value: []byte("b")}).FirstErr())
	r := dialRaw(t, b)
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = "v0"
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp, rp.MaxNumOffsets = -1, 1
	rt.Partitions = []kmsg.ListOffsetsRequestTopicPartition{rp}
	req.Topics = []kmsg.ListOffsetsRequestTopic{rt}
	r.send(1, req, 0)
	resp := kmsg.NewPtrListOffsetsResponse()
	r.recv(resp, 0)
	require.Equal(t, []int64{2}, resp.Topics[0].Partitions[0].OldStyleOffsets)
}
