#!/usr/bin/env bash
# Packaging smoke test: `npm pack` the package as it stands (dist/ must be built and a prebuilt
# binary must sit in prebuilds/), install the tarball into an empty folder without a compiler
# step, and use it from CommonJS, from an ES module and from TypeScript. Proves that:
#   - the tarball holds dist/ (JS + .d.ts), both prebuilt binaries (prebuilds/linux-x64 and
#     prebuilds/linux-arm64), the native sources and binding.gyp;
#   - `npm install` of it compiles nothing: the prebuilt binary is what loads, and no build/
#     folder appears inside the installed package;
#   - require('soapix'), import('soapix') and the type declarations all work.
# Usage: bash scripts/pack-smoke.sh [--keep]   (--keep leaves the temp folder for inspection)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
keep=0
[[ "${1:-}" == "--keep" ]] && keep=1

fail() { echo "pack-smoke: FAIL: $*" >&2; exit 1; }

[[ -f dist/index.js && -f dist/index.d.ts ]] || fail "dist/ is not built (run npm run build:ts)"
shopt -s nullglob
prebuilt=(prebuilds/linux-x64/*.node)
shopt -u nullglob
((${#prebuilt[@]} > 0)) || fail "no prebuilt binary in prebuilds/linux-x64 (run npm run prebuild)"
shopt -s nullglob
prebuilt_arm64=(prebuilds/linux-arm64/*.node)
shopt -u nullglob
((${#prebuilt_arm64[@]} > 0)) || fail "no prebuilt binary in prebuilds/linux-arm64 (run npm run prebuild)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/soapix-pack.XXXXXX")"
if ((keep)); then echo "pack-smoke: keeping $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi

# --ignore-scripts: dist/ is already built; `prepare` would rewrite it under running tests.
npm pack --ignore-scripts --silent --pack-destination "$tmp" >"$tmp/pack-name.txt"
tarball="$tmp/$(tail -n 1 "$tmp/pack-name.txt")"
[[ -f "$tarball" ]] || fail "npm pack wrote no tarball"

tar -tzf "$tarball" | sed 's|^package/||' | sort >"$tmp/contents.txt"
for want in package.json binding.gyp CMakeLists.txt native/sources.json native/src/binding.cpp \
  native/src/soap_calculator.cpp dist/index.js dist/index.d.ts dist/soap/native.js; do
  grep -qxF "$want" "$tmp/contents.txt" || fail "tarball lacks $want"
done
for platform in linux-x64 linux-arm64; do
  grep -qE "^prebuilds/$platform/[^/]+\.node\$" "$tmp/contents.txt" || fail "tarball lacks prebuilds/$platform/*.node"
done
if grep -qE '^(build|build-cmake|node_modules|test)/' "$tmp/contents.txt"; then
  fail "tarball holds build output, node_modules or tests: $(grep -E '^(build|build-cmake|node_modules|test)/' "$tmp/contents.txt" | head -3)"
fi
echo "pack-smoke: $(basename "$tarball"): $(wc -l <"$tmp/contents.txt") files, $(du -k "$tarball" | cut -f1) KiB"

app="$tmp/app"
mkdir -p "$app"
cat >"$app/package.json" <<'EOF'
{ "name": "soapix-pack-smoke", "version": "1.0.0", "private": true }
EOF
# No headers and no compiler flags on purpose: if node-gyp-build fell back to compiling, it would
# try to download Node headers (and fail offline). --prefer-offline: dependencies come from the
# npm cache that `npm ci` filled.
(
  cd "$app"
  env -u npm_config_nodedir -u NPM_CONFIG_NODEDIR npm_config_build_from_source=false \
    npm install --prefer-offline --no-audit --no-fund --loglevel=error "$tarball"
) >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "npm install of the tarball failed"; }

pkg="$app/node_modules/soapix"
[[ -d "$pkg" ]] || fail "soapix is not installed"
[[ ! -e "$pkg/build" ]] || fail "a build/ folder appeared in the installed package: something compiled"

cd "$app"
# CommonJS, and which binary node-gyp-build picked.
node -e "
const path = require('node:path');
const { Soap } = require('soapix');
const picked = require('node-gyp-build').path(path.dirname(require.resolve('soapix/package.json')));
if (!/[\\\\/]prebuilds[\\\\/]linux-x64[\\\\/]/.test(picked)) throw new Error('loaded ' + picked + ', not a prebuild');
const soap = new Soap({ species: ['H', 'C'], rCut: 4, nMax: 3, lMax: 2, sigma: 0.5 });
const m = soap.createSync({ positions: [[0, 0, 0], [1, 0, 0], [0, 1.2, 0.3]], species: ['C', 'H', 'H'] });
if (m.rows !== 3 || m.cols !== soap.featureCount || m.data.length !== 3 * soap.featureCount) throw new Error('bad shape');
if (!m.data.every(Number.isFinite) || !m.data.some((v) => v !== 0)) throw new Error('bad values');
console.log('pack-smoke: require: ' + m.rows + ' x ' + m.cols + ' features from ' + path.relative(process.cwd(), picked));
"

# ES module: named and default imports from the CommonJS build.
cat >"$app/esm.mjs" <<'EOF'
import { Soap } from 'soapix';
import soapix from 'soapix';
if (soapix.Soap !== Soap) throw new Error('default and named import differ');
const soap = new Soap({ species: [6], rCut: 3, nMax: 2, lMax: 1 });
const m = await soap.create({ positions: new Float64Array([0, 0, 0, 1.1, 0, 0, 0, 0.9, 0.4]) });
if (m.rows !== 3 || m.cols !== soap.featureCount || !m.data.every(Number.isFinite)) throw new Error('bad result');
console.log(`pack-smoke: import: ${m.rows} x ${m.cols} features (async)`);
EOF
node esm.mjs

# TypeScript: the shipped declarations type-check a consumer (with this repo's compiler).
tsc="$root/node_modules/typescript/bin/tsc"
if [[ -f "$tsc" ]]; then
  cat >"$app/consumer.ts" <<'EOF'
import { Soap, type SoapOptions, type FeatureMatrix } from 'soapix';
const options: SoapOptions = { species: ['H'], rCut: 3, nMax: 2, lMax: 1 };
const m: FeatureMatrix = new Soap(options).createSync({ positions: [[0, 0, 0]] });
const n: number = m.rows * m.cols;
export { n };
EOF
  node "$tsc" --noEmit --strict --module node16 --moduleResolution node16 --target es2022 \
    --types node --typeRoots "$root/node_modules/@types" --skipLibCheck consumer.ts || fail "TypeScript consumer does not type-check"
  echo "pack-smoke: TypeScript declarations type-check"
fi

# The command-line tool, when package.json declares one.
bin_rel="$(node -p "const b = require('soapix/package.json').bin; (typeof b === 'string' ? b : b && b.soapix) || ''")"
if [[ -n "$bin_rel" ]]; then
  if [[ -f "$pkg/$bin_rel" ]]; then
    [[ -x "$app/node_modules/.bin/soapix" ]] || fail "npm did not link the soapix command"
    "$app/node_modules/.bin/soapix" --help >"$tmp/cli-help.txt" 2>&1 || { cat "$tmp/cli-help.txt" >&2; fail "soapix --help failed"; }
    echo "pack-smoke: soapix --help works"
  else
    echo "pack-smoke: warning: package.json bin soapix -> $bin_rel, which is not in the package" >&2
  fi
fi

[[ ! -e "$pkg/build" ]] || fail "a build/ folder appeared in the installed package"
echo "pack-smoke: ok"
