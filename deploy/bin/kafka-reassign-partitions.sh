#!/usr/bin/env bash
# kafka-reassign-partitions.sh for brokerd: generates, executes and verifies partition reassignments.
# Runs `brokerd reassign-partitions` with Kafka 2.8's options and output (docs/tools.md).
exec "$(dirname "${BASH_SOURCE-$0}")/kafka-run-tool.sh" reassign-partitions "$@"
