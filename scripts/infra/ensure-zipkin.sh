#!/usr/bin/env bash
# Fetches the Zipkin server (io.zipkin:zipkin-server, the `exec` jar: the server, its in-memory
# storage and the Lens UI in one file) from Maven Central and caches it by version. Prints the
# jar's path. Cold: 135 MB, ~25 s; warm: instant. Runs on the JDK RocketMQ needs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ZIPKIN_VERSION="${ZIPKIN_VERSION:-3.6.1}"
JAR="$FREECHAT_CACHE/zipkin-$ZIPKIN_VERSION/zipkin-server-$ZIPKIN_VERSION-exec.jar"

fetch() {
  [ -f "$JAR" ] && return 0
  command -v mvn >/dev/null || { log "Maven and a JDK (17+) are required for Zipkin"; return 1; }
  local work; work=$(mktemp -d "${TMPDIR:-/tmp}/freechat-zipkin.XXXXXX")
  trap 'rm -rf "$work"' RETURN
  log "fetching Zipkin $ZIPKIN_VERSION from Maven Central"
  mkdir -p "$(dirname "$JAR")"
  # A temporary local repository, checksums enforced (-C); only the jar is kept.
  (cd "$work" && mvn -B -q -C -Dmaven.repo.local="$work/m2" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
    -Dartifact="io.zipkin:zipkin-server:$ZIPKIN_VERSION:jar:exec" -DoutputDirectory="$work/out" -Dmdep.stripVersion=false) >&2
  # Complete or absent: a copy across file systems is renamed into place only once it is whole.
  mv "$work/out/zipkin-server-$ZIPKIN_VERSION-exec.jar" "$JAR.tmp"
  mv "$JAR.tmp" "$JAR"
}

with_lock zipkin fetch
echo "$JAR"
