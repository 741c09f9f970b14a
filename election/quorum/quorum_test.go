package quorum

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestContainsQuorum(t *testing.T) {
	cases := []struct {
		name      string
		voters    []uint64
		observers []uint64
		set       []uint64
		want      bool
	}{
		{"single voter alone", []uint64{1}, nil, []uint64{1}, true},
		{"single voter empty", []uint64{1}, nil, nil, false},
		{"3: two of three", []uint64{1, 2, 3}, nil, []uint64{1, 3}, true},
		{"3: one of three", []uint64{1, 2, 3}, nil, []uint64{2}, false},
		{"4: two of four is not a majority", []uint64{1, 2, 3, 4}, nil, []uint64{1, 2}, false},
		{"4: three of four", []uint64{1, 2, 3, 4}, nil, []uint64{1, 2, 4}, true},
		{"5: three of five", []uint64{1, 2, 3, 4, 5}, nil, []uint64{1, 2, 4}, true},
		{"5: two of five", []uint64{1, 2, 3, 4, 5}, nil, []uint64{3, 5}, false},
		{"observers never count", []uint64{1, 2, 3}, []uint64{4, 5}, []uint64{1, 4, 5}, false},
		{"observers plus a majority", []uint64{1, 2, 3}, []uint64{4, 5}, []uint64{1, 2, 4, 5}, true},
		{"strangers never count", []uint64{1, 2, 3}, nil, []uint64{1, 9, 10}, false},
		{"duplicates count once", []uint64{1, 2, 3}, nil, []uint64{1, 1, 1}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := NewVerifier(c.voters, c.observers)
			require.NoError(t, err)
			require.Equal(t, c.want, v.ContainsQuorum(c.set))
		})
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int]int{1: 1, 2: 2, 3: 2, 4: 3, 5: 3, 6: 4, 7: 4} {
		ids := make([]uint64, n)
		for i := range ids {
			ids[i] = uint64(i + 1)
		}
		v, err := NewVerifier(ids, []uint64{100, 101})
		require.NoError(t, err)
		require.Equal(t, want, v.Size(), "voters=%d", n)
	}
}

func TestNewVerifierRejects(t *testing.T) {
	_, err := NewVerifier(nil, []uint64{1})
	require.True(t, errors.Is(err, ErrConfig))
	require.Contains(t, err.Error(), "no voting member")
	_, err = NewVerifier([]uint64{1, 1}, nil)
	require.ErrorContains(t, err, "server id 1 is listed twice")
	_, err = NewVerifier([]uint64{1, 2}, []uint64{2})
	require.ErrorContains(t, err, "server id 2 is listed twice")
	require.False(t, Verifier{}.ContainsQuorum([]uint64{1}))
}

func TestAckTracker(t *testing.T) {
	v, err := NewVerifier([]uint64{1, 2, 3, 4, 5}, []uint64{6})
	require.NoError(t, err)
	a := NewAckTracker(v)
	require.True(t, a.Ack(1)) // the leader's own ack
	require.False(t, a.Ack(6), "observer ack counts")
	require.False(t, a.Ack(1), "repeated ack counts")
	require.False(t, a.Ack(42), "stranger ack counts")
	require.True(t, a.Ack(2))
	require.False(t, a.Committed(), "two of five committed")
	require.True(t, a.Ack(5))
	require.True(t, a.Committed())
	require.Equal(t, []uint64{1, 2, 5}, a.Ackers())
	require.True(t, a.Acked(5))
	a.Forget(5)
	require.False(t, a.Committed())
	require.True(t, a.Ack(5))
	require.False(t, a.Acked(6))
	require.Equal(t, []uint64{1, 2, 3, 4, 5, 6}, v.Members())
	require.Equal(t, []uint64{6}, v.Observers())
}
