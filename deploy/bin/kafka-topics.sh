#!/usr/bin/env bash
# kafka-topics.sh for brokerd: create, list, describe, alter and delete topics.
# Runs `brokerd topics` with Kafka 2.8's options and output (docs/tools.md).
exec "$(dirname "${BASH_SOURCE-$0}")/kafka-run-tool.sh" topics "$@"
