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

# go_build_cached LABEL LOCK RECIPE OUTPUT...: builds OUTPUT... once, with RECIPE, and keeps them.
# Nothing happens when every OUTPUT exists (a warm run costs no lock and no Go). Otherwise, under
# the lock LOCK, RECIPE (a shell function) runs in a subshell whose working directory is an empty
# module directory, with private GOPATH, GOMODCACHE and GOCACHE in a temporary directory that is
# removed afterwards (a server's build leaves gigabytes behind), GOFLAGS=-mod=mod,
# GOTOOLCHAIN=local and CGO_ENABLED=0. RECIPE gets the OUTPUTs as arguments and writes each to
# "$OUTPUT.tmp"; they are renamed into place only when it succeeded, so a reader never sees half a
# file and a killed build leaves nothing that looks finished. $GO_BUILD_WORK names the temporary
# directory (RECIPE may use it). The cold time goes to stderr and to $FREECHAT_CACHE/build-times.log.
# Call it as a plain command (not after `||`/`&&` or in `if`), so `set -e` stops a failing RECIPE.
go_build_cached() {
  local label=$1 lock=$2 recipe=$3 out; shift 3
  for out; do
    if [ ! -e "$out" ]; then with_lock "$lock" _go_build_locked "$label" "$lock" "$recipe" "$@"; return; fi
  done
}

_go_build_locked() {
  local label=$1 lock=$2 recipe=$3 out missing=0; shift 3
  for out; do [ -e "$out" ] || missing=1; done
  [ "$missing" = 1 ] || return 0 # another builder finished while we waited for the lock
  command -v go >/dev/null || { log "Go is required to build $label"; return 1; }
  local work; work=$(mktemp -d "${TMPDIR:-/tmp}/freechat-$lock-build.XXXXXX")
  # with_lock runs us in a subshell: its EXIT trap removes the caches on success, failure or signal.
  # The path is expanded now: `work` is a local, gone when the trap runs (and `set -u` is on).
  # A failed build's half-written outputs go too.
  local partial=""; for out; do partial="$partial $(printf %q "$out.tmp")"; done
  # shellcheck disable=SC2064
  trap "chmod -R u+w $(printf %q "$work") 2>/dev/null; rm -rf $(printf %q "$work")$partial" EXIT
  trap 'exit 143' TERM INT HUP
  local started=$SECONDS
  log "building $label from source (cached afterwards in $(dirname "$1"))"
  for out; do mkdir -p "$(dirname "$out")"; rm -f "$out.tmp"; done
  (
    export GOPATH="$work/gopath" GOMODCACHE="$work/gopath/pkg/mod" GOCACHE="$work/gocache" \
      GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 GO_BUILD_WORK="$work"
    mkdir -p "$work/src" && cd "$work/src"
    "$recipe" "$@"
  )
  for out; do
    [ -e "$out.tmp" ] || { log "building $label did not produce $out"; return 1; }
  done
  for out; do mv -f "$out.tmp" "$out"; done
  local took=$((SECONDS - started))
  log "$label built in $took s"
  printf '%s\t%s\t%d s\t%s\n' "$(date -u +%FT%TZ)" "$label" "$took" "$(nproc) cores" \
    >>"$FREECHAT_CACHE/build-times.log"
}
