#!/bin/sh
# Image build step (services/Dockerfile): the production dependencies of one workspace, from the
# lockfile, without install scripts, then without what Node never loads at run time (type
# declarations, source maps, TypeScript sources, docs; licences stay).
set -eu
npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace="$1"
find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -name '*.ts' \
  -o \( -name '*.md' ! -iname 'licen[cs]e*' \) \) -delete
