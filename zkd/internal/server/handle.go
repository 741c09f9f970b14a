package server

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"mqstack/proto/jute"
	"mqstack/zkd/internal/tree"
)

// handleConnect is ZooKeeperServer.processConnectRequest.
func (s *Server) handleConnect(c *conn, req *jute.ConnectRequest) {
	if c.gone {
		return
	}
	if s.ens != nil && !s.ens.serving.Load() {
		c.log.Info().Msg("closing client connection: this server is not serving (no quorum or leader election in progress); the client will try another server")
		_ = c.nc.Close()
		c.closeNow()
		return
	}
	s.conns[c.id] = c
	c.oldClient = !req.HasReadOnly
	if req.LastZxidSeen > s.tree.LastZxid() {
		c.log.Info().Msgf("Refusing session request for client %s as it has seen zxid 0x%x our last zxid is 0x%x client must try another server",
			c.remote, req.LastZxidSeen, s.tree.LastZxid())
		s.sendClose(c)
		return
	}
	timeout := req.TimeOut
	if timeout < s.minTimeout {
		timeout = s.minTimeout
	}
	if timeout > s.maxTimeout {
		timeout = s.maxTimeout
	}
	c.timeout = timeout
	now := s.nowMs()
	if req.SessionID == 0 && s.ens != nil && s.ens.isLearner() {
		s.ens.learnerConnect(c, timeout)
		return
	}
	if req.SessionID == 0 {
		id := s.sessions.NextID()
		s.sessions.Add(id, timeout, now)
		e, _ := s.tree.Prepare(&tree.Request{Session: id, Op: jute.OpCreateSession,
			Body: &jute.CreateSessionTxn{TimeOut: timeout}}, s.nextZxid(), now)
		s.appendTxn(e)
		c.session = id
		s.bySess[id] = c
		c.log.Info().Str("session", fmt.Sprintf("0x%x", id)).Int32("timeout", timeout).Msg("established session")
		s.finishSessionInit(c, true)
		return
	}
	id := req.SessionID
	if old := s.bySess[id]; old != nil && old != c {
		old.log.Info().Str("session", fmt.Sprintf("0x%x", id)).Msg("closing connection: the client reconnected on another connection")
		s.sendClose(old)
	}
	c.session = id
	if !bytes.Equal(req.Passwd, tree.Password(id)) {
		c.log.Warn().Str("session", fmt.Sprintf("0x%x", id)).Msg("incorrect password for session; refusing reconnect")
		s.finishSessionInit(c, false)
		return
	}
	if s.ens != nil && s.ens.isLearner() {
		// The leader owns the sessions: ask it (REVALIDATE).
		s.ens.revalidate(c, id, timeout)
		return
	}
	ss := s.sessions.Get(id)
	if ss == nil || ss.Closing {
		c.log.Info().Str("session", fmt.Sprintf("0x%x", id)).Msg("client tried to reconnect to an expired session")
		s.finishSessionInit(c, false)
		return
	}
	// revalidateSession: touchSession with the newly negotiated timeout.
	s.sessions.Touch(id, timeout, now)
	if s.ens != nil && s.ens.isLearner() {
		s.ens.touched[id] = timeout
	}
	s.bySess[id] = c
	c.log.Info().Str("session", fmt.Sprintf("0x%x", id)).Int32("timeout", timeout).Msg("reestablished session")
	s.finishSessionInit(c, true)
}

func (s *Server) finishSessionInit(c *conn, valid bool) {
	rsp := jute.ConnectResponse{ProtocolVersion: 0, Passwd: make([]byte, 16), HasReadOnly: !c.oldClient}
	if valid {
		rsp.TimeOut = c.timeout
		rsp.SessionID = c.session
		rsp.Passwd = tree.Password(c.session)
	}
	s.send(c, jute.AppendFrame(nil, &rsp))
	if !valid {
		c.session = 0
		s.sendClose(c)
	}
}

func (s *Server) reply(c *conn, xid int32, zxid int64, err jute.Err, body jute.Record) {
	h := jute.ReplyHeader{Xid: xid, Zxid: zxid, Err: err}
	if err != 0 {
		body = nil
	}
	s.send(c, frame(&h, body))
}

