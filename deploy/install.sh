#!/usr/bin/env bash
# install.sh: installs (or upgrades) an mqstack cluster over ssh + rsync from one
# inventory file and the tarball of `make dist`, as the seeds do by hand.
#
#   install.sh -i INVENTORY -t mqstack-<version>-linux-amd64.tar.gz [--systemd]
#
# On every host it copies the tarball (rsync), unpacks it under the one prefix
# (PREFIX/releases/mqstack-<version>, PREFIX/current pointing at it), writes
# PREFIX/conf/{zoo.cfg + myid, server.properties, system-config.properties} and
# PREFIX/conf/mqstack.env (ZK_HOME, KAFKA_HOME, KE_HOME); then starts ZooKeeper
# on its hosts and waits for the quorum, starts the brokers and waits until each
# is registered and reachable at its advertised listener from the other hosts,
# starts eagle, and ends with the seeds' health check (each ZooKeeper node's
# Mode, /brokers/ids). With --systemd it also installs the units, the
# environment file and /etc/profile.d/mqstack.sh, and starts through systemctl.
#
# Run again with a newer tarball, it upgrades as a rolling restart: ZooKeeper
# followers one at a time, the leader last, each back in the quorum before the
# next; then one broker at a time (controlled shutdown on SIGTERM), the
# controller last, each registered again with no under-replicated partition
# before the next; then eagle. Run again with the same tarball, it only starts
# what is not running.
#
# Inventory (INI; one line per host, "#" comments; a host may be in several groups):
#
#   [zookeeper]
#   node1 address=10.0.0.1 myid=1      # address: what other hosts and clients use (default: the name)
#   node2 address=10.0.0.2 myid=2      # myid: default 1, 2, 3 in file order
#   node3 address=10.0.0.3 myid=3
#   [kafka]
#   node1 broker.id=1                  # broker.id: default 1, 2, 3 in file order
#   node2
#   node3
#   [eagle]
#   node1
#   [vars]                             # one key=value a line
#   prefix=/opt/mqstack                # the one install prefix (no spaces)
#   data=/opt/mqstack/data             # dataDir, log.dirs and eagle's database go below it
#   ssh_user=root                      # ssh=user@host[:port] on a host line overrides
#   ssh_opts=-o StrictHostKeyChecking=accept-new
#   (also zk_client_port=2181 zk_quorum_port=2888 zk_election_port=3888 kafka_port=9092
#    eagle_port=8048 zk_admin_port=8080 zk_tick_time=2000 num_partitions=3 wait=90)
#
# Environment: MQ_SSH_OPTS (more ssh options, e.g. -i key), MQ_WAIT (seconds per wait).
# Every error names the host and the fix, in one line.

set -u
set -o pipefail

T0="${EPOCHREALTIME/./}"
say() {
  local now="${EPOCHREALTIME/./}"
  printf '[%5.1fs] %s\n' "$(((now - T0) / 100000))e-1" "$*"
}
die() {
  echo "install.sh: $*" >&2
  exit 1
}

usage() {
  sed -n '2,/^$/s/^# \{0,1\}//p' "$0" | sed '/^!/d'
  exit "${1:-2}"
}

INV=""
TARBALL=""
SYSTEMD=0
while [ $# -gt 0 ]; do
  case "$1" in
  -i | --inventory) INV="${2-}"; shift 2 ;;
  -t | --tarball) TARBALL="${2-}"; shift 2 ;;
  --systemd) SYSTEMD=1; shift ;;
  -h | --help) usage 0 ;;
  *) echo "install.sh: unknown argument $1" >&2; usage 2 ;;
  esac
done
[ -n "$INV" ] && [ -n "$TARBALL" ] || usage 2
[ -r "$INV" ] || die "cannot read the inventory $INV"
[ -r "$TARBALL" ] || die "cannot read the tarball $TARBALL (build it with make dist)"

