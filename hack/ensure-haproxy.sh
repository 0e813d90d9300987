#!/usr/bin/env bash
# Makes sure the distribution's haproxy is installed: the tests run generated and corpus configs
# through the real HAProxy. Installs it with apt-get when missing and running as root; otherwise
# says which package to install. In CI (CI set) a missing haproxy is an error, elsewhere a warning
# (the tests that need it then skip).
set -euo pipefail

if command -v haproxy >/dev/null 2>&1; then
  echo "haproxy: $(haproxy -v 2>/dev/null | head -n 1)"
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "haproxy: missing; installing the distribution package 'haproxy' with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends haproxy >/dev/null
  echo "haproxy: $(haproxy -v 2>/dev/null | head -n 1)"
  exit 0
fi
msg="haproxy: missing; install the distribution package 'haproxy' (for example: sudo apt-get install haproxy)"
if [ -n "${CI:-}" ]; then
  echo "$msg" >&2
  exit 1
fi
echo "$msg; tests that need it will be skipped" >&2
