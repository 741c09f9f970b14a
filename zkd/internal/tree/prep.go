package tree

import (
	"fmt"

	"mqstack/proto/jute"
)

// Request is a decoded client write request.
type Request struct {
	Session int64
	Cxid    int32
	Op      jute.Op
	Body    jute.Record
	Auth    Auth
}

// MultiOp is one operation of a multi request.
type MultiOp struct {
	Op   jute.Op
	Body jute.Record
}

// MultiRequest is the body of multi and multiRead.
type MultiRequest struct{ Ops []MultiOp }

// Encode writes the ops framed by MultiHeaders and the done marker.
func (m *MultiRequest) Encode(e *jute.Encoder) {
	for _, op := range m.Ops {
		h := jute.MultiHeader{Type: op.Op, Done: false, Err: -1}
		h.Encode(e)
		op.Body.Encode(e)
	}
	h := jute.MultiHeader{Type: -1, Done: true, Err: -1}
	h.Encode(e)
}

// ErrBadMultiOp is an op type that cannot appear in a multi.
var ErrBadMultiOp = fmt.Errorf("tree: invalid type of op in multi")

// Decode reads ops until the done header.
func (m *MultiRequest) Decode(d *jute.Decoder) {
	m.Ops = nil
	for d.Err() == nil {
		var h jute.MultiHeader
		h.Decode(d)
		if d.Err() != nil || h.Done {
			return
		}
		body := NewRequestBody(h.Type)
		if body == nil {
			d.Fail(fmt.Errorf("%w: %d", ErrBadMultiOp, int32(h.Type)))
			return
		}
		body.Decode(d)
		m.Ops = append(m.Ops, MultiOp{Op: h.Type, Body: body})
	}
}

// NewRequestBody returns the request record for op types that may appear
// inside multi or multiRead, or nil.
func NewRequestBody(op jute.Op) jute.Record {
	switch op {
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer:
		return &jute.CreateRequest{}
	case jute.OpCreateTTL:
		return &jute.CreateRequest{HasTTL: true}
	case jute.OpDelete, jute.OpCheck:
		return &jute.PathVersionRequest{}
	case jute.OpSetData:
		return &jute.SetDataRequest{}
	case jute.OpGetChildren, jute.OpGetData:
		return &jute.PathWatchRequest{}
	}
	return nil
}

// IsMultiWriteOp reports whether op may appear inside a multi (write) request.
func IsMultiWriteOp(op jute.Op) bool {
	switch op {
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateTTL, jute.OpCreateContainer, jute.OpDelete,
		jute.OpSetData, jute.OpCheck:
		return true
	}
	return false
}

// IsWrite reports whether op produces a transaction.
func IsWrite(op jute.Op) bool {
	switch op {
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL, jute.OpDelete,
		jute.OpDeleteContainer, jute.OpSetData, jute.OpSetACL, jute.OpCheck, jute.OpMulti,
		jute.OpCreateSession, jute.OpCloseSession:
		return true
	}
	return false
}

func isSpecialPath(p string) bool {
	return p == "/" || p == ZookeeperPath || p == QuotaPath || p == ConfigPath
}

func hasNul(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] == 0 {
			return true
		}
	}
	return false
}

// Prepare turns a write request into a transaction with the given zxid and
// time, and applies it to the tree (a failed request becomes an ErrorTxn,
// which Apache logs too). The entry is to be appended to the txn log; the
// result answers the client. Watch triggers are collected for TakeEvents.
func (t *Tree) Prepare(req *Request, zxid, now int64) (*jute.TxnEntry, Result) {
	h := jute.TxnHeader{ClientID: req.Session, Cxid: req.Cxid, Zxid: zxid, Time: now, Type: req.Op}
	if req.Op == jute.OpMulti {
		return t.prepareMulti(req, h)
	}
	txn, err := t.prep(req.Op, req.Body, req, &h)
	if err != nil {
		h.Type = jute.OpError
		e := &jute.TxnEntry{Header: h, Txn: &jute.ErrorTxn{Err: errCode(err)}}
		r := t.Apply(e)
		r.Type = req.Op
		return e, r
	}
	e := &jute.TxnEntry{Header: h, Txn: txn}
	r := t.Apply(e)
	return e, r
}

