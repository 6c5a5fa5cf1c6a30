#!/usr/bin/env bash
# Stage: real hypervisors under QEMU/TCG, one per sysctl interface: Xen 4.14 (0x13,
# Debian 11), 4.16 (0x14) and 4.22 (0x16) from ../shared/xen-images, 4.17 and 4.20
# (0x15, Debian 12 and 13), with real payloads, listed by the real xen-livepatch with
# and without our library, by a relinked C program and by the Rust API (tests/real-xen).
set -uo pipefail
cd "$(dirname "$0")/../.."
# the host-side checks of the command's formats: promtool and Debian's python3-jsonschema
bash scripts/setup.sh prometheus python3-jsonschema || exit 1
exec bash tests/real-xen/run.sh
