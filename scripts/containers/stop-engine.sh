#!/usr/bin/env bash
# Stops the dockerd that ensure-engine.sh started (its pid file and our marker next to it): SIGTERM,
# then waits up to 30 s for it to exit (it stops its containers and containerd first). A daemon
# this project did not start (a system one, another user's) is left alone.
set -euo pipefail
. "$(dirname "$0")/../infra/lib.sh"
. "$(dirname "$0")/engine-paths.sh"
engine_paths unused
if [ ! -f "$ENGINE_MARKER" ] || [ ! -f "$ENGINE_PIDFILE" ]; then
  echo "engine: not started by freechat, left alone" >&2; exit 0; fi
pid=$(cat "$ENGINE_PIDFILE")
if ! kill -0 "$pid" 2>/dev/null && ! as_root kill -0 "$pid" 2>/dev/null; then
  as_root rm -f "$ENGINE_MARKER"; echo "engine: was not running" >&2; exit 0; fi
# The pid must still be a dockerd (pid reuse after a crash).
if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != dockerd ]; then
  as_root rm -f "$ENGINE_MARKER"; echo "engine: pid $pid is not dockerd any more, left alone" >&2; exit 0; fi
as_root kill -TERM "$pid"
for _ in $(seq 1 150); do [ -d "/proc/$pid" ] || break; sleep 0.2; done
if [ -d "/proc/$pid" ]; then echo "engine: dockerd (pid $pid) still running after 30 s" >&2; exit 1; fi
as_root rm -f "$ENGINE_MARKER"
echo "engine: stopped (pid $pid)" >&2
