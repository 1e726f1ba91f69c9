#!/usr/bin/env bash
# Builds etcd from its Go module (through a wrapper module: etcd's own go.mod has replace lines)
# and caches the binary by version. Prints its path. Cold: see README.md; warm: instant.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN="$FREECHAT_CACHE/bin/etcd-$ETCD_VERSION"

recipe() {
  go mod init local/etcdbin >/dev/null 2>&1
  go get -tool "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >/dev/null 2>&1
  nice go build -p 1 -trimpath -ldflags "-s -w" -o "$1.tmp" go.etcd.io/etcd/server/v3
}

go_build_cached "etcd $ETCD_VERSION" "etcd-$ETCD_VERSION" recipe "$BIN"
echo "$BIN"
