#!/usr/bin/env bash
# kafka-console-consumer.sh for brokerd: prints the records of a topic.
# Runs `brokerd console-consumer` with Kafka 2.8's options and output (docs/tools.md).
exec "$(dirname "${BASH_SOURCE-$0}")/kafka-run-tool.sh" console-consumer "$@"
