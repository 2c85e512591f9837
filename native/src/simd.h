// Portable SIMD helpers built on GCC/Clang vector extensions. Hot loops are compiled once per
// instruction set (AVX-512, AVX2+FMA, baseline x86-64) and the best one is chosen at run time, so
// one prebuilt binary runs on any x86-64 machine at full speed.
#pragma once

#include <cstdlib>
#include <cstring>

#define SOAPIX_INLINE inline __attribute__((always_inline))
#if defined(__GNUC__) && !defined(__clang__)
// GCC reports the deliberately undefined lanes inside its own AVX-512 intrinsics
// (_mm512_undefined_pd/ps, "__Y = __Y") as "used uninitialized" in files including simd.h.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#define SOAPIX_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma,bmi2")))
#define SOAPIX_TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define SOAPIX_TARGET_AVX512
#define SOAPIX_TARGET_AVX2
#endif

namespace soapix {

constexpr int kLanes = 8;  // arrays are padded to a multiple of this many doubles
typedef double v2d __attribute__((vector_size(16)));

inline int padLanes(int n) { return (n + kLanes - 1) / kLanes * kLanes; }
// Per-neighbour arrays are padded to a multiple of this many entries (16 floats = one zmm register),
// so vector loops can run whole vectors past the end; the padding holds zeros.
constexpr int kVecPad = 16;
inline int padVec(int n) { return (n + kVecPad - 1) / kVecPad * kVecPad; }

// The environment variable SOAPIX_SIMD=avx512|avx2|baseline caps the instruction set the
// dispatchers pick (read once, when the addon loads). Tests use it to run every kernel path the
// machine supports, and to get the same bits on machines with and without AVX-512. A value above
// what the CPU supports, or an unknown one, leaves the CPU's own choice.
inline int simdCap() {
  static const int cap = [] {
    const char* v = std::getenv("SOAPIX_SIMD");
    if (!v) return 2;
    if (std::strcmp(v, "baseline") == 0) return 0;
    if (std::strcmp(v, "avx2") == 0) return 1;
    return 2;
  }();
  return cap;
}

inline bool cpuHasAvx512() {
#if defined(__x86_64__) && defined(__GNUC__)
  return simdCap() >= 2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}
inline bool cpuHasAvx2() {
#if defined(__x86_64__) && defined(__GNUC__)
  return simdCap() >= 1 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

// The widest path the dispatchers use on this machine: "avx512", "avx2" or "baseline".
inline const char* simdPath() { return cpuHasAvx512() ? "avx512" : cpuHasAvx2() ? "avx2" : "baseline"; }

}  // namespace soapix
