#!/usr/bin/env bash
# kafka-server-start.sh for brokerd, the Go Kafka broker: Apache Kafka 2.8's
# usage and behaviour.
#
#   kafka-server-start.sh [-daemon] server.properties
#
# Foreground by default (exec, so signals reach brokerd). With -daemon the
# broker runs in the background with its output in
# $LOG_DIR/kafkaServer.out (as Apache's -daemon), and its pid in
# $LOG_DIR/brokerd.pid for kafka-server-stop.sh.
#
# Environment:
#   LOG_DIR   where kafkaServer.out and brokerd.pid go (default: <install>/logs)
#   BROKERD   the brokerd binary (default: ./brokerd next to this script,
#             ../bin/brokerd in an install tree, ../../bin/brokerd in the repository)

set -u

BINDIR="$(cd "$(dirname "${BASH_SOURCE-$0}")" && pwd)"

if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] server.properties [--override property=value]*"
  exit 1
fi

DAEMON=0
if [ "$1" = "-daemon" ]; then
  DAEMON=1
  shift
fi
if [ $# -lt 1 ]; then
  echo "USAGE: $0 [-daemon] server.properties [--override property=value]*"
  exit 1
fi
PROPS="$1"
shift
if [ $# -gt 0 ]; then
  echo "$0: --override is not supported by brokerd yet; put the settings in $PROPS" >&2
  exit 1
fi
if [ ! -r "$PROPS" ]; then
  echo "$0: cannot read $PROPS" >&2
  exit 1
fi

if [ -z "${BROKERD-}" ]; then
  for c in "$BINDIR/brokerd" "$BINDIR/../bin/brokerd" "$BINDIR/../../bin/brokerd"; do
    if [ -x "$c" ] && [ ! -d "$c" ]; then BROKERD="$(cd "$(dirname "$c")" && pwd)/brokerd"; break; fi
  done
fi
if [ -z "${BROKERD-}" ] || [ ! -x "$BROKERD" ]; then
  echo "$0: brokerd binary not found; run 'make build' or set BROKERD" >&2
  exit 1
fi

LOG_DIR="${LOG_DIR:-$(cd "$BINDIR/.." && pwd)/logs}"
mkdir -p "$LOG_DIR"

if [ "$DAEMON" = 1 ]; then
  PIDFILE="$LOG_DIR/brokerd.pid"
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "$0: brokerd already running as process $(cat "$PIDFILE") ($PIDFILE)" >&2
    exit 1
  fi
  nohup "$BROKERD" start "$PROPS" > "$LOG_DIR/kafkaServer.out" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
  exit 0
fi
exec "$BROKERD" start "$PROPS"
