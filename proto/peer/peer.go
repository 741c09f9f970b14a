// Package peer holds the messages zkd servers exchange on the quorum port
// (2888: discovery, synchronization and broadcast, ZAB) and on the election
// port (3888: fast leader election notifications).
//
// A frame body is one type byte followed by the message encoded with msgpack
// (github.com/hashicorp/go-msgpack/v2, every struct as a msgpack array in
// field order):
//
//	+------+-------------------------------+
//	| type | msgpack array of the fields   |
//	+------+-------------------------------+
//	  1 B    up to MaxSize-1 bytes
//
// The transport frames bodies with a 4-byte big-endian length (as Apache's
// QuorumCnxManager and Learner sockets do) and must refuse a length above
// MaxSize before reading it. These messages are NOT Apache's wire format
// (Java-serialized QuorumPacket / the 44-byte notification buffer): a zkd
// ensemble does not interoperate with Apache peers.
package peer

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// MaxSize bounds an encoded message (type byte plus body). It leaves room
// for a SNAP holding a data tree serialized up to jute.maxbuffer many times
// over; the wiring may use a smaller limit for the election port.
const MaxSize = 64 << 20

// MaxElectionSize bounds a message on the election port, which only carries
// Hello and Notification.
const MaxElectionSize = 4 << 10

var (
	// ErrTooLarge reports a message above the size limit.
	ErrTooLarge = errors.New("peer: message too large")
	// ErrUnknownType reports an unknown type byte.
	ErrUnknownType = errors.New("peer: unknown message type")
	// ErrMalformed reports a body that does not decode.
	ErrMalformed = errors.New("peer: malformed message")
)

// Type is the first byte of every message. The values of the ZAB packets
// are Apache's Leader.* packet type constants, so logs read the same.
type Type byte

// Message types.
const (
	TypeRequest      Type = 1  // learner -> leader: a client write to run on the leader
	TypeProposal     Type = 2  // leader -> follower: a txn to log and ACK
	TypeAck          Type = 3  // follower -> leader: logged up to Zxid
	TypeCommit       Type = 4  // leader -> follower: apply txn Zxid
	TypePing         Type = 5  // both ways: liveness
	TypeRevalidate   Type = 6  // learner -> leader: session revalidation
	TypeSync         Type = 7  // client sync() forwarded / answered
	TypeInform       Type = 8  // leader -> observer: a committed txn with its body
	TypeNewLeader    Type = 10 // leader -> learner: end of the sync data
	TypeFollowerInfo Type = 11 // follower -> leader: first packet, accepted epoch
	TypeUpToDate     Type = 12 // leader -> learner: start serving
	TypeDiff         Type = 13 // leader -> learner: proposals follow
	TypeTrunc        Type = 14 // leader -> learner: truncate the log to Zxid
	TypeSnap         Type = 15 // leader -> learner: a snapshot follows (in this message)
	TypeObserverInfo Type = 16 // observer -> leader: first packet
	TypeLeaderInfo   Type = 17 // leader -> learner: the new epoch
	TypeAckEpoch     Type = 18 // learner -> leader: current epoch and last zxid
	TypeHello        Type = 64 // first message on any peer connection: who is speaking
	TypeNotification Type = 65 // election port: a vote
)

var typeNames = map[Type]string{
	TypeRequest: "REQUEST", TypeProposal: "PROPOSAL", TypeAck: "ACK", TypeCommit: "COMMIT",
	TypePing: "PING", TypeRevalidate: "REVALIDATE", TypeSync: "SYNC", TypeInform: "INFORM",
	TypeNewLeader: "NEWLEADER", TypeFollowerInfo: "FOLLOWERINFO", TypeUpToDate: "UPTODATE",
	TypeDiff: "DIFF", TypeTrunc: "TRUNC", TypeSnap: "SNAP", TypeObserverInfo: "OBSERVERINFO",
	TypeLeaderInfo: "LEADERINFO", TypeAckEpoch: "ACKEPOCH", TypeHello: "HELLO",
	TypeNotification: "NOTIFICATION",
}

func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("Type(%d)", byte(t))
}

// ServerState is a server's role, with Apache's ServerState ordinals.
type ServerState uint8

// Server states.
const (
	Looking   ServerState = 0
	Following ServerState = 1
	Leading   ServerState = 2
	Observing ServerState = 3
)

