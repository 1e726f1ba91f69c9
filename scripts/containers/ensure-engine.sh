#!/usr/bin/env bash
# Makes sure a Docker engine answers. Does nothing when one already does (`docker info`, honouring
# DOCKER_HOST). Otherwise, where this machine allows it (Linux, root or sudo), installs Debian's
# docker.io (+ debootstrap, for base-images.sh) and starts dockerd the way
# /work/shared/recipes/containers.md verified: no iptables, no ip forwarding, no masquerading (the
# machine's firewall and sysctls are left alone), a bridge subnet that collides with no route here,
# cgroupfs + overlay2, images kept across runs in $FREECHAT_CACHE/docker-<version>/data-root.
# Prints `engine: already running` or `engine: started (pid N)` to stderr.
# Exit 3 with a one-line reason when no engine can be started here (callers skip with that line).
# stop-engine.sh stops the daemon again, only if this script started it.
set -euo pipefail
. "$(dirname "$0")/../infra/lib.sh"
. "$(dirname "$0")/engine-paths.sh"

answers() { timeout 10 "$DOCKER_CLI" info >/dev/null 2>&1; }
cannot() { echo "engine: cannot start a Docker engine here: $*" >&2; exit 3; }

DOCKER_CLI=$(command -v docker || true)
if [ -n "$DOCKER_CLI" ] && answers; then echo "engine: already running" >&2; exit 0; fi

[ "$(uname -s)" = Linux ] || cannot "not Linux ($(uname -s)); start Docker yourself"
if [ "$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then cannot "dockerd needs root (or passwordless sudo)"; fi
SOCKET=/var/run/docker.sock
case "${DOCKER_HOST:-}" in
  "") ;;
  unix://*) SOCKET=${DOCKER_HOST#unix://} ;;
  *) cannot "DOCKER_HOST=$DOCKER_HOST does not answer, and only a local unix socket can be started here" ;;
esac

install_engine() {
  command -v dockerd >/dev/null && [ -x /usr/bin/docker ] && command -v debootstrap >/dev/null && return 0
  log "installing docker.io and debootstrap from apt (~1 min)"
  as_root apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
    docker.io debootstrap >/dev/null || return 1
  # The package enables a system-wide docker.service; this project runs its own daemon instead.
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    as_root systemctl disable --now docker.service docker.socket >/dev/null 2>&1 || true
  fi
}

# A /24 for docker0 that no route on this machine already covers.
pick_bip() {
  local routes third; routes=$(ip -4 route show 2>/dev/null | awk '{print $1}')
  for third in 77 78 79 80 81 82 83 84 85 86 87 88 89 90; do
    if ! grep -q "^10\.254\.$third\." <<<"$routes" && ! grep -q '^10\.254\.0\.0/16\|^10\.0\.0\.0/8' <<<"$routes"; then
      echo "10.254.$third.1/24"; return 0; fi
  done
  echo "172.31.254.1/24"
}

start_engine() {
  # Another caller may have started it while we waited for the lock.
  if [ -x /usr/bin/docker ] && DOCKER_HOST="unix://$SOCKET" timeout 10 /usr/bin/docker info >/dev/null 2>&1; then
    echo "engine: already running" >&2; return 0; fi
  install_engine || cannot "installing docker.io with apt failed"
  local version; version=$(dockerd --version | sed -n 's/^Docker version \([0-9.]*\).*/\1/p')
  engine_paths "$version"
  as_root mkdir -p "$ENGINE_STATE" "$ENGINE_DATA_ROOT"
  # A pid file left by a daemon that died (or a reboot) is not a running daemon.
  if [ -f "$ENGINE_PIDFILE" ] && ! kill -0 "$(cat "$ENGINE_PIDFILE")" 2>/dev/null; then
    as_root rm -f "$ENGINE_PIDFILE" "$ENGINE_MARKER"; fi
  local bip; bip=$(pick_bip)
  log "starting dockerd $version (bridge $bip, data in $ENGINE_DATA_ROOT, log $ENGINE_LOG)"
  # setsid: the daemon outlives this script and its caller's process group (Ctrl-C in make);
  # 9>&-: it must not inherit the flock (held for as long as the daemon runs otherwise).
  as_root setsid dockerd --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    --bip "$bip" --storage-driver=overlay2 --exec-opt native.cgroupdriver=cgroupfs \
    --data-root "$ENGINE_DATA_ROOT" --exec-root "$ENGINE_STATE/exec" --pidfile "$ENGINE_PIDFILE" \
    -H "unix://$SOCKET" </dev/null >"$ENGINE_LOG" 2>&1 9>&- &
  local launcher=$! i
  for i in $(seq 1 300); do   # up to 60 s; ~2 s usually
    if DOCKER_HOST="unix://$SOCKET" /usr/bin/docker info >/dev/null 2>&1; then break; fi
    if ! kill -0 "$launcher" 2>/dev/null; then
      tail -n 5 "$ENGINE_LOG" >&2 || true; cannot "dockerd exited at start (log: $ENGINE_LOG)"; fi
    sleep 0.2
  done
  DOCKER_HOST="unix://$SOCKET" /usr/bin/docker info >/dev/null 2>&1 || {
    tail -n 5 "$ENGINE_LOG" >&2 || true; cannot "dockerd did not answer within 60 s (log: $ENGINE_LOG)"; }
  echo "$SOCKET" | as_root tee "$ENGINE_MARKER" >/dev/null
  echo "engine: started (pid $(cat "$ENGINE_PIDFILE"))" >&2
}

with_lock docker-engine start_engine
