# Shared by the scripts/infra provisioning scripts: where built servers are cached, and a build lock.
# Only built binaries and jars are kept, keyed by version, outside the work tree.
FREECHAT_CACHE="${FREECHAT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/freechat}"
mkdir -p "$FREECHAT_CACHE/bin" "$FREECHAT_CACHE/locks"

# with_lock NAME CMD...: one builder at a time per artefact (parallel test workers, two terminals).
with_lock() {
  local name=$1; shift
  (
    flock 9
    "$@"
  ) 9>"$FREECHAT_CACHE/locks/$name.lock"
}

log() { printf '[infra] %s\n' "$*" >&2; }

# as_root CMD...: apt needs root; use sudo when we are not root and it exists.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root for: $*"; return 1; fi
}
