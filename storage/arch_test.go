package storage_test

import (
	"testing"

	"mqstack/proto/archtest"
)

// storage sits on proto only, and opens no sockets.
func TestImportRules(t *testing.T) {
	archtest.Check(t, ".", []archtest.Rule{
		{Forbidden: []string{"mqstack/election", "mqstack/zkd", "mqstack/brokerd", "mqstack/eagle", "mqstack/integration", "net"},
			Why: "storage depends on proto only and does no networking (DESIGN.md section 2)"},
	})
}
