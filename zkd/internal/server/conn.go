package server

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"mqstack/proto/jute"
)

// conn is one client connection. The reader goroutine frames requests and
// hands them to the owner goroutine; the writer goroutine drains an
// unbounded queue so the owner never blocks on a slow client.
type conn struct {
	id     int64
	nc     net.Conn
	remote string
	ip     string
	s      *Server
	log    zerolog.Logger

	mu      sync.Mutex
	queue   []outMsg
	wake    chan struct{}
	closing bool // a close marker was queued or the conn is gone
	done    chan struct{}
	stop    chan struct{} // closed by closeNow: the writer exits at once
	drained chan struct{} // signalled by the writer after each flush
	stopped sync.Once

	// Owned by the server goroutine.
	session   int64
	timeout   int32
	auth      []jute.ID
	gone      bool
	oldClient bool
	lastOp    string
	lastCxid  int64
	lastZxid  int64
	lastResp  int64
	latMin    int64
	latMax    int64
	latTotal  int64
	latCount  int64
	lastLat   int64
	establish int64
	// Ensemble mode (owner goroutine): fake marks the stand-in for a
	// learner's client on the leader (nothing is ever sent to it);
	// fwdPending counts requests forwarded to the leader and not yet
	// answered; parked holds the later requests that wait behind them.
	fake       bool
	fwdPending int
	parked     []event
	replaying  bool // unpark is handling the head of parked

	received atomic.Int64
	sent     atomic.Int64
	queued   atomic.Int64
	inflight atomic.Int64 // requests posted to the owner and not yet handled
	active   atomic.Int64 // ms since epoch of the last frame received (dump's connection expiry)
}

type outMsg struct {
	buf   []byte
	close bool
}

func newConn(s *Server, id int64, nc net.Conn) *conn {
	remote := nc.RemoteAddr().String()
	ip, _, _ := net.SplitHostPort(remote)
	c := &conn{id: id, nc: nc, remote: remote, ip: ip, s: s, wake: make(chan struct{}, 1),
		done: make(chan struct{}), stop: make(chan struct{}), drained: make(chan struct{}, 1), lastCxid: -1, latMin: -1,
		establish: time.Now().UnixMilli()}
	c.log = s.log.With().Str("remote", remote).Int64("conn", id).Logger()
	c.active.Store(c.establish)
	c.auth = []jute.ID{{Scheme: "ip", ID: ip}}
	return c
}

// enqueue adds frames to the outbound queue; close=true closes the
// connection after everything queued before it is written. The server
// counted m in queued when it produced it (send/sendClose).
func (c *conn) enqueue(m outMsg) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		c.queued.Add(-1)
		return
	}
	if m.close {
		c.closing = true
	}
	c.queue = append(c.queue, m)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// closeNow drops the connection without flushing.
func (c *conn) closeNow() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	_ = c.nc.Close()
	c.stopped.Do(func() { close(c.stop) })
}

func (c *conn) writer() {
	defer close(c.done)
	bw := bufio.NewWriterSize(c.nc, 64<<10)
	for {
		c.mu.Lock()
		q := c.queue
		c.queue = nil
		c.mu.Unlock()
		if len(q) == 0 {
			select {
			case <-c.wake:
				continue
			case <-c.stop:
				return
			case <-c.s.quit:
				// Shutting down: write what the last batch queued, then close.
				c.mu.Lock()
				q = c.queue
				c.queue = nil
				c.closing = true
				c.mu.Unlock()
				_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
				for _, m := range q {
					if m.buf != nil {
						if _, err := bw.Write(m.buf); err != nil {
							break
						}
					}
				}
				_ = bw.Flush()
				_ = c.nc.Close()
				return
			}
		}
		for _, m := range q {
			c.queued.Add(-1)
			if m.buf != nil {
				_ = c.nc.SetWriteDeadline(time.Now().Add(c.s.writeTimeout))
				if _, err := bw.Write(m.buf); err != nil {
					c.log.Debug().Err(err).Msg("write failed; closing connection")
					_ = c.nc.Close()
					return
				}
				c.sent.Add(1)
				c.s.stats.sent.Add(1)
			}
			if m.close {
				_ = bw.Flush()
				_ = c.nc.Close()
				return
			}
		}
		if err := bw.Flush(); err != nil {
			c.log.Debug().Err(err).Msg("flush failed; closing connection")
			_ = c.nc.Close()
			return
		}
		select {
		case c.drained <- struct{}{}:
		default:
		}
	}
}