# ---------------------------------------------------------------- inventory
declare -A ADDR SSHT MYID BID VARS
ZK=()
KAFKA=()
EAGLE=()
ALL=()
section=""
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
  lineno=$((lineno + 1))
  line="${line%%#*}"
  line="$(echo "$line" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')"
  [ -z "$line" ] && continue
  if [[ "$line" =~ ^\[([a-z]+)\]$ ]]; then
    section="${BASH_REMATCH[1]}"
    case "$section" in zookeeper | kafka | eagle | vars) ;; *) die "$INV:$lineno: unknown group [$section] (zookeeper, kafka, eagle or vars)" ;; esac
    continue
  fi
  [ -n "$section" ] || die "$INV:$lineno: '$line' is outside a group; start with [zookeeper]"
  if [ "$section" = vars ]; then
    [[ "$line" =~ ^[a-z_]+= ]] || die "$INV:$lineno: '$line' in [vars] is not key=value"
    VARS["${line%%=*}"]="${line#*=}"
    continue
  fi
  set -- $line
  host="$1"
  shift
  [[ "$host" =~ ^[A-Za-z0-9._-]+$ ]] || die "$INV:$lineno: '$host' is not a host name"
  for kv in "$@"; do
    k="${kv%%=*}"
    v="${kv#*=}"
    [[ "$kv" == *=* ]] || die "$INV:$lineno: '$kv' after $host is not key=value"
    case "$k" in
    address) ADDR[$host]="$v" ;;
    ssh) SSHT[$host]="$v" ;;
    myid) [ "$section" = zookeeper ] || die "$INV:$lineno: myid= belongs on a [zookeeper] line"; MYID[$host]="$v" ;;
    broker.id) [ "$section" = kafka ] || die "$INV:$lineno: broker.id= belongs on a [kafka] line"; BID[$host]="$v" ;;
    *) die "$INV:$lineno: unknown key $k for $host (address, ssh, myid, broker.id)" ;;
    esac
  done
  case "$section" in
  zookeeper) ZK+=("$host") ;;
  kafka) KAFKA+=("$host") ;;
  eagle) EAGLE+=("$host") ;;
  esac
  [[ " ${ALL[*]} " == *" $host "* ]] || ALL+=("$host")
done < "$INV"

