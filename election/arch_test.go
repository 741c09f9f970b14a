package election_test

import (
	"testing"

	"mqstack/proto/archtest"
)

// The election module holds pure state machines (DESIGN.md sections 2 and
// 4): no sockets, files, wall clock or goroutine plumbing, and no daemon or
// storage code. Test files are held to the same rules: the cores are
// stepped, never slept on.
func TestImportRules(t *testing.T) {
	archtest.Check(t, ".", []archtest.Rule{
		{Forbidden: []string{"mqstack/storage", "mqstack/zkd", "mqstack/brokerd", "mqstack/eagle", "mqstack/integration"},
			Why: "election sits below the daemons and beside storage (DESIGN.md section 2)"},
		{Forbidden: []string{"net", "os", "io/fs", "time", "sync", "context", "os/exec", "syscall"},
			Why: "the election cores are pure: time is ticks, I/O is the caller's (DESIGN.md section 4)"},
		{Forbidden: []string{"github.com/rs/zerolog", "log"},
			Why: "the cores log nothing; they return Notes and errors for the wiring to log"},
	})
}
