#!/usr/bin/env bash
# Builds the prebuilt binaries that ship in prebuilds/ so that they load on old distributions:
#   prebuilds/linux-x64/soapix.glibc.node     (x86-64; AVX2 / AVX-512 kernels chosen at run time)
#   prebuilds/linux-arm64/soapix.glibc.node   (aarch64; the portable kernels, auto-vectorised to NEON)
#
#   bash scripts/build-prebuild.sh [x64|arm64|all]      (default: all)
#
# The compile runs inside a Debian 11 (bullseye) build root: glibc 2.31 and GCC 10, with the
# aarch64 cross compiler for arm64. libstdc++ and libgcc are linked statically (no GLIBCXX /
# CXXABI / GCC_ symbol versions), exp / log / pow are bound to their pre-2.29 versions
# (native/src/glibc_compat.h), so the binaries need at most GLIBC_2.28 and load on RHEL / Rocky 8,
# Ubuntu 20.04, Debian 11 and newer; libgomp.so.1 (OpenMP) stays a shared dependency.
# scripts/check-prebuilds.sh checks every file in prebuilds/.
#
# The build root: $SOAPIX_BUILD_ROOT (default ../buildroots/bullseye-amd64 next to the repository);
# when missing it is created with debootstrap (needs root and Debian's mirror, ~550 MB):
#   debootstrap --variant=minbase --include=g++,g++-aarch64-linux-gnu,binutils bullseye DIR
# Compile flags follow binding.gyp (C++17, -O3, OpenMP, C++ exceptions, no -march); the source
# list is native/sources.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"
want="${1:-all}"
case "$want" in x64|arm64|all) ;; *) echo "usage: bash scripts/build-prebuild.sh [x64|arm64|all]" >&2; exit 2 ;; esac
buildroot="${SOAPIX_BUILD_ROOT:-$(cd .. && pwd)/buildroots/bullseye-amd64}"

if [[ ! -x "$buildroot/usr/bin/g++" || ! -x "$buildroot/usr/bin/aarch64-linux-gnu-g++" ]]; then
  command -v debootstrap >/dev/null || { echo "build-prebuild: no build root at $buildroot and no debootstrap (apt-get install debootstrap)" >&2; exit 1; }
  echo "build-prebuild: creating the Debian 11 build root in $buildroot"
  mkdir -p "$buildroot"
  debootstrap --variant=minbase --include=g++,g++-aarch64-linux-gnu,binutils,binutils-aarch64-linux-gnu bullseye "$buildroot" http://deb.debian.org/debian
fi

napi_dir="$(node -p "require('node-addon-api').include_dir")"
node_headers="${npm_config_nodedir:-/usr}/include/node"
[[ -f "$node_headers/node_api.h" ]] || { echo "build-prebuild: no node_api.h under $node_headers (set npm_config_nodedir)" >&2; exit 1; }
mapfile -t sources < <(node -p "const s=require('./native/sources.json'); s.core.concat(s.binding).join('\n')")

work="$buildroot/tmp/soapix-prebuild"
rm -rf "$work"
mkdir -p "$work/src" "$work/napi" "$work/node" "$work/out"
cp -r native "$work/src/"
cp -r "$napi_dir"/. "$work/napi/"
cp -r "$node_headers"/. "$work/node/"

build() {
  local arch="$1" cxx strip
  case "$arch" in
    x64) cxx=g++ strip=strip ;;
    arm64) cxx=aarch64-linux-gnu-g++ strip=aarch64-linux-gnu-strip ;;
  esac
  local rel=()
  for s in "${sources[@]}"; do rel+=("src/$s"); done
  echo "build-prebuild: $arch with $(chroot "$buildroot" "$cxx" --version | head -n 1)"
  chroot "$buildroot" /bin/sh -c "cd /tmp/soapix-prebuild && $cxx -std=c++17 -O3 -fPIC -shared -fopenmp -fexceptions \
    -fno-math-errno -ffp-contract=fast -Wno-psabi -fvisibility=hidden \
    -DNAPI_VERSION=8 -DNODE_ADDON_API_CPP_EXCEPTIONS_ALL -DNAPI_CPP_EXCEPTIONS -DBUILDING_NODE_EXTENSION \
    -include src/native/src/glibc_compat.h -Isrc/native/src -Inapi -Inode \
    ${rel[*]} -o out/soapix-$arch.node -static-libstdc++ -static-libgcc -Wl,--as-needed -Wl,-z,noexecstack \
    && $strip --strip-unneeded out/soapix-$arch.node"
  mkdir -p "prebuilds/linux-$arch"
  cp "$work/out/soapix-$arch.node" "prebuilds/linux-$arch/soapix.glibc.node"
  ls -l "prebuilds/linux-$arch/soapix.glibc.node"
}

[[ "$want" == x64 || "$want" == all ]] && build x64
[[ "$want" == arm64 || "$want" == all ]] && build arm64
rm -rf "$work"
bash scripts/check-prebuilds.sh
