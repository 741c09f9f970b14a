package cli

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"mqstack/proto/jute"
)

// maxFrame bounds a reply frame read from the server (jute.maxbuffer with headroom).
const maxFrame = 16 << 20

// sideSession is a second client session, spoken directly in jute, for the
// two operations go-zookeeper v1.0.4 lacks: addWatch (persistent watches,
// whose notifications it prints like the main session's) and whoAmI. It
// replays the main session's addauth identities, pings every third of the
// session timeout and lives until close, quit or connect.
type sideSession struct {
	sh   *shell
	conn net.Conn

	writeMu sync.Mutex // one frame at a time on conn

	mu      sync.Mutex // guards xid, pending, dead
	xid     int32
	pending map[int32]chan sideReply
	dead    error

	done      chan struct{}
	closeOnce sync.Once
}

type sideReply struct {
	hdr  jute.ReplyHeader
	body []byte
}

var errSideClosed = fmt.Errorf("side session closed: %w", zk.ErrConnectionClosed)

// sideSession returns the live side session, opening it if needed.
func (sh *shell) sideSession() (*sideSession, error) {
	sh.mu.Lock()
	s := sh.side
	conn := sh.conn
	auths := append([]authInfo(nil), sh.auths...)
	sh.mu.Unlock()
	if s != nil && s.alive() {
		return s, nil
	}
	if conn == nil {
		return nil, zk.ErrConnectionClosed
	}
	server := conn.Server()
	s, err := dialSide(sh, server, auths)
	if err != nil {
		return nil, err
	}
	sh.mu.Lock()
	if sh.closed {
		sh.mu.Unlock()
		s.close()
		return nil, zk.ErrConnectionClosed
	}
	sh.side = s
	sh.mu.Unlock()
	return s, nil
}

func dialSide(sh *shell, server string, auths []authInfo) (*sideSession, error) {
	c, err := net.DialTimeout("tcp", server, sh.timeout)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, zk.ErrNoServer)
	}
	s := &sideSession{sh: sh, conn: c, pending: map[int32]chan sideReply{}, done: make(chan struct{})}
	_ = c.SetDeadline(time.Now().Add(sh.timeout))
	if err := s.writeFrame(&jute.ConnectRequest{TimeOut: int32(sh.timeout / time.Millisecond), Passwd: make([]byte, 16)}); err != nil {
		c.Close()
		return nil, err
	}
	body, err := readFrame(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	var resp jute.ConnectResponse
	if err := jute.Unmarshal(body, &resp); err != nil {
		c.Close()
		return nil, fmt.Errorf("bad connect response: %v: %w", err, zk.ErrConnectionClosed)
	}
	if resp.SessionID == 0 || resp.TimeOut <= 0 {
		c.Close()
		return nil, zk.ErrSessionExpired
	}
	_ = c.SetDeadline(time.Time{})
	go s.readLoop()
	go s.pingLoop(time.Duration(resp.TimeOut) * time.Millisecond / 3)
	for _, a := range auths {
		if err := s.addAuth(a.scheme, a.auth); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}

func readFrame(r io.Reader) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, fmt.Errorf("%v: %w", err, zk.ErrConnectionClosed)
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > maxFrame {
		return nil, fmt.Errorf("reply frame of %d bytes exceeds %d: %w", size, maxFrame, zk.ErrConnectionClosed)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("%v: %w", err, zk.ErrConnectionClosed)
	}
	return body, nil
}

func (s *sideSession) writeFrame(recs ...jute.Record) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.sh.timeout))
	if _, err := s.conn.Write(jute.AppendFrame(nil, recs...)); err != nil {
		return fmt.Errorf("%v: %w", err, zk.ErrConnectionClosed)
	}
	return nil
}

func (s *sideSession) alive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dead == nil
}

func (s *sideSession) readLoop() {
	var err error
	for {
		var body []byte
		body, err = readFrame(s.conn)
		if err != nil {
			break
		}
		var r reply
		r, err = parseReply(body)
		if err != nil {
			break
		}
		switch r.hdr.Xid {
		case jute.XidPing:
			continue
		case jute.XidNotification:
			s.sh.printEvent(watchedEvent(r.state, r.typ, s.sh.strip(r.path)))
			continue
		}
		s.mu.Lock()
		ch := s.pending[r.hdr.Xid]
		delete(s.pending, r.hdr.Xid)
		s.mu.Unlock()
		if ch != nil {
			ch <- sideReply{hdr: r.hdr, body: r.rest}
		}
	}
	s.fail(err)
}

// reply is one decoded server frame: a reply header, then either a watch
// notification (xid -1) or the body of a reply.
type reply struct {
	hdr        jute.ReplyHeader
	typ, state int32
	path       string
	rest       []byte
}

