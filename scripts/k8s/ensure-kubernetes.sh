#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and the real node's
# kubelet and kube-proxy from k8s.io/kubernetes at one version, in one wrapper module and one build
# cache (they share most packages; see kubernetes_build in lib.sh), and caches the binaries by
# version. Prints their paths, one a line, in that order. Needs Go >= 1.26 for 1.37. Binaries are
# 50-120 MB each. One build for all six: the node's two built apart cost 850 s cold on 2 cores,
# 60 s after the control plane's in the same cache. Cold: see README.md; warm: instant.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)
BINS=()
for c in "${COMMANDS[@]}"; do BINS+=("$FREECHAT_CACHE/bin/$c-$KUBERNETES_VERSION"); done

recipe() { kubernetes_build "$FREECHAT_CACHE/bin" "${COMMANDS[@]}"; }

go_build_cached "Kubernetes $KUBERNETES_VERSION (apiserver, controller-manager, scheduler, kubectl, kubelet, kube-proxy)" \
  "kubernetes-$KUBERNETES_VERSION" recipe "${BINS[@]}"
printf '%s\n' "${BINS[@]}"
