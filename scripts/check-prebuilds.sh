#!/usr/bin/env bash
# Checks every prebuilt binary in prebuilds/ from its ELF headers and symbol-version tables
# (readelf, which reads any architecture):
#   - the machine matches the folder (linux-x64: x86-64, linux-arm64: AArch64);
#   - glibc symbol versions are at most GLIBC_2.28 (RHEL / Rocky 8; Ubuntu 20.04 has 2.31,
#     Debian 11 2.31), and there are no GLIBCXX_ / CXXABI_ / GCC_ versions (libstdc++ and libgcc
#     are linked statically);
#   - OpenMP symbol versions are at most GOMP_4.5 / OMP_4.5 (the libgomp.so.1 of GCC 8, RHEL 8's);
#   - the shared libraries needed are only libc, libm, libpthread, libdl, the dynamic loader and
#     libgomp.so.1.
# Prints the newest version needed per binary. Exit status 1 on any violation.
#   bash scripts/check-prebuilds.sh [file.node ...]      (default: prebuilds/*/*.node)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v readelf >/dev/null || { echo "check-prebuilds: readelf (binutils) is missing" >&2; exit 1; }
shopt -s nullglob
files=("$@")
((${#files[@]})) || files=(prebuilds/*/*.node)
((${#files[@]})) || { echo "check-prebuilds: no prebuilt binaries in prebuilds/" >&2; exit 1; }

# version_le A B: A <= B for dotted versions.
version_le() { [[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" == "$1" ]]; }

status=0
for f in "${files[@]}"; do
  bad=()
  machine="$(readelf -h "$f" | sed -n 's/^ *Machine: *//p')"
  case "$(basename "$(dirname "$f")")" in
    linux-x64) [[ "$machine" == *X86-64* ]] || bad+=("machine is '$machine', expected x86-64") ;;
    linux-arm64) [[ "$machine" == *AArch64* ]] || bad+=("machine is '$machine', expected AArch64") ;;
    *) bad+=("unexpected folder $(dirname "$f")") ;;
  esac
  # Version needs (.gnu.version_r): "Name: GLIBC_2.17  Flags: ..." lines.
  mapfile -t versions < <(readelf -V -W "$f" | sed -n 's/.*Name: \([A-Z_]*_[0-9][0-9.]*\).*/\1/p' | sort -u)
  newest_glibc=""
  for v in "${versions[@]}"; do
    family="${v%_*}" number="${v##*_}"
    case "$family" in
      GLIBC)
        version_le "$number" 2.28 || bad+=("needs $v (more than GLIBC_2.28)")
        if [[ -z "$newest_glibc" ]] || version_le "$newest_glibc" "$number"; then newest_glibc="$number"; fi ;;
      GOMP | OMP) version_le "$number" 4.5 || bad+=("needs $v (more than ${family}_4.5)") ;;
      GLIBCXX | CXXABI | GCC) bad+=("needs $v (libstdc++ / libgcc must be linked statically)") ;;
      *) bad+=("needs unexpected version $v") ;;
    esac
  done
  mapfile -t needed < <(readelf -d -W "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  for lib in "${needed[@]}"; do
    case "$lib" in
      libc.so.6 | libm.so.6 | libpthread.so.0 | libdl.so.2 | libgomp.so.1 | ld-linux-*.so.* | ld-linux.so.*) ;;
      *) bad+=("needs shared library $lib") ;;
    esac
  done
  if ((${#bad[@]})); then
    status=1
    echo "check-prebuilds: FAIL: $f:" >&2
    printf '  %s\n' "${bad[@]}" >&2
  else
    echo "check-prebuilds: $f: $machine, newest glibc version GLIBC_${newest_glibc:-none}, needs ${needed[*]}"
  fi
done
((status == 0)) && echo "check-prebuilds: ok (loads with glibc >= 2.28: RHEL / Rocky 8, Ubuntu 20.04, Debian 11 and newer)"
exit "$status"
