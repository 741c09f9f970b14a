package checkpoint

import (
	"testing"
)

func FuzzCheckpointRead(f *testing.F) {
	f.Add([]byte("0\n2\norders 0 1500\norders 1 1432\n"))
	f.Add([]byte("0\n2\n0 0\n3 1200\n"))
	f.Add([]byte("version=0\nbroker.id=1\ncluster.id=abc\n"))
	f.Add([]byte{})
	f.Add([]byte("0\n2\norders 0 15"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if offs, err := ParseOffsets("f", data); err == nil {
			out, err := FormatOffsets(offs)
			if err == nil {
				again, err := ParseOffsets("f", out)
				if err != nil || len(again) != len(offs) {
					t.Fatalf("offsets do not round-trip: %v", err)
				}
			}
		}
		if eps, err := ParseLeaderEpochs("f", data); err == nil {
			again, err := ParseLeaderEpochs("f", FormatLeaderEpochs(eps))
			if err != nil || len(again) != len(eps) {
				t.Fatalf("epochs do not round-trip: %v", err)
			}
		}
		if m, err := ParseMeta("f", data); err == nil {
			if m.BrokerID < 0 {
				t.Fatalf("negative broker id accepted")
			}
		}
	})
}
