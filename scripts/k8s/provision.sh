#!/usr/bin/env bash
# Obtains the local Kubernetes control plane's binaries, cached by version in $FREECHAT_CACHE/bin:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (and the real node's kubelet
# and kube-proxy, built with them), KWOK (+ its stages) and helm. Warm, it takes well under a
# second. Cold, the Go builds take ~22 minutes on 2 cores; each uses one compile at a time (-p 1),
# so two run side by side: the Kubernetes build (the longest, six binaries sharing one cache) alone,
# and etcd, KWOK and helm one after the other.
set -euo pipefail
dir=$(dirname "$0")
started=$SECONDS
"$dir/ensure-kubernetes.sh" >/dev/null &
kubernetes=$!
"$dir/ensure-etcd.sh" >/dev/null
"$dir/ensure-kwok.sh" >/dev/null
"$dir/ensure-helm.sh" >/dev/null
wait "$kubernetes"
printf '[k8s] etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, KWOK and helm provisioned in %d s\n' \
  $((SECONDS - started)) >&2
