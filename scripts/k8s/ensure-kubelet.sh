#!/usr/bin/env bash
# Builds the real node's kubelet and kube-proxy from the same k8s.io/kubernetes wrapper module as
# the control plane (kubernetes_build in lib.sh; kube-proxy reuses most of the kubelet's build
# cache) and caches both by version. Prints their paths, kubelet first. Cold: see README.md.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
COMMANDS=(kubelet kube-proxy)
BINS=()
for c in "${COMMANDS[@]}"; do BINS+=("$FREECHAT_CACHE/bin/$c-$KUBERNETES_VERSION"); done

recipe() { kubernetes_build "$FREECHAT_CACHE/bin" "${COMMANDS[@]}"; }

go_build_cached "Kubernetes $KUBERNETES_VERSION (kubelet, kube-proxy)" \
  "kubernetes-node-$KUBERNETES_VERSION" recipe "${BINS[@]}"
printf '%s\n' "${BINS[@]}"