func (t *Tree) prepareMulti(req *Request, h jute.TxnHeader) (*jute.TxnEntry, Result) {
	m, _ := req.Body.(*MultiRequest)
	if m == nil {
		m = &MultiRequest{}
	}
	subs := make([]jute.SubTxn, 0, len(m.Ops))
	var failed error
	t.record, t.undo = true, t.undo[:0]
	mark := len(t.triggers)
	results := make([]Result, 0, len(m.Ops))
	for _, op := range m.Ops {
		if failed != nil {
			subs = append(subs, jute.SubTxn{Type: jute.OpError, Data: jute.Marshal(&jute.ErrorTxn{Err: jute.ErrRuntimeInconsistency})})
			continue
		}
		sh := h
		sh.Type = op.Op
		txn, err := t.prep(op.Op, op.Body, req, &sh)
		if err == nil {
			switch op.Op {
			case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL, jute.OpDelete,
				jute.OpSetData, jute.OpCheck:
			default:
				err = jute.ErrMarshallingError
			}
		}
		if err != nil {
			failed = err
			subs = append(subs, jute.SubTxn{Type: jute.OpError, Data: jute.Marshal(&jute.ErrorTxn{Err: errCode(err)})})
			// Roll back what the earlier ops did to the tree.
			for i := len(t.undo) - 1; i >= 0; i-- {
				t.undo[i]()
			}
			t.triggers = t.triggers[:mark]
			continue
		}
		// Apply at once so later ops see the change (Apache's pending changes).
		results = append(results, t.apply(&sh, txn))
		subs = append(subs, jute.SubTxn{Type: op.Op, Data: jute.Marshal(txn)})
	}
	t.record, t.undo = false, t.undo[:0]
	e := &jute.TxnEntry{Header: h, Txn: &jute.MultiTxn{Txns: subs}}
	if h.Zxid > t.lastZxid {
		t.lastZxid = h.Zxid
	}
	r := Result{Type: jute.OpMulti}
	if failed == nil {
		r.Multi = results
		return e, r
	}
	// Compute the per-op errors exactly as applying the logged txn does.
	post := false
	for _, s := range subs {
		ec := jute.ErrOK
		if s.Type == jute.OpError {
			var et jute.ErrorTxn
			_ = jute.Unmarshal(s.Data, &et)
			ec = et.Err
			post = true
		} else if post {
			ec = jute.ErrRuntimeInconsistency
		}
		r.Multi = append(r.Multi, Result{Type: jute.OpError, Err: ec})
		if ec != 0 && r.Err == 0 {
			r.Err = ec
		}
	}
	return e, r
}

func checkVersion(current, expected int32) error {
	if expected != -1 && expected != current {
		return jute.ErrBadVersion
	}
	return nil
}

// prep validates one write against the tree and returns its txn record.
// h.Type may be rewritten (create of a container keeps its op type).
func (t *Tree) prep(op jute.Op, body jute.Record, req *Request, h *jute.TxnHeader) (jute.Record, error) {
	switch op {
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL:
		cr, ok := body.(*jute.CreateRequest)
		if !ok {
			return nil, jute.ErrMarshallingError
		}
		return t.prepCreate(op, cr, req)
	case jute.OpDelete, jute.OpDeleteContainer:
		var path string
		version := int32(-1)
		switch b := body.(type) {
		case *jute.PathVersionRequest:
			path, version = b.Path, b.Version
		case *jute.PathRequest:
			path = b.Path
		default:
			return nil, jute.ErrMarshallingError
		}
		if hasNul(path) || isSpecialPath(path) || len(path) == 0 || path[0] != '/' {
			return nil, jute.ErrBadArguments
		}
		parentPath, _ := Split(path)
		parent := t.nodes[parentPath]
		if parent == nil {
			return nil, jute.ErrNoNode
		}
		if op == jute.OpDelete {
			if err := Check(t.ACL(parent), jute.PermDelete, req.Auth); err != nil {
				return nil, err
			}
		}
		n := t.nodes[path]
		if n == nil {
			return nil, jute.ErrNoNode
		}
		if err := checkVersion(n.Stat.Version, version); err != nil {
			return nil, err
		}
		if n.children.size > 0 {
			return nil, jute.ErrNotEmpty
		}
		return &jute.DeleteTxn{Path: path}, nil
	case jute.OpSetData:
		sr, ok := body.(*jute.SetDataRequest)
		if !ok {
			return nil, jute.ErrMarshallingError
		}
		if ValidatePath(sr.Path) != nil {
			return nil, jute.ErrBadArguments
		}
		n := t.nodes[sr.Path]
		if n == nil {
			return nil, jute.ErrNoNode
		}
		if err := Check(t.ACL(n), jute.PermWrite, req.Auth); err != nil {
			return nil, err
		}
		if err := checkVersion(n.Stat.Version, sr.Version); err != nil {
			return nil, err
		}
		return &jute.SetDataTxn{Path: sr.Path, Data: sr.Data, Version: n.Stat.Version + 1}, nil
	case jute.OpSetACL:
		sr, ok := body.(*jute.SetACLRequest)
		if !ok {
			return nil, jute.ErrMarshallingError
		}
		if ValidatePath(sr.Path) != nil {
			return nil, jute.ErrBadArguments
		}
		acl, err := FixupACL(sr.ACL, req.Auth)
		if err != nil {
			return nil, err
		}
		n := t.nodes[sr.Path]
		if n == nil {
			return nil, jute.ErrNoNode
		}
		if err := Check(t.ACL(n), jute.PermAdmin, req.Auth); err != nil {
			return nil, err
		}
		if err := checkVersion(n.Stat.Aversion, sr.Version); err != nil {
			return nil, err
		}
		return &jute.SetACLTxn{Path: sr.Path, ACL: acl, Version: n.Stat.Aversion + 1}, nil
	case jute.OpCheck:
		cr, ok := body.(*jute.PathVersionRequest)
		if !ok {
			return nil, jute.ErrMarshallingError
		}
		if ValidatePath(cr.Path) != nil {
			return nil, jute.ErrBadArguments
		}
		n := t.nodes[cr.Path]
		if n == nil {
			return nil, jute.ErrNoNode
		}
		if err := Check(t.ACL(n), jute.PermRead, req.Auth); err != nil {
			return nil, err
		}
		if err := checkVersion(n.Stat.Version, cr.Version); err != nil {
			return nil, err
		}
		return &jute.CheckVersionTxn{Path: cr.Path, Version: n.Stat.Version + 1}, nil
	case jute.OpCreateSession:
		cs, ok := body.(*jute.CreateSessionTxn)
		if !ok {
			return nil, jute.ErrMarshallingError
		}
		return cs, nil
	case jute.OpCloseSession:
		return &jute.CloseSessionTxn{Paths2Delete: t.Ephemerals(h.ClientID)}, nil
	}
	return nil, jute.ErrMarshallingError
}