var opShort = map[jute.Op]string{
	jute.OpPing: "PING", jute.OpCreate: "CREA", jute.OpCreate2: "CREA", jute.OpCreateTTL: "CREA",
	jute.OpCreateContainer: "CREA", jute.OpDelete: "DELE", jute.OpSetData: "SETD", jute.OpSetACL: "SETA",
	jute.OpCloseSession: "CLOS", jute.OpSync: "SYNC", jute.OpCheck: "CHEC", jute.OpExists: "EXIS",
	jute.OpGetData: "GETD", jute.OpSetWatches: "SETW", jute.OpSetWatches2: "STW2", jute.OpAddWatch: "ADDW",
	jute.OpGetACL: "GETA", jute.OpGetChildren: "GETC", jute.OpGetChildren2: "GETC",
	jute.OpGetAllChildrenNumber: "GETACN", jute.OpCheckWatches: "CHKW", jute.OpRemoveWatches: "REMW",
	jute.OpWhoAmI: "HOMI", jute.OpGetEphemerals: "GETE", jute.OpMulti: "MULT", jute.OpMultiRead: "MLTR",
	jute.OpReconfig: "RECO",
}

func (s *Server) updateStats(c *conn, h jute.RequestHeader, zxid int64, at time.Time) {
	lat := time.Since(at).Milliseconds()
	c.lastOp = opShort[h.Type]
	if h.Xid >= 0 {
		c.lastCxid = int64(h.Xid)
	}
	c.lastZxid = zxid
	c.lastResp = elapsedMs()
	c.lastLat = lat
	if c.latMin < 0 || lat < c.latMin {
		c.latMin = lat
	}
	if lat > c.latMax {
		c.latMax = lat
	}
	c.latTotal += lat
	c.latCount++
	if m := s.stats.latMin.Load(); m < 0 || lat < m {
		s.stats.latMin.Store(lat)
	}
	if lat > s.stats.latMax.Load() {
		s.stats.latMax.Store(lat)
	}
	s.stats.latTotal.Add(lat)
	s.stats.latCount.Add(1)
	if s.metrics != nil {
		if tree.IsWrite(h.Type) {
			s.metrics.updateLatency.Observe(float64(lat))
		} else if h.Type != jute.OpPing {
			s.metrics.readLatency.Observe(float64(lat))
		}
	}
}

func decode(body []byte, r jute.Record, max int) error {
	d := jute.NewDecoder(body)
	d.Max = max
	r.Decode(d)
	return d.Err()
}

// handleRequest serves one request of an established connection.
func (s *Server) handleRequest(c *conn, h jute.RequestHeader, body []byte, at time.Time) {
	if c.session == 0 {
		if c.fwdPending > 0 {
			// The session is being created through the leader.
			c.inflight.Add(1)
			c.parked = append(c.parked, event{kind: evRequest, c: c, hdr: h, body: body, at: at})
			return
		}
		s.sendClose(c)
		return
	}
	if s.ens != nil && s.ens.isLearner() && s.ens.learnerRequest(c, h, body, at) {
		return
	}
	auth := tree.Auth{IDs: c.auth}
	switch h.Type {
	case jute.OpAuth:
		s.handleAuth(c, h, body)
		return
	case jute.OpSASL:
		// No SASL mechanism is configured: Apache answers with an empty
		// (null) SASL token and err 0, and the session stays unauthenticated.
		c.log.Warn().Msg("SASL packet received but zkd has no SASL mechanism; replying with an empty token")
		s.reply(c, h.Xid, 0, 0, &saslResponse{})
		return
	}
	if !knownOp(h.Type) {
		c.log.Warn().Int32("type", int32(h.Type)).Msg("received packet of unknown type; replying Unimplemented and closing the connection")
		// UnimplementedRequestProcessor answers with the request's zxid, -1
		// for a request that was never prepared.
		s.reply(c, h.Xid, -1, jute.ErrUnimplemented, nil)
		s.sendClose(c)
		return
	}
	if !s.sessions.Touch(c.session, c.timeout, s.nowMs()) {
		s.reply(c, h.Xid, s.tree.LastZxid(), jute.ErrSessionExpired, nil)
		s.sendClose(c)
		return
	}
	defer func() { s.updateStats(c, h, s.tree.LastZxid(), at) }()
	switch h.Type {
	case jute.OpReconfig:
		// Standalone zkd runs with reconfigEnabled=false: Apache's prep logs an
		// error txn and answers ReconfigDisabled.
		s.errorTxn(c, h, jute.ErrReconfigDisabled)
		return
	case jute.OpDeleteContainer:
		// Apache reads the path of a client's deleteContainer from the whole
		// packet buffer (header included), so it always fails validation.
		s.errorTxn(c, h, jute.ErrBadArguments)
		return
	}
	if tree.IsWrite(h.Type) {
		s.handleWrite(c, h, body, auth)
		return
	}
	s.handleRead(c, h, body, auth)
}