[ ${#ZK[@]} -gt 0 ] || die "$INV: no host in [zookeeper]"
[ ${#EAGLE[@]} -le 1 ] || die "$INV: [eagle] lists ${#EAGLE[@]} hosts; eagle runs on one"
var() { echo "${VARS[$1]:-$2}"; }
PREFIX="$(var prefix /opt/mqstack)"
DATA="$(var data "$PREFIX/data")"
ZKP="$(var zk_client_port 2181)"
ZKQ="$(var zk_quorum_port 2888)"
ZKE="$(var zk_election_port 3888)"
KP="$(var kafka_port 9092)"
EP="$(var eagle_port 8048)"
ZKA="$(var zk_admin_port 8080)"
WAIT="${MQ_WAIT:-$(var wait 90)}"
SSH_USER="$(var ssh_user "")"
# One ssh connection per host, reused by every command (ControlMaster).
# LogLevel=ERROR: ssh's "Warning: Permanently added ... to the list of known
# hosts" (first contact under StrictHostKeyChecking=accept-new) would otherwise
# be mixed into the remote output that the checks below read.
CTL="$(mktemp -d /tmp/mqinstall.XXXXXX)"
SSH_OPTS="-o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR -o ControlMaster=auto -o ControlPath=$CTL/%C -o ControlPersist=60 $(var ssh_opts "") ${MQ_SSH_OPTS:-}"
close_ssh() {
  local s
  for s in "$CTL"/*; do [ -S "$s" ] && ssh -o ControlPath="$s" -O exit x >/dev/null 2>&1; done
  rm -rf "$CTL"
}
trap close_ssh EXIT
for p in "$PREFIX" "$DATA"; do
  [[ "$p" =~ ^/[A-Za-z0-9._/-]+$ ]] || die "$INV: prefix/data '$p' must be an absolute path without spaces"
done

n=0
declare -A seen
for h in "${ZK[@]}"; do
  n=$((n + 1))
  [ -n "${MYID[$h]-}" ] || MYID[$h]=$n
  [[ "${MYID[$h]}" =~ ^[0-9]+$ ]] && [ "${MYID[$h]}" -ge 1 ] && [ "${MYID[$h]}" -le 255 ] || die "$INV: $h: myid=${MYID[$h]} must be a number from 1 to 255"
  [ -z "${seen[m${MYID[$h]}]-}" ] || die "$INV: $h and ${seen[m${MYID[$h]}]} both have myid=${MYID[$h]}; give each ZooKeeper host its own"
  seen[m${MYID[$h]}]=$h
done
n=0
for h in "${KAFKA[@]}"; do
  n=$((n + 1))
  [ -n "${BID[$h]-}" ] || BID[$h]=$n
  [[ "${BID[$h]}" =~ ^[0-9]+$ ]] || die "$INV: $h: broker.id=${BID[$h]} is not a number"
  [ -z "${seen[b${BID[$h]}]-}" ] || die "$INV: $h and ${seen[b${BID[$h]}]} both have broker.id=${BID[$h]}; give each broker its own"
  seen[b${BID[$h]}]=$h
done
addr() { echo "${ADDR[$1]:-$1}"; }
ZK_CONNECT=""
for h in "${ZK[@]}"; do ZK_CONNECT="${ZK_CONNECT:+$ZK_CONNECT,}$(addr "$h"):$ZKP"; done

# ------------------------------------------------------------------ tarball
RELEASE="$(tar -tzf "$TARBALL" 2>/dev/null | head -n 1 | cut -d/ -f1)"
[[ "$RELEASE" =~ ^mqstack-[A-Za-z0-9._+-]+$ ]] || die "$TARBALL is not an mqstack tarball (its top directory is '$RELEASE', want mqstack-<version>)"
TARNAME="$(basename "$TARBALL")"
CUR="$PREFIX/current"
BIN="$CUR/bin"
ENVS="ZK_HOME=$CUR KAFKA_HOME=$CUR KE_HOME=$CUR LOG_DIR=$PREFIX/logs ZOO_LOG_DIR=$PREFIX/logs STOP_WAIT=120"

# ---------------------------------------------------------------------- ssh
ssh_target() { # HOST -> "[-p PORT] user@host"
  local t="${SSHT[$1]:-$(addr "$1")}"
  local port=""
  if [[ "$t" =~ ^(.*):([0-9]+)$ ]]; then
    t="${BASH_REMATCH[1]}"
    port="${BASH_REMATCH[2]}"
  fi
  [[ "$t" == *@* ]] || { [ -n "$SSH_USER" ] && t="$SSH_USER@$t"; }
  echo "${port:+-p $port }$t"
}
# on HOST CMD: runs CMD (sh) on HOST; its output is returned, its errors too.
on() {
  local h="$1"
  shift
  # shellcheck disable=SC2086
  ssh $SSH_OPTS $(ssh_target "$h") -- "$*" 2>&1
}
# on_ok HOST DESC CMD: on, or die naming HOST, DESC and the last output line.
on_ok() {
  local h="$1" desc="$2" out
  shift 2
  if ! out="$(on "$h" "$@")"; then
    die "$h: $desc failed: $(echo "$out" | grep -v '^[[:space:]]*$' | tail -n 1)"
  fi
  printf '%s' "$out"
}

# wait_until DESC HOST-FOR-ERROR FIX CMD...: polls the local CMD until it succeeds or WAIT passes.
wait_until() {
  local desc="$1" host="$2" fix="$3"
  shift 3
  local deadline=$((SECONDS + WAIT)) out=""
  until out="$("$@" 2>&1)"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "$host: $desc: not within ${WAIT}s (last: $(echo "$out" | tail -n 1)); $fix"
    fi
    sleep 1
  done
}

zk_serving() { on "$1" "$BIN/zkd probe --timeout 3s 127.0.0.1:$ZKP"; }
zk_mode() { zk_serving "$1" | sed -n 's/.*Mode: //p'; }
quorum_serves() { # every ZooKeeper host serves
  local h
  for h in "${ZK[@]}"; do zk_serving "$h" >/dev/null || { echo "$h: $(zk_serving "$h")"; return 1; }; done
}
broker_ids() { on "${ZK[0]}" "$BIN/zkd cli -server $ZK_CONNECT ls /brokers/ids" | tail -n 1; }
registered() { [[ "$(broker_ids)" =~ (\[|\ )$1(,|\]) ]]; }
broker_up() { on "$1" "$BIN/brokerd probe --timeout 3s 127.0.0.1:$KP" >/dev/null && registered "${BID[$1]}"; }
in_sync() { # no under-replicated partition (kafka-topics.sh prints none)
  local out
  out="$(on "$1" "$BIN/kafka-topics.sh --bootstrap-server 127.0.0.1:$KP --describe --under-replicated-partitions")" || { echo "$out"; return 1; }
  [ -z "$(echo "$out" | grep -v '^[[:space:]]*$')" ] || { echo "$out" | head -n 1; return 1; }
}
eagle_up() { on "$1" "$BIN/eagle probe --timeout 3s http://127.0.0.1:$EP"; }

# svc_release HOST zk|kafka|eagle: the release the running daemon was started
# from (its /proc/PID/exe resolves through PREFIX/current), empty when stopped.
svc_release() {
  local pidcmd unit
  case "$2" in zk) unit=zkd ;; kafka) unit=brokerd ;; eagle) unit=eagle ;; esac
  if [ "$SYSTEMD" = 1 ]; then
    pidcmd="systemctl show -p MainPID --value $unit"
  else
    case "$2" in
    zk) pidcmd="cat $DATA/zookeeper/zookeeper_server.pid" ;;
    kafka) pidcmd="cat $PREFIX/logs/brokerd.pid" ;;
    eagle) pidcmd="cat $PREFIX/logs/eagle.pid" ;;
    esac
  fi
  on "$1" "pid=\$($pidcmd 2>/dev/null); [ -n \"\$pid\" ] && [ \"\$pid\" != 0 ] && kill -0 \$pid 2>/dev/null && readlink /proc/\$pid/exe" |
    sed -n 's|.*/releases/\([^/]*\)/bin/.*|\1|p'
}
svc_running() { [ -n "$(svc_release "$1" "$2")" ]; }
# stale HOST SVC: the daemon runs from another release than the one installed now.
stale() { local r; r="$(svc_release "$1" "$2")"; [ -n "$r" ] && [ "$r" != "$RELEASE" ]; }

svc() { # HOST start|stop zk|kafka|eagle
  local h="$1" act="$2" what="$3" unit cmd
  case "$what" in zk) unit=zkd ;; kafka) unit=brokerd ;; eagle) unit=eagle ;; esac
  if [ "$SYSTEMD" = 1 ]; then
    on_ok "$h" "systemctl $act $unit" "systemctl $act $unit" >/dev/null
    return
  fi
  case "$what/$act" in
  zk/start) cmd="$BIN/zkServer.sh start $PREFIX/conf/zoo.cfg" ;;
  zk/stop) cmd="$BIN/zkServer.sh stop $PREFIX/conf/zoo.cfg" ;;
  kafka/start) cmd="$BIN/kafka-server-start.sh -daemon $PREFIX/conf/server.properties" ;;
  kafka/stop) cmd="$BIN/kafka-server-stop.sh" ;;
  eagle/start) cmd="$BIN/ke.sh start $PREFIX/conf/system-config.properties" ;;
  eagle/stop) cmd="$BIN/ke.sh stop" ;;
  esac
  on_ok "$h" "$unit $act ($cmd)" "env $ENVS $cmd" >/dev/null
}

