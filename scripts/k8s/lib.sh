# Shared by the scripts/k8s provisioning scripts: the versions that agree with each other (kubectl
# is built from the API server's own tree; helm's lint/template are told the server's minor), on
# top of scripts/infra/lib.sh (cache directory, lock, go_build_cached).
. "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
ETCD_VERSION="${ETCD_VERSION:-3.6.16}"
KUBERNETES_VERSION="${KUBERNETES_VERSION:-1.37.2}"
KWOK_VERSION="${KWOK_VERSION:-0.8.0}"
HELM_VERSION="${HELM_VERSION:-3.22.0}"
