package quorum

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"mqstack/election/fle"
	equorum "mqstack/election/quorum"
	"mqstack/proto/peer"
)

// ElectionTick is the Elector's clock (docs/election.md: FinalizeTicks=2,
// MinNotifyTicks=2, MaxNotifyTicks=600 at 100 ms).
const ElectionTick = 100 * time.Millisecond

// Member is one server.N line: its id, addresses and role.
type Member struct {
	ID           uint64
	QuorumAddr   string // host:quorumPort
	ElectionAddr string // host:electionPort
	Observer     bool
}

// ElectorConfig configures an Elector.
type ElectorConfig struct {
	ID       uint64
	Members  []Member
	Verifier equorum.Verifier
	// Listener is the bound election port.
	Listener net.Listener
	Logger   zerolog.Logger
	// OnDecision is called on the Elector's goroutine when a round ends.
	// It must not block (post the decision to the server's loop).
	OnDecision func(fle.Decision)
}

type inbound struct {
	from uint64
	n    peer.Notification
}

// Elector owns an fle.Election: it runs the election port (one connection
// per pair of servers, kept by the higher id), ticks the core every
// ElectionTick and hands decisions to OnDecision.
type Elector struct {
	cfg   ElectorConfig
	log   zerolog.Logger
	core  *fle.Election
	addrs map[uint64]string

	in   chan inbound
	cmds chan func()
	quit chan struct{}
	wg   sync.WaitGroup

	mu    sync.Mutex
	links map[uint64]*Link

	state    peer.ServerState // last known, for Mode (read under mu)
	stopOnce sync.Once
}

// NewElector validates the config; nothing runs until Run.
func NewElector(cfg ElectorConfig) (*Elector, error) {
	core, err := fle.New(fle.Config{ID: cfg.ID, Verifier: cfg.Verifier, FinalizeTicks: 2, MinNotifyTicks: 2, MaxNotifyTicks: 600})
	if err != nil {
		return nil, err
	}
	if cfg.Listener == nil {
		return nil, fmt.Errorf("quorum: elector needs a bound election port")
	}
	e := &Elector{cfg: cfg, log: cfg.Logger.With().Str("component", "zkd.quorum.fle").Logger(), core: core,
		addrs: map[uint64]string{}, in: make(chan inbound, 1024), cmds: make(chan func(), 64),
		quit: make(chan struct{}), links: map[uint64]*Link{}}
	for _, m := range cfg.Members {
		e.addrs[m.ID] = m.ElectionAddr
	}
	return e, nil
}

// Run starts the accept loop, the dialers (to every lower id) and the
// owner goroutine. The election stays silent until Lookup.
func (e *Elector) Run() {
	e.wg.Add(2)
	go e.acceptLoop()
	go e.loop()
	for id, addr := range e.addrs {
		if id < e.cfg.ID {
			e.wg.Add(1)
			go e.dialer(id, addr)
		}
	}
}

// Close stops everything and waits.
func (e *Elector) Close() {
	e.stopOnce.Do(func() {
		close(e.quit)
		_ = e.cfg.Listener.Close()
		e.mu.Lock()
		for _, l := range e.links {
			l.Close()
		}
		e.mu.Unlock()
		e.wg.Wait()
	})
}

// Lookup starts a new round with our own vote (boot, or the server went back
// to LOOKING).
func (e *Elector) Lookup(v fle.Vote) {
	e.do(func() {
		e.core.Start(v)
		e.flush()
	})
}

// UpdateEpoch sets the epoch of the decided vote once ZAB established it.
func (e *Elector) UpdateEpoch(epoch int64) {
	e.do(func() { e.core.UpdateEpoch(epoch) })
}

// State is the election's state (LOOKING or the decided role).
func (e *Elector) State() peer.ServerState {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state
}

func (e *Elector) do(fn func()) {
	select {
	case e.cmds <- fn:
	case <-e.quit:
	}
}

