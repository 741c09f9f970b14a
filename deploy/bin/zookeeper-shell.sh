#!/usr/bin/env bash
# zookeeper-shell.sh for zkd, as Kafka ships it: zkCli.sh with the server
# as the first argument.
#
#   zookeeper-shell.sh host:port[/chroot] [command args...]
if [ $# -lt 1 ]; then
  echo "USAGE: $0 zookeeper_host:port[/path] [args...]" >&2
  exit 1
fi
exec "$(dirname "${BASH_SOURCE-$0}")/zkCli.sh" -server "$@"
