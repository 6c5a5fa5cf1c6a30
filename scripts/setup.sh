#!/usr/bin/env bash
# Installs what building and testing need on a fresh Debian 12 machine:
#   bash scripts/setup.sh            the base set
#   bash scripts/setup.sh PKG...     the base set and these Debian packages
# Idempotent: only what is missing is installed.
set -euo pipefail
need=()
for pkg in gcc libc6-dev libxen-dev xen-utils-4.17 binutils pkg-config "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null || { echo "setup: apt-get install ${need[*]} failed" >&2; exit 1; }
fi
command -v cargo >/dev/null || { echo "setup: cargo not found (install Rust with rustup)" >&2; exit 1; }