has() { local x="$1" e; shift; for e in "$@"; do [ "$e" = "$x" ] && return 0; done; return 1; }

# ---------------------------------------------------------------- preflight
say "inventory $INV: zookeeper ${ZK[*]}; kafka ${KAFKA[*]:-none}; eagle ${EAGLE[*]:-none}; prefix $PREFIX"
declare -A INSTALLED
for h in "${ALL[@]}"; do
  out="$(on "$h" "echo ok; command -v rsync >/dev/null || echo no-rsync; echo current=\$(readlink $CUR 2>/dev/null)")"
  rc=$?
  if [ $rc -ne 0 ] || [ "$(echo "$out" | head -n 1)" != ok ]; then
    die "$h ($(ssh_target "$h")) is not reachable over ssh: $(echo "$out" | grep -v '^[[:space:]]*$' | tail -n 1); check its address/ssh= in $INV, that sshd runs there and that your key is authorized (ssh-copy-id)"
  fi
  echo "$out" | grep -q no-rsync && die "$h: rsync is not installed there; install it (apt-get install rsync)"
  INSTALLED[$h]="$(echo "$out" | sed -n 's|^current=\(.*/\)\{0,1\}||p')"
  if [ "$SYSTEMD" = 1 ]; then
    on "$h" "test -d /run/systemd/system" >/dev/null || die "$h does not run systemd (no /run/systemd/system); run install.sh without --systemd"
  fi
