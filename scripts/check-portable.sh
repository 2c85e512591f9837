#!/usr/bin/env bash
# Portability check of the native build: the shipped binary must run on any x86-64 CPU, so no
# -march=native / -mavx* / -mfma may reach the compile lines (SIMD code is compiled per function
# with target attributes and chosen at run time, see native/src/simd.h). Checks the compile
# commands of node-gyp (build/) and cmake-js (build-cmake/) builds that exist, then lists, for
# information, the functions of an unstripped binary that use AVX (VEX/EVEX) instructions: they
# should all be the run-time dispatched kernels.
#   bash scripts/check-portable.sh [unstripped.node]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bad='(^|[[:space:]"])-m(arch|tune|cpu)=|(^|[[:space:]"])-m(avx|fma|bmi|sse4|f16c|popcnt)'
status=0
for f in build/soapix.target.mk build-cmake/build.ninja build-cmake/CMakeFiles/soapix*.dir/flags.make binding.gyp CMakeLists.txt; do
  [[ -f "$f" ]] || continue
  hits="$(grep -vE '^[[:space:]]*#' "$f" | grep -E -- "$bad" || true)"
  if [[ -n "$hits" ]]; then
    echo "check-portable: FAIL: $f sets a CPU-specific flag:" >&2
    head -5 <<<"$hits" >&2
    status=1
  fi
done
((status == 0)) && echo "check-portable: no -march/-mavx/-mfma flags in the build files"

bin="${1:-}"
if [[ -n "$bin" && -f "$bin" ]] && command -v objdump >/dev/null; then
  fns="$(objdump -d --no-show-raw-insn -C "$bin" |
    awk '/^[0-9a-f]+ <.*>:$/ { fn = $0 } /^ +[0-9a-f]+:[ \t]+v[a-z]/ { print fn }' |
    sort -u | sed -E 's/^[0-9a-f]+ <//; s/>:$//; s/\(anonymous namespace\)::/{anon}::/g; s/\(.*//')"
  if [[ -z "$fns" ]]; then
    echo "check-portable: $bin has no AVX instructions"
  else
    echo "check-portable: functions of $bin with AVX instructions (must be run-time dispatched):"
    sed 's/^/  /' <<<"$fns"
  fi
fi
exit "$status"
