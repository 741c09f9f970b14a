#!/usr/bin/env bash
# zkServer.sh for zkd, the Go ZooKeeper: the commands, files and messages of
# Apache ZooKeeper 3.8's bin/zkServer.sh.
#
#   zkServer.sh [--config <conf-dir>] {start|start-foreground|stop|restart|status|print-cmd} [zoo.cfg]
#
# Environment (as Apache's):
#   ZOOCFGDIR     directory of the configuration (default: ../conf next to this script)
#   ZOOCFG        file name inside ZOOCFGDIR (default: zoo.cfg); a second
#                 argument overrides it, and may be a path of its own
#   ZOO_LOG_DIR   where zookeeper-<user>-server-<host>.out goes (default: <install>/logs)
#   ZOOPIDFILE    pid file (default: <dataDir>/zookeeper_server.pid)
#   ZKD           the zkd binary (default: ../bin/zkd in an install tree, ../../bin/zkd in the repository)
#   ZOO_START_WAIT seconds `start` waits for the server's ready line (default 10)

set -u

ZOOBIN="${BASH_SOURCE-$0}"
ZOOBINDIR="$(cd "$(dirname "$ZOOBIN")" && pwd)"

if [ "${1-}" = "--config" ]; then
  if [ $# -lt 2 ]; then
    echo "Usage: $0 [--config <conf-dir>] {start|start-foreground|stop|version|restart|status|print-cmd} [zoo.cfg]" >&2
    exit 1
  fi
  ZOOCFGDIR="$2"
  shift 2
fi

# Install tree: <install>/bin/{zkServer.sh,zkd}. Repository: deploy/bin/zkServer.sh and bin/zkd.
if [ -z "${ZKD-}" ]; then
  if [ -x "$ZOOBINDIR/zkd" ]; then
    ZKD="$ZOOBINDIR/zkd"
    ZOO_HOME="$(cd "$ZOOBINDIR/.." && pwd)"
  elif [ -x "$ZOOBINDIR/../bin/zkd" ] && [ "$(cd "$ZOOBINDIR/../bin" && pwd)" != "$ZOOBINDIR" ]; then
    ZKD="$(cd "$ZOOBINDIR/../bin" && pwd)/zkd"
    ZOO_HOME="$(cd "$ZOOBINDIR/.." && pwd)"
  elif [ -x "$ZOOBINDIR/../../bin/zkd" ]; then
    ZKD="$(cd "$ZOOBINDIR/../../bin" && pwd)/zkd"
    ZOO_HOME="$(cd "$ZOOBINDIR/../.." && pwd)"
  else
    ZKD=""
    ZOO_HOME="$(cd "$ZOOBINDIR/.." && pwd)"
  fi
else
  ZOO_HOME="$(cd "$ZOOBINDIR/.." && pwd)"
fi

ZOOCFGDIR="${ZOOCFGDIR:-$(cd "$ZOOBINDIR/.." && pwd)/conf}"
ZOOCFG="$ZOOCFGDIR/${ZOOCFG:-zoo.cfg}"
ZOO_LOG_DIR="${ZOO_LOG_DIR:-$ZOO_HOME/logs}"
USER="${USER:-$(id -un)}"
HOSTNAME="${HOSTNAME:-$(hostname)}"

usage() {
  echo "Usage: $0 [--config <conf-dir>] {start|start-foreground|stop|version|restart|status|print-cmd} [zoo.cfg]" >&2
}

if [ $# -lt 1 ]; then
  usage
  exit 1
fi

if [ -n "${2-}" ]; then
  ZOOCFG="$ZOOCFGDIR/$2"
fi
# Like Apache: a second argument with a directory part is a path of its own.
if [ -n "${2-}" ] && [ "$(dirname "$ZOOCFG")" != "$ZOOCFGDIR" ]; then
  ZOOCFG="$2"
fi

if [ "$1" != "version" ]; then
  echo "Using config: $ZOOCFG" >&2
fi

need_zkd() {
  if [ -z "$ZKD" ] || [ ! -x "$ZKD" ]; then
    echo "zkd binary not found next to $ZOOBINDIR (looked for ../bin/zkd and ../../bin/zkd); run 'make build' or set ZKD=/path/to/zkd" >&2
    exit 1
  fi
}

need_cfg() {
  if [ ! -f "$ZOOCFG" ]; then
    echo "Config file $ZOOCFG not found; copy conf/zoo.cfg (the sample) there or pass the path as the second argument" >&2
    exit 1
  fi
}

# cfg_value KEY: the last value of KEY in zoo.cfg ("key=value" or "key value"), trimmed.
cfg_value() {
  sed -n -e "s/^[[:space:]]*$1[[:space:]]*[=:[:space:]][[:space:]]*//p" "$ZOOCFG" | tail -n 1 | sed -e 's/[[:space:]]*$//'
}

ZOO_DATADIR=""
ZOOPIDFILE="${ZOOPIDFILE-}"
if [ -f "$ZOOCFG" ]; then
  ZOO_DATADIR="$(cfg_value dataDir)"
fi
if [ -z "$ZOOPIDFILE" ]; then
  if [ -n "$ZOO_DATADIR" ] && [ ! -d "$ZOO_DATADIR" ]; then
    mkdir -p "$ZOO_DATADIR"
  fi
  ZOOPIDFILE="${ZOO_DATADIR:-.}/zookeeper_server.pid"
else
  mkdir -p "$(dirname "$ZOOPIDFILE")"
fi

if [ ! -w "$ZOO_LOG_DIR" ]; then
  mkdir -p "$ZOO_LOG_DIR"
fi
_ZOO_DAEMON_OUT="$ZOO_LOG_DIR/zookeeper-$USER-server-$HOSTNAME.out"

# srvr_reply ADDR PORT: the srvr four-letter word's reply, through bash's /dev/tcp.
srvr_reply() {
  timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1; printf srvr >&3; cat <&3' "$1" "$2" 2>/dev/null
}

case $1 in
start)
  need_zkd
  need_cfg
  echo -n "Starting zookeeper ... "
  if [ -f "$ZOOPIDFILE" ]; then
    if kill -0 "$(cat "$ZOOPIDFILE")" >/dev/null 2>&1; then
      echo "already running as process $(cat "$ZOOPIDFILE")."
      exit 1
    fi
  fi
  nohup "$ZKD" start-foreground "$ZOOCFG" >"$_ZOO_DAEMON_OUT" 2>&1 </dev/null &
  pid=$!
  if ! echo -n "$pid" >"$ZOOPIDFILE"; then
    echo "FAILED TO WRITE PID"
    exit 1
  fi
  # Wait for the ready line (or the process to die) rather than a fixed second.
  waited=0
  limit=$(( ${ZOO_START_WAIT:-10} * 10 ))
  while [ "$waited" -lt "$limit" ]; do
    if ! kill -0 "$pid" >/dev/null 2>&1; then
      break
    fi
    if grep -q "READY" "$_ZOO_DAEMON_OUT" 2>/dev/null; then
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 "$pid" >/dev/null 2>&1; then
    echo STARTED
  else
    echo FAILED TO START
    rm -f "$ZOOPIDFILE"
    echo "zkd exited; the end of $_ZOO_DAEMON_OUT:" >&2
    tail -n 5 "$_ZOO_DAEMON_OUT" >&2
    exit 1
  fi
  ;;
start-foreground)
  need_zkd
  need_cfg
  if [ -n "${ZOO_NOEXEC-}" ]; then
    "$ZKD" start-foreground "$ZOOCFG"
  else
    exec "$ZKD" start-foreground "$ZOOCFG"
  fi
  ;;
