#!/usr/bin/env bash
# Builds Consul from its Go module (no release downloads here) and caches the binary by version.
# Prints the binary's path. Cold: ~3 min download + ~15 min build on 2 cores; warm: instant.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
CONSUL_VERSION="${CONSUL_VERSION:-1.22.7}"
# v1.22.7's go.mod pins an api module older than its own code needs.
CONSUL_API_VERSION="${CONSUL_API_VERSION:-1.34.5}"
BIN="$FREECHAT_CACHE/bin/consul-$CONSUL_VERSION"

recipe() {
  go mod init local/consulbin >/dev/null 2>&1
  go mod edit -exclude=github.com/hashicorp/go-msgpack@v1.1.5 -exclude=github.com/hashicorp/go-msgpack@v1.1.6
  go get -tool "github.com/hashicorp/consul@v$CONSUL_VERSION" >/dev/null 2>&1
  go get "github.com/hashicorp/consul/api@v$CONSUL_API_VERSION" >/dev/null 2>&1
  go build -trimpath -ldflags "-s -w" -o "$1.tmp" github.com/hashicorp/consul
}

go_build_cached "Consul $CONSUL_VERSION" consul recipe "$BIN"
echo "$BIN"
