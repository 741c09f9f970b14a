package brokerd_test

import (
	"testing"

	"mqstack/proto/archtest"
)

// Daemons never import each other or the integration tests; the group
// state machine and the controller's decisions stay pure.
func TestImportRules(t *testing.T) {
	archtest.Check(t, ".", []archtest.Rule{
		{Forbidden: []string{"mqstack/zkd", "mqstack/eagle", "mqstack/integration", "mqstack/election"},
			Why: "daemons never import each other (DESIGN.md section 2)"},
		{Dir: "internal/group", Forbidden: []string{"net", "os", "sync", "mqstack/storage"},
			Why: "the group state machine is pure (DESIGN.md section 4.1)"},
	})
}
