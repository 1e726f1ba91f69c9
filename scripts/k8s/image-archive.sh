#!/usr/bin/env bash
# image-archive.sh ROOTFS REF OUT [ENTRYPOINT_JSON]: writes a one-layer image archive in `docker
# save` format (manifest.json + config + layer tar) from a root filesystem folder, for
# `ctr -n k8s.io images import` on the real node: no registry and no Docker engine needed.
# Deterministic (sorted, mtime 0, owner root), so the same folder gives the same image id.
set -euo pipefail
rootfs=$1 ref=$2 out=$3 entrypoint=${4:-null}
work=$(mktemp -d "${TMPDIR:-/tmp}/image-archive.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -C "$rootfs" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$work/layer.tar" .
layer=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir "$work/$layer" && mv "$work/layer.tar" "$work/$layer/layer.tar"
printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":%s,"Env":["PATH=/usr/local/bin:/usr/bin:/bin"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"scripts/k8s/image-archive.sh"}]}' \
  "$entrypoint" "$layer" >"$work/config.json"
config=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/$config.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$config" "$ref" "$layer" >"$work/manifest.json"
tar -C "$work" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$out.tmp" manifest.json "$config.json" "$layer"
mv -f "$out.tmp" "$out"
