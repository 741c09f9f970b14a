package kafka_test

import (
	"testing"

	"mqstack/proto/archtest"
)

func TestNoIO(t *testing.T) {
	archtest.Check(t, ".", []archtest.Rule{
		{Forbidden: []string{"net", "os", "io/fs", "mqstack/storage"}, Why: "proto/kafka is wire formats only and does no I/O (DESIGN.md section 2)"},
	})
}
