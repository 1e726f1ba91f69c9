# Sourced by ensure-engine.sh and stop-engine.sh: where the daemon this project starts keeps its
# images (kept across runs) and its runtime state (pid file, exec root, log, our marker).
# engine_paths VERSION sets ENGINE_DATA_ROOT, ENGINE_STATE, ENGINE_PIDFILE, ENGINE_MARKER, ENGINE_LOG.
engine_paths() {
  ENGINE_DATA_ROOT="$FREECHAT_CACHE/docker-$1/data-root"
  # Short path: containerd's sockets live under the exec root (unix socket paths max 108 bytes).
  ENGINE_STATE="${FREECHAT_DOCKER_STATE:-$FREECHAT_CACHE/docker-state}"
  ENGINE_PIDFILE="$ENGINE_STATE/dockerd.pid"
  # Written only by ensure-engine.sh after it started the daemon: stop-engine.sh stops nothing else.
  ENGINE_MARKER="$ENGINE_STATE/dockerd.started-by-freechat"
  ENGINE_LOG="$ENGINE_STATE/dockerd.log"
}
