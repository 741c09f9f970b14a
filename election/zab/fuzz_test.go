package zab

import (
	"testing"

	"mqstack/proto/peer"
)

// FuzzStep feeds decoded peer messages from arbitrary bytes to a leader and
// to a learner at every stage: the cores must never panic on input, and a
// leader's commits must stay in zxid order.
func FuzzStep(f *testing.F) {
	seeds := []peer.Msg{
		peer.LearnerInfo{ServerID: 2, AcceptedEpoch: 1},
		peer.LeaderInfo{NewEpoch: 2},
		peer.AckEpoch{CurrentEpoch: 1, LastZxid: MakeZxid(1, 3)},
		peer.Zxid{Kind: peer.TypeAck, Zxid: MakeZxid(2, 0)},
		peer.Zxid{Kind: peer.TypeDiff, Zxid: 0},
		peer.Zxid{Kind: peer.TypeTrunc, Zxid: MakeZxid(1, 1)},
		peer.Txn{Kind: peer.TypeProposal, Zxid: MakeZxid(2, 1), Data: []byte("x")},
		peer.Zxid{Kind: peer.TypeCommit, Zxid: MakeZxid(2, 1)},
		peer.Zxid{Kind: peer.TypeNewLeader, Zxid: MakeZxid(2, 0)},
		peer.Zxid{Kind: peer.TypeUpToDate},
		peer.Snap{Zxid: MakeZxid(1, 9)},
		peer.Opaque{Kind: peer.TypePing},
	}
	var all []byte
	for _, m := range seeds {
		b, err := peer.Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(2), b)
		f.Add(uint8(3), b[:len(b)/2])
		all = append(all, byte(len(b)))
		all = append(all, b...)
	}
	f.Add(uint8(2), all)
	f.Add(uint8(4), []byte{})
	f.Fuzz(func(t *testing.T, from uint8, data []byte) {
		v := voters(t, 3, 4)
		l, err := NewLeader(Config{ID: 1, Verifier: v}, LeaderState{AcceptedEpoch: 1, CurrentEpoch: 1, History: []Entry{{Zxid: MakeZxid(1, 1)}}})
		if err != nil {
			t.Fatal(err)
		}
		fl, err := NewLearner(Config{ID: 2, Verifier: v}, 1, LearnerState{AcceptedEpoch: 1, CurrentEpoch: 1, LastZxid: MakeZxid(1, 1)})
		if err != nil {
			t.Fatal(err)
		}
		fl.Connected()
		last := int64(0)
		// data is a sequence of length-prefixed messages.
		for len(data) > 0 {
			n := int(data[0])
			data = data[1:]
			if n > len(data) {
				n = len(data)
			}
			m, err := peer.Decode(data[:n])
			data = data[n:]
			if err != nil {
				continue
			}
			l.Step(Message{From: uint64(from%5) + 1, To: 1, Msg: m})
			l.Tick()
			if l.Established() {
				_, _ = l.Propose([]byte("p"))
			}
			for _, e := range l.Ready().Committed {
				if e.Zxid <= last {
					t.Fatalf("leader committed %s after %s", FormatZxid(e.Zxid), FormatZxid(last))
				}
				last = e.Zxid
			}
			fl.Step(Message{From: 1, To: 2, Msg: m})
			fl.Tick()
			fl.Ready()
		}
	})
}
