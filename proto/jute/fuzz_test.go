package jute_test

import (
	"bytes"
	"reflect"
	"testing"

	"mqstack/proto/jute"
)

// records lists a constructor for every record type, indexed by the first
// byte of a FuzzRecords input.
var records = []func() jute.Record{
	func() jute.Record { return &jute.ID{} },
	func() jute.Record { return &jute.ACL{} },
	func() jute.Record { return &jute.Stat{} },
	func() jute.Record { return &jute.StatPersisted{} },
	func() jute.Record { return &jute.ClientInfo{} },
	func() jute.Record { return &jute.DataNode{} },
	func() jute.Record { return &jute.FileHeader{} },
	func() jute.Record { return &jute.TxnHeader{} },
	func() jute.Record { return &jute.TxnDigest{} },
	func() jute.Record { return &jute.CreateTxn{} },
	func() jute.Record { return &jute.CreateContainerTxn{} },
	func() jute.Record { return &jute.CreateTTLTxn{} },
	func() jute.Record { return &jute.DeleteTxn{} },
	func() jute.Record { return &jute.SetDataTxn{} },
	func() jute.Record { return &jute.CheckVersionTxn{} },
	func() jute.Record { return &jute.SetACLTxn{} },
	func() jute.Record { return &jute.CreateSessionTxn{} },
	func() jute.Record { return &jute.CloseSessionTxn{} },
	func() jute.Record { return &jute.ErrorTxn{} },
	func() jute.Record { return &jute.SubTxn{} },
	func() jute.Record { return &jute.MultiTxn{} },
	func() jute.Record { return &jute.ConnectRequest{} },
	func() jute.Record { return &jute.ConnectResponse{} },
	func() jute.Record { return &jute.RequestHeader{} },
	func() jute.Record { return &jute.ReplyHeader{} },
	func() jute.Record { return &jute.MultiHeader{} },
	func() jute.Record { return &jute.AuthPacket{} },
	func() jute.Record { return &jute.PathRequest{} },
	func() jute.Record { return &jute.PathWatchRequest{} },
	func() jute.Record { return &jute.PathVersionRequest{} },
	func() jute.Record { return &jute.SetDataRequest{} },
	func() jute.Record { return &jute.CreateRequest{} },
	func() jute.Record { return &jute.SetACLRequest{} },
	func() jute.Record { return &jute.PathTypeRequest{} },
	func() jute.Record { return &jute.SetWatches{} },
	func() jute.Record { return &jute.WatcherEvent{} },
	func() jute.Record { return &jute.ErrorResponse{} },
	func() jute.Record { return &jute.PathResponse{} },
	func() jute.Record { return &jute.PathStatResponse{} },
	func() jute.Record { return &jute.StatResponse{} },
	func() jute.Record { return &jute.GetDataResponse{} },
	func() jute.Record { return &jute.StringsResponse{} },
	func() jute.Record { return &jute.GetChildren2Response{} },
	func() jute.Record { return &jute.IntResponse{} },
	func() jute.Record { return &jute.GetACLResponse{} },
	func() jute.Record { return &jute.WhoAmIResponse{} },
}

