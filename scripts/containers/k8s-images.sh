#!/usr/bin/env bash
# k8s-images.sh [OUTDIR]: LOCAL IMAGES for the operator's managed dependencies on a Kubernetes node
# with no registry (scripts/k8s/node.ts imports archives into containerd, never pulls). Builds, in the
# local Docker engine (ensure-engine.sh; exit 3 when none can start here),
#   freechat-local/postgres:15  freechat-local/redis:7.0  freechat-local/consul:<v>  freechat-local/rocketmq:<v>
# for the pod security context operator/src/plan/pod-security.ts gives them: started directly as
# postgres 999, redis 999, consul 100, rocketmq 3000 (runAsUser = runAsGroup = fsGroup, all
# capabilities dropped, no privilege escalation), data directories being fresh volumes owned by the
# fsGroup. Recipes: scripts/containers/k8s-images/<name>/, FROM freechat-fixture/debian:bookworm
# (base-images.sh), the compose fixtures' entrypoints (test/compose/fixtures/<name>/) copied in;
# rocketmq is built FROM the compose fixture freechat-fixture/rocketmq (fixture-images.sh).
# The build machinery (recipe-hash label, no rebuild when unchanged, lock, artefacts hard-linked into
# the context) is lib-images.sh's, shared with fixture-images.sh. K8S_IMAGES="postgres redis" limits
# the set. Prints the image names, one a line. With OUTDIR, `docker save`s each to
# OUTDIR/<name>.tar (for `ctr -n k8s.io images import`), again only when the image changed
# (OUTDIR/<name>.tar.id holds the saved image's id).
set -euo pipefail
shopt -s inherit_errexit
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/infra/lib.sh"
. "$HERE/lib-images.sh"
[ $# -le 1 ] || { echo "usage: $0 [OUTDIR]" >&2; exit 2; }
OUTDIR=${1:-}
RECIPES="$HERE/k8s-images"
FIXTURES_DIR="$ROOT/test/compose/fixtures"
IMAGES=${K8S_IMAGES:-postgres redis consul rocketmq}
BASE=freechat-fixture/debian:bookworm

"$HERE/ensure-engine.sh"   # exit 3 (no engine can start here) ends this script with 3
"$HERE/base-images.sh"

# local_image NAME VERSION BASE_IMAGE [ARTEFACT[=AS]]... [-- BUILD_ARG...]: freechat-local/NAME:VERSION
# from $RECIPES/NAME, rebuilt only when the recipe hash changed.
local_image() {
  local name=$1 version=$2 base=$3 tag="freechat-local/$1:$2" hash artefacts=(); shift 3
  while [ $# -gt 0 ] && [ "$1" != -- ]; do artefacts+=("$1"); shift; done
  [ $# = 0 ] || shift
  hash=$(recipe_hash "$version" "$base" "$RECIPES/$name" ${artefacts[@]+"${artefacts[@]}"})
  if [ "$(label_of "$tag")" != "$hash" ]; then
    with_lock "k8s-image-$name" build_image "k8s-$name" "$tag" "$hash" "$RECIPES/$name" \
      "image for the Kubernetes operator's managed $name" ${artefacts[@]+"${artefacts[@]}"} -- "$@"
  fi
  echo "$tag"
}

# save NAME TAG: OUTDIR/NAME.tar unless it already holds this image.
save() {
  local name=$1 tag=$2 id out="$OUTDIR/$1.tar" started=$SECONDS
  id=$(docker image inspect -f '{{.Id}}' "$tag")
  if [ -f "$out" ] && [ "$(cat "$out.id" 2>/dev/null)" = "$id" ]; then return 0; fi
  rm -f "$out.id"
  docker save -o "$out.tmp" "$tag"
  mv "$out.tmp" "$out"
  echo "$id" >"$out.id"
  log "saved $tag to $out ($(du -m "$out" | cut -f1) MB) in $((SECONDS - started)) s"
}

[ -z "$OUTDIR" ] || mkdir -p "$OUTDIR"
for name in $IMAGES; do
  case "$name" in
    postgres) tag=$(local_image postgres 15 "$BASE" "$FIXTURES_DIR/postgres/docker-entrypoint.sh") ;;
    redis) tag=$(local_image redis 7.0 "$BASE" "$FIXTURES_DIR/redis/docker-entrypoint.sh") ;;
    consul)
      bin=$("$ROOT/scripts/infra/ensure-consul.sh")
      tag=$(local_image consul "${bin##*/consul-}" "$BASE" "$bin=consul" "$FIXTURES_DIR/consul/docker-entrypoint.sh") ;;
    rocketmq)
      env=$(mktemp "${TMPDIR:-/tmp}/freechat-k8s-images.XXXXXX")
      FIXTURES=rocketmq "$HERE/fixture-images.sh" "$env"
      fixture=$(sed -n 's/^ROCKETMQ_IMAGE=//p' "$env"); rm -f "$env"
      version=${fixture##*:}
      tag=$(local_image rocketmq "$version" "$fixture" -- --build-arg "FIXTURE=$fixture") ;;
    *) log "unknown image: $name (postgres, redis, consul, rocketmq)"; exit 2 ;;
  esac
  if [ -n "$OUTDIR" ]; then save "$name" "$tag"; fi
  echo "$tag"
done
