package txnlog_test

import (
	"bytes"
	"testing"

	"github.com/rs/zerolog"

	"mqstack/proto/jute"
	"mqstack/storage/txnlog"
	"mqstack/storage/vfs"
)

// FuzzReplay feeds arbitrary bytes as the newest log file. Replay must not
// panic; when it succeeds, a second Replay (after any truncation) must see
// the same entries without complaint, and every entry must re-encode to
// bytes that decode to the same value.
func FuzzReplay(f *testing.F) {
	valid := txnlog.AppendHeader(nil)
	for z := int64(1); z <= 6; z++ {
		valid = txnlog.AppendEntry(valid, entry(z))
	}
	padded := append(append([]byte(nil), valid...), make([]byte, 100)...)
	f.Add([]byte{})
	f.Add(valid)
	f.Add(padded)
	f.Add(valid[:len(valid)-7])
	f.Add(valid[:10])
	f.Add(txnlog.AppendHeader(nil))
	flipped := append([]byte(nil), padded...)
	flipped[40] ^= 1
	f.Add(flipped)
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := vfs.NewMem()
		if err := fsys.MkdirAll("/d", 0o755); err != nil {
			t.Fatal(err)
		}
		writeAll(t, fsys, "/d/log.1", data)
		var first []*jute.TxnEntry
		_, err := txnlog.Replay(fsys, "/d", 0, zerolog.Nop(), func(e *jute.TxnEntry) error {
			first = append(first, e)
			return nil
		})
		if err != nil {
			return
		}
		var second []*jute.TxnEntry
		_, err = txnlog.Replay(fsys, "/d", 0, zerolog.Nop(), func(e *jute.TxnEntry) error {
			second = append(second, e)
			return nil
		})
		if err != nil {
			t.Fatalf("second replay failed after a clean first one: %v", err)
		}
		if len(first) != len(second) {
			t.Fatalf("first replay saw %d entries, second %d", len(first), len(second))
		}
		for _, e := range first {
			b := txnlog.AppendEntry(nil, e)
			var again []*jute.TxnEntry
			n, _, torn, err := txnlog.DecodeFile(append(txnlog.AppendHeader(nil), b...), func(e *jute.TxnEntry, _ int64) error {
				again = append(again, e)
				return nil
			})
			if err != nil || n != 1 || torn != -1 {
				t.Fatalf("re-encoded entry does not decode: n=%d torn=%d err=%v", n, torn, err)
			}
			if !bytes.Equal(txnlog.AppendEntry(nil, again[0]), b) {
				t.Fatalf("entry changed through a round trip")
			}
		}
	})
}