// errorTxn logs an ErrorTxn for a write Apache rejects in prep and replies
// with its code: the request consumes a zxid, as in Apache.
func (s *Server) errorTxn(c *conn, h jute.RequestHeader, code jute.Err) {
	zxid := s.nextZxid()
	e := &jute.TxnEntry{Header: jute.TxnHeader{ClientID: c.session, Cxid: h.Xid, Zxid: zxid, Time: s.nowMs(), Type: jute.OpError},
		Txn: &jute.ErrorTxn{Err: code}}
	s.tree.Apply(e)
	s.appendTxn(e)
	s.reply(c, h.Xid, zxid, code, nil)
}

func knownOp(op jute.Op) bool {
	switch op {
	case jute.OpCreate, jute.OpDelete, jute.OpExists, jute.OpGetData, jute.OpSetData, jute.OpGetACL,
		jute.OpSetACL, jute.OpGetChildren, jute.OpSync, jute.OpPing, jute.OpGetChildren2, jute.OpCheck,
		jute.OpMulti, jute.OpCreate2, jute.OpCheckWatches, jute.OpRemoveWatches, jute.OpCreateContainer,
		jute.OpCreateTTL, jute.OpMultiRead, jute.OpSetWatches, jute.OpGetEphemerals,
		jute.OpGetAllChildrenNumber, jute.OpSetWatches2, jute.OpAddWatch, jute.OpWhoAmI, jute.OpCloseSession,
		jute.OpReconfig, jute.OpDeleteContainer:
		return true
	}
	return false
}

func (s *Server) handleAuth(c *conn, h jute.RequestHeader, body []byte) {
	var ap jute.AuthPacket
	if err := decode(body, &ap, s.maxBuffer); err != nil {
		c.log.Warn().Err(err).Msg("malformed auth packet; closing connection")
		s.sendClose(c)
		return
	}
	ok := false
	switch ap.Scheme {
	case "digest":
		digest := tree.Digest(string(ap.Auth))
		if s.superDigest != "" && digest == s.superDigest {
			c.auth = appendID(c.auth, jute.ID{Scheme: "super", ID: ""})
		}
		c.auth = appendID(c.auth, jute.ID{Scheme: "digest", ID: digest})
		ok = true
	case "ip":
		c.auth = appendID(c.auth, jute.ID{Scheme: "ip", ID: c.ip})
		ok = true
	}
	if ok {
		c.log.Info().Str("session", fmt.Sprintf("0x%x", c.session)).Str("scheme", ap.Scheme).Msg("auth success")
		s.reply(c, h.Xid, 0, 0, nil)
		return
	}
	c.log.Warn().Str("scheme", ap.Scheme).Msg("no authentication provider for scheme (zkd supports digest and ip); closing connection")
	s.stats.authFailed.Add(1)
	s.reply(c, h.Xid, 0, jute.ErrAuthFailed, nil)
	s.sendClose(c)
}

func appendID(ids []jute.ID, id jute.ID) []jute.ID {
	for _, x := range ids {
		if x == id {
			return ids
		}
	}
	return append(ids, id)
}

