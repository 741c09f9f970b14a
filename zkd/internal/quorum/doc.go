// Package quorum is zkd's peer networking for a replicated ensemble: the
// election port (fast leader election notifications, owned by an Elector
// goroutine that drives election/fle), the quorum port (ZAB links between the
// leader and its learners, framed peer messages) and the acceptedEpoch /
// currentEpoch files in dataDir.
//
// Framing on both ports (docs/election.md section 5):
//
//	+----------------+------------------------------+
//	| length (4 B BE) | peer.Encode(msg): type+msgpack |
//	+----------------+------------------------------+
//
// The length is checked against the port's limit (peer.MaxElectionSize on
// the election port, peer.MaxSize on the quorum port) before the body is
// read. The first frame each way is peer.Hello{ServerID}; a connection whose
// id is not a member of the ensemble is closed. The sender of every later
// message is the id of its connection's Hello, never a field of the body.
//
// Election connections follow Apache's QuorumCnxManager rule: one
// connection per pair, and it is the higher server id that keeps it — the
// higher id dials the lower one (retrying while it is down) and a
// connection a lower id opens to a higher id is closed by the receiver.
//
// The ZAB cores (election/zab) are driven by the server's owner goroutine,
// which also owns the data tree and the txn log the Ready contract persists
// to; this package only moves their messages.
package quorum
