#!/usr/bin/env bash
# Browser tests drive Debian's Chromium with playwright-core (Playwright's own browser download
# cannot work offline). Installs it when missing, and a Chinese font for the zh-CN screenshots;
# prints the binary's path.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
fi
if ! fc-list :lang=zh | grep -q .; then
  echo "installing a Chinese font for the browser tests' zh-CN screenshots" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends fonts-wqy-microhei >&2
fi
command -v chromium
