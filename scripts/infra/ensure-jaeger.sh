#!/usr/bin/env bash
# Builds Jaeger v2 all-in-one (an OpenTelemetry Collector distribution with an OTLP receiver,
# in-memory storage and the query API) from its Go module and caches the binary by version.
# Prints the binary's path. Cold: ~1 min download + ~7 min build on 2 quiet cores (measured
# 18 min with the machine under heavy load), 2.3 GB peak memory; warm: instant.
# The UI's assets are not embedded in a `go build` binary: /search shows a placeholder page, the
# JSON API (/api/services, /api/traces) the tests and people use works.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
JAEGER_VERSION="${JAEGER_VERSION:-1.76.0}"
BIN="$FREECHAT_CACHE/bin/jaeger-$JAEGER_VERSION"

recipe() {
  go mod init local/jaegerbin >/dev/null 2>&1
  # Jaeger's own go.mod carries this replace line, which `go install` refuses: copy it here.
  go mod edit -replace=github.com/Shopify/sarama=github.com/Shopify/sarama@v1.33.0
  go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@v$JAEGER_VERSION" >/dev/null 2>&1
  # -p 1: peak memory stays near 2.3 GB; more parallel compiles do not fit a small machine.
  nice go build -p 1 -trimpath -ldflags "-s -w" -o "$1.tmp" github.com/jaegertracing/jaeger/cmd/jaeger
}

go_build_cached "Jaeger $JAEGER_VERSION" jaeger recipe "$BIN"
echo "$BIN"
