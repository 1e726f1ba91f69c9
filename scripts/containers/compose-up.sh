#!/usr/bin/env bash
# `make compose-up`: the whole platform in docker compose, published on 127.0.0.1 only.
#   1. a Docker engine: the one that answers, else started here where this machine allows it;
#   2. secrets made once (.data/compose/secrets) and this user's npm configuration for the builds;
#   3. images: what the engine has or can pull; where no registry answers, local stand-ins (test
#      fixtures: base-images.sh for node:20-bookworm-slim, fixture-images.sh for the infrastructure);
#   4. docker compose up --detach --build --wait.
# Extra arguments go to `docker compose up` (e.g. `--scale chat=2`).
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$dir/../.." && pwd)
cd "$root"
"$dir/ensure-engine.sh"
export FREECHAT_SECRETS_DIR="${FREECHAT_SECRETS_DIR:-$root/.data/compose/secrets}"
"$dir/compose-secrets.sh" "$FREECHAT_SECRETS_DIR"

obtainable() { docker image inspect "$1" >/dev/null 2>&1 || docker pull --quiet "$1" >/dev/null 2>&1; }
obtainable node:20-bookworm-slim || "$dir/base-images.sh"

# Infrastructure images: the ones docker-compose.yml names (or POSTGRES_IMAGE=… and the like), else
# the local stand-ins for every one the engine cannot get.
declare -A defaults=(
  [POSTGRES_IMAGE]=postgres:17-bookworm [REDIS_IMAGE]=redis:7-bookworm [CONSUL_IMAGE]=hashicorp/consul:1.21
  [ROCKETMQ_IMAGE]=apache/rocketmq:5.3.2 [PROMETHEUS_IMAGE]=prom/prometheus:v3.5.0 [JAEGER_IMAGE]=jaegertracing/jaeger:2.13.0
)
# compose.sh reads the choice back, so every later compose command names the same images.
chosen="$root/.data/compose/images.env"
rm -f "$chosen"
missing=()
for variable in "${!defaults[@]}"; do
  [ -n "${!variable:-}" ] && continue
  obtainable "${defaults[$variable]}" || missing+=("$variable")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[compose] no registry serves ${missing[*]}: using local stand-ins (scripts/containers/fixture-images.sh)" >&2
  fixtures="$root/.data/compose/fixture-images.env"
  "$dir/fixture-images.sh" "$fixtures"
  for variable in "${missing[@]}"; do grep "^$variable=" "$fixtures" >>"$chosen"; done
fi

export FREECHAT_REVISION="${FREECHAT_REVISION:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}"
"$dir/compose.sh" up --detach --build --wait --wait-timeout 900 "$@"
port=${FREECHAT_PORT:-3000}
cat >&2 <<TEXT
[compose] Free Chat:   http://127.0.0.1:$port
[compose] Consul:      http://127.0.0.1:${CONSUL_PORT:-8500}/ui
[compose] Prometheus:  http://127.0.0.1:${PROMETHEUS_PORT:-9090}
[compose] Jaeger:      http://127.0.0.1:${JAEGER_UI_PORT:-16686}
[compose] stop: make compose-down   (data stays in volumes; remove it with: scripts/containers/compose.sh down -v)
TEXT