func (s ServerState) String() string {
	switch s {
	case Looking:
		return "LOOKING"
	case Following:
		return "FOLLOWING"
	case Leading:
		return "LEADING"
	case Observing:
		return "OBSERVING"
	}
	return fmt.Sprintf("ServerState(%d)", uint8(s))
}

// Msg is one typed peer message.
type Msg interface {
	PeerType() Type
}

// ProtocolVersion is sent in Hello, LearnerInfo and LeaderInfo.
const ProtocolVersion = 1

// Hello opens every peer connection (Apache sends the server id first too).
type Hello struct {
	_struct  struct{} `codec:",toarray"` //nolint:unused
	ServerID uint64
	Version  uint32
}

// Notification is a fast-leader-election vote (Apache's FLE notification).
type Notification struct {
	_struct       struct{} `codec:",toarray"` //nolint:unused
	State         ServerState
	Leader        uint64 // proposed leader
	Zxid          int64  // last zxid of the proposed leader
	ElectionEpoch int64  // the sender's logical clock (round)
	PeerEpoch     int64  // current epoch of the proposed leader
	ConfigVersion int64
}

// LearnerInfo is FOLLOWERINFO or OBSERVERINFO: the learner's accepted epoch.
type LearnerInfo struct {
	_struct       struct{} `codec:",toarray"` //nolint:unused
	Observer      bool
	ServerID      uint64
	AcceptedEpoch int64
	Version       uint32
}

// LeaderInfo carries the epoch the leader proposes.
type LeaderInfo struct {
	_struct  struct{} `codec:",toarray"` //nolint:unused
	NewEpoch int64
	Version  uint32
}

// AckEpoch answers LeaderInfo: the learner's current epoch (-1 when it had
// already accepted this epoch), last logged zxid, and the zxid of its newest
// snapshot (txns at or below it cannot be truncated: the leader sends a
// SNAP instead of a TRUNC below it).
type AckEpoch struct {
	_struct      struct{} `codec:",toarray"` //nolint:unused
	CurrentEpoch int64
	LastZxid     int64
	SnapZxid     int64
}

// Zxid is the message of every type that carries only a zxid: ACK, COMMIT,
// DIFF, TRUNC, NEWLEADER, UPTODATE. Kind tells which.
type Zxid struct {
	_struct struct{} `codec:",toarray"` //nolint:unused
	Kind    Type
	Zxid    int64
}

// Txn is a PROPOSAL or an INFORM: a txn body (opaque here; the server
// serializes a jute TxnEntry) at Zxid.
type Txn struct {
	_struct struct{} `codec:",toarray"` //nolint:unused
	Kind    Type
	Zxid    int64
	Data    []byte
}

// Snap starts a snapshot sync: the leader's state at Zxid.
type Snap struct {
	_struct  struct{} `codec:",toarray"` //nolint:unused
	Zxid     int64
	Snapshot []byte
}

// Opaque is a message the server layer owns: PING (session touches),
// REQUEST, REVALIDATE and SYNC. Kind tells which.
type Opaque struct {
	_struct struct{} `codec:",toarray"` //nolint:unused
	Kind    Type
	Zxid    int64
	Data    []byte
}

// PeerType implements Msg.
func (Hello) PeerType() Type { return TypeHello }

// PeerType implements Msg.
func (Notification) PeerType() Type { return TypeNotification }

// PeerType implements Msg.
func (m LearnerInfo) PeerType() Type {
	if m.Observer {
		return TypeObserverInfo
	}
	return TypeFollowerInfo
}

// PeerType implements Msg.
func (LeaderInfo) PeerType() Type { return TypeLeaderInfo }

// PeerType implements Msg.
func (AckEpoch) PeerType() Type { return TypeAckEpoch }

// PeerType implements Msg.
func (m Zxid) PeerType() Type { return m.Kind }

// PeerType implements Msg.
func (m Txn) PeerType() Type { return m.Kind }

// PeerType implements Msg.
func (Snap) PeerType() Type { return TypeSnap }

// PeerType implements Msg.
func (m Opaque) PeerType() Type { return m.Kind }

func handle() *codec.MsgpackHandle {
	h := &codec.MsgpackHandle{}
	h.MaxInitLen = 1 << 10
	return h
}

var mh = handle()