func (s *Server) handleWrite(c *conn, h jute.RequestHeader, body []byte, auth tree.Auth) {
	req := &tree.Request{Session: c.session, Cxid: h.Xid, Op: h.Type, Auth: auth}
	var rec jute.Record
	switch h.Type {
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer:
		rec = &jute.CreateRequest{}
	case jute.OpCreateTTL:
		rec = &jute.CreateRequest{HasTTL: true}
	case jute.OpDelete, jute.OpCheck:
		rec = &jute.PathVersionRequest{}
	case jute.OpSetData:
		rec = &jute.SetDataRequest{}
	case jute.OpSetACL:
		rec = &jute.SetACLRequest{}
	case jute.OpMulti:
		rec = &tree.MultiRequest{}
	case jute.OpCloseSession:
		zxid := s.closeSession(c.session, h.Xid)
		c.log.Info().Str("session", fmt.Sprintf("0x%x", c.session)).Msg("closed session at the client's request")
		s.reply(c, h.Xid, zxid, 0, nil)
		s.sendClose(c)
		return
	}
	err := decode(body, rec, s.maxBuffer)
	if m, ok := rec.(*tree.MultiRequest); ok && err == nil {
		for _, op := range m.Ops {
			if !tree.IsMultiWriteOp(op.Op) {
				err = fmt.Errorf("invalid type of op %d in multi", int32(op.Op))
				break
			}
		}
	}
	if err != nil {
		c.log.Warn().Err(err).Str("op", h.Type.String()).Msg("malformed request body; replying MarshallingError")
		// Apache still consumes a zxid for a write it cannot parse.
		s.errorTxn(c, h, jute.ErrMarshallingError)
		return
	}
	req.Body = rec
	zxid := s.nextZxid()
	e, r := s.tree.Prepare(req, zxid, s.nowMs())
	s.appendTxn(e)
	s.deliver(s.tree.TakeEvents())
	s.replyWrite(c, h.Type, h.Xid, zxid, r)
}

// replyWrite answers a write from its applied result (on a learner, when
// the leader's COMMIT is applied).
func (s *Server) replyWrite(c *conn, op jute.Op, xid int32, zxid int64, r tree.Result) {
	h := jute.RequestHeader{Xid: xid, Type: op}
	if h.Type == jute.OpMulti {
		s.reply(c, h.Xid, zxid, 0, &multiResponse{results: multiResults(r.Multi)})
		return
	}
	if r.Err != 0 {
		s.reply(c, h.Xid, zxid, r.Err, nil)
		return
	}
	switch h.Type {
	case jute.OpCreate:
		s.reply(c, h.Xid, zxid, 0, &jute.PathResponse{Path: r.Path})
	case jute.OpCreate2, jute.OpCreateTTL, jute.OpCreateContainer:
		s.reply(c, h.Xid, zxid, 0, &jute.PathStatResponse{Path: r.Path, Stat: r.Stat})
	case jute.OpDelete:
		s.reply(c, h.Xid, zxid, 0, nil)
	default: // setData, setACL, check
		s.reply(c, h.Xid, zxid, 0, &jute.StatResponse{Stat: r.Stat})
	}
}

var digestRedact = regexp.MustCompile(`:.*`)

