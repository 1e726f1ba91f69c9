#!/usr/bin/env bash
# npm-secrets.sh OUTDIR: the host's npm registry configuration, for image builds as BuildKit
# secrets (never baked into a layer):
#   OUTDIR/npmrc   the user's effective npm configuration, project-independent: the global npmrc
#                  (`npm config get globalconfig`), then the user's (`npm config get userconfig`,
#                  normally ~/.npmrc), then npm_config_* environment variables for the registry,
#                  proxy and TLS settings; later lines win, as in npm. ${VAR} references are
#                  expanded from this environment (the build has none). `cafile=` points at
#                  /run/secrets/npm_ca; nodedir, prefix, cache, globalconfig and userconfig lines
#                  are dropped (host paths).
#   OUTDIR/npm_ca  the CA bundle the host npm trusts: its cafile, else the system bundle
#                  /etc/ssl/certs/ca-certificates.crt (+ NODE_EXTRA_CA_CERTS); empty if none.
# Mounted in a Dockerfile as
#   RUN --mount=type=secret,id=npmrc,target=/root/.npmrc --mount=type=secret,id=npm_ca npm ci
# Both files are mode 600 and their content is never printed (tokens may be in them).
set -euo pipefail
. "$(dirname "$0")/../infra/lib.sh"
[ $# = 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
OUT=$1
umask 077
mkdir -p "$OUT"
command -v npm >/dev/null || { log "npm is required"; exit 1; }

# Outside any project: only the user's and the machine's settings count, not a project .npmrc.
neutral=$(mktemp -d "${TMPDIR:-/tmp}/freechat-npm.XXXXXX")
trap 'rm -rf "$neutral"' EXIT
npm_get() { (cd "$neutral" && npm config get "$1" 2>/dev/null) || true; }
globalconfig=$(npm_get globalconfig)
userconfig=$(npm_get userconfig)
cafile=$(npm_get cafile)

{
  for f in "$globalconfig" "$userconfig"; do
    [ -n "$f" ] && [ -r "$f" ] && { cat "$f"; echo; }
  done
  # Environment settings npm would apply on the host (npm_config_registry=… etc.).
  for key in registry strict_ssl proxy https_proxy noproxy always_auth fetch_retries \
    fetch_retry_mintimeout fetch_retry_maxtimeout fetch_timeout maxsockets; do
    for var in "npm_config_$key" "NPM_CONFIG_$(tr a-z A-Z <<<"$key")"; do
      [ -n "${!var:-}" ] && printf '%s=%s\n' "${key//_/-}" "${!var}"
    done
  done
  if [ "${cafile:-null}" = null ] || [ "$cafile" = undefined ]; then
    # No cafile on the host: npm trusts Node's bundled CAs (+ NODE_EXTRA_CA_CERTS); in the
    # container that set is the npm_ca bundle below.
    [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && echo "cafile=/run/secrets/npm_ca"
  fi
} | awk '
  /^[[:space:]]*(nodedir|prefix|cache|globalconfig|userconfig)[[:space:]]*=/ { next }
  /^[[:space:]]*cafile[[:space:]]*=/ { print "cafile=/run/secrets/npm_ca"; next }
  {
    line = $0
    while (match(line, /\$\{[A-Za-z_][A-Za-z0-9_]*\}/)) {
      name = substr(line, RSTART + 2, RLENGTH - 3)
      line = substr(line, 1, RSTART - 1) ENVIRON[name] substr(line, RSTART + RLENGTH)
    }
    print line
  }' >"$OUT/npmrc.tmp"

: >"$OUT/npm_ca.tmp"
if [ "${cafile:-null}" != null ] && [ "$cafile" != undefined ] && [ -r "$cafile" ]; then
  cat "$cafile" >>"$OUT/npm_ca.tmp"
elif [ -r /etc/ssl/certs/ca-certificates.crt ]; then
  cat /etc/ssl/certs/ca-certificates.crt >>"$OUT/npm_ca.tmp"
fi
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r "$NODE_EXTRA_CA_CERTS" ]; then
  echo >>"$OUT/npm_ca.tmp"; cat "$NODE_EXTRA_CA_CERTS" >>"$OUT/npm_ca.tmp"; fi
chmod 600 "$OUT/npmrc.tmp" "$OUT/npm_ca.tmp"
mv "$OUT/npmrc.tmp" "$OUT/npmrc"
mv "$OUT/npm_ca.tmp" "$OUT/npm_ca"
log "npm build secrets written to $OUT (npmrc: $(wc -l <"$OUT/npmrc") lines, npm_ca: $(wc -c <"$OUT/npm_ca") bytes)"
