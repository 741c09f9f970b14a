package eagle_test

import (
	"testing"

	"mqstack/proto/archtest"
)

// eagle may read proto/ (fourlw, kafkazk) but never imports the daemons;
// the judging cores (group status, health, alert decisions) stay free of
// I/O beyond what the alert channels need.
func TestImportRules(t *testing.T) {
	archtest.Check(t, ".", []archtest.Rule{
		{Forbidden: []string{"mqstack/zkd", "mqstack/brokerd", "mqstack/integration", "mqstack/storage", "mqstack/election"},
			Why: "daemons never import each other (DESIGN.md section 2)"},
		{Dir: "internal/status", Forbidden: []string{"net", "os", "sync", "github.com/IBM/sarama", "github.com/go-zookeeper/zk"},
			Why: "group status evaluation is a pure function of samples"},
		{Dir: "internal/health", Forbidden: []string{"net", "os", "sync", "github.com/IBM/sarama", "github.com/go-zookeeper/zk"},
			Why: "the health verdict is a pure function of a snapshot"},
	})
}