print-cmd)
  need_zkd
  echo "\"$ZKD\" start-foreground \"$ZOOCFG\" > \"$_ZOO_DAEMON_OUT\" 2>&1 < /dev/null"
  ;;
stop)
  echo -n "Stopping zookeeper ... "
  if [ ! -f "$ZOOPIDFILE" ]; then
    echo "no zookeeper to stop (could not find file $ZOOPIDFILE)"
  else
    pid="$(cat "$ZOOPIDFILE")"
    kill "$pid" >/dev/null 2>&1
    # SIGTERM drains and exits; wait for it (up to 30s) instead of Apache's fixed sleep.
    for _ in $(seq 1 300); do
      kill -0 "$pid" >/dev/null 2>&1 || break
      sleep 0.1
    done
    if kill -0 "$pid" >/dev/null 2>&1; then
      echo "process $pid did not exit within 30s of SIGTERM; still running" >&2
      exit 1
    fi
    rm -f "$ZOOPIDFILE"
    echo STOPPED
  fi
  exit 0
  ;;
restart)
  shift
  "$0" stop "$@"
  sleep 1
  "$0" start "$@"
  ;;
version)
  need_zkd
  "$ZKD" --version
  ;;
status)
  need_cfg
  isSSL="false"
  clientPortAddress="$(cfg_value clientPortAddress)"
  if [ -z "$clientPortAddress" ]; then
    clientPortAddress="localhost"
  fi
  clientPort="$(cfg_value clientPort)"
  if ! [[ "$clientPort" =~ ^[0-9]+$ ]]; then
    myid="$(cat "$ZOO_DATADIR/myid" 2>/dev/null)"
    if ! [[ "$myid" =~ ^[0-9]+$ ]]; then
      echo "myid could not be determined, will not able to locate clientPort in the server configs."
    else
      clientPortAndAddress="$(grep "^[[:space:]]*server.$myid=.*;.*" "$ZOOCFG" | sed -e 's/.*=//' -e 's/.*;//')"
      if [ -z "$clientPortAndAddress" ]; then
        echo "Client port not found in static config file."
      else
        if [[ "$clientPortAndAddress" =~ ^.*:[0-9]+ ]]; then
          clientPortAddress="${clientPortAndAddress%:*}"
        fi
        clientPort="${clientPortAndAddress##*:}"
      fi
    fi
  fi
  # clientPort=0 (any free port, our extension): the ready line says which.
  if [ "$clientPort" = "0" ] && [ -f "$_ZOO_DAEMON_OUT" ]; then
    bound="$(sed -n -e 's/.*READY client=\([^ ]*\).*/\1/p' "$_ZOO_DAEMON_OUT" | tail -n 1)"
    if [ -n "$bound" ]; then
      clientPort="${bound##*:}"
    fi
  fi
  if [ -z "$clientPort" ]; then
    echo "Client port not found. Is clientPort set in $ZOOCFG?"
    exit 1
  fi
  echo "Client port found: $clientPort. Client address: $clientPortAddress. Client SSL: $isSSL."
  host="$clientPortAddress"
  if [ "$host" = "0.0.0.0" ]; then
    host="localhost"
  fi
  STAT="$(srvr_reply "$host" "$clientPort" | grep Mode)"
  if [ -z "$STAT" ]; then
    echo "Error contacting service. It is probably not running."
    exit 1
  fi
  echo "$STAT"
  exit 0
  ;;
*)
  usage
  exit 1
  ;;
esac