func (s *Server) handleRead(c *conn, h jute.RequestHeader, body []byte, auth tree.Auth) {
	zxid := s.tree.LastZxid()
	fail := func(err jute.Err) { s.reply(c, h.Xid, zxid, err, nil) }
	bad := func(err error) {
		c.log.Warn().Err(err).Str("op", h.Type.String()).Msg("malformed request body; replying MarshallingError")
		fail(jute.ErrMarshallingError)
	}
	switch h.Type {
	case jute.OpPing:
		s.reply(c, jute.XidPing, zxid, 0, nil)
	case jute.OpExists:
		var r jute.PathWatchRequest
		if err := decode(body, &r, s.maxBuffer); err != nil {
			bad(err)
			return
		}
		if strings.IndexByte(r.Path, 0) >= 0 {
			fail(jute.ErrBadArguments)
			return
		}
		n := s.tree.Get(r.Path)
		if r.Watch {
			s.tree.Watches.AddData(r.Path, c.id)
		}
		if n == nil {
			fail(jute.ErrNoNode)
			return
		}
		s.reply(c, h.Xid, zxid, 0, &jute.StatResponse{Stat: tree.StatOf(n)})
	case jute.OpGetData:
		var r jute.PathWatchRequest
		if err := decode(body, &r, s.maxBuffer); err != nil {
			bad(err)
			return
		}
		rsp, code := s.getData(c, &r, auth)
		if code != 0 {
			fail(code)
			return
		}
		s.reply(c, h.Xid, zxid, 0, rsp)
	case jute.OpGetChildren, jute.OpGetChildren2:
		var r jute.PathWatchRequest
		if err := decode(body, &r, s.maxBuffer); err != nil {
			bad(err)
			return
		}
		kids, st, code := s.getChildren(c, &r, auth)
		if code != 0 {
			fail(code)
			return
		}
		if h.Type == jute.OpGetChildren {
			s.reply(c, h.Xid, zxid, 0, &jute.StringsResponse{Strings: kids})
		} else {
			s.reply(c, h.Xid, zxid, 0, &jute.GetChildren2Response{Children: kids, Stat: st})
		}
	case jute.OpGetACL:
		var r jute.PathRequest
		if err := decode(body, &r, s.maxBuffer); err != nil {
			bad(err)
			return
		}
		n := s.tree.Get(r.Path)
		if n == nil {
			fail(jute.ErrNoNode)
			return
		}
		acl := s.tree.ACL(n)
		if tree.Check(acl, jute.PermRead|jute.PermAdmin, auth) != nil {
			fail(jute.ErrNoAuth)
			return
		}
		if tree.Check(acl, jute.PermAdmin, auth) != nil {
			red := make([]jute.ACL, len(acl))
			for i, a := range acl {
				red[i] = a
				if a.ID.Scheme == "digest" {
					red[i].ID.ID = digestRedact.ReplaceAllString(a.ID.ID, ":x")
				}
			}
			acl = red
		}
		s.reply(c, h.Xid, zxid, 0, &jute.GetACLResponse{ACL: acl, Stat: tree.StatOf(n)})
	case jute.OpGetAllChildrenNumber:
		var r jute.PathRequest
		if err := decode(body, &r, s.maxBuffer); err != nil {
			bad(err)
			return
		}
		n := s.tree.Get(r.Path)
		if n == nil {
			fail(jute.ErrNoNode)
			return
		}
		if tree.Check(s.tree.ACL(n), jute.PermRead, auth) != nil {
			fail(jute.ErrNoAuth)
			return
		}
		s.reply(c, h.Xid, zxid, 0, &jute.IntResponse{Value: int32(s.tree.AllChildrenNumber(r.Path))})
	case jute.OpGetEphemerals:
		var r jute.PathRequest
		if err := decode(body, &r, s.maxBuffer); err != nil {
			bad(err)
			return
		}
		all := s.tree.Ephemerals(c.session)
		out := []string{}
		prefix := strings.TrimSpace(r.Path)
		for _, p := range all {
			if prefix == "" || prefix == "/" || strings.HasPrefix(p, r.Path) {
				out = append(out, p)
			}
		}
		s.reply(c, h.Xid, zxid, 0, &jute.StringsResponse{Strings: out})
	case jute.OpSync:
		var r jute.PathRequest
		if err := decode(body, &r, s.maxBuffer); err != nil {
			bad(err)
			return
		}
		s.reply(c, h.Xid, zxid, 0, &jute.PathResponse{Path: r.Path})
	case jute.OpSetWatches, jute.OpSetWatches2:
		r := jute.SetWatches{V2: h.Type == jute.OpSetWatches2}
		if err := decode(body, &r, s.maxBuffer); err != nil {
			bad(err)
			return
		}
		evs, err := s.tree.SetWatches(c.id, &r)
		s.deliver(evs)
		if err != nil {
			bad(err)
			return
		}
		s.reply(c, h.Xid, zxid, 0, nil)
	case jute.OpCheckWatches, jute.OpRemoveWatches:
		var r jute.PathTypeRequest
		if err := decode(body, &r, s.maxBuffer); err != nil {
			bad(err)
			return
		}
		if r.Type < jute.WatcherChildren || r.Type > jute.WatcherAny {
			bad(fmt.Errorf("invalid watcher type %d", r.Type))
			return
		}
		var ok bool
		if h.Type == jute.OpCheckWatches {
			ok = s.tree.Watches.Contains(r.Path, c.id, r.Type)
		} else {
			ok = s.tree.Watches.Remove(r.Path, c.id, r.Type)
		}
		if !ok {
			fail(jute.ErrNoWatcher)
			return
		}
		s.reply(c, h.Xid, zxid, 0, nil)
	case jute.OpAddWatch:
		var r jute.PathTypeRequest
		if err := decode(body, &r, s.maxBuffer); err != nil {
			bad(err)
			return
		}
		if r.Type != jute.AddWatchPersistent && r.Type != jute.AddWatchPersistentRecursive {
			bad(fmt.Errorf("unsupported addWatch mode %d", r.Type))
			return
		}
		s.tree.Watches.AddPersistent(r.Path, c.id, r.Type)
		s.reply(c, h.Xid, zxid, 0, &jute.ErrorResponse{Err: 0})
	case jute.OpWhoAmI:
		infos := make([]jute.ClientInfo, 0, len(c.auth))
		for _, id := range javaSetOrder(c.auth) {
			user := id.ID
			if id.Scheme == "digest" {
				user, _, _ = strings.Cut(user, ":")
			}
			infos = append(infos, jute.ClientInfo{AuthScheme: id.Scheme, User: user})
		}
		s.reply(c, h.Xid, zxid, 0, &jute.WhoAmIResponse{ClientInfo: infos})
	case jute.OpMultiRead:
		var r tree.MultiRequest
		if err := decode(body, &r, s.maxBuffer); err != nil {
			bad(err)
			return
		}
		var res []opResult
		for _, op := range r.Ops {
			pw, _ := op.Body.(*jute.PathWatchRequest)
			switch {
			case pw != nil && op.Op == jute.OpGetData:
				rsp, code := s.getData(c, pw, auth)
				if code != 0 {
					res = append(res, opResult{typ: jute.OpError, err: code})
				} else {
					res = append(res, opResult{typ: jute.OpGetData, data: rsp.Data, stat: rsp.Stat})
				}
			case pw != nil && op.Op == jute.OpGetChildren:
				kids, _, code := s.getChildren(c, pw, auth)
				if code != 0 {
					res = append(res, opResult{typ: jute.OpError, err: code})
				} else {
					res = append(res, opResult{typ: jute.OpGetChildren, children: kids})
				}
			default:
				// FinalRequestProcessor has already built the MultiResponse
				// when it meets the bad op: the reply carries err -5 and the
				// results so far.
				c.log.Warn().Int32("type", int32(op.Op)).Msg("invalid type of readOp in multiRead; replying MarshallingError")
				h2 := jute.ReplyHeader{Xid: h.Xid, Zxid: zxid, Err: jute.ErrMarshallingError}
				s.send(c, frame(&h2, &multiResponse{results: res}))
				return
			}
		}
		s.reply(c, h.Xid, zxid, 0, &multiResponse{results: res})
	}
}

