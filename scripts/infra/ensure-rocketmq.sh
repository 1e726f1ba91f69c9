#!/usr/bin/env bash
# Fetches RocketMQ 5's name server, proxy (with the broker in local mode) and admin tools from Maven
# Central and caches the jars by version. Prints the lib directory. Cold: ~30 s; warm: instant.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# 5.5.1 lacks the namesrv/proxy/tools artifacts on Maven Central.
ROCKETMQ_VERSION="${ROCKETMQ_VERSION:-5.5.0}"
DIR="$FREECHAT_CACHE/rocketmq-$ROCKETMQ_VERSION"

fetch() {
  [ -f "$DIR/.complete" ] && return 0
  command -v mvn >/dev/null || { log "Maven and a JDK (17+) are required for RocketMQ"; return 1; }
  local work; work=$(mktemp -d "${TMPDIR:-/tmp}/freechat-rocketmq.XXXXXX")
  trap 'rm -rf "$work"' RETURN
  log "fetching RocketMQ $ROCKETMQ_VERSION jars from Maven Central"
  cat > "$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.freechat</groupId><artifactId>rocketmq-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.rocketmq</groupId><artifactId>rocketmq-namesrv</artifactId><version>$ROCKETMQ_VERSION</version></dependency>
    <dependency><groupId>org.apache.rocketmq</groupId><artifactId>rocketmq-proxy</artifactId><version>$ROCKETMQ_VERSION</version></dependency>
    <dependency><groupId>org.apache.rocketmq</groupId><artifactId>rocketmq-tools</artifactId><version>$ROCKETMQ_VERSION</version></dependency>
  </dependencies>
</project>
POM
  rm -rf "$DIR" && mkdir -p "$DIR/lib"
  # The local Maven repository is temporary too: only the runtime jars are kept.
  (cd "$work" && mvn -B -q -Dmaven.repo.local="$work/m2" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DoutputDirectory="$DIR/lib" -DincludeScope=runtime)
  touch "$DIR/.complete"
}

with_lock rocketmq fetch
echo "$DIR/lib"
