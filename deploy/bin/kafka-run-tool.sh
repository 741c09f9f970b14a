#!/usr/bin/env bash
# kafka-run-tool.sh for brokerd: runs one of Kafka's operator tools, which
# are subcommands of the brokerd binary. The kafka-<tool>.sh scripts next
# to this one call it, the way Apache's call kafka-run-class.sh.
#
#   kafka-run-tool.sh <tool> [--option value ...]
#
# BROKERD overrides the binary (default: ./brokerd next to this script,
# ../bin/brokerd in an install tree, ../../bin/brokerd in the repository).

BINDIR="$(cd "$(dirname "${BASH_SOURCE-$0}")" && pwd)"
if [ $# -lt 1 ]; then
  echo "USAGE: $0 <tool> [options]" >&2
  exit 1
fi
if [ -z "${BROKERD-}" ]; then
  for c in "$BINDIR/brokerd" "$BINDIR/../bin/brokerd" "$BINDIR/../../bin/brokerd"; do
    if [ -x "$c" ] && [ ! -d "$c" ]; then BROKERD="$c"; break; fi
  done
fi
if [ -z "${BROKERD-}" ] || [ ! -x "$BROKERD" ]; then
  echo "$(basename "$0"): brokerd binary not found next to $BINDIR (looked for ../bin/brokerd and ../../bin/brokerd); run 'make build' or set BROKERD=/path/to/brokerd" >&2
  exit 1
fi
exec "$BROKERD" "$@"
