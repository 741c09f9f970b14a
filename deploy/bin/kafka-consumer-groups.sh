#!/usr/bin/env bash
# kafka-consumer-groups.sh for brokerd: lists, describes, resets and deletes consumer groups.
# Runs `brokerd consumer-groups` with Kafka 2.8's options and output (docs/tools.md).
exec "$(dirname "${BASH_SOURCE-$0}")/kafka-run-tool.sh" consumer-groups "$@"
