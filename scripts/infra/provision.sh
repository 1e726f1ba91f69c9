#!/usr/bin/env bash
# Obtains every real server the tests and `make infra-up` use, cached by version outside the work
# tree; warm, it takes about a second. The three run side by side: the Consul build dominates.
set -euo pipefail
dir=$(dirname "$0")
started=$SECONDS
"$dir/ensure-redis.sh" >/dev/null &
redis=$!
"$dir/ensure-rocketmq.sh" >/dev/null &
rocketmq=$!
"$dir/ensure-consul.sh" >/dev/null
wait "$redis"
wait "$rocketmq"
printf '[infra] Redis, Consul and RocketMQ provisioned in %d s\n' $((SECONDS - started)) >&2
