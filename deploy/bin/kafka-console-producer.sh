#!/usr/bin/env bash
# kafka-console-producer.sh for brokerd: sends lines of standard input as records.
# Runs `brokerd console-producer` with Kafka 2.8's options and output (docs/tools.md).
exec "$(dirname "${BASH_SOURCE-$0}")/kafka-run-tool.sh" console-producer "$@"
