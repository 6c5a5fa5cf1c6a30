#!/usr/bin/env bash
# Stage: real hypervisors under QEMU/TCG, one per sysctl interface: Xen 4.14 (0x13,
# Debian 11), 4.16 (0x14) and 4.22 (0x16) from ../shared/xen-images, 4.17 and 4.20
# (0x15, Debian 12 and 13), with real payloads, listed by the real xen-livepatch with
# and without our library, by a relinked C program and by the Rust API (tests/real-xen).
set -uo pipefail
cd "$(dirname "$0")/../.."
# run.sh installs what it needs, the host-side checks' promtool and
# python3-jsonschema included, so that it also runs alone as its README says
exec bash tests/real-xen/run.sh
