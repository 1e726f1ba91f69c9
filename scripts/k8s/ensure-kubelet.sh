#!/usr/bin/env bash
# The real node's kubelet and kube-proxy: built with the control plane (ensure-kubernetes.sh, one
# build cache). Prints their paths, kubelet first.
set -euo pipefail
"$(dirname "$0")/ensure-kubernetes.sh" | tail -n 2
