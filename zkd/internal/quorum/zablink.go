package quorum

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/rs/zerolog"

	equorum "mqstack/election/quorum"
	"mqstack/proto/peer"
)

// LinkHandler receives the traffic of quorum-port links. Both callbacks run
// on the link's reader goroutine and must not block for long (post to the
// server's loop).
type LinkHandler struct {
	OnMsg   func(l *Link, m peer.Msg)
	OnClose func(l *Link, err error)
}

// QuorumPort accepts learner connections on the quorum port (2888). A
// connection is handed to Accepting (the server decides whether it leads);
// when that returns false the connection is closed.
type QuorumPort struct {
	ln       net.Listener
	id       uint64
	verifier equorum.Verifier
	log      zerolog.Logger
	handler  func(l *Link) (LinkHandler, bool)

	quit chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// NewQuorumPort serves ln; accept decides for each learner (after its HELLO)
// whether to keep it and how to handle its messages.
func NewQuorumPort(ln net.Listener, id uint64, v equorum.Verifier, log zerolog.Logger, accept func(l *Link) (LinkHandler, bool)) *QuorumPort {
	q := &QuorumPort{ln: ln, id: id, verifier: v, log: log.With().Str("component", "zkd.quorum.zab").Logger(),
		handler: accept, quit: make(chan struct{})}
	q.wg.Add(1)
	go q.acceptLoop()
	return q
}

// Addr is the bound quorum address.
func (q *QuorumPort) Addr() net.Addr { return q.ln.Addr() }

// Close stops accepting (links already handed out are closed by their owner).
func (q *QuorumPort) Close() {
	q.once.Do(func() {
		close(q.quit)
		_ = q.ln.Close()
		q.wg.Wait()
	})
}

func (q *QuorumPort) acceptLoop() {
	defer q.wg.Done()
	for {
		nc, err := q.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-q.quit:
				return
			default:
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		go func() {
			br := bufio.NewReaderSize(nc, 64<<10)
			id, err := handshake(nc, br, q.id, peer.MaxSize, 5*time.Second)
			if err != nil || !q.verifier.IsMember(id) || id == q.id {
				q.log.Warn().Err(err).Uint64("peer", id).Str("remote", nc.RemoteAddr().String()).
					Msg("quorum connection refused: bad HELLO or a server id that is not in the server.N lines")
				_ = nc.Close()
				return
			}
			l := newLink(nc, br, id, peer.MaxSize, q.log)
			h, ok := q.handler(l)
			if !ok {
				l.Close()
				return
			}
			l.run(func(_ uint64, m peer.Msg) { h.OnMsg(l, m) }, h.OnClose)
		}()
	}
}

// DialLeader connects to the leader's quorum port, retrying until ctx ends
// (the learner's initLimit), and starts the link's goroutines with h.
func DialLeader(ctx context.Context, addr string, myID, leader uint64, log zerolog.Logger, h LinkHandler) (*Link, error) {
	log = log.With().Str("component", "zkd.quorum.zab").Logger()
	var lastErr error
	for {
		d := net.Dialer{Timeout: time.Second}
		nc, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			br := bufio.NewReaderSize(nc, 64<<10)
			var got uint64
			got, err = handshake(nc, br, myID, peer.MaxSize, 5*time.Second)
			if err == nil && got != leader {
				err = fmt.Errorf("%w: %s answered as server %d, the leader is %d", ErrPeer, addr, got, leader)
			}
			if err == nil {
				l := newLink(nc, br, leader, peer.MaxSize, log)
				go l.run(func(_ uint64, m peer.Msg) { h.OnMsg(l, m) }, h.OnClose)
				return l, nil
			}
			_ = nc.Close()
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("quorum: connect to leader %d at %s (its server.%d quorum port): %w", leader, addr, leader, lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
