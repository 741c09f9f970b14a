package jute

import (
	"errors"
	"fmt"
)

// TxnHeader precedes every transaction in the log and in the quorum protocol.
type TxnHeader struct {
	ClientID int64
	Cxid     int32
	Zxid     int64
	Time     int64
	Type     Op
}

func (r *TxnHeader) Encode(e *Encoder) {
	e.Long(r.ClientID)
	e.Int(r.Cxid)
	e.Long(r.Zxid)
	e.Long(r.Time)
	e.Int(int32(r.Type))
}

func (r *TxnHeader) Decode(d *Decoder) {
	r.ClientID = d.Long()
	r.Cxid = d.Int()
	r.Zxid = d.Long()
	r.Time = d.Long()
	r.Type = Op(d.Int())
}

// TxnDigest optionally follows a transaction (ZooKeeper 3.6+).
type TxnDigest struct {
	Version    int32
	TreeDigest int64
}

func (r *TxnDigest) Encode(e *Encoder) { e.Int(r.Version); e.Long(r.TreeDigest) }
func (r *TxnDigest) Decode(d *Decoder) { r.Version = d.Int(); r.TreeDigest = d.Long() }

// CreateTxn records create and create2 (and ephemeral creates).
type CreateTxn struct {
	Path           string
	Data           []byte
	ACL            []ACL
	Ephemeral      bool
	ParentCVersion int32
}

func (r *CreateTxn) Encode(e *Encoder) {
	e.String(r.Path)
	e.Buffer(r.Data)
	EncodeACLs(e, r.ACL)
	e.Bool(r.Ephemeral)
	e.Int(r.ParentCVersion)
}

func (r *CreateTxn) Decode(d *Decoder) {
	r.Path = d.String()
	r.Data = d.Buffer()
	r.ACL = DecodeACLs(d)
	r.Ephemeral = d.Bool()
	r.ParentCVersion = d.Int()
}

// CreateContainerTxn records createContainer.
type CreateContainerTxn struct {
	Path           string
	Data           []byte
	ACL            []ACL
	ParentCVersion int32
}

func (r *CreateContainerTxn) Encode(e *Encoder) {
	e.String(r.Path)
	e.Buffer(r.Data)
	EncodeACLs(e, r.ACL)
	e.Int(r.ParentCVersion)
}

func (r *CreateContainerTxn) Decode(d *Decoder) {
	r.Path = d.String()
	r.Data = d.Buffer()
	r.ACL = DecodeACLs(d)
	r.ParentCVersion = d.Int()
}

// CreateTTLTxn records createTTL.
type CreateTTLTxn struct {
	Path           string
	Data           []byte
	ACL            []ACL
	ParentCVersion int32
	TTL            int64
}

func (r *CreateTTLTxn) Encode(e *Encoder) {
	e.String(r.Path)
	e.Buffer(r.Data)
	EncodeACLs(e, r.ACL)
	e.Int(r.ParentCVersion)
	e.Long(r.TTL)
}

func (r *CreateTTLTxn) Decode(d *Decoder) {
	r.Path = d.String()
	r.Data = d.Buffer()
	r.ACL = DecodeACLs(d)
	r.ParentCVersion = d.Int()
	r.TTL = d.Long()
}

// DeleteTxn records delete and deleteContainer.
type DeleteTxn struct{ Path string }

func (r *DeleteTxn) Encode(e *Encoder) { e.String(r.Path) }
func (r *DeleteTxn) Decode(d *Decoder) { r.Path = d.String() }

// SetDataTxn records setData with the new version.
type SetDataTxn struct {
	Path    string
	Data    []byte
	Version int32
}

func (r *SetDataTxn) Encode(e *Encoder) { e.String(r.Path); e.Buffer(r.Data); e.Int(r.Version) }
func (r *SetDataTxn) Decode(d *Decoder) {
	r.Path = d.String()
	r.Data = d.Buffer()
	r.Version = d.Int()
}

// CheckVersionTxn records check inside a multi.
type CheckVersionTxn struct {
	Path    string
	Version int32
}

func (r *CheckVersionTxn) Encode(e *Encoder) { e.String(r.Path); e.Int(r.Version) }
func (r *CheckVersionTxn) Decode(d *Decoder) { r.Path = d.String(); r.Version = d.Int() }

// SetACLTxn records setACL with the new aversion.
type SetACLTxn struct {
	Path    string
	ACL     []ACL
	Version int32
}

func (r *SetACLTxn) Encode(e *Encoder) { e.String(r.Path); EncodeACLs(e, r.ACL); e.Int(r.Version) }
func (r *SetACLTxn) Decode(d *Decoder) {
	r.Path = d.String()
	r.ACL = DecodeACLs(d)
	r.Version = d.Int()
}

// CreateSessionTxn records a new session with its negotiated timeout.
type CreateSessionTxn struct{ TimeOut int32 }

