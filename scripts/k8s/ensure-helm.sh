#!/usr/bin/env bash
# Builds Helm 3 from its Go module and caches it by version. Prints its path.
# The ldflags set the version `helm version` prints and the Kubernetes version `helm lint` and
# `helm template` assume without a cluster (else 1.20, which fails charts' kubeVersion checks).
# Cold: see README.md; warm: instant.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BIN="$FREECHAT_CACHE/bin/helm-$HELM_VERSION"

recipe() {
  local major=${KUBERNETES_VERSION%%.*} minor p
  minor=${KUBERNETES_VERSION#*.}; minor=${minor%%.*}
  local ld="-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION"
  for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ld="$ld -X $p.k8sVersionMajor=$major -X $p.k8sVersionMinor=$minor"
  done
  GOFLAGS= GOBIN="$GO_BUILD_WORK/gobin" nice go install -p 1 -trimpath -ldflags "$ld" "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
  mv "$GO_BUILD_WORK/gobin/helm" "$1.tmp"
}

go_build_cached "Helm $HELM_VERSION" "helm-$HELM_VERSION" recipe "$BIN"
echo "$BIN"
