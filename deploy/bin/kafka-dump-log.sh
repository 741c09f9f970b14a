#!/usr/bin/env bash
# kafka-dump-log.sh for brokerd: prints the batches and records of log segment and index files.
# Runs `brokerd dump-log` with Kafka 2.8's options and output (docs/tools.md).
exec "$(dirname "${BASH_SOURCE-$0}")/kafka-run-tool.sh" dump-log "$@"
