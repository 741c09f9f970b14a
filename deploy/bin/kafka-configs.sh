#!/usr/bin/env bash
# kafka-configs.sh for brokerd: describes and alters topic and broker configs.
# Runs `brokerd configs` with Kafka 2.8's options and output (docs/tools.md).
exec "$(dirname "${BASH_SOURCE-$0}")/kafka-run-tool.sh" configs "$@"
