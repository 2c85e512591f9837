// Portable SIMD helpers built on GCC/Clang vector extensions. Hot loops are compiled once per
// instruction set (AVX-512, AVX2+FMA, baseline x86-64) and the best one is chosen at run time, so
// one prebuilt binary runs on any x86-64 machine at full speed.
#pragma once

#define SOAPIX_INLINE inline __attribute__((always_inline))
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

inline bool cpuHasAvx512() {
#if defined(__x86_64__) && defined(__GNUC__)
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}
inline bool cpuHasAvx2() {
#if defined(__x86_64__) && defined(__GNUC__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

}  // namespace soapix
