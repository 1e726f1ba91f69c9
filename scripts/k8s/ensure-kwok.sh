#!/usr/bin/env bash
# Builds KWOK (simulated nodes: it marks their pods Running/Ready) from its Go module and caches
# it by version, with the stage configuration it needs (without stages it exits "no stages found"):
# node initialize + heartbeat with lease, pod ready/complete/delete, from the module's
# kustomize/stage directory, in one multi-document YAML next to the binary.
# Prints the binary's path, then the stages file's. Cold: see README.md; warm: instant.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN="$FREECHAT_CACHE/bin/kwok-$KWOK_VERSION"
STAGES="$FREECHAT_CACHE/bin/kwok-$KWOK_VERSION-stages.yaml"

recipe() {
  local mod="sigs.k8s.io/kwok@v$KWOK_VERSION"
  # No replace lines in KWOK's go.mod: `go install` builds it with its own requirements.
  GOFLAGS= GOBIN="$GO_BUILD_WORK/gobin" nice go install -p 1 -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
  mv "$GO_BUILD_WORK/gobin/kwok" "$1.tmp"
  local dir stage f
  dir=$(go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')/kustomize/stage
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [ -f "$dir/$f" ] || { log "KWOK $KWOK_VERSION has no stage $f"; return 1; }
    echo ---; cat "$dir/$f"
  done >"$2.tmp"
}

go_build_cached "KWOK $KWOK_VERSION" "kwok-$KWOK_VERSION" recipe "$BIN" "$STAGES"
printf '%s\n' "$BIN" "$STAGES"
