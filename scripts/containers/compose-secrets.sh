#!/usr/bin/env bash
# The secrets docker-compose.yml reads from files, made once and kept: the PostgreSQL password and
# auth's ES256 signing key (PKCS#8, P-256), plus this user's npm configuration for image builds
# (refreshed every time). Usage: compose-secrets.sh [DIR]  (default .data/compose/secrets)
#
# The directory is private (0700); the files in it are world-readable (0644) because compose
# bind-mounts them as they are and the services run as an unprivileged user inside their containers.
set -euo pipefail
dir=${1:-${FREECHAT_SECRETS_DIR:-.data/compose/secrets}}
mkdir -p "$dir"
chmod 700 "$dir"
umask 022
if [ ! -s "$dir/postgres-password" ]; then
  openssl rand -base64 32 | tr -d '\n=' | tr '+/' '-_' >"$dir/postgres-password.tmp"
  mv "$dir/postgres-password.tmp" "$dir/postgres-password"
  echo "[compose] generated the PostgreSQL password in $dir/postgres-password" >&2
fi
if [ ! -s "$dir/auth-signing-key.pem" ]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/auth-signing-key.pem.tmp" 2>/dev/null
  chmod 644 "$dir/auth-signing-key.pem.tmp"
  mv "$dir/auth-signing-key.pem.tmp" "$dir/auth-signing-key.pem"
  echo "[compose] generated auth's signing key in $dir/auth-signing-key.pem" >&2
fi
"$(dirname "$0")/npm-secrets.sh" "$dir"