// maxQueuedPerConn bounds the replies queued for one connection before its
// reader pauses.
const maxQueuedPerConn = 1000

// errFrame reports a frame the server refuses (size or shape).
var errFrame = errors.New("server: bad frame")

// reader runs the connection's input side: the first four bytes are either
// a four-letter word or the length of the ConnectRequest.
func (c *conn) reader() {
	defer func() {
		c.s.post(event{kind: evClosed, c: c})
		c.closeNow()
	}()
	br := bufio.NewReaderSize(c.nc, 64<<10)
	_ = c.nc.SetReadDeadline(time.Now().Add(c.s.HandshakeTimeout))
	var lenBuf [4]byte
	if _, err := io.ReadFull(br, lenBuf[:]); err != nil {
		c.log.Debug().Err(err).Msg("connection closed before the handshake")
		_ = c.nc.Close()
		return
	}
	if word := string(lenBuf[:]); isFourLetterWord(word) {
		c.s.serveFourLetterWord(c, word)
		return
	}
	first := true
	for {
		n := int32(binary.BigEndian.Uint32(lenBuf[:]))
		if n < 0 || int(n) > c.s.maxBuffer {
			c.log.Warn().Int32("len", n).Int("jute.maxbuffer", c.s.maxBuffer).
				Msg("closing connection: packet length is negative or larger than jute.maxbuffer (raise jute.maxbuffer in zoo.cfg if the client is legitimate)")
			_ = c.nc.Close()
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			c.log.Debug().Err(err).Msg("connection closed mid-frame")
			_ = c.nc.Close()
			return
		}
		c.received.Add(1)
		c.s.stats.received.Add(1)
		c.active.Store(time.Now().UnixMilli())
		if first {
			first = false
			var req jute.ConnectRequest
			d := jute.NewDecoder(body)
			d.Max = c.s.maxBuffer
			req.Decode(d)
			if d.Err() != nil {
				c.log.Warn().Err(d.Err()).Msg("closing connection: malformed ConnectRequest")
				_ = c.nc.Close()
				return
			}
			// Session liveness takes over from the handshake deadline.
			_ = c.nc.SetReadDeadline(time.Time{})
			c.s.post(event{kind: evConnect, c: c, connect: &req})
		} else {
			h, rest, err := parseRequest(body)
			if err != nil {
				c.log.Warn().Err(err).Msg("closing connection: request shorter than its header")
				_ = c.nc.Close()
				return
			}
			c.inflight.Add(1)
			c.s.post(event{kind: evRequest, c: c, hdr: h, body: rest, at: time.Now()})
			// Backpressure: a client that does not read its replies stops
			// being read (Apache disables receive past its outstanding limit).
			for c.inflight.Load()+c.queued.Load() > maxQueuedPerConn {
				select {
				case <-c.drained:
				case <-c.stop:
					return
				case <-c.s.quit:
					return
				}
			}
		}
		if _, err := io.ReadFull(br, lenBuf[:]); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.log.Debug().Err(err).Msg("read failed; closing connection")
			}
			_ = c.nc.Close()
			return
		}
	}
}

// frame encodes a reply header and optional body as one length-prefixed frame.
func frame(h *jute.ReplyHeader, body jute.Record) []byte {
	if body == nil {
		return jute.AppendFrame(nil, h)
	}
	return jute.AppendFrame(nil, h, body)
}

// parseRequest splits a request frame into its RequestHeader and body.
func parseRequest(frame []byte) (jute.RequestHeader, []byte, error) {
	var h jute.RequestHeader
	d := jute.NewDecoder(frame)
	h.Decode(d)
	if d.Err() != nil {
		return h, nil, fmt.Errorf("%w: %w", errFrame, d.Err())
	}
	return h, frame[d.Offset():], nil
}
