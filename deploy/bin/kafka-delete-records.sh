#!/usr/bin/env bash
# kafka-delete-records.sh for brokerd: deletes records up to an offset (moves the log start offset).
# Runs `brokerd delete-records` with Kafka 2.8's options and output (docs/tools.md).
exec "$(dirname "${BASH_SOURCE-$0}")/kafka-run-tool.sh" delete-records "$@"
