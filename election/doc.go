// Package election holds zkd's replication cores as pure state machines:
// quorum (majority math), fle (fast leader election) and zab (discovery,
// synchronization and broadcast). See docs/election.md.
package election
