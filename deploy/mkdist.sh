#!/usr/bin/env bash
# mkdist.sh VERSION COMMIT: builds dist/mqstack-VERSION-linux-amd64.tar.gz from
# bin/ (built by `make build` with CGO_ENABLED=0) and deploy/. Run by `make dist`.
# Refuses a binary that is not static or whose --version does not name both
# VERSION and COMMIT.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="$1"
COMMIT="$2"
NAME="mqstack-$VERSION"
OUT="dist/$NAME-linux-amd64.tar.gz"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
ROOT="$STAGE/$NAME"
mkdir -p "$ROOT/bin" "$ROOT/conf" "$ROOT/systemd" "$ROOT/logs"

for b in zkd brokerd eagle; do
  if [ ! -x "bin/$b" ]; then
    [ "$b" = eagle ] && { echo "mkdist: bin/eagle not built; the tarball has no dashboard" >&2; continue; }
    echo "mkdist: bin/$b missing; run make build" >&2
    exit 1
  fi
  if readelf -l "bin/$b" 2>/dev/null | grep -q 'Requesting program interpreter'; then
    echo "mkdist: bin/$b is dynamically linked; build with CGO_ENABLED=0" >&2
    exit 1
  fi
  v="$("bin/$b" --version 2>&1 | head -n 1)"
  case "$v" in
  *"$VERSION"*"$COMMIT"*) ;;
  *)
    echo "mkdist: bin/$b --version says '$v', which does not name version $VERSION and commit $COMMIT; rebuild with make build" >&2
    exit 1
    ;;
  esac
  echo "  bin/$b: $v"
  cp "bin/$b" "$ROOT/bin/"
done
# The Apache-named scripts (zkServer.sh, zkCli.sh, kafka-*.sh, ke.sh) and local-cluster.sh.
cp deploy/bin/*.sh "$ROOT/bin/"
cp deploy/install.sh "$ROOT/bin/" 2>/dev/null || true
for c in zoo.cfg server.properties system-config.properties; do
  if [ -f "deploy/conf/$c" ]; then cp "deploy/conf/$c" "$ROOT/conf/"; else echo "mkdist: deploy/conf/$c missing; not in the tarball" >&2; fi
done
cp deploy/systemd/* "$ROOT/systemd/"
cp deploy/INSTALL.md "$ROOT/INSTALL.md"
printf 'mqstack %s (commit %s), linux-amd64, built %s\n' "$VERSION" "$COMMIT" "$(date -u '+%Y-%m-%d %H:%M UTC')" > "$ROOT/VERSION"
chmod 755 "$ROOT"/bin/*
mkdir -p dist
tar -C "$STAGE" --owner=0 --group=0 -czf "$OUT" "$NAME"
echo "$OUT ($(du -h "$OUT" | cut -f1)): $(tar -tzf "$OUT" | grep -c -v '/$') files"
