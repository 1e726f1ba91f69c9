#!/usr/bin/env bash
# compose.sh ARGS...: runs Docker Compose v2 with ARGS: `docker compose` when the docker CLI on
# PATH has the compose plugin, else a compose v2 binary cached by version in
# $FREECHAT_CACHE/compose-v<version>/docker-compose, built from its Go module when missing
# (no release downloads here; cold ~4-10 min on 2 cores, the Go caches are temporary and removed).
# Builds use BuildKit (the Dockerfiles use RUN --mount=type=secret): with no buildx plugin, compose
# drives the daemon's own BuildKit (Docker 20.10 has it) through its built-in builder and prints
# "Docker Compose is configured to build using Bake, but buildx isn't installed" once per build.
# COMPOSE_VERSION overrides the version built (default v2.40.3).
set -euo pipefail
. "$(dirname "$0")/../infra/lib.sh"
COMPOSE_VERSION="${COMPOSE_VERSION:-v2.40.3}"
BIN="$FREECHAT_CACHE/compose-$COMPOSE_VERSION/docker-compose"
export DOCKER_BUILDKIT="${DOCKER_BUILDKIT:-1}" COMPOSE_DOCKER_CLI_BUILD="${COMPOSE_DOCKER_CLI_BUILD:-1}"

# The stand-ins compose-up.sh chose for images no registry serves here, so later commands
# (`up --scale`, `restart`) name the same images; a variable already set wins.
chosen="$(cd "$(dirname "$0")/../.." && pwd)/.data/compose/images.env"
if [ -f "$chosen" ]; then
  while IFS='=' read -r key value; do
    [[ $key =~ ^[A-Z_]+$ ]] && [ -z "${!key:-}" ] && export "$key=$value"
  done <"$chosen"
fi

if command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
  exec docker compose "$@"
fi

recipe() {
  # `go install …/compose/v2/cmd@v` is refused (its go.mod has exclude lines): build the module
  # itself, which keeps them.
  local dir
  dir=$(go mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { log "go mod download of docker compose $COMPOSE_VERSION failed"; return 1; }
  cp -r "$dir" "$GO_BUILD_WORK/compose" && chmod -R u+w "$GO_BUILD_WORK/compose" && cd "$GO_BUILD_WORK/compose"
  go build -trimpath -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
    -o "$1.tmp" ./cmd
}

# Cold ~4-10 min on 2 cores; a warm run checks one file.
go_build_cached "docker compose $COMPOSE_VERSION" "compose-$COMPOSE_VERSION" recipe "$BIN"
exec "$BIN" "$@"
