#!/usr/bin/env bash
# Obtains what the real single-node cluster (node.ts) needs: the control plane (provision.sh), and Debian's
# containerd + runc (from docker.io, as ../shared/recipes/kubernetes-node.md says), the CNI plugins,
# nft and iptables (installed when missing), kubelet + kube-proxy and CoreDNS (Go builds cached by
# version), the pause image and a CoreDNS image archive (no registry: node.ts imports both).
# Prints, one a line: kubelet, kube-proxy, the pause image archive, the CoreDNS image archive.
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
. "$dir/lib.sh"
started=$SECONDS

missing=()
command -v containerd >/dev/null || missing+=(docker.io)
command -v runc >/dev/null || missing+=(runc)
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
command -v nft >/dev/null || missing+=(nftables)
command -v iptables >/dev/null || missing+=(iptables)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
    { as_root apt-get update -q >&2 && as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
fi

# CoreDNS's build beside the control plane's two (provision.sh; kubelet and kube-proxy are built
# with the control plane, in its cache): three Go builds of one compile each (-p 1) on 2 cores.
"$dir/ensure-coredns.sh" >/dev/null &
coredns_build=$!
"$dir/provision.sh"
wait "$coredns_build"
node_bins=$("$dir/ensure-kubelet.sh")
coredns=$("$dir/ensure-coredns.sh")
pause=$("$dir/ensure-pause.sh")

coredns_image="$FREECHAT_CACHE/bin/coredns-$COREDNS_VERSION.tar"
if [ ! -e "$coredns_image" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/coredns-image.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/rootfs"
  cp "$coredns" "$work/rootfs/coredns"
  "$dir/image-archive.sh" "$work/rootfs" "localhost/coredns:$COREDNS_VERSION" "$coredns_image" '["/coredns"]'
fi
[ $((SECONDS - started)) -lt 2 ] ||
  log "kubelet, kube-proxy, CoreDNS and the pause image provisioned in $((SECONDS - started)) s"
printf '%s\n' "$node_bins" "$pause" "$coredns_image"
