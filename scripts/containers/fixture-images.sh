#!/usr/bin/env bash
# fixture-images.sh ENVFILE: TEST FIXTURES. Builds local stand-ins for the infrastructure images
# docker-compose.yml uses (no registry can serve the official ones here) and writes ENVFILE:
#   POSTGRES_IMAGE=…  REDIS_IMAGE=…  CONSUL_IMAGE=…  ROCKETMQ_IMAGE=…  PROMETHEUS_IMAGE=…  JAEGER_IMAGE=…
# Recipes: test/compose/fixtures/<name>/ (Dockerfile + files), FROM freechat-fixture/debian:bookworm
# (base-images.sh). Consul, Jaeger and the RocketMQ jars come from scripts/infra/ensure-*.sh
# (built or fetched there once, copied into a temporary build context here, never rebuilt).
# Images are tagged freechat-fixture/<name>:<version> and labelled with a hash of their recipe
# (files, base image, copied artefacts); an image whose label matches is not rebuilt, so a warm run
# is a few docker inspects. apt runs inside the builds with host networking (bridge containers
# have no route out here). FIXTURES="postgres redis" limits the set (ENVFILE then lists only those).
set -euo pipefail
shopt -s inherit_errexit
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/scripts/infra/lib.sh"
[ $# = 1 ] || { echo "usage: $0 ENVFILE" >&2; exit 2; }
ENVFILE=$1
RECIPES="$ROOT/test/compose/fixtures"
FIXTURES=${FIXTURES:-postgres redis consul rocketmq prometheus jaeger}
BASE=freechat-fixture/debian:bookworm

"$HERE/base-images.sh"

. "$HERE/lib-images.sh"   # label_of, docker_build, recipe_hash, build_image

# fixture NAME VERSION [ARTEFACT]: builds freechat-fixture/NAME:VERSION when its recipe changed.
# ARTEFACT is a file or directory copied into the build context under its own base name (Consul's
# and Jaeger's binaries as ./consul and ./jaeger).
fixture() {
  local name=$1 version=$2 artefact=${3:-} tag="freechat-fixture/$1:$2" hash spec=()
  if [ -n "$artefact" ]; then
    case "$name" in consul|jaeger) spec=("$artefact=$name") ;; *) spec=("$artefact") ;; esac
  fi
  hash=$(recipe_hash "$version" "$BASE" "$RECIPES/$name" ${spec[@]+"${spec[@]}"})
  if [ "$(label_of "$tag")" = "$hash" ]; then echo "$tag"; return 0; fi
  with_lock "fixture-$name" build_image "$name" "$tag" "$hash" "$RECIPES/$name" "test fixture" \
    ${spec[@]+"${spec[@]}"} -- --build-arg "ROCKETMQ_VERSION=$version"
  echo "$tag"
}

declare -A images=()
for name in $FIXTURES; do
  case "$name" in
    postgres) images[POSTGRES_IMAGE]=$(fixture postgres 15) ;;
    redis) images[REDIS_IMAGE]=$(fixture redis 7.0) ;;
    consul)
      bin=$("$ROOT/scripts/infra/ensure-consul.sh")
      images[CONSUL_IMAGE]=$(fixture consul "${bin##*/consul-}" "$bin") ;;
    rocketmq)
      lib=$("$ROOT/scripts/infra/ensure-rocketmq.sh")
      version=$(basename "$(dirname "$lib")"); version=${version#rocketmq-}
      images[ROCKETMQ_IMAGE]=$(fixture rocketmq "$version" "$lib") ;;
    prometheus) images[PROMETHEUS_IMAGE]=$(fixture prometheus 2.42) ;;
    jaeger)
      bin=$("$ROOT/scripts/infra/ensure-jaeger.sh")
      images[JAEGER_IMAGE]=$(fixture jaeger "${bin##*/jaeger-}" "$bin") ;;
    *) log "unknown fixture: $name"; exit 2 ;;
  esac
done

mkdir -p "$(dirname "$ENVFILE")"
{
  echo "# Local test-fixture images (scripts/containers/fixture-images.sh); not the official ones."
  for key in POSTGRES_IMAGE REDIS_IMAGE CONSUL_IMAGE ROCKETMQ_IMAGE PROMETHEUS_IMAGE JAEGER_IMAGE; do
    if [ -n "${images[$key]:-}" ]; then echo "$key=${images[$key]}"; fi
  done
} >"$ENVFILE.tmp"
mv "$ENVFILE.tmp" "$ENVFILE"
