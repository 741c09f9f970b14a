package proto_test

import (
	"testing"

	"mqstack/proto/archtest"
)

// proto holds wire formats only: no project module above it, and no I/O.
func TestImportRules(t *testing.T) {
	archtest.Check(t, ".", []archtest.Rule{
		{Forbidden: []string{"mqstack/storage", "mqstack/election", "mqstack/zkd", "mqstack/brokerd", "mqstack/eagle", "mqstack/integration"},
			Why: "proto is the bottom layer (DESIGN.md section 2)"},
		{Dir: "jute", Forbidden: []string{"net", "os", "io/fs"}, Why: "wire formats do no I/O"},
	})
}
