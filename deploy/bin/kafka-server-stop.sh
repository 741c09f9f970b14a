#!/usr/bin/env bash
# kafka-server-stop.sh for brokerd: sends SIGTERM to the broker started by
# kafka-server-start.sh -daemon (pid in $LOG_DIR/brokerd.pid) and waits for
# it to drain and exit. Prints "No kafka server to stop" and exits 1 when
# none runs, as Apache's does.
#
# Environment: LOG_DIR (default <install>/logs), STOP_WAIT seconds (default 30).

set -u
BINDIR="$(cd "$(dirname "${BASH_SOURCE-$0}")" && pwd)"
LOG_DIR="${LOG_DIR:-$(cd "$BINDIR/.." && pwd)/logs}"
PIDFILE="$LOG_DIR/brokerd.pid"

if [ ! -f "$PIDFILE" ] || ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  echo "No kafka server to stop"
  rm -f "$PIDFILE"
  exit 1
fi
PID="$(cat "$PIDFILE")"
kill -TERM "$PID"
for _ in $(seq 1 $((${STOP_WAIT:-30} * 10))); do
  if ! kill -0 "$PID" 2>/dev/null; then
    rm -f "$PIDFILE"
    exit 0
  fi
  sleep 0.1
done
echo "$0: brokerd (pid $PID) did not exit within ${STOP_WAIT:-30}s" >&2
exit 1
