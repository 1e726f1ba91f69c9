#!/usr/bin/env bash
# Builds Consul from its Go module (no release downloads here) and caches the binary by version.
# Prints the binary's path. Cold: ~3 min download + ~15 min build on 2 cores; warm: instant.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
CONSUL_VERSION="${CONSUL_VERSION:-1.22.7}"
# v1.22.7's go.mod pins an api module older than its own code needs.
CONSUL_API_VERSION="${CONSUL_API_VERSION:-1.34.5}"
BIN="$FREECHAT_CACHE/bin/consul-$CONSUL_VERSION"

build() {
  [ -x "$BIN" ] && return 0
  command -v go >/dev/null || { log "Go is required to build Consul"; return 1; }
  local work; work=$(mktemp -d "${TMPDIR:-/tmp}/freechat-consul-build.XXXXXX")
  # Private module and build caches, removed afterwards: a Consul build leaves gigabytes behind.
  trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' RETURN
  local started=$SECONDS
  log "building Consul $CONSUL_VERSION from source (cold: ~15-20 min; cached afterwards in $BIN)"
  (
    export GOPATH="$work/gopath" GOMODCACHE="$work/gopath/pkg/mod" GOCACHE="$work/gocache" \
      GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
    mkdir -p "$work/src" && cd "$work/src"
    go mod init local/consulbin >/dev/null 2>&1
    go mod edit -exclude=github.com/hashicorp/go-msgpack@v1.1.5 -exclude=github.com/hashicorp/go-msgpack@v1.1.6
    go get -tool "github.com/hashicorp/consul@v$CONSUL_VERSION" >/dev/null 2>&1
    go get "github.com/hashicorp/consul/api@v$CONSUL_API_VERSION" >/dev/null 2>&1
    go build -trimpath -ldflags "-s -w" -o "$BIN.tmp" github.com/hashicorp/consul
  )
  mv "$BIN.tmp" "$BIN"
  log "Consul $CONSUL_VERSION built in $((SECONDS - started)) s"
}

with_lock consul build
echo "$BIN"
