package quorum

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"mqstack/proto/peer"
)

// writeFrame writes one length-prefixed peer message.
func writeFrame(w io.Writer, m peer.Msg) error {
	body, err := peer.Encode(m)
	if err != nil {
		return err
	}
	buf := make([]byte, 4, 4+len(body))
	binary.BigEndian.PutUint32(buf, uint32(len(body)))
	buf = append(buf, body...)
	_, err = w.Write(buf)
	return err
}

// readFrame reads one length-prefixed peer message, refusing a length above
// limit before reading the body.
func readFrame(r io.Reader, limit int) (peer.Msg, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || int64(n) > int64(limit) {
		return nil, fmt.Errorf("%w: frame of %d bytes (limit %d)", ErrPeer, n, limit)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	m, err := peer.DecodeLimit(body, limit)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPeer, err)
	}
	return m, nil
}

// handshake sends our Hello and reads the peer's within timeout; it returns
// the peer's server id.
func handshake(nc net.Conn, br *bufio.Reader, myID uint64, limit int, timeout time.Duration) (uint64, error) {
	_ = nc.SetDeadline(time.Now().Add(timeout))
	defer nc.SetDeadline(time.Time{})
	if err := writeFrame(nc, peer.Hello{ServerID: myID, Version: peer.ProtocolVersion}); err != nil {
		return 0, err
	}
	m, err := readFrame(br, limit)
	if err != nil {
		return 0, err
	}
	h, ok := m.(peer.Hello)
	if !ok {
		return 0, fmt.Errorf("%w: first message is %s, not HELLO", ErrPeer, m.PeerType())
	}
	if h.ServerID == 0 {
		return 0, fmt.Errorf("%w: HELLO with server id 0", ErrPeer)
	}
	return h.ServerID, nil
}

// Link is one established peer connection: a reader goroutine hands every
// message to OnMsg, a writer goroutine drains an unbounded queue so that the
// sender never blocks on a slow peer. Messages are sent in Send order.
type Link struct {
	nc     net.Conn
	br     *bufio.Reader
	remote uint64
	limit  int
	log    zerolog.Logger

	mu     sync.Mutex
	queue  []peer.Msg
	wake   chan struct{}
	closed bool
	done   chan struct{}
	once   sync.Once
}

func newLink(nc net.Conn, br *bufio.Reader, remote uint64, limit int, log zerolog.Logger) *Link {
	return &Link{nc: nc, br: br, remote: remote, limit: limit, log: log.With().Uint64("peer", remote).Logger(),
		wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// Peer is the server id of the other end.
func (l *Link) Peer() uint64 { return l.remote }

// Send queues m; it is dropped when the link is closed.
func (l *Link) Send(m peer.Msg) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.queue = append(l.queue, m)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Close closes the connection; the reader then reports the close.
func (l *Link) Close() {
	l.once.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.queue = nil
		l.mu.Unlock()
		close(l.done)
		_ = l.nc.Close()
	})
}

// Done is closed when the link is closed.
func (l *Link) Done() <-chan struct{} { return l.done }

// run starts the writer and runs the reader until the connection fails;
// onMsg gets every message, onClose is called once at the end.
func (l *Link) run(onMsg func(from uint64, m peer.Msg), onClose func(*Link, error)) {
	go l.writer()
	var err error
	for {
		var m peer.Msg
		m, err = readFrame(l.br, l.limit)
		if err != nil {
			break
		}
		onMsg(l.remote, m)
	}
	l.Close()
	onClose(l, err)
}

func (l *Link) writer() {
	bw := bufio.NewWriterSize(l.nc, 64<<10)
	for {
		select {
		case <-l.done:
			return
		case <-l.wake:
		}
		for {
			l.mu.Lock()
			q := l.queue
			l.queue = nil
			l.mu.Unlock()
			if len(q) == 0 {
				break
			}
			for _, m := range q {
				if err := writeFrame(bw, m); err != nil {
					l.log.Warn().Err(err).Msg("peer write failed; closing the connection")
					l.Close()
					return
				}
			}
			_ = l.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
			if err := bw.Flush(); err != nil {
				l.log.Warn().Err(err).Msg("peer write failed; closing the connection")
				l.Close()
				return
			}
		}
	}
}