// FuzzRecords decodes arbitrary bytes into a record chosen by the first
// byte. Decoding must not panic; what decodes cleanly must re-encode to
// bytes that decode again, and after that first normalization (a null
// vector may re-encode as an empty one) encode/decode is a fixed point.
func FuzzRecords(f *testing.F) {
	acl := []jute.ACL{{Perms: 31, ID: jute.ID{Scheme: "world", ID: "anyone"}}}
	seeds := []jute.Record{
		&jute.ID{Scheme: "digest", ID: "u:p"},
		&jute.Stat{Czxid: 1, Version: 2, NumChildren: 3},
		&jute.DataNode{Data: []byte("d"), ACL: 1},
		&jute.CreateTxn{Path: "/a", Data: []byte("x"), ACL: acl, Ephemeral: true, ParentCVersion: 4},
		&jute.MultiTxn{Txns: []jute.SubTxn{{Type: jute.OpDelete, Data: jute.Marshal(&jute.DeleteTxn{Path: "/a"})}}},
		&jute.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16), HasReadOnly: true},
		&jute.CreateRequest{Path: "/b", ACL: acl, Flags: 2},
		&jute.SetWatches{},
		&jute.WhoAmIResponse{ClientInfo: []jute.ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}}},
	}
	for _, s := range seeds {
		for i, mk := range records {
			if reflect.TypeOf(mk()) == reflect.TypeOf(s) {
				b := jute.Marshal(s)
				f.Add(append([]byte{byte(i)}, b...))
				f.Add(append([]byte{byte(i)}, b[:len(b)/2]...))
			}
		}
	}
	f.Add([]byte{})
	for i := range records {
		f.Add([]byte{byte(i)})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		mk := records[int(data[0])%len(records)]
		r1 := mk()
		if err := jute.Unmarshal(data[1:], r1); err != nil {
			return
		}
		b1 := jute.Marshal(r1)
		r2 := mk()
		if err := jute.Unmarshal(b1, r2); err != nil {
			t.Fatalf("%T: re-encoded record does not decode: %v", r1, err)
		}
		b2 := jute.Marshal(r2)
		if !bytes.Equal(b1, b2) {
			t.Fatalf("%T: encoding is not stable:\n%x\n%x", r1, b1, b2)
		}
		r3 := mk()
		if err := jute.Unmarshal(b2, r3); err != nil {
			t.Fatalf("%T: %v", r1, err)
		}
		if !reflect.DeepEqual(r2, r3) {
			t.Fatalf("%T: decode(encode(v)) != v:\n%#v\n%#v", r1, r2, r3)
		}
	})
}

// FuzzDecodeTxnEntry decodes arbitrary bytes as a log entry (header, body,
// optional digest). What decodes cleanly must re-encode to the same bytes
// and decode to the same value.
func FuzzDecodeTxnEntry(f *testing.F) {
	hdr := jute.TxnHeader{ClientID: 1, Cxid: 2, Zxid: 3, Time: 4}
	for _, e := range []*jute.TxnEntry{
		{Header: withType(hdr, jute.OpCreate), Txn: &jute.CreateTxn{Path: "/a", Data: []byte("x")}, Digest: &jute.TxnDigest{Version: 2, TreeDigest: 9}},
		{Header: withType(hdr, jute.OpSetData), Txn: &jute.SetDataTxn{Path: "/a", Data: []byte("y"), Version: 1}},
		{Header: withType(hdr, jute.OpCloseSession), Txn: &jute.CloseSessionTxn{Paths2Delete: []string{"/e"}}},
		{Header: withType(hdr, jute.OpMulti), Txn: &jute.MultiTxn{Txns: []jute.SubTxn{{Type: jute.OpError, Data: jute.Marshal(&jute.ErrorTxn{Err: -101})}}}},
		{Header: withType(hdr, jute.OpCreateSession), Txn: &jute.CreateSessionTxn{TimeOut: 4000}},
	} {
		var enc jute.Encoder
		jute.EncodeTxnEntry(&enc, e)
		f.Add(enc.Buf)
		f.Add(enc.Buf[:len(enc.Buf)-3])
	}
	f.Add([]byte{})
	f.Add(jute.Marshal(&hdr)) // a header with type 0 and no body
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := jute.DecodeTxnEntry(data)
		if err != nil {
			return
		}
		var enc jute.Encoder
		jute.EncodeTxnEntry(&enc, e)
		e2, err := jute.DecodeTxnEntry(enc.Buf)
		if err != nil {
			t.Fatalf("re-encoded entry does not decode: %v\n%#v", err, e)
		}
		var enc2 jute.Encoder
		jute.EncodeTxnEntry(&enc2, e2)
		if !bytes.Equal(enc.Buf, enc2.Buf) {
			t.Fatalf("encoding is not stable:\n%x\n%x", enc.Buf, enc2.Buf)
		}
		e3, err := jute.DecodeTxnEntry(enc2.Buf)
		if err != nil || !reflect.DeepEqual(e2, e3) {
			t.Fatalf("decode(encode(e)) != e: %v\n%#v\n%#v", err, e2, e3)
		}
	})
}

func withType(h jute.TxnHeader, op jute.Op) jute.TxnHeader {
	h.Type = op
	return h
}
