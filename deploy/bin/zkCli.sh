#!/usr/bin/env bash
# zkCli.sh for zkd, the Go ZooKeeper: runs `zkd cli`, a clone of Apache
# ZooKeeper 3.8's zkCli.sh (same commands, output and exit codes).
#
#   zkCli.sh [-server host:port[,host:port][/chroot]] [-timeout ms] [command args...]
#
# ZKD overrides the binary (default: ../bin/zkd in an install tree,
# ../../bin/zkd in the repository).

ZOOBINDIR="$(cd "$(dirname "${BASH_SOURCE-$0}")" && pwd)"
if [ -z "${ZKD-}" ]; then
  for candidate in "$ZOOBINDIR/zkd" "$ZOOBINDIR/../bin/zkd" "$ZOOBINDIR/../../bin/zkd"; do
    if [ -x "$candidate" ]; then
      ZKD="$candidate"
      break
    fi
  done
fi
if [ -z "${ZKD-}" ] || [ ! -x "$ZKD" ]; then
  echo "zkd binary not found next to $ZOOBINDIR (looked for ../bin/zkd and ../../bin/zkd); run 'make build' or set ZKD=/path/to/zkd" >&2
  exit 1
fi
exec "$ZKD" cli "$@"
