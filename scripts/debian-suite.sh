#!/bin/bash
# debian-suite.sh SUITE TAG PKG... : download PKG... from Debian's SUITE (trixie,
# bookworm, bullseye) with a private apt source list and state directory, unpack
# them into one tree and print its path. Nothing is installed and the machine's
# apt sources are not touched. The work is tests/real-xen/fetch.sh's
# (setup_suite_apt, fetch_and_unpack); the cache is the real-Xen stage's, so the
# stages share downloads: ${REAL_XEN_CACHE:-~/.cache/xc-livepatch-real-xen}.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 SUITE TAG PKG..." >&2; exit 2; }
suite=$1 tag=$2; shift 2
CACHE=${REAL_XEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xc-livepatch-real-xen}
DEB_CACHE=$CACHE/debs
APT_OPTS=()
mkdir -p "$CACHE"
# shellcheck source=../tests/real-xen/fetch.sh
. "$(dirname "$0")/../tests/real-xen/fetch.sh"
setup_suite_apt "$suite"
# the suite's own version even where the machine has a newer one installed
# (bullseye's libxen-dev 4.14 beside bookworm's 4.17)
APT_OPTS+=(-o Dir::State::status=/dev/null)
fetch_and_unpack "$tag" "$@"
