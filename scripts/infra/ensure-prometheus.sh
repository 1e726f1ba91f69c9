#!/usr/bin/env bash
# Makes sure Debian's prometheus package is installed (2.42 on Debian 12; it brings promtool, and
# pulls prometheus-node-exporter, which is never started). Prints the prometheus binary's path.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

install() {
  command -v prometheus >/dev/null && command -v promtool >/dev/null && return 0
  log "installing prometheus from apt"
  # policy-rc.d keeps the package from starting a system-wide Prometheus (and node exporter) we
  # would not own.
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null; as_root chmod +x "$policy"; created=1; fi
  as_root apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  [ "$created" = 1 ] && as_root rm -f "$policy"
  return 0
}

with_lock prometheus install
command -v prometheus
