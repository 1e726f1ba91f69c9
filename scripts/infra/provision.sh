#!/usr/bin/env bash
# Obtains every real server the tests and `make infra-up` use, cached by version outside the work
# tree; warm, it takes about a second. They run side by side, except the two apt installs (Redis,
# Prometheus), which would fight over dpkg's lock; the Go builds of Consul and Jaeger dominate.
set -euo pipefail
dir=$(dirname "$0")
started=$SECONDS
( "$dir/ensure-redis.sh" && "$dir/ensure-prometheus.sh" ) >/dev/null &
apt=$!
# Both fetch jars through Maven: one after the other, so they do not share the network and a core.
( "$dir/ensure-rocketmq.sh" && "$dir/ensure-zipkin.sh" ) >/dev/null &
rocketmq=$!
"$dir/ensure-jaeger.sh" >/dev/null &
jaeger=$!
"$dir/ensure-consul.sh" >/dev/null
wait "$apt"
wait "$rocketmq"
wait "$jaeger"
printf '[infra] Redis, Consul, RocketMQ, Prometheus, Jaeger and Zipkin provisioned in %d s\n' $((SECONDS - started)) >&2
