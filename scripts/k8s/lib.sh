# Shared by the scripts/k8s provisioning scripts: the versions that agree with each other (kubectl
# is built from the API server's own tree; helm's lint/template are told the server's minor), on
# top of scripts/infra/lib.sh (cache directory, lock, go_build_cached).
. "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
ETCD_VERSION="${ETCD_VERSION:-3.6.16}"
KUBERNETES_VERSION="${KUBERNETES_VERSION:-1.37.2}"
KWOK_VERSION="${KWOK_VERSION:-0.8.0}"
HELM_VERSION="${HELM_VERSION:-3.22.0}"
# The real node (ensure-node.sh): CoreDNS from its module, a pause image of our own build.
COREDNS_VERSION="${COREDNS_VERSION:-1.14.7}"
PAUSE_VERSION="${PAUSE_VERSION:-3.10}"

# kubernetes_build OUT_PREFIX COMMAND...: inside a go_build_cached recipe, builds each
# k8s.io/kubernetes/cmd/COMMAND at $KUBERNETES_VERSION into "OUT_PREFIX/COMMAND-VERSION.tmp", one
# wrapper module and one build cache (later commands reuse the earlier ones' packages).
# k8s.io/kubernetes requires its staging modules at v0.0.0 (replaced by paths in its own tree):
# the wrapper replaces each with its published v0.<minor>.<patch>. The version ldflags make
# /version and `kubectl version` report v$KUBERNETES_VERSION (helm's kubeVersion checks read it).
kubernetes_build() {
  local out=$1; shift
  local k="v$KUBERNETES_VERSION" s="v0.${KUBERNETES_VERSION#1.}" major=${KUBERNETES_VERSION%%.*} minor
  minor=${KUBERNETES_VERSION#*.}; minor=${minor%%.*}
  local started=$SECONDS
  go mod init local/k8sbin >/dev/null 2>&1
  local gomod m
  gomod=$(go mod download -json "k8s.io/kubernetes@$k" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [ -n "$gomod" ] || { log "go mod download k8s.io/kubernetes@$k failed"; return 1; }
  for m in $(awk '/^require/,/^\)/' "$gomod" | awk '$2=="v0.0.0"{print $1}'); do
    go mod edit "-replace=$m=$m@$s"
  done
  local pkgs=() c
  for c; do pkgs+=("k8s.io/kubernetes/cmd/$c@$k"); done
  go get -tool "${pkgs[@]}" >/dev/null 2>&1
  local ld="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$k -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  for c; do
    nice go build -p 1 -trimpath -ldflags "$ld" -o "$out/$c-$KUBERNETES_VERSION.tmp" "k8s.io/kubernetes/cmd/$c"
    log "built $c after $((SECONDS - started)) s"
  done
}
