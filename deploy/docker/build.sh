#!/usr/bin/env bash
# build.sh VERSION: builds the images mqstack/zkd, mqstack/brokerd and (when
# bin/eagle exists) mqstack/eagle, tagged VERSION and latest, FROM scratch with
# the static binaries of bin/ and mqentry (built here). Run by `make images`.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION="${1:?usage: build.sh VERSION}"
CTX="$(mktemp -d)"
trap 'rm -rf "$CTX"' EXIT
mkdir -p "$CTX/tmp"
chmod 1777 "$CTX/tmp"
CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$CTX/mqentry" ./deploy/entrypoint
cp deploy/docker/Dockerfile "$CTX/"
targets="zkd brokerd"
[ -x bin/eagle ] && targets="$targets eagle" || echo "build.sh: bin/eagle not built; no mqstack/eagle image" >&2
for t in $targets; do
  cp "bin/$t" "$CTX/"
  # The legacy builder warns that it is deprecated; its output is otherwise one id.
  DOCKER_BUILDKIT=0 docker build -q --target "$t" -t "mqstack/$t:$VERSION" -t "mqstack/$t:latest" "$CTX" 2>/dev/null >/dev/null || {
    echo "build.sh: docker build of mqstack/$t failed:" >&2
    DOCKER_BUILDKIT=0 docker build --target "$t" "$CTX" >&2
    exit 1
  }
  echo "mqstack/$t:$VERSION ($(docker image inspect -f '{{.Size}}' "mqstack/$t:$VERSION" | awk '{printf "%.1f MB", $1/1e6}'))"
done
