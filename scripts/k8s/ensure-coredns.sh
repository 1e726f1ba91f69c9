#!/usr/bin/env bash
# Builds CoreDNS (the cluster DNS of the real node) from its Go module and caches the static binary
# by version. Prints its path. Cold: see README.md; warm: instant.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN="$FREECHAT_CACHE/bin/coredns-$COREDNS_VERSION"

recipe() {
  # CoreDNS's go.mod has no replace lines: `go install` builds it with its own requirements.
  GOFLAGS= GOBIN="$GO_BUILD_WORK/gobin" nice go install -p 1 -trimpath -ldflags "-s -w" "github.com/coredns/coredns@v$COREDNS_VERSION"
  mv "$GO_BUILD_WORK/gobin/coredns" "$1.tmp"
}

go_build_cached "CoreDNS $COREDNS_VERSION" "coredns-$COREDNS_VERSION" recipe "$BIN"
echo "$BIN"
