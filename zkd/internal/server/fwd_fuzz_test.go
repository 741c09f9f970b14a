package server

import (
	"testing"

	"github.com/stretchr/testify/require"

	"mqstack/proto/jute"
)

func TestForwardRoundTrip(t *testing.T) {
	f := &forwarded{Session: 0x1234, Cxid: 7, Op: jute.OpCreate, Auth: []jute.ID{{Scheme: "ip", ID: "127.0.0.1"}}, Body: []byte("body")}
	got, err := decodeForward(encodeForward(f))
	require.NoError(t, err)
	require.Equal(t, f, got)
	_, err = decodeForward(encodeForward(f)[:10])
	require.ErrorIs(t, err, ErrForward)
	ts := []touch{{1, 4000}, {2, 6000}}
	back, err := decodeTouches(encodeTouches(ts))
	require.NoError(t, err)
	require.Equal(t, ts, back)
	_, err = decodeTouches([]byte{1, 2, 3})
	require.ErrorIs(t, err, ErrForward)
}

func FuzzDecodeForward(f *testing.F) {
	valid := encodeForward(&forwarded{Session: 1, Cxid: 2, Op: jute.OpSetData, Auth: []jute.ID{{Scheme: "digest", ID: "u:x"}}, Body: []byte{1, 2}})
	f.Add(valid)
	f.Add([]byte{})
	f.Add(valid[:len(valid)-1])
	f.Add(encodeTouches([]touch{{5, 100}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if fw, err := decodeForward(b); err == nil {
			require.Equal(t, b, encodeForward(fw))
		}
		if ts, err := decodeTouches(b); err == nil {
			require.Equal(t, len(b), len(encodeTouches(ts)))
		}
	})
}
