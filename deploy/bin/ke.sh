#!/usr/bin/env bash
# ke.sh for eagle, the Go EFAK: EFAK's service script and its usage.
#
#   ke.sh {start|stop|restart|status} [system-config.properties]
#
# start runs eagle in the background (output appended to
# $LOG_DIR/ke_console.out, pid in $LOG_DIR/eagle.pid), waits for its ready
# line and prints the URL and how to log in; stop sends SIGTERM and waits;
# status says whether it runs and whether it is ready (exit 0 running, 1 not).
#
# Environment:
#   KE_HOME   install directory (default: the parent of this script's directory)
#   LOG_DIR   where ke_console.out and eagle.pid go (default: $KE_HOME/logs)
#   EAGLE     the eagle binary (default: ./eagle next to this script,
#             ../bin/eagle in an install tree, ../../bin/eagle in the repository)

set -u

BINDIR="$(cd "$(dirname "${BASH_SOURCE-$0}")" && pwd)"
KE_HOME="${KE_HOME:-$(cd "$BINDIR/.." && pwd)}"
CMD="${1-}"
CONF="${2:-$KE_HOME/conf/system-config.properties}"
LOG_DIR="${LOG_DIR:-$KE_HOME/logs}"
PIDFILE="$LOG_DIR/eagle.pid"
OUT="$LOG_DIR/ke_console.out"

usage() {
  echo "Usage: $0 {start|stop|restart|status} [system-config.properties]"
  exit 1
}

find_eagle() {
  if [ -z "${EAGLE-}" ]; then
    for c in "$BINDIR/eagle" "$BINDIR/../bin/eagle" "$BINDIR/../../bin/eagle"; do
      if [ -x "$c" ] && [ ! -d "$c" ]; then EAGLE="$(cd "$(dirname "$c")" && pwd)/eagle"; break; fi
    done
  fi
  if [ -z "${EAGLE-}" ] || [ ! -x "$EAGLE" ]; then
    echo "$0: eagle binary not found; run 'make build' or set EAGLE" >&2
    exit 1
  fi
}

running_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# url prints the address of the last ready line in the console log.
url() {
  local addr
  addr="$(grep -o 'EAGLE READY http=[^ ]*' "$OUT" 2>/dev/null | tail -1 | sed 's/EAGLE READY http=//')"
  [ -n "$addr" ] && echo "http://$addr"
}

start() {
  find_eagle
  if pid="$(running_pid)"; then
    echo "eagle is already running (pid $pid) at $(url)"
    exit 1
  fi
  if [ ! -r "$CONF" ]; then
    echo "$0: cannot read $CONF (pass the system-config.properties path, or set KE_HOME)" >&2
    exit 1
  fi
  mkdir -p "$LOG_DIR"
  local mark=1
  [ -f "$OUT" ] && mark=$(( $(wc -l < "$OUT") + 1 ))
  echo "[$(date -u '+%Y-%m-%d %H:%M:%S')] starting eagle: $EAGLE start $CONF" >> "$OUT"
  mark=$((mark + 1))
  # Relative efak.url paths are under KE_HOME, as EFAK's are.
  (cd "$KE_HOME" && exec nohup "$EAGLE" start "$(cd "$(dirname "$CONF")" && pwd)/$(basename "$CONF")" >> "$OUT" 2>&1 < /dev/null) &
  local pid=$!
  echo "$pid" > "$PIDFILE"
  local i=0 ready=""
  while [ $i -lt 300 ]; do
    ready="$(tail -n +"$mark" "$OUT" | grep -m1 -o 'EAGLE READY http=[^ ]*' | sed 's/EAGLE READY http=//')"
    [ -n "$ready" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "eagle failed to start; the end of $OUT:" >&2
      tail -n +"$mark" "$OUT" | tail -5 >&2
      rm -f "$PIDFILE"
      exit 1
    fi
    sleep 0.1
    i=$((i + 1))
  done
  if [ -z "$ready" ]; then
    echo "eagle (pid $pid) did not print its ready line in 30 s; see $OUT" >&2
    exit 1
  fi
  local pw
  pw="$(tail -n +"$mark" "$OUT" | grep -m1 -o 'EAGLE ADMIN user=admin password=[^ ]*' | sed 's/.*password=//')"
  echo "*******************************************************************"
  echo "* eagle started (pid $pid)."
  echo "* Open http://$ready  (efak.webui.port in $CONF)"
  if [ -n "$pw" ]; then
    echo "* Log in as admin with password $pw"
    echo "*   (generated and shown this once: you must change it at first login)"
  else
    echo "* Log in as admin: the password is eagle.admin.password in $CONF,"
    echo "*   or the one printed at the first start (grep 'EAGLE ADMIN' $OUT),"
    echo "*   or the one you changed it to."
  fi
  echo "* Logs: $OUT   pid: $PIDFILE"
  echo "* Usage: ke.sh {start|stop|restart|status}"
  echo "*******************************************************************"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    echo "eagle is not running"
    rm -f "$PIDFILE"
    return 1
  fi
  kill -TERM "$pid"
  local i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "eagle (pid $pid) did not stop in 30 s" >&2
    return 1
  fi
  rm -f "$PIDFILE"
  echo "eagle stopped (pid $pid)"
}

status() {
  local pid
  if ! pid="$(running_pid)"; then
    echo "eagle is not running"
    exit 1
  fi
  local u
  u="$(url)"
  echo "eagle is running (pid $pid) at $u"
  find_eagle
  if [ -n "$u" ] && "$EAGLE" probe --ready "$u" >/dev/null 2>&1; then
    echo "ready: every cluster has been collected"
  else
    echo "not ready yet: the first collection pass is running (or $u does not answer)"
  fi
}

case "$CMD" in
  start) start ;;
  stop) stop || exit 1 ;;
  restart) stop || true; start ;;
  status) status ;;
  *) usage ;;
esac