func (s *Server) getData(c *conn, r *jute.PathWatchRequest, auth tree.Auth) (*jute.GetDataResponse, jute.Err) {
	n := s.tree.Get(r.Path)
	if n == nil {
		return nil, jute.ErrNoNode
	}
	if tree.Check(s.tree.ACL(n), jute.PermRead, auth) != nil {
		return nil, jute.ErrNoAuth
	}
	if r.Watch {
		s.tree.Watches.AddData(r.Path, c.id)
	}
	return &jute.GetDataResponse{Data: n.Data, Stat: tree.StatOf(n)}, 0
}

func (s *Server) getChildren(c *conn, r *jute.PathWatchRequest, auth tree.Auth) ([]string, jute.Stat, jute.Err) {
	n := s.tree.Get(r.Path)
	if n == nil {
		return nil, jute.Stat{}, jute.ErrNoNode
	}
	if tree.Check(s.tree.ACL(n), jute.PermRead, auth) != nil {
		return nil, jute.Stat{}, jute.ErrNoAuth
	}
	if r.Watch {
		s.tree.Watches.AddChild(r.Path, c.id)
	}
	return n.Children(), tree.StatOf(n), 0
}

// opResult is one entry of a MultiResponse.
type opResult struct {
	typ      jute.Op
	err      jute.Err
	path     string
	stat     jute.Stat
	data     []byte
	children []string
}