done
say "ssh reaches ${#ALL[@]} hosts: $(for h in "${ALL[@]}"; do printf '%s(%s) ' "$h" "${INSTALLED[$h]:-new}"; done)"

# Ports: free unless our own daemon holds them (an upgrade or a rerun).
check_port() { # HOST PORT ROLE SVC
  local h="$1" p="$2" role="$3" s="$4" owner
  svc_running "$h" "$s" && return 0
  owner="$(on "$h" "ss -Hltnp 'sport = :$p' 2>/dev/null | head -n 1")"
  if [ -n "$owner" ]; then
    die "$h: port $p ($role) is already in use ($(echo "$owner" | grep -o 'users:.*' || echo "$owner")); stop what uses it or choose another port in [vars] of $INV"
  fi
}
for h in "${ZK[@]}"; do
  check_port "$h" "$ZKP" "zkd client port, zk_client_port" zk
  check_port "$h" "$ZKQ" "zkd quorum port, zk_quorum_port" zk
  check_port "$h" "$ZKE" "zkd election port, zk_election_port" zk
  check_port "$h" "$ZKA" "zkd AdminServer port, zk_admin_port" zk
done
for h in "${KAFKA[@]}"; do check_port "$h" "$KP" "brokerd listener, kafka_port" kafka; done
for h in "${EAGLE[@]}"; do check_port "$h" "$EP" "eagle web UI, eagle_port" eagle; done

# Names: every host must resolve the addresses it will dial.
for h in "${ALL[@]}"; do
  for o in "${ALL[@]}"; do
    a="$(addr "$o")"
    [[ "$a" =~ ^[0-9.]+$ ]] && continue
    on "$h" "getent hosts $a >/dev/null" >/dev/null || die "$h cannot resolve $a (the address of $o): add it to /etc/hosts there or give $o an address= IP in $INV"
  done
done

# ------------------------------------------------------------- copy + unpack
copy_to() { # HOST: rsync the tarball and unpack it (run in parallel, one per host)
  local h="$1" t0=$SECONDS target port="" err
  on_ok "$h" "mkdir under $PREFIX" "mkdir -p $PREFIX/dist $PREFIX/releases $PREFIX/conf $PREFIX/logs $DATA" >/dev/null
  target="$(ssh_target "$h")"
  [[ "$target" == -p* ]] && { port="${target#-p }"; port="${port%% *}"; target="${target##* }"; }
  if ! err="$(rsync -a --partial -e "ssh $SSH_OPTS${port:+ -p $port}" "$TARBALL" "$target:$PREFIX/dist/$TARNAME" 2>&1)"; then
    die "$h: rsync of $TARNAME to $PREFIX/dist failed: $(echo "$err" | tail -n 1)"
  fi
  on_ok "$h" "unpack $TARNAME" "tar -xzf $PREFIX/dist/$TARNAME -C $PREFIX/releases && test -x $PREFIX/releases/$RELEASE/bin/zkd" >/dev/null
  # A first install points current at it now; an upgrade switches each host at its restart.
  [ -n "${INSTALLED[$h]}" ] || on_ok "$h" "link $CUR" "ln -sfn releases/$RELEASE $CUR" >/dev/null
  say "$h: copied $TARNAME ($(du -h "$TARBALL" | cut -f1)) and unpacked it to $PREFIX/releases/$RELEASE in $((SECONDS - t0))s"
}
pids=()
for h in "${ALL[@]}"; do
  if [ "${INSTALLED[$h]}" = "$RELEASE" ] && on "$h" "test -x $PREFIX/releases/$RELEASE/bin/zkd" >/dev/null; then
    say "$h: $RELEASE already unpacked"
    continue
  fi
  copy_to "$h" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || exit 1; done