func (t *Tree) prepCreate(op jute.Op, cr *jute.CreateRequest, req *Request) (jute.Record, error) {
	flags := cr.Flags
	if flags < jute.FlagPersistent || flags > jute.FlagPersistentSequentialWithTTL {
		return nil, jute.ErrBadArguments
	}
	isTTL := flags == jute.FlagPersistentWithTTL || flags == jute.FlagPersistentSequentialWithTTL
	sequential := flags == jute.FlagPersistentSequential || flags == jute.FlagEphemeralSequential ||
		flags == jute.FlagPersistentSequentialWithTTL
	ephemeral := flags == jute.FlagEphemeral || flags == jute.FlagEphemeralSequential
	ttl := int64(-1)
	if op == jute.OpCreateTTL {
		ttl = cr.TTL
	}
	// EphemeralType.validateTTL
	if isTTL {
		if ttl <= 0 || ttl > MaxTTL {
			return nil, jute.ErrBadArguments
		}
	} else if ttl >= 0 {
		return nil, jute.ErrBadArguments
	}
	path := cr.Path
	i := lastSlash(path)
	if i < 0 || hasNul(path) {
		return nil, jute.ErrBadArguments
	}
	acl, err := FixupACL(cr.ACL, req.Auth)
	if err != nil {
		return nil, err
	}
	parentPath := path[:i]
	if parentPath == "" {
		parentPath = "/"
	}
	parent := t.nodes[parentPath]
	if parent == nil {
		return nil, jute.ErrNoNode
	}
	if err := Check(t.ACL(parent), jute.PermCreate, req.Auth); err != nil {
		return nil, err
	}
	if sequential {
		path = fmt.Sprintf("%s%010d", path, parent.Stat.Cversion)
	}
	if ValidatePath(path) != nil {
		return nil, jute.ErrBadArguments
	}
	if t.nodes[path] != nil {
		return nil, jute.ErrNodeExists
	}
	if IsSessionOwner(parent.Stat.EphemeralOwner) {
		return nil, jute.ErrNoChildrenForEphemerals
	}
	newCversion := parent.Stat.Cversion + 1
	switch {
	case op == jute.OpCreateContainer:
		// The opcode decides, as in pRequest2TxnCreate: createContainer makes
		// a container whatever the flags; create with the container flag
		// makes a plain persistent node.
		return &jute.CreateContainerTxn{Path: path, Data: cr.Data, ACL: acl, ParentCVersion: newCversion}, nil
	case op == jute.OpCreateTTL:
		return &jute.CreateTTLTxn{Path: path, Data: cr.Data, ACL: acl, ParentCVersion: newCversion, TTL: ttl}, nil
	}
	return &jute.CreateTxn{Path: path, Data: cr.Data, ACL: acl, Ephemeral: ephemeral, ParentCVersion: newCversion}, nil
}

func lastSlash(p string) int {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return i
		}
	}
	return -1
}