// Encode returns the type byte followed by the msgpack body. It refuses a
// message whose Kind does not fit its struct and one above MaxSize.
func Encode(m Msg) ([]byte, error) {
	if m == nil || reflect.ValueOf(m).Kind() == reflect.Pointer {
		return nil, fmt.Errorf("%w: encode takes a message value, got %T", ErrMalformed, m)
	}
	t := m.PeerType()
	if !kindFits(t, m) {
		return nil, fmt.Errorf("%w: %T cannot carry type %s", ErrUnknownType, m, t)
	}
	var body []byte
	if err := codec.NewEncoderBytes(&body, mh).Encode(m); err != nil {
		return nil, fmt.Errorf("%w: encode %s: %v", ErrMalformed, t, err)
	}
	out := append([]byte{byte(t)}, body...)
	if len(out) > MaxSize {
		return nil, fmt.Errorf("%w: %s is %d bytes, limit %d", ErrTooLarge, t, len(out), MaxSize)
	}
	return out, nil
}

func kindFits(t Type, m Msg) bool {
	switch m.(type) {
	case Zxid:
		return t == TypeAck || t == TypeCommit || t == TypeDiff || t == TypeTrunc || t == TypeNewLeader || t == TypeUpToDate
	case Txn:
		return t == TypeProposal || t == TypeInform
	case Opaque:
		return t == TypePing || t == TypeRequest || t == TypeRevalidate || t == TypeSync
	}
	return true
}

// Decode parses one message of at most MaxSize bytes. The body must be
// exactly one msgpack value; the type byte must match its struct.
func Decode(b []byte) (Msg, error) {
	return DecodeLimit(b, MaxSize)
}

// DecodeLimit is Decode with a smaller size limit (the election port uses
// MaxElectionSize).
func DecodeLimit(b []byte, limit int) (Msg, error) {
	if len(b) > limit {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(b), limit)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty message", ErrMalformed)
	}
	t := Type(b[0])
	var (
		m   Msg
		err error
	)
	switch t {
	case TypeHello:
		m, err = decodeAs[Hello](t, b[1:])
	case TypeNotification:
		m, err = decodeAs[Notification](t, b[1:])
	case TypeFollowerInfo, TypeObserverInfo:
		var li LearnerInfo
		li, err = decodeAs[LearnerInfo](t, b[1:])
		if err == nil && li.Observer != (t == TypeObserverInfo) {
			err = fmt.Errorf("%w: %s with observer=%v", ErrMalformed, t, li.Observer)
		}
		m = li
	case TypeLeaderInfo:
		m, err = decodeAs[LeaderInfo](t, b[1:])
	case TypeAckEpoch:
		m, err = decodeAs[AckEpoch](t, b[1:])
	case TypeAck, TypeCommit, TypeDiff, TypeTrunc, TypeNewLeader, TypeUpToDate:
		var z Zxid
		z, err = decodeAs[Zxid](t, b[1:])
		if err == nil && z.Kind != t {
			err = fmt.Errorf("%w: type byte %s, body kind %s", ErrMalformed, t, z.Kind)
		}
		m = z
	case TypeProposal, TypeInform:
		var x Txn
		x, err = decodeAs[Txn](t, b[1:])
		if err == nil && x.Kind != t {
			err = fmt.Errorf("%w: type byte %s, body kind %s", ErrMalformed, t, x.Kind)
		}
		m = x
	case TypeSnap:
		m, err = decodeAs[Snap](t, b[1:])
	case TypePing, TypeRequest, TypeRevalidate, TypeSync:
		var o Opaque
		o, err = decodeAs[Opaque](t, b[1:])
		if err == nil && o.Kind != t {
			err = fmt.Errorf("%w: type byte %s, body kind %s", ErrMalformed, t, o.Kind)
		}
		m = o
	default:
		return nil, fmt.Errorf("%w: %d", ErrUnknownType, b[0])
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func decodeAs[T any](t Type, body []byte) (T, error) {
	var v T
	if len(body) == 0 {
		return v, fmt.Errorf("%w: %s without a body", ErrMalformed, t)
	}
	d := codec.NewDecoderBytes(body, mh)
	if err := d.Decode(&v); err != nil {
		var zero T
		return zero, fmt.Errorf("%w: %s: %v", ErrMalformed, t, err)
	}
	if n := d.NumBytesRead(); n != len(body) {
		var zero T
		return zero, fmt.Errorf("%w: %s: %d trailing bytes", ErrMalformed, t, len(body)-n)
	}
	return v, nil
}
