#!/usr/bin/env bash
# A Python virtual environment with scripts/models/requirements.txt installed (from PyPI), cached
# in $FREECHAT_CACHE by the requirements' hash, built once under a lock. Prints its python's path.
# Cold: ~1 min (wheels only, no builds); warm: instant.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../infra/lib.sh"
REQUIREMENTS="$HERE/requirements.txt"
hash=$(sha256sum "$REQUIREMENTS" | cut -c1-12)
VENV="$FREECHAT_CACHE/python-models-$hash"

build() {
  [ -x "$VENV/bin/python" ] && return 0
  local python
  python=$(command -v python3) || { log "python3 is required"; return 1; }
  if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
    log "installing python3-venv"
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends python3-venv >&2
  fi
  local started=$SECONDS
  rm -rf "$VENV.tmp"
  "$python" -m venv "$VENV.tmp"
  "$VENV.tmp/bin/python" -m pip install -q --disable-pip-version-check --only-binary=:all: -r "$REQUIREMENTS" >&2
  # Built aside, then moved: a half-built venv is never taken for a whole one. Its python finds the
  # venv by the pyvenv.cfg beside it, so the move is safe (only bin/ scripts keep the old path in
  # their shebangs: use `python -m`).
  mv "$VENV.tmp" "$VENV"
  log "python model tools installed in $((SECONDS - started)) s"
}
with_lock "python-models" build
echo "$VENV/bin/python"