// parseReply decodes a frame from the server (untrusted bytes).
func parseReply(body []byte) (reply, error) {
	var r reply
	d := jute.NewDecoder(body)
	r.hdr.Decode(d)
	if r.hdr.Xid == jute.XidNotification && d.Err() == nil {
		r.typ, r.state, r.path = d.Int(), d.Int(), d.String()
	}
	if d.Err() != nil {
		return r, fmt.Errorf("bad reply from server: %v: %w", d.Err(), zk.ErrConnectionClosed)
	}
	r.rest = d.Rest()
	return r, nil
}

// decodeClientInfos decodes a whoAmI reply body.
func decodeClientInfos(body []byte) ([]jute.ClientInfo, error) {
	d := jute.NewDecoder(body)
	n, ok := d.VectorLen(8)
	var out []jute.ClientInfo
	for i := 0; ok && i < n && d.Err() == nil; i++ {
		var ci jute.ClientInfo
		ci.Decode(d)
		out = append(out, ci)
	}
	if d.Err() != nil {
		return nil, fmt.Errorf("bad whoAmI reply: %v: %w", d.Err(), zk.ErrConnectionClosed)
	}
	return out, nil
}

func (s *sideSession) fail(err error) {
	s.mu.Lock()
	if s.dead == nil {
		s.dead = err
	}
	for xid, ch := range s.pending {
		close(ch)
		delete(s.pending, xid)
	}
	s.mu.Unlock()
	s.closeOnce.Do(func() { close(s.done); s.conn.Close() })
}

func (s *sideSession) pingLoop(every time.Duration) {
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			if err := s.writeFrame(&jute.RequestHeader{Xid: jute.XidPing, Type: jute.OpPing}); err != nil {
				s.fail(err)
				return
			}
		}
	}
}

// call sends one request and waits for its reply; a non-OK reply code is
// returned as a jute.Err.
func (s *sideSession) call(xid int32, op jute.Op, body jute.Record) ([]byte, error) {
	ch := make(chan sideReply, 1)
	s.mu.Lock()
	if s.dead != nil {
		s.mu.Unlock()
		return nil, errSideClosed
	}
	if xid == 0 {
		s.xid++
		xid = s.xid
	}
	s.pending[xid] = ch
	s.mu.Unlock()
	recs := []jute.Record{&jute.RequestHeader{Xid: xid, Type: op}}
	if body != nil {
		recs = append(recs, body)
	}
	if err := s.writeFrame(recs...); err != nil {
		s.fail(err)
		return nil, err
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return nil, errSideClosed
		}
		if r.hdr.Err != jute.ErrOK {
			return nil, r.hdr.Err
		}
		return r.body, nil
	case <-time.After(s.sh.timeout):
		s.fail(errors.New("request timed out"))
		return nil, jute.ErrConnectionLoss
	}
}

func (s *sideSession) addAuth(scheme string, auth []byte) error {
	_, err := s.call(jute.XidAuth, jute.OpAuth, &jute.AuthPacket{Scheme: scheme, Auth: auth})
	return err
}

func (s *sideSession) addWatch(path string, mode int32) error {
	_, err := s.call(0, jute.OpAddWatch, &jute.PathTypeRequest{Path: path, Type: mode})
	return err
}

func (s *sideSession) whoAmI() ([]jute.ClientInfo, error) {
	body, err := s.call(0, jute.OpWhoAmI, nil)
	if err != nil {
		return nil, err
	}
	return decodeClientInfos(body)
}

func (s *sideSession) getAllChildrenNumber(path string) (int32, error) {
	body, err := s.call(0, jute.OpGetAllChildrenNumber, &jute.PathRequest{Path: path})
	if err != nil {
		return 0, err
	}
	d := jute.NewDecoder(body)
	n := d.Int()
	if d.Err() != nil {
		return 0, fmt.Errorf("bad getAllChildrenNumber reply: %v: %w", d.Err(), zk.ErrConnectionClosed)
	}
	return n, nil
}

// close ends the session politely (closeSession) and drops the connection.
func (s *sideSession) close() {
	if s.alive() {
		done := make(chan struct{})
		go func() {
			_, _ = s.call(0, jute.OpCloseSession, nil)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(time.Second):
		}
	}
	s.fail(errSideClosed)
}

// printEvent prints one watch notification like MyWatcher.process.
func (sh *shell) printEvent(line string) {
	sh.mu.Lock()
	print := sh.printWatches && !sh.closed
	sh.mu.Unlock()
	if print {
		fmt.Fprintf(sh.out, "\nWATCHER::\n\n%s\n", line)
	}
}