func (e *Elector) loop() {
	defer e.wg.Done()
	t := time.NewTicker(ElectionTick)
	defer t.Stop()
	for {
		select {
		case <-e.quit:
			e.core.Stop()
			return
		case fn := <-e.cmds:
			fn()
		case m := <-e.in:
			e.core.Step(fle.Message{From: m.from, To: e.cfg.ID, N: m.n})
			e.flush()
		case <-t.C:
			e.core.Tick()
			e.flush()
		}
	}
}

func (e *Elector) flush() {
	e.mu.Lock()
	e.state = e.core.State()
	e.mu.Unlock()
	if !e.core.HasReady() {
		return
	}
	rd := e.core.Ready()
	for _, m := range rd.Messages {
		if m.To == e.cfg.ID {
			continue
		}
		e.mu.Lock()
		l := e.links[m.To]
		e.mu.Unlock()
		if l != nil {
			l.Send(m.N)
		}
	}
	if d := rd.Decision; d != nil {
		e.log.Info().Uint64("leader", d.Vote.Leader).Str("vote", d.Vote.String()).Int64("round", d.ElectionEpoch).
			Str("state", d.State.String()).Msg("election decided")
		if e.cfg.OnDecision != nil {
			e.cfg.OnDecision(*d)
		}
	}
}

func (e *Elector) member(id uint64) bool { return e.cfg.Verifier.IsMember(id) }

// register keeps l as the link to its peer (replacing an older one) and
// runs its reader.
func (e *Elector) register(l *Link) {
	e.mu.Lock()
	select {
	case <-e.quit:
		e.mu.Unlock()
		l.Close()
		return
	default:
	}
	if old := e.links[l.remote]; old != nil {
		old.Close()
	}
	e.links[l.remote] = l
	e.mu.Unlock()
	e.log.Debug().Uint64("peer", l.remote).Msg("election connection up")
	l.run(func(from uint64, m peer.Msg) {
		n, ok := m.(peer.Notification)
		if !ok {
			e.log.Warn().Uint64("peer", from).Str("type", m.PeerType().String()).Msg("unexpected message on the election port; ignored")
			return
		}
		select {
		case e.in <- inbound{from: from, n: n}:
		case <-e.quit:
		}
	}, func(l *Link, err error) {
		e.mu.Lock()
		if e.links[l.remote] == l {
			delete(e.links, l.remote)
		}
		e.mu.Unlock()
	})
}

func (e *Elector) acceptLoop() {
	defer e.wg.Done()
	for {
		nc, err := e.cfg.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-e.quit:
				return
			default:
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			br := bufio.NewReader(nc)
			id, err := handshake(nc, br, e.cfg.ID, peer.MaxElectionSize, 5*time.Second)
			if err != nil || !e.member(id) || id == e.cfg.ID {
				e.log.Warn().Err(err).Uint64("peer", id).Str("remote", nc.RemoteAddr().String()).
					Msg("election connection refused: bad HELLO or a server id that is not in the server.N lines")
				_ = nc.Close()
				return
			}
			if id < e.cfg.ID {
				// Apache's rule: the higher id keeps the connection; we dial it.
				_ = nc.Close()
				return
			}
			e.register(newLink(nc, br, id, peer.MaxElectionSize, e.log))
		}()
	}
}

// dialer keeps a connection to a lower id, redialing while it is down.
func (e *Elector) dialer(id uint64, addr string) {
	defer e.wg.Done()
	for {
		select {
		case <-e.quit:
			return
		default:
		}
		nc, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			br := bufio.NewReader(nc)
			var got uint64
			got, err = handshake(nc, br, e.cfg.ID, peer.MaxElectionSize, 5*time.Second)
			if err == nil && got != id {
				err = fmt.Errorf("%w: %s answered as server %d, server.%d expected", ErrPeer, addr, got, id)
			}
			if err == nil {
				e.register(newLink(nc, br, id, peer.MaxElectionSize, e.log))
			} else {
				_ = nc.Close()
			}
		}
		select {
		case <-e.quit:
			return
		case <-time.After(ElectionTick):
		}
	}
}
