#!/usr/bin/env bash
# TEST FIXTURE. No image registry is reachable on the machines this project is tested on, so the
# public base images the project's Dockerfiles name cannot be pulled. This script makes those names
# resolve locally when the engine does not already have them, from images built on this machine:
#   node:20-bookworm-slim            Debian bookworm (debootstrap --variant=minbase, from the apt
#                                    mirror this machine uses) + this machine's Node 20 (node, npm,
#                                    corepack in /usr/local), user `node` (uid 1000), CMD ["node"];
#                                    not the official image, only a stand-in with the same name.
#   freechat-fixture/debian:bookworm the same minbase Debian, FROM of test/compose/fixtures/*.
# Both root file systems are cached as tarballs in $FREECHAT_CACHE/base-images, keyed by the date
# they were made (the newest is used): cold ~4-5 min (debootstrap), from the tarballs ~10 s, warm
# (images present) well under a second. It never changes a Dockerfile, and never replaces an image
# that is already present (a real node:20-bookworm-slim pulled from Docker Hub stays).
# Needs a running engine (ensure-engine.sh) and, cold, root + debootstrap + a Node 20 on PATH.
set -euo pipefail
. "$(dirname "$0")/../infra/lib.sh"
CACHE="$FREECHAT_CACHE/base-images"
NODE_IMAGE=node:20-bookworm-slim
DEBIAN_IMAGE=freechat-fixture/debian:bookworm
LABEL_KEY=org.opencontainers.image.description
mkdir -p "$CACHE"

have() { docker image inspect "$1" >/dev/null 2>&1; }
newest() { ls -1 "$CACHE"/$1 2>/dev/null | sort | tail -n 1; }

# The Debian mirror apt uses on this machine (deb822 sources or the one-line format).
apt_mirror() {
  local uri
  uri=$(awk '/^URIs:/ {u=$2} /^Suites:/ && /(^| )bookworm( |$)/ && u {print u; exit}' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1=="deb" && $3=="bookworm" {print $2; exit}' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

make_debian_tarball() (
  [ -n "$(newest 'debian-bookworm-minbase-*.tar.zst')" ] && exit 0
  command -v debootstrap >/dev/null || { log "debootstrap is required (apt-get install debootstrap)"; exit 1; }
  local work mirror started=$SECONDS; work=$(mktemp -d "${TMPDIR:-/tmp}/freechat-rootfs.XXXXXX")
  trap 'as_root rm -rf "$work"' EXIT
  mirror=$(apt_mirror)
  log "debootstrap minbase bookworm from $mirror (cold: ~4 min)"
  as_root debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  as_root rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  local out; out="$CACHE/debian-bookworm-minbase-$(date +%Y%m%d).tar.zst"
  as_root tar -C "$work/rootfs" --numeric-owner -c . | zstd -q -T0 -o "$out.tmp"
  mv "$out.tmp" "$out"
  log "Debian minbase rootfs cached in $out ($((SECONDS - started)) s)"
)

make_node_tarball() (
  [ -n "$(newest 'node-20.*-bookworm-slim-*.tar.zst')" ] && exit 0
  local node version
  node=$(command -v node || true)
  version=$([ -n "$node" ] && "$node" --version | sed 's/^v//')
  case "$version" in 20.*) ;; *) log "a Node 20 on PATH is required to make $NODE_IMAGE (found: ${version:-none})"; exit 1 ;; esac
  node=$(readlink -f "$node")
  local npm_root; npm_root=$(npm root -g)
  make_debian_tarball
  local work started=$SECONDS; work=$(mktemp -d "${TMPDIR:-/tmp}/freechat-noderootfs.XXXXXX")
  trap 'as_root rm -rf "$work"' EXIT
  as_root mkdir -p "$work/rootfs"
  zstd -dc "$(newest 'debian-bookworm-minbase-*.tar.zst')" | as_root tar -C "$work/rootfs" --numeric-owner -x
  as_root install -m 755 "$node" "$work/rootfs/usr/local/bin/node"
  as_root mkdir -p "$work/rootfs/usr/local/lib/node_modules"
  local m; for m in npm corepack; do
    [ -d "$npm_root/$m" ] && as_root cp -a "$npm_root/$m" "$work/rootfs/usr/local/lib/node_modules/"
  done
  as_root ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$work/rootfs/usr/local/bin/npm"
  as_root ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$work/rootfs/usr/local/bin/npx"
  [ -d "$npm_root/corepack" ] && as_root ln -sf ../lib/node_modules/corepack/dist/corepack.js "$work/rootfs/usr/local/bin/corepack"
  as_root chroot "$work/rootfs" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
  # The binary must run on the image's own libraries.
  as_root chroot "$work/rootfs" /usr/local/bin/node --version >/dev/null ||
    { log "the host's node does not run on Debian bookworm libraries"; exit 1; }
  local out; out="$CACHE/node-$version-bookworm-slim-$(date +%Y%m%d).tar.zst"
  as_root tar -C "$work/rootfs" --numeric-owner -c . | zstd -q -T0 -o "$out.tmp"
  mv "$out.tmp" "$out"
  log "node $version rootfs cached in $out ($((SECONDS - started)) s)"
)

import_debian() {
  have "$DEBIAN_IMAGE" && return 0
  make_debian_tarball
  zstd -dc "$(newest 'debian-bookworm-minbase-*.tar.zst')" |
    docker import --change 'CMD ["bash"]' --change "LABEL $LABEL_KEY=\"local test fixture: debootstrap bookworm minbase\"" - "$DEBIAN_IMAGE" >/dev/null
  log "imported $DEBIAN_IMAGE"
}

import_node() {
  have "$NODE_IMAGE" && return 0
  make_node_tarball
  local tarball version; tarball=$(newest 'node-20.*-bookworm-slim-*.tar.zst')
  version=$(basename "$tarball" | sed 's/^node-\(.*\)-bookworm-slim-.*/\1/')
  zstd -dc "$tarball" | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$version" --change 'CMD ["node"]' \
    --change "LABEL $LABEL_KEY=\"local test fixture: debootstrap bookworm minbase + host Node 20\"" - "$NODE_IMAGE" >/dev/null
  log "imported $NODE_IMAGE (Node $version, local stand-in)"
}

have "$DEBIAN_IMAGE" && have "$NODE_IMAGE" && exit 0
with_lock base-images import_debian
with_lock base-images import_node
