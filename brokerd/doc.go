// Package brokerd is the module root of brokerd, the Kafka 2.8-compatible
// broker (see docs/brokerd.md). The code is in cmd/brokerd and internal/.
package brokerd