func multiResults(rs []tree.Result) []opResult {
	out := make([]opResult, 0, len(rs))
	for _, r := range rs {
		o := opResult{typ: r.Type, err: r.Err, path: r.Path, stat: r.Stat}
		switch r.Type {
		case jute.OpCreate2, jute.OpCreateTTL, jute.OpCreateContainer:
			o.typ = jute.OpCreate2
		case jute.OpDeleteContainer:
			o.typ = jute.OpDelete
		}
		if r.Type == jute.OpError || r.Err != 0 {
			o.typ = jute.OpError
		}
		out = append(out, o)
	}
	return out
}

// multiResponse is Apache's MultiResponse record.
type multiResponse struct{ results []opResult }

func (m *multiResponse) Encode(e *jute.Encoder) {
	for _, r := range m.results {
		h := jute.MultiHeader{Type: r.typ, Done: false, Err: 0}
		if r.typ == jute.OpError {
			h.Err = r.err
		}
		h.Encode(e)
		switch r.typ {
		case jute.OpCreate:
			e.String(r.path)
		case jute.OpCreate2:
			e.String(r.path)
			r.stat.Encode(e)
		case jute.OpSetData:
			r.stat.Encode(e)
		case jute.OpGetData:
			e.Buffer(r.data)
			r.stat.Encode(e)
		case jute.OpGetChildren:
			e.Strings(r.children)
		case jute.OpError:
			e.Int(int32(r.err))
		}
	}
	h := jute.MultiHeader{Type: -1, Done: true, Err: -1}
	h.Encode(e)
}

func (m *multiResponse) Decode(d *jute.Decoder) {
	m.results = nil
	for d.Err() == nil {
		var h jute.MultiHeader
		h.Decode(d)
		if h.Done {
			return
		}
		r := opResult{typ: h.Type, err: h.Err}
		switch h.Type {
		case jute.OpCreate:
			r.path = d.String()
		case jute.OpCreate2:
			r.path = d.String()
			r.stat.Decode(d)
		case jute.OpSetData:
			r.stat.Decode(d)
		case jute.OpGetData:
			r.data = d.Buffer()
			r.stat.Decode(d)
		case jute.OpGetChildren:
			r.children = d.Strings()
		case jute.OpError:
			r.err = jute.Err(d.Int())
		}
		m.results = append(m.results, r)
	}
}

// saslResponse is SetSASLResponse with a null token.
type saslResponse struct{ Token []byte }

func (r *saslResponse) Encode(e *jute.Encoder) { e.Buffer(r.Token) }
func (r *saslResponse) Decode(d *jute.Decoder) { r.Token = d.Buffer() }

// javaSetOrder returns ids in the iteration order of the Java hash set
// Apache keeps a connection's auth info in (hash of jute Id: 37*(37*17 +
// scheme.hashCode()) + id.hashCode(), spread h^(h>>>16), buckets of a table
// of 16 — 32, 64... past 0.75 load — in insertion order within a bucket).
func javaSetOrder(ids []jute.ID) []jute.ID {
	n := 16
	for len(ids) > n*3/4 {
		n *= 2
	}
	type item struct {
		id     jute.ID
		bucket int
		seq    int
	}
	items := make([]item, len(ids))
	for i, id := range ids {
		h := 17
		h = int(int32(37*int32(h) + tree.JavaStringHash(id.Scheme)))
		h = int(int32(37*int32(h) + tree.JavaStringHash(id.ID)))
		u := uint32(int32(h))
		u ^= u >> 16
		items[i] = item{id: id, bucket: int(u) & (n - 1), seq: i}
	}
	sort.SliceStable(items, func(a, b int) bool { return items[a].bucket < items[b].bucket })
	out := make([]jute.ID, len(items))
	for i, it := range items {
		out[i] = it.id
	}
	return out
}
