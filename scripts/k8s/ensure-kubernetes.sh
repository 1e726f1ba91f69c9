#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler and kubectl from k8s.io/kubernetes
# at one version, in one wrapper module and one build cache (they share most packages), and caches
# the binaries by version. Prints their paths, one a line, in that order.
# k8s.io/kubernetes requires its staging modules at v0.0.0 (replaced by paths in its own tree):
# the wrapper replaces each with its published v0.<minor>.<patch>. The version ldflags make
# /version and `kubectl version` report v$KUBERNETES_VERSION (helm's kubeVersion checks read it).
# Needs Go >= 1.26 for 1.37. Binaries are 80-120 MB each. Cold: see README.md; warm: instant.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
BINS=()
for c in "${COMMANDS[@]}"; do BINS+=("$FREECHAT_CACHE/bin/$c-$KUBERNETES_VERSION"); done

recipe() {
  local k="v$KUBERNETES_VERSION" s="v0.${KUBERNETES_VERSION#1.}" major=${KUBERNETES_VERSION%%.*} minor
  minor=${KUBERNETES_VERSION#*.}; minor=${minor%%.*}
  go mod init local/k8sbin >/dev/null 2>&1
  local gomod m
  gomod=$(go mod download -json "k8s.io/kubernetes@$k" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [ -n "$gomod" ] || { log "go mod download k8s.io/kubernetes@$k failed"; return 1; }
  for m in $(awk '/^require/,/^\)/' "$gomod" | awk '$2=="v0.0.0"{print $1}'); do
    go mod edit "-replace=$m=$m@$s"
  done
  local pkgs=() c
  for c in "${COMMANDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c@$k"); done
  go get -tool "${pkgs[@]}" >/dev/null 2>&1
  local ld="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$k -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  local i
  for i in "${!COMMANDS[@]}"; do
    nice go build -p 1 -trimpath -ldflags "$ld" -o "${BINS[$i]}.tmp" "k8s.io/kubernetes/cmd/${COMMANDS[$i]}"
    log "built ${COMMANDS[$i]} after $((SECONDS - recipe_started)) s"
  done
}
recipe_started=$SECONDS

go_build_cached "Kubernetes $KUBERNETES_VERSION (apiserver, controller-manager, scheduler, kubectl)" \
  "kubernetes-$KUBERNETES_VERSION" recipe "${BINS[@]}"
printf '%s\n' "${BINS[@]}"
