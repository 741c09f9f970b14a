package zkd_test

import (
	"testing"

	"mqstack/proto/archtest"
)

// Daemons never import each other or the integration tests.
func TestImportRules(t *testing.T) {
	archtest.Check(t, ".", []archtest.Rule{
		{Forbidden: []string{"mqstack/brokerd", "mqstack/eagle", "mqstack/integration"},
			Why: "daemons never import each other (DESIGN.md section 2)"},
	})
}
