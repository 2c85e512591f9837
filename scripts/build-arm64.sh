#!/usr/bin/env bash
# Cross-compiles the linux-arm64 prebuilt binary (prebuilds/linux-arm64/soapix.glibc.node) with
# Debian's g++-aarch64-linux-gnu inside the Debian 11 build root: see scripts/build-prebuild.sh.
# arm64 has no x86 vector kernels: the portable ones run there, auto-vectorised to NEON (part of
# the aarch64 base instruction set, so no run-time choice is needed). Tested under qemu-aarch64 by
# scripts/check-arm64.sh.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/build-prebuild.sh" arm64
