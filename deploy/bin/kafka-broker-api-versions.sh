#!/usr/bin/env bash
# kafka-broker-api-versions.sh for brokerd: prints the API versions each broker supports.
# Runs `brokerd broker-api-versions` with Kafka 2.8's options and output (docs/tools.md).
exec "$(dirname "${BASH_SOURCE-$0}")/kafka-run-tool.sh" broker-api-versions "$@"