func (r *CreateSessionTxn) Encode(e *Encoder) { e.Int(r.TimeOut) }
func (r *CreateSessionTxn) Decode(d *Decoder) { r.TimeOut = d.Int() }

// CloseSessionTxn records a session's end with the ephemerals it removes
// (3.6+; older logs have an empty body).
type CloseSessionTxn struct{ Paths2Delete []string }

func (r *CloseSessionTxn) Encode(e *Encoder) { e.Strings(r.Paths2Delete) }
func (r *CloseSessionTxn) Decode(d *Decoder) { r.Paths2Delete = d.Strings() }

// ErrorTxn records a failed operation (in a multi, or a failed multi).
type ErrorTxn struct{ Err Err }

func (r *ErrorTxn) Encode(e *Encoder) { e.Int(int32(r.Err)) }
func (r *ErrorTxn) Decode(d *Decoder) { r.Err = Err(d.Int()) }

// SubTxn is one operation of a MultiTxn: its type and its serialized body.
type SubTxn struct {
	Type Op
	Data []byte
}

func (r *SubTxn) Encode(e *Encoder) { e.Int(int32(r.Type)); e.Buffer(r.Data) }
func (r *SubTxn) Decode(d *Decoder) { r.Type = Op(d.Int()); r.Data = d.Buffer() }

// MultiTxn records a multi as a vector of sub-transactions.
type MultiTxn struct{ Txns []SubTxn }

func (r *MultiTxn) Encode(e *Encoder) {
	e.Int(int32(len(r.Txns)))
	for i := range r.Txns {
		r.Txns[i].Encode(e)
	}
}

func (r *MultiTxn) Decode(d *Decoder) {
	n, ok := d.VectorLen(8)
	if !ok {
		return
	}
	r.Txns = make([]SubTxn, n)
	for i := 0; i < n && d.Err() == nil; i++ {
		r.Txns[i].Decode(d)
	}
}

// ErrUnknownTxn reports a transaction type this package cannot decode.
var ErrUnknownTxn = errors.New("jute: unknown txn type")

// NewTxn returns an empty record for a transaction type, or nil for types
// without a body.
func NewTxn(t Op) (Record, error) {
	switch t {
	case OpCreate, OpCreate2:
		return &CreateTxn{}, nil
	case OpCreateContainer:
		return &CreateContainerTxn{}, nil
	case OpCreateTTL:
		return &CreateTTLTxn{}, nil
	case OpDelete, OpDeleteContainer:
		return &DeleteTxn{}, nil
	case OpSetData:
		return &SetDataTxn{}, nil
	case OpSetACL:
		return &SetACLTxn{}, nil
	case OpCheck:
		return &CheckVersionTxn{}, nil
	case OpMulti:
		return &MultiTxn{}, nil
	case OpCreateSession:
		return &CreateSessionTxn{}, nil
	case OpCloseSession:
		return &CloseSessionTxn{}, nil
	case OpError:
		return &ErrorTxn{}, nil
	}
	return nil, fmt.Errorf("%w %d", ErrUnknownTxn, int32(t))
}

// TxnEntry is a decoded transaction: header, body (nil when absent) and
// optional digest.
type TxnEntry struct {
	Header TxnHeader
	Txn    Record
	Digest *TxnDigest
}

// EncodeTxnEntry serializes header, body and optional digest the way
// Apache's Util.marshallTxnEntry does.
func EncodeTxnEntry(e *Encoder, t *TxnEntry) {
	t.Header.Encode(e)
	if t.Txn != nil {
		t.Txn.Encode(e)
	}
	if t.Digest != nil {
		t.Digest.Encode(e)
	}
}

// DecodeTxnEntry parses bytes written by EncodeTxnEntry (or by Apache
// ZooKeeper). A closeSession with an empty body (pre-3.6) decodes with a nil
// path list; bytes left after the body are read as a TxnDigest.
func DecodeTxnEntry(b []byte) (*TxnEntry, error) {
	d := NewDecoder(b)
	t := &TxnEntry{}
	t.Header.Decode(d)
	if d.Err() != nil {
		return nil, d.Err()
	}
	if t.Header.Type == OpCloseSession && d.Remaining() == 0 {
		t.Txn = &CloseSessionTxn{}
		return t, nil
	}
	rec, err := NewTxn(t.Header.Type)
	if err != nil {
		return nil, err
	}
	rec.Decode(d)
	t.Txn = rec
	if d.Err() == nil && d.Remaining() > 0 {
		t.Digest = &TxnDigest{}
		t.Digest.Decode(d)
	}
	if d.Err() != nil {
		return nil, d.Err()
	}
	if d.Remaining() != 0 {
		return nil, fmt.Errorf("%w: %d after txn", ErrTrailing, d.Remaining())
	}
	return t, nil
}
