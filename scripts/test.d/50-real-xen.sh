#!/usr/bin/env bash
# Stage: the real Debian hypervisors (Xen 4.17 and 4.20) under QEMU/TCG with
# real payloads, listed by the real xen-livepatch with and without our
# library, by a relinked C program and by the Rust API (tests/real-xen).
set -uo pipefail
cd "$(dirname "$0")/../.."
exec bash tests/real-xen/run.sh
