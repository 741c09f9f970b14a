#!/usr/bin/env bash
# kafka-consumer-perf-test.sh for brokerd: consumer throughput test.
# Runs `brokerd consumer-perf-test` with Kafka 2.8's options and output (docs/tools.md).
exec "$(dirname "${BASH_SOURCE-$0}")/kafka-run-tool.sh" consumer-perf-test "$@"
