#!/usr/bin/env bash
# kafka-producer-perf-test.sh for brokerd: producer throughput and latency test.
# Runs `brokerd producer-perf-test` with Kafka 2.8's options and output (docs/tools.md).
exec "$(dirname "${BASH_SOURCE-$0}")/kafka-run-tool.sh" producer-perf-test "$@"
