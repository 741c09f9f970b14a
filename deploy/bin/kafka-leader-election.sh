#!/usr/bin/env bash
# kafka-leader-election.sh for brokerd: preferred or unclean leader election.
# Runs `brokerd leader-election` with Kafka 2.8's options and output (docs/tools.md).
exec "$(dirname "${BASH_SOURCE-$0}")/kafka-run-tool.sh" leader-election "$@"