# ------------------------------------------------------------------ configs
nk=${#KAFKA[@]}
rf=$((nk < 3 ? nk : 3))
[ "$rf" -ge 1 ] || rf=1
put() { # HOST PATH CONTENT
  printf '%s' "$3" | on "$1" "mkdir -p \$(dirname $2) && cat > $2.new && mv $2.new $2" >/dev/null || die "$1: cannot write $2"
}
for h in "${ALL[@]}"; do
  put "$h" "$PREFIX/conf/mqstack.env" "# written by install.sh: the environment of the mqstack scripts and units
ZK_HOME=$CUR
KAFKA_HOME=$CUR
KE_HOME=$CUR
LOG_DIR=$PREFIX/logs
ZOO_LOG_DIR=$PREFIX/logs
"
done
for h in "${ZK[@]}"; do
  cfg="# zoo.cfg for $h, written by install.sh from $INV (rewritten at every run)
tickTime=$(var zk_tick_time 2000)
initLimit=$(var zk_init_limit 10)
syncLimit=$(var zk_sync_limit 5)
dataDir=$DATA/zookeeper
clientPort=$ZKP
4lw.commands.whitelist=*
metricsProvider.httpPort=$(var zk_metrics_port 7000)
admin.serverPort=$ZKA
"
  if [ ${#ZK[@]} -gt 1 ]; then
    for z in "${ZK[@]}"; do cfg="${cfg}server.${MYID[$z]}=$(addr "$z"):$ZKQ:$ZKE
"; done
  fi
  put "$h" "$PREFIX/conf/zoo.cfg" "$cfg"
  put "$h" "$DATA/zookeeper/myid" "${MYID[$h]}
"
done
for h in "${KAFKA[@]}"; do
  put "$h" "$PREFIX/conf/server.properties" "# server.properties for $h, written by install.sh from $INV (rewritten at every run)
broker.id=${BID[$h]}
listeners=PLAINTEXT://0.0.0.0:$KP
advertised.listeners=PLAINTEXT://$(addr "$h"):$KP
log.dirs=$DATA/kafka-logs
zookeeper.connect=$ZK_CONNECT
zookeeper.session.timeout.ms=18000
num.partitions=$(var num_partitions 3)
default.replication.factor=$rf
offsets.topic.replication.factor=$rf
min.insync.replicas=1
metrics.port=$(var kafka_metrics_port 9404)
"
done
for h in "${EAGLE[@]}"; do
  put "$h" "$PREFIX/conf/system-config.properties" "# system-config.properties for $h, written by install.sh from $INV
efak.zk.cluster.alias=cluster1
cluster1.zk.list=$ZK_CONNECT
efak.webui.port=$EP
eagle.webui.host=0.0.0.0
efak.url=jdbc:sqlite:$DATA/eagle/ke.db
"
done
say "configs written: zoo.cfg + myid on ${ZK[*]}, server.properties on ${KAFKA[*]:-none}, system-config.properties on ${EAGLE[*]:-none}"

if [ "$SYSTEMD" = 1 ]; then
  for h in "${ALL[@]}"; do
    units=""
    has "$h" "${ZK[@]}" && units="$units zkd"
    has "$h" "${KAFKA[@]}" && units="$units brokerd"
    has "$h" "${EAGLE[@]}" && units="$units eagle"
    # Quoted for the remote shell (an unquoted "|" is a pipe there). sed runs
    # every -e on the output of the one before, so /opt/mqstack is first turned
    # into a marker: with the default prefix, $CUR/bin (/opt/mqstack/current/bin)
    # would otherwise match /opt/mqstack again (.../current/current/bin).
    sedx="-e 's|/opt/mqstack|@PREFIX@|g' -e 's|@PREFIX@/bin|$CUR/bin|g' -e 's|@PREFIX@/conf|$PREFIX/conf|g' -e 's|@PREFIX@|$CUR|g' -e 's|/etc/mqstack/mqstack.env|$PREFIX/conf/mqstack.env|g' -e '/^StateDirectory=/d'"
    cmd="id mqstack >/dev/null 2>&1 || useradd --system --home $DATA --shell /usr/sbin/nologin mqstack; chown -R mqstack:mqstack $DATA $PREFIX/logs"
    for u in $units; do cmd="$cmd && sed $sedx $CUR/systemd/$u.service > /etc/systemd/system/$u.service"; done
    cmd="$cmd && mkdir -p /etc/mqstack && cp $PREFIX/conf/mqstack.env /etc/mqstack/mqstack.env && cp $CUR/systemd/mqstack-profile.sh /etc/profile.d/mqstack.sh && systemctl daemon-reload && systemctl enable$units"
    on_ok "$h" "install the systemd units" "$cmd" >/dev/null
    say "$h: systemd units$units installed and enabled"
  done
fi

# ------------------------------------------------------------------- start / upgrade
switch() { # HOST: point current at the new release (an upgrade's per-host step)
  on_ok "$1" "switch $CUR to $RELEASE" "ln -sfn releases/$RELEASE $CUR" >/dev/null
}

# ZooKeeper: start what is stopped, wait for the quorum, then restart what runs
# an older release one at a time, followers first and the leader last.
for h in "${ZK[@]}"; do
  if ! svc_running "$h" zk; then
    switch "$h"
    svc "$h" start zk
    say "$h: zkd started (myid ${MYID[$h]})"
  fi
done
wait_until "the ZooKeeper quorum" "${ZK[0]}" "check that the ZooKeeper hosts reach each other on $ZKQ/$ZKE at the addresses in $INV (logs: $PREFIX/logs/zookeeper-*.out)" quorum_serves
say "ZooKeeper quorum: $(for h in "${ZK[@]}"; do printf '%s=%s ' "$h" "$(zk_mode "$h")"; done)"
while true; do
  next=""
  lead=""
  for h in "${ZK[@]}"; do
    stale "$h" zk || continue
    if [ "$(zk_mode "$h")" = leader ]; then lead="$h"; else next="$h"; break; fi
  done
  [ -n "$next" ] || next="$lead"
  [ -n "$next" ] || break
  h="$next"
  say "$h: rolling zkd ($(zk_mode "$h")) from $(svc_release "$h" zk) to $RELEASE"
  svc "$h" stop zk
  switch "$h"
  svc "$h" start zk
  wait_until "zkd back in the quorum after the upgrade" "$h" "see $PREFIX/logs/zookeeper-*.out there" quorum_serves
  say "$h: zkd $RELEASE serving as $(zk_mode "$h")"
done

# Brokers: start what is stopped, then restart what runs an older release one
# at a time (controlled shutdown), the controller last, each registered and
# with no under-replicated partition before the next.
for h in "${KAFKA[@]}"; do
  if ! svc_running "$h" kafka; then
    switch "$h"
    svc "$h" start kafka
    say "$h: brokerd started (broker.id ${BID[$h]})"
  fi
done
for h in "${KAFKA[@]}"; do
  wait_until "broker ${BID[$h]} registered in /brokers/ids" "$h" "see $PREFIX/logs/kafkaServer.out there" broker_up "$h"
done
[ ${#KAFKA[@]} -gt 0 ] && say "/brokers/ids = $(broker_ids)"
# Advertised listeners: each broker must be reachable by every other host.
for b in "${KAFKA[@]}"; do
  for h in "${ALL[@]}"; do
    [ "$h" = "$b" ] && continue
    if ! out="$(on "$h" "$BIN/brokerd probe --timeout 3s $(addr "$b"):$KP")"; then
      die "$h cannot reach broker ${BID[$b]}'s advertised listener $(addr "$b"):$KP ($(echo "$out" | tail -n 1 | sed 's/^brokerd probe: //')); set address= for $b in $INV to an address the other hosts and clients reach"
    fi
  done
done
controller="$(on "${ZK[0]}" "$BIN/zkd cli -server $ZK_CONNECT get /controller" | sed -n 's/.*"brokerid":\([0-9]*\).*/\1/p' | tail -n 1)"
order=()
last=""
for h in "${KAFKA[@]}"; do
  stale "$h" kafka || continue
  if [ "${BID[$h]}" = "$controller" ]; then last="$h"; else order+=("$h"); fi
done
[ -n "$last" ] && order+=("$last")
for h in "${order[@]}"; do
  wait_until "no under-replicated partition before restarting broker ${BID[$h]}" "$h" "a replica is behind; see kafka-topics.sh --describe --under-replicated-partitions" in_sync "$h"
  say "$h: rolling brokerd ${BID[$h]} from $(svc_release "$h" kafka) to $RELEASE (controlled shutdown)"
  svc "$h" stop kafka
  switch "$h"
  svc "$h" start kafka
  wait_until "broker ${BID[$h]} registered again after the upgrade" "$h" "see $PREFIX/logs/kafkaServer.out there" broker_up "$h"
  wait_until "broker ${BID[$h]} caught up (no under-replicated partition)" "$h" "see kafka-topics.sh --describe --under-replicated-partitions" in_sync "$h"
  say "$h: brokerd ${BID[$h]} $RELEASE registered and in sync"
done

for h in "${EAGLE[@]}"; do
  if stale "$h" eagle; then
    say "$h: restarting eagle on $RELEASE"
    svc "$h" stop eagle
  fi
  if ! svc_running "$h" eagle; then
    switch "$h"
    svc "$h" start eagle
    say "$h: eagle started"
  fi
  wait_until "eagle answering /healthz" "$h" "see $PREFIX/logs/ke_console.out there" eagle_up "$h"
done
# Every host ends on the new release (also those whose daemons were all current).
for h in "${ALL[@]}"; do switch "$h"; done

# ---------------------------------------------------------------- health check
echo "health check:"
bad=0
for h in "${ZK[@]}"; do
  m="$(zk_mode "$h")"
  printf '  zookeeper %-12s %s:%s  Mode: %s\n' "$h" "$(addr "$h")" "$ZKP" "${m:-NOT SERVING}"
  [ -n "$m" ] || bad=1
done
if [ ${#KAFKA[@]} -gt 0 ]; then
  want="$(for h in "${KAFKA[@]}"; do echo "${BID[$h]}"; done | sort -n | paste -sd, | sed 's/,/, /g')"
  got="$(broker_ids)"
  printf '  /brokers/ids = %s (want [%s])\n' "$got" "$want"
  [ "$got" = "[$want]" ] || bad=1
fi
for h in "${EAGLE[@]}"; do
  printf '  eagle     %-12s http://%s:%s  %s\n' "$h" "$(addr "$h")" "$EP" "$(eagle_up "$h" >/dev/null && echo ok || echo NOT ANSWERING)"
  # ke.sh appends eagle's output to ke_console.out; under --systemd it is in the
  # journal. The last admin line is the current database's (an older install's
  # may be there too).
  src="cat $PREFIX/logs/ke_console.out"
  [ "$SYSTEMD" = 1 ] && src="journalctl -u eagle -o cat --no-pager"
  pw="$(on "$h" "$src 2>/dev/null | sed -n 's/^EAGLE ADMIN user=admin password=\\([^ ]*\\).*/\\1/p' | tail -n 1")"
  [ -n "$pw" ] && printf '            login admin / %s (printed at eagle'"'"'s first start)\n' "$pw"
done
[ "$bad" = 0 ] || die "the health check failed (above)"
say "cluster $RELEASE installed on ${#ALL[@]} hosts under $PREFIX"
