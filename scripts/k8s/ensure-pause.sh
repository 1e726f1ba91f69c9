#!/usr/bin/env bash
# The real node's sandbox image without a registry: pause.c compiled -static (gcc, installed when
# missing) and wrapped into an image archive `localhost/pause:$PAUSE_VERSION` that startNode imports
# into containerd. Cached by version. Prints the archive's path. Cold: ~1 s.
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
. "$dir/lib.sh"
OUT="$FREECHAT_CACHE/bin/pause-$PAUSE_VERSION.tar"
build() {
  [ -e "$OUT" ] && return 0
  command -v gcc >/dev/null || DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q gcc libc6-dev >&2
  local work; work=$(mktemp -d "${TMPDIR:-/tmp}/pause.XXXXXX")
  mkdir "$work/rootfs"
  gcc -Os -static -o "$work/rootfs/pause" "$dir/pause.c" && strip "$work/rootfs/pause" &&
    "$dir/image-archive.sh" "$work/rootfs" "localhost/pause:$PAUSE_VERSION" "$OUT" '["/pause"]'
  local rc=$?
  rm -rf "$work"
  return $rc
}
[ -e "$OUT" ] || with_lock "pause-$PAUSE_VERSION" build
echo "$OUT"
