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

label_of() { docker image inspect -f '{{index .Config.Labels "freechat.fixture.recipe"}}' "$1" 2>/dev/null || true; }

# docker build with host networking. BuildKit when the CLI has buildx; else the classic builder,
# which every daemon still has (the Debian 20.10 CLI's and newer CLIs' without buildx).
docker_build() {
  if docker buildx version >/dev/null 2>&1; then
    DOCKER_BUILDKIT=1 docker build --network host "$@"
  else
    DOCKER_BUILDKIT=0 docker build --network host "$@" 2> >(grep -v -e 'DEPRECATED' -e 'legacy builder' \
      -e 'BuildKit is currently disabled' -e 'Install the buildx' -e 'https://docs.docker.com/go/buildx' -e '^ *$' >&2)
  fi
}

# fixture NAME VERSION [ARTEFACT]: builds freechat-fixture/NAME:VERSION when its recipe changed.
# ARTEFACT is a file or directory copied into the build context under its own base name.
fixture() {
  local name=$1 version=$2 artefact=${3:-} tag="freechat-fixture/$1:$2" hash
  hash=$( {
    echo "$version"
    docker image inspect -f '{{.Id}}' "$BASE"
    (cd "$RECIPES/$name" && find . -type f -printf '%m %p\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    # Artefacts are identified by path, size and modification time (hashing ~100 MB each run is slow).
    if [ -n "$artefact" ]; then find "$artefact" -printf '%P %s %T@\n' | sort; fi
  } | sha256sum | cut -c1-16)
  if [ "$(label_of "$tag")" = "$hash" ]; then echo "$tag"; return 0; fi
  with_lock "fixture-$name" build_fixture "$name" "$version" "$artefact" "$tag" "$hash"
  echo "$tag"
}

build_fixture() {
  local name=$1 version=$2 artefact=$3 tag=$4 hash=$5
  if [ "$(label_of "$tag")" = "$hash" ]; then return 0; fi   # built by another caller meanwhile
  local old ctx started=$SECONDS; old=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
  ctx=$(mktemp -d "${TMPDIR:-/tmp}/freechat-fixture-$name.XXXXXX")
  trap 'rm -rf "$ctx"' RETURN
  cp -a "$RECIPES/$name/." "$ctx/"
  # Hard links when the cache is on the same file system (jars: ~100 MB), copies otherwise.
  if [ -n "$artefact" ]; then cp -al "$artefact" "$ctx/" 2>/dev/null || cp -a "$artefact" "$ctx/"; fi
  case "$name" in consul) mv "$ctx/$(basename "$artefact")" "$ctx/consul" ;; jaeger) mv "$ctx/$(basename "$artefact")" "$ctx/jaeger" ;; esac
  log "building $tag (test fixture)"
  if ! docker_build -q -t "$tag" --label "freechat.fixture.recipe=$hash" \
      --label "org.opencontainers.image.description=local test fixture" \
      --build-arg "ROCKETMQ_VERSION=$version" "$ctx" >"$ctx.log" 2>&1; then
    tail -n 30 "$ctx.log" >&2; rm -f "$ctx.log"; log "building $tag failed"; return 1
  fi
  rm -f "$ctx.log"
  # The previous build of this tag, now untagged, would only take disk space.
  if [ -n "$old" ] && [ "$old" != "$(docker image inspect -f '{{.Id}}' "$tag")" ]; then
    docker image rm "$old" >/dev/null 2>&1 || true; fi
  log "built $tag in $((SECONDS - started)) s"
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
